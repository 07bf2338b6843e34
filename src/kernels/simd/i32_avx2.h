/*
 * i32_avx2.h - int32 lane helpers for AVX2 kernel files (8 lanes): bytes
 * widened to int32 and narrowed back, and gemmlowp's fixed-point steps
 * (SaturatingRoundingDoublingHighMul for a positive multiplier,
 * RoundingDivideByPOT) exactly as quant_common.c computes them one value
 * at a time. The same names as i32_avx512.h. Include only from *_avx2.c.
 */
#ifndef EVO_I32_AVX2_H
#define EVO_I32_AVX2_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define I_LANES 8

typedef __m256i vi;

/* n (1..I_LANES) bytes from p, uint8 or (sg) int8, as int32 lanes; lanes past n are 0. */
static inline vi i_load_bytes(const uint8_t *p, int64_t n, bool sg)
{
    __m128i b;
    if (n >= I_LANES) {
        b = _mm_loadl_epi64((const __m128i *)p);
    } else {
        uint8_t tmp[I_LANES] = {0};
        memcpy(tmp, p, (size_t)n);
        b = _mm_loadl_epi64((const __m128i *)tmp);
    }
    return sg ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
}

/* The first n lanes of v (already within the byte type's range) as bytes at p. */
static inline void i_store_bytes(uint8_t *p, vi v, int64_t n)
{
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    __m128i b = _mm_shuffle_epi8(w, _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1));
    if (n >= I_LANES) {
        _mm_storel_epi64((__m128i *)p, b);
    } else {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, b);
        memcpy(p, tmp, (size_t)n);
    }
}

static inline vi i_set1(int32_t x) { return _mm256_set1_epi32(x); }
static inline vi i_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
static inline vi i_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
static inline vi i_mul(vi a, vi b) { return _mm256_mullo_epi32(a, b); }
static inline vi i_min(vi a, vi b) { return _mm256_min_epi32(a, b); }
static inline vi i_max(vi a, vi b) { return _mm256_max_epi32(a, b); }
static inline vi i_shl(vi a, int s) { return _mm256_sll_epi32(a, _mm_cvtsi32_si128(s)); }

/*
 * (a * m + 2^30) >> 31 per lane for m >= 0: the low 32 bits of the 64-bit
 * logical shift equal the arithmetic one's, the result fitting in int32.
 */
static inline vi i_srdhm(vi a, vi m)
{
    const __m256i nudge = _mm256_set1_epi64x(1ll << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, m), nudge);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), m), nudge);
    return _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xaa);
}

/* x / 2^e rounded to nearest, ties away from zero (0 <= e <= 30). */
static inline vi i_rdbpot(vi x, int e)
{
    if (e <= 0)
        return x;
    __m128i c = _mm_cvtsi32_si128(e);
    vi mask = _mm256_set1_epi32((int32_t)((1u << e) - 1));
    vi rem = _mm256_and_si256(x, mask);
    vi thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
    return _mm256_sub_epi32(_mm256_sra_epi32(x, c), _mm256_cmpgt_epi32(rem, thr));
}

#endif /* EVO_I32_AVX2_H */
