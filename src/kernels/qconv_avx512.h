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
#include <string.h>

/* The epilogue constants of 16 lanes (one channel broadcast, or one channel per lane), in registers. */
typedef struct qrow {
    __m512i bias, q, ls, rs, rmask, rthr, lo, hi, zp, smax, smin;
    __m512 m, flo, fhi;
    /* one channel, FIXED, shift <= 0: both roundings as one 64-bit add and shift (requant_fixed16_one) */
    bool one;
    __m512i add64, neg64, sh64;
} qrow;

/* What follows from the per-lane bias, multipliers and shifts (the shifts: FIXED only); r->one set. */
static inline void qrow_finish(const evo_qconv_packed *h, __m512i shift, qrow *r)
{
    const __m512i zero = _mm512_setzero_si512();
    r->ls = r->rs = r->rmask = r->rthr = r->smax = r->smin = zero;
    if (h->requant == EVO_REQUANT_FIXED && !r->one) { /* FLOAT and the one-step FIXED need none of these */
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
    int32_t shift = ((const int32_t *)(base + h->off_shift))[c];
    r->one = h->requant == EVO_REQUANT_FIXED && h->no_lshift;
    if (r->one) { /* shift >= -30: a multiplier of at least 2^-31 (else q = 0, shift 0) */
        int rs = -shift;
        r->add64 = _mm512_set1_epi64(((int64_t)1 << 30) + (rs > 0 ? (int64_t)1 << (rs + 30) : 0));
        r->neg64 = _mm512_set1_epi64(rs > 0 ? (int64_t)1 << 31 : 0);
        r->sh64 = _mm512_set1_epi64(31 + rs);
    }
    qrow_finish(h, _mm512_set1_epi32(shift), r);
}

/* Channels c0 + lane for lanes in m (matmul: a tile column is one channel). */
static inline void qrow_load_lanes(const evo_qconv_packed *h, const unsigned char *base, int64_t c0,
                                   __mmask16 m, qrow *r)
{
    r->bias = _mm512_maskz_loadu_epi32(m, (const int32_t *)(base + h->off_bias) + c0);
    r->q = _mm512_maskz_loadu_epi32(m, (const int32_t *)(base + h->off_qmul) + c0);
    r->m = _mm512_maskz_loadu_ps(m, (const float *)(base + h->off_mult) + c0);
    r->one = false;
    qrow_finish(h, _mm512_maskz_loadu_epi32(m, (const int32_t *)(base + h->off_shift) + c0), r);
}

/* gemmlowp's fixed-point requantization of 16 accumulators (evo_requant_fixed: the left shift saturates). */
static inline __m512i requant_fixed16(__m512i acc, const qrow *r, bool no_lshift)
{
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
    __m512i x = acc;
    if (!no_lshift) { /* with every shift <= 0, ls is 0 and nothing saturates */
        x = _mm512_sllv_epi32(acc, r->ls);
        x = _mm512_mask_mov_epi32(x, _mm512_cmpgt_epi32_mask(acc, r->smax), _mm512_set1_epi32(INT32_MAX));
        x = _mm512_mask_mov_epi32(x, _mm512_cmplt_epi32_mask(acc, r->smin), _mm512_set1_epi32(INT32_MIN));
    }
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

/*
 * requant_fixed16 for one channel whose shift s = -rs <= 0: with P = x * q,
 * SaturatingRoundingDoublingHighMul is floor((P + 2^30) / 2^31) and
 * RoundingDivideByPOT of that by 2^rs adds 2^(rs - 1), less 1 when it is
 * negative (P < -2^30), before its floor division; the two floor divisions
 * make one: (P + 2^30 + (2^(rs - 1) - [P < -2^30]) 2^31) >> (31 + rs), in
 * 64 bits (|P| < 2^62, rs <= 30).
 */
static inline __m512i requant_fixed16_one(__m512i x, const qrow *r)
{
    const __m512i neg = _mm512_set1_epi64(-((int64_t)1 << 30));
    __m512i pe = _mm512_mul_epi32(x, r->q), po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), r->q);
    __m512i te = _mm512_add_epi64(pe, r->add64), to = _mm512_add_epi64(po, r->add64);
    te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, neg), te, r->neg64);
    to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, neg), to, r->neg64);
    te = _mm512_srav_epi64(te, r->sh64);
    to = _mm512_srav_epi64(to, r->sh64);
    return _mm512_mask_blend_epi32(0xAAAA, te, _mm512_slli_epi64(to, 32));
}

