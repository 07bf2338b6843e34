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

#if defined(__AVX512BW__)
/*
 * interleave16 of four 16-column groups at once: 64 bytes of rows r0-r3,
 * group g (columns 16 g to 16 g + 15) to d[g]. The byte unpacks work per
 * 128-bit lane, so each lane holds a quarter of its group's 64 bytes; a 4 x
 * 4 transpose of the lanes gathers every group's.
 */
static inline void interleave64(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                                __m512i xr, uint8_t *const d[4])
{
    __m512i v0 = _mm512_xor_si512(_mm512_loadu_si512(r0), xr), v1 = _mm512_xor_si512(_mm512_loadu_si512(r1), xr);
    __m512i v2 = _mm512_xor_si512(_mm512_loadu_si512(r2), xr), v3 = _mm512_xor_si512(_mm512_loadu_si512(r3), xr);
    __m512i lo01 = _mm512_unpacklo_epi8(v0, v1), hi01 = _mm512_unpackhi_epi8(v0, v1);
    __m512i lo23 = _mm512_unpacklo_epi8(v2, v3), hi23 = _mm512_unpackhi_epi8(v2, v3);
    __m512i a = _mm512_unpacklo_epi16(lo01, lo23), b = _mm512_unpackhi_epi16(lo01, lo23);
    __m512i c = _mm512_unpacklo_epi16(hi01, hi23), e = _mm512_unpackhi_epi16(hi01, hi23);
    __m512i ab_lo = _mm512_shuffle_i32x4(a, b, 0x44), ab_hi = _mm512_shuffle_i32x4(a, b, 0xEE);
    __m512i ce_lo = _mm512_shuffle_i32x4(c, e, 0x44), ce_hi = _mm512_shuffle_i32x4(c, e, 0xEE);
    _mm512_storeu_si512(d[0], _mm512_shuffle_i32x4(ab_lo, ce_lo, 0x88));
    _mm512_storeu_si512(d[1], _mm512_shuffle_i32x4(ab_lo, ce_lo, 0xDD));
    _mm512_storeu_si512(d[2], _mm512_shuffle_i32x4(ab_hi, ce_hi, 0x88));
    _mm512_storeu_si512(d[3], _mm512_shuffle_i32x4(ab_hi, ce_hi, 0xDD));
}
#endif

#endif /* EVO_QCONV_INTERLEAVE_H */
