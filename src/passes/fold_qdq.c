/*
 * fold_qdq.c - folds QDQ patterns (docs/int8.md) into the quantized ops:
 *
 *   DQ(x) + DQ(const W) [+ DQ(const int32 B) | const float B] -> Conv
 *     [-> Relu | Clip] -> Q                  becomes QLinearConv (FLOAT mode,
 *                                            the activation as a clamp);
 *   DQ(a) + DQ(b) -> MatMul [-> Relu | Clip] -> Q   becomes QLinearMatMul;
 *   DQ -> MaxPool | Reshape | Transpose | Flatten | Squeeze | Unsqueeze |
 *     Slice | nearest Resize | Concat | Split | Pad -> Q, with the same
 *     per-tensor scale and zero point on every side, runs on the bytes (the
 *     pairs go; a constant Pad value becomes its byte, 0 the zero point).
 *
 * Runs after shape inference and constant folding, which have turned each
 * DQ of a constant into a float constant: the DQ node is dead but still the
 * value's producer, so its quantized input is found through it. Every
 * matcher returns NULL when its pattern holds, else the reason it does not;
 * evo_fold_qdq_island asks the same matchers after the pass, so `evo info`
 * says why each float op between DQ and Q stayed float.
 */
#include "graph/op.h"
#include "passes/passes.h"
#include "passes/qdq.h"
#include "passes/rewrite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_byte(evo_dtype t)
{
    return t == EVO_DTYPE_UINT8 || t == EVO_DTYPE_INT8;
}

/*
 * The DequantizeLinear producing value v (live, or dead when v was folded
 * to a constant); not_dq is the reason returned when there is none.
 */
static const char *dq_of(const evo_graph *g, int v, const char *not_dq, evo_qparam *q)
{
    int p = evo_qdq_dq_node(g, v);
    return p < 0 ? not_dq : evo_qparam_of(g, p, q);
}

/* Same dtype, per-tensor scale and zero point on both sides. */
static bool same_qparam(const evo_graph *g, const evo_qparam *a, const evo_qparam *b)
{
    return a->dtype == b->dtype && a->count == 1 && b->count == 1 &&
           evo_qparam_scale(g, a, 0) == evo_qparam_scale(g, b, 0) &&
           evo_qparam_zp(g, a, 0) == evo_qparam_zp(g, b, 0);
}

/* A fused activation found between a compute op and its QuantizeLinear. */
typedef struct out_chain {
    int act_node; /* Relu or Clip, or -1 */
    evo_act act;
    float alpha, beta;
    evo_qparam y;
} out_chain;

/* Follows v (a compute op's output) through an optional Relu/Clip to a per-tensor QuantizeLinear. */
static const char *match_out(const evo_graph *g, int v, out_chain *oc)
{
    oc->act_node = -1;
    oc->act = EVO_ACT_NONE;
    oc->alpha = oc->beta = 0.0f;
    int r = evo_qdq_single_reader(g, v);
    if (r < 0)
        return "its output is read by more than one node (or is a graph output)";
    const evo_node *rn = &g->nodes[r];
    if (rn->op == EVO_OP_RELU || rn->op == EVO_OP_CLIP) {
        for (int i = 1; i < rn->n_in; i++)
            if (rn->in[i] >= 0 && !evo_qdq_is_const(g, rn->in[i]))
                return "its Clip has bounds that are not constant";
        oc->act_node = r;
        oc->act = rn->op == EVO_OP_RELU ? EVO_ACT_RELU : EVO_ACT_CLIP;
        oc->alpha = rn->a.unary.min;
        oc->beta = rn->a.unary.max;
        r = evo_qdq_single_reader(g, rn->out[0]);
        if (r < 0)
            return "its activation's output is read by more than one node (or is a graph output)";
        rn = &g->nodes[r];
    }
    if (rn->op != EVO_OP_QUANTIZE_LINEAR)
        return "its output is not quantized by a QuantizeLinear";
    const char *why = evo_qparam_of(g, r, &oc->y);
    if (why)
        return why;
    if (oc->y.count != 1 || !is_byte(oc->y.dtype))
        return "its QuantizeLinear is not per-tensor uint8/int8";
    return NULL;
}

/* What a Conv or MatMul fold needs. */
typedef struct compute_match {
    evo_qparam x, w;
    int bias;              /* Conv: the bias value (float constant) or -1 */
    const int32_t *bias_q; /* a DQ'd int32 bias usable as it is, or NULL */
    out_chain out;
} compute_match;

static const char *match_bias(const evo_graph *g, const evo_node *c, compute_match *m)
{
    m->bias = c->n_in > 2 ? c->in[2] : -1;
    m->bias_q = NULL;
    if (m->bias < 0)
        return NULL;
    if (!evo_qdq_is_const(g, m->bias))
        return "bias is not constant";
    m->bias_q = evo_qdq_int32_bias(g, m->bias, &m->x, &m->w, g->values[c->out[0]].dims[1]);
    return NULL;
}

