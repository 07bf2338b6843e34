/*
 * describe.c - each evo node as the TFLite-level operators a converter
 * makes of it, with the parameters the constraint tables read. This is the
 * one place that knows evo's ops: a QLinearConv with group == channels is
 * DEPTHWISE_CONV_2D (else CONV_2D), its explicit padding a PAD before it
 * unless it is SAME or VALID, and a table activation its own operator
 * (SiLU: LOGISTIC then MUL of x by it); QLinearMatMul is FULLY_CONNECTED;
 * layout ops on int8 bytes keep their meaning (Reshape -> RESHAPE, ...).
 * Nodes that read or write float are the CPU's ("float op").
 */
#include "npu/npu.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const evo_value *in_val(const evo_graph *g, const evo_node *n, int i)
{
    return i < n->n_in && n->in[i] >= 0 ? &g->values[n->in[i]] : NULL;
}

static const evo_value *out_val(const evo_graph *g, const evo_node *n)
{
    return n->n_out > 0 && n->out[0] >= 0 ? &g->values[n->out[0]] : NULL;
}

static bool is_byte(evo_dtype t)
{
    return t == EVO_DTYPE_INT8 || t == EVO_DTYPE_UINT8;
}

/* Element i of a constant float or integer tensor as double (0 when absent). */
static double const_at(const evo_value *v, int64_t i)
{
    if (!v || !v->data || i >= evo_value_count(v))
        return 0;
    switch (v->dtype) {
    case EVO_DTYPE_FLOAT: return ((const float *)v->data)[i];
    case EVO_DTYPE_INT8: return ((const int8_t *)v->data)[i];
    case EVO_DTYPE_UINT8: return ((const uint8_t *)v->data)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)v->data)[i];
    case EVO_DTYPE_INT64: return (double)((const int64_t *)v->data)[i];
    default: return 0;
    }
}

static bool same_dims(const evo_value *a, const evo_value *b)
{
    if (!a || !b || a->rank != b->rank)
        return false;
    for (int d = 0; d < a->rank; d++) {
        if (a->dims[d] != b->dims[d])
            return false;
    }
    return true;
}

/* The generic parameters: dtype, rank, batch and the largest dim over inputs 0/data and the output. */
static void set_common(evo_npu_desc *d, const evo_value *x, const evo_value *y)
{
    int rank = 0;
    int64_t dim_max = 1;
    const evo_value *vs[2] = {x, y};
    for (int k = 0; k < 2; k++) {
        if (!vs[k])
            continue;
        rank = vs[k]->rank > rank ? vs[k]->rank : rank;
        for (int i = 0; i < vs[k]->rank; i++)
            dim_max = vs[k]->dims[i] > dim_max ? vs[k]->dims[i] : dim_max;
    }
    evo_npu_set(d, EVO_NPU_P_IFM_DTYPE, x ? x->dtype : EVO_DTYPE_UNDEFINED);
    evo_npu_set(d, EVO_NPU_P_RANK, rank);
    evo_npu_set(d, EVO_NPU_P_DIM_MAX, (double)dim_max);
    evo_npu_set(d, EVO_NPU_P_BATCH, x && x->rank > 0 ? (double)x->dims[0] : 1);
    evo_npu_set(d, EVO_NPU_P_PER_AXIS, 0);
}

static evo_npu_desc *add_part(evo_npu_node_desc *nd, evo_npu_op op, const char *role, const evo_value *x,
                              const evo_value *y)
{
    evo_npu_desc *d = &nd->parts[nd->n_parts++];
    memset(d, 0, sizeof(*d));
    d->op = op;
    d->role = role;
    set_common(d, x, y);
    return d;
}

/* TF SAME padding of one spatial axis (begin = total / 2), as a converter would write it. */
static bool pads_same(int64_t in, int64_t out, int64_t k, int64_t s, int64_t dil, int64_t b, int64_t e)
{
    int64_t dk = (k - 1) * dil + 1, total = (out - 1) * s + dk - in;
    total = total > 0 ? total : 0;
    return b == total / 2 && e == total - total / 2;
}

