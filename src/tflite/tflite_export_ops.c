/*
 * tflite_export_ops.c - what each evo op becomes in TFLite, apart from the
 * compute ops of tflite_export_nn.c: quantize/dequantize borders,
 * element-wise ops (int8 com.microsoft QLinearAdd/QLinearMul and float
 * Add/Sub/Mul), activations, and the layout ops, whose axes are rewritten
 * for NHWC (Concat, Slice, Split, Pad, Transpose, Resize; SpaceToDepth and
 * DepthToSpace keep ONNX's channel order) or which go
 * through the NCHW order when they mix axes (Reshape and friends).
 * An int8 layout op's output keeps its input's quantization.
 */
#include "tflite/tflite_export.h"

#include "kernels/resize.h"

#include <math.h>
#include <string.h>

/* Axis a of a value of rank `rank` in its natural TFLite layout. */
static int nat_axis(int rank, int64_t a)
{
    return rank == 4 ? tx_nhwc_axis[a] : (int)a;
}

static evo_status export_quantize(tx *c, const evo_node *n, bool quantize)
{
    tx_q q;
    evo_status s = tx_scalar_q(c, 1, 2, &q);
    if (s != EVO_OK)
        return s;
    evo_value *x = evo_node_input(c->g, n, 0);
    if (x->data)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a constant input (weights left in QDQ form)");
    if (!quantize && (s = tx_check_q(c, n->in[0], q)) != EVO_OK)
        return s;
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], q);
    if (in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    if (quantize)
        return tx_op(c, TFL_OP_QUANTIZE, &in, 1, &out, 1, &(tfl_options){.type = TFL_OPT_QUANTIZE});
    return tx_op(c, TFL_OP_DEQUANTIZE, &in, 1, &out, 1, &(tfl_options){.type = TFL_OPT_DEQUANTIZE});
}

/* An operand of an element-wise op with output rank out_rank: a lower-rank constant is broadcast to rank 4. */
static int operand(tx *c, int v, int out_rank, tx_q q)
{
    evo_value *val = &c->g->values[v];
    int t;
    if (val->rank == out_rank || out_rank != 4) {
        t = tx_in(c, v);
    } else if (val->data) {
        evo_value wide = *val;
        wide.rank = 4;
        for (int i = 0; i < 4; i++)
            wide.dims[i] = i < 4 - val->rank ? 1 : val->dims[i - (4 - val->rank)];
        int64_t dims[4];
        tx_natural_dims(&wide, dims);
        /* the data order is unchanged when only C or only W is larger than 1 */
        if (wide.dims[2] * wide.dims[3] > 1 && wide.dims[1] > 1)
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "constant \"%s\" broadcasts over channels and space",
                           val->name), -2;
        t = tx_const(c, val->name, tx_type(val->dtype), 4, dims, val->data, val->size_bytes);
    } else {
        tx_fail(c, EVO_ERR_UNSUPPORTED, "input \"%s\" of rank %d broadcasts against rank 4", val->name, val->rank);
        return -2;
    }
    if (t >= 0 && q.on && c->m->tensors[t].q.n == 0 && c->m->tensors[t].type == TFL_INT8) {
        if (tx_set_channel_q(c, t, &q.scale, 1, 0) != EVO_OK)
            return -2;
        c->m->tensors[t].q.zero_point[0] = q.zp;
    }
    return t;
}

