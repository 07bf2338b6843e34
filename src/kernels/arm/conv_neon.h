/*
 * conv_neon.h - the AArch64 fp32 Conv micro-kernel and epilogues, shared
 * by arm/conv_neon.c (im2col and 1x1 GEMM) and arm/conv_wino_neon.c
 * (Winograd).
 *
 * Register tile: MR = 8 output channels x NR = 12 output positions. Each
 * K step loads the 8 weights as two vectors and the 12 columns as three,
 * and issues 24 FMAs by lane (fmla v.4s, v.4s, v.s[i]): 24 accumulators +
 * 5 operands = 29 of the 32 registers, 5 loads per 24 FMAs, so the two FMA
 * pipes of a Cortex-A76/A78 stay fed from L1 (docs/arm64.md).
 */
#ifndef EVO_KERNELS_ARM_CONV_NEON_H
#define EVO_KERNELS_ARM_CONV_NEON_H

#include "kernels/conv_fast.h"
#include "kernels/simd/vec_neon.h"

#include <string.h>

#define MR 8
#define NR 12
#define VL 4

typedef evo_conv_epilogue epilogue;

/* Lanes [lo, hi) of 4: only prefixes (lo = 0) are asked for here. */
static inline vmask range_mask(int64_t lo, int64_t hi)
{
    return v_mask_n(hi);
}

#include "kernels/conv_act.inc"

/*
 * acc[i * 3 + v] = sum over kc of A panel column i times B row vector v
 * (B rows ldb apart, all 12 columns readable), in conv_act.inc's named
 * accumulators so that they live in registers for the whole loop.
 */
#define ROW_FMA(i, av, lane)                                                                                 \
    do {                                                                                                     \
        c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane);                                                    \
        c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane);                                                    \
        c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);                                                    \
    } while (0)
__attribute__((noinline)) static void kernel_8x12(int64_t kc, const float *restrict a, const float *restrict b,
                                                  int64_t ldb, vf *restrict acc)
{
    CONV_ACC_DECL8;
    for (int64_t p = 0; p < kc; p++) {
        vf b0 = vld1q_f32(b), b1 = vld1q_f32(b + VL), b2 = vld1q_f32(b + 2 * VL);
        vf a0 = vld1q_f32(a), a1 = vld1q_f32(a + VL);
        ROW_FMA(0, a0, 0);
        ROW_FMA(1, a0, 1);
        ROW_FMA(2, a0, 2);
        ROW_FMA(3, a0, 3);
        ROW_FMA(4, a1, 0);
        ROW_FMA(5, a1, 1);
        ROW_FMA(6, a1, 2);
        ROW_FMA(7, a1, 3);
        a += MR;
        b += ldb;
    }
    CONV_ACC_OUT8;
}

#endif
