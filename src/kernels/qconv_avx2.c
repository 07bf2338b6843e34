/*
 * qconv_avx2.c - int8 Conv on AVX2: the packed GEMM (qconv_fast.h,
 * qconv_body.inc) and the depthwise kernel, with the AVX2 epilogue.
 *
 * AVX2 has no vpdpbusd, and vpmaddubsw saturates its int16 pair sums, so
 * products are made exact with vpmaddwd: a B vector (8 columns x 4 uint8
 * bytes k0..k3) splits into its even bytes (k0, k2) and odd bytes (k1, k3)
 * as int16 pairs, and the weights are packed as the int16 pairs (w0, w2)
 * and (w1, w3) (EVO_QK_W_MADD), so two vpmaddwd add the four products of
 * each column. Register tile: MR = 4 channels x NR = 16 columns (8
 * accumulators, 4 split B vectors, 2 weight broadcasts).
 */
#include "kernels/qconv_avx2.h"
#include "kernels/qconv_dw_rows.h"

#define MR EVO_QCONV_AVX2_MR
#define NR EVO_QCONV_AVX2_NR
#define QK_LAYOUT EVO_QK_W_MADD
#define WB 8 /* weight bytes per row per 4 K */

#define ROW_MADD(i)                                                                                          \
    do {                                                                                                     \
        __m256i we = _mm256_set1_epi32(aw[2 * i]), wo = _mm256_set1_epi32(aw[2 * i + 1]);                    \
        c##i##0 = _mm256_add_epi32(c##i##0,                                                                  \
                                   _mm256_add_epi32(_mm256_madd_epi16(e0, we), _mm256_madd_epi16(o0, wo)));  \
        c##i##1 = _mm256_add_epi32(c##i##1,                                                                  \
                                   _mm256_add_epi32(_mm256_madd_epi16(e1, we), _mm256_madd_epi16(o1, wo)));  \
    } while (0)

/* acc[i * 2 + v] = the MR x NR tile over k4n steps of 4 K. */
__attribute__((noinline)) static void qkernel(int64_t k4n, const unsigned char *restrict a,
                                              const uint8_t *restrict b, __m256i *restrict acc)
{
    const __m256i lo8 = _mm256_set1_epi16(0x00FF);
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
            c31 = c00;
    for (int64_t p = 0; p < k4n; p++) {
        int32_t aw[2 * MR];
        memcpy(aw, a, sizeof(aw));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)b),
                x1 = _mm256_loadu_si256((const __m256i *)(b + 32));
        __m256i e0 = _mm256_and_si256(x0, lo8), o0 = _mm256_srli_epi16(x0, 8);
        __m256i e1 = _mm256_and_si256(x1, lo8), o1 = _mm256_srli_epi16(x1, 8);
        ROW_MADD(0);
        ROW_MADD(1);
        ROW_MADD(2);
        ROW_MADD(3);
        a += MR * WB;
        b += NR * 4;
    }
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
    acc[4] = c20, acc[5] = c21, acc[6] = c30, acc[7] = c31;
}

static void tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a,
                 const uint8_t *b, int64_t k4n, int64_t width, int64_t ch0, int n_rows, uint8_t *y,
                 int64_t ldy)
{
    __m256i acc[MR * 2];
    qkernel(k4n, a, b, acc);
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int i = 0; i < n_rows; i++) {
        qrow r;
        qrow_load(h, base, ch0 + i, &r);
        for (int v = 0; v * 8 < width; v++)
            qepi8_store(h, table, &r, acc[i * 2 + v], y + i * ldy + v * 8, width - v * 8);
    }
}

#include "kernels/qconv_body.inc"

void evo_qconv_gemm_avx2(const evo_qconv_plan *p, const void *packed, const void *x, void *y, void *scratch,
                         int task, int n_tasks)
{
    qgemm_run(p, packed, x, y, scratch, task, n_tasks);
}

const evo_kernel_def evo_kernel_qconv_avx2 = {
    .name = "qconv_avx2",
    .isa = EVO_ISA_AVX2,
    .supports = qk_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};

/* 8 taps' inputs from row src at columns iw0 + l * sw (l < cnt) as int32, x_zp outside [0, iw). */
static inline __attribute__((always_inline)) __m256i dw_taps(const uint8_t *src, int64_t iw0, int64_t sw,
                                                             int64_t iw, int64_t cnt, bool sgn, uint8_t pad)
{
    __m128i b;
    if (iw0 >= 0 && iw0 + 8 * sw <= iw) {
        b = sw == 1 ? _mm_loadl_epi64((const __m128i *)(src + iw0))
                    : _mm_loadu_si128((const __m128i *)(src + iw0));
    } else {
        uint8_t t[16];
        memset(t, pad, sizeof(t));
        for (int64_t l = 0; l < cnt; l++) {
            int64_t i = iw0 + l * sw;
            if (i >= 0 && i < iw)
                t[l * sw] = src[i];
        }
        b = _mm_loadu_si128((const __m128i *)t);
    }
    if (sw == 1)
        return sgn ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    __m256i w = _mm256_cvtepu16_epi32(b); /* even byte low */
    return sgn ? _mm256_srai_epi32(_mm256_slli_epi32(w, 24), 24)
               : _mm256_and_si256(w, _mm256_set1_epi32(255));
}