static evo_status export_binary(tx *c, const evo_node *n)
{
    bool q8 = n->op == EVO_OP_QLINEAR_ADD || n->op == EVO_OP_QLINEAR_MUL;
    int code = n->op == EVO_OP_ADD || n->op == EVO_OP_QLINEAR_ADD ? TFL_OP_ADD
               : n->op == EVO_OP_SUB                              ? TFL_OP_SUB
               : n->op == EVO_OP_DIV                              ? TFL_OP_DIV
                                                                  : TFL_OP_MUL;
    int opt = code == TFL_OP_ADD ? TFL_OPT_ADD : code == TFL_OP_SUB ? TFL_OPT_SUB
              : code == TFL_OP_DIV ? TFL_OPT_DIV : TFL_OPT_MUL;
    int ia = 0, ib = q8 ? 3 : 1;
    tx_q aq = {0}, bq = {0}, yq = {0};
    evo_status s;
    if (q8 && ((s = tx_scalar_q(c, 1, 2, &aq)) || (s = tx_scalar_q(c, 4, 5, &bq)) || (s = tx_scalar_q(c, 6, 7, &yq))))
        return s;
    evo_value *y = evo_node_output(c->g, n, 0);
    if (!q8 && y->dtype != EVO_DTYPE_FLOAT)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a %s element-wise op; int8 ones come as QLinearAdd/QLinearMul",
                       evo_dtype_name(y->dtype));
    int a = operand(c, n->in[ia], y->rank, aq), b = operand(c, n->in[ib], y->rank, bq);
    if (a < 0 || b < 0)
        return EVO_ERR_UNSUPPORTED;
    if (q8 && ((!c->g->values[n->in[ia]].data && (s = tx_check_q(c, n->in[ia], aq))) ||
               (!c->g->values[n->in[ib]].data && (s = tx_check_q(c, n->in[ib], bq)))))
        return s;
    tfl_options o = {.type = opt};
    const evo_qbinary_attrs *qa = &n->a.qbinary;
    if (q8 && (s = tx_clamp_act(c, qa->act, qa->act_alpha, qa->act_beta, yq, &o.i[0])))
        return s;
    int out = tx_out(c, n->out[0], yq);
    if (out < 0)
        return EVO_ERR_UNSUPPORTED;
    return tx_op(c, code, (int[]){a, b}, 2, &out, 1, &o);
}

static evo_status export_unary(tx *c, const evo_node *n)
{
    tx_q xq = {0}, yq = {0};
    evo_status s;
    int act;
    float alpha = n->a.unary.alpha, beta = n->a.unary.beta;
    switch (n->op) {
    case EVO_OP_RELU: act = EVO_ACT_RELU; break;
    case EVO_OP_CLIP: act = EVO_ACT_CLIP, alpha = n->a.unary.min, beta = n->a.unary.max; break;
    case EVO_OP_SIGMOID:
    case EVO_OP_QLINEAR_SIGMOID: act = EVO_ACT_SIGMOID; break;
    case EVO_OP_TANH: act = EVO_ACT_TANH; break;
    case EVO_OP_HARD_SWISH: act = EVO_ACT_HARD_SWISH; break;
    case EVO_OP_HARD_SIGMOID: act = EVO_ACT_HARD_SIGMOID; break;
    default: act = EVO_ACT_LEAKY_RELU; break;
    }
    if (n->op == EVO_OP_QLINEAR_SIGMOID || n->op == EVO_OP_QLINEAR_LEAKY_RELU) {
        if ((s = tx_scalar_q(c, 1, 2, &xq)) || (s = tx_scalar_q(c, 3, 4, &yq)) || (s = tx_check_q(c, n->in[0], xq)))
            return s;
    } else if (c->g->values[n->in[0]].dtype != EVO_DTYPE_FLOAT) {
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "an activation on %s data outside a QLinear op",
                       evo_dtype_name(c->g->values[n->in[0]].dtype));
    }
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], yq);
    if (in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    return tx_export_act(c, in, xq, act, alpha, beta, out, yq);
}

