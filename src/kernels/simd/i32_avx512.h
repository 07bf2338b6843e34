/*
 * i32_avx512.h - int32 lane helpers for AVX-512 kernel files (16 lanes),
 * the same names and results as i32_avx2.h: bytes widened to int32 and
 * narrowed back, gemmlowp's SaturatingRoundingDoublingHighMul (positive
 * multiplier) and RoundingDivideByPOT. Include only from *_avx512.c.
 */
#ifndef EVO_I32_AVX512_H
#define EVO_I32_AVX512_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#define I_LANES 16

typedef __m512i vi;

static inline __mmask16 i_mask_n(int64_t n)
{
    return n >= I_LANES ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

/* n (1..I_LANES) bytes from p, uint8 or (sg) int8, as int32 lanes; lanes past n are 0. */
static inline vi i_load_bytes(const uint8_t *p, int64_t n, bool sg)
{
    __m128i b = n >= I_LANES ? _mm_loadu_si128((const __m128i *)p) : _mm_maskz_loadu_epi8(i_mask_n(n), p);
    return sg ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
}

/* The first n lanes of v (already within the byte type's range) as bytes at p. */
static inline void i_store_bytes(uint8_t *p, vi v, int64_t n)
{
    _mm512_mask_cvtepi32_storeu_epi8(p, i_mask_n(n), v);
}

static inline vi i_set1(int32_t x) { return _mm512_set1_epi32(x); }
static inline vi i_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
static inline vi i_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
static inline vi i_mul(vi a, vi b) { return _mm512_mullo_epi32(a, b); }
static inline vi i_min(vi a, vi b) { return _mm512_min_epi32(a, b); }
static inline vi i_max(vi a, vi b) { return _mm512_max_epi32(a, b); }
static inline vi i_shl(vi a, int s) { return _mm512_sll_epi32(a, _mm_cvtsi32_si128(s)); }

/* (a * m + 2^30) >> 31 per lane for m >= 0 (see i32_avx2.h). */
static inline vi i_srdhm(vi a, vi m)
{
    const __m512i nudge = _mm512_set1_epi64(1ll << 30);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, m), nudge);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), m), nudge);
    return _mm512_mask_blend_epi32((__mmask16)0xaaaa, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
}

/* x / 2^e rounded to nearest, ties away from zero (0 <= e <= 30). */
static inline vi i_rdbpot(vi x, int e)
{
    if (e <= 0)
        return x;
    __m128i c = _mm_cvtsi32_si128(e);
    vi mask = _mm512_set1_epi32((int32_t)((1u << e) - 1));
    vi rem = _mm512_and_si512(x, mask);
    vi thr = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(x, 31));
    __mmask16 up = _mm512_cmpgt_epi32_mask(rem, thr);
    return _mm512_mask_add_epi32(_mm512_sra_epi32(x, c), up, _mm512_sra_epi32(x, c), _mm512_set1_epi32(1));
}

#endif /* EVO_I32_AVX512_H */
