/*
 * gemv_avx512.h - y = W x for a single column x, W packed in 8-row panels
 * (conv_fast.h's layout: K blocks of kc rows, each holding every panel in
 * turn, a panel's row p at 8 p). The blocked GEMM's tile is 8 rows x 48
 * columns; with one column it broadcasts eight weights for eight
 * multiply-adds on one lane each, and streams the weights at a quarter of
 * what memory gives. Here each weight vector holds two rows of a panel (k
 * and k + 1, eight outputs each) against x[k] and x[k + 1] spread over the
 * halves of a vector: one load, one permute and one FMA per 16 weights.
 * Included by files compiled for AVX-512 (conv_avx512.c, gemm_avx512.c).
 */
#ifndef EVO_GEMV_AVX512_H
#define EVO_GEMV_AVX512_H

#include "kernels/kernel.h"

#include <immintrin.h>

/*
 * y[0 .. m) of panels [mp0, mp1) (y at panel 0's first row) = W x; W has
 * m_panels panels, depth k in blocks of kc rows. Rows past m are not
 * stored.
 */
static inline void evo_gemv8_avx512(const float *wp, int64_t m, int64_t m_panels, int64_t k, int64_t kc,
                                    const float *x, int64_t mp0, int64_t mp1, float *y)
{
    __m512i idx[8]; /* pair t: lanes 0-7 take x[2 t], lanes 8-15 x[2 t + 1] */
    for (int t = 0; t < 8; t++)
        idx[t] = _mm512_set_epi32(2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1,
                                  2 * t + 1, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t);
    for (int64_t mp = mp0; mp < mp1; mp++) {
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int64_t k0 = 0; k0 < k; k0 += kc) {
            int64_t kcb = EVO_MIN(kc, k - k0);
            const float *a = wp + (k0 * m_panels + mp * kcb) * 8, *xb = x + k0;
            int64_t q = 0;
            for (; q + 16 <= kcb; q += 16) {
                __m512 xv = _mm512_loadu_ps(xb + q);
                const float *aq = a + q * 8;
                for (int t = 0; t < 8; t++)
                    acc[t & 3] = _mm512_fmadd_ps(_mm512_loadu_ps(aq + 16 * t), _mm512_permutexvar_ps(idx[t], xv),
                                                 acc[t & 3]);
            }
            if (q < kcb) { /* the last rows: x past them reads as 0, and so do the weights */
                int64_t left = kcb - q;
                __m512 xv = _mm512_maskz_loadu_ps((__mmask16)((1u << left) - 1u), xb + q);
                for (int t = 0; 2 * t < left; t++) {
                    __mmask16 am = 2 * t + 1 < left ? (__mmask16)0xffff : (__mmask16)0x00ff;
                    acc[t & 3] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(am, a + (q + 2 * t) * 8),
                                                 _mm512_permutexvar_ps(idx[t], xv), acc[t & 3]);
                }
            }
        }
        __m512 s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        __m256 r = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
        int64_t rows = EVO_MIN((int64_t)8, m - mp * 8);
        _mm256_mask_storeu_ps(y + mp * 8, (__mmask8)((1u << rows) - 1u), r);
    }
}

#endif /* EVO_GEMV_AVX512_H */
