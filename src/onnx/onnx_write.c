/*
 * onnx_write.c - the writer's output model and its serialisation as an
 * ONNX ModelProto (field numbers from onnx.proto). Tensors are written as
 * raw_data, little-endian, straight from the graph's constant data;
 * initializers are not repeated as graph inputs (IR version 4 and up).
 */
#include "onnx/onnx_fields.h"
#include "onnx/onnx_write.h"
#include "onnx/onnx_write_priv.h"
#include "onnx/pb_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OW_MAX_DOMAINS 16

evo_onnx_write_options evo_onnx_write_options_default(void)
{
    return (evo_onnx_write_options){.qdq = false, .graph_name = NULL};
}

/* ---- output model ------------------------------------------------------------ */

evo_status ow_nomem(ow_model *m, const evo_node *n)
{
    if (n)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_NOMEM, "out of memory writing ONNX");
    return evo_errorf(m->err, EVO_ERR_NOMEM, "%s: out of memory writing ONNX", m->g->file);
}

const char *ow_value(ow_model *m, int v)
{
    if (v < 0 || v >= m->g->n_values)
        return "";
    m->used[v] = true;
    return m->g->values[v].name;
}

const char *ow_fresh(ow_model *m, const char *base, const char *tag)
{
    char name[320];
    for (;;) {
        snprintf(name, sizeof(name), "%.200s/%.60s_%lld", base, tag, (long long)m->n_fresh++);
        // The counter makes it unique among generated names; graph names may still collide.
        if (evo_graph_find_value(m->g, name) < 0)
            return evo_mem_strdup(&m->mem, name);
    }
}

const char *ow_split_part(ow_model *m, const evo_node *s, int o)
{
    ptrdiff_t id = s - m->g->nodes;
    if (!m->split_parts && !(m->split_parts = calloc((size_t)m->g->n_nodes + 1, sizeof(char **))))
        return NULL;
    if (!m->split_parts[id] &&
        !(m->split_parts[id] = evo_mem_alloc(&m->mem, sizeof(char *) * (size_t)s->n_out)))
        return NULL;
    if (!m->split_parts[id][o])
        m->split_parts[id][o] = ow_fresh(m, s->name, "part");
    return m->split_parts[id][o];
}

ow_node *ow_add(ow_model *m, const char *op_type, const char *name, int n_in, int n_out)
{
    if (m->n_nodes == m->cap_nodes) {
        int cap = m->cap_nodes ? 2 * m->cap_nodes : 64;
        ow_node *p = realloc(m->nodes, sizeof(ow_node) * (size_t)cap);
        if (!p)
            return NULL;
        m->nodes = p;
        m->cap_nodes = cap;
    }
    const char **io = evo_mem_alloc(&m->mem, sizeof(char *) * (size_t)(n_in + n_out + 1));
    if (!io)
        return NULL;
    for (int i = 0; i < n_in + n_out; i++)
        io[i] = "";
    ow_node *node = &m->nodes[m->n_nodes++];
    *node = (ow_node){.op_type = op_type,
                      .domain = "",
                      .name = name,
                      .n_in = n_in,
                      .n_out = n_out,
                      .in = io,
                      .out = io + n_in};
    return node;
}

bool ow_attrs(ow_model *m, ow_node *node, int n)
{
    node->attrs = evo_mem_alloc(&m->mem, sizeof(evo_attr) * (size_t)(n ? n : 1));
    node->n_attrs = node->attrs ? n : 0;
    return node->attrs != NULL;
}

void ow_attr_int(evo_attr *a, const char *name, int64_t v)
{
    *a = (evo_attr){.name = name, .type = EVO_ATTR_INT, .i = v, .tensor = -1};
}

void ow_attr_float(evo_attr *a, const char *name, float v)
{
    *a = (evo_attr){.name = name, .type = EVO_ATTR_FLOAT, .f = v, .tensor = -1};
}

void ow_attr_string(evo_attr *a, const char *name, const char *s)
{
    *a = (evo_attr){.name = name, .type = EVO_ATTR_STRING, .s = s, .s_len = strlen(s), .tensor = -1};
}

bool ow_attr_ints(ow_model *m, evo_attr *a, const char *name, const int64_t *v, int n)
{
    int64_t *p = evo_mem_alloc(&m->mem, sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!p)
        return false;
    memcpy(p, v, sizeof(int64_t) * (size_t)n);
    *a = (evo_attr){.name = name, .type = EVO_ATTR_INTS, .ints = p, .n = n, .tensor = -1};
    return true;
}

