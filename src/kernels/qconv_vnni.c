/*
 * qconv_vnni.c - int8 Conv as a packed-weight GEMM with vpdpbusd
 * (AVX512-VNNI); the scheme is qconv_fast.h's, the packing and loops
 * qconv_body.inc's.
 *
 * Register tile: MR = 8 output channels x NR = 48 output positions (three
 * zmm of 16 columns per channel row, 24 int32 accumulators). Each step
 * over 4 K loads three B vectors (16 columns x 4 uint8 bytes) and
 * broadcasts each row's 4 int8 weights; vpdpbusd adds the four exact
 * products of each column to its lane, so no intermediate saturates.
 */
#include "kernels/qconv_avx512.h"

#include <string.h>

#define MR EVO_QCONV_VNNI_MR
#define NR EVO_QCONV_VNNI_NR
#define QK_LAYOUT EVO_QK_W_DPBUSD
#define WB 4 /* weight bytes per row per 4 K */

#define ROW_DP(i, NV)                                                                                        \
    do {                                                                                                     \
        __m512i av = _mm512_set1_epi32(aw[i]);                                                               \
        c##i##0 = _mm512_dpbusd_epi32(c##i##0, b0, av);                                                      \
        if (NV > 1)                                                                                          \
            c##i##1 = _mm512_dpbusd_epi32(c##i##1, b1, av);                                                  \
        if (NV > 2)                                                                                          \
            c##i##2 = _mm512_dpbusd_epi32(c##i##2, b2, av);                                                  \
    } while (0)
#define ROW_OUT(i) acc[i * 3] = c##i##0, acc[i * 3 + 1] = c##i##1, acc[i * 3 + 2] = c##i##2
/* The accumulators are named variables: GCC keeps an array of them in memory inside the loop. */
#define QKERNEL(NAME, NV)                                                                                    \
    __attribute__((noinline)) static void NAME(int64_t k4n, const unsigned char *restrict a,                 \
                                               const uint8_t *restrict b, __m512i *restrict acc)             \
    {                                                                                                        \
        __m512i c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;                                  \
        __m512i c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;                                  \
        c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm512_setzero_si512();      \
        c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = c00;                         \
        for (int64_t p = 0; p < k4n; p++) {                                                                  \
            int32_t aw[MR];                                                                                  \
            memcpy(aw, a, sizeof(aw));                                                                       \
            __m512i b0 = _mm512_loadu_si512(b), b1 = c00, b2 = c00;                                          \
            if (NV > 1)                                                                                      \
                b1 = _mm512_loadu_si512(b + 64);                                                             \
            if (NV > 2)                                                                                      \
                b2 = _mm512_loadu_si512(b + 128);                                                            \
            _mm_prefetch((const char *)(a + 512), _MM_HINT_T0);                                              \
            ROW_DP(0, NV);                                                                                   \
            ROW_DP(1, NV);                                                                                   \
            ROW_DP(2, NV);                                                                                   \
            ROW_DP(3, NV);                                                                                   \
            ROW_DP(4, NV);                                                                                   \
            ROW_DP(5, NV);                                                                                   \
            ROW_DP(6, NV);                                                                                   \
            ROW_DP(7, NV);                                                                                   \
            a += MR * WB;                                                                                    \
            b += NR * 4;                                                                                     \
        }                                                                                                    \
        ROW_OUT(0);                                                                                          \
        ROW_OUT(1);                                                                                          \
        ROW_OUT(2);                                                                                          \
        ROW_OUT(3);                                                                                          \
        ROW_OUT(4);                                                                                          \
        ROW_OUT(5);                                                                                          \
        ROW_OUT(6);                                                                                          \
        ROW_OUT(7);                                                                                          \
    }

QKERNEL(qkernel1, 1)
QKERNEL(qkernel2, 2)
QKERNEL(qkernel3, 3)

static void tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a, const uint8_t *b,
                 int64_t k4n, int64_t width, int64_t ch0, int n_rows, uint8_t *y, int64_t ldy)
{
    __m512i acc[MR * 3];
    int nv = (int)((width + 15) / 16);
    if (nv == 3)
        qkernel3(k4n, a, b, acc);
    else if (nv == 2)
        qkernel2(k4n, a, b, acc);
    else
        qkernel1(k4n, a, b, acc);
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int i = 0; i < n_rows; i++) {
        qrow r;
        qrow_load(h, base, ch0 + i, &r);
        for (int v = 0; v < nv; v++)
            qepi16_store(h, table, &r, acc[i * 3 + v], y + i * ldy + v * 16, qmask16(width - v * 16));
    }
}

#include "kernels/qconv_body.inc"

void evo_qconv_gemm_vnni(const evo_qconv_plan *p, const void *packed, const void *x, void *y, void *scratch,
                         int task, int n_tasks)
{
    qgemm_run(p, packed, x, y, scratch, task, n_tasks);
}

const evo_kernel_def evo_kernel_qconv_vnni = {
    .name = "qconv_vnni",
    .isa = EVO_ISA_VNNI,
    .supports = qk_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};