/* Spatial and padding parameters shared by conv and pool. */
static void set_window(evo_npu_desc *d, const int64_t *k, const int64_t *s, const int64_t *dil)
{
    int64_t dh = (k[0] - 1) * dil[0] + 1, dw = (k[1] - 1) * dil[1] + 1;
    evo_npu_set(d, EVO_NPU_P_KERNEL_H, (double)k[0]);
    evo_npu_set(d, EVO_NPU_P_KERNEL_W, (double)k[1]);
    evo_npu_set(d, EVO_NPU_P_KERNEL_AREA, (double)(k[0] * k[1]));
    evo_npu_set(d, EVO_NPU_P_KERNEL_SQUARE, k[0] == k[1]);
    evo_npu_set(d, EVO_NPU_P_STRIDE_H, (double)s[0]);
    evo_npu_set(d, EVO_NPU_P_STRIDE_W, (double)s[1]);
    evo_npu_set(d, EVO_NPU_P_STRIDES_EQUAL, s[0] == s[1]);
    evo_npu_set(d, EVO_NPU_P_DIL_KERNEL_H, (double)dh);
    evo_npu_set(d, EVO_NPU_P_DIL_KERNEL_AREA, (double)(dh * dw));
    evo_npu_set(d, EVO_NPU_P_DILATION, (double)(dil[0] > dil[1] ? dil[0] : dil[1]));
    evo_npu_set(d, EVO_NPU_P_LARGE_KERNEL_STRIDE, (k[0] > 7 || k[1] > 7) ? (double)(s[0] > s[1] ? s[0] : s[1]) : 1);
}

/* Classifies pads as VALID (all 0), SAME, or explicit; returns the largest pad. */
static int64_t classify_pads(const evo_value *x, const evo_value *y, const int64_t *k, const int64_t *s,
                             const int64_t *dil, const int64_t *pb, const int64_t *pe, bool *same, bool *valid)
{
    int64_t mx = 0;
    *valid = *same = true;
    for (int a = 0; a < 2; a++) {
        mx = pb[a] > mx ? pb[a] : mx;
        mx = pe[a] > mx ? pe[a] : mx;
        *valid &= pb[a] == 0 && pe[a] == 0;
        *same &= pads_same(x->dims[2 + a], y->dims[2 + a], k[a], s[a], dil[a], pb[a], pe[a]);
    }
    return mx;
}

static int bits_of(double v)
{
    int bits = 1;
    for (double m = fabs(v); m >= 1; m /= 2)
        bits++;
    return bits;
}

/* Weight sum per output channel, bias bits, I*W/O and per-axis of a conv-like op. */
static void set_weights(evo_npu_desc *d, const evo_value *w, const evo_value *ws, const evo_value *wzp, double xs,
                        double ys, const evo_value *bias, int out_axis)
{
    int64_t n_out = w && w->rank > out_axis ? w->dims[out_axis] : 1, total = w ? evo_value_count(w) : 0;
    int64_t n_ws = ws ? evo_value_count(ws) : 1;
    double wsum_max = 0, rescale_max = 0;
    for (int64_t c = 0; c < n_out && w && w->data; c++) {
        double sum = 0, zp = wzp && evo_value_count(wzp) > 1 ? const_at(wzp, c) : const_at(wzp, 0);
        /* channel c: a contiguous block of W [M, ...] (axis 0), or column c of B [K, N] (axis 1) */
        int64_t per = total / n_out, first = out_axis == 0 ? c * per : c, step = out_axis == 0 ? 1 : n_out;
        for (int64_t k = 0; k < per; k++)
            sum += fabs(const_at(w, first + k * step) - zp);
        wsum_max = sum > wsum_max ? sum : wsum_max;
    }
    for (int64_t c = 0; c < n_ws; c++) {
        double r = ys > 0 ? xs * const_at(ws, c) / ys : 0;
        rescale_max = r > rescale_max ? r : rescale_max;
    }
    double bias_max = 0;
    for (int64_t i = 0; bias && bias->data && i < evo_value_count(bias); i++)
        bias_max = fabs(const_at(bias, i)) > bias_max ? fabs(const_at(bias, i)) : bias_max;
    evo_npu_set(d, EVO_NPU_P_WEIGHT_SUM, wsum_max);
    evo_npu_set(d, EVO_NPU_P_BIAS_BITS, bits_of(bias_max));
    evo_npu_set(d, EVO_NPU_P_RESCALE, rescale_max);
    evo_npu_set(d, EVO_NPU_P_PER_AXIS, n_ws > 1);
}

