/*
 * qtest_util.h - helpers for the quantized-op tests: constant or input
 * values of any dtype, random uint8/int8 buffers, and an independent
 * oracle for requantization (FLOAT and FIXED) and the fused activations,
 * written from docs/int8.md without the library's helpers.
 */
#ifndef EVO_QTEST_UTIL_H
#define EVO_QTEST_UTIL_H

#include "nn_util.h"

#include <limits.h>

/* A value; a constant holding data when data is not NULL. */
static inline int qt_value(evo_graph *g, const char *name, evo_dtype t, int rank, const int64_t *dims,
                           const void *data)
{
    int id = nn_value(g, name, t, rank, dims);
    if (data) {
        evo_status s = evo_value_set_const(g, &g->values[id], t, rank, dims, data, NULL);
        CHECK(s == EVO_OK);
    }
    return id;
}

/* A scalar (rank 0) or 1-D constant of n elements. */
static inline int qt_param(evo_graph *g, const char *name, evo_dtype t, int64_t n, const void *data)
{
    int64_t dims[1] = {n};
    return qt_value(g, name, t, n > 1 ? 1 : 0, dims, data);
}

static inline void *qt_bytes(check_rng *r, int64_t n, evo_dtype t)
{
    uint8_t *p = malloc((size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        p[i] = (uint8_t)check_rng_int(r, 0, 255);
    (void)t;
    return p;
}

static inline int32_t qt_load(const void *p, evo_dtype t, int64_t i)
{
    return t == EVO_DTYPE_INT8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

static inline int32_t qt_qmin(evo_dtype t)
{
    return t == EVO_DTYPE_INT8 ? -128 : 0;
}

static inline int32_t qt_qmax(evo_dtype t)
{
    return t == EVO_DTYPE_INT8 ? 127 : 255;
}

static inline int32_t qt_clamp(int64_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* The fixed-point multiplier of real: q in [2^30, 2^31), shift with real = q * 2^(shift - 31). */
static inline void qt_multiplier(double real, int32_t *q, int *shift)
{
    *q = 0;
    *shift = 0;
    if (real < 1.0 / 2147483648.0)
        return;
    int e = 0;
    while (real >= 1.0) {
        real /= 2;
        e++;
    }
    while (real < 0.5) {
        real *= 2;
        e--;
    }
    double qd = round(real * 2147483648.0);
    if (qd >= 2147483648.0) {
        qd /= 2;
        e++;
    }
    *q = (int32_t)qd;
    *shift = e;
}

/* gemmlowp's doubling high multiply then rounding right shift, computed on exact int64 values. */
static inline int64_t qt_fixed(int32_t acc, int32_t q, int shift)
{
    int64_t x = (int64_t)acc * ((int64_t)1 << (shift > 0 ? shift : 0));
    x = x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
    int64_t prod = x * (int64_t)q;                       /* |prod| < 2^62 */
    int64_t half = (int64_t)1 << 30;
    int64_t hi = prod >= 0 ? (prod + half) >> 31 : -((-prod + half - 1) >> 31); /* ties toward +inf */
    if (x == INT32_MIN && q == INT32_MIN)
        hi = INT32_MAX;
    int right = shift > 0 ? 0 : -shift;
    if (right == 0)
        return hi;
    int64_t div = (int64_t)1 << right;
    int64_t mag = hi >= 0 ? hi : -hi;
    int64_t r = (mag + div / 2) / div; /* half away from zero */
    return hi >= 0 ? r : -r;
}

static inline double qt_act(evo_act act, double alpha, double beta, double x)
{
    switch (act) {
    case EVO_ACT_RELU: return x > 0 ? x : 0;
    case EVO_ACT_CLIP: return x < alpha ? alpha : x > beta ? beta : x;
    case EVO_ACT_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case EVO_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case EVO_ACT_SILU: return x / (1 + exp(-x));
    case EVO_ACT_HARD_SIGMOID: { double v = alpha * x + beta; return v < 0 ? 0 : v > 1 ? 1 : v; }
    case EVO_ACT_HARD_SWISH: { double v = x / 6 + 0.5; return x * (v < 0 ? 0 : v > 1 ? 1 : v); }
    case EVO_ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* What an output requantizes with: mode, act, scales and zero points. */
typedef struct qt_requant {
    int mode; /* 0 FLOAT, 1 FIXED */
    evo_act act;
    float alpha, beta;
    float act_scale;
    int32_t act_zp;
    evo_dtype yt;
} qt_requant;

/* One output byte from acc, x_scale, w_scale (of its channel), y_scale, y_zp. */
static inline int32_t qt_out(const qt_requant *rq, int32_t acc, float xs, float ws, float ys, int32_t y_zp)
{
    bool table = rq->act != EVO_ACT_NONE && rq->act != EVO_ACT_RELU && rq->act != EVO_ACT_CLIP;
    float ts = table ? rq->act_scale : ys;
    int32_t tz = table ? rq->act_zp : y_zp;
    int32_t lo = qt_qmin(rq->yt), hi = qt_qmax(rq->yt);
    if (rq->act == EVO_ACT_RELU || rq->act == EVO_ACT_CLIP) {
        double mn = rq->act == EVO_ACT_RELU ? 0.0 : rq->alpha;
        lo = qt_clamp(y_zp + (int64_t)round(mn / ys), lo, hi);
        if (rq->act == EVO_ACT_CLIP)
            hi = qt_clamp(y_zp + (int64_t)round(rq->beta / ys), lo, hi);
    }
    int64_t v;
    if (rq->mode == 1) {
        int32_t q;
        int shift;
        qt_multiplier((double)xs * ws / ts, &q, &shift);
        v = qt_fixed(acc, q, shift) + tz;
    } else {
        float m = xs * ws / ts;
        v = (int64_t)nearbyintf((float)acc * m) + tz;
    }
    int32_t y = qt_clamp(v, lo, hi);
    if (!table)
        return y;
    double f = qt_act(rq->act, rq->alpha, rq->beta, (double)rq->act_scale * (y - rq->act_zp));
    return qt_clamp((int64_t)nearbyint(f / ys) + y_zp, qt_qmin(rq->yt), qt_qmax(rq->yt));
}

#endif /* EVO_QTEST_UTIL_H */