/* Outputs per vector of the copying path; the padded rows leave room for a 16-lane vector's reads. */
#define DW_ROW_LANES 16

/*
 * Whether the copying path can take the taps of a kernel row two at a time:
 * the 4 output lanes of each 128-bit half read at most 16 bytes from the
 * half's start.
 */
static inline bool dw_pairs_ok(const evo_qconv_shape *s)
{
    return s->kw <= 8 && 3 * s->sw + (s->kw - 1) * s->dw <= 15;
}

/*
 * The tap-pair tables of dw_plane_rows: for pair p of a kernel row, the
 * vpshufb control making each int32 lane the int16 pair (x[k], x[k + 1])
 * of its output (the 4 output lanes of each 128-bit half read at most 16
 * bytes from the half's start: dw_pairs_ok), and per kernel row the weights
 * (w[k], w[k + 1]) as the matching int16 pair. uint8 bytes land in the low
 * byte of each int16 (zero-extended by the shuffle's zeroing); int8 in the
 * high byte, shifted down arithmetically by dw_row_acc.
 */
static inline __attribute__((always_inline)) void dw_pair_tables(const evo_qconv_shape *s, const int32_t *wc,
                                                                  int64_t kh, int64_t kw, bool sgn,
                                                                  __m256i ctl[4], __m256i wp[][4])
{
    const int64_t np = (kw + 1) / 2;
    for (int64_t p = 0; p < np; p++) {
        uint8_t c[32];
        for (int half = 0; half < 2; half++)
            for (int j = 0; j < 4; j++)
                for (int e = 0; e < 2; e++) {
                    int64_t kx = 2 * p + e;
                    uint8_t at = (uint8_t)(kx < kw ? j * s->sw + kx * s->dw : 0x80);
                    uint8_t *d = c + half * 16 + j * 4 + e * 2;
                    d[0] = sgn ? 0x80 : at;
                    d[1] = sgn ? at : 0x80;
                }
        ctl[p] = _mm256_loadu_si256((const __m256i *)c);
        for (int64_t ky = 0; ky < kh; ky++) {
            uint32_t lo = (uint32_t)wc[ky * kw + 2 * p] & 0xFFFFu;
            uint32_t hi = 2 * p + 1 < kw ? (uint32_t)wc[ky * kw + 2 * p + 1] << 16 : 0u;
            wp[ky][p] = _mm256_set1_epi32((int32_t)(lo | hi));
        }
    }
}

/*
 * The copying path of a plane (qconv_dw_rows.h): the taps of every padded
 * row, one output row of 8-lane vectors at a time, requantized by
 * qepi8_store. With pairs (dw_pairs_ok) a kernel row's taps are taken two
 * at a time: the 8 outputs' bytes are loaded as two 16-byte halves (4
 * outputs each, 4 sw bytes apart), one vpshufb per tap pair
 * (dw_pair_tables) and one vpmaddwd adds both exact products; otherwise
 * one vpmaddwd per tap on the bytes widened to int32.
 */
static inline __attribute__((always_inline)) void
dw_plane_rows_t(const evo_qconv_shape *s, const evo_qconv_packed *h, const int32_t *wc, const int32_t *table,
                const qrow *rp, const uint8_t *x, uint8_t *y, int64_t kh, int64_t kw, bool sgn, bool pairs)
{
    const int64_t np = (kw + 1) / 2, sw = s->sw;
    __m256i ctl[4], wp[DW_KH_MAX][4];
    if (pairs)
        dw_pair_tables(s, wc, kh, kw, sgn, ctl, wp);
    dw_ring ring;
    dw_ring_init(&ring);
    const qrow r = *rp;
    int32_t zp = sgn ? (int32_t)(int8_t)h->x_pad : (int32_t)h->x_pad;
    for (int64_t oh = 0; oh < s->oh; oh++) {
        const uint8_t *rows[DW_KH_MAX];
        int32_t zsum = dw_ring_rows(&ring, s, x, h->x_pad, zp, wc, oh, kh, kw, DW_ROW_LANES, rows);
        for (int64_t ow = 0; ow < s->ow; ow += 8) {
            int64_t cnt = EVO_MIN((int64_t)8, s->ow - ow);
            __m256i acc = _mm256_set1_epi32(zsum);
            for (int64_t ky = 0; ky < kh; ky++) {
                const uint8_t *src = rows[ky];
                if (!src)
                    continue;
                if (pairs) {
                    src += ow * sw;
                    __m256i b =
                        _mm256_loadu2_m128i((const __m128i *)(src + 4 * sw), (const __m128i *)src);
                    for (int64_t p = 0; p < np; p++) {
                        __m256i v = _mm256_shuffle_epi8(b, ctl[p]);
                        if (sgn)
                            v = _mm256_srai_epi16(v, 8);
                        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, wp[ky][p]));
                    }
                    continue;
                }
                for (int64_t kx = 0; kx < kw; kx++) {
                    int64_t at = ow * sw + kx * s->dw;
                    acc =
                        _mm256_add_epi32(acc, _mm256_madd_epi16(dw_taps(src, at, sw, at + 8 * sw, 8, sgn, 0),
                                                                _mm256_set1_epi32(wc[ky * kw + kx])));
                }
            }
            qepi8_store(h, table, &r, acc, y + oh * s->ow + ow, cnt);
        }
    }
}