/* The activation after a conv-like op: fused (clamps) or parts of their own (tables). */
static void add_activation(evo_npu_node_desc *nd, evo_npu_desc *conv, const evo_conv_attrs *a, const evo_value *y)
{
    evo_npu_act act = EVO_NPU_ACT_NONE;
    bool ordered = true;
    if (a->act == EVO_ACT_RELU)
        act = EVO_NPU_ACT_RELU;
    else if (a->act == EVO_ACT_CLIP) {
        ordered = a->act_alpha < a->act_beta;
        act = a->act_alpha == 0 && a->act_beta == 6     ? EVO_NPU_ACT_RELU6
              : a->act_alpha == -1 && a->act_beta == 1  ? EVO_NPU_ACT_RELU_N1_TO_1
              : a->act_alpha == 0 && isinf(a->act_beta) ? EVO_NPU_ACT_RELU
                                                       : EVO_NPU_ACT_CLAMP;
    }
    evo_npu_set(conv, EVO_NPU_P_FUSED_ACT, act);
    evo_npu_set(conv, EVO_NPU_P_ACT_BOUNDS_ORDERED, ordered);
    evo_npu_desc *t;
    switch (a->act) {
    case EVO_ACT_SIGMOID:
        t = add_part(nd, EVO_NPU_OP_LOGISTIC, "fused Sigmoid", y, y);
        evo_npu_set(t, EVO_NPU_P_OUT_SCALE_256, 256.0 * (double)a->act_scale);
        evo_npu_set(t, EVO_NPU_P_OUT_ZP_IS_MIN, 1);
        break;
    case EVO_ACT_SILU:
        /* the converter's LOGISTIC output is always scale 1/256 with the minimum as zero point */
        t = add_part(nd, EVO_NPU_OP_LOGISTIC, "SiLU's sigmoid(x)", y, y);
        evo_npu_set(t, EVO_NPU_P_OUT_SCALE_256, 1);
        evo_npu_set(t, EVO_NPU_P_OUT_ZP_IS_MIN, 1);
        t = add_part(nd, EVO_NPU_OP_MUL, "SiLU's x * sigmoid(x), a Mul by a tensor", y, y);
        evo_npu_set(t, EVO_NPU_P_SHAPE_MATCH, 1);
        evo_npu_set(t, EVO_NPU_P_SHAPES_EQUAL, 1);
        evo_npu_set(t, EVO_NPU_P_IFM_TYPES_MATCH, 1);
        evo_npu_set(t, EVO_NPU_P_BCAST_DIM1, 1);
        evo_npu_set(t, EVO_NPU_P_IFM2_CONST_C, 0);
        break;
    case EVO_ACT_LEAKY_RELU:
        t = add_part(nd, EVO_NPU_OP_LEAKY_RELU, "fused LeakyRelu", y, y);
        evo_npu_set(t, EVO_NPU_P_ALPHA, a->act_alpha);
        evo_npu_set(t, EVO_NPU_P_SHAPE_MATCH, 1);
        break;
    case EVO_ACT_HARD_SWISH: add_part(nd, EVO_NPU_OP_HARD_SWISH, "fused HardSwish", y, y); break;
    case EVO_ACT_TANH: add_part(nd, EVO_NPU_OP_TANH, "fused Tanh", y, y); break;
    case EVO_ACT_HARD_SIGMOID:
        /* as the TFLite export writes it: RELU6(x + 6 beta) / 6, an ADD of a scalar with RELU6 fused, then a MUL
           by a scalar; only PyTorch's alpha 1/6 has that form */
        if (fabsf(a->act_alpha * 6.0f - 1.0f) > 1e-6f || a->act_beta == 0.0f) {
            nd->n_parts = 0;
            snprintf(nd->cpu_reason, sizeof(nd->cpu_reason),
                     "fused HardSigmoid with alpha %g: only alpha 1/6 has a TFLite form (ADD, RELU6, MUL)",
                     (double)a->act_alpha);
            break;
        }
        for (int k = 0; k < 2; k++) {
            t = add_part(nd, k ? EVO_NPU_OP_MUL : EVO_NPU_OP_ADD,
                         k ? "HardSigmoid's / 6, a Mul by a scalar" : "HardSigmoid's RELU6(x + 6 beta)", y, y);
            if (!k)
                evo_npu_set(t, EVO_NPU_P_FUSED_ACT, EVO_NPU_ACT_RELU6);
            evo_npu_set(t, EVO_NPU_P_SHAPE_MATCH, 1);
            evo_npu_set(t, EVO_NPU_P_SHAPES_EQUAL, 0);
            evo_npu_set(t, EVO_NPU_P_IFM_TYPES_MATCH, 1);
            evo_npu_set(t, EVO_NPU_P_BCAST_DIM1, 1);
            evo_npu_set(t, EVO_NPU_P_IFM2_CONST_C, 1);
        }
        break;
    default: break;
    }
}

