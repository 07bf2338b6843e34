/*
 * onnx_write_qdq.c - QLinearConv and QLinearMatMul in QDQ form: each
 * quantized input through a DequantizeLinear (weights int8 per output
 * channel along axis 0, or per column of B along its last axis; bias int32
 * with scale x_scale * w_scale[c] and no zero point), the float Conv or
 * MatMul, the fused activation as its ONNX op(s), and a QuantizeLinear to
 * the output's scale and zero point. A table activation (docs/int8.md)
 * first requantizes to the pre-activation's own act_scale and act_zp, so
 * that step is a QuantizeLinear + DequantizeLinear pair in between. What
 * runs is what evo runs up to rounding: FIXED requantization and the
 * double-precision tables become float arithmetic, at most one step apart
 * (on about 1 % of the outputs of a layer).
 */
#include "onnx/onnx_write_priv.h"

#include <string.h>

/* Element count of constant input i of n, or -1 when it is absent or not constant. */
static int64_t const_count(const ow_model *m, const evo_node *n, int i)
{
    if (i >= n->n_in || n->in[i] < 0)
        return -1;
    const evo_value *v = &m->g->values[n->in[i]];
    return v->data && v->rank >= 0 ? evo_value_count(v) : -1;
}

/* DequantizeLinear(x, scale, zp) -> a fresh value; axis >= 0 makes it per-axis. */
static const char *dq(ow_model *m, const evo_node *n, const char *x, const char *scale, const char *zp,
                      int64_t axis)
{
    const char *y = ow_fresh(m, n->name, "dq");
    ow_node *o = ow_add(m, "DequantizeLinear", ow_fresh(m, n->name, "DequantizeLinear"), zp[0] ? 3 : 2, 1);
    if (!y || !o || (axis >= 0 && !ow_attrs(m, o, 1)))
        return NULL;
    if (axis >= 0)
        ow_attr_int(&o->attrs[0], "axis", axis);
    o->in[0] = x;
    o->in[1] = scale;
    if (zp[0])
        o->in[2] = zp;
    o->out[0] = y;
    return y;
}

static bool q(ow_model *m, const evo_node *n, const char *x, const char *scale, const char *zp, const char *y)
{
    ow_node *o = ow_add(m, "QuantizeLinear", ow_fresh(m, n->name, "QuantizeLinear"), zp[0] ? 3 : 2, 1);
    if (!o)
        return false;
    o->in[0] = x;
    o->in[1] = scale;
    if (zp[0])
        o->in[2] = zp;
    o->out[0] = y;
    return true;
}

/*
 * The zero point of a per-axis weight DequantizeLinear: zp itself when it
 * has n_scale elements, else a copy of its one element n_scale times (the
 * QOperator ops allow a scalar zero point with per-channel scales; the
 * per-axis DequantizeLinear does not).
 */
static const char *axis_zp(ow_model *m, const evo_node *n, int zp_in, int64_t n_scale, evo_dtype dtype)
{
    if (zp_in >= n->n_in || n->in[zp_in] < 0)
        return "";
    const evo_value *zp = &m->g->values[n->in[zp_in]];
    if (n_scale <= 1 || evo_value_count(zp) == n_scale)
        return ow_value(m, n->in[zp_in]);
    uint8_t *fill = evo_mem_alloc(&m->mem, (size_t)n_scale);
    if (!fill || !zp->data || evo_dtype_size(dtype) != 1)
        return NULL;
    memset(fill, *(const uint8_t *)zp->data, (size_t)n_scale);
    return ow_const(m, n->name, dtype, 1, &n_scale, fill);
}