static const char *match_conv(const evo_graph *g, int id, compute_match *m)
{
    const evo_node *c = &g->nodes[id];
    const evo_conv_attrs *a = &c->a.conv;
    if (a->has_residual || a->act != EVO_ACT_NONE || a->out_groups)
        return "Conv: already fused with another op";
    const char *why;
    if ((why = dq_of(g, c->in[0], "input X is not dequantized", &m->x)) ||
        (why = dq_of(g, c->in[1], "weights are not dequantized", &m->w)))
        return why;
    if (m->x.count != 1 || !is_byte(m->x.dtype))
        return "input X is not quantized per tensor to uint8/int8";
    if (!evo_qdq_is_const(g, m->w.data) || !is_byte(m->w.dtype))
        return "weights are not a uint8/int8 constant";
    int64_t out_ch = g->values[c->out[0]].dims[1];
    if (m->w.count != 1 && (m->w.count != out_ch || g->nodes[m->w.node].a.quant.axis != 0))
        return "weights are not quantized per tensor or per output channel";
    if ((why = match_bias(g, c, m)))
        return why;
    return match_out(g, c->out[0], &m->out);
}

static const char *match_matmul(const evo_graph *g, int id, compute_match *m)
{
    const evo_node *c = &g->nodes[id];
    if (c->a.gemm.act != EVO_ACT_NONE)
        return "MatMul: already fused with another op";
    const char *why;
    if ((why = dq_of(g, c->in[0], "input A is not dequantized", &m->x)) ||
        (why = dq_of(g, c->in[1], "input B is not dequantized", &m->w)))
        return why;
    const evo_value *b = &g->values[m->w.data];
    if (m->x.count != 1 || !is_byte(m->x.dtype) || !is_byte(m->w.dtype))
        return "input A is not quantized per tensor, or B not to uint8/int8";
    if (m->w.count != 1 && (b->rank < 2 || m->w.count != b->dims[b->rank - 1] ||
                            g->nodes[m->w.node].a.quant.axis != b->rank - 1))
        return "B is not quantized per tensor or per column";
    m->bias = -1;
    m->bias_q = NULL;
    return match_out(g, c->out[0], &m->out);
}

/* Outputs of a byte-layout op the pass follows (Split's parts). */
#define FOLD_MAX_OUTPUTS 16

static bool runs_on_bytes(const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_MAX_POOL:
    case EVO_OP_RESHAPE:
    case EVO_OP_TRANSPOSE:
    case EVO_OP_FLATTEN:
    case EVO_OP_SQUEEZE:
    case EVO_OP_UNSQUEEZE:
    case EVO_OP_SLICE:
    case EVO_OP_SPLIT:
    case EVO_OP_PAD:
    case EVO_OP_CONCAT: return true;
    case EVO_OP_RESIZE:
    case EVO_OP_UPSAMPLE: return n->a.resize.mode == EVO_RESIZE_NEAREST;
    default: return false;
    }
}

/* Data inputs of a byte-layout op: every input of Concat, input 0 of the others. */
static int n_data_inputs(const evo_node *n)
{
    return n->op == EVO_OP_CONCAT ? n->n_in : 1;
}

/*
 * Pad in constant mode on bytes: the value as a byte of q's type, which
 * must stand for exactly the float value (0 is the zero point).
 */
static const char *pad_byte(const evo_graph *g, const evo_node *n, const evo_qparam *q, int32_t *byte)
{
    double v = n->a.pad.value, s = evo_qparam_scale(g, q, 0);
    double b = nearbyint(v / s) + evo_qparam_zp(g, q, 0);
    int32_t lo = q->dtype == EVO_DTYPE_INT8 ? -128 : 0, hi = q->dtype == EVO_DTYPE_INT8 ? 127 : 255;
    if (!(b >= lo && b <= hi) || (float)((b - evo_qparam_zp(g, q, 0)) * s) != (float)v)
        return "its pad value is not exactly representable in the quantized type";
    if (g->opset > 0 && g->opset < 11 && b != 0)
        return "its pad value is an attribute (opset < 11) that would change";
    *byte = (int32_t)b;
    return NULL;
}

/*
 * Layout node id between DequantizeLinear inputs and QuantizeLinear
 * outputs (one per output: Split has several) that all share one per-tensor
 * scale and zero point. out_q[n_out] gets the QuantizeLinear of each output.
 */