static evo_status export_concat(tx *c, const evo_node *n)
{
    bool q = n->op == EVO_OP_QLINEAR_CONCAT;
    evo_value *y = evo_node_output(c->g, n, 0);
    tx_q yq = {0};
    evo_status s;
    int first = q ? 2 : 0, stride = q ? 3 : 1;
    if (q && (s = tx_scalar_q(c, 0, 1, &yq)) != EVO_OK)
        return s;
    if (!q && tx_is_q8(y->dtype))
        yq = tx_value_q(c, n->in[0]);
    int n_in = (n->n_in - first) / stride;
    int *ins = evo_mem_alloc(&c->m->mem, sizeof(int) * (size_t)(n_in + 1));
    int out = tx_out(c, n->out[0], yq);
    if (!ins || out < 0)
        return out < 0 ? EVO_ERR_UNSUPPORTED : tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_in; i++) {
        int v = n->in[first + i * stride];
        tx_q xq = tx_value_q(c, v);
        if (q && (s = tx_scalar_q(c, first + i * stride + 1, first + i * stride + 2, &xq)) != EVO_OK)
            return s;
        if (q && !c->g->values[v].data && (s = tx_check_q(c, v, xq)) != EVO_OK)
            return s;
        ins[i] = operand(c, v, y->rank, xq);
        if (ins[i] < 0)
            return EVO_ERR_UNSUPPORTED;
        /* TFLite's int8 concatenation copies bytes: inputs of other scales are requantized first */
        if (yq.on && (xq.scale != yq.scale || xq.zp != yq.zp)) {
            char name[200];
            snprintf(name, sizeof(name), "%s:requant", c->m->tensors[ins[i]].name);
            const tfl_tensor *t = &c->m->tensors[ins[i]];
            int64_t dims[EVO_MAX_RANK];
            for (int d = 0; d < t->rank; d++)
                dims[d] = t->shape[d];
            int r = tx_tensor(c, name, TFL_INT8, t->rank, dims, yq);
            if ((s = tx_op(c, TFL_OP_QUANTIZE, &ins[i], 1, &r, 1, &(tfl_options){.type = TFL_OPT_QUANTIZE})))
                return s;
            ins[i] = r;
        }
    }
    tfl_options o = {.type = TFL_OPT_CONCATENATION};
    o.i[0] = nat_axis(y->rank, n->a.axis.axis);
    return tx_op(c, TFL_OP_CONCATENATION, ins, n_in, &out, 1, &o);
}

/* Reshape, Flatten, Squeeze, Unsqueeze: through the NCHW order whenever a side is rank 4. */
static evo_status export_reshape(tx *c, const evo_node *n)
{
    tx_q q = tx_value_q(c, n->in[0]);
    int in = tx_plain(c, n->in[0]);
    int out = tx_out_plain(c, n->out[0], q);
    if (in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    evo_status s = tx_transpose(c, in, out, NULL, 0);
    return s ? s : tx_bind_plain(c, n->out[0], out);
}

static evo_status export_transpose(tx *c, const evo_node *n)
{
    evo_value *x = evo_node_input(c->g, n, 0);
    const int *p = n->a.transpose.perm;
    int perm[EVO_MAX_RANK];
    static const int nchw_of_nhwc[4] = {0, 2, 3, 1};
    for (int k = 0; k < x->rank; k++)
        perm[k] = x->rank == 4 ? tx_nhwc_axis[p[nchw_of_nhwc[k]]] : p[k];
    tx_q q = tx_value_q(c, n->in[0]);
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], q);
    if (in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    return tx_transpose(c, in, out, perm, x->rank);
}

