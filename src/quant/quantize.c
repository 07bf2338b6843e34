/*
 * quantize.c - the quantize pass (quantize.h): selection (select.c), one
 * range per group of values that share bytes, then one walk that emits the
 * nodes in a new topological order: QuantizeLinear right before the first
 * int8 reader of a float value, each int8 node rewired to the int8
 * versions of its values, DequantizeLinear right after an int8 value's
 * producer when a float node or the caller reads it. The float value keeps
 * its id and name (graph outputs stay where they were); its int8 version
 * is a new value "<name>:q".
 */
#include "graph/op.h"
#include "passes/passes.h"
#include "passes/rewrite.h"
#include "quant/quant_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

evo_quant_options evo_quant_options_default(void)
{
    evo_quant_options o;
    memset(&o, 0, sizeof(o));
    o.method = EVO_CALIB_PERCENTILE; /* 99.99: on the shared detectors 0.4-2 dB above minmax */
    o.percentile = 99.99;
    o.act_dtype = EVO_DTYPE_UINT8;
    return o;
}

const char *evo_keep_reason_name(evo_keep_reason r)
{
    switch (r) {
    case EVO_KEEP_NONE: return "int8";
    case EVO_KEEP_ASKED: return "--keep-fp";
    case EVO_KEEP_TARGET: return "ranked worst, for the target SQNR";
    case EVO_KEEP_OUTPUT: return "writes a model output";
    case EVO_KEEP_UNSUPPORTED: return "not supported in int8";
    case EVO_KEEP_NO_RANGE: return "no calibration data";
    case EVO_KEEP_FLOAT_INPUTS: return "its inputs stay fp32";
    }
    return "?";
}

void evo_quant_result_free(evo_quant_result *r)
{
    if (r) {
        free(r->kept);
        r->kept = NULL;
        r->n_kept = 0;
    }
}

bool evo_graph_is_quantized(const evo_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_op op = g->nodes[i].op;
        if (!g->nodes[i].is_dead &&
            (op == EVO_OP_QUANTIZE_LINEAR || op == EVO_OP_DEQUANTIZE_LINEAR ||
             op == EVO_OP_DYNAMIC_QUANTIZE_LINEAR || op == EVO_OP_QLINEAR_CONV ||
             op == EVO_OP_QLINEAR_MATMUL || op == EVO_OP_CONV_INTEGER || op == EVO_OP_MATMUL_INTEGER ||
             op == EVO_OP_QLINEAR_ADD || op == EVO_OP_QLINEAR_MUL))
            return true;
    }
    return false;
}

int quant_find(quant_state *q, int v)
{
    while (q->parent[v] != v) {
        q->parent[v] = q->parent[q->parent[v]];
        v = q->parent[v];
    }
    return v;
}

void quant_union(quant_state *q, int a, int b)
{
    a = quant_find(q, a);
    b = quant_find(q, b);
    if (a != b)
        q->parent[a < b ? b : a] = a < b ? a : b;
}

static void state_free(quant_state *q)
{
    free(q->int8);
    free(q->absorbed);
    free(q->act_out);
    free(q->act);
    free(q->act_alpha);
    free(q->act_beta);
    free(q->keep);
    free(q->quantized);
    free(q->produced_int8);
    free(q->parent);
    free(q->qp);
    free(q->qval);
}

static bool state_alloc(quant_state *q)
{
    size_t nn = (size_t)q->n_nodes + 1, nv = (size_t)q->n_values + 1;
    q->int8 = calloc(nn, sizeof(bool));
    q->absorbed = calloc(nn, sizeof(bool));
    q->act_out = calloc(nn, sizeof(int));
    q->act = calloc(nn, sizeof(evo_act));
    q->act_alpha = calloc(nn, sizeof(float));
    q->act_beta = calloc(nn, sizeof(float));
    q->keep = calloc(nn, sizeof(evo_keep_reason));
    q->quantized = calloc(nv, sizeof(bool));
    q->produced_int8 = calloc(nv, sizeof(bool));
    q->parent = malloc(nv * sizeof(int));
    q->qp = calloc(nv, sizeof(evo_qparams));
    q->qval = malloc(nv * sizeof(int));
    if (!q->int8 || !q->absorbed || !q->act_out || !q->act || !q->act_alpha || !q->act_beta || !q->keep ||
        !q->quantized || !q->produced_int8 || !q->parent || !q->qp || !q->qval)
        return false;
    for (int v = 0; v < q->n_values; v++) {
        q->parent[v] = v;
        q->qval[v] = -1;
    }
    return true;
}

