/*
 * qconv_pack.c - the packed constants of the fast int8 Conv variants
 * (qconv_fast.h): weights in the micro-kernels' layouts, the bias with the
 * activation zero point folded in, the per-channel requantization
 * constants, the clamp range and the activation table. Portable C, run
 * once per session.
 */
#include "kernels/qconv_fast.h"

#include <math.h>
#include <string.h>

void evo_qk_quantize_multiplier(double m, int32_t *q, int32_t *shift)
{
    *q = 0, *shift = 0;
    if (!(m > 0.0))
        return;
    int e;
    double f = frexp(m, &e); /* m = f * 2^e, f in [0.5, 1) */
    int64_t qq = (int64_t)llround(f * 2147483648.0);
    if (qq == ((int64_t)1 << 31)) {
        qq /= 2;
        e++;
    }
    if (e < -31) /* below 2^-31: rounds to 0 */
        return;
    *q = (int32_t)qq;
    *shift = e;
}

/* gemmlowp SaturatingRoundingDoublingHighMul; q > 0 never saturates. */
static int32_t srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero. */
static int32_t rdbp(int32_t x, int e)
{
    int32_t mask = (int32_t)(((int64_t)1 << e) - 1), rem = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
}

int32_t evo_qk_requant_fixed(int32_t acc, int32_t q, int32_t shift)
{
    int ls = shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift;
    int32_t x = (int32_t)((uint32_t)acc << ls); /* wraps as TFLite's x * (1 << ls) does in practice */
    return rdbp(srdhm(x, q), rs);
}

int32_t evo_qk_requant_float(int32_t acc, float m, int32_t lo, int32_t hi)
{
    float f = (float)acc * m;
    f = f < (float)lo ? (float)lo : f;
    f = f > (float)hi ? (float)hi : f;
    return (int32_t)nearbyintf(f);
}

/* The layout of the packed constants in the head h. */
static void layout(const evo_qconv_shape *s, int mr, evo_qk_wlayout l, evo_qconv_packed *h)
{
    memset(h, 0, sizeof(*h));
    h->mr = mr;
    h->m_g = s->c_out / s->group;
    h->k_g = s->c_in / s->group * s->kh * s->kw;
    h->k_pad = l == EVO_QK_W_DW ? h->k_g : (h->k_g + 3) & ~(int64_t)3;
    h->m_panels = (h->m_g + mr - 1) / mr;
    int64_t c = s->c_out, off = ((int64_t)sizeof(*h) + 63) & ~(int64_t)63;
    int64_t arr = (c * 4 + 63) & ~(int64_t)63;
    h->off_bias = off;
    h->off_mult = off + arr;
    h->off_qmul = off + 2 * arr;
    h->off_shift = off + 3 * arr;
    h->off_table = off + 4 * arr;
    h->off_w = h->off_table + 256 * 4;
    int64_t per_k4 = l == EVO_QK_W_DPBUSD ? 4 : 8; /* bytes per row per 4 K */
    if (l == EVO_QK_W_DW)
        h->w_group_bytes = h->k_g * 4;
    else
        h->w_group_bytes = h->m_panels * (h->k_pad / 4) * mr * per_k4;
}

size_t evo_qconv_packed_bytes(const evo_qconv_shape *s, int mr, evo_qk_wlayout l)
{
    evo_qconv_packed h;
    layout(s, mr, l, &h);
    return (size_t)(h.off_w + h.w_group_bytes * s->group);
}

/* f(v) for the table activations */
static double act_f(const evo_qconv_consts *q, double v)
{
    switch (q->act) {
    case EVO_ACT_LEAKY_RELU: return v < 0 ? q->act_alpha * v : v;
    case EVO_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case EVO_ACT_SILU: return v / (1.0 + exp(-v));
    case EVO_ACT_HARD_SIGMOID: return fmax(0.0, fmin(1.0, q->act_alpha * v + q->act_beta));
    case EVO_ACT_HARD_SWISH: return v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5));
    case EVO_ACT_TANH: return tanh(v);
    default: return v;
    }
}

static bool act_is_table(evo_act a)
{
    return a != EVO_ACT_NONE && a != EVO_ACT_RELU && a != EVO_ACT_CLIP;
}