/* One STRIDED_SLICE of value v into out: start/step/len per evo axis. */
static evo_status strided_slice(tx *c, int v, int out, const int64_t *start, const int64_t *step,
                                const int64_t *len)
{
    const evo_value *x = &c->g->values[v];
    int32_t b[EVO_MAX_RANK], e[EVO_MAX_RANK], st[EVO_MAX_RANK];
    int32_t end_mask = 0;
    for (int a = 0; a < x->rank; a++) {
        int k = nat_axis(x->rank, a);
        int64_t last = start[a] + step[a] * (len[a] - 1);
        int64_t end = step[a] > 0 ? last + 1 : last - 1;
        b[k] = (int32_t)start[a];
        st[k] = (int32_t)step[a];
        e[k] = (int32_t)(end < 0 ? 0 : end);
        if (end < 0)
            end_mask |= 1 << k;
    }
    char name[200];
    snprintf(name, sizeof(name), "%s:begin", c->m->tensors[out].name);
    int tb = tx_const_i32(c, name, b, x->rank);
    snprintf(name, sizeof(name), "%s:end", c->m->tensors[out].name);
    int te = tx_const_i32(c, name, e, x->rank);
    snprintf(name, sizeof(name), "%s:strides", c->m->tensors[out].name);
    int ts = tx_const_i32(c, name, st, x->rank);
    int in = tx_in(c, v);
    tfl_options o = {.type = TFL_OPT_STRIDED_SLICE};
    o.i[1] = end_mask;
    return tx_op(c, TFL_OP_STRIDED_SLICE, (int[]){in, tb, te, ts}, 4, &out, 1, &o);
}

static evo_status export_slice(tx *c, const evo_node *n)
{
    const evo_value *y = evo_node_output(c->g, n, 0);
    int out = tx_out(c, n->out[0], tx_value_q(c, n->in[0]));
    if (out < 0)
        return EVO_ERR_UNSUPPORTED;
    return strided_slice(c, n->in[0], out, n->a.slice.start, n->a.slice.step, y->dims);
}

static evo_status export_split(tx *c, const evo_node *n)
{
    const evo_value *x = evo_node_input(c->g, n, 0);
    int64_t start[EVO_MAX_RANK] = {0}, step[EVO_MAX_RANK], len[EVO_MAX_RANK];
    for (int a = 0; a < x->rank; a++)
        step[a] = 1, len[a] = x->dims[a];
    int64_t ax = n->a.split.axis;
    for (int i = 0; i < n->n_out; i++) {
        len[ax] = n->a.split.sizes[i];
        if (n->out[i] >= 0) {
            int out = tx_out(c, n->out[i], tx_value_q(c, n->in[0]));
            evo_status s = out < 0 ? EVO_ERR_UNSUPPORTED : strided_slice(c, n->in[0], out, start, step, len);
            if (s != EVO_OK)
                return s;
        }
        start[ax] += len[ax];
    }
    return EVO_OK;
}

static evo_status export_pad(tx *c, const evo_node *n)
{
    const evo_pad_attrs *a = &n->a.pad;
    const evo_value *x = evo_node_input(c->g, n, 0);
    if (a->mode != EVO_PAD_CONSTANT)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a Pad mode other than constant");
    int32_t p[2 * EVO_MAX_RANK];
    for (int d = 0; d < x->rank; d++) {
        if (a->pad_begin[d] < 0 || a->pad_end[d] < 0)
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "negative pads (crops) on axis %d", d);
        int k = nat_axis(x->rank, d);
        p[2 * k] = (int32_t)a->pad_begin[d];
        p[2 * k + 1] = (int32_t)a->pad_end[d];
    }
    tx_q q = tx_value_q(c, n->in[0]);
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], q);
    char name[200];
    snprintf(name, sizeof(name), "%s:pads", n->name);
    int pt = tx_const_i32(c, name, p, 2 * x->rank);
    if (in < 0 || out < 0 || pt < 0)
        return EVO_ERR_UNSUPPORTED;
    c->m->tensors[pt].rank = 2;
    c->m->tensors[pt].shape[0] = x->rank;
    c->m->tensors[pt].shape[1] = 2;
    /* PAD fills with real 0: the zero point of an int8 tensor */
    bool q8 = tx_is_q8(x->dtype);
    double value = a->value + tx_byte_shift(x->dtype);
    bool zero = q8 ? value == q.zp : value == 0.0;
    if (zero)
        return tx_op(c, TFL_OP_PAD, (int[]){in, pt, -1}, 2, &out, 1, &(tfl_options){.type = TFL_OPT_PAD});
    int8_t v8 = (int8_t)value;
    float vf = (float)value;
    snprintf(name, sizeof(name), "%s:value", n->name);
    int vt = q8 ? tx_const(c, name, TFL_INT8, 1, (int64_t[]){1}, &v8, 1)
                                        : tx_const(c, name, TFL_FLOAT32, 1, (int64_t[]){1}, &vf, 4);
    if (vt >= 0 && q.on) {
        if (tx_set_channel_q(c, vt, &q.scale, 1, 0) != EVO_OK)
            return EVO_ERR_NOMEM;
        c->m->tensors[vt].q.zero_point[0] = q.zp;
    }
    return tx_op(c, TFL_OP_PADV2, (int[]){in, pt, vt}, 3, &out, 1, &(tfl_options){.type = TFL_OPT_PADV2});
}

