/*
 * qconv_direct_vbmi.c - int8 Conv with kh x kw > 1, stride 1 or 2, group
 * 1, straight from the input with vpdpbusd (AVX512-VNNI, and AVX512-VBMI
 * for the epilogue's byte permutes): no im2col.
 *
 * A band of output rows is computed from a copy of the input rows it
 * reads, padded with the zero point and packed once as [channel group of
 * 4][phase][row][column][4 channels] (uint8; int8 offset by 128), where a
 * stride-2 input is split into its four phases (row and column parity).
 * Output position (r, c) of the band is the flat column j = r * wq + c of
 * a grid wq phase columns wide, and tap (dy, dx) reads the packed entry j
 * plus a constant offset in one phase plane, so the 16 columns of a
 * vector are one 64-byte load per tap and channel group. The grid's
 * columns c >= ow are computed and dropped (the kernel is taken when they
 * are at most a quarter). Register tile, weights (EVO_QK_W_DIRECT) and
 * epilogue as qconv_vnni.c: 8 channels x 48 grid columns.
 */
#include "core/cpu.h"
#include "kernels/qconv_avx512.h"
#include "kernels/qconv_interleave.h"

#include <string.h>

#define MR EVO_QCONV_VNNI_MR
#define NR EVO_QCONV_VNNI_NR
#define MAX_TAPS 64

typedef struct dplan {
    evo_qconv_shape s;
    int64_t m, c4n, taps, st, phases; /* channels out, channel groups of 4, kh*kw, stride, st^2 */
    int64_t wp, wq;                   /* padded input width, grid width (phase columns) */
    int64_t band, rq, plane;          /* output rows per band, phase rows packed, entries per plane */
    int64_t m_panels, tmp_len;
    bool split_m;
    size_t band_bytes, slice_bytes;
} dplan;

static void dplan_make(dplan *p, const evo_qconv_shape *s, int n_tasks)
{
    p->s = *s;
    p->m = s->c_out;
    p->c4n = (s->c_in + 3) / 4;
    p->taps = s->kh * s->kw;
    p->st = s->sh;
    p->phases = p->st * p->st;
    /* the padded width: as far as a tap reads (the end pads may differ from the begin ones), and the row */
    p->wp = EVO_MAX((s->ow - 1) * p->st + (s->kw - 1) * s->dw + 1, s->iw + s->pw);
    p->wq = (p->wp + p->st - 1) / p->st;
    int64_t ay = (s->kh - 1) * s->dh / p->st, ax = (s->kw - 1) * s->dw / p->st;
    /* a band's packed input stays in L2: its rows plus the rows its last taps reach */
    int64_t per_plane = EVO_QCONV_BBLOCK_BYTES / (p->c4n * p->phases * 4);
    p->band = EVO_MIN(EVO_MAX((per_plane - NR - ax - 16) / p->wq - ay - 1, (int64_t)1), s->oh);
    p->rq = p->band + ay + 1;
    /* past the last row: the loads of the last tile's dropped columns */
    p->plane = (p->rq * p->wq + NR + ax + 16 + 15) & ~(int64_t)15;
    p->m_panels = (p->m + MR - 1) / MR;
    p->split_m = n_tasks > 1 && s->oh * s->batch < 2 * n_tasks && p->m_panels >= 2 * n_tasks;
    p->tmp_len = ((p->st * (p->wq + 16) + 32 + 2 * s->pw + 63) & ~(int64_t)63) + 64;
    p->band_bytes = ((size_t)(p->c4n * p->phases * p->plane * 4) + 63) & ~(size_t)63;
    p->slice_bytes = p->band_bytes + (size_t)(8 * p->tmp_len);
}

bool evo_qconv_direct_shape_ok(const evo_qconv_shape *s)
{
    if (s->group != 1 || s->kh * s->kw < 2 || s->kh * s->kw > MAX_TAPS || s->sh != s->sw || s->sh < 1 ||
        s->sh > 2 || s->dh > 4 || s->dw > 4)
        return false;
    dplan p;
    dplan_make(&p, s, 1);
    return (p.wq - s->ow) * 4 <= p.wq; /* dropped grid columns: at most a quarter */
}

size_t evo_qconv_direct_scratch(const evo_qconv_shape *s, int n_tasks)
{
    dplan p;
    dplan_make(&p, s, n_tasks);
    return p.slice_bytes * (size_t)n_tasks;
}

