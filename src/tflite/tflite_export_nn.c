/*
 * tflite_export_nn.c - the compute ops of the TFLite export: QLinearConv
 * (CONV_2D, DEPTHWISE_CONV_2D), QLinearMatMul (FULLY_CONNECTED), pools
 * (MAX_POOL_2D, AVERAGE_POOL_2D, MEAN) and activations.
 *
 * Weights become per-channel int8 tensors with zero points 0 (OHWI with
 * quantized_dimension 0; depthwise 1HWO with quantized_dimension 3), bias
 * int32 with scale x_scale * w_scale[c]. ONNX pads become TFLite's SAME or
 * VALID when they give the same windows, and an explicit PAD (PADV2 with
 * the lowest value before a max pool) otherwise. A fused ReLU/ReLU6 stays
 * fused; a table activation becomes TFLite's own ops on the
 * pre-activation (act_scale, act_zp): SiLU = x * LOGISTIC(x), Sigmoid =
 * LOGISTIC (output scale 1/256, zero point -128, as TFLite's int8 kernel
 * requires, then QUANTIZE to y's), Tanh = TANH (1/128, 0), HardSwish,
 * LeakyReLU. evo's single table rounds once; TFLite's ops round after each
 * op, so these differ by a step on some values (docs/tflite.md).
 */
#include "tflite/tflite_export.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A tensor shaped like tensor `like`, with quantization q. */
static int tensor_like(tx *c, int like, const char *suffix, tx_q q)
{
    const tfl_tensor *t = &c->m->tensors[like];
    int64_t dims[EVO_MAX_RANK];
    for (int i = 0; i < t->rank; i++)
        dims[i] = t->shape[i];
    char name[200];
    snprintf(name, sizeof(name), "%s:%s", t->name, suffix);
    return tx_tensor(c, name, t->type, t->rank, dims, t->type == TFL_INT8 ? q : (tx_q){0});
}

/* A one-element constant holding v: int8 at scale |v| / 127 (v itself is then exact), or float. */
static int scalar_const(tx *c, const char *name, float v, bool q8)
{
    if (!q8)
        return tx_const(c, name, TFL_FLOAT32, 1, (int64_t[]){1}, &v, 4);
    int8_t q = v < 0 ? -127 : 127;
    int t = tx_const(c, name, TFL_INT8, 1, (int64_t[]){1}, &q, 1);
    float scale = fabsf(v) / 127.0f;
    if (t >= 0 && tx_set_channel_q(c, t, &scale, 1, 0) != EVO_OK)
        return -2;
    return t;
}

/*
 * HardSigmoid with alpha 1/6 (PyTorch's): clamp(x / 6 + beta, 0, 1) =
 * RELU6(x + 6 * beta) / 6, as ADD (fused RELU6, int8 output [0, 6]) and
 * MUL by 1/6; TFLite has no HardSigmoid op.
 */
static evo_status hard_sigmoid(tx *c, int in, bool q8, float alpha, float beta, int out)
{
    if (fabsf(alpha * 6.0f - 1.0f) > 1e-6f || beta * 6.0f == 0.0f)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "HardSigmoid(alpha %g, beta %g): only alpha 1/6 (RELU6(x + 6 beta) / 6) "
                       "has a TFLite form", (double)alpha, (double)beta);
    char name[200];
    snprintf(name, sizeof(name), "%s:hsig_offset", c->m->tensors[out].name);
    int off = scalar_const(c, name, beta / alpha, q8);
    snprintf(name, sizeof(name), "%s:hsig_scale", c->m->tensors[out].name);
    int k = scalar_const(c, name, alpha, q8);
    int u = tensor_like(c, out, "relu6", (tx_q){true, 6.0f / 255.0f, -128});
    tfl_options add = {.type = TFL_OPT_ADD};
    add.i[0] = TFL_ACT_RELU6;
    evo_status s = tx_op(c, TFL_OP_ADD, (int[]){in, off}, 2, &u, 1, &add);
    return s ? s : tx_op(c, TFL_OP_MUL, (int[]){u, k}, 2, &out, 1, &(tfl_options){.type = TFL_OPT_MUL});
}

