/*
 * tflite_export.c - evo_graph -> tfl_model: tensors, buffers, operator
 * codes, the NHWC layout of rank-4 values, and the walk over live nodes
 * in graph order (already topological). What each op becomes is in
 * tflite_export_ops.c and tflite_export_nn.c; anything without a TFLite
 * form is refused with the node's name, op and reason.
 */
#include "tflite/tflite_export.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const int tx_nhwc_axis[4] = {0, 3, 1, 2};

evo_status tx_fail(tx *c, evo_status code, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (!c->node)
        return evo_errorf(c->err, code, "%s: tflite export: %s", c->g->file, why);
    return evo_node_errorf(c->err, c->g, c->node, code, "no TFLite form: %s", why);
}

/* Grows *arr (elem bytes each) to hold n + 1 items. */
static bool grow(void **arr, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return true;
    int nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p)
        return false;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return true;
}

int tx_type(evo_dtype d)
{
    switch (d) {
    case EVO_DTYPE_FLOAT: return TFL_FLOAT32;
    case EVO_DTYPE_INT8:
    case EVO_DTYPE_UINT8: return TFL_INT8;
    case EVO_DTYPE_INT32: return TFL_INT32;
    default: return -1;
    }
}

int tx_tensor(tx *c, const char *name, int type, int rank, const int64_t *dims, tx_q q)
{
    tfl_model *m = c->m;
    if (!grow((void **)&m->tensors, &m->cap_tensors, m->n_tensors, sizeof(tfl_tensor))) {
        tx_fail(c, EVO_ERR_NOMEM, "out of memory");
        return -2;
    }
    tfl_tensor *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof(*t));
    t->rank = rank;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > INT32_MAX) {
            tx_fail(c, EVO_ERR_SHAPE, "tensor \"%s\" has a dimension of %lld", name, (long long)dims[i]);
            return -2;
        }
        t->shape[i] = (int32_t)dims[i];
    }
    t->type = type;
    t->name = evo_mem_strdup(&m->mem, name);
    if (q.on) {
        t->q.n = 1;
        t->q.scale = evo_mem_alloc(&m->mem, sizeof(float));
        t->q.zero_point = evo_mem_alloc(&m->mem, sizeof(int64_t));
        if (!t->q.scale || !t->q.zero_point) {
            tx_fail(c, EVO_ERR_NOMEM, "out of memory");
            return -2;
        }
        t->q.scale[0] = q.scale;
        t->q.zero_point[0] = q.zp;
    }
    if (!t->name) {
        tx_fail(c, EVO_ERR_NOMEM, "out of memory");
        return -2;
    }
    return m->n_tensors++;
}

evo_status tx_set_channel_q(tx *c, int t, const float *scale, int n, int dim)
{
    tfl_quant *q = &c->m->tensors[t].q;
    q->n = n;
    q->dim = dim;
    q->scale = evo_mem_alloc(&c->m->mem, sizeof(float) * (size_t)n);
    q->zero_point = evo_mem_alloc(&c->m->mem, sizeof(int64_t) * (size_t)n);
    if (!q->scale || !q->zero_point)
        return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    memcpy(q->scale, scale, sizeof(float) * (size_t)n);
    return EVO_OK;
}

int tx_const(tx *c, const char *name, int type, int rank, const int64_t *dims, const void *data,
             size_t bytes)
{
    tfl_model *m = c->m;
    int t = tx_tensor(c, name, type, rank, dims, (tx_q){0});
    if (t < 0)
        return -2;
    if (!grow((void **)&m->buffers, &m->cap_buffers, m->n_buffers, sizeof(tfl_buffer))) {
        tx_fail(c, EVO_ERR_NOMEM, "out of memory");
        return -2;
    }
    uint8_t *copy = evo_mem_alloc(&m->mem, bytes ? bytes : 1);
    if (!copy) {
        tx_fail(c, EVO_ERR_NOMEM, "out of memory");
        return -2;
    }
    if (bytes && data)
        memcpy(copy, data, bytes);
    m->buffers[m->n_buffers] = (tfl_buffer){copy, bytes};
    m->tensors[t].buffer = (uint32_t)m->n_buffers++;
    return t;
}

int tx_const_i32(tx *c, const char *name, const int32_t *v, int n)
{
    int64_t dims[1] = {n};
    return tx_const(c, name, TFL_INT32, 1, dims, v, sizeof(int32_t) * (size_t)n);
}