/* Every --keep-fp name must name a node. */
static evo_status check_keep_names(const evo_graph *g, const char *list, evo_error *err)
{
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool found = len == 0;
        for (int i = 0; i < g->n_nodes && !found; i++)
            found =
                !g->nodes[i].is_dead && strlen(g->nodes[i].name) == len && !strncmp(g->nodes[i].name, p, len);
        if (!found)
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: --keep-fp \"%.*s\" names no node of the model",
                              g->file, (int)len, p);
        p = end ? end + 1 : p + len;
    }
    return EVO_OK;
}

/* One range per group (the union of its members' calibrated ranges), then its qparams. */
static void group_qparams(quant_state *q, evo_quant_result *res)
{
    double *lo = malloc(sizeof(double) * ((size_t)q->n_values + 1));
    double *hi = malloc(sizeof(double) * ((size_t)q->n_values + 1));
    if (!lo || !hi) { /* degrade to safe scales rather than fail: ranges are recomputed per value */
        free(lo);
        free(hi);
        lo = hi = NULL;
    }
    for (int v = 0; v < q->n_values && lo; v++) {
        lo[v] = INFINITY;
        hi[v] = -INFINITY;
    }
    for (int v = 0; v < q->n_values; v++) {
        if (!q->quantized[v])
            continue;
        double a = 0, b = 0;
        const evo_hist *h = evo_calib_hist(q->cal, v);
        if (h)
            evo_hist_range(h, q->o->method, q->o->percentile, 256, &a, &b);
        int r = quant_find(q, v);
        if (lo) {
            lo[r] = a < lo[r] ? a : lo[r];
            hi[r] = b > hi[r] ? b : hi[r];
        }
    }
    for (int v = 0; v < q->n_values; v++) {
        if (!q->quantized[v] || quant_find(q, v) != v)
            continue;
        bool ok = evo_qparams_from_range(lo ? lo[v] : 0, hi ? hi[v] : 0, q->o->act_dtype, q->o->act_symmetric,
                                         &q->qp[v]);
        res->n_degenerate += !ok;
    }
    free(lo);
    free(hi);
}

typedef struct emitter {
    quant_state *q;
    int *order; /* node ids in their new order */
    int n_order, cap;
    bool *touched; /* per node id: added or rewired, to infer again */
    int cap_touched;
} emitter;

static void push(emitter *em, int id, bool touched)
{
    em->order[em->n_order++] = id;
    em->touched[id] = touched;
}

/* The int8 version of value v: a new value "<name>:q" (dtype and dims come from its producer's inference). */
static int new_qvalue(evo_graph *g, int v)
{
    char name[512];
    snprintf(name, sizeof(name), "%s:q", g->values[v].name ? g->values[v].name : "value");
    return evo_graph_add_value(g, name);
}

/* Appends QuantizeLinear (in -> out) or DequantizeLinear with the group qparams of value v. */
static evo_status emit_border(emitter *em, evo_op op, int v, int in, int out, evo_error *err)
{
    quant_state *q = em->q;
    evo_graph *g = q->g;
    const evo_qparams *p = &q->qp[quant_find(q, v)];
    bool is_q = op == EVO_OP_QUANTIZE_LINEAR;
    char name[512];
    snprintf(name, sizeof(name), "%s:%s", g->values[v].name, is_q ? "quantize" : "dequantize");
    int scale = quant_const_scalar(g, name, "scale", EVO_DTYPE_FLOAT, p->scale);
    int zp = quant_const_scalar(g, name, "zero_point", p->dtype, p->zp);
    int id = evo_graph_add_node(g, is_q ? "QuantizeLinear" : "DequantizeLinear", name, 3, 1);
    if (scale < 0 || zp < 0 || id < 0 || em->n_order == em->cap || id >= em->cap_touched)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory adding %s for \"%s\"", g->file,
                          is_q ? "QuantizeLinear" : "DequantizeLinear", g->values[v].name);
    evo_node *n = &g->nodes[id];
    n->op = op;
    n->in[0] = in;
    n->in[1] = scale;
    n->in[2] = zp;
    n->out[0] = out;
    push(em, id, true);
    return EVO_OK;
}

