/*
 * quant_tflite.c - the 256-entry table of a fused activation in TFLite's
 * int8 semantics (EVO_ACT_TABLE_TFLITE, docs/int8.md): what LiteRT's
 * reference kernels compute for the ops evo's TFLite export writes for the
 * activation (src/tflite/tflite_export_nn.c), so an NPU that runs TFLite
 * semantics (Ethos-U, Ethos-N) is simulated bit for bit.
 *
 * Every one of those ops reads one int8 byte per element (MUL and ADD read
 * the pre-activation and a function of it, or a constant), so the chain is
 * a function of the pre-activation byte and one table holds it. The
 * arithmetic is TFLite's: LOGISTIC and TANH tables in float32 (1/(1+expf),
 * tanhf, round half away from zero) at their fixed output scales, QUANTIZE
 * and MUL as fixed-point multipliers of scales divided in float or double as
 * TFLite's Prepare divides them, HARD_SWISH in 16-bit fixed point, ADD with
 * its 20-bit left shift. The work is done in the int8 domain; uint8 tensors
 * are the same bytes with zero points 128 higher (the export's shift).
 */
#include "kernels/quant_tflite.h"

#include <limits.h>
#include <math.h>

static int32_t clamp8(int64_t v)
{
    return v < -128 ? -128 : v > 127 ? 127 : (int32_t)v;
}

/* TFLite's MultiplyByQuantizedMultiplier (double rounding) of x by the real multiplier m (>= 0). */
static int32_t mul_by(int32_t x, double m)
{
    int32_t q;
    int shift;
    evo_quant_multiplier(m, &q, &shift);
    return evo_requant_fixed(x, q, shift);
}

/* LUTPopulate<int8_t>: f in float32 at x = in_scale * (q - in_zp), rounded half away from zero. */
static int32_t lut_entry(float (*f)(float), float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, int32_t q)
{
    const float inverse_scale = 1.0f / out_scale;
    float x = in_scale * (float)(q - in_zp);
    float y = f(x);
    float r = roundf(y * inverse_scale) + (float)out_zp;
    if (!(r > -129.0f)) /* also NaN */
        return -128;
    return r >= 128.0f ? 127 : (int32_t)r;
}

