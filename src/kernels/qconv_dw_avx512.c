/*
 * qconv_dw_avx512.c - depthwise int8 Conv (group = c_in = c_out), any
 * kernel size and dilation, stride 1 or 2 across, AVX-512.
 *
 * 16 outputs of a row per vector: each tap loads the 16 input bytes it
 * reads (stride 2: 32 bytes, the even ones kept), widened to one int32
 * lane each, padding lanes merged in as the zero point; vpmaddwd against
 * the tap's weight (low int16 of each lane, high zero) adds the exact
 * product. The zero point's share is folded into the bias at pack time
 * (EVO_QK_W_DW), so padding must read as x_zp. Tasks split the planes.
 */
#include "kernels/qconv_avx512.h"
#include "kernels/qconv_dw_rows.h"

#include <string.h>

/* 16 taps' inputs from row src at columns iw0 + l * sw (l < cnt), x_zp outside [0, iw). */
static inline __m512i load_taps(const uint8_t *src, int64_t iw0, int64_t sw, int64_t iw, int64_t cnt,
                                bool sgn, uint8_t pad)
{
    int64_t lo = EVO_MAX(-iw0, (int64_t)0);
    if (sw == 1) {
        int64_t hi = EVO_MIN(cnt, iw - iw0);
        __mmask16 m = hi > lo ? (__mmask16)(qmask16(hi) & ~qmask16(lo)) : 0;
        __m128i b = _mm_mask_loadu_epi8(_mm_set1_epi8((char)pad), m, src + iw0);
        return sgn ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    }
    int64_t hi = EVO_MIN(2 * cnt, iw - iw0);
    __mmask32 m = 0;
    if (hi > lo) {
        uint64_t hm = hi >= 32 ? 0xFFFFFFFFu : (((uint64_t)1 << hi) - 1);
        m = (__mmask32)(hm & ~(((uint64_t)1 << lo) - 1));
    }
    __m256i b = _mm256_mask_loadu_epi8(_mm256_set1_epi8((char)pad), m, src + iw0);
    __m512i w = _mm512_cvtepu16_epi32(b); /* even byte low, odd byte above */
    if (sgn)
        return _mm512_srai_epi32(_mm512_slli_epi32(w, 24), 24);
    return _mm512_and_si512(w, _mm512_set1_epi32(255));
}

/* 16 taps' inputs at src (all inside the row): 16 consecutive bytes, or the even ones of 32. */
static inline __attribute__((always_inline)) __m512i load_inner(const uint8_t *src, int64_t sw, bool sgn)
{
    if (sw == 1) {
        __m128i b = _mm_loadu_si128((const __m128i *)src);
        return sgn ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    }
    __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)src));
    return sgn ? _mm512_srai_epi32(_mm512_slli_epi32(w, 24), 24)
               : _mm512_and_si512(w, _mm512_set1_epi32(255));
}

/* The copying path of a plane (qconv_dw_rows.h): the taps of every padded row. */
static inline __attribute__((always_inline)) void
dw_plane_rows(const evo_qconv_shape *s, const evo_qconv_packed *h, const int32_t *wc, const int32_t *table,
              const qrow *rp, const uint8_t *x, uint8_t *y, int64_t kh, int64_t kw, bool sgn)
{
    dw_ring ring;
    dw_ring_init(&ring);
    const qrow r = *rp;
    int32_t zp = sgn ? (int32_t)(int8_t)h->x_pad : (int32_t)h->x_pad;
    const int64_t sw = s->sw;
    for (int64_t oh = 0; oh < s->oh; oh++) {
        const uint8_t *rows[DW_KH_MAX];
        int32_t zsum = dw_ring_rows(&ring, s, x, h->x_pad, zp, wc, oh, kh, kw, 16, rows);
        for (int64_t ow = 0; ow < s->ow; ow += 16) {
            int64_t cnt = EVO_MIN((int64_t)16, s->ow - ow);
            __m512i acc = _mm512_set1_epi32(zsum);
            for (int64_t ky = 0; ky < kh; ky++) {
                const uint8_t *src = rows[ky];
                if (!src)
                    continue;
                for (int64_t kx = 0; kx < kw; kx++) {
                    int64_t at = ow * sw + kx * s->dw;
                    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(load_inner(src + at, sw, sgn),
                                                                  _mm512_set1_epi32(wc[ky * kw + kx])));
                }
            }
            qepi16_store(h, table, &r, acc, y + oh * s->ow + ow, qmask16(cnt));
        }
    }
}

/*
 * One output plane of channel c; kw and sgn are constants in the
 * specialised copies (3x3, 5x5; uint8, int8), so the tap loop unrolls.
 * zrow[ky]: x_zp times the sum of weight row ky, what a padding row adds.
 */
static inline __attribute__((always_inline)) void
dw_plane_t(const evo_qconv_shape *s, const evo_qconv_packed *h, const unsigned char *base, int64_t c,
           const uint8_t *x, uint8_t *y, int64_t kw, bool sgn)
{
    const int32_t *wc = (const int32_t *)(base + h->off_w) + c * h->k_g;
    const int32_t *table = (const int32_t *)(base + h->off_table);
    qrow r;
    qrow_load(h, base, c, &r);
    if (dw_rows_fit(s, 16)) {
        if (s->kh == kw) /* square: kh a constant too in the specialised copies */
            dw_plane_rows(s, h, wc, table, &r, x, y, kw, kw, sgn);
        else
            dw_plane_rows(s, h, wc, table, &r, x, y, s->kh, kw, sgn);
        return;
    }
    int32_t zp = sgn ? (int32_t)(int8_t)h->x_pad : (int32_t)h->x_pad;
    const int64_t sw = s->sw, span = (kw - 1) * s->dw + (sw == 1 ? 16 : 32);
    for (int64_t oh = 0; oh < s->oh; oh++) {
        for (int64_t ow = 0; ow < s->ow; ow += 16) {
            int64_t cnt = EVO_MIN((int64_t)16, s->ow - ow), iw0 = ow * sw - s->pw;
            bool inner = iw0 >= 0 && iw0 + span <= s->iw;
            __m512i acc = _mm512_setzero_si512();
            for (int64_t ky = 0; ky < s->kh; ky++) {
                int64_t ih = oh * s->sh - s->ph + ky * s->dh;
                const int32_t *wt = wc + ky * kw;
                if (ih < 0 || ih >= s->ih) {
                    int32_t z = 0;
                    for (int64_t kx = 0; kx < kw; kx++)
                        z += zp * (int32_t)(int16_t)wt[kx];
                    acc = _mm512_add_epi32(acc, _mm512_set1_epi32(z));
                    continue;
                }
                const uint8_t *src = x + ih * s->iw;
                for (int64_t kx = 0; kx < kw; kx++) {
                    int64_t at = iw0 + kx * s->dw;
                    __m512i xv = inner ? load_inner(src + at, sw, sgn)
                                       : load_taps(src, at, sw, s->iw, cnt, sgn, h->x_pad);
                    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(xv, _mm512_set1_epi32(wt[kx])));
                }
            }
            qepi16_store(h, table, &r, acc, y + oh * s->ow + ow, qmask16(cnt));
        }
    }
}

#define QDW_ENTRY evo_qconv_dw_avx512
#define QDW_NAME "qconv_dw_avx512"
#define QDW_ISA EVO_ISA_AVX512
#define QDW_DEF evo_kernel_qconv_dw_avx512
#include "kernels/qconv_dw_body.inc"
