/*
 * qparams.c - calibrated ranges to scales and zero points (qparams.h).
 */
#include "quant/qparams.h"

#include <math.h>

bool evo_qparams_from_range(double lo, double hi, evo_dtype dtype, bool symmetric, evo_qparams *out)
{
    int32_t qmin = dtype == EVO_DTYPE_INT8 ? -128 : 0, qmax = dtype == EVO_DTYPE_INT8 ? 127 : 255;
    out->dtype = dtype;
    lo = fmin(lo, 0);
    hi = fmax(hi, 0);
    bool ok = isfinite(lo) && isfinite(hi) && hi - lo >= (double)EVO_QUANT_MIN_SCALE * (qmax - qmin);
    if (!ok) { /* the whole range is (almost) zero: any positive scale represents it */
        lo = 0;
        hi = 1;
    }
    if (symmetric) {
        double amax = fmax(-lo, hi);
        out->scale = (float)(amax / 127.0);
        out->zp = dtype == EVO_DTYPE_INT8 ? 0 : 128;
    } else {
        out->scale = (float)((hi - lo) / (qmax - qmin));
        double zp = nearbyint(qmin - lo / out->scale);
        out->zp = (int32_t)fmin(fmax(zp, qmin), qmax);
    }
    if (!(out->scale >= EVO_QUANT_MIN_SCALE))
        out->scale = EVO_QUANT_MIN_SCALE;
    return ok;
}

float evo_qparams_weight_scale(const float *w, int64_t n)
{
    double amax = 0;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(w[i]))
            amax = fmax(amax, fabs((double)w[i]));
    float s = (float)(amax / 127.0);
    return s >= EVO_QUANT_MIN_SCALE ? s : 1.0f / 127;
}