/*
 * 16 accumulators of one channel requantized; FLOAT clamped to [lo, hi],
 * FIXED not yet (qepi16_requant, qepi16_bytes clamp).
 */
static inline __m512i qepi16_requant_raw(const evo_qconv_packed *h, const qrow *r, __m512i acc)
{
    acc = _mm512_add_epi32(acc, r->bias);
    if (h->requant == EVO_REQUANT_FLOAT) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), r->m);
        f = _mm512_min_ps(_mm512_max_ps(f, r->flo), r->fhi);
        return _mm512_add_epi32(_mm512_cvtps_epi32(f), r->zp);
    }
    return _mm512_add_epi32(r->one ? requant_fixed16_one(acc, r) : requant_fixed16(acc, r, h->no_lshift), r->zp);
}

/* 16 accumulators of one channel requantized and clamped: the output bytes, or the table's indices. */
static inline __m512i qepi16_requant(const evo_qconv_packed *h, const qrow *r, __m512i acc)
{
    __m512i v = qepi16_requant_raw(h, r, acc);
    if (h->requant == EVO_REQUANT_FIXED)
        v = _mm512_min_epi32(_mm512_max_epi32(v, r->lo), r->hi);
    return v;
}

/*
 * Four vectors of qepi16_requant_raw lanes as 64 bytes in lane order,
 * clamped to [lo, hi]: saturating packs to int16 then to bytes (signed
 * when lo < 0, else unsigned; either saturation is a clamp to a byte range
 * holding [lo, hi]), one dword permute back to lane order (the packs work
 * per 128-bit lane), then the clamp on the bytes.
 */
static inline __m512i qepi16_bytes(const evo_qconv_packed *h, __m512i v0, __m512i v1, __m512i v2, __m512i v3)
{
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i a = _mm512_packs_epi32(v0, v1), b = _mm512_packs_epi32(v2, v3);
    __m512i lo = _mm512_set1_epi8((char)h->lo), hi = _mm512_set1_epi8((char)h->hi);
    if (h->lo < 0) {
        __m512i z = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(a, b));
        return _mm512_min_epi8(_mm512_max_epi8(z, lo), hi);
    }
    __m512i z = _mm512_permutexvar_epi32(order, _mm512_packus_epi16(a, b));
    return _mm512_min_epu8(_mm512_max_epu8(z, lo), hi);
}