static bool add_init(ow_model *m, const ow_init *t)
{
    if (m->n_inits == m->cap_inits) {
        int cap = m->cap_inits ? 2 * m->cap_inits : 64;
        ow_init *p = realloc(m->inits, sizeof(ow_init) * (size_t)cap);
        if (!p)
            return false;
        m->inits = p;
        m->cap_inits = cap;
    }
    m->inits[m->n_inits++] = *t;
    return true;
}

const char *ow_const(ow_model *m, const char *base, evo_dtype dtype, int rank, const int64_t *dims,
                     const void *data)
{
    ow_init t = {.name = ow_fresh(m, base, "const"), .dtype = dtype, .rank = rank};
    int64_t count = 1;
    for (int d = 0; d < rank; d++) {
        t.dims[d] = dims[d];
        count *= dims[d];
    }
    t.size_bytes = (size_t)count * evo_dtype_size(dtype);
    void *p = evo_mem_alloc(&m->mem, t.size_bytes ? t.size_bytes : 1);
    if (!t.name || !p)
        return NULL;
    memcpy(p, data, t.size_bytes);
    t.data = p;
    return add_init(m, &t) ? t.name : NULL;
}

const char *ow_const_ints(ow_model *m, const char *base, const int64_t *v, int n)
{
    int64_t dims[1] = {n};
    return ow_const(m, base, EVO_DTYPE_INT64, 1, dims, v);
}

/* ---- serialisation ----------------------------------------------------------- */

static void put_tensor(evo_pbw *w, const void *ctx)
{
    const ow_init *t = ctx;
    for (int d = 0; d < t->rank; d++)
        evo_pbw_int(w, TP_DIMS, t->dims[d]);
    evo_pbw_int(w, TP_DATA_TYPE, (int64_t)t->dtype);
    if (t->name && t->name[0])
        evo_pbw_string(w, TP_NAME, t->name);
    evo_pbw_bytes(w, TP_RAW_DATA, t->data, t->size_bytes);
}

static ow_init value_tensor(const evo_value *v, const char *name)
{
    ow_init t = {
        .name = name, .dtype = v->dtype, .rank = v->rank, .data = v->data, .size_bytes = v->size_bytes};
    memcpy(t.dims, v->dims, sizeof(t.dims));
    return t;
}

typedef struct attr_ctx {
    const ow_model *m;
    const evo_attr *a;
} attr_ctx;

static void put_attr(evo_pbw *w, const void *ctx)
{
    const attr_ctx *c = ctx;
    const evo_attr *a = c->a;
    evo_pbw_string(w, ATTR_NAME, a->name);
    evo_pbw_int(w, ATTR_TYPE, (int64_t)a->type);
    switch (a->type) {
    case EVO_ATTR_FLOAT: evo_pbw_float(w, ATTR_F, a->f); break;
    case EVO_ATTR_INT: evo_pbw_int(w, ATTR_I, a->i); break;
    case EVO_ATTR_STRING: evo_pbw_bytes(w, ATTR_S, a->s, a->s_len); break;
    case EVO_ATTR_INTS: evo_pbw_packed_ints(w, ATTR_INTS, a->ints, (size_t)a->n); break;
    case EVO_ATTR_FLOATS: evo_pbw_packed_floats(w, ATTR_FLOATS, a->floats, (size_t)a->n); break;
    case EVO_ATTR_TENSOR: {
        ow_init t = value_tensor(&c->m->g->values[a->tensor], NULL);
        evo_pbw_message(w, ATTR_T, put_tensor, &t);
        break;
    }
    default: break; /* refused before serialisation (check_attrs) */
    }
}

typedef struct node_ctx {
    const ow_model *m;
    const ow_node *n;
} node_ctx;

static void put_node(evo_pbw *w, const void *ctx)
{
    const node_ctx *c = ctx;
    const ow_node *n = c->n;
    for (int i = 0; i < n->n_in; i++)
        evo_pbw_string(w, NODE_INPUT, n->in[i]);
    for (int i = 0; i < n->n_out; i++)
        evo_pbw_string(w, NODE_OUTPUT, n->out[i]);
    if (n->name && n->name[0])
        evo_pbw_string(w, NODE_NAME, n->name);
    evo_pbw_string(w, NODE_OP_TYPE, n->op_type);
    for (int i = 0; i < n->n_attrs; i++) {
        attr_ctx ac = {c->m, &n->attrs[i]};
        evo_pbw_message(w, NODE_ATTRIBUTE, put_attr, &ac);
    }
    if (n->domain[0])
        evo_pbw_string(w, NODE_DOMAIN, n->domain);
}

