/*
 * qconv_avx512.h - the AVX-512 int8 conv epilogue (qconv_vnni.c,
 * qconv_dw_avx512.c): one output channel's 16 accumulators plus the folded
 * bias, requantized (FLOAT or FIXED, docs/int8.md), clamped, mapped
 * through the activation table and stored as bytes. Every function is
 * static; included only by files compiled for AVX-512.
 */
#ifndef EVO_QCONV_AVX512_H
#define EVO_QCONV_AVX512_H

#include "kernels/qconv_fast.h"

#include <immintrin.h>

/* One channel's epilogue constants, in registers. */
typedef struct qrow {
    __m512i bias, q, rmask, rthr, lo, hi, zp, smax, smin;
    __m512 m, flo, fhi;
    __m128i ls, rs;
} qrow;

static inline void qrow_load(const evo_qconv_packed *h, const unsigned char *base, int64_t c, qrow *r)
{
    int32_t shift = ((const int32_t *)(base + h->off_shift))[c];
    int32_t ls = shift > 31 ? 31 : shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift;
    int32_t mask = (int32_t)(((int64_t)1 << rs) - 1);
    r->bias = _mm512_set1_epi32(((const int32_t *)(base + h->off_bias))[c]);
    r->q = _mm512_set1_epi32(((const int32_t *)(base + h->off_qmul))[c]);
    r->m = _mm512_set1_ps(((const float *)(base + h->off_mult))[c]);
    r->rmask = _mm512_set1_epi32(mask);
    r->rthr = _mm512_set1_epi32(mask >> 1);
    r->ls = _mm_cvtsi32_si128(ls);
    r->smax = _mm512_set1_epi32(INT32_MAX >> ls); /* acc << ls saturates beyond these */
    r->smin = _mm512_set1_epi32(INT32_MIN >> ls);
    r->rs = _mm_cvtsi32_si128(rs);
    r->lo = _mm512_set1_epi32(h->lo);
    r->hi = _mm512_set1_epi32(h->hi);
    r->zp = _mm512_set1_epi32(h->zp);
    r->flo = _mm512_set1_ps((float)(h->lo - h->zp));
    r->fhi = _mm512_set1_ps((float)(h->hi - h->zp));
}

/* gemmlowp's fixed-point requantization of 16 accumulators (evo_requant_fixed: the left shift saturates). */
static inline __m512i requant_fixed16(__m512i acc, const qrow *r)
{
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
    __m512i x = _mm512_sll_epi32(acc, r->ls);
    x = _mm512_mask_mov_epi32(x, _mm512_cmpgt_epi32_mask(acc, r->smax), _mm512_set1_epi32(INT32_MAX));
    x = _mm512_mask_mov_epi32(x, _mm512_cmplt_epi32_mask(acc, r->smin), _mm512_set1_epi32(INT32_MIN));
    __m512i pe = _mm512_mul_epi32(x, r->q), po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), r->q);
    /* (x * q + 2^30) >> 31 is SaturatingRoundingDoublingHighMul for q > 0 */
    pe = _mm512_srai_epi64(_mm512_add_epi64(pe, nudge), 31);
    po = _mm512_srai_epi64(_mm512_add_epi64(po, nudge), 31);
    __m512i hm = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    /* RoundingDivideByPOT */
    __m512i rem = _mm512_and_si512(hm, r->rmask);
    __m512i thr = _mm512_add_epi32(r->rthr, _mm512_srli_epi32(hm, 31));
    __m512i v = _mm512_sra_epi32(hm, r->rs);
    return _mm512_mask_add_epi32(v, _mm512_cmpgt_epi32_mask(rem, thr), v, _mm512_set1_epi32(1));
}

/* The output bytes (as int32 lanes) of 16 accumulators of one channel. */
static inline __m512i qepi16(const evo_qconv_packed *h, const int32_t *table, const qrow *r, __m512i acc)
{
    acc = _mm512_add_epi32(acc, r->bias);
    __m512i v;
    if (h->requant == EVO_REQUANT_FLOAT) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), r->m);
        f = _mm512_min_ps(_mm512_max_ps(f, r->flo), r->fhi);
        v = _mm512_add_epi32(_mm512_cvtps_epi32(f), r->zp);
    } else {
        v = _mm512_add_epi32(requant_fixed16(acc, r), r->zp);
        v = _mm512_min_epi32(_mm512_max_epi32(v, r->lo), r->hi);
    }
    if (h->has_table)
        v = _mm512_i32gather_epi32(_mm512_and_si512(v, _mm512_set1_epi32(255)), table, 4);
    return v;
}

static inline void qepi16_store(const evo_qconv_packed *h, const int32_t *table, const qrow *r, __m512i acc,
                                uint8_t *dst, __mmask16 m)
{
    _mm512_mask_cvtepi32_storeu_epi8(dst, m, qepi16(h, table, r, acc));
}

static inline __mmask16 qmask16(int64_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

#endif /* EVO_QCONV_AVX512_H */
