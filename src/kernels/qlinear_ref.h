/*
 * qlinear_ref.h - helpers of the com.microsoft quantized reference kernels
 * (qbinary_ref.c, qlut_ref.c, qconcat_ref.c, qpool_ref.c): reading a scale
 * and an optional zero point, loading and storing uint8/int8 elements, and
 * ONNX Runtime's float quantization step, y = clamp(nearbyintf(v) + zp),
 * whose rounding is half to even in the default rounding mode.
 */
#ifndef EVO_KERNELS_QLINEAR_REF_H
#define EVO_KERNELS_QLINEAR_REF_H

#include "kernels/kernel.h"

#include <math.h>

typedef struct evo_qparam {
    float scale;
    int32_t zp;
} evo_qparam;

/* The scale at input i_scale and the zero point at i_zp (0 when absent) of a tensor of type t. */
static inline evo_qparam evo_qparam_read(const evo_kernel_args *a, int i_scale, int i_zp, evo_dtype t)
{
    evo_qparam q = {*(const float *)a->in[i_scale].data, 0};
    if (i_zp < a->n_in && a->in[i_zp].data)
        q.zp = t == EVO_DTYPE_INT8 ? *(const int8_t *)a->in[i_zp].data : *(const uint8_t *)a->in[i_zp].data;
    return q;
}

static inline int32_t evo_q_load(const void *p, int64_t i, evo_dtype t)
{
    return t == EVO_DTYPE_INT8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* Stores v clamped to t's range. */
static inline void evo_q_store(void *p, int64_t i, int32_t v, evo_dtype t)
{
    if (t == EVO_DTYPE_INT8)
        ((int8_t *)p)[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    else
        ((uint8_t *)p)[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* nearbyintf(v) + zp as an int32, v first clamped so the conversion is defined (NaN gives zp). */
static inline int32_t evo_q_round(float v, int32_t zp)
{
    if (!(v > -1e6f))
        v = isnan(v) ? 0.0f : -1e6f;
    if (v > 1e6f)
        v = 1e6f;
    return (int32_t)nearbyintf(v) + zp;
}

#endif /* EVO_KERNELS_QLINEAR_REF_H */