/* The bias DequantizeLinear: int32 B with scale x_scale * w_scale[c] (float32), zero point 0. */
static const char *dq_bias(ow_model *m, const evo_node *n, int64_t n_w_scale)
{
    const evo_value *xs = &m->g->values[n->in[1]], *ws = &m->g->values[n->in[4]];
    float *scale = evo_mem_alloc(&m->mem, sizeof(float) * (size_t)n_w_scale);
    if (!scale)
        return NULL;
    float x_scale = *(const float *)xs->data;
    for (int64_t c = 0; c < n_w_scale; c++)
        scale[c] = x_scale * ((const float *)ws->data)[c];
    const char *s = n_w_scale > 1 ? ow_const(m, n->name, EVO_DTYPE_FLOAT, 1, &n_w_scale, scale)
                                  : ow_const(m, n->name, EVO_DTYPE_FLOAT, 0, NULL, scale);
    return s ? dq(m, n, ow_value(m, n->in[8]), s, "", n_w_scale > 1 ? 0 : -1) : NULL;
}

/*
 * From the float result acc to the quantized output y: the activation (a
 * table one between a QuantizeLinear/DequantizeLinear pair at act_scale,
 * act_zp), then QuantizeLinear at y_scale (input 6), y_zp (input 7).
 */
static evo_status emit_output(ow_model *m, const evo_node *n, const char *acc, evo_act act, float alpha,
                              float beta, float act_scale, int32_t act_zp)
{
    const char *y = ow_value(m, n->out[0]), *ys = ow_value(m, n->in[6]);
    const char *yzp = n->n_in > 7 ? ow_value(m, n->in[7]) : "";
    evo_dtype dtype = m->g->values[n->out[0]].dtype;
    const char *cur = acc;
    if (act != EVO_ACT_NONE && act != EVO_ACT_RELU && act != EVO_ACT_CLIP) {
        uint8_t zp_byte = dtype == EVO_DTYPE_INT8 ? (uint8_t)(int8_t)act_zp : (uint8_t)act_zp;
        const char *as = ow_const(m, n->name, EVO_DTYPE_FLOAT, 0, NULL, &act_scale);
        const char *azp = ow_const(m, n->name, dtype, 0, NULL, &zp_byte);
        const char *pre = ow_fresh(m, n->name, "pre_act");
        if (!as || !azp || !pre || !q(m, n, cur, as, azp, pre) || !(cur = dq(m, n, pre, as, azp, -1)))
            return ow_nomem(m, n);
    }
    if (act != EVO_ACT_NONE) {
        const char *t = ow_fresh(m, n->name, "act");
        evo_status s = t ? ow_emit_act(m, n, act, alpha, beta, cur, t) : ow_nomem(m, n);
        if (s)
            return s;
        cur = t;
    }
    return q(m, n, cur, ys, yzp, y) ? EVO_OK : ow_nomem(m, n);
}

/* Checks the scales (and zero points) the expansion reads are constants. */
static evo_status check_params(ow_model *m, const evo_node *n, const char *what)
{
    static const int need[] = {1, 4, 6};
    for (int k = 0; k < 3; k++) {
        int i = need[k];
        const evo_value *v = i < n->n_in && n->in[i] >= 0 ? &m->g->values[n->in[i]] : NULL;
        if (!v || !v->data || v->dtype != EVO_DTYPE_FLOAT || evo_value_count(v) < 1)
            return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                                   "QDQ form needs a constant float32 %s (input %d)", what, i);
    }
    if (const_count(m, n, 1) != 1 || const_count(m, n, 6) != 1)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "QDQ form needs per-tensor input and output scales");
    return EVO_OK;
}

/* Needs opset 13 for a per-axis DequantizeLinear. */
static evo_status check_axis_opset(ow_model *m, const evo_node *n, int64_t n_scale)
{
    if (n_scale > 1 && m->opset < 13)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "per-channel weight scales need DequantizeLinear with an axis (opset 13), "
                               "the model is opset %lld",
                               (long long)m->opset);
    if (m->opset < 10)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "QuantizeLinear/DequantizeLinear need opset 10, the model is opset %lld",
                               (long long)m->opset);
    return EVO_OK;
}