/*
 * Whether TFLite's RESIZE_BILINEAR with these flags reads, for every
 * output index of axis d, the input indices evo's linear taps read with
 * the same weights (summed per index: at the edges TFLite clamps the
 * indices but not the fraction). TFLite computes in float: scale in / out
 * ((in - 1) / (out - 1) with align_corners), source (i + 0.5) * scale -
 * 0.5 with half_pixel_centers, else i * scale; floor and ceil clamped to
 * the input.
 */
static bool bilinear_matches(const evo_resize_attrs *a, int d, int64_t in, int64_t out, bool align, bool half)
{
    float scale = align && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
    for (int64_t i = 0; i < out; i++) {
        float src = half ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
        int64_t lo = EVO_MAX((int64_t)floorf(src), (int64_t)0), hi = EVO_MIN((int64_t)ceilf(src), in - 1);
        double f = (double)src - (double)lo;
        evo_resize_taps t;
        evo_resize_axis_taps(a, d, i, in, out, &t);
        int64_t idx[6] = {lo, hi};
        double w[6] = {1.0 - f, f};
        for (int k = 0; k < t.n; k++)
            idx[2 + k] = t.idx[k], w[2 + k] = -t.w[k];
        /* every index's TFLite weight less evo's comes to 0 */
        for (int k = 0; k < 2 + t.n; k++) {
            double sum = 0;
            for (int j = 0; j < 2 + t.n; j++)
                sum += idx[j] == idx[k] ? w[j] : 0.0;
            if (fabs(sum) > 1e-5)
                return false;
        }
    }
    return true;
}

