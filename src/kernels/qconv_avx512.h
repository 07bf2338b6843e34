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

/* The epilogue constants of 16 lanes (one channel broadcast, or one channel per lane), in registers. */
typedef struct qrow {
    __m512i bias, q, ls, rs, rmask, rthr, lo, hi, zp, smax, smin;
    __m512 m, flo, fhi;
} qrow;

/* What follows from the per-lane bias, multipliers and shifts (the shifts: FIXED only). */
static inline void qrow_finish(const evo_qconv_packed *h, __m512i shift, qrow *r)
{
    const __m512i zero = _mm512_setzero_si512();
    r->ls = r->rs = r->rmask = r->rthr = r->smax = r->smin = zero;
    if (h->requant == EVO_REQUANT_FIXED) { /* FLOAT needs none of the shifts */
        r->ls = _mm512_min_epi32(_mm512_max_epi32(shift, zero), _mm512_set1_epi32(31));
        r->rs = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
        r->rmask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), r->rs), _mm512_set1_epi32(1));
        r->rthr = _mm512_srli_epi32(r->rmask, 1);
        /* acc << ls saturates beyond these */
        r->smax = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MAX), r->ls);
        r->smin = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MIN), r->ls);
    }
    r->lo = _mm512_set1_epi32(h->lo);
    r->hi = _mm512_set1_epi32(h->hi);
    r->zp = _mm512_set1_epi32(h->zp);
    r->flo = _mm512_set1_ps((float)(h->lo - h->zp));
    r->fhi = _mm512_set1_ps((float)(h->hi - h->zp));
}

/* Channel c in every lane (conv: a tile row is one channel). */
static inline void qrow_load(const evo_qconv_packed *h, const unsigned char *base, int64_t c, qrow *r)
{
    r->bias = _mm512_set1_epi32(((const int32_t *)(base + h->off_bias))[c]);
    r->q = _mm512_set1_epi32(((const int32_t *)(base + h->off_qmul))[c]);
    r->m = _mm512_set1_ps(((const float *)(base + h->off_mult))[c]);
    qrow_finish(h, _mm512_set1_epi32(((const int32_t *)(base + h->off_shift))[c]), r);
}

/* Channels c0 + lane for lanes in m (matmul: a tile column is one channel). */
static inline void qrow_load_lanes(const evo_qconv_packed *h, const unsigned char *base, int64_t c0, __mmask16 m,
                                   qrow *r)
{
    r->bias = _mm512_maskz_loadu_epi32(m, (const int32_t *)(base + h->off_bias) + c0);
    r->q = _mm512_maskz_loadu_epi32(m, (const int32_t *)(base + h->off_qmul) + c0);
    r->m = _mm512_maskz_loadu_ps(m, (const float *)(base + h->off_mult) + c0);
    qrow_finish(h, _mm512_maskz_loadu_epi32(m, (const int32_t *)(base + h->off_shift) + c0), r);
}

/* gemmlowp's fixed-point requantization of 16 accumulators (evo_requant_fixed: the left shift saturates). */
static inline __m512i requant_fixed16(__m512i acc, const qrow *r)
{
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
    __m512i x = _mm512_sllv_epi32(acc, r->ls);
    x = _mm512_mask_mov_epi32(x, _mm512_cmpgt_epi32_mask(acc, r->smax), _mm512_set1_epi32(INT32_MAX));
    x = _mm512_mask_mov_epi32(x, _mm512_cmplt_epi32_mask(acc, r->smin), _mm512_set1_epi32(INT32_MIN));
    __m512i pe = _mm512_mul_epi32(x, r->q);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(r->q, 32));
    /* (x * q + 2^30) >> 31 is SaturatingRoundingDoublingHighMul for q > 0 */
    pe = _mm512_srai_epi64(_mm512_add_epi64(pe, nudge), 31);
    po = _mm512_srai_epi64(_mm512_add_epi64(po, nudge), 31);
    __m512i hm = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    /* RoundingDivideByPOT */
    __m512i rem = _mm512_and_si512(hm, r->rmask);
    __m512i thr = _mm512_add_epi32(r->rthr, _mm512_srli_epi32(hm, 31));
    __m512i v = _mm512_srav_epi32(hm, r->rs);
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