static inline __attribute__((always_inline)) void
dw_plane_rows(const evo_qconv_shape *s, const evo_qconv_packed *h, const int32_t *wc, const int32_t *table,
              const qrow *rp, const uint8_t *x, uint8_t *y, int64_t kh, int64_t kw, bool sgn)
{
    if (dw_pairs_ok(s))
        dw_plane_rows_t(s, h, wc, table, rp, x, y, kh, kw, sgn, true);
    else
        dw_plane_rows_t(s, h, wc, table, rp, x, y, kh, kw, sgn, false);
}

/*
 * One output plane of channel c (see qconv_dw_avx512.c); kw and sgn are
 * constants in the specialised copies, so the tap loop unrolls; windows
 * wholly inside the row load without the padding path.
 */
static inline __attribute__((always_inline)) void
dw_plane_t(const evo_qconv_shape *s, const evo_qconv_packed *h, const unsigned char *base, int64_t c,
           const uint8_t *x, uint8_t *y, int64_t kw, bool sgn)
{
    const int32_t *wc = (const int32_t *)(base + h->off_w) + c * h->k_g;
    const int32_t *table = (const int32_t *)(base + h->off_table);
    qrow r;
    qrow_load(h, base, c, &r);
    if (dw_rows_fit(s, DW_ROW_LANES)) {
        if (s->kh == kw) /* square: kh a constant too in the specialised copies */
            dw_plane_rows(s, h, wc, table, &r, x, y, kw, kw, sgn);
        else
            dw_plane_rows(s, h, wc, table, &r, x, y, s->kh, kw, sgn);
        return;
    }
    int32_t zp = sgn ? (int32_t)(int8_t)h->x_pad : (int32_t)h->x_pad;
    const int64_t sw = s->sw, span = (kw - 1) * s->dw + 8 * sw;
    for (int64_t oh = 0; oh < s->oh; oh++)
        for (int64_t ow = 0; ow < s->ow; ow += 8) {
            int64_t cnt = EVO_MIN((int64_t)8, s->ow - ow), iw0 = ow * sw - s->pw;
            bool inner = iw0 >= 0 && iw0 + span <= s->iw;
            __m256i acc = _mm256_setzero_si256();
            for (int64_t ky = 0; ky < s->kh; ky++) {
                int64_t ih = oh * s->sh - s->ph + ky * s->dh;
                const int32_t *wt = wc + ky * kw;
                if (ih < 0 || ih >= s->ih) {
                    int32_t z = 0;
                    for (int64_t kx = 0; kx < kw; kx++)
                        z += zp * (int32_t)(int16_t)wt[kx];
                    acc = _mm256_add_epi32(acc, _mm256_set1_epi32(z));
                    continue;
                }
                const uint8_t *src = x + ih * s->iw;
                for (int64_t kx = 0; kx < kw; kx++) {
                    int64_t at = iw0 + kx * s->dw;
                    __m256i xv = inner ? dw_taps(src, at, sw, at + 8 * sw, 8, sgn, h->x_pad)
                                       : dw_taps(src, at, sw, s->iw, cnt, sgn, h->x_pad);
                    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, _mm256_set1_epi32(wt[kx])));
                }
            }
            qepi8_store(h, table, &r, acc, y + oh * s->ow + ow, cnt);
        }
}

#define QDW_ENTRY evo_qconv_dw_avx2
#define QDW_NAME "qconv_dw_avx2"
#define QDW_ISA EVO_ISA_AVX2
#define QDW_DEF evo_kernel_qconv_dw_avx2
#include "kernels/qconv_dw_body.inc"
