/*
 * qpool_ref.c - reference kernel of com.microsoft QLinearGlobalAveragePool
 * and QLinearAveragePool, NCHW or channels-last, following ONNX Runtime's
 * CPU kernels:
 * - a window covering the whole image without pads (the global op, and
 *   AveragePool in that case) sums the bytes exactly in int32 and
 *   requantizes once: y = clamp(nearbyintf((sum - x_zp * size) * (x_scale /
 *   size / y_scale)) + y_zp), the scale taken in float in that order;
 * - any other window sums the dequantized values x_scale * (q - x_zp) in
 *   float, in row-major window order, divides by the count (the whole
 *   kernel with count_include_pad, else the part inside the input) and
 *   rounds y / y_scale + y_zp half to even.
 * Windows are clipped to the input (not to the padded input).
 * A global pool with requant FIXED (an NPU simulation) computes TFLite's
 * int8 MEAN instead: M = (double)x_scale / y_scale in fixed point (q, s),
 * k = min(floor(log2(size)), 32, 31 + s), then q' = (q << k) / size
 * (truncating) and y = clamp(evo_requant_fixed(sum - x_zp * size, q', s - k)
 * + y_zp): the 1/size folded into the multiplier.
 */
#include "kernels/qlinear_ref.h"
#include "kernels/quant_common.h"

#include <string.h>

/* A pooled tensor's geometry with the spatial dims padded to 3. */
typedef struct qgeom {
    int64_t batch, channels, c_stride, n_stride;
    int64_t in[3], out[3], in_stride[3], out_stride[3], out_c_stride, out_n_stride;
} qgeom;

static void geom_init(const evo_tensor *x, const evo_tensor *y, bool channels_last, qgeom *g)
{
    int n_sp = x->rank - 2, sp0 = channels_last ? 1 : 2;
    memset(g, 0, sizeof(*g));
    g->batch = x->dims[0];
    g->channels = x->dims[channels_last ? x->rank - 1 : 1];
    for (int i = 0; i < 3; i++)
        g->in[i] = g->out[i] = 1;
    for (int i = 0; i < n_sp; i++) {
        g->in[i] = x->dims[sp0 + i];
        g->out[i] = y->dims[sp0 + i];
    }
    int64_t cl_x = channels_last ? g->channels : 1, cl_y = cl_x, img_x = 1, img_y = 1;
    for (int i = 2; i >= 0; i--) {
        g->in_stride[i] = img_x * cl_x;
        g->out_stride[i] = img_y * cl_y;
        img_x *= g->in[i];
        img_y *= g->out[i];
    }
    g->c_stride = channels_last ? 1 : img_x;
    g->out_c_stride = channels_last ? 1 : img_y;
    g->n_stride = img_x * g->channels;
    g->out_n_stride = img_y * g->channels;
}

static bool is_global(const evo_node *node, const qgeom *g)
{
    const evo_pool_attrs *p = &node->a.pool;
    if (node->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL)
        return true;
    for (int i = 0; i < p->n_spatial; i++) {
        if (p->kernel[i] != g->in[i] || p->pad_begin[i] || p->pad_end[i])
            return false;
    }
    return true;
}

