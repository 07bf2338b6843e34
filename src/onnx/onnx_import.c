/*
 * onnx_import.c - ModelProto / GraphProto / NodeProto / AttributeProto ->
 * evo_graph.
 *
 * The graph message is walked several times, one field kind per walk
 * (initializers, inputs, nodes, outputs), so the result does not depend on
 * the order fields appear in the file. Counts are taken by a first walk and
 * arrays sized from them: every counted item consumed input bytes, so sizes
 * stay proportional to the input. Unknown fields are skipped, as protobuf
 * requires; nested graphs in attributes are recorded by type only.
 */
#include "onnx/onnx.h"
#include "onnx/onnx_fields.h"
#include "onnx/onnx_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


/* protobuf's own limit for one serialized message */
#define ONNX_MAX_BYTES ((size_t)INT32_MAX)

evo_status onnx_fail(onnx_loader *L, evo_status code, const char *what, const char *fmt, ...)
{
    if (!L->err)
        return code;
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return evo_errorf(L->err, code, "%s: %s: %s", L->g->file, what, detail);
}

evo_status onnx_fail_pb(onnx_loader *L, const char *what, const char *why, size_t offset)
{
    return onnx_fail(L, EVO_ERR_PARSE, what, "%s at byte %zu", why, offset);
}

evo_status onnx_want_wire(onnx_loader *L, const char *what, const evo_pb_field *f,
                          evo_pb_wire want)
{
    static const char *const names[] = {"varint", "fixed64", "length-delimited", "", "", "fixed32"};
    if (f->wire == want)
        return EVO_OK;
    return onnx_fail(L, EVO_ERR_PARSE, what, "field %u at byte %zu: expected %s, got %s", f->number,
                     f->offset, names[want], names[f->wire]);
}

evo_status onnx_string(onnx_loader *L, const char *what, const evo_pb_field *f, const char **out)
{
    evo_status s = onnx_want_wire(L, what, f, EVO_PB_LEN);
    if (s != EVO_OK)
        return s;
    if (memchr(f->data, 0, f->len))
        return onnx_fail(L, EVO_ERR_PARSE, what, "string field %u at byte %zu contains a NUL byte",
                         f->number, f->offset);
    char *p = evo_mem_strndup(&L->g->mem, (const char *)f->data, f->len);
    if (!p)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    *out = p;
    return EVO_OK;
}

/* Counts the fields numbered `number` in msg (any wire type). */
static evo_status count_fields(onnx_loader *L, const evo_pb *msg, uint32_t number, const char *what,
                               int *n_out)
{
    evo_pb r = *msg;
    evo_pb_field f;
    int64_t n = 0;
    while (evo_pb_next(&r, &f))
        n += f.number == number;
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    if (n > INT_MAX / 2)
        return onnx_fail(L, EVO_ERR_LIMIT, what, "too many entries of field %u", number);
    *n_out = (int)n;
    return EVO_OK;
}

static int find_or_add(onnx_loader *L, const char *name)
{
    int id = evo_graph_find_value(L->g, name);
    return id >= 0 ? id : evo_graph_add_value(L->g, name);
}

/* ---- initializers ---------------------------------------------------------- */

static evo_status set_const(onnx_loader *L, int id, const onnx_tensor *t)
{
    evo_value *v = &L->g->values[id];
    v->dtype = t->dtype;
    v->rank = t->rank;
    memcpy(v->dims, t->dims, sizeof(v->dims));
    v->data = t->data;
    v->size_bytes = t->size_bytes;
    return EVO_OK;
}

static bool is_constant(const evo_value *v)
{
    // A STRING initializer has no data but is still a constant, not an input.
    return v->data || (v->dtype == EVO_DTYPE_STRING && v->rank >= 0 && !v->is_input);
}

