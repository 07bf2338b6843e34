/*
 * quant_common.h - the integer arithmetic every int8 kernel shares
 * (docs/int8.md): float -> int8/uint8 rounding with saturation, the two
 * requantization modes (FLOAT: ONNX Runtime's float32 multiply and round
 * half to even; FIXED: TFLite's int32 multiplier and shift with gemmlowp's
 * rounding), the clamp range of a fused ReLU/Clip and the 256-entry table
 * of the other fused activations. Fast kernels call these same helpers, or
 * are tested bit-exact against kernels that do.
 */
#ifndef EVO_QUANT_COMMON_H
#define EVO_QUANT_COMMON_H

#include "graph/attrs.h"

#include <math.h>
#include <stdint.h>

/* Is t a byte-sized quantized dtype (uint8 or int8)? */
static inline bool evo_quant_is_byte(evo_dtype t)
{
    return t == EVO_DTYPE_UINT8 || t == EVO_DTYPE_INT8;
}

/* The representable range of uint8 ([0, 255]) or int8 ([-128, 127]). */
static inline void evo_quant_range(evo_dtype t, int32_t *qmin, int32_t *qmax)
{
    *qmin = t == EVO_DTYPE_INT8 ? -128 : 0;
    *qmax = t == EVO_DTYPE_INT8 ? 127 : 255;
}

/* Reads element i of a uint8 or int8 buffer as int32. */
static inline int32_t evo_quant_load(const void *p, evo_dtype t, int64_t i)
{
    return t == EVO_DTYPE_INT8 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

/* Writes v (already within the dtype's range) as element i of a uint8 or int8 buffer. */
static inline void evo_quant_store(void *p, evo_dtype t, int64_t i, int32_t v)
{
    if (t == EVO_DTYPE_INT8)
        ((int8_t *)p)[i] = (int8_t)v;
    else
        ((uint8_t *)p)[i] = (uint8_t)v;
}

/*
 * QuantizeLinear of one value: clamp(nearbyintf(x / scale) + zp, qmin, qmax)
 * in float32 with round half to even; NaN gives qmin.
 */
static inline int32_t evo_quantize_f32(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax)
{
    float v = nearbyintf(x / scale) + (float)zp;
    if (!(v >= (float)qmin))
        return qmin;
    if (v > (float)qmax)
        return qmax;
    return (int32_t)v;
}

/*
 * EVO_REQUANT_FLOAT: clamp(nearbyintf((float)acc * m) + zp, lo, hi), m being
 * (x_scale * w_scale) / y_scale computed in float32 by the caller.
 */
static inline int32_t evo_requant_float(int32_t acc, float m, int32_t zp, int32_t lo, int32_t hi)
{
    float v = nearbyintf((float)acc * m) + (float)zp;
    if (!(v >= (float)lo))
        return lo;
    if (v > (float)hi)
        return hi;
    return (int32_t)v;
}

/*
 * The FIXED-mode multiplier of a real scale M: q in [2^30, 2^31) and shift
 * with M = q * 2^(shift - 31) (TFLite's QuantizeMultiplier). M below 2^-31
 * (or not positive, or NaN) gives q = 0, shift = 0; M of 2^31 or more
 * (a zero y_scale) gives the largest, q = 2^31 - 1, shift = 31.
 */
void evo_quant_multiplier(double real, int32_t *q, int *shift);

/*
 * EVO_REQUANT_FIXED without the zero point:
 * RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc << max(shift, 0), q), max(-shift, 0)).
 * The left shift saturates to int32 instead of wrapping.
 */
int32_t evo_requant_fixed(int32_t acc, int32_t q, int shift);

/* The real multiplier of channel c in double, for evo_quant_multiplier. */
static inline double evo_requant_real(float x_scale, float w_scale, float y_scale)
{
    return (double)x_scale * (double)w_scale / (double)y_scale;
}

/* Is act applied through a 256-entry table (not a clamp)? */
static inline bool evo_act_is_table(evo_act act)
{
    return act != EVO_ACT_NONE && act != EVO_ACT_RELU && act != EVO_ACT_CLIP;
}

/*
 * The output range [lo, hi] of a fused clamp activation (NONE, RELU, CLIP
 * with min alpha and max beta) in the domain of y_scale, y_zp:
 * lo = max(qmin, y_zp + round(min / y_scale)), hi alike (TFLite's
 * CalculateActivationRangeQuantized). Table activations give [qmin, qmax].
 */
void evo_quant_act_range(evo_act act, float alpha, float beta, float y_scale, int32_t y_zp, evo_dtype t,
                         int32_t *lo, int32_t *hi);

/* The float activation act(x) with its parameters, as the table evaluates it (in double). */
double evo_quant_act_eval(evo_act act, float alpha, float beta, double x);

/*
 * The 256-entry table of a fused table activation, indexed by the
 * pre-activation byte q (for int8, by q + 128); entries are output bytes of
 * dtype t. EVO_ACT_TABLE_FLOAT:
 * T[q] = clamp(nearbyint(f(act_scale * (q - act_zp)) / y_scale) + y_zp),
 * computed in double; EVO_ACT_TABLE_TFLITE: TFLite's int8 ops
 * (evo_quant_act_table_tflite).
 */
void evo_quant_act_table(evo_act_table mode, evo_act act, float alpha, float beta, float act_scale, int32_t act_zp,
                         float y_scale, int32_t y_zp, evo_dtype t, uint8_t table[256]);

#endif /* EVO_QUANT_COMMON_H */
