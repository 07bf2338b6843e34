/*
 * conv_avx2.c - 2-D Conv as a packed-weight GEMM with fused im2col
 * packing, AVX2 + FMA (see conv_fast.h for the scheme): the width-bound
 * parts of conv_body.inc, which conv_avx512.c shares with wider vectors.
 *
 * Register tile: MR = 4 output channels x NR = 24 output positions (three
 * ymm per row, 12 accumulators, three B loads and one broadcast: all 16
 * registers). Tail panels use one or two vectors and a lane mask. Input
 * padding is applied by masked loads while packing (maskload never faults
 * on masked-off lanes), stride 2 by an even-lane shuffle.
 */
#include "kernels/conv_fast.h"
#include "kernels/simd/vec_avx2.h"

#include <immintrin.h>
#include <string.h>

#define MR 4 /* the micro-kernel spells out four rows */
#define NR 24
#define VL 8

typedef evo_conv_epilogue epilogue;

/* Lanes [lo, hi) of 8 set. */
static inline __m256i range_mask(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : (lo > VL ? VL : lo);
    hi = hi < 0 ? 0 : (hi > VL ? VL : hi);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)lo), idx),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), idx));
}

#include "kernels/conv_act.inc"

/* Copies one run of len columns of a packed row from an input row (see pack_b). */
static void pack_run(float *d, int64_t len, const float *src, int64_t iw0, int64_t sw, int64_t iw)
{
    if (sw == 1) {
        int64_t t = 0;
        if (iw0 >= 0) /* interior full vectors: no masks */
            for (; t + VL <= len && iw0 + t + VL <= iw; t += VL)
                _mm256_storeu_ps(d + t, _mm256_loadu_ps(src + iw0 + t));
        for (; t < len; t += VL) {
            int64_t base = iw0 + t;
            __m256i m = range_mask(-base, EVO_MIN(len - t, iw - base));
            _mm256_maskstore_ps(d + t, range_mask(0, len - t), _mm256_maskload_ps(src + base, m));
        }
    } else if (sw == 2) {
        int64_t t = 0;
        if (iw0 >= 0) /* interior full vectors: no masks */
            for (; t + VL <= len && iw0 + 2 * (t + VL) <= iw; t += VL) {
                __m256 lo = _mm256_loadu_ps(src + iw0 + 2 * t), up = _mm256_loadu_ps(src + iw0 + 2 * t + VL);
                _mm256_storeu_ps(d + t, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                            _mm256_castps_pd(_mm256_shuffle_ps(lo, up, 0x88)), 0xd8)));
            }
        for (; t < len; t += VL) {
            int64_t base = iw0 + 2 * t, hi = EVO_MIN(2 * (len - t), iw - base);
            __m256 lo = _mm256_maskload_ps(src + base, range_mask(-base, hi));
            __m256 up = _mm256_maskload_ps(src + base + VL, range_mask(-base - VL, hi - VL));
            // even lanes: [lo0 lo2 up0 up2 | lo4 lo6 up4 up6] -> [lo0 lo2 lo4 lo6 up0 ...]
            __m256 ev = _mm256_castpd_ps(
                _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, up, 0x88)), 0xd8));
            _mm256_maskstore_ps(d + t, range_mask(0, len - t), ev);
        }
    } else {
        conv_pack_run_strided(d, len, src, iw0, sw, iw);
    }
}

/*
 * acc[i * 3 + v] = sum over kc of A panel column i times B row vector v, for
 * the first NV vectors (with MASKED, the last read under tail_mask; B rows ldb apart).
 * The 12 accumulators are conv_act.inc's named variables. Out of line, so that the loop's registers are
 * allocated apart from the tile loops around it: inlined there, GCC may
 * fold two of the three B loads into each row's FMA (13 loads per 12 FMAs
 * instead of 7).
 */
#define ROW_FMA(i, NV)                                                                                       \
    do {                                                                                                     \
        __m256 av = _mm256_broadcast_ss(a + i);                                                              \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                                                          \
        if (NV > 1)                                                                                          \
            c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);                                                      \
        if (NV > 2)                                                                                          \
            c##i##2 = _mm256_fmadd_ps(av, b2, c##i##2);                                                      \
    } while (0)
#define KERNEL(NAME, NV, MASKED)                                                                             \
    __attribute__((noinline)) static void NAME(int64_t kc, const float *restrict a, const float *restrict b, \
                                               int64_t ldb, __m256i tail_mask, __m256 *restrict acc)         \
    {                                                                                                        \
        CONV_ACC_DECL4;                                                                                      \
        for (int64_t p = 0; p < kc; p++) {                                                                   \
            __m256 b0, b1 = c00, b2 = c00;                                                                   \
            if (NV == 1 && MASKED)                                                                           \
                b0 = _mm256_maskload_ps(b, tail_mask);                                                       \
            else                                                                                             \
                b0 = _mm256_loadu_ps(b);                                                                     \
            if (NV == 2 && MASKED)                                                                           \
                b1 = _mm256_maskload_ps(b + VL, tail_mask);                                                  \
            else if (NV > 1)                                                                                 \
                b1 = _mm256_loadu_ps(b + VL);                                                                \
            if (NV == 3 && MASKED)                                                                           \
                b2 = _mm256_maskload_ps(b + 2 * VL, tail_mask);                                              \
            else if (NV == 3)                                                                                \
                b2 = _mm256_loadu_ps(b + 2 * VL);                                                            \
            ROW_FMA(0, NV);                                                                                  \
            ROW_FMA(1, NV);                                                                                  \
            ROW_FMA(2, NV);                                                                                  \
            ROW_FMA(3, NV);                                                                                  \
            a += MR;                                                                                         \
            b += ldb;                                                                                        \
        }                                                                                                    \
        CONV_ACC_OUT4;                                                                                       \
    }
KERNEL(kernel1, 1, 1)
KERNEL(kernel2, 2, 1)
KERNEL(kernel3, 3, 1)
KERNEL(kernel3_full, 3, 0) /* no tail: maskload costs more than a plain load */

/*
 * acc = the nv-vector tile of width columns at b (rows ldb apart). With
 * fetch_next (1x1, the first channel panel) the next column panel's rows
 * are fetched first.
 */
static inline void tile_kernel(int64_t kc, const float *a, const float *b, int64_t ldb, __m256i tm, int nv,
                               int64_t width, bool fetch_next, __m256 *acc)
{
    if (fetch_next)
        conv_prefetch_rows(b + NR, ldb, kc, NR);
    if (width == NR)
        kernel3_full(kc, a, b, ldb, tm, acc);
    else if (nv == 3)
        kernel3(kc, a, b, ldb, tm, acc);
    else if (nv == 2)
        kernel2(kc, a, b, ldb, tm, acc);
    else
        kernel1(kc, a, b, ldb, tm, acc);
}

#define CONV_NAME "avx2"
#define CONV_ISA EVO_ISA_AVX2
#define CONV_DEF evo_kernel_conv_avx2
#define CONV_SCALED_NAME "scaled_avx2"
#define CONV_SCALED_DEF evo_kernel_conv_scaled_avx2
#include "kernels/conv_body.inc"