static evo_status emit_qconv(ow_model *m, const evo_node *n)
{
    const evo_conv_attrs *c = &n->a.conv;
    evo_status s = check_params(m, n, "scale");
    int64_t n_ws = const_count(m, n, 4);
    if (s || (s = check_axis_opset(m, n, n_ws)))
        return s;
    if (c->n_spatial < 1 || c->has_residual || c->out_groups)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "QDQ form needs resolved attributes and no fused residual or layout");
    evo_dtype w_dtype = m->g->values[n->in[3]].dtype;
    const char *xzp = n->n_in > 2 ? ow_value(m, n->in[2]) : "", *wzp = axis_zp(m, n, 5, n_ws, w_dtype);
    const char *xf = dq(m, n, ow_value(m, n->in[0]), ow_value(m, n->in[1]), xzp, -1);
    const char *wf =
        wzp ? dq(m, n, ow_value(m, n->in[3]), ow_value(m, n->in[4]), wzp, n_ws > 1 ? 0 : -1) : NULL;
    bool has_bias = n->n_in > 8 && n->in[8] >= 0;
    const char *bf = has_bias ? dq_bias(m, n, n_ws) : "";
    const char *acc = ow_fresh(m, n->name, "conv");
    ow_node *o = xf && wf && bf && acc ? ow_add(m, "Conv", n->name, has_bias ? 3 : 2, 1) : NULL;
    if (!o || !ow_conv_attrs(m, o, c))
        return ow_nomem(m, n);
    o->in[0] = xf;
    o->in[1] = wf;
    if (has_bias)
        o->in[2] = bf;
    o->out[0] = acc;
    return emit_output(m, n, acc, c->act, c->act_alpha, c->act_beta, c->act_scale, c->act_zp);
}

static evo_status emit_qmatmul(ow_model *m, const evo_node *n)
{
    const evo_gemm_attrs *a = &n->a.gemm;
    evo_status s = check_params(m, n, "scale");
    int64_t n_bs = const_count(m, n, 4);
    if (s || (s = check_axis_opset(m, n, n_bs)))
        return s;
    const evo_value *b = &m->g->values[n->in[3]];
    if (n_bs > 1 && (b->rank < 2 || b->dims[b->rank - 1] != n_bs))
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "b_scale has %lld elements, expected 1 or one per column of B",
                               (long long)n_bs);
    const char *azp = n->n_in > 2 ? ow_value(m, n->in[2]) : "", *bzp = axis_zp(m, n, 5, n_bs, b->dtype);
    const char *af = dq(m, n, ow_value(m, n->in[0]), ow_value(m, n->in[1]), azp, -1);
    const char *bf =
        bzp ? dq(m, n, ow_value(m, n->in[3]), ow_value(m, n->in[4]), bzp, n_bs > 1 ? b->rank - 1 : -1) : NULL;
    const char *acc = ow_fresh(m, n->name, "matmul");
    ow_node *o = af && bf && acc ? ow_add(m, "MatMul", n->name, 2, 1) : NULL;
    if (!o)
        return ow_nomem(m, n);
    o->in[0] = af;
    o->in[1] = bf;
    o->out[0] = acc;
    return emit_output(m, n, acc, a->act, a->act_alpha, a->act_beta, a->act_scale, a->act_zp);
}

bool ow_qdq_wanted(const ow_model *m, const evo_node *n)
{
    if (n->op == EVO_OP_QLINEAR_CONV)
        return m->opts->qdq || n->a.conv.act != EVO_ACT_NONE || n->a.conv.requant == EVO_REQUANT_FIXED;
    if (n->op == EVO_OP_QLINEAR_MATMUL)
        return m->opts->qdq || n->a.gemm.act != EVO_ACT_NONE || n->a.gemm.requant == EVO_REQUANT_FIXED;
    return false;
}

evo_status ow_emit_qdq(ow_model *m, const evo_node *n)
{
    if (n->n_in < 8 || n->n_out != 1 || n->out[0] < 0 || n->in[0] < 0 || n->in[3] < 0)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "QDQ form needs inputs 0 to 7 and one output");
    return n->op == EVO_OP_QLINEAR_CONV ? emit_qconv(m, n) : emit_qmatmul(m, n);
}