static evo_status load_initializer(onnx_loader *L, const evo_pb *msg, int index)
{
    char what[160];
    snprintf(what, sizeof(what), "initializer %d", index);
    // Name it in messages when the name field is readable.
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number == 8 && f.wire == EVO_PB_LEN && f.len && !memchr(f.data, 0, f.len))
            snprintf(what, sizeof(what), "initializer \"%.*s\"", (int)EVO_MIN(f.len, 120),
                     (const char *)f.data);
    }
    onnx_tensor t;
    evo_status s = onnx_read_tensor(L, msg, what, &t);
    if (s != EVO_OK)
        return s;
    if (!t.name[0])
        return onnx_fail(L, EVO_ERR_PARSE, what, "initializer without a name");
    if (evo_graph_find_value(L->g, t.name) >= 0)
        return onnx_fail(L, EVO_ERR_PARSE, what, "duplicate initializer \"%s\"", t.name);
    int id = evo_graph_add_value(L->g, t.name);
    if (id < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    return set_const(L, id, &t);
}

/* ---- graph inputs ---------------------------------------------------------- */

static evo_status read_shape(onnx_loader *L, const evo_pb *msg, const char *what, evo_value *v)
{
    evo_pb r = *msg;
    evo_pb_field f;
    int rank = 0;
    int64_t known = 1;
    while (evo_pb_next(&r, &f)) {
        if (f.number != SHAPE_DIM)
            continue;
        evo_status s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
        if (s != EVO_OK)
            return s;
        if (rank == EVO_MAX_RANK)
            return onnx_fail(L, EVO_ERR_LIMIT, what, "more than %d dims", EVO_MAX_RANK);
        int64_t dim = -1;
        evo_pb dr = evo_pb_sub(&r, &f);
        evo_pb_field d;
        while (evo_pb_next(&dr, &d)) {
            if (d.number == DIM_VALUE) {
                if ((s = onnx_want_wire(L, what, &d, EVO_PB_VARINT)) != EVO_OK)
                    return s;
                dim = (int64_t)d.u64;
                if (dim < 0)
                    return onnx_fail(L, EVO_ERR_PARSE, what, "dim %d is negative (%lld)", rank,
                                     (long long)dim);
            } else if (d.number == DIM_PARAM) {
                dim = -1; // symbolic: fixed later from the compile options
            }
        }
        if (dr.error)
            return onnx_fail_pb(L, what, dr.error, dr.error_offset);
        if (dim >= 0 && (!evo_mul_i64(known, dim, &known) || known > EVO_MAX_ELEMENTS))
            return onnx_fail(L, EVO_ERR_LIMIT, what, "dims exceed %lld elements",
                             (long long)EVO_MAX_ELEMENTS);
        v->dims[rank++] = dim;
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    v->rank = rank;
    return EVO_OK;
}

/* TypeProto: only tensor types are supported; sets dtype and dims of v. */
static evo_status read_type(onnx_loader *L, const evo_pb *msg, const char *what, evo_value *v)
{
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number == 4 || f.number == 5 || f.number == 8 || f.number == 9)
            return onnx_fail(L, EVO_ERR_UNSUPPORTED, what,
                             "only tensor types are supported (sequence/map/optional/sparse found)");
        if (f.number != TYPE_TENSOR)
            continue;
        evo_status s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
        if (s != EVO_OK)
            return s;
        evo_pb tr = evo_pb_sub(&r, &f);
        evo_pb_field t;
        while (evo_pb_next(&tr, &t)) {
            if (t.number == TENSOR_TYPE_ELEM) {
                if ((s = onnx_want_wire(L, what, &t, EVO_PB_VARINT)) != EVO_OK)
                    return s;
                if (!onnx_dtype_known(t.u64))
                    return onnx_fail(L, EVO_ERR_UNSUPPORTED, what,
                                     "unsupported element type code %llu (%s)",
                                     (unsigned long long)t.u64, onnx_dtype_unsupported_name(t.u64));
                v->dtype = (evo_dtype)t.u64;
            } else if (t.number == TENSOR_TYPE_SHAPE) {
                if ((s = onnx_want_wire(L, what, &t, EVO_PB_LEN)) != EVO_OK)
                    return s;
                evo_pb sr = evo_pb_sub(&tr, &t);
                if ((s = read_shape(L, &sr, what, v)) != EVO_OK)
                    return s;
            }
        }
        if (tr.error)
            return onnx_fail_pb(L, what, tr.error, tr.error_offset);
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    return EVO_OK;
}