evo_status tx_export_act(tx *c, int in, tx_q in_q, int act, float alpha, float beta, int out,
                         tx_q out_q)
{
    (void)beta;
    bool q8 = in_q.on;
    tfl_options none = {0};
    switch (act) {
    case EVO_ACT_SIGMOID:
    case EVO_ACT_TANH:
    case EVO_ACT_SILU: {
        /* TFLite's int8 LOGISTIC writes scale 1/256, zero point -128; TANH 1/128, 0 */
        bool tanh_ = act == EVO_ACT_TANH;
        tx_q fixed = {true, tanh_ ? 1.0f / 128 : 1.0f / 256, tanh_ ? 0 : -128};
        int code = tanh_ ? TFL_OP_TANH : TFL_OP_LOGISTIC;
        bool direct = act != EVO_ACT_SILU &&
                      (!q8 || (out_q.scale == fixed.scale && out_q.zp == fixed.zp));
        if (direct)
            return tx_op(c, code, &in, 1, &out, 1, NULL);
        int mid = tensor_like(c, out, tanh_ ? "tanh" : "sigmoid", fixed);
        evo_status s = tx_op(c, code, &in, 1, &mid, 1, NULL);
        if (s != EVO_OK)
            return s;
        if (act == EVO_ACT_SILU)
            return tx_op(c, TFL_OP_MUL, (int[]){in, mid}, 2, &out, 1,
                         &(tfl_options){.type = TFL_OPT_MUL});
        return tx_op(c, TFL_OP_QUANTIZE, &mid, 1, &out, 1, &(tfl_options){.type = TFL_OPT_QUANTIZE});
    }
    case EVO_ACT_HARD_SWISH: {
        if (q8)
            return tx_op(c, TFL_OP_HARD_SWISH, &in, 1, &out, 1, &(tfl_options){.type = TFL_OPT_HARD_SWISH});
        /* float: x * HardSigmoid(x), since NPU compilers (Vela) take HARD_SWISH only on 8-bit data */
        int mid = tensor_like(c, out, "hsig", (tx_q){0});
        evo_status s = hard_sigmoid(c, in, false, 1.0f / 6, 0.5f, mid);
        return s ? s : tx_op(c, TFL_OP_MUL, (int[]){in, mid}, 2, &out, 1, &(tfl_options){.type = TFL_OPT_MUL});
    }
    case EVO_ACT_HARD_SIGMOID:
        return hard_sigmoid(c, in, q8, alpha, beta, out);
    case EVO_ACT_LEAKY_RELU: {
        tfl_options o = {.type = TFL_OPT_LEAKY_RELU};
        o.f[0] = alpha;
        return tx_op(c, TFL_OP_LEAKY_RELU, &in, 1, &out, 1, &o);
    }
    case EVO_ACT_RELU:
        return tx_op(c, TFL_OP_RELU, &in, 1, &out, 1, &none);
    case EVO_ACT_CLIP:
        if (alpha == 0.0f && beta == 6.0f)
            return tx_op(c, TFL_OP_RELU6, &in, 1, &out, 1, NULL);
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "Clip(%g, %g) has no TFLite op (ReLU and ReLU6 do)",
                       (double)alpha, (double)beta);
    default:
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "activation %s has no TFLite op",
                       act == EVO_ACT_HARD_SIGMOID ? "HardSigmoid" : "(other)");
    }
}

/*
 * The fused activation of a conv or FC writing y (quantization yq): a
 * TFLite fused function in *fused, or *table set when the activation needs
 * ops of its own after the pre-activation tensor.
 */
static evo_status fused_act(tx *c, int act, float lo, float hi, tx_q yq, int *fused, bool *table)
{
    *fused = TFL_ACT_NONE;
    *table = false;
    if (act == EVO_ACT_NONE)
        return EVO_OK;
    if (act == EVO_ACT_RELU) {
        *fused = TFL_ACT_RELU;
        return EVO_OK;
    }
    if (act == EVO_ACT_CLIP) {
        if (lo == 0.0f && hi == 6.0f)
            *fused = TFL_ACT_RELU6;
        else if (lo == -1.0f && hi == 1.0f)
            *fused = TFL_ACT_RELU_N1_TO_1;
        else if (lo == 0.0f && isinf(hi))
            *fused = TFL_ACT_RELU;
        else if (!(yq.on && yq.zp + roundf(lo / yq.scale) <= -128 && yq.zp + roundf(hi / yq.scale) >= 127))
            return tx_fail(c, EVO_ERR_UNSUPPORTED,
                           "fused Clip(%g, %g) is neither ReLU nor ReLU6 and clamps y's range", (double)lo,
                           (double)hi);
        return EVO_OK;
    }
    *table = true;
    return EVO_OK;
}

