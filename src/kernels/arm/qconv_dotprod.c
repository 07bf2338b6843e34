/*
 * qconv_dotprod.c - int8 Conv and QLinearMatMul with SDOT (ARMv8.2-A
 * dotprod: Cortex-A55, A76, A78, Neoverse N1); loops, packing and store
 * are qconv_arm_body.inc's.
 *
 * SDOT multiplies signed by signed, so the activations are fed as int8
 * (uint8 x ^ 0x80 = x - 128) and the weights are packed EVO_QK_W_SDOT,
 * whose bias holds (x_zp - 128) * sum(w) instead of x_zp * sum(w): the
 * same int32 sums, exactly (qconv_pack.c).
 *
 * Register tile: MR = 8 channels x NR = 12 columns, 24 int32x4
 * accumulators. Each step over 4 K loads two weight vectors (8 channels x
 * 4 bytes) and three column vectors (4 columns x 4 bytes) and issues 24
 * `sdot v.4s, b.16b, w.4b[lane]`, each 16 multiply-adds: 29 of the 32
 * vector registers, 5 loads per 384 MACs.
 */
#include "kernels/qconv_fast.h"

#include <arm_neon.h>

#define MR 8
#define NR 12
#define KG 4
#define QK_LAYOUT EVO_QK_W_SDOT

#define DOT4(i, wv, l)                                                                                       \
    acc[i][0] = vdotq_laneq_s32(acc[i][0], b0, wv, l);                                                       \
    acc[i][1] = vdotq_laneq_s32(acc[i][1], b1, wv, l);                                                       \
    acc[i][2] = vdotq_laneq_s32(acc[i][2], b2, wv, l);

static void ukernel(int64_t kgn, const int8_t *w, const uint8_t *b, int32_t *out)
{
    int32x4_t acc[MR][3];
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_s32(0);
    const int8_t *bs = (const int8_t *)b;
    for (int64_t k = 0; k < kgn; k++, w += 32, bs += 48) {
        int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16);
        int8x16_t b0 = vld1q_s8(bs), b1 = vld1q_s8(bs + 16), b2 = vld1q_s8(bs + 32);
        DOT4(0, w0, 0)
        DOT4(1, w0, 1)
        DOT4(2, w0, 2)
        DOT4(3, w0, 3)
        DOT4(4, w1, 0)
        DOT4(5, w1, 1)
        DOT4(6, w1, 2)
        DOT4(7, w1, 3)
    }
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < 3; v++)
            vst1q_s32(out + i * NR + v * 4, acc[i][v]);
}

#include "kernels/arm/qconv_arm_body.inc"

const evo_kernel_def evo_kernel_qconv_dotprod = {
    .name = "qconv_dotprod",
    .isa = EVO_ISA_DOTPROD,
    .supports = qk_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};

/* QLinearMatMul: 8 of B's columns x 12 of A's rows per tile */
#undef MR
#undef NR
#define MR UK_NR
#define NR UK_MR
#define WB 4
#define A_K4 4
#define QMM_LAYOUT EVO_QK_W_SDOT
#include "kernels/qmatmul_body.inc"

const evo_kernel_def evo_kernel_qmatmul_dotprod = {
    .name = "qmatmul_dotprod",
    .isa = EVO_ISA_DOTPROD,
    .supports = qmm_supports,
    .scratch_bytes = qmm_scratch,
    .run = qmm_run,
    .packed_bytes = qmm_packed_bytes,
    .pack = qmm_pack,
};
