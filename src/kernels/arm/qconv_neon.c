/*
 * qconv_neon.c - int8 Conv and QLinearMatMul in plain Advanced SIMD, for
 * ARMv8.0 cores without dotprod (Cortex-A53, A57, A72 of the Pi 4); loops,
 * packing and store are qconv_arm_body.inc's, the packed operands those of
 * qconv_dotprod.c (activations as int8, EVO_QK_W_SDOT).
 *
 * SDOT's 4-byte dot product is done as SMULL (8 exact int16 products of
 * int8 pairs; |p| <= 2^14) then SADALP (adjacent pairs added into the
 * int32 lanes): a lane holds half of a column's 4-byte dot product, and
 * the two halves are added once after the K loop. SMLAL would overflow
 * int16 on (-128)(-128) + (-128)(-128).
 *
 * Register tile: MR = 8 channels x NR = 4 columns, 16 int32x4 accumulators
 * (two per channel: columns 0-1 and 2-3). Each step over 4 K loads one
 * column vector and two weight vectors, then per channel a DUP of its 4
 * weight bytes, 2 SMULL and 2 SADALP: 40 instructions per 128 MACs.
 */
#include "kernels/qconv_fast.h"

#include <arm_neon.h>

#define MR 8
#define NR 4
#define KG 4
#define QK_LAYOUT EVO_QK_W_SDOT

#define MAC2(i, wv, l)                                                                                       \
    {                                                                                                        \
        int8x16_t wd = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(wv), l));                   \
        acc[i][0] = vpadalq_s16(acc[i][0], vmull_s8(vget_low_s8(b0), vget_low_s8(wd)));                      \
        acc[i][1] = vpadalq_s16(acc[i][1], vmull_high_s8(b0, wd));                                           \
    }

static void ukernel(int64_t kgn, const int8_t *w, const uint8_t *b, int32_t *out)
{
    int32x4_t acc[MR][2];
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = vdupq_n_s32(0);
    const int8_t *bs = (const int8_t *)b;
    for (int64_t k = 0; k < kgn; k++, w += 32, bs += 16) {
        int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), b0 = vld1q_s8(bs);
        MAC2(0, w0, 0)
        MAC2(1, w0, 1)
        MAC2(2, w0, 2)
        MAC2(3, w0, 3)
        MAC2(4, w1, 0)
        MAC2(5, w1, 1)
        MAC2(6, w1, 2)
        MAC2(7, w1, 3)
    }
    /* lanes (c0 k01, c0 k23, c1 k01, c1 k23) | (c2 .., c3 ..) -> (c0, c1, c2, c3) */
    for (int i = 0; i < MR; i++)
        vst1q_s32(out + i * NR, vpaddq_s32(acc[i][0], acc[i][1]));
}

#include "kernels/arm/qconv_arm_body.inc"

const evo_kernel_def evo_kernel_qconv_neon = {
    .name = "qconv_neon",
    .isa = EVO_ISA_NEON,
    .supports = qk_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};

/* QLinearMatMul: 8 of B's columns x 4 of A's rows per tile */
#undef MR
#undef NR
#define MR UK_NR
#define NR UK_MR
#define WB 4
#define A_K4 4
#define QMM_LAYOUT EVO_QK_W_SDOT
#include "kernels/qmatmul_body.inc"

const evo_kernel_def evo_kernel_qmatmul_neon = {
    .name = "qmatmul_neon",
    .isa = EVO_ISA_NEON,
    .supports = qmm_supports,
    .scratch_bytes = qmm_scratch,
    .run = qmm_run,
    .packed_bytes = qmm_packed_bytes,
    .pack = qmm_pack,
};