/* The ONNX pads of a 2-D window as TFLite padding, or an explicit pad (pads[4]: top, bottom, left, right). */
static evo_status window_padding(tx *c, const int64_t *in, const int64_t *k_eff, const int64_t *stride,
                                 const int64_t *pb, const int64_t *out, int *padding, int64_t *pads)
{
    bool same = true, valid = true, need = false;
    for (int d = 0; d < 2; d++) {
        int64_t so = (in[d] + stride[d] - 1) / stride[d];
        int64_t total = EVO_MAX((so - 1) * stride[d] + k_eff[d] - in[d], 0);
        same &= so == out[d] && pb[d] == total / 2;
        valid &= pb[d] == 0 && out[d] == (in[d] - k_eff[d]) / stride[d] + 1;
        /* rows past the last window (fewer than a stride) stay unread by VALID too */
        pads[2 * d] = pb[d];
        pads[2 * d + 1] = EVO_MAX((out[d] - 1) * stride[d] + k_eff[d] - in[d] - pb[d], 0);
        if ((in[d] + pads[2 * d] + pads[2 * d + 1] - k_eff[d]) / stride[d] + 1 != out[d])
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "no padding of axis %d gives %lld outputs", d, (long long)out[d]);
        need |= pads[2 * d] || pads[2 * d + 1];
    }
    *padding = same ? TFL_PAD_SAME : TFL_PAD_VALID;
    if (same || valid || !need)
        pads[0] = pads[1] = pads[2] = pads[3] = 0;
    return EVO_OK;
}

/* Pads NHWC tensor *t by pads (top, bottom, left, right) with PAD, or PADV2 with fill (fill_raw). */
static evo_status pad_input(tx *c, int *t, const int64_t *pads, bool use_fill, int8_t fill8, float fillf)
{
    if (!(pads[0] || pads[1] || pads[2] || pads[3]))
        return EVO_OK;
    /* a copy: adding tensors below may move the array */
    const tfl_tensor src = c->m->tensors[*t];
    int32_t p[8] = {0, 0, (int32_t)pads[0], (int32_t)pads[1], (int32_t)pads[2], (int32_t)pads[3], 0, 0};
    char name[200];
    snprintf(name, sizeof(name), "%s:pads", src.name);
    int pt = tx_const(c, name, TFL_INT32, 2, (int64_t[]){4, 2}, p, sizeof(p));
    int64_t dims[4] = {src.shape[0], src.shape[1] + pads[0] + pads[1], src.shape[2] + pads[2] + pads[3],
                       src.shape[3]};
    tx_q q = src.q.n == 1 ? (tx_q){true, src.q.scale[0], (int32_t)src.q.zero_point[0]} : (tx_q){0};
    snprintf(name, sizeof(name), "%s:padded", src.name);
    int type = src.type;
    int out = tx_tensor(c, name, type, 4, dims, q);
    evo_status s;
    if (use_fill) {
        snprintf(name, sizeof(name), "%s:fill", src.name);
        int ft = type == TFL_INT8 ? tx_const(c, name, type, 1, (int64_t[]){1}, &fill8, 1)
                                  : tx_const(c, name, type, 1, (int64_t[]){1}, &fillf, 4);
        if (ft >= 0 && type == TFL_INT8 && (s = tx_set_channel_q(c, ft, &q.scale, 1, 0)) != EVO_OK)
            return s;
        s = tx_op(c, TFL_OP_PADV2, (int[]){*t, pt, ft}, 3, &out, 1, &(tfl_options){.type = TFL_OPT_PADV2});
        if (s == EVO_OK && type == TFL_INT8)
            c->m->tensors[ft].q.zero_point[0] = q.zp;
    } else {
        s = tx_op(c, TFL_OP_PAD, (int[]){*t, pt}, 2, &out, 1, &(tfl_options){.type = TFL_OPT_PAD});
    }
    *t = out;
    return s;
}

/* The scales of a per-channel or per-tensor weight scale input, expanded to n channels. */
static evo_status weight_scales(tx *c, int scale_in, int zp_in, int64_t n, float **out)
{
    evo_value *s = evo_node_input(c->g, c->node, scale_in);
    evo_value *z = evo_node_input(c->g, c->node, zp_in);
    int64_t ns = s && s->data && s->dtype == EVO_DTYPE_FLOAT ? evo_value_count(s) : 0;
    if (ns != 1 && ns != n)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "the weight scale is not a constant float of 1 or %lld values",
                       (long long)n);
    if (z) {
        int64_t nz = z->data ? evo_value_count(z) : -1;
        if (z->dtype != EVO_DTYPE_INT8 || (nz != 1 && nz != n))
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "the weight zero point is not a constant int8 of 1 or %lld values",
                           (long long)n);
        for (int64_t i = 0; i < nz; i++)
            if (((const int8_t *)z->data)[i] != 0)
                return tx_fail(c, EVO_ERR_UNSUPPORTED, "weight zero point %d of channel %lld is not 0: "
                               "TFLite int8 weights are symmetric", ((const int8_t *)z->data)[i], (long long)i);
    }
    float *v = evo_mem_alloc(&c->m->mem, sizeof(float) * (size_t)n);
    if (!v)
        return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        v[i] = ((const float *)s->data)[ns == 1 ? 0 : i];
    *out = v;
    return EVO_OK;
}

