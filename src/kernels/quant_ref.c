/*
 * quant_ref.c - reference QuantizeLinear, DequantizeLinear and
 * DynamicQuantizeLinear (docs/int8.md).
 *
 * QuantizeLinear: y = clamp(nearbyintf(x / scale) + zp) in float32, round
 * half to even, as ONNX Runtime; DequantizeLinear: y = (float)(x - zp) *
 * scale. A scale of one element is per-tensor, otherwise element i uses
 * channel (i / inner) % C of the resolved axis. Tasks take element ranges.
 * DynamicQuantizeLinear needs the global range first, so task 0 runs it
 * whole.
 */
#include "kernels/kernel.h"
#include "kernels/quant_common.h"

/* Elements after the axis (inner) and the channel count, for a per-axis scale; 0 channels: per-tensor. */
static void quant_layout(const evo_kernel_args *a, int64_t *inner, int64_t *channels)
{
    const evo_tensor *x = &a->in[0], *scale = &a->in[1];
    int64_t count = evo_tensor_count(scale);
    *inner = 1;
    *channels = 0;
    if (count <= 1)
        return;
    int64_t axis = a->node->a.quant.axis;
    for (int d = (int)axis + 1; d < x->rank; d++)
        *inner *= x->dims[d];
    *channels = x->dims[axis];
}

static void quantize_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const float *x = a->in[0].data, *scale = a->in[1].data;
    const evo_tensor *zp = a->n_in > 2 ? &a->in[2] : NULL;
    bool has_zp = zp && zp->data;
    evo_dtype t = a->out[0].dtype;
    int32_t qmin, qmax;
    evo_quant_range(t, &qmin, &qmax);
    int64_t inner, channels, begin, end;
    quant_layout(a, &inner, &channels);
    evo_task_range(evo_tensor_count(&a->out[0]), task, n_tasks, &begin, &end);
    for (int64_t i = begin; i < end; i++) {
        int64_t c = channels ? (i / inner) % channels : 0;
        int32_t z = has_zp ? evo_quant_load(zp->data, t, c) : 0;
        evo_quant_store(a->out[0].data, t, i, evo_quantize_f32(x[i], scale[c], z, qmin, qmax));
    }
}

static int64_t load_any(const void *p, evo_dtype t, int64_t i)
{
    return t == EVO_DTYPE_INT32 ? (int64_t)((const int32_t *)p)[i] : (int64_t)evo_quant_load(p, t, i);
}

static void dequantize_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0];
    const float *scale = a->in[1].data;
    const evo_tensor *zp = a->n_in > 2 ? &a->in[2] : NULL;
    bool has_zp = zp && zp->data;
    float *y = a->out[0].data;
    int64_t inner, channels, begin, end;
    quant_layout(a, &inner, &channels);
    evo_task_range(evo_tensor_count(&a->out[0]), task, n_tasks, &begin, &end);
    for (int64_t i = begin; i < end; i++) {
        int64_t c = channels ? (i / inner) % channels : 0;
        int64_t z = has_zp ? load_any(zp->data, x->dtype, c) : 0;
        y[i] = (float)(load_any(x->data, x->dtype, i) - z) * scale[c];
    }
}

/*
 * ONNX DynamicQuantizeLinear for uint8: the range [min(x, 0), max(x, 0)]
 * maps onto [0, 255]; a zero range takes scale 1 (as ONNX Runtime) so the
 * division stays finite.
 */
static void dynamic_quantize_run(const evo_kernel_args *a, int task, int n_tasks)
{
    (void)n_tasks;
    if (task != 0)
        return;
    const float *x = a->in[0].data;
    int64_t count = evo_tensor_count(&a->in[0]);
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < count; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
    float zp_real = 0.0f - lo / scale;
    zp_real = !(zp_real >= 0.0f) ? 0.0f : zp_real > 255.0f ? 255.0f : zp_real; /* NaN (infinite x): 0 */
    int32_t zp = (int32_t)nearbyintf(zp_real);
    uint8_t *y = a->out[0].data;
    for (int64_t i = 0; i < count; i++)
        y[i] = (uint8_t)evo_quantize_f32(x[i], scale, zp, 0, 255);
    if (a->n_out > 1 && a->out[1].data)
        *(float *)a->out[1].data = scale;
    if (a->n_out > 2 && a->out[2].data)
        *(uint8_t *)a->out[2].data = (uint8_t)zp;
}

static void quant_run(const evo_kernel_args *a, int task, int n_tasks)
{
    switch (a->node->op) {
    case EVO_OP_QUANTIZE_LINEAR: quantize_run(a, task, n_tasks); break;
    case EVO_OP_DEQUANTIZE_LINEAR: dequantize_run(a, task, n_tasks); break;
    default: dynamic_quantize_run(a, task, n_tasks); break;
    }
}

const evo_kernel_def evo_kernel_quant_ref = {"ref", EVO_ISA_REF, NULL, NULL, quant_run};