static void describe_qconv(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_conv_attrs *a = &n->a.conv;
    const evo_value *x = in_val(g, n, 0), *w = in_val(g, n, 3), *y = out_val(g, n);
    if (a->n_spatial != 2 || !x || !w || !y || x->rank != 4 || a->has_residual) {
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason), "not a 2-D convolution a TFLite converter maps");
        return;
    }
    int64_t c_in = x->dims[1], c_out = y->dims[1];
    bool dw = a->group > 1 && a->group == c_in;
    if (a->group > 1 && !dw) {
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason),
                 "grouped convolution (group %lld of %lld channels): no TFLite operator", (long long)a->group,
                 (long long)c_in);
        return;
    }
    bool same, valid;
    int64_t pad_max = classify_pads(x, y, a->kernel, a->stride, a->dilation, a->pad_begin, a->pad_end, &same, &valid);
    if (!same && !valid) {
        evo_npu_desc *p = add_part(nd, EVO_NPU_OP_PAD, "explicit padding", x, x);
        evo_npu_set(p, EVO_NPU_P_PAD_HW_ONLY, 1);
        evo_npu_set(p, EVO_NPU_P_PAD_ZERO, 1);
        evo_npu_set(p, EVO_NPU_P_PAD_MAX, (double)pad_max);
        evo_npu_set(p, EVO_NPU_P_QUANT_MATCH, 1);
    }
    evo_npu_desc *d = add_part(nd, dw ? EVO_NPU_OP_DEPTHWISE_CONV_2D : EVO_NPU_OP_CONV_2D, NULL, x, y);
    set_window(d, a->kernel, a->stride, a->dilation);
    evo_npu_set(d, EVO_NPU_P_PAD_SAME, same);
    evo_npu_set(d, EVO_NPU_P_STRIDE_GT3_OK,
                (a->stride[0] <= 3 && a->stride[1] <= 3) || (a->dilation[0] == 1 && a->dilation[1] == 1 && (valid || !same)));
    if (dw) {
        int64_t mult = c_out / c_in;
        evo_npu_set(d, EVO_NPU_P_DEPTH_MULT, (double)mult);
        evo_npu_set(d, EVO_NPU_P_DEPTH_MULT_OK, mult == 1 || c_in == 1);
    }
    set_weights(d, w, in_val(g, n, 4), in_val(g, n, 5), const_at(in_val(g, n, 1), 0), const_at(in_val(g, n, 6), 0),
                in_val(g, n, 8), 0);
    add_activation(nd, d, a, y);
}

static void describe_qmatmul(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_value *x = in_val(g, n, 0), *w = in_val(g, n, 3), *y = out_val(g, n);
    if (!x || !w || !y || !w->data || w->rank != 2) {
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason), "MatMul with a non-constant or non-2-D B: no FULLY_CONNECTED");
        return;
    }
    evo_npu_desc *d = add_part(nd, EVO_NPU_OP_FULLY_CONNECTED, NULL, x, y);
    evo_npu_set(d, EVO_NPU_P_OFM_RANK, y->rank);
    set_weights(d, w, in_val(g, n, 4), in_val(g, n, 5), const_at(in_val(g, n, 1), 0), const_at(in_val(g, n, 6), 0),
                NULL, 1);
}

