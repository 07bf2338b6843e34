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

#endif /* EVO_QCONV_ARM_H */
