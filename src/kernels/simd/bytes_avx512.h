/*
 * bytes_avx512.h - uint8/int8 vector helpers for AVX-512BW kernel files
 * (64 byte lanes), beside vec_avx512.h: loads and stores of the first n
 * bytes (lanes past n are neither read nor written), unsigned or signed
 * max, the even bytes of 64 (half a vector), and the conversions between
 * 16 bytes and 16 floats. The same names as bytes_avx2.h.
 * Include only from *_avx512.c files.
 */
#ifndef EVO_BYTES_AVX512_H
#define EVO_BYTES_AVX512_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#define B_LANES 64

typedef __m512i vb;  /* B_LANES bytes */
typedef __m256i vbh; /* B_LANES / 2 bytes */

static inline __mmask64 b_mask_n(int64_t n)
{
    return n >= 64 ? ~(__mmask64)0 : n > 0 ? (((__mmask64)1 << n) - 1) : 0;
}

/* The first n bytes from p, fill in the others. */
static inline vb b_load_n(const uint8_t *p, int64_t n, uint8_t fill)
{
    if (n >= B_LANES)
        return _mm512_loadu_si512(p);
    return _mm512_mask_loadu_epi8(_mm512_set1_epi8((char)fill), b_mask_n(n), p);
}

static inline vb b_load(const uint8_t *p) { return _mm512_loadu_si512(p); }

static inline void b_store_n(uint8_t *p, vb v, int64_t n)
{
    if (n >= B_LANES)
        _mm512_storeu_si512(p, v);
    else
        _mm512_mask_storeu_epi8(p, b_mask_n(n), v);
}

/* Lane-wise max, as int8 when sg, else as uint8. */
static inline vb b_max(vb a, vb b, bool sg) { return sg ? _mm512_max_epi8(a, b) : _mm512_max_epu8(a, b); }

/* Each byte of v twice: *lo = v0 v0 v1 v1 ... v31 v31, *hi the same of v32..v63. */
static inline void b_dup2(vb v, vb *lo, vb *hi)
{
    __m512i a = _mm512_unpacklo_epi8(v, v), b = _mm512_unpackhi_epi8(v, v); /* per 128-bit lane */
    *lo = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), b);
    *hi = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), b);
}

/* p[0], p[2], ..., p[B_LANES - 2]. */
static inline vbh bh_load_even(const uint8_t *p) { return _mm512_cvtepi16_epi8(_mm512_loadu_si512(p)); }

static inline vbh bh_max(vbh a, vbh b, bool sg) { return sg ? _mm256_max_epi8(a, b) : _mm256_max_epu8(a, b); }

static inline void bh_store_n(uint8_t *p, vbh v, int64_t n)
{
    _mm256_mask_storeu_epi8(p, (__mmask32)b_mask_n(n < 32 ? n : 32), v);
}

/* (float)(p[i] - zp) for the first n (<= 16) bytes, as int8 when sg, else uint8; 0 - zp past n. */
static inline __m512 b_to_float(const uint8_t *p, int64_t n, bool sg, int32_t zp)
{
    __m128i b = _mm_maskz_loadu_epi8((__mmask16)b_mask_n(n < 16 ? n : 16), p);
    __m512i w = sg ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    return _mm512_cvtepi32_ps(_mm512_sub_epi32(w, _mm512_set1_epi32(zp)));
}

/* Round half to even (the default rounding mode). */
static inline __m512 b_round(__m512 v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

/* Stores the first n (<= 16) lanes of v, integers within [-128, 255], as bytes (their low 8 bits). */
static inline void b_from_float(uint8_t *p, __m512 v, int64_t n)
{
    __m128i b = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v));
    _mm_mask_storeu_epi8(p, (__mmask16)b_mask_n(n < 16 ? n : 16), b);
}

#endif /* EVO_BYTES_AVX512_H */