static evo_status export_resize(tx *c, const evo_node *n)
{
    const evo_resize_attrs *a = &n->a.resize;
    const evo_value *x = evo_node_input(c->g, n, 0), *y = evo_node_output(c->g, n, 0);
    bool linear = a->mode == EVO_RESIZE_LINEAR;
    if ((a->mode != EVO_RESIZE_NEAREST && !linear) || x->rank != 4 || x->dims[0] != y->dims[0] ||
        x->dims[1] != y->dims[1])
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "only nearest and linear resizing of H and W have a TFLite form");
    tfl_options o = {.type = TFL_OPT_RESIZE_NEAREST_NEIGHBOR};
    if (linear) { /* float: evo's graph takes linear resizing of float32 only */
        /* the flags under which TFLite reads what evo reads: half-pixel centers, corners aligned, or neither */
        static const bool flags[3][2] = {{false, true}, {true, false}, {false, false}};
        int f = 0;
        while (f < 3 && !(bilinear_matches(a, 2, x->dims[2], y->dims[2], flags[f][0], flags[f][1]) &&
                          bilinear_matches(a, 3, x->dims[3], y->dims[3], flags[f][0], flags[f][1])))
            f++;
        if (f == 3)
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "a linear Resize (coordinate mode %d) whose source coordinates "
                           "TFLite's RESIZE_BILINEAR computes otherwise", (int)a->coord);
        o = (tfl_options){.type = TFL_OPT_RESIZE_BILINEAR};
        o.i[2] = flags[f][0], o.i[3] = flags[f][1];
    } else {
        /* TFLite (align_corners and half_pixel_centers false) reads min(floor(x * (in / out)), in - 1) */
        for (int d = 2; d < 4; d++) {
            float scale = (float)x->dims[d] / (float)y->dims[d];
            for (int64_t i = 0; i < y->dims[d]; i++) {
                evo_resize_taps t;
                evo_resize_axis_taps(a, d, i, x->dims[d], y->dims[d], &t);
                int64_t tfl = EVO_MIN((int64_t)floorf((float)i * scale), x->dims[d] - 1);
                if (t.n != 1 || t.idx[0] != tfl)
                    return tx_fail(c, EVO_ERR_UNSUPPORTED, "output %lld of axis %d reads input %lld; TFLite's "
                                   "nearest resize reads %lld", (long long)i, d, (long long)t.idx[0], (long long)tfl);
            }
        }
    }
    tx_q q = tx_value_q(c, n->in[0]);
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], q);
    char name[200];
    snprintf(name, sizeof(name), "%s:size", n->name);
    int st = tx_const_i32(c, name, (int32_t[]){(int32_t)y->dims[2], (int32_t)y->dims[3]}, 2);
    if (in < 0 || out < 0 || st < 0)
        return EVO_ERR_UNSUPPORTED;
    return tx_op(c, linear ? TFL_OP_RESIZE_BILINEAR : TFL_OP_RESIZE_NEAREST_NEIGHBOR, (int[]){in, st}, 2, &out, 1, &o);
}

/* ReduceMean of float data: MEAN over the axes in natural layout, or in NCHW order when dropping axes would reorder the rest. */
static evo_status export_mean(tx *c, const evo_node *n)
{
    const evo_reduce_attrs *a = &n->a.reduce;
    const evo_value *x = evo_node_input(c->g, n, 0);
    if (x->dtype != EVO_DTYPE_FLOAT)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a ReduceMean of %s data", evo_dtype_name(x->dtype));
    bool natural = x->rank == 4 && a->keepdims;
    if (x->rank == 4 && !a->keepdims) { /* the kept axes must keep their order in NHWC */
        int last = -1;
        natural = true;
        for (int d = 0; d < 4; d++) {
            if (a->axes_mask >> d & 1)
                continue;
            natural &= tx_nhwc_axis[d] > last;
            last = tx_nhwc_axis[d];
        }
    }
    int32_t axes[EVO_MAX_RANK];
    int n_axes = 0;
    for (int d = 0; d < x->rank; d++)
        if (a->axes_mask >> d & 1)
            axes[n_axes++] = natural ? tx_nhwc_axis[d] : d;
    char name[200];
    snprintf(name, sizeof(name), "%s:axes", n->name);
    int at = tx_const_i32(c, name, axes, n_axes);
    int in = natural ? tx_in(c, n->in[0]) : tx_plain(c, n->in[0]);
    int out = natural ? tx_out(c, n->out[0], (tx_q){0}) : tx_out_plain(c, n->out[0], (tx_q){0});
    if (at < 0 || in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    tfl_options o = {.type = TFL_OPT_REDUCER};
    o.i[0] = a->keepdims;
    evo_status s = tx_op(c, TFL_OP_MEAN, (int[]){in, at}, 2, &out, 1, &o);
    return s || natural ? s : tx_bind_plain(c, n->out[0], out);
}

/* Float Softmax over the axis that is last in natural layout (C of a rank-4 value). */
static evo_status export_softmax(tx *c, const evo_node *n)
{
    const evo_value *x = evo_node_input(c->g, n, 0);
    int axis = nat_axis(x->rank, n->a.axis.axis);
    if (x->dtype != EVO_DTYPE_FLOAT || n->a.axis.legacy || axis != x->rank - 1)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "a Softmax over axis %lld of rank %d%s: TFLite's SOFTMAX takes the "
                       "last (NHWC) axis of float data", (long long)n->a.axis.axis, x->rank,
                       n->a.axis.legacy ? " (opset below 13, coerced to 2-D)" : "");
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], (tx_q){0});
    if (in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    tfl_options o = {.type = TFL_OPT_SOFTMAX};
    o.f[0] = 1.0f;
    return tx_op(c, TFL_OP_SOFTMAX, &in, 1, &out, 1, &o);
}