/* QLinearAdd / QLinearMul: A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp. */
static void describe_qbinary(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_value *a = in_val(g, n, 0), *b = in_val(g, n, 3), *y = out_val(g, n);
    if (!a || !b || !y)
        return;
    evo_npu_desc *d = add_part(nd, n->op == EVO_OP_QLINEAR_ADD ? EVO_NPU_OP_ADD : EVO_NPU_OP_MUL, NULL, a, y);
    bool bcast_ok = true;
    int rank = y->rank;
    for (int i = 0; i < rank; i++) {
        int64_t da = i - (rank - a->rank) >= 0 ? a->dims[i - (rank - a->rank)] : 1;
        int64_t db = i - (rank - b->rank) >= 0 ? b->dims[i - (rank - b->rank)] : 1;
        bcast_ok &= da == db || da == 1 || db == 1;
    }
    /* a constant 1x1x1xC in NHWC is evo's [1, C, 1, 1] (or [C, 1, 1]) */
    int64_t b_count = evo_value_count(b);
    bool per_channel = b->data && y->rank == 4 && (b_count == 1 || (b->rank >= 3 && b->dims[b->rank - 3] == b_count &&
                                                                    b_count == y->dims[1]));
    evo_npu_set(d, EVO_NPU_P_SHAPE_MATCH, same_dims(a, y) || same_dims(b, y));
    evo_npu_set(d, EVO_NPU_P_SHAPES_EQUAL, same_dims(a, b));
    evo_npu_set(d, EVO_NPU_P_IFM_TYPES_MATCH, a->dtype == b->dtype);
    evo_npu_set(d, EVO_NPU_P_BCAST_DIM1, bcast_ok);
    evo_npu_set(d, EVO_NPU_P_IFM2_CONST_C, per_channel);
    /* evo quantize's fused ReLU/Clip, exported as the ADD/MUL's fused activation */
    const evo_qbinary_attrs *qa = &n->a.qbinary;
    evo_conv_attrs act = {.act = qa->act, .act_alpha = qa->act_alpha, .act_beta = qa->act_beta};
    add_activation(nd, d, &act, y);
}

/* The channel-axis rule of Concat/Split: every part a multiple of 16 when the axis is channels. */
static bool ch_mult16(int axis, const int64_t *sizes, int n)
{
    if (axis != 1)
        return true;
    for (int i = 0; i < n; i++) {
        if (sizes[i] % 16)
            return false;
    }
    return true;
}

static void describe_concat(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    bool q = n->op == EVO_OP_QLINEAR_CONCAT;
    const evo_value *y = out_val(g, n), *x0 = in_val(g, n, q ? 2 : 0);
    int64_t sizes[64];
    int n_parts = 0, axis = (int)n->a.axis.axis;
    double ratio_min = 1e300, y_scale = q ? const_at(in_val(g, n, 0), 0) : 1;
    for (int i = q ? 2 : 0; i < n->n_in && n_parts < 64; i += q ? 3 : 1) {
        const evo_value *x = in_val(g, n, i);
        if (!x)
            continue;
        sizes[n_parts++] = x->rank > axis ? x->dims[axis] : 0;
        double xs = q ? const_at(in_val(g, n, i + 1), 0) : 1;
        if (xs > 0 && y_scale / xs < ratio_min)
            ratio_min = y_scale / xs;
    }
    evo_npu_desc *d = add_part(nd, EVO_NPU_OP_CONCATENATION, NULL, x0, y);
    evo_npu_set(d, EVO_NPU_P_CH_MULT16, ch_mult16(axis, sizes, n_parts));
    evo_npu_set(d, EVO_NPU_P_OUT_IN_SCALE, ratio_min);
}

