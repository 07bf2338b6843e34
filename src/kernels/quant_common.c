/*
 * quant_common.c - the fixed-point requantization (TFLite's
 * QuantizeMultiplier, gemmlowp's SaturatingRoundingDoublingHighMul and
 * RoundingDivideByPOT) and the fused-activation range and table of
 * docs/int8.md. Everything is integer-exact or computed once in double, so
 * every kernel that uses these helpers agrees bit for bit.
 */
#include "kernels/quant_common.h"
#include "kernels/quant_tflite.h"

#include <float.h>
#include <limits.h>

void evo_quant_multiplier(double real, int32_t *q, int *shift)
{
    if (!(real >= ldexp(1.0, -31))) {
        *q = 0;
        *shift = 0;
        return;
    }
    if (!(real < ldexp(1.0, 31))) { /* infinite or absurd: the largest multiplier there is */
        *q = INT32_MAX;
        *shift = 31;
        return;
    }
    int e;
    double frac = frexp(real, &e); /* real = frac * 2^e, frac in [0.5, 1) */
    int64_t qf = llround(frac * (double)(1ll << 31));
    if (qf == (1ll << 31)) {
        qf /= 2;
        e++;
    }
    *q = (int32_t)qf;
    *shift = e;
}

/* gemmlowp: (a * b * 2 + 2^31) >> 32 with rounding to nearest, saturating the one overflow. */
static int32_t srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}

/* gemmlowp: x / 2^exponent rounded to nearest, ties away from zero. */
static int32_t rounding_divide_by_pot(int32_t x, int exponent)
{
    if (exponent <= 0)
        return x;
    int64_t mask = ((int64_t)1 << exponent) - 1;
    int64_t remainder = (int64_t)x & mask;
    int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

int32_t evo_requant_fixed(int32_t acc, int32_t q, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int64_t x = (int64_t)acc;
    if (left) {
        x = left >= 32 ? (x > 0 ? INT32_MAX : x < 0 ? INT32_MIN : 0) : x * ((int64_t)1 << left);
        x = x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
    }
    return rounding_divide_by_pot(srdhm((int32_t)x, q), right);
}

/* zp + round(v / scale) clamped into [qmin, qmax]; infinities give the ends. */
static int32_t act_bound(float v, float y_scale, int32_t y_zp, int32_t qmin, int32_t qmax)
{
    float r = roundf(v / y_scale);
    if (!(r > (float)(qmin - y_zp)))
        return qmin;
    if (r >= (float)(qmax - y_zp))
        return qmax;
    return y_zp + (int32_t)r;
}

void evo_quant_act_range(evo_act act, float alpha, float beta, float y_scale, int32_t y_zp, evo_dtype t,
                         int32_t *lo, int32_t *hi)
{
    int32_t qmin, qmax;
    evo_quant_range(t, &qmin, &qmax);
    *lo = qmin;
    *hi = qmax;
    if (act == EVO_ACT_RELU) {
        *lo = act_bound(0.0f, y_scale, y_zp, qmin, qmax);
    } else if (act == EVO_ACT_CLIP) {
        *lo = act_bound(alpha, y_scale, y_zp, qmin, qmax);
        *hi = act_bound(beta, y_scale, y_zp, qmin, qmax);
    }
}

double evo_quant_act_eval(evo_act act, float alpha, float beta, double x)
{
    switch (act) {
    case EVO_ACT_NONE: return x;
    case EVO_ACT_RELU: return x > 0 ? x : 0;
    case EVO_ACT_LEAKY_RELU: return x < 0 ? x * alpha : x;
    case EVO_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case EVO_ACT_SILU: return x / (1.0 + exp(-x));
    case EVO_ACT_HARD_SIGMOID: return fmin(fmax(alpha * x + beta, 0.0), 1.0);
    case EVO_ACT_HARD_SWISH: return x * fmin(fmax(x / 6.0 + 0.5, 0.0), 1.0);
    case EVO_ACT_CLIP: return fmin(fmax(x, alpha), beta);
    case EVO_ACT_TANH: return tanh(x);
    }
    return x;
}

void evo_quant_act_table(evo_act_table mode, evo_act act, float alpha, float beta, float act_scale, int32_t act_zp,
                         float y_scale, int32_t y_zp, evo_dtype t, uint8_t table[256])
{
    if (mode == EVO_ACT_TABLE_TFLITE) {
        evo_quant_act_table_tflite(act, alpha, beta, act_scale, act_zp, y_scale, y_zp, t, table);
        return;
    }
    int32_t qmin, qmax;
    evo_quant_range(t, &qmin, &qmax);
    for (int i = 0; i < 256; i++) {
        int32_t q = qmin + i;
        double f = evo_quant_act_eval(act, alpha, beta, (double)act_scale * (double)(q - act_zp));
        double v = nearbyint(f / (double)y_scale) + (double)y_zp;
        int32_t y = !(v >= (double)qmin) ? qmin : v > (double)qmax ? qmax : (int32_t)v;
        table[i] = (uint8_t)(t == EVO_DTYPE_INT8 ? (uint8_t)(int8_t)y : (uint8_t)y);
    }
}
