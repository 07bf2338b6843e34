/*
 * conv_avx512.h - what the AVX-512 Conv variants (conv_avx512.c im2col,
 * conv_wino_avx512.c Winograd, conv_bcast_avx512.c input broadcast) share: the
 * register tile, the micro-kernel macro, and (conv_act.inc) the
 * activations and the store/epilogue. Included only by files compiled for AVX-512;
 * every function is static, each file instantiates the micro-kernels it
 * uses with KERNEL(name, vectors).
 */
#ifndef EVO_CONV_AVX512_H
#define EVO_CONV_AVX512_H

#include "kernels/conv_fast.h"
#include "kernels/simd/vec_avx512.h"

#include <immintrin.h>
#include <string.h>

#define MR 8 /* the micro-kernel spells out eight rows */
#define NR 48
#define VL 16

typedef evo_conv_epilogue epilogue;

static inline __mmask16 range_mask(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : lo;
    hi = hi > VL ? VL : hi;
    if (hi <= lo)
        return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

#include "kernels/conv_act.inc"

/* The 32 floats of lo and hi stored as their even lanes at even, their odd lanes at odd. */
static inline void dw_split_even_odd(__m512 lo, __m512 hi, float *even, float *odd)
{
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    _mm512_storeu_ps(even, _mm512_permutex2var_ps(lo, ev, hi));
    _mm512_storeu_ps(odd, _mm512_permutex2var_ps(lo, od, hi));
}

/*
 * One zero-padded input row: rs floats into dst, input column c - pw at
 * dst[c] (src: the input row, or NULL for a row of padding). The
 * interior takes plain loads and fetches the row a kilobyte ahead (the
 * input is cold, from L3).
 */
static inline void conv_copy_padded_row(float *dst, int64_t rs, const float *src, int64_t pw, int64_t iw)
{
    if (!src) {
        for (int64_t j = 0; j < rs; j += VL)
            _mm512_mask_storeu_ps(dst + j, range_mask(0, rs - j), _mm512_setzero_ps());
        return;
    }
    src -= pw;
    int64_t j = 0;
    for (; j < pw; j += VL) { /* left padding */
        __m512 v = _mm512_maskz_loadu_ps(range_mask(pw - j, pw + iw - j), src + j);
        _mm512_mask_storeu_ps(dst + j, range_mask(0, rs - j), v);
    }
    for (; j + VL <= rs && j + VL <= pw + iw; j += VL) {
        _mm_prefetch((const char *)(src + j + 256), _MM_HINT_T0);
        _mm512_storeu_ps(dst + j, _mm512_loadu_ps(src + j));
    }
    for (; j < rs; j += VL) { /* right padding and the row's end */
        __m512 v = _mm512_maskz_loadu_ps(range_mask(pw - j, pw + iw - j), src + j);
        _mm512_mask_storeu_ps(dst + j, range_mask(0, rs - j), v);
    }
}

/*
 * acc[i * 3 + v] = sum over kc of A panel column i times B row vector v, for
 * the first NV vectors (the last read under tail_mask; B row p at BROW, an
 * expression of b, p and step), in conv_act.inc's 24 named accumulators.
 */
#define ROW_FMA(i, NV)                                                                                       \
    do {                                                                                                     \
        __m512 av = _mm512_set1_ps(a[i]);                                                                    \
        c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0);                                                          \
        if (NV > 1)                                                                                          \
            c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1);                                                      \
        if (NV > 2)                                                                                          \
            c##i##2 = _mm512_fmadd_ps(av, b2, c##i##2);                                                      \
    } while (0)
/*
 * Floats ahead of the current A row that the micro-kernel prefetches: the
 * weights of big late layers stream from memory once per image, and a
 * panel sweep reads them in one contiguous run (conv_fast.h).
 */
#define A_PREFETCH 512
#define KERNEL_GEN(NAME, NV, STEP_T, BROW, EXTRA)                                                            \
    __attribute__((noinline)) static void NAME(int64_t kc, const float *restrict a, const float *restrict b, \
                                               STEP_T step, __mmask16 tail_mask, __m512 *restrict acc)       \
    {                                                                                                        \
        CONV_ACC_DECL8;                                                                                      \
        for (int64_t p = 0; p < kc; p++) {                                                                   \
            const float *restrict bp = BROW;                                                                 \
            __m512 b0, b1 = c00, b2 = c00;                                                                   \
            if (NV == 1)                                                                                     \
                b0 = _mm512_maskz_loadu_ps(tail_mask, bp);                                                   \
            else                                                                                             \
                b0 = _mm512_loadu_ps(bp);                                                                    \
            if (NV == 2)                                                                                     \
                b1 = _mm512_maskz_loadu_ps(tail_mask, bp + VL);                                              \
            else if (NV > 2)                                                                                 \
                b1 = _mm512_loadu_ps(bp + VL);                                                               \
            if (NV == 3)                                                                                     \
                b2 = _mm512_maskz_loadu_ps(tail_mask, bp + 2 * VL);                                          \
            _mm_prefetch((const char *)(a + A_PREFETCH), _MM_HINT_T0);                                       \
            EXTRA;                                                                                           \
            ROW_FMA(0, NV);                                                                                  \
            ROW_FMA(1, NV);                                                                                  \
            ROW_FMA(2, NV);                                                                                  \
            ROW_FMA(3, NV);                                                                                  \
            ROW_FMA(4, NV);                                                                                  \
            ROW_FMA(5, NV);                                                                                  \
            ROW_FMA(6, NV);                                                                                  \
            ROW_FMA(7, NV);                                                                                  \
            a += MR;                                                                                         \
        }                                                                                                    \
        CONV_ACC_OUT8;                                                                                       \
    }
/* B rows step floats apart from b */
#define KERNEL(NAME, NV) KERNEL_GEN(NAME, NV, int64_t, b + p * step, (void)0)
/* B row p at b + off[p] */
#define KERNEL_OFF(NAME, NV) KERNEL_GEN(NAME, NV, const int64_t *, b + step[p], (void)0)

#endif /* EVO_CONV_AVX512_H */