static void describe_split(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_split_attrs *a = &n->a.split;
    const evo_value *x = in_val(g, n, 0);
    bool equal = true;
    for (int i = 1; i < a->n_splits; i++)
        equal &= a->sizes[i] == a->sizes[0];
    evo_npu_desc *d = add_part(nd, equal ? EVO_NPU_OP_SPLIT : EVO_NPU_OP_SPLIT_V, NULL, x, out_val(g, n));
    evo_npu_set(d, EVO_NPU_P_CH_MULT16, ch_mult16((int)a->axis, a->sizes, a->n_splits));
    if (equal && x && a->n_splits > 0)
        evo_npu_set(d, EVO_NPU_P_AXIS_DIV_SPLITS, x->dims[a->axis] % a->n_splits == 0);
}

static void describe_maxpool(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_pool_attrs *a = &n->a.pool;
    const evo_value *x = in_val(g, n, 0), *y = out_val(g, n);
    if (a->n_spatial != 2 || !x || !y || x->rank != 4) {
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason), "not a 2-D pool");
        return;
    }
    bool same, valid;
    int64_t one[2] = {1, 1};
    classify_pads(x, y, a->kernel, a->stride, one, a->pad_begin, a->pad_end, &same, &valid);
    evo_npu_desc *d = add_part(nd, EVO_NPU_OP_MAX_POOL_2D, NULL, x, y);
    set_window(d, a->kernel, a->stride, one);
    int64_t h = x->dims[2], w = x->dims[3];
    bool even = h % 2 == 0 && w % 2 == 0, odd = h % 2 == 1 && w % 2 == 1;
    /* MaxPool pads with -inf: on bytes any padding a converter writes as SAME */
    evo_npu_set(d, EVO_NPU_P_PAD_SAME, same || !valid);
    evo_npu_set(d, EVO_NPU_P_STRIDE_GT3_OK, (a->stride[0] <= 3 && a->stride[1] <= 3) || valid);
    evo_npu_set(d, EVO_NPU_P_POOL_PARITY, (a->kernel[0] == 1 && a->kernel[1] == 1) || (valid && even) || (!valid && odd));
    evo_npu_set(d, EVO_NPU_P_IFM_W_K3, a->kernel[0] == 3 && a->kernel[1] == 3 ? (double)w : 0);
    evo_npu_set(d, EVO_NPU_P_POOL_FITS, h >= a->kernel[0] && w >= a->kernel[1]);
}

static void describe_gap(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_value *x = in_val(g, n, 0), *y = out_val(g, n);
    if (!x || !y || x->rank != 4 || n->a.pool.channels_last) {
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason), "not an NCHW 2-D global pool");
        return;
    }
    evo_npu_desc *d = add_part(nd, EVO_NPU_OP_MEAN, NULL, x, y);
    int64_t h = x->dims[2], w = x->dims[3];
    bool requant = const_at(in_val(g, n, 1), 0) != const_at(in_val(g, n, 3), 0) ||
                   const_at(in_val(g, n, 2), 0) != const_at(in_val(g, n, 4), 0);
    evo_npu_set(d, EVO_NPU_P_HW_AXES, 1);
    evo_npu_set(d, EVO_NPU_P_HW_AREA, (double)(h * w));
    evo_npu_set(d, EVO_NPU_P_HW_AREA_REQUANT, requant ? (double)(h * w) : 0);
    evo_npu_set(d, EVO_NPU_P_IFM_HW, h == w ? (double)h : 0);
    evo_npu_set(d, EVO_NPU_P_REDUCED_AXIS, (double)(h > w ? h : w));
}

static void describe_resize(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_value *x = in_val(g, n, 0), *y = out_val(g, n);
    if (n->a.resize.mode != EVO_RESIZE_NEAREST || !x || !y || x->rank != 4) {
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason), "only nearest 2-D resize is described");
        return;
    }
    evo_npu_desc *d = add_part(nd, EVO_NPU_OP_RESIZE_NEAREST_NEIGHBOR, NULL, x, y);
    int64_t ih = x->dims[2], iw = x->dims[3], oh = y->dims[2], ow = y->dims[3];
    double factor = 0;
    if ((ih == 1 && iw == 1) || (ih == oh && iw == ow))
        factor = 1;
    else if (oh % ih == 0 && ow % iw == 0 && oh / ih == ow / iw)
        factor = (double)(oh / ih);
    evo_npu_set(d, EVO_NPU_P_RESIZE_FACTOR, factor);
    evo_npu_set(d, EVO_NPU_P_RESIZE_2N, (oh == 2 * ih || oh == 2 * ih - 1) && (ow == 2 * iw || ow == 2 * iw - 1));
}