/* The int32 bias tensor (bias value b, or zeros when absent) of n channels with scales x_scale * w_scale[c]. */
static int bias_tensor(tx *c, int b, int64_t n, float x_scale, const float *w_scale, const char *name)
{
    evo_value *bv = b >= 0 ? &c->g->values[b] : NULL;
    if (bv && (!bv->data || bv->dtype != EVO_DTYPE_INT32 || evo_value_count(bv) != n)) {
        tx_fail(c, EVO_ERR_UNSUPPORTED, "the bias is not a constant int32 of %lld values", (long long)n);
        return -2;
    }
    int32_t *zeros = bv ? NULL : evo_mem_alloc(&c->m->mem, sizeof(int32_t) * (size_t)n);
    char buf[200];
    snprintf(buf, sizeof(buf), "%s:bias", name);
    int t = tx_const(c, buf, TFL_INT32, 1, &n, bv ? bv->data : zeros, sizeof(int32_t) * (size_t)n);
    float *bs = evo_mem_alloc(&c->m->mem, sizeof(float) * (size_t)n);
    if (t < 0 || !bs)
        return -2;
    for (int64_t i = 0; i < n; i++)
        bs[i] = x_scale * w_scale[i];
    return tx_set_channel_q(c, t, bs, (int)n, 0) == EVO_OK ? t : -2;
}

/* Writes the output of a conv/FC: fused act, or a pre-activation tensor and the table activation's ops. */
static evo_status finish_with_act(tx *c, int code, const int *ins, int n_in, tfl_options *opt, int act_slot,
                                  int act, float lo, float hi, float act_scale, int32_t act_zp, int y, int given,
                                  tx_q yq, bool plain_out)
{
    int fused;
    bool table;
    evo_status s = fused_act(c, act, lo, hi, yq, &fused, &table);
    if (s != EVO_OK)
        return s;
    opt->i[act_slot] = fused;
    int out = given >= 0 ? given : plain_out ? tx_out_plain(c, y, yq) : tx_out(c, y, yq);
    if (out < 0)
        return EVO_ERR_UNSUPPORTED;
    int pre = out;
    tx_q pq = {yq.on, act_scale, act_zp};
    if (table)
        pre = tensor_like(c, out, "preact", pq);
    if ((s = tx_op(c, code, ins, n_in, &pre, 1, opt)) != EVO_OK)
        return s;
    if (table && (s = tx_export_act(c, pre, pq, act, lo, hi, out, yq)) != EVO_OK)
        return s;
    return plain_out && given < 0 ? tx_bind_plain(c, y, out) : EVO_OK;
}

/* The filter of conv n (weights w, int8 or float) in TFLite's OHWI, or 1HWO when depthwise. */
static int conv_filter(tx *c, const evo_node *n, const evo_value *w, bool dw)
{
    int64_t m_out = w->dims[0], cpg = w->dims[1], khw = w->dims[2] * w->dims[3];
    size_t es = w->dtype == EVO_DTYPE_INT8 ? 1 : 4;
    int64_t fd[4] = {dw ? 1 : m_out, w->dims[2], w->dims[3], dw ? m_out : cpg};
    char name[200];
    snprintf(name, sizeof(name), "%s:filter", n->name);
    int ft = tx_const(c, name, es == 1 ? TFL_INT8 : TFL_FLOAT32, 4, fd, NULL, es * (size_t)(m_out * cpg * khw));
    if (ft < 0)
        return -2;
    uint8_t *f = (uint8_t *)c->m->buffers[c->m->tensors[ft].buffer].data;
    const uint8_t *src = w->data;
    for (int64_t o = 0; o < m_out; o++)
        for (int64_t i = 0; i < cpg; i++)
            for (int64_t u = 0; u < khw; u++)
                memcpy(f + es * (size_t)(dw ? u * m_out + o : (o * khw + u) * cpg + i),
                       src + es * (size_t)((o * cpg + i) * khw + u), es);
    return ft;
}

