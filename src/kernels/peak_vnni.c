/*
 * peak_vnni.c - the AVX-512 VNNI int8 peak loop: 12 independent vpdpbusd
 * chains (64 uint8 x int8 products into 16 int32 lanes each), as
 * peak_avx512.c does for FMAs; what int8 steps are measured against.
 */
#include "kernels/peak.h"

#include <immintrin.h>

double evo_peak_dot_vnni(int64_t n_iter)
{
    const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(-1);
    __m512i r0 = _mm512_set1_epi32(0), r1 = _mm512_set1_epi32(1), r2 = _mm512_set1_epi32(2);
    __m512i r3 = _mm512_set1_epi32(3), r4 = _mm512_set1_epi32(4), r5 = _mm512_set1_epi32(5);
    __m512i r6 = _mm512_set1_epi32(6), r7 = _mm512_set1_epi32(7), r8 = _mm512_set1_epi32(8);
    __m512i r9 = _mm512_set1_epi32(9), r10 = _mm512_set1_epi32(10), r11 = _mm512_set1_epi32(11);
    for (int64_t it = 0; it < n_iter; it++) {
        r0 = _mm512_dpbusd_epi32(r0, a, b);
        r1 = _mm512_dpbusd_epi32(r1, a, b);
        r2 = _mm512_dpbusd_epi32(r2, a, b);
        r3 = _mm512_dpbusd_epi32(r3, a, b);
        r4 = _mm512_dpbusd_epi32(r4, a, b);
        r5 = _mm512_dpbusd_epi32(r5, a, b);
        r6 = _mm512_dpbusd_epi32(r6, a, b);
        r7 = _mm512_dpbusd_epi32(r7, a, b);
        r8 = _mm512_dpbusd_epi32(r8, a, b);
        r9 = _mm512_dpbusd_epi32(r9, a, b);
        r10 = _mm512_dpbusd_epi32(r10, a, b);
        r11 = _mm512_dpbusd_epi32(r11, a, b);
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(r0, r1), _mm512_add_epi32(r2, r3)),
                                 _mm512_add_epi32(_mm512_add_epi32(r4, r5), _mm512_add_epi32(r6, r7)));
    s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(r8, r9), _mm512_add_epi32(r10, r11)));
    volatile int sink = _mm512_reduce_add_epi32(s);
    (void)sink;
    return (double)n_iter * 12 * 64 * 2;
}