/*
 * What Vela 5.2.0 bounds by 2^16 in an int8 TRANSPOSE: with every axis but
 * the last three of 1 (3-D included), the largest of those three, else the
 * largest product of rank - 2 axes (all but the two smallest); 1 below
 * rank 3. The axes are a set, so NCHW and NHWC give one value.
 */
static double transpose_extent(const evo_value *x)
{
    if (x->rank < 3)
        return 1;
    bool outer_ones = true;
    double prod = 1, lo1 = INFINITY, lo2 = INFINITY, top3 = 0;
    for (int i = 0; i < x->rank; i++) {
        double d = (double)x->dims[i];
        prod *= d;
        if (i < x->rank - 3)
            outer_ones &= d == 1;
        else
            top3 = d > top3 ? d : top3;
        if (d < lo1) {
            lo2 = lo1;
            lo1 = d;
        } else if (d < lo2) {
            lo2 = d;
        }
    }
    if (outer_ones)
        return top3;
    return lo1 > 0 && lo2 > 0 ? prod / (lo1 * lo2) : 0;
}

static void describe_layout(const evo_graph *g, const evo_node *n, evo_npu_node_desc *nd)
{
    const evo_value *x = in_val(g, n, 0), *y = out_val(g, n);
    evo_npu_desc *d;
    switch (n->op) {
    case EVO_OP_RESHAPE:
    case EVO_OP_FLATTEN:
    case EVO_OP_SQUEEZE:
    case EVO_OP_UNSQUEEZE:
    case EVO_OP_IDENTITY:
    case EVO_OP_DROPOUT:
        d = add_part(nd, EVO_NPU_OP_RESHAPE, NULL, x, y);
        evo_npu_set(d, EVO_NPU_P_QUANT_MATCH, 1);
        break;
    case EVO_OP_TRANSPOSE:
        d = add_part(nd, EVO_NPU_OP_TRANSPOSE, NULL, x, y);
        evo_npu_set(d, EVO_NPU_P_TRANSPOSE_PROD, x ? transpose_extent(x) : 1);
        break;
    case EVO_OP_SLICE: {
        d = add_part(nd, EVO_NPU_OP_STRIDED_SLICE, NULL, x, y);
        bool ones = true, hw = true;
        for (int i = 0; x && i < x->rank; i++) {
            int64_t step = n->a.slice.step[i];
            ones &= step == 1;
            hw &= step == 1 || (step > 1 && x->rank == 4 && i >= 2); /* NCHW's h and w */
        }
        evo_npu_set(d, EVO_NPU_P_SLICE_STEP_ONE, ones);
        evo_npu_set(d, EVO_NPU_P_SLICE_STEP_HW, hw);
        break;
    }
    case EVO_OP_PAD: {
        d = add_part(nd, EVO_NPU_OP_PAD, NULL, x, y);
        const evo_pad_attrs *a = &n->a.pad;
        bool hw = true;
        int64_t mx = 0;
        for (int i = 0; x && i < x->rank; i++) {
            if (i < 2)
                hw &= a->pad_begin[i] == 0 && a->pad_end[i] == 0;
            mx = a->pad_begin[i] > mx ? a->pad_begin[i] : mx;
            mx = a->pad_end[i] > mx ? a->pad_end[i] : mx;
        }
        evo_npu_set(d, EVO_NPU_P_PAD_HW_ONLY, hw && a->mode == EVO_PAD_CONSTANT);
        evo_npu_set(d, EVO_NPU_P_PAD_MAX, (double)mx);
        evo_npu_set(d, EVO_NPU_P_PAD_ZERO, a->mode == EVO_PAD_CONSTANT);
        evo_npu_set(d, EVO_NPU_P_QUANT_MATCH, 1);
        break;
    }
    case EVO_OP_DEPTH_TO_SPACE:
    case EVO_OP_SPACE_TO_DEPTH:
        d = add_part(nd, n->op == EVO_OP_DEPTH_TO_SPACE ? EVO_NPU_OP_DEPTH_TO_SPACE : EVO_NPU_OP_SPACE_TO_DEPTH, NULL,
                     x, y);
        if (x && y && x->rank == 4 && y->rank == 4 && x->dims[2] > 0)
            evo_npu_set(d, EVO_NPU_P_BLOCK,
                        (double)(n->op == EVO_OP_DEPTH_TO_SPACE ? y->dims[2] / x->dims[2] : x->dims[2] / y->dims[2]));
        break;
    default:
        snprintf(nd->cpu_reason, sizeof(nd->cpu_reason), "%s on int8 data: no TFLite operator described", n->op_type);
        break;
    }
}

