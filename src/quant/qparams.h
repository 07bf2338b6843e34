/*
 * qparams.h - from a calibrated float range to the scale and zero point of
 * a quantized tensor (docs/int8.md): activations uint8 asymmetric, int8
 * asymmetric or int8 symmetric; weights int8 symmetric per output channel.
 * The range always includes 0 so that zero (padding, ReLU) is exact, and a
 * degenerate range (a constant activation) still gets a finite positive
 * scale: never 0, never NaN.
 */
#ifndef EVO_QUANT_QPARAMS_H
#define EVO_QUANT_QPARAMS_H

#include "evo.h"

#include <stdbool.h>
#include <stdint.h>

/* The smallest scale handed out; a range narrower than this many steps is degenerate. */
#define EVO_QUANT_MIN_SCALE 1e-8f

typedef struct evo_qparams {
    float scale;
    int32_t zp;
    evo_dtype dtype; /* EVO_DTYPE_UINT8 or EVO_DTYPE_INT8 */
} evo_qparams;

/*
 * Scale and zero point covering [lo, hi] (widened to include 0) in dtype:
 * asymmetric: scale = (hi - lo) / 255, zp = round(qmin - lo / scale);
 * symmetric: zp = 0 (int8) or 128 (uint8), scale = max(|lo|, |hi|) / 127.
 * Returns false (and a safe scale, 1/255 of [0, 1]) when the range is
 * degenerate or not finite.
 */
bool evo_qparams_from_range(double lo, double hi, evo_dtype dtype, bool symmetric, evo_qparams *out);

/* Per-output-channel symmetric int8 weight scale: max|w| / 127, or 1 / 127 for an all-zero channel. */
float evo_qparams_weight_scale(const float *w, int64_t n);

/* The float value q stands for. */
static inline float evo_qparams_dequant(const evo_qparams *p, int32_t q)
{
    return p->scale * (float)(q - p->zp);
}

#endif /* EVO_QUANT_QPARAMS_H */