static bool dk_supports(const evo_graph *g, const evo_node *n)
{
    if (!evo_cpu_get()->avx512vbmi || !evo_qconv_node_ok(g, n, false))
        return false;
    evo_qconv_shape s;
    evo_qconv_shape_make(&s, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[3]].dims,
                         g->values[n->out[0]].dims);
    return evo_qconv_direct_shape_ok(&s);
}

/*
 * The vpdpbusd micro-kernel over a band: for each channel group (cstride
 * bytes apart) and tap (toff bytes into the group), the 4 weight bytes of
 * each of the 8 rows broadcast against NV vectors of 16 grid columns.
 */
#define DKERNEL(NAME, NV)                                                                                    \
    __attribute__((noinline)) static void NAME(int64_t c4n, int taps, const int64_t *toff, int64_t cstride,   \
                                               const unsigned char *restrict a, const uint8_t *restrict b,   \
                                               __m512i *restrict acc)                                        \
    {                                                                                                        \
        __m512i c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;                                  \
        __m512i c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;                                  \
        c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm512_setzero_si512();      \
        c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = c00;                         \
        for (int64_t c = 0; c < c4n; c++, b += cstride)                                                      \
            for (int t = 0; t < taps; t++) {                                                                 \
                const uint8_t *bp = b + toff[t];                                                             \
                int32_t aw[MR];                                                                              \
                memcpy(aw, a, sizeof(aw));                                                                   \
                __m512i b0 = _mm512_loadu_si512(bp), b1 = c00, b2 = c00;                                     \
                if (NV > 1)                                                                                  \
                    b1 = _mm512_loadu_si512(bp + 64);                                                        \
                if (NV > 2)                                                                                  \
                    b2 = _mm512_loadu_si512(bp + 128);                                                       \
                ROW_DP(0, NV, QK_DP_CONV);                                                                   \
                ROW_DP(1, NV, QK_DP_CONV);                                                                   \
                ROW_DP(2, NV, QK_DP_CONV);                                                                   \
                ROW_DP(3, NV, QK_DP_CONV);                                                                   \
                ROW_DP(4, NV, QK_DP_CONV);                                                                   \
                ROW_DP(5, NV, QK_DP_CONV);                                                                   \
                ROW_DP(6, NV, QK_DP_CONV);                                                                   \
                ROW_DP(7, NV, QK_DP_CONV);                                                                   \
                a += MR * 4;                                                                                 \
            }                                                                                                \
        ROW_OUT(0);                                                                                          \
        ROW_OUT(1);                                                                                          \
        ROW_OUT(2);                                                                                          \
        ROW_OUT(3);                                                                                          \
        ROW_OUT(4);                                                                                          \
        ROW_OUT(5);                                                                                          \
        ROW_OUT(6);                                                                                          \
        ROW_OUT(7);                                                                                          \
    }

DKERNEL(dkernel1, 1)
DKERNEL(dkernel2, 2)
DKERNEL(dkernel3, 3)

/*
 * Channel row ch of input image xb as a padded row of the stride's phase px
 * (input row in_row): wq bytes into dst (wq + 16 at stride 1), the zero
 * point where the row reads padding (or past the input's channels, whose
 * weights are 0); tmp holds the padded input row.
 */
static void phase_row(const dplan *p, const uint8_t *xb, int64_t ch, int64_t in_row, int64_t px, uint8_t pad,
                      uint8_t *tmp, uint8_t *dst)
{
    const evo_qconv_shape *s = &p->s;
    int64_t len = p->st * (p->wq + 16);
    if (ch >= s->c_in || in_row < 0 || in_row >= s->ih) {
        memset(dst, pad, (size_t)(p->wq + 16));
        return;
    }
    const uint8_t *src = xb + (ch * s->ih + in_row) * s->iw;
    if (p->st == 1) { /* pw pad bytes, the input row, pad to wq + 16 */
        memset(dst, pad, (size_t)s->pw);
        memcpy(dst + s->pw, src, (size_t)s->iw);
        memset(dst + s->pw + s->iw, pad, (size_t)(p->wq + 16 - s->pw - s->iw));
        return;
    }
    /* the padded row in tmp, then its even or odd bytes */
    memset(tmp, pad, (size_t)s->pw);
    memcpy(tmp + s->pw, src, (size_t)s->iw);
    memset(tmp + s->pw + s->iw, pad, (size_t)(len - s->pw - s->iw));
    const __m128i even = _mm_set1_epi16(0x00FF);
    for (int64_t c = 0; c < p->wq; c += 16) {
        __m128i lo = _mm_loadu_si128((const __m128i *)(tmp + 2 * c)),
                hi = _mm_loadu_si128((const __m128i *)(tmp + 2 * c + 16));
        if (px) {
            lo = _mm_srli_epi16(lo, 8);
            hi = _mm_srli_epi16(hi, 8);
        } else {
            lo = _mm_and_si128(lo, even);
            hi = _mm_and_si128(hi, even);
        }
        _mm_storeu_si128((__m128i *)(dst + c), _mm_packus_epi16(lo, hi));
    }
}