/* Does n read or write a float tensor? x: its data input (a QLinearConcat's first is Y's scale). */
static bool touches_float(const evo_graph *g, const evo_node *n, const evo_value *x)
{
    const evo_value *y = out_val(g, n);
    return (x && (x->dtype == EVO_DTYPE_FLOAT || x->dtype == EVO_DTYPE_FLOAT16)) ||
           (y && (y->dtype == EVO_DTYPE_FLOAT || y->dtype == EVO_DTYPE_FLOAT16));
}

void evo_npu_describe(const evo_graph *g, const evo_node *n, evo_npu_node_desc *out)
{
    memset(out, 0, sizeof(*out));
    const evo_value *x = in_val(g, n, n->op == EVO_OP_QLINEAR_CONCAT ? 2 : 0);
    if (touches_float(g, n, x)) {
        snprintf(out->cpu_reason, sizeof(out->cpu_reason), "float op");
        return;
    }
    switch (n->op) {
    case EVO_OP_QLINEAR_CONV: describe_qconv(g, n, out); break;
    case EVO_OP_QLINEAR_MATMUL: describe_qmatmul(g, n, out); break;
    case EVO_OP_QLINEAR_ADD:
    case EVO_OP_QLINEAR_MUL: describe_qbinary(g, n, out); break;
    case EVO_OP_QLINEAR_SIGMOID: {
        evo_npu_desc *d = add_part(out, EVO_NPU_OP_LOGISTIC, NULL, x, out_val(g, n));
        const evo_value *y = out_val(g, n);
        int32_t qmin = y && y->dtype == EVO_DTYPE_INT8 ? -128 : 0;
        evo_npu_set(d, EVO_NPU_P_OUT_SCALE_256, 256.0 * const_at(in_val(g, n, 3), 0));
        evo_npu_set(d, EVO_NPU_P_OUT_ZP_IS_MIN, const_at(in_val(g, n, 4), 0) == qmin);
        break;
    }
    case EVO_OP_QLINEAR_LEAKY_RELU: {
        evo_npu_desc *d = add_part(out, EVO_NPU_OP_LEAKY_RELU, NULL, x, out_val(g, n));
        evo_npu_set(d, EVO_NPU_P_ALPHA, n->a.unary.alpha);
        evo_npu_set(d, EVO_NPU_P_SHAPE_MATCH, 1);
        break;
    }
    case EVO_OP_QLINEAR_CONCAT:
    case EVO_OP_CONCAT: describe_concat(g, n, out); break;
    case EVO_OP_SPLIT: describe_split(g, n, out); break;
    case EVO_OP_MAX_POOL: describe_maxpool(g, n, out); break;
    case EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL: describe_gap(g, n, out); break;
    case EVO_OP_RESIZE:
    case EVO_OP_UPSAMPLE: describe_resize(g, n, out); break;
    default:
        if (x && is_byte(x->dtype))
            describe_layout(g, n, out);
        else
            snprintf(out->cpu_reason, sizeof(out->cpu_reason), "%s on %s data: no NPU operator", n->op_type,
                     x ? evo_dtype_name(x->dtype) : "no");
        break;
    }
    if (!out->n_parts && !out->cpu_reason[0])
        snprintf(out->cpu_reason, sizeof(out->cpu_reason), "%s: inputs missing", n->op_type);
}