/* Float conv bias (input 2, or zeros). */
static int float_bias(tx *c, const evo_node *n, int64_t m_out)
{
    evo_value *b = evo_node_input(c->g, n, 2);
    if (b && (!b->data || b->dtype != EVO_DTYPE_FLOAT || evo_value_count(b) != m_out)) {
        tx_fail(c, EVO_ERR_UNSUPPORTED, "the bias is not a constant float of %lld values", (long long)m_out);
        return -2;
    }
    float *zeros = b ? NULL : evo_mem_alloc(&c->m->mem, sizeof(float) * (size_t)m_out);
    char name[200];
    snprintf(name, sizeof(name), "%s:bias", n->name);
    return tx_const(c, name, TFL_FLOAT32, 1, &m_out, b ? b->data : zeros, sizeof(float) * (size_t)m_out);
}

/*
 * A float conv's fused residual r (input 3): the conv writes a tensor of
 * its own, then ADD(conv, r) the output, the activation fused into the
 * ADD (ReLU, ReLU6) or after it when r was added before the activation,
 * or fused into the conv when r is added after it (x + SiLU(conv)).
 */
static evo_status conv_residual(tx *c, const evo_node *n, int code, const int *ins, tfl_options *o, int act_slot)
{
    const evo_conv_attrs *a = &n->a.conv;
    int fused;
    bool table;
    evo_status s = fused_act(c, a->act, a->act_alpha, a->act_beta, (tx_q){0}, &fused, &table);
    int r = tx_in(c, n->in[3]);
    int out = tx_out(c, n->out[0], (tx_q){0});
    if (s != EVO_OK || r < 0 || out < 0)
        return s ? s : EVO_ERR_UNSUPPORTED;
    int conv = tensor_like(c, out, "conv", (tx_q){0});
    if (a->residual_after_act) {
        int acted = table ? tensor_like(c, out, "act", (tx_q){0}) : conv;
        o->i[act_slot] = fused;
        if ((s = tx_op(c, code, ins, 3, &conv, 1, o)) ||
            (table && (s = tx_export_act(c, conv, (tx_q){0}, a->act, a->act_alpha, a->act_beta, acted, (tx_q){0}))))
            return s;
        return tx_op(c, TFL_OP_ADD, (int[]){acted, r}, 2, &out, 1, &(tfl_options){.type = TFL_OPT_ADD});
    }
    if ((s = tx_op(c, code, ins, 3, &conv, 1, o)) != EVO_OK)
        return s;
    tfl_options add = {.type = TFL_OPT_ADD};
    add.i[0] = fused;
    int sum = table ? tensor_like(c, out, "sum", (tx_q){0}) : out;
    if ((s = tx_op(c, TFL_OP_ADD, (int[]){conv, r}, 2, &sum, 1, &add)) != EVO_OK)
        return s;
    return table ? tx_export_act(c, sum, (tx_q){0}, a->act, a->act_alpha, a->act_beta, out, (tx_q){0}) : EVO_OK;
}

/* The NHWC tensor [N, H, W, M] a conv writing the grouped layout computes first. */
static int grouped_tensor(tx *c, const evo_node *n, int64_t m_out, tx_q yq)
{
    const evo_value *y = evo_node_output(c->g, n, 0);
    if (y->rank != 5)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a grouped output of rank %d", y->rank), -2;
    char name[200];
    snprintf(name, sizeof(name), "%s:nhwc", y->name);
    return tx_tensor(c, name, tx_type(y->dtype), 4, (int64_t[]){y->dims[0], y->dims[2], y->dims[3], m_out},
                     yq);
}