/*
 * SpaceToDepth and DepthToSpace (DCR): in NHWC, TFLite's SPACE_TO_DEPTH
 * and DEPTH_TO_SPACE order the new channels as ONNX does, block row, then
 * block column, then the channel. DepthToSpace's CRD mode has no form.
 */
static evo_status export_d2s(tx *c, const evo_node *n)
{
    bool s2d = n->op == EVO_OP_SPACE_TO_DEPTH;
    if (!s2d && n->a.d2s.crd)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "DepthToSpace in CRD mode: TFLite's DEPTH_TO_SPACE is DCR");
    if (n->a.d2s.blocksize > INT32_MAX)
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "blocksize %lld", (long long)n->a.d2s.blocksize);
    tx_q q = tx_value_q(c, n->in[0]);
    int in = tx_in(c, n->in[0]);
    int out = tx_out(c, n->out[0], q);
    if (in < 0 || out < 0)
        return EVO_ERR_UNSUPPORTED;
    tfl_options o = {.type = s2d ? TFL_OPT_SPACE_TO_DEPTH : TFL_OPT_DEPTH_TO_SPACE};
    o.i[0] = (int32_t)n->a.d2s.blocksize;
    return tx_op(c, s2d ? TFL_OP_SPACE_TO_DEPTH : TFL_OP_DEPTH_TO_SPACE, &in, 1, &out, 1, &o);
}