evo_status tx_op(tx *c, int code, const int *in, int n_in, const int *out, int n_out,
                 const tfl_options *opt)
{
    tfl_model *m = c->m;
    for (int i = 0; i < n_in; i++)
        if (in[i] < -1)
            return EVO_ERR_INTERNAL; /* a failed tensor: err already set */
    for (int i = 0; i < n_out; i++)
        if (out[i] < 0)
            return EVO_ERR_INTERNAL;
    int idx = 0;
    while (idx < m->n_opcodes && m->opcodes[idx].builtin != code)
        idx++;
    if (idx == m->n_opcodes) {
        if (!grow((void **)&m->opcodes, &m->cap_opcodes, m->n_opcodes, sizeof(tfl_opcode)))
            return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
        /* versions as TFLite numbers its int8 kernels: 3 for per-channel conv and FC weights, 2 for
         * the other int8 ops; RESHAPE and HARD_SWISH have one version for every type */
        int version = 2;
        if (code == TFL_OP_CONV_2D || code == TFL_OP_DEPTHWISE_CONV_2D || code == TFL_OP_FULLY_CONNECTED)
            version = 3;
        else if (code == TFL_OP_RESHAPE || code == TFL_OP_HARD_SWISH)
            version = 1;
        m->opcodes[m->n_opcodes++] = (tfl_opcode){code, version};
    }
    if (!grow((void **)&m->ops, &m->cap_ops, m->n_ops, sizeof(tfl_operator)))
        return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    tfl_operator *op = &m->ops[m->n_ops];
    op->opcode_index = (uint32_t)idx;
    op->n_in = n_in;
    op->n_out = n_out;
    op->in = evo_mem_alloc(&m->mem, sizeof(int32_t) * (size_t)(n_in + n_out + 1));
    if (!op->in)
        return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    op->out = op->in + n_in;
    for (int i = 0; i < n_in; i++)
        op->in[i] = in[i];
    for (int i = 0; i < n_out; i++)
        op->out[i] = out[i];
    if (opt)
        op->opt = *opt;
    m->n_ops++;
    return EVO_OK;
}

tx_q tx_value_q(tx *c, int v)
{
    int t = c->natural[v] >= 0 ? c->natural[v] : c->plain[v];
    if (t < 0 || c->m->tensors[t].q.n != 1)
        return (tx_q){0};
    const tfl_quant *q = &c->m->tensors[t].q;
    return (tx_q){true, q->scale[0], (int32_t)q->zero_point[0]};
}

int tx_natural_dims(const evo_value *v, int64_t *dims)
{
    if (v->rank == 4) {
        for (int a = 0; a < 4; a++)
            dims[tx_nhwc_axis[a]] = v->dims[a];
        return 4;
    }
    for (int a = 0; a < v->rank; a++)
        dims[a] = v->dims[a];
    return v->rank;
}

/* Does a transpose of dims by perm keep the element order (only extent-1 axes move)? */
static bool order_kept(const int64_t *in_dims, const int *perm, int rank)
{
    int last = -1;
    for (int i = 0; i < rank; i++) {
        if (in_dims[perm[i]] == 1)
            continue;
        if (perm[i] < last)
            return false;
        last = perm[i];
    }
    return true;
}

evo_status tx_transpose(tx *c, int from, int to, const int *perm, int rank)
{
    const tfl_tensor *src = &c->m->tensors[from];
    int64_t in_dims[EVO_MAX_RANK];
    for (int i = 0; i < src->rank; i++)
        in_dims[i] = src->shape[i];
    char name[160];
    snprintf(name, sizeof(name), "%s:%s", c->m->tensors[to].name, perm ? "perm" : "shape");
    if (perm && !order_kept(in_dims, perm, rank)) {
        int32_t p[EVO_MAX_RANK];
        for (int i = 0; i < rank; i++)
            p[i] = perm[i];
        int tp = tx_const_i32(c, name, p, rank);
        return tx_op(c, TFL_OP_TRANSPOSE, (int[]){from, tp}, 2, &to, 1,
                     &(tfl_options){.type = TFL_OPT_TRANSPOSE});
    }
    tfl_tensor dst = c->m->tensors[to]; /* a copy: the shape constant may move the array */
    int ts = tx_const_i32(c, name, dst.shape, dst.rank);
    return tx_op(c, TFL_OP_RESHAPE, (int[]){from, ts}, 2, &to, 1, &(tfl_options){.type = TFL_OPT_RESHAPE});
}