static void put_dim(evo_pbw *w, const void *ctx)
{
    int64_t d = *(const int64_t *)ctx;
    if (d >= 0)
        evo_pbw_int(w, DIM_VALUE, d);
    else
        evo_pbw_string(w, DIM_PARAM, "unknown");
}

static void put_shape(evo_pbw *w, const void *ctx)
{
    const evo_value *v = ctx;
    for (int d = 0; d < v->rank; d++)
        evo_pbw_message(w, SHAPE_DIM, put_dim, &v->dims[d]);
}

static void put_tensor_type(evo_pbw *w, const void *ctx)
{
    const evo_value *v = ctx;
    if (v->dtype != EVO_DTYPE_UNDEFINED)
        evo_pbw_int(w, TENSOR_TYPE_ELEM, (int64_t)v->dtype);
    if (v->rank >= 0)
        evo_pbw_message(w, TENSOR_TYPE_SHAPE, put_shape, v);
}

static void put_type(evo_pbw *w, const void *ctx)
{
    evo_pbw_message(w, TYPE_TENSOR, put_tensor_type, ctx);
}

static void put_value_info(evo_pbw *w, const void *ctx)
{
    const evo_value *v = ctx;
    evo_pbw_string(w, VI_NAME, v->name);
    evo_pbw_message(w, VI_TYPE, put_type, v);
}

static void put_graph(evo_pbw *w, const void *ctx)
{
    const ow_model *m = ctx;
    for (int i = 0; i < m->n_nodes && !w->failed; i++) {
        node_ctx nc = {m, &m->nodes[i]};
        evo_pbw_message(w, GRAPH_NODE, put_node, &nc);
    }
    const char *name = m->opts->graph_name;
    evo_pbw_string(w, GRAPH_NAME, name && name[0] ? name : "evo");
    for (int i = 0; i < m->n_inits && !w->failed; i++)
        evo_pbw_message(w, GRAPH_INITIALIZER, put_tensor, &m->inits[i]);
    for (int i = 0; i < m->g->n_inputs; i++)
        evo_pbw_message(w, GRAPH_INPUT, put_value_info, &m->g->values[m->g->inputs[i]]);
    for (int i = 0; i < m->g->n_outputs; i++)
        evo_pbw_message(w, GRAPH_OUTPUT, put_value_info, &m->g->values[m->g->outputs[i]]);
}

typedef struct opset_ctx {
    const char *domain;
    int64_t version;
} opset_ctx;

static void put_opset(evo_pbw *w, const void *ctx)
{
    const opset_ctx *o = ctx;
    evo_pbw_string(w, OPSET_DOMAIN, o->domain);
    evo_pbw_int(w, OPSET_VERSION, o->version);
}

/* The lowest IR version that may carry opset (onnx/helper.py's version table). */
static int64_t ir_for_opset(int64_t opset)
{
    static const int64_t first_opset[] = {0, 0, 0, 0, 9, 10, 11, 12, 15, 19, 21, 23};
    int64_t ir = 4; // initializers need not be listed as inputs from IR 4 on
    for (int k = 5; k < (int)(sizeof(first_opset) / sizeof(first_opset[0])); k++)
        if (opset >= first_opset[k])
            ir = k;
    return ir;
}

/* Collects the node domains other than the default one; error past OW_MAX_DOMAINS. */
static evo_status collect_domains(ow_model *m, opset_ctx *dom, int *n_dom)
{
    dom[0] = (opset_ctx){"", m->opset};
    *n_dom = 1;
    for (int i = 0; i < m->n_nodes; i++) {
        const char *d = m->nodes[i].domain;
        bool seen = false;
        for (int k = 0; k < *n_dom && !seen; k++)
            seen = strcmp(dom[k].domain, d) == 0;
        if (seen)
            continue;
        if (*n_dom == OW_MAX_DOMAINS)
            return evo_errorf(m->err, EVO_ERR_LIMIT, "%s: nodes of more than %d operator domains", m->g->file,
                              OW_MAX_DOMAINS);
        dom[(*n_dom)++] = (opset_ctx){d, 1}; /* com.microsoft and others: version 1 */
    }
    return EVO_OK;
}

typedef struct model_ctx {
    const ow_model *m;
    opset_ctx dom[OW_MAX_DOMAINS];
    int n_dom;
} model_ctx;

static void put_model(evo_pbw *w, const void *ctx)
{
    const model_ctx *c = ctx;
    int64_t ir = ir_for_opset(c->m->opset);
    evo_pbw_int(w, MODEL_IR_VERSION, c->m->g->ir_version > ir ? c->m->g->ir_version : ir);
    evo_pbw_string(w, MODEL_PRODUCER_NAME, "evo");
    evo_pbw_message(w, MODEL_GRAPH, put_graph, c->m);
    for (int k = 0; k < c->n_dom; k++)
        evo_pbw_message(w, MODEL_OPSET_IMPORT, put_opset, &c->dom[k]);
}