/* [N, H, W, G * C'] -> RESHAPE [N, H, W, G, C'] -> TRANSPOSE to y's [N, G, H, W, C'] (fuse_layout's form). */
static evo_status ungroup(tx *c, const evo_node *n, int t, tx_q yq)
{
    const evo_value *y = evo_node_output(c->g, n, 0);
    char name[200];
    snprintf(name, sizeof(name), "%s:split", y->name);
    int r = tx_tensor(c, name, tx_type(y->dtype), 5,
                      (int64_t[]){y->dims[0], y->dims[2], y->dims[3], y->dims[1], y->dims[4]}, yq);
    int out = tx_out(c, n->out[0], yq);
    if (r < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    evo_status s = tx_transpose(c, t, r, NULL, 5);
    return s ? s : tx_transpose(c, r, out, (int[]){0, 3, 1, 2, 4}, 5);
}

/* QLinearConv (int8) and Conv (float): CONV_2D or DEPTHWISE_CONV_2D. */
evo_status tx_export_qconv(tx *c, const evo_node *n)
{
    const evo_conv_attrs *a = &n->a.conv;
    bool q8 = n->op == EVO_OP_QLINEAR_CONV;
    evo_value *x = evo_node_input(c->g, n, 0), *w = evo_node_input(c->g, n, q8 ? 3 : 1);
    evo_value *y = evo_node_output(c->g, n, 0);
    if (a->n_spatial != 2 || x->rank != 4)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a %d-D convolution; TFLite's are 2-D", a->n_spatial);
    if (a->out_groups && a->has_residual)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a fused residual with the grouped output layout");
    if (q8 && a->has_residual)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "an int8 conv with a fused residual Add");
    evo_dtype wt = q8 ? EVO_DTYPE_INT8 : EVO_DTYPE_FLOAT;
    if (!w || !w->data || w->dtype != wt || w->rank != 4 || (q8 ? !tx_is_q8(x->dtype) : x->dtype != wt))
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "the weights are not a constant %s [M, C/group, kH, kW]",
                       evo_dtype_name(wt));
    tx_q xq = {0}, yq = {0};
    evo_status s;
    if (q8 && ((s = tx_scalar_q(c, 1, 2, &xq)) || (s = tx_scalar_q(c, 6, 7, &yq)) ||
               (s = tx_check_q(c, n->in[0], xq))))
        return s;
    int64_t m_out = w->dims[0], cpg = w->dims[1], kh = w->dims[2], kw = w->dims[3], cin = x->dims[1];
    bool dw = a->group == cin && cpg == 1 && a->group > 1 && m_out % cin == 0;
    if (a->group != 1 && !dw)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a grouped convolution (group %lld of %lld channels) is neither "
                       "plain nor depthwise", (long long)a->group, (long long)cin);
    float *ws = NULL;
    if (q8 && (s = weight_scales(c, 4, 5, m_out, &ws)) != EVO_OK)
        return s;
    int ft = conv_filter(c, n, w, dw);
    if (ft < 0 || (q8 && (s = tx_set_channel_q(c, ft, ws, (int)m_out, dw ? 3 : 0)) != EVO_OK))
        return ft < 0 ? EVO_ERR_NOMEM : s;
    int bt = q8 ? bias_tensor(c, n->n_in > 8 ? n->in[8] : -1, m_out, xq.scale, ws, n->name)
                : float_bias(c, n, m_out);
    int xt = tx_in(c, n->in[0]);
    if (bt < 0 || xt < 0)
        return EVO_ERR_UNSUPPORTED;
    int64_t in_hw[2] = {x->dims[2], x->dims[3]}, out_hw[2] = {y->dims[2], y->dims[3]}, pads[4];
    int64_t keff[2] = {(kh - 1) * a->dilation[0] + 1, (kw - 1) * a->dilation[1] + 1};
    int padding;
    if ((s = window_padding(c, in_hw, keff, a->stride, a->pad_begin, out_hw, &padding, pads)) ||
        (s = pad_input(c, &xt, pads, false, 0, 0)))
        return s;
    tfl_options o = {.type = dw ? TFL_OPT_DEPTHWISE_CONV_2D : TFL_OPT_CONV_2D};
    int32_t *oi = o.i;
    oi[0] = padding, oi[1] = (int32_t)a->stride[1], oi[2] = (int32_t)a->stride[0];
    int act_slot = dw ? 4 : 3;
    if (dw)
        oi[3] = (int32_t)(m_out / cin);
    oi[act_slot + 1] = (int32_t)a->dilation[1], oi[act_slot + 2] = (int32_t)a->dilation[0];
    int code = dw ? TFL_OP_DEPTHWISE_CONV_2D : TFL_OP_CONV_2D;
    int grouped = a->out_groups ? grouped_tensor(c, n, m_out, yq) : -1;
    if (grouped < -1)
        return EVO_ERR_UNSUPPORTED;
    if (a->out_groups) {
        s = finish_with_act(c, code, (int[]){xt, ft, bt}, 3, &o, act_slot, a->act, a->act_alpha, a->act_beta,
                            a->act_scale, a->act_zp + tx_byte_shift(y->dtype), n->out[0], grouped, yq, false);
        return s ? s : ungroup(c, n, grouped, yq);
    }
    if (a->has_residual)
        return conv_residual(c, n, code, (int[]){xt, ft, bt}, &o, act_slot);
    return finish_with_act(c, code, (int[]){xt, ft, bt}, 3, &o, act_slot, a->act, a->act_alpha, a->act_beta,
                           a->act_scale, a->act_zp + tx_byte_shift(y->dtype), n->out[0], -1, yq, false);
}