/* evo.UpdateSlices(X, U1, ...): X's untouched slices and the updates, concatenated along the axis. */
static evo_status export_update(tx *c, const evo_node *n)
{
    const evo_split_attrs *a = &n->a.split;
    const evo_value *x = evo_node_input(c->g, n, 0);
    tx_q q = tx_value_q(c, n->in[0]);
    int64_t start[EVO_MAX_RANK] = {0}, step[EVO_MAX_RANK], len[EVO_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        step[d] = 1, len[d] = x->dims[d];
    int *parts = evo_mem_alloc(&c->m->mem, sizeof(int) * (size_t)(2 * n->n_in + 1));
    if (!parts)
        return tx_fail(c, EVO_ERR_NOMEM, "out of memory");
    int n_parts = 0;
    int64_t at = 0, end = x->dims[a->axis];
    for (int k = 0; k <= a->n_splits; k++) {
        const evo_value *u = k < a->n_splits ? evo_node_input(c->g, n, k + 1) : NULL;
        int64_t upto = u ? a->sizes[k] : end;
        if (u && (u->rank != x->rank || a->sizes[k] < at || a->sizes[k] + u->dims[a->axis] > end))
            return tx_fail(c, EVO_ERR_UNSUPPORTED, "update %d out of place", k + 1);
        if (upto > at) { /* an untouched slice of X */
            start[a->axis] = at;
            len[a->axis] = upto - at;
            evo_value piece = *x;
            piece.dims[a->axis] = upto - at;
            int64_t dims[EVO_MAX_RANK];
            int rank = tx_natural_dims(&piece, dims);
            char name[200];
            snprintf(name, sizeof(name), "%s:keep%d", n->name, k);
            int t = tx_tensor(c, name, tx_type(x->dtype), rank, dims, q);
            evo_status s = t < 0 ? EVO_ERR_UNSUPPORTED : strided_slice(c, n->in[0], t, start, step, len);
            if (s != EVO_OK)
                return s;
            parts[n_parts++] = t;
        }
        if (u) {
            if (tx_is_q8(u->dtype) && (tx_check_q(c, n->in[k + 1], q) != EVO_OK))
                return EVO_ERR_UNSUPPORTED;
            if ((parts[n_parts++] = tx_in(c, n->in[k + 1])) < 0)
                return EVO_ERR_UNSUPPORTED;
            at = a->sizes[k] + u->dims[a->axis];
        }
    }
    int out = tx_out(c, n->out[0], q);
    if (out < 0)
        return EVO_ERR_UNSUPPORTED;
    tfl_options o = {.type = TFL_OPT_CONCATENATION};
    o.i[0] = nat_axis(x->rank, a->axis);
    return tx_op(c, TFL_OP_CONCATENATION, parts, n_parts, &out, 1, &o);
}

evo_status tx_export_node(tx *c, const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_QUANTIZE_LINEAR: return export_quantize(c, n, true);
    case EVO_OP_DEQUANTIZE_LINEAR: return export_quantize(c, n, false);
    case EVO_OP_CONV:
    case EVO_OP_QLINEAR_CONV: return tx_export_qconv(c, n);
    case EVO_OP_QLINEAR_MATMUL: return tx_export_qmatmul(c, n);
    case EVO_OP_GEMM:
    case EVO_OP_MATMUL: return tx_export_fc_float(c, n);
    case EVO_OP_REDUCE_MEAN: return export_mean(c, n);
    case EVO_OP_MAX_POOL:
    case EVO_OP_AVERAGE_POOL:
    case EVO_OP_GLOBAL_AVERAGE_POOL:
    case EVO_OP_QLINEAR_AVERAGE_POOL:
    case EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL: return tx_export_pool(c, n);
    case EVO_OP_ADD:
    case EVO_OP_SUB:
    case EVO_OP_DIV:
    case EVO_OP_MUL:
    case EVO_OP_QLINEAR_ADD:
    case EVO_OP_QLINEAR_MUL: return export_binary(c, n);
    case EVO_OP_RELU:
    case EVO_OP_CLIP:
    case EVO_OP_SIGMOID:
    case EVO_OP_TANH:
    case EVO_OP_HARD_SWISH:
    case EVO_OP_HARD_SIGMOID:
    case EVO_OP_LEAKY_RELU:
    case EVO_OP_QLINEAR_SIGMOID:
    case EVO_OP_QLINEAR_LEAKY_RELU: return export_unary(c, n);
    case EVO_OP_CONCAT:
    case EVO_OP_QLINEAR_CONCAT: return export_concat(c, n);
    case EVO_OP_RESHAPE:
    case EVO_OP_FLATTEN:
    case EVO_OP_SQUEEZE:
    case EVO_OP_UNSQUEEZE: return export_reshape(c, n);
    case EVO_OP_IDENTITY:
    case EVO_OP_DROPOUT: {
        int t = tx_in(c, n->in[0]);
        if (t < 0)
            return EVO_ERR_UNSUPPORTED;
        c->natural[n->out[0]] = t;
        c->plain[n->out[0]] = c->plain[n->in[0]];
        return EVO_OK;
    }
    case EVO_OP_TRANSPOSE: return export_transpose(c, n);
    case EVO_OP_SLICE: return export_slice(c, n);
    case EVO_OP_SPLIT: return export_split(c, n);
    case EVO_OP_PAD: return export_pad(c, n);
    case EVO_OP_RESIZE:
    case EVO_OP_UPSAMPLE: return export_resize(c, n);
    case EVO_OP_SOFTMAX: return export_softmax(c, n);
    case EVO_OP_SPACE_TO_DEPTH:
    case EVO_OP_DEPTH_TO_SPACE: return export_d2s(c, n);
    case EVO_OP_UPDATE_SLICES: return export_update(c, n);
    default:
        return tx_fail(c, EVO_ERR_UNSUPPORTED, "the op is not in the TFLite export's table "
                       "(docs/tflite.md lists what is)");
    }
}