/* ---- entry points ------------------------------------------------------------ */

/* A graph output that is a constant (folded) gets an Identity from a renamed initializer. */
static evo_status emit_const_outputs(ow_model *m)
{
    for (int k = 0; k < m->g->n_outputs; k++) {
        const evo_value *v = &m->g->values[m->g->outputs[k]];
        if (!v->data || v->is_input)
            continue;
        ow_init t = value_tensor(v, ow_fresh(m, v->name, "value"));
        ow_node *id = ow_add(m, "Identity", ow_fresh(m, v->name, "Identity"), 1, 1);
        if (!t.name || !id || !add_init(m, &t))
            return ow_nomem(m, NULL);
        id->in[0] = t.name;
        id->out[0] = v->name;
    }
    return EVO_OK;
}

/* Every graph constant a written node reads becomes an initializer. */
static evo_status add_graph_inits(ow_model *m)
{
    for (int v = 0; v < m->g->n_values; v++) {
        const evo_value *val = &m->g->values[v];
        if (!m->used[v] || val->is_input || (!val->data && val->dtype != EVO_DTYPE_STRING))
            continue;
        if (val->data && val->is_output)
            continue; /* the Identity of emit_const_outputs writes it */
        if (val->dtype == EVO_DTYPE_STRING || val->rank < 0)
            return evo_errorf(m->err, EVO_ERR_UNSUPPORTED,
                              "%s: constant \"%s\": %s tensors cannot be written", m->g->file, val->name,
                              val->rank < 0 ? "rankless" : "string");
        ow_init t = value_tensor(val, val->name);
        if (!add_init(m, &t))
            return ow_nomem(m, NULL);
    }
    return EVO_OK;
}

static bool host_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static evo_status build(ow_model *m)
{
    if (!host_little_endian())
        return evo_errorf(m->err, EVO_ERR_UNSUPPORTED, "%s: writing ONNX needs a little-endian host",
                          m->g->file);
    m->opset = ow_target_opset(m);
    evo_status s = emit_const_outputs(m); /* first: later nodes may read them */
    for (int i = 0; i < m->g->n_nodes && !s; i++) {
        const evo_node *n = &m->g->nodes[i];
        if (!n->is_dead)
            s = ow_emit_node(m, n);
    }
    return s ? s : add_graph_inits(m);
}

evo_status evo_onnx_write_buffer(const evo_graph *g, const evo_onnx_write_options *o, uint8_t **out,
                                 size_t *size_bytes, evo_error *err)
{
    evo_onnx_write_options defaults = evo_onnx_write_options_default();
    ow_model m = {.g = g, .opts = o ? o : &defaults, .err = err, .opset = g->opset};
    m.used = calloc((size_t)g->n_values + 1, sizeof(bool));
    model_ctx mc = {.m = &m};
    evo_pbw w = {0};
    evo_status s = m.used ? build(&m) : ow_nomem(&m, NULL);
    if (!s)
        s = collect_domains(&m, mc.dom, &mc.n_dom);
    if (!s) {
        evo_pbw count = {.counting = true}; /* sizes the buffer once: no regrowth copies */
        put_model(&count, &mc);
        if (!count.failed && (w.buf = malloc(count.len ? count.len : 1)))
            w.cap = count.len;
        put_model(&w, &mc);
        if (w.failed)
            s = evo_errorf(err, strcmp(w.error, "out of memory") ? EVO_ERR_LIMIT : EVO_ERR_NOMEM,
                           "%s: writing ONNX: %s", g->file, w.error);
    }
    if (!s) {
        *out = w.buf ? w.buf : malloc(1);
        *size_bytes = w.len;
        if (!*out)
            s = ow_nomem(&m, NULL);
    } else {
        evo_pbw_free(&w);
    }
    free(m.used);
    free(m.split_parts);
    free(m.nodes);
    free(m.inits);
    evo_mem_free(&m.mem);
    return s;
}

evo_status evo_onnx_write_file(const evo_graph *g, const char *path, const evo_onnx_write_options *o,
                               evo_error *err)
{
    uint8_t *buf;
    size_t size;
    evo_status s = evo_onnx_write_buffer(g, o, &buf, &size, err);
    if (s)
        return s;
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        s = evo_errorf(err, EVO_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    } else {
        bool ok = fwrite(buf, 1, size, fp) == size;
        ok = (fclose(fp) == 0) && ok;
        if (!ok)
            s = evo_errorf(err, EVO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    free(buf);
    return s;
}