/* Packs the input rows that output rows [r0, r0 + band) of image xb read into the band (dplan). */
static void pack_band(const dplan *p, const evo_qconv_packed *h, const uint8_t *xb, int64_t r0, uint8_t *band,
                      uint8_t *tmp)
{
    const evo_qconv_shape *s = &p->s;
    __m128i xr = _mm_set1_epi8((char)h->x_xor);
    int64_t row_len = p->wq + 16;
    uint8_t *rows = tmp + p->tmp_len * 4; /* four phase rows of row_len, then the padded row */
    for (int64_t c4 = 0; c4 < p->c4n; c4++)
        for (int64_t ph = 0; ph < p->phases; ph++) {
            int64_t py = ph / p->st, px = ph % p->st;
            uint8_t *plane = band + (c4 * p->phases + ph) * p->plane * 4;
            for (int64_t q = 0; q < p->rq; q++) {
                int64_t in_row = (r0 + q) * p->st + py - s->ph;
                for (int b = 0; b < 4; b++)
                    phase_row(p, xb, c4 * 4 + b, in_row, px, h->x_pad, tmp, rows + b * row_len);
                /* writes up to 15 entries past the row: the next row (or the slack) overwrites them */
                for (int64_t c = 0; c < p->wq; c += 16)
                    interleave16(_mm_loadu_si128((const __m128i *)(rows + c)),
                                 _mm_loadu_si128((const __m128i *)(rows + row_len + c)),
                                 _mm_loadu_si128((const __m128i *)(rows + 2 * row_len + c)),
                                 _mm_loadu_si128((const __m128i *)(rows + 3 * row_len + c)), xr,
                                 plane + (q * p->wq + c) * 4);
            }
            /* the slack the dropped columns read: any bytes, but set ones */
            int64_t used = p->rq * p->wq;
            memset(plane + used * 4, h->x_pad ^ h->x_xor, (size_t)((p->plane - used) * 4));
        }
}

/*
 * Requantizes the tile of nv vectors (grid columns [j0, j0 + width) of the
 * band starting at output row r0) for channels ch0 + [0, n_rows) and stores
 * the columns c < ow of each output row the tile crosses.
 */
static void dtile_store(const dplan *p, const evo_qconv_packed *h, const unsigned char *base, const __m512i *acc,
                        int nv, int64_t j0, int64_t width, int64_t r0, int64_t ch0, int n_rows, uint8_t *yb)
{
    const evo_qconv_shape *s = &p->s;
    int64_t plane = s->oh * s->ow;
    /* the row segments of the tile: where each starts in the tile, its length, its output offset */
    int64_t seg_pos[NR], seg_len[NR], seg_out[NR];
    int n_seg = 0;
    for (int64_t pos = 0; pos < width;) {
        int64_t j = j0 + pos, r = j / p->wq, c = j % p->wq, len = EVO_MIN(width - pos, p->wq - c);
        int64_t valid = EVO_MIN(len, s->ow - c);
        if (valid > 0) {
            seg_pos[n_seg] = pos, seg_len[n_seg] = valid, seg_out[n_seg] = (r0 + r) * s->ow + c;
            n_seg++;
        }
        pos += len;
    }
    const __m512i lane = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46,
                                         45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28,
                                         27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10,
                                         9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    qlut64 t;
    qlut64_load(h, base, &t); /* a table of zeros without an activation */
    for (int i = 0; i < n_rows; i++) {
        qrow r;
        qrow_load(h, base, ch0 + i, &r);
        __m512i z = qrow_bytes3(h, &r, acc + i * 3, nv);
        if (h->has_table)
            z = qlut64_map(&t, z);
        uint8_t *yc = yb + (ch0 + i) * plane;
        for (int k = 0; k < n_seg; k++) {
            __m512i v = seg_pos[k] ? _mm512_permutexvar_epi8(
                                         _mm512_add_epi8(lane, _mm512_set1_epi8((char)seg_pos[k])), z)
                                   : z;
            _mm512_mask_storeu_epi8(yc + seg_out[k], qmask64(seg_len[k]), v);
        }
    }
}