/* Clamp range, zero point and table: the epilogue after the multiplier. */
static void pack_act(const evo_qconv_consts *q, evo_qconv_packed *h, int32_t *table)
{
    int32_t qmin = q->y_signed ? -128 : 0, qmax = q->y_signed ? 127 : 255;
    h->lo = qmin, h->hi = qmax, h->zp = q->y_zp;
    if (q->act == EVO_ACT_RELU) {
        h->lo = EVO_MAX(qmin, q->y_zp);
    } else if (q->act == EVO_ACT_CLIP) {
        h->lo = EVO_MAX(qmin, q->y_zp + (int32_t)roundf(q->act_alpha / q->y_scale));
        h->hi = EVO_MIN(qmax, q->y_zp + (int32_t)roundf(q->act_beta / q->y_scale));
    } else if (act_is_table(q->act)) {
        h->has_table = true;
        h->zp = q->act_zp;
        for (int32_t v = qmin; v <= qmax; v++) {
            double r = nearbyint(act_f(q, q->act_scale * (double)(v - q->act_zp)) / q->y_scale) + q->y_zp;
            table[v & 255] = (int32_t)fmin(fmax(r, qmin), qmax);
        }
    }
}

/* Weights of group g, channel row r (of m_g), K index k, or 0 outside. */
static int32_t w_at(const evo_qconv_consts *q, const evo_qconv_packed *h, int64_t g, int64_t r, int64_t k)
{
    if (r >= h->m_g || k >= h->k_g)
        return 0;
    return q->w[(g * h->m_g + r) * h->k_g + k];
}

static void pack_w(const evo_qconv_shape *s, const evo_qconv_consts *q, const evo_qconv_packed *h,
                   evo_qk_wlayout l, unsigned char *dst)
{
    for (int64_t g = 0; g < s->group; g++) {
        unsigned char *wg = dst + g * h->w_group_bytes;
        if (l == EVO_QK_W_DW) {
            int32_t *d = (int32_t *)wg;
            for (int64_t k = 0; k < h->k_g; k++)
                d[k] = (int32_t)(uint16_t)(int16_t)w_at(q, h, g, 0, k);
            continue;
        }
        for (int64_t mp = 0; mp < h->m_panels; mp++)
            for (int64_t k4 = 0; k4 < h->k_pad; k4 += 4)
                for (int i = 0; i < h->mr; i++) {
                    int64_t r = mp * h->mr + i;
                    if (l == EVO_QK_W_DPBUSD) {
                        for (int b = 0; b < 4; b++)
                            *wg++ = (unsigned char)(int8_t)w_at(q, h, g, r, k4 + b);
                    } else { /* (w0, w2) then (w1, w3) as int16 */
                        static const int order[4] = {0, 2, 1, 3};
                        for (int b = 0; b < 4; b++) {
                            int16_t v = (int16_t)w_at(q, h, g, r, k4 + order[b]);
                            memcpy(wg, &v, 2);
                            wg += 2;
                        }
                    }
                }
    }
}

void evo_qconv_pack(const evo_qconv_shape *s, const evo_qconv_consts *q, int mr, evo_qk_wlayout l, void *dst)
{
    evo_qconv_packed h;
    layout(s, mr, l, &h);
    unsigned char *base = dst;
    int32_t *bias = (int32_t *)(base + h.off_bias), *qmul = (int32_t *)(base + h.off_qmul);
    int32_t *shift = (int32_t *)(base + h.off_shift), *table = (int32_t *)(base + h.off_table);
    float *mult = (float *)(base + h.off_mult);
    h.requant = q->requant;
    h.x_xor = q->x_signed ? 0x80 : 0;
    h.x_pad = (uint8_t)q->x_zp;
    memset(table, 0, 256 * 4);
    pack_act(q, &h, table);
    /* the depthwise kernels read raw x; the GEMMs read x ^ x_xor as uint8 */
    int32_t zp = l == EVO_QK_W_DW ? q->x_zp : q->x_zp + (q->x_signed ? 128 : 0);
    float target = h.has_table ? q->act_scale : q->y_scale;
    for (int64_t c = 0; c < s->c_out; c++) {
        int64_t g = c / h.m_g, r = c % h.m_g;
        uint32_t sum = 0;
        for (int64_t k = 0; k < h.k_g; k++)
            sum += (uint32_t)w_at(q, &h, g, r, k);
        uint32_t b = q->bias ? (uint32_t)q->bias[c] : 0u;
        bias[c] = (int32_t)(b - (uint32_t)zp * sum); /* wraps as the int32 accumulator does */
        float ws = q->w_scale[q->w_per_channel ? c : 0];
        mult[c] = (q->x_scale * ws) / target;
        evo_qk_quantize_multiplier((double)q->x_scale * ws / target, &qmul[c], &shift[c]);
    }
    memcpy(base, &h, sizeof(h));
    pack_w(s, q, &h, l, base + h.off_w);
}