/* A constant value's tensor: rank 4 transposed to NHWC; float, int8 and int32 data. */
static int const_tensor(tx *c, int v)
{
    const evo_value *val = &c->g->values[v];
    int type = tx_type(val->dtype);
    if (type < 0) {
        tx_fail(c, EVO_ERR_UNSUPPORTED, "constant \"%s\" is %s, expected float32, int8 or int32",
                val->name, evo_dtype_name(val->dtype));
        return -2;
    }
    int64_t dims[EVO_MAX_RANK];
    int rank = tx_natural_dims(val, dims);
    if (rank != 4 && val->dtype != EVO_DTYPE_UINT8)
        return tx_const(c, val->name, type, rank, dims, val->data, val->size_bytes);
    int t = tx_const(c, val->name, type, rank, dims, rank == 4 ? NULL : val->data, val->size_bytes);
    if (t < 0)
        return -2;
    size_t es = val->size_bytes / (size_t)(evo_value_count(val) ? evo_value_count(val) : 1);
    uint8_t *dst = (uint8_t *)c->m->buffers[c->m->tensors[t].buffer].data;
    if (rank != 4) {
        for (size_t i = 0; i < val->size_bytes; i++)
            dst[i] ^= 0x80; /* uint8 -> int8, zero point 128 lower */
        return t;
    }
    const uint8_t *src = val->data;
    int64_t n = val->dims[0], ch = val->dims[1], h = val->dims[2], w = val->dims[3];
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < ch; k++)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++)
                    memcpy(dst + (size_t)(((i * h + y) * w + x) * ch + k) * es,
                           src + (size_t)(((i * ch + k) * h + y) * w + x) * es, es);
    for (size_t i = 0; val->dtype == EVO_DTYPE_UINT8 && i < val->size_bytes; i++)
        dst[i] ^= 0x80;
    return t;
}

int tx_in(tx *c, int v)
{
    if (c->natural[v] >= 0)
        return c->natural[v];
    const evo_value *val = &c->g->values[v];
    if (val->data) {
        c->natural[v] = const_tensor(c, v);
        return c->natural[v];
    }
    if (c->plain[v] >= 0) { /* made in NCHW order by its producer */
        int t = tx_tensor(c, val->name, c->m->tensors[c->plain[v]].type, 4,
                          (int64_t[]){val->dims[0], val->dims[2], val->dims[3], val->dims[1]},
                          tx_value_q(c, v));
        if (t < 0 || tx_transpose(c, c->plain[v], t, (int[]){0, 2, 3, 1}, 4) != EVO_OK)
            return -2;
        return c->natural[v] = t;
    }
    tx_fail(c, EVO_ERR_INTERNAL, "input \"%s\" has no producer before it", val->name);
    return -2;
}

int tx_plain(tx *c, int v)
{
    const evo_value *val = &c->g->values[v];
    int t = tx_in(c, v);
    if (t < 0 || val->rank != 4)
        return t;
    if (c->plain[v] >= 0)
        return c->plain[v];
    char name[160];
    snprintf(name, sizeof(name), "%s:nchw", val->name);
    int p = tx_tensor(c, name, c->m->tensors[t].type, 4, val->dims, tx_value_q(c, v));
    if (p < 0 || tx_transpose(c, t, p, (int[]){0, 3, 1, 2}, 4) != EVO_OK)
        return -2;
    return c->plain[v] = p;
}

int tx_out(tx *c, int v, tx_q q)
{
    const evo_value *val = &c->g->values[v];
    int type = tx_type(val->dtype);
    if (type < 0 || type == TFL_INT32) {
        tx_fail(c, EVO_ERR_UNSUPPORTED, "output \"%s\" is %s; the export takes int8, uint8 and float32 tensors",
                val->name, evo_dtype_name(val->dtype));
        return -2;
    }
    int64_t dims[EVO_MAX_RANK];
    int rank = tx_natural_dims(val, dims);
    int t = tx_tensor(c, val->name, type, rank, dims, type == TFL_INT8 ? q : (tx_q){0});
    if (t >= 0)
        c->natural[v] = t;
    return t < 0 ? -2 : t;
}

int tx_out_plain(tx *c, int v, tx_q q)
{
    const evo_value *val = &c->g->values[v];
    if (val->rank != 4)
        return tx_out(c, v, q);
    int type = tx_type(val->dtype);
    char name[160];
    snprintf(name, sizeof(name), "%s:nchw", val->name);
    int t = type == TFL_INT8 || type == TFL_FLOAT32
                ? tx_tensor(c, name, type, 4, val->dims, type == TFL_INT8 ? q : (tx_q){0})
                : -1;
    if (t < 0) {
        tx_fail(c, EVO_ERR_UNSUPPORTED, "output \"%s\" is %s; the export takes int8 and float32 tensors",
                val->name, evo_dtype_name(val->dtype));
        return -2;
    }
    return t;
}

evo_status tx_bind_plain(tx *c, int v, int t)
{
    const evo_value *val = &c->g->values[v];
    if (val->rank != 4)
        return EVO_OK;
    c->plain[v] = t;
    return tx_in(c, v) < 0 ? EVO_ERR_INTERNAL : EVO_OK;
}

