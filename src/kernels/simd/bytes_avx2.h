/*
 * bytes_avx2.h - uint8/int8 vector helpers for AVX2 kernel files (32 byte
 * lanes), beside vec_avx2.h; the same names as bytes_avx512.h. AVX2 has no
 * byte masks, so partial loads and stores go through a small stack buffer:
 * bytes past n are still neither read nor written.
 * Include only from *_avx2.c files.
 */
#ifndef EVO_BYTES_AVX2_H
#define EVO_BYTES_AVX2_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define B_LANES 32

typedef __m256i vb;  /* B_LANES bytes */
typedef __m128i vbh; /* B_LANES / 2 bytes */

/* The first n bytes from p, fill in the others. */
static inline vb b_load_n(const uint8_t *p, int64_t n, uint8_t fill)
{
    if (n >= B_LANES)
        return _mm256_loadu_si256((const __m256i *)p);
    uint8_t t[B_LANES];
    memset(t, fill, sizeof(t));
    if (n > 0)
        memcpy(t, p, (size_t)n);
    return _mm256_loadu_si256((const __m256i *)t);
}

static inline vb b_load(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }

static inline void b_store_n(uint8_t *p, vb v, int64_t n)
{
    if (n >= B_LANES) {
        _mm256_storeu_si256((__m256i *)p, v);
        return;
    }
    uint8_t t[B_LANES];
    _mm256_storeu_si256((__m256i *)t, v);
    if (n > 0)
        memcpy(p, t, (size_t)n);
}

/* Lane-wise max, as int8 when sg, else as uint8. */
static inline vb b_max(vb a, vb b, bool sg) { return sg ? _mm256_max_epi8(a, b) : _mm256_max_epu8(a, b); }

/* Each byte of v twice: *lo = v0 v0 v1 v1 ... v15 v15, *hi the same of v16..v31. */
static inline void b_dup2(vb v, vb *lo, vb *hi)
{
    __m256i a = _mm256_unpacklo_epi8(v, v), b = _mm256_unpackhi_epi8(v, v); /* per 128-bit lane */
    *lo = _mm256_permute2x128_si256(a, b, 0x20);
    *hi = _mm256_permute2x128_si256(a, b, 0x31);
}

/* p[0], p[2], ..., p[B_LANES - 2]. */
static inline vbh bh_load_even(const uint8_t *p)
{
    __m256i lo = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)p), _mm256_set1_epi16(0xff));
    __m256i packed = _mm256_packus_epi16(lo, lo); /* per 128-bit lane: its 8 even bytes, twice */
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
}

static inline vbh bh_max(vbh a, vbh b, bool sg) { return sg ? _mm_max_epi8(a, b) : _mm_max_epu8(a, b); }

static inline void bh_store_n(uint8_t *p, vbh v, int64_t n)
{
    if (n >= 16) {
        _mm_storeu_si128((__m128i *)p, v);
        return;
    }
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, v);
    if (n > 0)
        memcpy(p, t, (size_t)n);
}

/* (float)(p[i] - zp) for the first n (<= 8) bytes, as int8 when sg, else uint8; 0 - zp past n. */
static inline __m256 b_to_float(const uint8_t *p, int64_t n, bool sg, int32_t zp)
{
    int64_t m = n < 8 ? n : 8;
    uint64_t raw = 0;
    if (m == 8)
        memcpy(&raw, p, 8);
    else if (m > 0)
        memcpy(&raw, p, (size_t)m);
    __m128i b = _mm_cvtsi64_si128((long long)raw);
    __m256i w = sg ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(w, _mm256_set1_epi32(zp)));
}

/* Round half to even (the default rounding mode). */
static inline __m256 b_round(__m256 v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

/* Stores the first n (<= 8) lanes of v, integers within [-128, 255], as bytes (their low 8 bits). */
static inline void b_from_float(uint8_t *p, __m256 v, int64_t n)
{
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8,
                                          12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i s = _mm256_shuffle_epi8(_mm256_cvtps_epi32(v), pick);
    __m128i b = _mm_unpacklo_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    uint64_t raw = (uint64_t)_mm_cvtsi128_si64(b);
    int64_t m = n < 8 ? n : 8;
    if (m > 0)
        memcpy(p, &raw, (size_t)m);
}

#endif /* EVO_BYTES_AVX2_H */