evo_status tx_export_qmatmul(tx *c, const evo_node *n)
{
    const evo_gemm_attrs *a = &n->a.gemm;
    evo_value *av = evo_node_input(c->g, n, 0), *b = evo_node_input(c->g, n, 3);
    if (!b || !b->data || b->dtype != EVO_DTYPE_INT8 || b->rank != 2 || av->rank < 2)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "B is not a constant int8 [K, N] matrix (FULLY_CONNECTED's weights)");
    if (a->trans_a || a->trans_b)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a transposed operand");
    tx_q aq, yq;
    evo_status s;
    if ((s = tx_scalar_q(c, 1, 2, &aq)) || (s = tx_scalar_q(c, 6, 7, &yq)) || (s = tx_check_q(c, n->in[0], aq)))
        return s;
    int64_t k = b->dims[0], nn = b->dims[1];
    float *ws;
    if ((s = weight_scales(c, 4, 5, nn, &ws)) != EVO_OK)
        return s;
    char name[200];
    snprintf(name, sizeof(name), "%s:weights", n->name);
    int wt = tx_const(c, name, TFL_INT8, 2, (int64_t[]){nn, k}, NULL, (size_t)(nn * k));
    if (wt < 0)
        return EVO_ERR_NOMEM;
    int8_t *wd = (int8_t *)c->m->buffers[c->m->tensors[wt].buffer].data;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < nn; j++)
            wd[j * k + i] = ((const int8_t *)b->data)[i * nn + j];
    if ((s = tx_set_channel_q(c, wt, ws, (int)nn, 0)) != EVO_OK)
        return s;
    int bt = bias_tensor(c, -1, nn, aq.scale, ws, n->name);
    int at = tx_plain(c, n->in[0]);
    if (bt < 0 || at < 0)
        return EVO_ERR_UNSUPPORTED;
    tfl_options o = {.type = TFL_OPT_FULLY_CONNECTED};
    o.i[2] = av->rank > 2; /* keep_num_dims */
    return finish_with_act(c, TFL_OP_FULLY_CONNECTED, (int[]){at, wt, bt}, 3, &o, 0, a->act, a->act_alpha,
                           a->act_beta, a->act_scale, a->act_zp + tx_byte_shift(evo_node_output(c->g, n, 0)->dtype),
                           n->out[0], -1, yq, true);
}

evo_status tx_export_pool(tx *c, const evo_node *n)
{
    const evo_pool_attrs *a = &n->a.pool;
    evo_value *x = evo_node_input(c->g, n, 0), *y = evo_node_output(c->g, n, 0);
    bool qop = n->op == EVO_OP_QLINEAR_AVERAGE_POOL || n->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL;
    bool global = n->op == EVO_OP_GLOBAL_AVERAGE_POOL || n->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL;
    bool is_max = n->op == EVO_OP_MAX_POOL;
    if (x->rank != 4 || a->channels_last)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a pool over %s; TFLite pools 2-D NHWC images",
                       a->channels_last ? "channels_last data" : "other than 2 spatial axes");
    if (n->n_out > 1 && n->out[1] >= 0)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "MaxPool's Indices output has no TFLite form");
    tx_q xq = tx_value_q(c, n->in[0]), yq = xq;
    evo_status s;
    if (qop && ((s = tx_scalar_q(c, 1, 2, &xq)) || (s = tx_scalar_q(c, 3, 4, &yq)) ||
                (s = tx_check_q(c, n->in[0], xq))))
        return s;
    int xt = tx_in(c, n->in[0]);
    int yt = tx_out(c, n->out[0], yq);
    if (xt < 0 || yt < 0)
        return EVO_ERR_UNSUPPORTED;
    if (global) {
        int axes = tx_const_i32(c, "mean:axes", (int32_t[]){1, 2}, 2);
        tfl_options o = {.type = TFL_OPT_REDUCER};
        o.i[0] = 1;
        return tx_op(c, TFL_OP_MEAN, (int[]){xt, axes}, 2, &yt, 1, &o);
    }
    for (int d = 0; d < 2; d++)
        if (a->dilation[d] != 1)
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "a dilated pool");
    int64_t in_hw[2] = {x->dims[2], x->dims[3]}, out_hw[2] = {y->dims[2], y->dims[3]}, pads[4];
    int padding;
    if ((s = window_padding(c, in_hw, a->kernel, a->stride, a->pad_begin, out_hw, &padding, pads)) != EVO_OK)
        return s;
    if (!is_max && (pads[0] || pads[1] || pads[2] || pads[3]) && !a->count_include_pad)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "its pads are not TFLite's SAME and exclude padding from the count");
    if ((s = pad_input(c, &xt, pads, is_max, -128, -FLT_MAX)) != EVO_OK)
        return s;
    tfl_options o = {.type = TFL_OPT_POOL_2D};
    o.i[0] = padding, o.i[1] = (int32_t)a->stride[1], o.i[2] = (int32_t)a->stride[0];
    o.i[3] = (int32_t)a->kernel[1], o.i[4] = (int32_t)a->kernel[0];
    int code = is_max ? TFL_OP_MAX_POOL_2D : TFL_OP_AVERAGE_POOL_2D;
    if (!qop || (xq.scale == yq.scale && xq.zp == yq.zp))
        return tx_op(c, code, &xt, 1, &yt, 1, &o);
    /* TFLite's int8 average pool keeps its input's quantization */
    int mid = tensor_like(c, yt, "pool", xq);
    if ((s = tx_op(c, code, &xt, 1, &mid, 1, &o)) != EVO_OK)
        return s;
    return tx_op(c, TFL_OP_QUANTIZE, &mid, 1, &yt, 1, &(tfl_options){.type = TFL_OPT_QUANTIZE});
}