/* ValueInfoProto name; *name is NULL when absent. */
static evo_status value_info_name(onnx_loader *L, const evo_pb *msg, const char *what,
                                  const char **name)
{
    evo_pb r = *msg;
    evo_pb_field f;
    *name = NULL;
    while (evo_pb_next(&r, &f)) {
        if (f.number == VI_NAME) {
            evo_status s = onnx_string(L, what, &f, name);
            if (s != EVO_OK)
                return s;
        }
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    if (!*name || !(*name)[0])
        return onnx_fail(L, EVO_ERR_PARSE, what, "value without a name");
    return EVO_OK;
}

static evo_status load_input(onnx_loader *L, const evo_pb *msg, int index)
{
    char what[160];
    snprintf(what, sizeof(what), "input %d", index);
    const char *name;
    evo_status s = value_info_name(L, msg, what, &name);
    if (s != EVO_OK)
        return s;
    snprintf(what, sizeof(what), "input \"%.120s\"", name);
    int id = evo_graph_find_value(L->g, name);
    if (id >= 0 && is_constant(&L->g->values[id]))
        return EVO_OK; // an initializer listed as input (IR < 4 exporters): a constant
    if (id >= 0)
        return onnx_fail(L, EVO_ERR_PARSE, what, "listed twice");
    if ((id = evo_graph_add_value(L->g, name)) < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number != VI_TYPE)
            continue;
        if ((s = onnx_want_wire(L, what, &f, EVO_PB_LEN)) != EVO_OK)
            return s;
        evo_pb tr = evo_pb_sub(&r, &f);
        if ((s = read_type(L, &tr, what, &L->g->values[id])) != EVO_OK)
            return s;
    }
    L->g->values[id].is_input = true;
    L->g->inputs[L->g->n_inputs++] = id;
    return EVO_OK;
}

