/*
 * qmatmul_avx2.c - QLinearMatMul on AVX2 with exact vpmaddwd products
 * (see qconv_avx2.c): A's rows are broadcast as their even and odd bytes
 * (int16 pairs (a0, a2) and (a1, a3) per 4 K), B's columns packed as the
 * int16 pairs (w0, w2) and (w1, w3) (EVO_QK_W_MADD_T); a tile is MR = 4
 * rows x NR = 16 columns, each column an output channel of its own.
 */
#include "kernels/qconv_avx2.h"

#define MR 4
#define NR 16
#define WB 8
#define A_K4 8
#define QMM_LAYOUT EVO_QK_W_MADD_T

#define ROW_MM(i)                                                                                            \
    do {                                                                                                     \
        __m256i ae = _mm256_set1_epi32(aw[2 * i]), ao = _mm256_set1_epi32(aw[2 * i + 1]);                    \
        c##i##0 = _mm256_add_epi32(c##i##0,                                                                  \
                                   _mm256_add_epi32(_mm256_madd_epi16(ae, w0), _mm256_madd_epi16(ao, u0)));  \
        c##i##1 = _mm256_add_epi32(c##i##1,                                                                  \
                                   _mm256_add_epi32(_mm256_madd_epi16(ae, w1), _mm256_madd_epi16(ao, u1)));  \
    } while (0)

/* acc[i * 2 + v] = the MR x NR tile over k4n steps of 4 K. */
__attribute__((noinline)) static void mmkernel(int64_t k4n, const unsigned char *restrict a,
                                               const unsigned char *restrict b, __m256i *restrict acc)
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
            c31 = c00;
    for (int64_t p = 0; p < k4n; p++) {
        int32_t aw[2 * MR];
        memcpy(aw, a, sizeof(aw));
        __m256i w0 = _mm256_loadu_si256((const __m256i *)b),
                w1 = _mm256_loadu_si256((const __m256i *)(b + 32));
        __m256i u0 = _mm256_loadu_si256((const __m256i *)(b + 64)),
                u1 = _mm256_loadu_si256((const __m256i *)(b + 96));
        ROW_MM(0);
        ROW_MM(1);
        ROW_MM(2);
        ROW_MM(3);
        a += MR * A_K4;
        b += NR * WB;
    }
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
    acc[4] = c20, acc[5] = c21, acc[6] = c30, acc[7] = c31;
}

static void mm_tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a,
                    const unsigned char *b, int64_t k4n, int64_t width, int64_t j0, int n_rows, uint8_t *y,
                    int64_t ldy)
{
    __m256i acc[MR * 2];
    mmkernel(k4n, a, b, acc);
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int v = 0; v * 8 < width; v++) {
        qrow r;
        qrow_load_lanes(h, base, j0 + v * 8, width - v * 8, &r);
        for (int i = 0; i < n_rows; i++)
            qepi8_store(h, table, &r, acc[i * 2 + v], y + i * ldy + v * 8, width - v * 8);
    }
}

#include "kernels/qmatmul_body.inc"

const evo_kernel_def evo_kernel_qmatmul_avx2 = {
    .name = "qmatmul_avx2",
    .isa = EVO_ISA_AVX2,
    .supports = qmm_supports,
    .scratch_bytes = qmm_scratch,
    .run = qmm_run,
    .packed_bytes = qmm_packed_bytes,
    .pack = qmm_pack,
};
