/*
 * conv_dw_avx512.c - depthwise 2-D Conv, AVX-512: conv_dw_body.inc (the
 * scheme is described there) with 16-lane vectors; stride 2 splits a row
 * into its even and odd columns with two cross-lane permutes.
 */
#include "kernels/conv_avx512.h"

#define DW_NV 8 /* vectors of outputs accumulated across the taps */

static inline void dw_split_even_odd(const float *src, float *even, float *odd)
{
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    __m512 lo = _mm512_loadu_ps(src), hi = _mm512_loadu_ps(src + VL);
    _mm512_storeu_ps(even, _mm512_permutex2var_ps(lo, ev, hi));
    _mm512_storeu_ps(odd, _mm512_permutex2var_ps(lo, od, hi));
}

#define DW_NAME "dw_avx512"
#define DW_ISA EVO_ISA_AVX512
#define DW_DEF evo_kernel_conv_dw_avx512
#include "kernels/conv_dw_body.inc"