static evo_status load_output(onnx_loader *L, const evo_pb *msg, int index)
{
    char what[64];
    snprintf(what, sizeof(what), "output %d", index);
    const char *name;
    evo_status s = value_info_name(L, msg, what, &name);
    if (s != EVO_OK)
        return s;
    int id = find_or_add(L, name);
    if (id < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    if (L->g->values[id].is_output)
        return EVO_OK; // listed twice: one output
    L->g->values[id].is_output = true;
    L->g->outputs[L->g->n_outputs++] = id;
    return EVO_OK;
}

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
    return set_const(L, id, &t);
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
    int v = find_or_add(L, name);
    if (v < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, "graph", "out of memory");
    evo_value *val = &g->values[v];
    if (val->producer >= 0 || is_constant(val) || val->is_input) {
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
                int v = find_or_add(L, name);
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

/* The domains whose opset_import the nodes need. */
typedef struct domain_use {
    bool default_domain, ms_domain;
} domain_use;

static evo_status load_node(onnx_loader *L, const evo_pb *msg, int index, domain_use *uses)
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

/* ---- graph and model ------------------------------------------------------- */

typedef evo_status (*item_fn)(onnx_loader *L, const evo_pb *msg, int index);

/* Calls fn for every field `number` (a message) of the graph, in file order. */
static evo_status for_each(onnx_loader *L, const evo_pb *graph, uint32_t number, item_fn fn)
{
    evo_pb r = *graph;
    evo_pb_field f;
    int index = 0;
    while (evo_pb_next(&r, &f)) {
        if (f.number != number)
            continue;
        evo_status s = onnx_want_wire(L, "graph", &f, EVO_PB_LEN);
        if (s != EVO_OK)
            return s;
        evo_pb sub = evo_pb_sub(&r, &f);
        if ((s = fn(L, &sub, index++)) != EVO_OK)
            return s;
    }
    if (r.error)
        return onnx_fail_pb(L, "graph", r.error, r.error_offset);
    return EVO_OK;
}

static evo_status load_graph(onnx_loader *L, const evo_pb *graph, domain_use has_opset)
{
    evo_graph *g = L->g;
    int n_in, n_out, n_sparse;
    evo_status s = count_fields(L, graph, GRAPH_INPUT, "graph", &n_in);
    if (s == EVO_OK)
        s = count_fields(L, graph, GRAPH_OUTPUT, "graph", &n_out);
    if (s == EVO_OK)
        s = count_fields(L, graph, GRAPH_SPARSE_INITIALIZER, "graph", &n_sparse);
    if (s != EVO_OK)
        return s;
    if (n_sparse)
        return onnx_fail(L, EVO_ERR_UNSUPPORTED, "graph", "sparse initializers are not supported");
    g->inputs = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n_in ? n_in : 1));
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!g->inputs || !g->outputs)
        return onnx_fail(L, EVO_ERR_NOMEM, "graph", "out of memory");
    if ((s = for_each(L, graph, GRAPH_INITIALIZER, load_initializer)) != EVO_OK ||
        (s = for_each(L, graph, GRAPH_INPUT, load_input)) != EVO_OK)
        return s;
    evo_pb r = *graph;
    evo_pb_field f;
    int index = 0;
    domain_use uses = {false, false};
    while (evo_pb_next(&r, &f)) {
        if (f.number != GRAPH_NODE)
            continue;
        evo_pb sub = evo_pb_sub(&r, &f);
        if ((s = onnx_want_wire(L, "graph", &f, EVO_PB_LEN)) != EVO_OK ||
            (s = load_node(L, &sub, index++, &uses)) != EVO_OK)
            return s;
    }
    if (uses.default_domain && !has_opset.default_domain)
        return onnx_fail(L, EVO_ERR_PARSE, "model",
                         "no opset_import for the default domain, which its nodes use");
    if (uses.ms_domain && !has_opset.ms_domain)
        return onnx_fail(L, EVO_ERR_PARSE, "model",
                         "no opset_import for the domain \"com.microsoft\", which its nodes use");
    return for_each(L, graph, GRAPH_OUTPUT, load_output);
}

/* OperatorSetIdProto: records the versions of the default and com.microsoft domains. */
static evo_status load_opset(onnx_loader *L, const evo_pb *msg, domain_use *has)
{
    const char *domain = "";
    uint64_t version = 0;
    evo_pb r = *msg;
    evo_pb_field f;
    evo_status s = EVO_OK;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        if (f.number == 1)
            s = onnx_string(L, "opset_import", &f, &domain);
        else if (f.number == 2 && (s = onnx_want_wire(L, "opset_import", &f, EVO_PB_VARINT)) == EVO_OK)
            version = f.u64;
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, "opset_import", r.error, r.error_offset);
    if (s != EVO_OK)
        return s;
    bool is_default = !domain[0] || strcmp(domain, "ai.onnx") == 0;
    bool is_ms = strcmp(domain, "com.microsoft") == 0;
    if ((is_default || is_ms) && (version < 1 || version > 1000))
        return onnx_fail(L, EVO_ERR_PARSE, "opset_import", "domain \"%.60s\": invalid opset version %llu",
                         domain, (unsigned long long)version);
    if (is_default) {
        L->g->opset = (int64_t)version;
        has->default_domain = true;
    } else if (is_ms) {
        L->g->opset_ms = (int64_t)version;
        has->ms_domain = true;
    }
    return EVO_OK;
}

