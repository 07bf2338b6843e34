/*
 * onnx_node.c - NodeProto and AttributeProto -> evo_node: the node's head
 * (name, op_type, domain, counts) read first so that its arrays are sized
 * before they are filled, then inputs, outputs (one producer per value)
 * and attributes (scalars, lists, tensors as named constants; nested
 * graphs by type only).
 */
#include "onnx/onnx_fields.h"
#include "onnx/onnx_priv.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* ---- attributes ------------------------------------------------------------ */

/* Adds a constant value for a TENSOR attribute under a fresh name "<node>:<attr>[#k]". */
static evo_status attr_tensor(onnx_loader *L, int node_id, evo_attr *a, const evo_pb *msg,
                              const char *what)
{
    onnx_tensor t;
    evo_status s = onnx_read_tensor(L, msg, what, &t);
    if (s != EVO_OK)
        return s;
    evo_graph *g = L->g;
    char name[256];
    snprintf(name, sizeof(name), "%.160s:%.80s", g->nodes[node_id].name, a->name);
    size_t base_len = strlen(name);
    // Suffix with the value count, which no earlier generated name used, so
    // repeated node names cost one probe rather than a scan.
    for (int k = g->n_values; evo_graph_find_value(g, name) >= 0; k++)
        snprintf(name + base_len, sizeof(name) - base_len, "#%d", k);
    int id = evo_graph_add_value(g, name);
    if (id < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    a->tensor = id;
    return onnx_set_const(L, id, &t);
}

/* Reads INTS (ints != NULL) or FLOATS into graph memory. */
static evo_status attr_list(onnx_loader *L, const evo_pb *msg, const char *what, evo_attr *a,
                            bool is_ints)
{
    uint32_t number = is_ints ? ATTR_INTS : ATTR_FLOATS;
    evo_pb_scalar kind = is_ints ? EVO_PB_SCALAR_VARINT : EVO_PB_SCALAR_FIXED32;
    size_t n;
    const char *why;
    size_t offset;
    if (!evo_pb_count(msg, number, kind, &n, &why, &offset))
        return onnx_fail_pb(L, what, why, offset);
    if (n > INT_MAX / 8)
        return onnx_fail(L, EVO_ERR_LIMIT, what, "too many values");
    void *p = evo_mem_alloc(&L->g->mem, n * (is_ints ? sizeof(int64_t) : sizeof(float)));
    if (!p)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    evo_pb_iter it = evo_pb_iter_init(msg, number, kind);
    uint64_t v;
    for (size_t i = 0; i < n && evo_pb_iter_next(&it, &v); i++) {
        if (is_ints)
            ((int64_t *)p)[i] = (int64_t)v;
        else
            ((float *)p)[i] = evo_pb_f32(v);
    }
    if (is_ints)
        a->ints = p;
    else
        a->floats = p;
    a->n = (int)n;
    return EVO_OK;
}

/* Maps a field number to the attribute type it carries (0: none). */
static evo_attr_type attr_field_type(uint32_t number)
{
    switch (number) {
    case ATTR_F: return EVO_ATTR_FLOAT;
    case ATTR_I: return EVO_ATTR_INT;
    case ATTR_S: return EVO_ATTR_STRING;
    case ATTR_T: return EVO_ATTR_TENSOR;
    case ATTR_G: return EVO_ATTR_GRAPH;
    case ATTR_FLOATS: return EVO_ATTR_FLOATS;
    case ATTR_INTS: return EVO_ATTR_INTS;
    case ATTR_STRINGS: return EVO_ATTR_STRINGS;
    case ATTR_TENSORS: return EVO_ATTR_TENSORS;
    case ATTR_GRAPHS: return EVO_ATTR_GRAPHS;
    case ATTR_TP: return EVO_ATTR_TYPE_PROTO;
    case ATTR_TYPE_PROTOS: return EVO_ATTR_TYPE_PROTOS;
    case ATTR_SPARSE_TENSOR: return EVO_ATTR_SPARSE_TENSOR;
    case ATTR_SPARSE_TENSORS: return EVO_ATTR_SPARSE_TENSORS;
    default: return EVO_ATTR_UNDEFINED;
    }
}

/* First walk over an attribute: name, type, scalars; wire types checked. */
static evo_status attr_scan(onnx_loader *L, const evo_pb *msg, const char *what, evo_attr *a,
                            evo_attr_type *seen, int *n_repeated, evo_pb_field *t_field)
{
    evo_pb r = *msg;
    evo_pb_field f;
    evo_status s = EVO_OK;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        evo_attr_type ft = attr_field_type(f.number);
        if (ft != EVO_ATTR_UNDEFINED)
            *seen = ft;
        switch (f.number) {
        case ATTR_NAME:
            s = onnx_string(L, what, &f, &a->name);
            break;
        case ATTR_TYPE:
            if ((s = onnx_want_wire(L, what, &f, EVO_PB_VARINT)) == EVO_OK) {
                if (f.u64 == 0 || f.u64 > EVO_ATTR_TYPE_PROTOS)
                    s = onnx_fail(L, EVO_ERR_PARSE, what, "unknown attribute type %llu",
                                  (unsigned long long)f.u64);
                a->type = (evo_attr_type)f.u64;
            }
            break;
        case ATTR_F:
            if ((s = onnx_want_wire(L, what, &f, EVO_PB_I32)) == EVO_OK)
                a->f = evo_pb_f32(f.u64);
            break;
        case ATTR_I:
            if ((s = onnx_want_wire(L, what, &f, EVO_PB_VARINT)) == EVO_OK)
                a->i = (int64_t)f.u64;
            break;
        case ATTR_S:
            if ((s = onnx_want_wire(L, what, &f, EVO_PB_LEN)) == EVO_OK) {
                char *p = evo_mem_strndup(&L->g->mem, (const char *)f.data, f.len);
                if (!p)
                    s = onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
                a->s = p; // bytes: may hold NULs, s_len is authoritative
                a->s_len = f.len;
            }
            break;
        case ATTR_T:
            if ((s = onnx_want_wire(L, what, &f, EVO_PB_LEN)) == EVO_OK)
                *t_field = f;
            break;
        case ATTR_STRINGS:
        case ATTR_TENSORS:
        case ATTR_GRAPHS:
        case ATTR_SPARSE_TENSORS:
        case ATTR_TYPE_PROTOS:
        case ATTR_G:
        case ATTR_SPARSE_TENSOR:
        case ATTR_TP:
            // Contents are not imported (ops needing them report it); only the shape is checked.
            s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
            if (f.number == ATTR_STRINGS || f.number == ATTR_TENSORS || f.number == ATTR_GRAPHS ||
                f.number == ATTR_SPARSE_TENSORS || f.number == ATTR_TYPE_PROTOS)
                (*n_repeated)++;
            break;
        default:
            break;
        }
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, what, r.error, r.error_offset);
    return s;
}