static const char *match_layout(const evo_graph *g, int id, evo_qparam *in_q, evo_qparam *out_q)
{
    const evo_node *n = &g->nodes[id];
    if (!runs_on_bytes(n))
        return n->op == EVO_OP_RESIZE ? "only nearest Resize runs on uint8/int8" : "no int8 kernel for this op";
    if (n->n_out > FOLD_MAX_OUTPUTS)
        return "too many outputs";
    for (int i = 0; i < n_data_inputs(n); i++) {
        evo_qparam q;
        const char *why = dq_of(g, n->in[i], "an input is not dequantized", &q);
        if (why)
            return why;
        if (g->nodes[q.node].is_dead)
            return "input is a dequantized constant";
        if (evo_qdq_single_reader(g, n->in[i]) != id)
            return "its DequantizeLinear output is read by other nodes too";
        if (i > 0 && !same_qparam(g, &q, in_q))
            return "its inputs are quantized with different scales or zero points";
        if (i == 0)
            *in_q = q;
    }
    int32_t byte;
    if (n->op == EVO_OP_PAD && n->a.pad.mode == EVO_PAD_CONSTANT) {
        const char *why = pad_byte(g, n, in_q, &byte);
        if (why)
            return why;
    }
    for (int o = 0; o < n->n_out; o++) {
        int r = n->out[o] >= 0 ? evo_qdq_single_reader(g, n->out[o]) : -1;
        if (r < 0 || g->nodes[r].op != EVO_OP_QUANTIZE_LINEAR)
            return "its output is not read by one QuantizeLinear only";
        const char *why = evo_qparam_of(g, r, &out_q[o]);
        if (why)
            return why;
        if (!same_qparam(g, in_q, &out_q[o]))
            return "the scale or zero point differs between its DequantizeLinear and QuantizeLinear";
    }
    return NULL;
}

/* The reason node id does not fold, or NULL when it would. */
static const char *match_any(const evo_graph *g, int id)
{
    compute_match m;
    evo_qparam a, b[FOLD_MAX_OUTPUTS];
    switch (g->nodes[id].op) {
    case EVO_OP_CONV: return match_conv(g, id, &m);
    case EVO_OP_MATMUL: return match_matmul(g, id, &m);
    default: return match_layout(g, id, &a, b);
    }
}

/*
 * The int32 bias [M] of a folded Conv at scale x_scale * w_scale[c]: the
 * DequantizeLinear's int32 values when their scale is exactly that, else
 * the float bias rounded to it. -1 when a value does not fit int32 (or on
 * failure); -2 when there is no bias.
 */
static int bias_value(evo_graph *g, const compute_match *m, int64_t n_out, const char *base)
{
    if (m->bias < 0)
        return -2;
    int32_t *q = malloc(sizeof(int32_t) * (size_t)n_out);
    if (!q)
        return -1;
    const float *f = g->values[m->bias].data;
    bool fits = true;
    for (int64_t c = 0; c < n_out; c++) {
        if (m->bias_q) {
            q[c] = m->bias_q[c];
            continue;
        }
        float s = evo_qparam_scale(g, &m->x, 0) * evo_qparam_scale(g, &m->w, c);
        double v = nearbyint((double)f[c] / (double)s);
        fits = fits && fabs(v) < 2147483647.0;
        q[c] = fits ? (int32_t)v : 0;
    }
    int id = fits ? evo_new_const(g, base, EVO_DTYPE_INT32, 1, &n_out, q) : -1;
    free(q);
    return id;
}

/* Rewrites Conv/MatMul node id as QLinearConv/QLinearMatMul; leaves the graph as it was when that cannot be. */
static evo_status fold_compute(evo_graph *g, int id, const compute_match *m, evo_error *err)
{
    bool conv = g->nodes[id].op == EVO_OP_CONV;
    const char *base = g->nodes[id].name;
    int64_t n_out = conv ? g->values[g->nodes[id].out[0]].dims[1] : 0;
    int bias = conv ? bias_value(g, m, n_out, base) : -2;
    int y_zp = evo_qparam_zp_value(g, &m->out.y, base);
    int *in = evo_mem_alloc(&g->mem, sizeof(int) * 9);
    if (bias == -1 || y_zp < 0 || !in)
        return EVO_OK; /* stays float: evo_fold_qdq_island cannot tell this rare case, the bias range */
    int ins[9] = {m->x.data, m->x.scale, m->x.zp, m->w.data, m->w.scale, m->w.zp, m->out.y.scale, y_zp, bias};
    memcpy(in, ins, sizeof(ins));
    evo_node *n = &g->nodes[id];
    n->op = conv ? EVO_OP_QLINEAR_CONV : EVO_OP_QLINEAR_MATMUL;
    n->op_type = evo_op_name(n->op);
    n->in = in;
    n->n_in = bias >= 0 ? 9 : 8;
    if (conv) {
        n->a.conv.requant = EVO_REQUANT_FLOAT;
        n->a.conv.act = m->out.act;
        n->a.conv.act_alpha = m->out.alpha;
        n->a.conv.act_beta = m->out.beta;
    } else {
        n->a.gemm.requant = EVO_REQUANT_FLOAT;
        n->a.gemm.act = m->out.act;
        n->a.gemm.act_alpha = m->out.alpha;
        n->a.gemm.act_beta = m->out.beta;
    }
    if (m->out.act_node >= 0)
        g->nodes[m->out.act_node].is_dead = true;
    g->nodes[m->out.y.node].is_dead = true;
    evo_redirect_output(g, id, m->out.y.data);
    return evo_op_get(n->op)->infer(g, n, err);
}