static evo_status load_model(onnx_loader *L, const void *data, size_t size_bytes)
{
    evo_graph *g = L->g;
    if (size_bytes == 0)
        return onnx_fail(L, EVO_ERR_PARSE, "model", "empty file");
    if (size_bytes > ONNX_MAX_BYTES)
        return onnx_fail(L, EVO_ERR_LIMIT, "model",
                         "%zu bytes is past protobuf's 2 GiB limit (use external data)", size_bytes);
    evo_pb r = evo_pb_init(data, size_bytes);
    evo_pb_field f, graph_field;
    bool has_graph = false, has_opset = false;
    domain_use has = {false, false};
    evo_status s = EVO_OK;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        if (f.number == MODEL_IR_VERSION) {
            if ((s = onnx_want_wire(L, "model", &f, EVO_PB_VARINT)) == EVO_OK)
                g->ir_version = (int64_t)f.u64;
        } else if (f.number == MODEL_PRODUCER_NAME) {
            s = onnx_string(L, "model", &f, &g->producer_name);
        } else if (f.number == MODEL_GRAPH) {
            s = onnx_want_wire(L, "model", &f, EVO_PB_LEN);
            graph_field = f;
            has_graph = true;
        } else if (f.number == MODEL_OPSET_IMPORT) {
            evo_pb sub = evo_pb_sub(&r, &f);
            if ((s = onnx_want_wire(L, "model", &f, EVO_PB_LEN)) == EVO_OK)
                s = load_opset(L, &sub, &has);
            has_opset = true;
        }
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, "model", r.error, r.error_offset);
    if (s != EVO_OK)
        return s;
    if (!g->producer_name)
        g->producer_name = "";
    if (!has_graph)
        return onnx_fail(L, EVO_ERR_PARSE, "model", "no graph (is this an ONNX model?)");
    if (!has_opset) {
        g->opset = 1; // IR version < 3: opset_import did not exist yet
        has.default_domain = true;
    }
    evo_pb gr = evo_pb_sub(&r, &graph_field);
    return load_graph(L, &gr, has);
}

static evo_status load_into(evo_graph *g, const char *dir, const void *data, size_t size_bytes,
                            evo_error *err)
{
    onnx_loader L;
    memset(&L, 0, sizeof(L));
    L.g = g;
    L.err = err;
    L.dir = dir;
    return load_model(&L, data, size_bytes);
}

evo_status evo_onnx_load_buffer(const void *data, size_t size_bytes, const char *name,
                                evo_graph **out, evo_error *err)
{
    evo_graph *g = evo_graph_new(name ? name : "<memory>");
    if (!g)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", name ? name : "<memory>");
    if (!data && size_bytes)
        size_bytes = 0;
    evo_status s = load_into(g, NULL, data, size_bytes, err);
    if (s != EVO_OK) {
        evo_graph_free(g);
        return s;
    }
    *out = g;
    return EVO_OK;
}

/* The directory part of path ("." when there is none), in g->mem. */
static const char *dir_of(evo_graph *g, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    if (slash == path)
        return "/";
    return evo_mem_strndup(&g->mem, path, (size_t)(slash - path));
}

evo_status evo_onnx_load_file(const char *path, evo_graph **out, evo_error *err)
{
    evo_status s = EVO_OK;
    evo_graph *g = evo_graph_new(path);
    if (!g)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s = evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = evo_errorf(err, EVO_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    size_t size_bytes = (size_t)st.st_size;
    void *data = NULL;
    if (size_bytes > 0 && size_bytes <= ONNX_MAX_BYTES) {
        data = mmap(NULL, size_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED) {
            s = evo_errorf(err, EVO_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
            goto done;
        }
        if ((s = evo_graph_add_mapping(g, data, size_bytes, err)) != EVO_OK) {
            munmap(data, size_bytes);
            goto done;
        }
    }
    const char *dir = dir_of(g, path);
    if (!dir) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    s = load_into(g, dir, data, size_bytes, err);
done:
    if (fd >= 0)
        close(fd);
    if (s != EVO_OK) {
        evo_graph_free(g);
        return s;
    }
    *out = g;
    return EVO_OK;
}