void evo_qconv_direct_vnni(const evo_qconv_shape *sp, const void *packed, const void *xv, void *yv,
                           void *scratch, int task, int n_tasks)
{
    const evo_qconv_shape s = *sp;
    dplan p;
    dplan_make(&p, &s, n_tasks);
    const unsigned char *base = packed;
    const evo_qconv_packed *h = (const evo_qconv_packed *)base;
    /* this task's output rows of every image (or channel panels) */
    int64_t mp0 = 0, mp1 = p.m_panels, u0 = 0, u1 = s.batch * s.oh;
    if (p.split_m)
        evo_task_range(p.m_panels, task, n_tasks, &mp0, &mp1);
    else
        evo_task_range(s.batch * s.oh, task, n_tasks, &u0, &u1);
    if (mp0 >= mp1 || u0 >= u1)
        return;
    uint8_t *band = (uint8_t *)scratch + p.slice_bytes * (size_t)task, *tmp = band + p.band_bytes;
    int64_t toff[MAX_TAPS];
    for (int64_t t = 0; t < p.taps; t++) {
        int64_t ay = t / s.kw * s.dh, ax = t % s.kw * s.dw;
        toff[t] = ((ay % p.st * p.st + ax % p.st) * p.plane + ay / p.st * p.wq + ax / p.st) * 4;
    }
    int64_t cstride = p.phases * p.plane * 4, k_step = p.c4n * p.taps * MR * 4;
    const uint8_t *x = xv;
    uint8_t *y = yv;
    for (int64_t u = u0; u < u1;) {
        int64_t b = u / s.oh, r0 = u % s.oh, rows = EVO_MIN(EVO_MIN(p.band, s.oh - r0), u1 - u);
        const uint8_t *xb = x + b * s.c_in * s.ih * s.iw;
        uint8_t *yb = y + b * s.c_out * s.oh * s.ow;
        pack_band(&p, h, xb, r0, band, tmp);
        int64_t n = rows * p.wq;
        for (int64_t mp = mp0; mp < mp1; mp++) {
            const unsigned char *w = base + h->off_w + mp * k_step;
            int n_rows = (int)EVO_MIN((int64_t)MR, p.m - mp * MR);
            for (int64_t j0 = 0; j0 < n; j0 += NR) {
                int64_t width = EVO_MIN((int64_t)NR, n - j0);
                int nv = (int)((width + 15) / 16);
                __m512i acc[MR * 3];
                const uint8_t *bj = band + j0 * 4;
                if (nv == 3)
                    dkernel3(p.c4n, (int)p.taps, toff, cstride, w, bj, acc);
                else if (nv == 2)
                    dkernel2(p.c4n, (int)p.taps, toff, cstride, w, bj, acc);
                else
                    dkernel1(p.c4n, (int)p.taps, toff, cstride, w, bj, acc);
                dtile_store(&p, h, base, acc, nv, j0, width, r0, mp * MR, n_rows, yb);
            }
        }
        u += rows;
    }
}

static void dk_run(const evo_kernel_args *a, int task, int n_tasks)
{
    evo_qconv_shape s;
    evo_qconv_shape_make(&s, &a->node->a.conv, a->in[0].dims, a->in[3].dims, a->out[0].dims);
    evo_qconv_direct_vnni(&s, a->packed, a->in[0].data, a->out[0].data, a->scratch, task, n_tasks);
}

static size_t dk_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    evo_qconv_shape s;
    evo_qconv_shape_make(&s, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[3]].dims,
                         g->values[n->out[0]].dims);
    return evo_qconv_direct_scratch(&s, n_tasks);
}

static size_t dk_packed_bytes(const evo_graph *g, const evo_node *n)
{
    return evo_qconv_packed_bytes_node(g, n, MR, EVO_QK_W_DIRECT);
}

static void dk_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    evo_qconv_pack_node(g, n, MR, EVO_QK_W_DIRECT, dst);
}

const evo_kernel_def evo_kernel_qconv_direct_vnni = {
    .name = "qconv_direct_vnni",
    .isa = EVO_ISA_VNNI,
    .supports = dk_supports,
    .scratch_bytes = dk_scratch,
    .run = dk_run,
    .packed_bytes = dk_packed_bytes,
    .pack = dk_pack,
};
