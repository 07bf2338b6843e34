/*
 * peak_avx512.c - the AVX-512 FMA peak loop: 12 independent accumulators in named
 * registers cover the FMA latency (4 cycles) times two ports with room to spare.
 */
#include "kernels/peak.h"

#include <immintrin.h>

double evo_peak_fma_avx512(int64_t n_iter)
{
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 r0 = _mm512_set1_ps((float)0), r1 = _mm512_set1_ps((float)1), r2 = _mm512_set1_ps((float)2), r3 = _mm512_set1_ps((float)3), r4 = _mm512_set1_ps((float)4), r5 = _mm512_set1_ps((float)5), r6 = _mm512_set1_ps((float)6), r7 = _mm512_set1_ps((float)7), r8 = _mm512_set1_ps((float)8), r9 = _mm512_set1_ps((float)9), r10 = _mm512_set1_ps((float)10), r11 = _mm512_set1_ps((float)11);
    for (int64_t it = 0; it < n_iter; it++) {
        r0 = _mm512_fmadd_ps(r0, a, b);
        r1 = _mm512_fmadd_ps(r1, a, b);
        r2 = _mm512_fmadd_ps(r2, a, b);
        r3 = _mm512_fmadd_ps(r3, a, b);
        r4 = _mm512_fmadd_ps(r4, a, b);
        r5 = _mm512_fmadd_ps(r5, a, b);
        r6 = _mm512_fmadd_ps(r6, a, b);
        r7 = _mm512_fmadd_ps(r7, a, b);
        r8 = _mm512_fmadd_ps(r8, a, b);
        r9 = _mm512_fmadd_ps(r9, a, b);
        r10 = _mm512_fmadd_ps(r10, a, b);
        r11 = _mm512_fmadd_ps(r11, a, b);
    }
    __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0, r1), r2), r3), r4), r5), r6), r7), r8), r9), r10), r11);
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return (double)n_iter * 12 * 16 * 2;
}