/* Does a float node (of the graph before the rewrite) or the caller read value v? */
static bool read_as_float(const quant_state *q, int v)
{
    const evo_graph *g = q->g;
    if (g->values[v].is_output)
        return true;
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == v)
            return true;
    for (int i = 0; i < q->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead || q->int8[i] || q->absorbed[i])
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v)
                return true;
    }
    return false;
}

/*
 * Rewrites Add/Mul node id as QLinearAdd/QLinearMul in FIXED
 * requantization reading a_q, b_q and writing y_q, with the group qparams
 * of its operands and of its output after the fused ReLU/Clip.
 */
static evo_status convert_binary(quant_state *q, int id, int a_q, int b_q, int y_q, evo_error *err)
{
    evo_graph *g = q->g;
    const char *name = g->nodes[id].name;
    const evo_qparams pa = q->qp[quant_find(q, g->nodes[id].in[0])];
    const evo_qparams pb = q->qp[quant_find(q, g->nodes[id].in[1])];
    const evo_qparams pc = q->qp[quant_find(q, q->act_out[id])];
    int *in = evo_mem_alloc(&g->mem, sizeof(int) * 8);
    if (!in)
        return evo_node_errorf(err, g, &g->nodes[id], EVO_ERR_NOMEM, "out of memory");
    in[0] = a_q;
    in[1] = quant_const_scalar(g, name, "a_scale", EVO_DTYPE_FLOAT, pa.scale);
    in[2] = quant_const_scalar(g, name, "a_zero_point", pa.dtype, pa.zp);
    in[3] = b_q;
    in[4] = quant_const_scalar(g, name, "b_scale", EVO_DTYPE_FLOAT, pb.scale);
    in[5] = quant_const_scalar(g, name, "b_zero_point", pb.dtype, pb.zp);
    in[6] = quant_const_scalar(g, name, "c_scale", EVO_DTYPE_FLOAT, pc.scale);
    in[7] = quant_const_scalar(g, name, "c_zero_point", pc.dtype, pc.zp);
    evo_node *n = &g->nodes[id];
    for (int k = 0; k < 8; k++)
        if (in[k] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory adding quantization constants");
    bool mul = n->op == EVO_OP_MUL;
    n->op = mul ? EVO_OP_QLINEAR_MUL : EVO_OP_QLINEAR_ADD;
    n->op_type = mul ? "QLinearMul" : "QLinearAdd";
    n->domain = "com.microsoft";
    n->in = in;
    n->n_in = 8;
    n->out[0] = y_q;
    n->n_attrs = 0;
    memset(&n->a, 0, sizeof(n->a));
    n->a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FIXED, q->act[id], q->act_alpha[id], q->act_beta[id]};
    return EVO_OK;
}