static evo_status load_attr(onnx_loader *L, int node_id, const evo_pb *msg, int index, evo_attr *a)
{
    evo_graph *g = L->g;
    char what[256];
    snprintf(what, sizeof(what), "node \"%.80s\" (%.40s): attribute %d", g->nodes[node_id].name,
             g->nodes[node_id].op_type, index);
    a->tensor = -1;
    evo_attr_type seen = EVO_ATTR_UNDEFINED;
    int n_repeated = 0;
    evo_pb_field t_field;
    memset(&t_field, 0, sizeof(t_field));
    evo_status s = attr_scan(L, msg, what, a, &seen, &n_repeated, &t_field);
    if (s != EVO_OK)
        return s;
    if (!a->name || !a->name[0])
        return onnx_fail(L, EVO_ERR_PARSE, what, "attribute without a name");
    snprintf(what, sizeof(what), "node \"%.80s\" (%.40s): attribute \"%.60s\"",
             g->nodes[node_id].name, g->nodes[node_id].op_type, a->name);
    if (a->type == EVO_ATTR_UNDEFINED)
        a->type = seen; // IR version 1 files carry no type field
    if (a->type == EVO_ATTR_UNDEFINED)
        return onnx_fail(L, EVO_ERR_PARSE, what, "attribute without a type or value");
    switch (a->type) {
    case EVO_ATTR_STRING:
        if (!a->s)
            a->s = "";
        break;
    case EVO_ATTR_TENSOR: {
        if (!t_field.data)
            return onnx_fail(L, EVO_ERR_PARSE, what, "TENSOR attribute without a tensor");
        evo_pb tr = evo_pb_sub(msg, &t_field);
        return attr_tensor(L, node_id, a, &tr, what);
    }
    case EVO_ATTR_INTS:
    case EVO_ATTR_FLOATS:
        return attr_list(L, msg, what, a, a->type == EVO_ATTR_INTS);
    case EVO_ATTR_STRINGS:
    case EVO_ATTR_TENSORS:
    case EVO_ATTR_GRAPHS:
    case EVO_ATTR_SPARSE_TENSORS:
    case EVO_ATTR_TYPE_PROTOS:
        a->n = n_repeated;
        break;
    default:
        break;
    }
    return EVO_OK;
}

/* ---- nodes ----------------------------------------------------------------- */

typedef struct node_head {
    const char *name, *op_type, *domain;
    int n_in, n_out, n_attrs;
} node_head;