static float sigmoid_f(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static float tanh_f(float x)
{
    return tanhf(x);
}

/* QUANTIZE int8 -> int8: the multiplier of in_scale / out_scale in double. */
static int32_t requantize(int32_t v, float in_scale, int32_t in_zp, float out_scale, int32_t out_zp)
{
    return clamp8(mul_by(v - in_zp, (double)in_scale / (double)out_scale) + out_zp);
}

/* gemmlowp's 16-bit SaturatingRoundingDoublingHighMul. */
static int16_t srdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    int32_t ab = (int32_t)a * (int32_t)b;
    int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* gemmlowp's RoundingDivideByPOT on a 16-bit value (ties away from zero). */
static int16_t rdbp16(int16_t x, int exponent)
{
    if (exponent <= 0)
        return x;
    int32_t mask = (1 << exponent) - 1;
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

static int16_t sat_shl16(int16_t v, int amount)
{
    int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : r < INT16_MIN ? INT16_MIN : r);
}

/* An int32 fixed-point multiplier rounded to its top 16 bits, saturating. */
static int16_t mult16(int32_t m)
{
    if (m >= INT32_MAX - (1 << 15))
        return INT16_MAX;
    return (int16_t)((m + (1 << 15)) >> 16);
}

/* HARD_SWISH (reference kernel): x * relu6(x + 3) / 6 in 16-bit fixed point. */
static int32_t hard_swish(int32_t q, float in_scale, int32_t in_zp, float out_scale, int32_t out_zp)
{
    const float hires_scale = (1.0f / 128.0f) * in_scale;
    int32_t mq;
    int out_exp, relu_exp;
    evo_quant_multiplier((double)(hires_scale / out_scale), &mq, &out_exp);
    int16_t out_m16 = mult16(mq);
    evo_quant_multiplier((double)(hires_scale / (3.0f / 32768.0f)), &mq, &relu_exp);
    int16_t relu_m16 = mult16(mq);

    int16_t hires = (int16_t)((q - in_zp) * (1 << 7));
    int16_t preshift = srdhm16(hires, out_m16);
    int16_t reluish = hires;
    if (relu_exp > 0)
        reluish = sat_shl16(reluish, relu_exp - 1);
    reluish = srdhm16(reluish, relu_m16);
    if (relu_exp > 0)
        reluish = sat_shl16(reluish, 1);
    if (relu_exp < 0)
        reluish = rdbp16(reluish, -relu_exp);
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
    /* SaturatingDoublingHighMul: rounds toward zero */
    int16_t prod = reluish == INT16_MIN && preshift == INT16_MIN
                       ? INT16_MAX
                       : (int16_t)(((int32_t)reluish * (int32_t)preshift) / (1 << 15));
    int32_t y = (int32_t)rdbp16(prod, -out_exp) + out_zp;
    return clamp8(y);
}

/* LEAKY_RELU: multipliers in_scale / out_scale and in_scale * alpha / out_scale, divided in float. */
static int32_t leaky_relu(int32_t q, float alpha, float in_scale, int32_t in_zp, float out_scale, int32_t out_zp)
{
    int32_t x = q - in_zp;
    if (x >= 0)
        return clamp8(out_zp + mul_by(x, (double)(in_scale / out_scale)));
    float am = in_scale * alpha / out_scale;
    int32_t v = mul_by(x, fabs((double)am));
    return clamp8(out_zp + (am < 0 ? -v : v));
}

/* The quantized range of a fused RELU6 on an output (scale, zp): CalculateActivationRangeQuantized. */
static void relu6_range(float scale, int32_t zp, int32_t *lo, int32_t *hi)
{
    int32_t a = zp + (int32_t)roundf(0.0f / scale), b = zp + (int32_t)roundf(6.0f / scale);
    *lo = a > -128 ? a : -128;
    *hi = b < 127 ? b : 127;
}

/*
 * HardSigmoid (alpha 1/6) as exported: ADD of the constant 127 at scale
 * |beta / alpha| / 127 (fused RELU6, output 6/255, -128), then MUL by the
 * constant 127 at scale alpha / 127.
 */
static int32_t hard_sigmoid(int32_t q, float alpha, float beta, float in_scale, int32_t in_zp, float out_scale,
                            int32_t out_zp)
{
    float off = beta / alpha;
    float off_scale = fabsf(off) / 127.0f, k_scale = alpha / 127.0f, u_scale = 6.0f / 255.0f;
    int32_t off_q = off < 0 ? -127 : 127, u_zp = -128;
    /* ADD: both inputs to a common scale with 20 bits of headroom, summed, rescaled */
    double twice_max = 2.0 * (double)(in_scale > off_scale ? in_scale : off_scale);
    int32_t a = mul_by((q - in_zp) * (1 << 20), (double)in_scale / twice_max);
    int32_t b = mul_by(off_q * (1 << 20), (double)off_scale / twice_max);
    int32_t u = mul_by(a + b, twice_max / ((double)(1 << 20) * (double)u_scale)) + u_zp;
    int32_t lo, hi;
    relu6_range(u_scale, u_zp, &lo, &hi);
    u = u < lo ? lo : u > hi ? hi : u;
    /* MUL by the constant: the multiplier of u_scale * k_scale / out_scale in float */
    return clamp8(out_zp + mul_by((u - u_zp) * 127, (double)(u_scale * k_scale / out_scale)));
}

/* The int8 output of act at int8 pre-activation q. */
static int32_t act_int8(evo_act act, float alpha, float beta, float in_scale, int32_t in_zp, float y_scale,
                        int32_t y_zp, int32_t q)
{
    const float sig_scale = 1.0f / 256.0f, tanh_scale = 1.0f / 128.0f;
    switch (act) {
    case EVO_ACT_SIGMOID: {
        int32_t s = lut_entry(sigmoid_f, in_scale, in_zp, sig_scale, -128, q);
        if (y_scale == sig_scale && y_zp == -128)
            return s;
        return requantize(s, sig_scale, -128, y_scale, y_zp);
    }
    case EVO_ACT_TANH: {
        int32_t t = lut_entry(tanh_f, in_scale, in_zp, tanh_scale, 0, q);
        if (y_scale == tanh_scale && y_zp == 0)
            return t;
        return requantize(t, tanh_scale, 0, y_scale, y_zp);
    }
    case EVO_ACT_SILU: { /* MUL(x, LOGISTIC(x)) */
        int32_t s = lut_entry(sigmoid_f, in_scale, in_zp, sig_scale, -128, q);
        double m = (double)(in_scale * sig_scale / y_scale);
        return clamp8(y_zp + mul_by((q - in_zp) * (s + 128), m));
    }
    case EVO_ACT_HARD_SWISH: return hard_swish(q, in_scale, in_zp, y_scale, y_zp);
    case EVO_ACT_LEAKY_RELU: return leaky_relu(q, alpha, in_scale, in_zp, y_scale, y_zp);
    case EVO_ACT_HARD_SIGMOID: return hard_sigmoid(q, alpha, beta, in_scale, in_zp, y_scale, y_zp);
    default: break;
    }
    /* not a table activation: the identity requantized */
    return requantize(q, in_scale, in_zp, y_scale, y_zp);
}

void evo_quant_act_table_tflite(evo_act act, float alpha, float beta, float act_scale, int32_t act_zp,
                                float y_scale, int32_t y_zp, evo_dtype t, uint8_t table[256])
{
    int32_t shift = t == EVO_DTYPE_INT8 ? 0 : 128; /* uint8 bytes as int8 with zero points 128 lower */
    /* TFLite requires zero points within the type; clamping keeps every product below 2^31 */
    act_zp = clamp8((int64_t)act_zp - shift) + shift;
    y_zp = clamp8((int64_t)y_zp - shift) + shift;
    for (int i = 0; i < 256; i++) {
        int32_t y = act_int8(act, alpha, beta, act_scale, act_zp - shift, y_scale, y_zp - shift, i - 128);
        table[i] = (uint8_t)(t == EVO_DTYPE_INT8 ? (uint8_t)(int8_t)y : (uint8_t)(y + 128));
    }
}