/* A float Gemm (alpha 1, beta 1 or no C) or MatMul with a constant 2-D B: FULLY_CONNECTED in float. */
evo_status tx_export_fc_float(tx *c, const evo_node *n)
{
    const evo_gemm_attrs *a = &n->a.gemm;
    bool gemm = n->op == EVO_OP_GEMM;
    evo_value *av = evo_node_input(c->g, n, 0), *b = evo_node_input(c->g, n, 1);
    evo_value *cv = gemm ? evo_node_input(c->g, n, 2) : NULL;
    if (av->dtype != EVO_DTYPE_FLOAT || !b || !b->data || b->dtype != EVO_DTYPE_FLOAT || b->rank != 2 ||
        av->rank < 2)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "B is not a constant float [K, N] matrix (FULLY_CONNECTED's weights)");
    if (gemm && (a->trans_a || a->alpha != 1.0f || (cv && a->beta != 1.0f)))
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a Gemm with transA, alpha or beta other than 1");
    bool tb = gemm && a->trans_b;
    int64_t k = tb ? b->dims[1] : b->dims[0], nn = tb ? b->dims[0] : b->dims[1];
    if (cv && (!cv->data || cv->dtype != EVO_DTYPE_FLOAT || evo_value_count(cv) != nn))
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "C is not a constant float of %lld values", (long long)nn);
    char name[200];
    snprintf(name, sizeof(name), "%s:weights", n->name);
    int wt = tx_const(c, name, TFL_FLOAT32, 2, (int64_t[]){nn, k}, NULL, sizeof(float) * (size_t)(nn * k));
    if (wt < 0)
        return EVO_ERR_NOMEM;
    float *wd = (float *)c->m->buffers[c->m->tensors[wt].buffer].data;
    const float *bd = b->data;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < nn; j++)
            wd[j * k + i] = tb ? bd[j * k + i] : bd[i * nn + j];
    int bt = -1;
    if (cv) {
        snprintf(name, sizeof(name), "%s:bias", n->name);
        bt = tx_const(c, name, TFL_FLOAT32, 1, &nn, cv->data, sizeof(float) * (size_t)nn);
    }
    int at = tx_plain(c, n->in[0]);
    if (at < 0 || bt < -1)
        return EVO_ERR_UNSUPPORTED;
    tfl_options o = {.type = TFL_OPT_FULLY_CONNECTED};
    o.i[2] = av->rank > 2;
    return finish_with_act(c, TFL_OP_FULLY_CONNECTED, (int[]){at, wt, bt}, 3, &o, 0, a->act, a->act_alpha,
                           a->act_beta, 0, 0, n->out[0], -1, (tx_q){0}, true);
}

evo_status tx_clamp_act(tx *c, int act, float lo, float hi, tx_q yq, int *fused)
{
    bool table;
    evo_status s = fused_act(c, act, lo, hi, yq, fused, &table);
    return s || !table ? s : tx_fail(c, EVO_ERR_UNSUPPORTED, "fused activation %d is not a clamp", act);
}