/* Runs layout node id on the bytes its DequantizeLinear inputs read, writing its QuantizeLinears' outputs. */
static evo_status fold_layout(evo_graph *g, int id, const evo_qparam *in_q, const evo_qparam *out_q,
                              evo_error *err)
{
    evo_node *n = &g->nodes[id];
    int32_t byte;
    if (n->op == EVO_OP_PAD && n->a.pad.mode == EVO_PAD_CONSTANT && g->opset >= 11 &&
        pad_byte(g, n, in_q, &byte) == NULL) { /* the value input becomes that byte */
        uint8_t b = (uint8_t)byte;
        int v = evo_new_const(g, n->name, in_q->dtype, 0, NULL, &b);
        int *in = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n->n_in > 3 ? n->n_in : 3));
        if (v < 0 || !in)
            return evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory folding QDQ");
        n = &g->nodes[id];
        for (int i = 0; i < (n->n_in > 3 ? n->n_in : 3); i++)
            in[i] = i < n->n_in ? n->in[i] : -1;
        in[2] = v;
        n->in = in;
        n->n_in = n->n_in > 3 ? n->n_in : 3;
    }
    for (int i = 0; i < n_data_inputs(n); i++) {
        int dq = g->values[n->in[i]].producer;
        n->in[i] = g->nodes[dq].in[0];
        g->nodes[dq].is_dead = true;
    }
    for (int o = 0; o < n->n_out; o++) {
        g->nodes[out_q[o].node].is_dead = true;
        n->out[o] = out_q[o].data;
        g->values[out_q[o].data].producer = id;
    }
    return evo_op_get(n->op)->infer(g, n, err);
}

evo_status evo_pass_fold_qdq(evo_graph *g, evo_pass_ctx *ctx)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        evo_status s = EVO_OK;
        compute_match m;
        evo_qparam in_q, out_q[FOLD_MAX_OUTPUTS];
        if (n->is_dead)
            continue;
        if (n->op == EVO_OP_CONV && !match_conv(g, i, &m))
            s = fold_compute(g, i, &m, ctx->err);
        else if (n->op == EVO_OP_MATMUL && !match_matmul(g, i, &m))
            s = fold_compute(g, i, &m, ctx->err);
        else if (runs_on_bytes(n) && !match_layout(g, i, &in_q, out_q))
            s = fold_layout(g, i, &in_q, out_q, ctx->err);
        if (s)
            return s;
    }
    evo_qdq_drop_unread_dq(g);
    return EVO_OK;
}

const char *evo_fold_qdq_island(const evo_graph *g, const evo_node *n)
{
    if (n->is_dead || n->op == EVO_OP_QUANTIZE_LINEAR || n->op == EVO_OP_DEQUANTIZE_LINEAR)
        return NULL;
    bool fed = false;
    for (int i = 0; i < n->n_in; i++) {
        int p = n->in[i] >= 0 ? g->values[n->in[i]].producer : -1;
        fed = fed || (p >= 0 && !g->nodes[p].is_dead && g->nodes[p].op == EVO_OP_DEQUANTIZE_LINEAR);
    }
    if (!fed)
        return NULL;
    const char *ms = evo_fold_qdq_ms_island(g, n);
    if (ms && (n->op != EVO_OP_CONCAT || match_any(g, (int)(n - g->nodes))))
        return ms; /* the com.microsoft ops' patterns (a Concat that fold_qdq would not take either) */
    int id = (int)(n - g->nodes);
    if (n->op == EVO_OP_CONV || n->op == EVO_OP_MATMUL || runs_on_bytes(n)) {
        const char *why = match_any(g, id);
        return why ? why : "would fold (pass fold_qdq disabled)";
    }
    int r = n->n_out > 0 ? evo_qdq_single_reader(g, n->out[0]) : -1;
    if (r >= 0 && g->nodes[r].op == EVO_OP_QUANTIZE_LINEAR)
        return "no int8 kernel for this op";
    return "its output stays float (no QuantizeLinear after it)";
}
