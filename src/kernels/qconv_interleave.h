/*
 * qconv_interleave.h - the byte interleave the int8 GEMM and direct conv
 * variants pack their uint8 operand with (SSE2): four rows of 16 bytes
 * into 16 groups of 4, one group per column, as vpdpbusd reads them.
 */
#ifndef EVO_QCONV_INTERLEAVE_H
#define EVO_QCONV_INTERLEAVE_H

#include <immintrin.h>
#include <stdint.h>

/* 4 K rows of 16 columns, xored with xr (int8 to uint8), into 64 bytes: column j's 4 bytes at 4 j. */
static inline void interleave16(__m128i v0, __m128i v1, __m128i v2, __m128i v3, __m128i xr, uint8_t *dst)
{
    v0 = _mm_xor_si128(v0, xr), v1 = _mm_xor_si128(v1, xr), v2 = _mm_xor_si128(v2, xr),
    v3 = _mm_xor_si128(v3, xr);
    __m128i lo01 = _mm_unpacklo_epi8(v0, v1), hi01 = _mm_unpackhi_epi8(v0, v1);
    __m128i lo23 = _mm_unpacklo_epi8(v2, v3), hi23 = _mm_unpackhi_epi8(v2, v3);
    _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(dst + 16), _mm_unpackhi_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(dst + 32), _mm_unpacklo_epi16(hi01, hi23));
    _mm_storeu_si128((__m128i *)(dst + 48), _mm_unpackhi_epi16(hi01, hi23));
}

#endif /* EVO_QCONV_INTERLEAVE_H */