/* Reads the node's head; what (cap bytes) names the node once its name is read. */
static evo_status node_scan(onnx_loader *L, const evo_pb *msg, char *what, size_t cap, int index,
                            node_head *h)
{
    evo_pb r = *msg;
    evo_pb_field f;
    evo_status s = EVO_OK;
    int64_t n_in = 0, n_out = 0, n_attrs = 0;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        switch (f.number) {
        case NODE_INPUT:
        case NODE_OUTPUT:
        case NODE_ATTRIBUTE:
            s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
            n_in += f.number == NODE_INPUT;
            n_out += f.number == NODE_OUTPUT;
            n_attrs += f.number == NODE_ATTRIBUTE;
            break;
        case NODE_NAME:
            s = onnx_string(L, what, &f, &h->name);
            if (s == EVO_OK && h->name[0])
                snprintf(what, cap, "node %d (\"%.100s\")", index, h->name);
            break;
        case NODE_OP_TYPE:
            s = onnx_string(L, what, &f, &h->op_type);
            break;
        case NODE_DOMAIN:
            s = onnx_string(L, what, &f, &h->domain);
            break;
        default:
            break;
        }
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, what, r.error, r.error_offset);
    if (s != EVO_OK)
        return s;
    if (!h->op_type || !h->op_type[0])
        return onnx_fail(L, EVO_ERR_PARSE, what, "node without an op_type");
    if (n_in > INT_MAX / 8 || n_out > INT_MAX / 8 || n_attrs > INT_MAX / 8)
        return onnx_fail(L, EVO_ERR_LIMIT, what, "too many inputs, outputs or attributes");
    h->n_in = (int)n_in;
    h->n_out = (int)n_out;
    h->n_attrs = (int)n_attrs;
    return EVO_OK;
}

/* Binds output slot `slot` of node id to name, rejecting a second producer. */
static evo_status bind_output(onnx_loader *L, int id, int slot, const char *name)
{
    evo_graph *g = L->g;
    if (!name[0])
        return EVO_OK; // omitted optional output
    int v = onnx_find_or_add(L, name);
    if (v < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, "graph", "out of memory");
    evo_value *val = &g->values[v];
    if (val->producer >= 0 || onnx_is_constant(val) || val->is_input) {
        const char *other = val->producer >= 0 ? "another node"
                            : val->is_input    ? "a graph input"
                                               : "an initializer";
        return evo_node_errorf(L->err, g, &g->nodes[id], EVO_ERR_PARSE,
                               "output \"%s\" is already produced by %s%s%s%s", name, other,
                               val->producer >= 0 ? " \"" : "",
                               val->producer >= 0 ? g->nodes[val->producer].name : "",
                               val->producer >= 0 ? "\"" : "");
    }
    val->producer = id;
    g->nodes[id].out[slot] = v;
    return EVO_OK;
}

static evo_status node_fill(onnx_loader *L, int id, const evo_pb *msg)
{
    evo_graph *g = L->g;
    evo_pb r = *msg;
    evo_pb_field f;
    int i_in = 0, i_out = 0, i_attr = 0;
    evo_status s = EVO_OK;
    char what[160];
    snprintf(what, sizeof(what), "node \"%.100s\" (%.40s)", g->nodes[id].name, g->nodes[id].op_type);
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        const char *name;
        if (f.number == NODE_INPUT || f.number == NODE_OUTPUT) {
            s = onnx_string(L, what, &f, &name);
            if (s != EVO_OK)
                break;
            if (f.number == NODE_OUTPUT) {
                s = bind_output(L, id, i_out++, name);
            } else if (name[0]) {
                int v = onnx_find_or_add(L, name);
                if (v < 0)
                    s = onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
                g->nodes[id].in[i_in++] = v;
            } else {
                i_in++; // empty name: optional input left out (stays -1)
            }
        } else if (f.number == NODE_ATTRIBUTE) {
            evo_pb ar = evo_pb_sub(&r, &f);
            s = load_attr(L, id, &ar, i_attr, &g->nodes[id].attrs[i_attr]);
            i_attr++;
        }
    }
    return s;
}

evo_status onnx_load_node(onnx_loader *L, const evo_pb *msg, int index, onnx_domain_use *uses)
{
    evo_graph *g = L->g;
    char what[160];
    snprintf(what, sizeof(what), "node %d", index);
    node_head h;
    memset(&h, 0, sizeof(h));
    evo_status s = node_scan(L, msg, what, sizeof(what), index, &h);
    if (s != EVO_OK)
        return s;
    int id = evo_graph_add_node(g, h.op_type, h.name, h.n_in, h.n_out);
    if (id < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    evo_node *n = &g->nodes[id];
    n->domain = h.domain ? h.domain : "";
    n->op = evo_op_from_name(n->domain, n->op_type);
    if (evo_op_is_internal(n->op))
        n->op = EVO_OP_UNKNOWN; /* made only by passes: an ONNX node of that name is unsupported */
    if (!n->domain[0] || strcmp(n->domain, "ai.onnx") == 0)
        uses->default_domain = true;
    else if (strcmp(n->domain, "com.microsoft") == 0)
        uses->ms_domain = true;
    n->n_attrs = h.n_attrs;
    n->attrs = evo_mem_alloc(&g->mem, sizeof(evo_attr) * (size_t)(h.n_attrs ? h.n_attrs : 1));
    if (!n->attrs)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    return node_fill(L, id, msg);
}
