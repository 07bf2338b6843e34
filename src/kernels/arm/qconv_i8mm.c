/*
 * qconv_i8mm.c - int8 Conv with USMMLA (ARMv8.6-A i8mm: Cortex-A510,
 * A710, X2, Neoverse V1/N2); loops, packing and store are
 * qconv_arm_body.inc's.
 *
 * USMMLA multiplies unsigned by signed, so the activations go in as uint8
 * (int8 x ^ 0x80, as on x86) against int8 weights, with the x86 bias
 * folding. One instruction adds a 2x8 block of two columns' 8 K bytes
 * times the 8x2 block of two channels' (32 MACs) into a 2x2 int32 tile:
 * lanes (c0 ch0, c0 ch1, c1 ch0, c1 ch1). K goes in groups of 8: the
 * weights are packed EVO_QK_W_MMLA ([panel][K/8][8 channels][8]), so two
 * channels' groups are one 16-byte vector, and the columns likewise.
 *
 * Register tile: MR = 8 channels x NR = 12 columns, 4 x 6 = 24 int32x4
 * accumulators; a step over 8 K loads 4 weight vectors and streams the 6
 * column vectors, 24 USMMLA (768 MACs) for 10 loads. After the K loop,
 * UZP1/UZP2 of two adjacent column pairs give a channel's 4 columns.
 */
#include "kernels/qconv_fast.h"

#include <arm_neon.h>

#define MR 8
#define NR 12
#define KG 8
#define QK_LAYOUT EVO_QK_W_MMLA

#define MM4(q)                                                                                               \
    {                                                                                                        \
        uint8x16_t bq = vld1q_u8(b + (q) * 16);                                                              \
        acc[0][q] = vusmmlaq_s32(acc[0][q], bq, w0);                                                         \
        acc[1][q] = vusmmlaq_s32(acc[1][q], bq, w1);                                                         \
        acc[2][q] = vusmmlaq_s32(acc[2][q], bq, w2);                                                         \
        acc[3][q] = vusmmlaq_s32(acc[3][q], bq, w3);                                                         \
    }

static void ukernel(int64_t kgn, const int8_t *w, const uint8_t *b, int32_t *out)
{
    int32x4_t acc[MR / 2][NR / 2];
    for (int p = 0; p < MR / 2; p++)
        for (int q = 0; q < NR / 2; q++)
            acc[p][q] = vdupq_n_s32(0);
    for (int64_t k = 0; k < kgn; k++, w += 64, b += 96) {
        int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
        MM4(0)
        MM4(1)
        MM4(2)
        MM4(3)
        MM4(4)
        MM4(5)
    }
    for (int p = 0; p < MR / 2; p++)
        for (int r = 0; r < NR / 4; r++) {
            vst1q_s32(out + (2 * p) * NR + 4 * r, vuzp1q_s32(acc[p][2 * r], acc[p][2 * r + 1]));
            vst1q_s32(out + (2 * p + 1) * NR + 4 * r, vuzp2q_s32(acc[p][2 * r], acc[p][2 * r + 1]));
        }
}

#include "kernels/arm/qconv_arm_body.inc"

const evo_kernel_def evo_kernel_qconv_i8mm = {
    .name = "qconv_i8mm",
    .isa = EVO_ISA_I8MM,
    .supports = qk_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};
