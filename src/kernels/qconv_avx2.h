/*
 * qconv_avx2.h - the AVX2 int8 epilogue (qconv_avx2.c, qmatmul_avx2.c):
 * 8 accumulators of one channel (or of one channel per lane) plus the
 * folded bias, requantized (FLOAT or FIXED, docs/int8.md), clamped, mapped
 * through the activation table and stored as bytes. Every function is
 * static; included only by files compiled for AVX2.
 */
#ifndef EVO_QCONV_AVX2_H
#define EVO_QCONV_AVX2_H

#include "kernels/qconv_fast.h"

#include <immintrin.h>
#include <string.h>

/* The epilogue constants of 8 lanes (one channel broadcast, or one channel per lane), in registers. */
typedef struct qrow {
    __m256i bias, q, ls, rs, rmask, rthr, lo, hi, zp, smax, smin;
    __m256 m, flo, fhi;
} qrow;

/* What follows from the per-lane bias, multipliers and shifts (the shifts: FIXED only). */
static inline void qrow_finish(const evo_qconv_packed *h, __m256i shift, qrow *r)
{
    const __m256i zero = _mm256_setzero_si256();
    r->ls = r->rs = r->rmask = r->rthr = r->smax = r->smin = zero;
    if (h->requant == EVO_REQUANT_FIXED) { /* FLOAT needs none of the shifts */
        r->ls = _mm256_min_epi32(_mm256_max_epi32(shift, zero), _mm256_set1_epi32(31));
        r->rs = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
        r->rmask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), r->rs), _mm256_set1_epi32(1));
        r->rthr = _mm256_srli_epi32(r->rmask, 1);
        /* acc << ls saturates beyond these */
        r->smax = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MAX), r->ls);
        r->smin = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MIN), r->ls);
    }
    r->lo = _mm256_set1_epi32(h->lo);
    r->hi = _mm256_set1_epi32(h->hi);
    r->zp = _mm256_set1_epi32(h->zp);
    r->flo = _mm256_set1_ps((float)(h->lo - h->zp));
    r->fhi = _mm256_set1_ps((float)(h->hi - h->zp));
}

/* Channel c in every lane (conv: a tile row is one channel). */
static inline void qrow_load(const evo_qconv_packed *h, const unsigned char *base, int64_t c, qrow *r)
{
    r->bias = _mm256_set1_epi32(((const int32_t *)(base + h->off_bias))[c]);
    r->q = _mm256_set1_epi32(((const int32_t *)(base + h->off_qmul))[c]);
    r->m = _mm256_set1_ps(((const float *)(base + h->off_mult))[c]);
    qrow_finish(h, _mm256_set1_epi32(((const int32_t *)(base + h->off_shift))[c]), r);
}

/* Channels c0 + lane for the first n lanes (matmul: a tile column is one channel). */
static inline void qrow_load_lanes(const evo_qconv_packed *h, const unsigned char *base, int64_t c0,
                                   int64_t n, qrow *r)
{
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)EVO_MIN(n, (int64_t)8)),
                                   _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    r->bias = _mm256_maskload_epi32((const int *)(base + h->off_bias) + c0, m);
    r->q = _mm256_maskload_epi32((const int *)(base + h->off_qmul) + c0, m);
    r->m = _mm256_maskload_ps((const float *)(base + h->off_mult) + c0, m);
    qrow_finish(h, _mm256_maskload_epi32((const int *)(base + h->off_shift) + c0, m), r);
}

/*
 * gemmlowp's fixed-point requantization of 8 accumulators: (x * q + 2^30)
 * >> 31 taken as the high half of the sum shifted left once (no 64-bit
 * arithmetic shift in AVX2), then RoundingDivideByPOT; acc << ls saturates.
 */
static inline __m256i requant_fixed8(__m256i acc, const qrow *r)
{
    const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i x = _mm256_sllv_epi32(acc, r->ls);
    x = _mm256_blendv_epi8(x, _mm256_set1_epi32(INT32_MAX), _mm256_cmpgt_epi32(acc, r->smax));
    x = _mm256_blendv_epi8(x, _mm256_set1_epi32(INT32_MIN), _mm256_cmpgt_epi32(r->smin, acc));
    __m256i pe = _mm256_mul_epi32(x, r->q);
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(r->q, 32));
    pe = _mm256_slli_epi64(_mm256_add_epi64(pe, nudge), 1);
    po = _mm256_slli_epi64(_mm256_add_epi64(po, nudge), 1);
    __m256i hm = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
    __m256i rem = _mm256_and_si256(hm, r->rmask);
    __m256i thr = _mm256_add_epi32(r->rthr, _mm256_srli_epi32(hm, 31));
    return _mm256_sub_epi32(_mm256_srav_epi32(hm, r->rs), _mm256_cmpgt_epi32(rem, thr));
}

/* Stores the output bytes of 8 accumulators of one channel (n of them). */
static inline void qepi8_store(const evo_qconv_packed *h, const int32_t *table, const qrow *r, __m256i acc,
                               uint8_t *dst, int64_t n)
{
    acc = _mm256_add_epi32(acc, r->bias);
    __m256i v;
    if (h->requant == EVO_REQUANT_FLOAT) {
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), r->m);
        f = _mm256_min_ps(_mm256_max_ps(f, r->flo), r->fhi);
        v = _mm256_add_epi32(_mm256_cvtps_epi32(f), r->zp);
    } else {
        v = _mm256_add_epi32(requant_fixed8(acc, r), r->zp);
        v = _mm256_min_epi32(_mm256_max_epi32(v, r->lo), r->hi);
    }
    if (h->has_table)
        v = _mm256_i32gather_epi32(table, _mm256_and_si256(v, _mm256_set1_epi32(255)), 4);
    const __m128i pick = _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m128i lo = _mm_shuffle_epi8(_mm256_castsi256_si128(v), pick);
    __m128i hi = _mm_shuffle_epi8(_mm256_extracti128_si256(v, 1), pick);
    __m128i b = _mm_unpacklo_epi32(lo, hi);
    if (n >= 8) {
        _mm_storel_epi64((__m128i *)dst, b);
    } else {
        uint8_t t[16];
        _mm_storeu_si128((__m128i *)t, b);
        memcpy(dst, t, (size_t)n);
    }
}

#endif /* EVO_QCONV_AVX2_H */