/* Int8 node id: Q for float data inputs, the rewired node, DQ for outputs read as float. */
static evo_status emit_int8(emitter *em, int id, evo_quant_result *res, evo_error *err)
{
    quant_state *q = em->q;
    evo_graph *g = q->g;
    bool compute = quant_is_compute(&g->nodes[id]), binary = quant_is_binary(g, &g->nodes[id]);
    bool fused = compute || binary; /* writes act_out[id] */
    int n_data = compute ? 1 : binary ? 2 : quant_layout_data_inputs(&g->nodes[id]);
    evo_status s = EVO_OK;
    for (int k = 0; k < n_data && !s; k++) {
        int v = g->nodes[id].in[k];
        if (q->qval[v] >= 0)
            continue;
        if ((q->qval[v] = new_qvalue(g, v)) < 0)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
        s = emit_border(em, EVO_OP_QUANTIZE_LINEAR, v, v, q->qval[v], err);
        res->n_quantize++;
    }
    int outs[QUANT_MAX_OUTS];
    int n_out = fused ? 1 : g->nodes[id].n_out;
    if (s || n_out > QUANT_MAX_OUTS)
        return s ? s : evo_node_errorf(err, g, &g->nodes[id], EVO_ERR_LIMIT, "too many outputs to quantize");
    for (int o = 0; o < n_out; o++) {
        outs[o] = fused ? q->act_out[id] : g->nodes[id].out[o];
        if ((q->qval[outs[o]] = new_qvalue(g, outs[o])) < 0)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
    }
    if (compute) {
        s = quant_convert_compute(q, id, q->qval[g->nodes[id].in[0]], q->qval[outs[0]], err);
        res->n_compute_int8++;
    } else if (binary) {
        const evo_node *n = &g->nodes[id];
        s = convert_binary(q, id, q->qval[n->in[0]], q->qval[n->in[1]], q->qval[outs[0]], err);
        res->n_binary_int8++;
    } else {
        evo_node *n = &g->nodes[id];
        for (int k = 0; k < n_data; k++)
            n->in[k] = q->qval[n->in[k]];
        for (int o = 0; o < n_out; o++)
            n->out[o] = q->qval[outs[o]];
    }
    res->n_int8++;
    push(em, id, true);
    for (int o = 0; o < n_out && !s; o++) {
        if (!read_as_float(q, outs[o]))
            continue;
        s = emit_border(em, EVO_OP_DEQUANTIZE_LINEAR, outs[o], q->qval[outs[o]], outs[o], err);
        res->n_dequantize++;
    }
    return s;
}

/* Puts the nodes in em->order first (the others follow, dead) and recomputes producers. */
static evo_status reorder(emitter *em, evo_error *err)
{
    evo_graph *g = em->q->g;
    evo_node *nodes = malloc(sizeof(evo_node) * ((size_t)g->n_nodes + 1));
    bool *placed = calloc((size_t)g->n_nodes + 1, sizeof(bool));
    bool *touched = calloc((size_t)g->n_nodes + 1, sizeof(bool));
    if (!nodes || !placed || !touched) {
        free(nodes);
        free(placed);
        free(touched);
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory ordering nodes", g->file);
    }
    int n = 0;
    for (int k = 0; k < em->n_order; k++) {
        touched[n] = em->touched[em->order[k]];
        placed[em->order[k]] = true;
        nodes[n++] = g->nodes[em->order[k]];
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (placed[i])
            continue;
        nodes[n] = g->nodes[i];
        nodes[n++].is_dead = true;
    }
    memcpy(g->nodes, nodes, sizeof(evo_node) * (size_t)g->n_nodes);
    memcpy(em->touched, touched, sizeof(bool) * (size_t)g->n_nodes);
    free(nodes);
    free(placed);
    free(touched);
    for (int v = 0; v < g->n_values; v++)
        g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int o = 0; !g->nodes[i].is_dead && o < g->nodes[i].n_out; o++)
            if (g->nodes[i].out[o] >= 0)
                g->values[g->nodes[i].out[o]].producer = i;
    return EVO_OK;
}

/* Shape inference of every added or rewired node, in order; new border nodes import their defaults first. */
static evo_status infer_touched(emitter *em, evo_error *err)
{
    evo_graph *g = em->q->g;
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *n = &g->nodes[i];
        if (n->is_dead || !em->touched[i])
            continue;
        const evo_op_def *def = evo_op_get(n->op);
        if (!def || !def->infer)
            return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "no shape inference for the quantized form");
        bool border = n->op == EVO_OP_QUANTIZE_LINEAR || n->op == EVO_OP_DEQUANTIZE_LINEAR;
        evo_status s = border && def->import ? def->import(g, n, err) : EVO_OK;
        if (!s)
            s = def->infer(g, &g->nodes[i], err);
        if (s)
            return s;
    }
    return EVO_OK;
}