static void pool_global(const evo_tensor *x, const evo_tensor *y, const qgeom *g, evo_qparam qx,
                        evo_qparam qy, bool fixed, int64_t plane)
{
    int64_t size = g->in[0] * g->in[1] * g->in[2], b = plane / g->channels, c = plane % g->channels;
    const int64_t base = b * g->n_stride + c * g->c_stride;
    int64_t sum = 0; /* int32 in ONNX Runtime; int64 keeps images past 8M pixels defined */
    for (int64_t i0 = 0; i0 < g->in[0]; i0++)
        for (int64_t i1 = 0; i1 < g->in[1]; i1++)
            for (int64_t i2 = 0; i2 < g->in[2]; i2++)
                sum += evo_q_load(x->data,
                                  base + i0 * g->in_stride[0] + i1 * g->in_stride[1] + i2 * g->in_stride[2],
                                  x->dtype);
    int64_t acc = sum - (int64_t)qx.zp * size, at = b * g->out_n_stride + c * g->out_c_stride;
    if (fixed) {
        int32_t q;
        int s, k = 0;
        evo_quant_multiplier((double)qx.scale / (double)qy.scale, &q, &s);
        while (k < 32 && ((int64_t)1 << (k + 1)) <= size)
            k++;
        k = k < 31 + s ? k : 31 + s;
        k = k > 0 ? k : 0;
        int32_t qk = (int32_t)(((int64_t)q << k) / size);
        evo_q_store(y->data, at, evo_requant_fixed((int32_t)acc, qk, s - k) + qy.zp, y->dtype);
        return;
    }
    float scale = qx.scale / (float)size / qy.scale;
    evo_q_store(y->data, at, evo_q_round((float)acc * scale, qy.zp), y->dtype);
}

/* One output element at spatial position o[3] of plane (batch, channel). */
static void pool_window(const evo_tensor *x, const evo_tensor *y, const evo_pool_attrs *p, const qgeom *g,
                        evo_qparam qx, evo_qparam qy, int64_t plane, const int64_t *o)
{
    int64_t lo[3], hi[3], kernel_size = 1, b = plane / g->channels, c = plane % g->channels;
    for (int i = 0; i < 3; i++) {
        int64_t k = i < p->n_spatial ? p->kernel[i] : 1, s = i < p->n_spatial ? p->stride[i] : 1;
        int64_t start = o[i] * s - (i < p->n_spatial ? p->pad_begin[i] : 0);
        hi[i] = start + k < g->in[i] ? start + k : g->in[i];
        lo[i] = start > 0 ? start : 0;
        kernel_size *= k;
    }
    const int64_t base = b * g->n_stride + c * g->c_stride;
    float sum = 0.0f;
    for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)
        for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)
            for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) {
                int64_t at = base + i0 * g->in_stride[0] + i1 * g->in_stride[1] + i2 * g->in_stride[2];
                sum += qx.scale * (float)(evo_q_load(x->data, at, x->dtype) - qx.zp);
            }
    int64_t count = p->count_include_pad ? kernel_size : (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
    float avg = count > 0 ? sum / (float)count : 0.0f;
    int64_t at = b * g->out_n_stride + c * g->out_c_stride + o[0] * g->out_stride[0] +
                 o[1] * g->out_stride[1] + o[2] * g->out_stride[2];
    evo_q_store(y->data, at, evo_q_round(avg / qy.scale + (float)qy.zp, 0), y->dtype);
}

static void qpool_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0], *y = &a->out[0];
    qgeom g;
    geom_init(x, y, a->node->a.pool.channels_last, &g);
    evo_qparam qx = evo_qparam_read(a, 1, 2, x->dtype), qy = evo_qparam_read(a, 3, 4, x->dtype);
    bool global = is_global(a->node, &g);
    int64_t begin, end;
    evo_task_range(g.batch * g.channels, task, n_tasks, &begin, &end);
    for (int64_t plane = begin; plane < end; plane++) {
        if (global) {
            pool_global(x, y, &g, qx, qy, a->node->a.pool.requant == EVO_REQUANT_FIXED, plane);
            continue;
        }
        int64_t o[3];
        for (o[0] = 0; o[0] < g.out[0]; o[0]++)
            for (o[1] = 0; o[1] < g.out[1]; o[1]++)
                for (o[2] = 0; o[2] < g.out[2]; o[2]++)
                    pool_window(x, y, &a->node->a.pool, &g, qx, qy, plane, o);
    }
}

const evo_kernel_def evo_kernel_qpool_ref = {"ref", EVO_ISA_REF, NULL, NULL, qpool_run};