/* The output bytes (as int32 lanes) of 16 accumulators of one channel. */
static inline __m512i qepi16(const evo_qconv_packed *h, const int32_t *table, const qrow *r, __m512i acc)
{
    __m512i v = qepi16_requant(h, r, acc);
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

static inline __mmask64 qmask64(int64_t n)
{
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

/*
 * The activation table as 256 bytes in four registers, looked up 64 bytes
 * at a time with two vpermi2b (entries 0-127 and 128-255) and a blend on
 * each index's top bit: a 16-lane gather per 16 outputs costs far more.
 * Only with h->lut_vbmi (AVX512-VBMI); callers are compiled for it.
 */
typedef struct qlut64 {
    __m512i t0, t1, t2, t3;
} qlut64;

static inline void qlut64_load(const evo_qconv_packed *h, const unsigned char *base, qlut64 *t)
{
    const unsigned char *b = base + h->off_table8;
    t->t0 = _mm512_loadu_si512(b);
    t->t1 = _mm512_loadu_si512(b + 64);
    t->t2 = _mm512_loadu_si512(b + 128);
    t->t3 = _mm512_loadu_si512(b + 192);
}

__attribute__((target("avx512vbmi"))) static inline __m512i qlut64_map(const qlut64 *t, __m512i idx)
{
    __m512i lo = _mm512_permutex2var_epi8(t->t0, idx, t->t1);
    __m512i hi = _mm512_permutex2var_epi8(t->t2, idx, t->t3);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi);
}

/* nv <= 3 vectors of one channel's accumulators (acc[0..nv)) as output bytes (qepi16_bytes; 0 past them). */
static inline __m512i qrow_bytes3(const evo_qconv_packed *h, const qrow *r, const __m512i *acc, int nv)
{
    const __m512i zero = _mm512_setzero_si512();
    return qepi16_bytes(h, qepi16_requant_raw(h, r, acc[0]), nv > 1 ? qepi16_requant_raw(h, r, acc[1]) : zero,
                        nv > 2 ? qepi16_requant_raw(h, r, acc[2]) : zero, zero);
}

/*
 * Rows [0, n_rows) of a tile of nv vectors (acc[i * 3 + v], channel ch0 +
 * i, width <= 48 columns) requantized, the table looked up on the packed
 * bytes of each row, and stored at y + i * ldy.
 */
__attribute__((target("avx512vbmi"), noinline, unused)) static void
qrows_store_lut(const evo_qconv_packed *h, const unsigned char *base, const __m512i *acc, int nv, int64_t width,
                int64_t ch0, int n_rows, uint8_t *y, int64_t ldy)
{
    qlut64 t;
    qlut64_load(h, base, &t);
    __mmask64 m = qmask64(width);
    for (int i = 0; i < n_rows; i++) {
        qrow r;
        qrow_load(h, base, ch0 + i, &r);
        _mm512_mask_storeu_epi8(y + i * ldy, m, qlut64_map(&t, qrow_bytes3(h, &r, acc + i * 3, nv)));
    }
}

/*
 * The vpdpbusd micro-kernel (MR = 8 rows x NV vectors of 16 columns):
 * acc[i * 3 + v] = sum over k4n steps of 4 K of the broadcast 4 bytes of
 * row i (a, MR * 4 bytes per step) times the 16 columns of vector v (b,
 * NR * 4 bytes per step). DP(acc, column vector, broadcast) orders the
 * operands: vpdpbusd's first is uint8 (QK_DP_CONV: the columns are
 * activations, the rows weights; QK_DP_MM the other way).
 */
#define QK_DP_CONV(c, bv, av) _mm512_dpbusd_epi32(c, bv, av)
#define QK_DP_MM(c, bv, av) _mm512_dpbusd_epi32(c, av, bv)
#define ROW_DP(i, NV, DP)                                                                                    \
    do {                                                                                                     \
        __m512i av = _mm512_set1_epi32(aw[i]);                                                               \
        c##i##0 = DP(c##i##0, b0, av);                                                                       \
        if (NV > 1)                                                                                          \
            c##i##1 = DP(c##i##1, b1, av);                                                                   \
        if (NV > 2)                                                                                          \
            c##i##2 = DP(c##i##2, b2, av);                                                                   \
    } while (0)
#define ROW_OUT(i) acc[i * 3] = c##i##0, acc[i * 3 + 1] = c##i##1, acc[i * 3 + 2] = c##i##2
/* The accumulators are named variables: GCC keeps an array of them in memory inside the loop. */
#define QKERNEL(NAME, NV, DP)                                                                                \
    __attribute__((noinline)) static void NAME(int64_t k4n, const unsigned char *restrict a,                 \
                                               const uint8_t *restrict b, __m512i *restrict acc)             \
    {                                                                                                        \
        __m512i c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;                                  \
        __m512i c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;                                  \
        c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm512_setzero_si512();      \
        c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = c00;                         \
        for (int64_t p = 0; p < k4n; p++) {                                                                  \
            int32_t aw[MR];                                                                                  \
            memcpy(aw, a, sizeof(aw));                                                                       \
            __m512i b0 = _mm512_loadu_si512(b), b1 = c00, b2 = c00;                                          \
            if (NV > 1)                                                                                      \
                b1 = _mm512_loadu_si512(b + 64);                                                             \
            if (NV > 2)                                                                                      \
                b2 = _mm512_loadu_si512(b + 128);                                                            \
            _mm_prefetch((const char *)(a + 512), _MM_HINT_T0);                                              \
            ROW_DP(0, NV, DP);                                                                               \
            ROW_DP(1, NV, DP);                                                                               \
            ROW_DP(2, NV, DP);                                                                               \
            ROW_DP(3, NV, DP);                                                                               \
            ROW_DP(4, NV, DP);                                                                               \
            ROW_DP(5, NV, DP);                                                                               \
            ROW_DP(6, NV, DP);                                                                               \
            ROW_DP(7, NV, DP);                                                                               \
            a += MR * 4;                                                                                     \
            b += NR * 4;                                                                                     \
        }                                                                                                    \
        ROW_OUT(0);                                                                                          \
        ROW_OUT(1);                                                                                          \
        ROW_OUT(2);                                                                                          \
        ROW_OUT(3);                                                                                          \
        ROW_OUT(4);                                                                                          \
        ROW_OUT(5);                                                                                          \
        ROW_OUT(6);                                                                                          \
        ROW_OUT(7);                                                                                          \
    }

#endif /* EVO_QCONV_AVX512_H */
