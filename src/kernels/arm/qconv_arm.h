/*
 * qconv_arm.h - the output byte of the AArch64 int8 Conv variants: bias +
 * accumulator requantized with the reference's scalar arithmetic
 * (quant_common.h, docs/int8.md) from a qconv_fast.h packed head, so every
 * variant is bit-exact with the reference whatever its multiply
 * instruction.
 */
#ifndef EVO_QCONV_ARM_H
#define EVO_QCONV_ARM_H

#include "kernels/qconv_fast.h"
#include "kernels/quant_common.h"

#include <arm_neon.h>

/* Output channel c's byte for accumulator acc (without the bias) of the conv packed at base. */
static inline uint8_t evo_qarm_out(const evo_qconv_packed *h, const unsigned char *base, int64_t c, int32_t acc)
{
    int32_t bias = ((const int32_t *)(base + h->off_bias))[c];
    int32_t a = (int32_t)((uint32_t)acc + (uint32_t)bias); /* wraps as the reference's int32 sum */
    int32_t v;
    if (h->requant == EVO_REQUANT_FIXED) {
        const int32_t *qmul = (const int32_t *)(base + h->off_qmul), *shift = (const int32_t *)(base + h->off_shift);
        int64_t r = (int64_t)evo_requant_fixed(a, qmul[c], shift[c]) + h->zp;
        v = r < h->lo ? h->lo : r > h->hi ? h->hi : (int32_t)r;
    } else {
        v = evo_requant_float(a, ((const float *)(base + h->off_mult))[c], h->zp, h->lo, h->hi);
    }
    return h->has_table ? base[h->off_table8 + (v & 255)] : (uint8_t)v;
}

/*
 * The same for 4 accumulators of channel c, before the table: the value
 * in [lo, hi]. FLOAT: SCVTF, FMUL, FRINTN (ties to even, as nearbyintf),
 * the zero point added in float, then the clamps with NaN going to lo, as
 * evo_requant_float. FIXED: SQSHL (the saturating left shift), SQRDMULH
 * (gemmlowp's SaturatingRoundingDoublingHighMul, exactly) and gemmlowp's
 * NEON RoundingDivideByPOT (a fix-up of negative values, then SRSHL).
 */
static inline int32x4_t evo_qarm_requant4(const evo_qconv_packed *h, const unsigned char *base, int64_t c,
                                          int32x4_t acc)
{
    int32x4_t a = vaddq_s32(acc, vdupq_n_s32(((const int32_t *)(base + h->off_bias))[c]));
    if (h->requant == EVO_REQUANT_FIXED) {
        int32_t q = ((const int32_t *)(base + h->off_qmul))[c], sh = ((const int32_t *)(base + h->off_shift))[c];
        int32x4_t v = vqrdmulhq_s32(vqshlq_s32(a, vdupq_n_s32(sh > 0 ? sh : 0)), vdupq_n_s32(q));
        int32x4_t right = vdupq_n_s32(sh < 0 ? sh : 0); /* a negative shift count: SRSHL shifts right */
        int32x4_t fixup = vshrq_n_s32(vandq_s32(v, right), 31);
        v = vrshlq_s32(vqaddq_s32(v, fixup), right);
        v = vqaddq_s32(v, vdupq_n_s32(h->zp));
        return vminq_s32(vmaxq_s32(v, vdupq_n_s32(h->lo)), vdupq_n_s32(h->hi));
    }
    float m = ((const float *)(base + h->off_mult))[c];
    float32x4_t f = vaddq_f32(vrndnq_f32(vmulq_f32(vcvtq_f32_s32(a), vdupq_n_f32(m))), vdupq_n_f32((float)h->zp));
    float32x4_t lo = vdupq_n_f32((float)h->lo), hi = vdupq_n_f32((float)h->hi);
    f = vbslq_f32(vcgeq_f32(f, lo), f, lo);
    f = vbslq_f32(vcgtq_f32(f, hi), hi, f);
    return vcvtq_s32_f32(f);
}

/* n <= 4 output bytes of channel c from 4 accumulators. */
static inline void evo_qarm_store4(const evo_qconv_packed *h, const unsigned char *base, int64_t c, int32x4_t acc,
                                   uint8_t *y, int n)
{
    int32_t v[4];
    vst1q_s32(v, evo_qarm_requant4(h, base, c, acc));
    const uint8_t *table = base + h->off_table8;
    for (int l = 0; l < n; l++)
        y[l] = h->has_table ? table[v[l] & 255] : (uint8_t)v[l];
}

#endif /* EVO_QCONV_ARM_H */