evo_status tx_scalar_q(tx *c, int scale_in, int zp_in, tx_q *q)
{
    const evo_node *n = c->node;
    evo_value *s = evo_node_input(c->g, n, scale_in);
    evo_value *z = evo_node_input(c->g, n, zp_in);
    if (!s || !s->data || evo_value_count(s) != 1 || s->dtype != EVO_DTYPE_FLOAT)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "input %d (scale) is not one constant float: "
                       "TFLite activations are quantized per tensor", scale_in);
    if (z && (!z->data || evo_value_count(z) != 1))
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "input %d (zero point) is not one constant", zp_in);
    if (z && !tx_is_q8(z->dtype))
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "input %d (zero point) is %s; the export takes int8 and uint8 "
                       "activations", zp_in, evo_dtype_name(z->dtype));
    q->on = true;
    q->scale = *(const float *)s->data;
    q->zp = !z ? 0 : z->dtype == EVO_DTYPE_INT8 ? *(const int8_t *)z->data : *(const uint8_t *)z->data - 128;
    return EVO_OK;
}

evo_status tx_check_q(tx *c, int v, tx_q q)
{
    tx_q have = tx_value_q(c, v);
    if (!have.on || have.scale != q.scale || have.zp != q.zp)
        return tx_fail(c, EVO_ERR_UNSUPPORTED,
                       "input \"%s\" is read with scale %g, zero point %d, but holds scale %g, zero point %d "
                       "(a TFLite tensor has one quantization)",
                       c->g->values[v].name, (double)q.scale, q.zp, (double)have.scale, have.zp);
    return EVO_OK;
}

static evo_status export_io(tx *c)
{
    evo_graph *g = c->g;
    tfl_model *m = c->m;
    m->inputs = evo_mem_alloc(&m->mem, sizeof(int32_t) * (size_t)(g->n_inputs + g->n_outputs + 1));
    if (!m->inputs)
        return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    m->outputs = m->inputs + g->n_inputs;
    for (int i = 0; i < g->n_inputs; i++) {
        const evo_value *v = &g->values[g->inputs[i]];
        if (v->dtype != EVO_DTYPE_FLOAT)
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "input \"%s\" is %s: the export takes float32 inputs "
                           "(quantized by a QUANTIZE operator)", v->name, evo_dtype_name(v->dtype));
        int t = tx_out(c, g->inputs[i], (tx_q){0});
        if (t < 0)
            return EVO_ERR_UNSUPPORTED;
        m->inputs[m->n_inputs++] = t;
    }
    return EVO_OK;
}

evo_status evo_tflite_export(evo_graph *g, tfl_model **out, evo_error *err)
{
    tfl_model *m = calloc(1, sizeof(*m));
    int *maps = malloc(sizeof(int) * 2 * (size_t)(g->n_values + 1));
    tx c = {g, m, err, maps, maps ? maps + g->n_values : NULL, NULL};
    evo_status s = EVO_ERR_NOMEM;
    if (!m || !maps) {
        evo_errorf(err, s, "%s: out of memory", g->file);
        goto done;
    }
    for (int i = 0; i < 2 * g->n_values; i++)
        maps[i] = -1;
    m->version = TFL_SCHEMA_VERSION;
    m->description = "evo";
    m->subgraph_name = "main";
    /* buffer 0: the empty sentinel every data-less tensor points at */
    if (!grow((void **)&m->buffers, &m->cap_buffers, 0, sizeof(tfl_buffer)))
        goto done;
    m->n_buffers = 1;
    if ((s = export_io(&c)) != EVO_OK)
        goto done;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].is_dead)
            continue;
        c.node = &g->nodes[i];
        if ((s = tx_export_node(&c, c.node)) != EVO_OK)
            goto done;
    }
    c.node = NULL;
    for (int i = 0; i < g->n_outputs; i++) {
        const evo_value *v = &g->values[g->outputs[i]];
        int t = tx_in(&c, g->outputs[i]);
        if (t < 0) {
            s = EVO_ERR_INTERNAL;
            goto done;
        }
        if (v->dtype != EVO_DTYPE_FLOAT && !tx_is_q8(v->dtype)) {
            s = tx_fail(&c, EVO_ERR_UNSUPPORTED, "output \"%s\" is %s", v->name, evo_dtype_name(v->dtype));
            goto done;
        }
        m->outputs[m->n_outputs++] = t;
    }
    *out = m;
    m = NULL;
    s = EVO_OK;
done:
    free(maps);
    tfl_model_free(m);
    return s;
}