/* The float fusions the unfused graph skipped, on what stayed float (quantized ops are not theirs). */
static evo_status fuse_float(evo_graph *g, const evo_quant_options *o, evo_error *err)
{
    static const struct {
        const char *name;
        evo_pass_fn fn;
    } fusions[] = {
        {"fuse_residual", evo_pass_fuse_residual}, {"fuse_layout", evo_pass_fuse_layout},
        {"fuse_act", evo_pass_fuse_act},           {"fuse_residual_act", evo_pass_fuse_residual_act},
        {"fuse_update", evo_pass_fuse_update},
    };
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = o->disable_passes;
    evo_pass_ctx ctx = {&co, err};
    for (size_t i = 0; i < sizeof(fusions) / sizeof(fusions[0]); i++) {
        if (evo_name_listed(o->disable_passes, fusions[i].name))
            continue;
        evo_status s = fusions[i].fn(g, &ctx);
        if (s)
            return s;
    }
    /* no dead-code pass here: it would revive the nodes these fusions removed */
    return EVO_OK;
}

static evo_status list_kept(const quant_state *q, evo_quant_result *res, evo_error *err)
{
    const evo_graph *g = q->g;
    res->kept = calloc((size_t)q->n_nodes + 1, sizeof(evo_quant_kept));
    if (!res->kept)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
    for (int i = 0; i < q->n_nodes; i++) {
        bool compute = quant_is_compute(&g->nodes[i]);
        if (g->nodes[i].is_dead || q->keep[i] == EVO_KEEP_NONE ||
            (!compute && !quant_is_binary(g, &g->nodes[i])))
            continue;
        res->kept[res->n_kept++] = (evo_quant_kept){g->nodes[i].name, g->nodes[i].op_type, q->keep[i]};
        res->n_compute_fp += compute;
        res->n_binary_fp += !compute;
    }
    return EVO_OK;
}

static evo_status rewrite(quant_state *q, evo_quant_result *res, evo_error *err)
{
    evo_graph *g = q->g;
    emitter em = {q, NULL, 0, q->n_nodes + 2 * q->n_values + 1, NULL, q->n_nodes + 2 * q->n_values + 1};
    em.order = malloc(sizeof(int) * (size_t)em.cap);
    em.touched = calloc((size_t)em.cap_touched, sizeof(bool));
    evo_status s =
        em.order && em.touched ? EVO_OK : evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
    for (int i = 0; i < q->n_nodes && !s; i++) {
        if (g->nodes[i].is_dead || q->absorbed[i])
            continue;
        if (q->int8[i])
            s = emit_int8(&em, i, res, err);
        else
            push(&em, i, false);
    }
    if (!s)
        s = reorder(&em, err);
    if (!s)
        s = infer_touched(&em, err);
    free(em.order);
    free(em.touched);
    return s;
}

evo_status evo_quantize_graph(evo_graph *g, const evo_calib *cal, const evo_quant_options *o,
                              evo_quant_result *res, evo_error *err)
{
    memset(res, 0, sizeof(*res));
    if (cal->n_values != g->n_values)
        return evo_errorf(err, EVO_ERR_INTERNAL, "%s: calibration statistics of %d values for a graph of %d",
                          g->file, cal->n_values, g->n_values);
    evo_status s = check_keep_names(g, o->keep_fp, err);
    if (s)
        return s;
    quant_state q = {g, cal, o, g->n_nodes, g->n_values, NULL};
    if (!state_alloc(&q)) {
        state_free(&q);
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory quantizing", g->file);
    }
    s = quant_select(&q, err);
    if (!s)
        s = list_kept(&q, res, err);
    if (!s) {
        group_qparams(&q, res);
        s = rewrite(&q, res, err);
    }
    if (!s)
        s = fuse_float(g, o, err);
    state_free(&q);
    return s;
}
