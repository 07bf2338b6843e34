/*
 * conv_dw_avx512.c - depthwise 2-D Conv, AVX-512: conv_dw_body.inc (the
 * scheme is described there) with 16-lane vectors; stride 2 splits a row
 * into its even and odd columns with two cross-lane permutes. Also
 * depthwise with 16 channels to a vector for small maps (dwc_avx512), and
 * the fused pair of a 1x1 conv and the depthwise conv that reads its
 * output, in the same pixel vectors (pwdwc_avx512).
 */
#include "kernels/conv_avx512.h"

#include <string.h>

#define DW_NV 8 /* vectors of outputs accumulated across the taps */

static inline void dw_split_even_odd(__m512 lo, __m512 hi, float *even, float *odd)
{
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    _mm512_storeu_ps(even, _mm512_permutex2var_ps(lo, ev, hi));
    _mm512_storeu_ps(odd, _mm512_permutex2var_ps(lo, od, hi));
}

#define DW_NAME "dw_avx512"
#define DW_ISA EVO_ISA_AVX512
#define DW_DEF evo_kernel_conv_dw_avx512
#include "kernels/conv_dw_body.inc"

/*
 * Depthwise with 16 channels to a vector (dwc_avx512). dw_avx512 above
 * puts a row of one channel in a vector; on the small late maps of
 * MobileNet and EfficientNet (7x7, 14x14, 5x5 taps) a third of its lanes
 * carry padding and its unaligned tap loads, not the multiply-adds, set
 * the pace. Here a vector holds one pixel of 16 channels: every tap is an
 * aligned load and a full-width FMA whatever the map's width. The price
 * is two 16 x 16 transposes per 16 pixels, in from and out to the planes
 * (NCHW in, NCHW out), so it is chosen only where the taps outweigh them
 * (dwc_pays).
 *
 * A task takes (image, 16-channel block, band of output rows) units. A
 * band's input rows go, transposed, into a zero-padded buffer of pixel
 * vectors (row r of it is input row band_top * s - pt + r, column pl + x
 * is input column x); output rows are computed DWC_NX pixels at a time,
 * accumulators in registers across all taps, into a pixel-vector buffer
 * in output order, which the out transpose turns back into 16 channel
 * runs, adding residual and activation on the way.
 */
#define DWC_C 16                    /* channels per block: the lanes */
#define DWC_NX 8                    /* outputs of a row accumulated together */
#define DWC_BAND_BYTES (40 << 10)   /* input band buffer per task */

typedef struct dwc_plan {
    int64_t ch, ih, iw, oh, ow, kh, kw, s, pt, pl;
    int64_t bw;           /* pixels per band buffer row (left padding, input, right padding) */
    int64_t band;         /* output rows per band */
    int64_t n_bands, nb;  /* bands per plane, 16-channel blocks */
    int64_t b_floats;     /* band input buffer */
    int64_t o_floats;     /* band output buffer, with a block of slack for the out transpose */
} dwc_plan;

static void dwc_plan_make(dwc_plan *p, const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd,
                          const int64_t *yd)
{
    p->ch = xd[1], p->ih = xd[2], p->iw = xd[3], p->oh = yd[2], p->ow = yd[3], p->kh = wd[2], p->kw = wd[3];
    p->s = c->stride[0], p->pt = c->pad_begin[0], p->pl = c->pad_begin[1];
    p->bw = EVO_MAX(p->pl + p->iw, (p->ow - 1) * p->s + p->kw);
    int64_t rows = EVO_MAX(DWC_BAND_BYTES / (p->bw * DWC_C * (int64_t)sizeof(float)), p->kh);
    p->band = EVO_MIN(EVO_MAX((rows - p->kh) / p->s + 1, (int64_t)1), p->oh);
    p->n_bands = (p->oh + p->band - 1) / p->band;
    p->nb = (p->ch + DWC_C - 1) / DWC_C;
    p->b_floats = ((p->band - 1) * p->s + p->kh) * p->bw * DWC_C;
    p->o_floats = (p->band * p->ow + DWC_C) * DWC_C;
}

/*
 * Fills the band buffer b with input rows [in0, in0 + rows) of nc channel
 * planes at x: rows outside the input are zeroed, the columns of padding
 * stay zero from the task's start. The rows inside are one flat run of
 * each plane, taken 16 pixels at a time.
 */
static void dwc_load_band(const dwc_plan *p, const float *x, int nc, int64_t in0, int64_t rows, float *b)
{
    int64_t plane = p->ih * p->iw, pitch = p->bw * DWC_C;
    for (int64_t r = 0; r < rows; r++)
        if (in0 + r < 0 || in0 + r >= p->ih)
            memset(b + r * pitch, 0, sizeof(float) * (size_t)pitch);
    int64_t lo = EVO_MAX(in0, (int64_t)0), hi = EVO_MIN(in0 + rows, p->ih);
    if (lo >= hi)
        return;
    int64_t f1 = hi * p->iw, iy = lo, ix = 0;
    for (int64_t f = lo * p->iw; f < f1; f += DWC_C) {
        __mmask16 m = range_mask(0, f1 - f);
        __m512 r[16];
        for (int c = 0; c < 16; c++)
            r[c] = c < nc ? _mm512_maskz_loadu_ps(m, x + c * plane + f) : _mm512_setzero_ps();
        v_transpose16(r);
        int n = (int)EVO_MIN((int64_t)16, f1 - f);
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
            if (j >= n)
                break;
            _mm512_store_ps(b + (iy - in0) * pitch + (p->pl + ix) * DWC_C, r[j]);
            if (++ix == p->iw)
                ix = 0, iy++;
        }
    }
}

/*
 * NX outputs of one row, s columns apart: b at the first one's top-left
 * tap, weights w as [tap][16], results to o (pixel vectors).
 */
#define DWC_ROW(NX, S)                                                                                       \
    static void dwc_row_##NX##_##S(const float *b, int64_t pitch, const float *w, __m512 bias, int kh, int kw, \
                                   float *o)                                                                 \
    {                                                                                                        \
        __m512 acc[NX];                                                                                      \
        for (int j = 0; j < NX; j++)                                                                         \
            acc[j] = bias;                                                                                   \
        for (int ky = 0; ky < kh; ky++) {                                                                    \
            const float *row = b + ky * pitch;                                                               \
            for (int kx = 0; kx < kw; kx++) {                                                                \
                __m512 wv = _mm512_load_ps(w + (ky * kw + kx) * DWC_C);                                      \
                for (int j = 0; j < NX; j++)                                                                 \
                    acc[j] = _mm512_fmadd_ps(wv, _mm512_load_ps(row + (j * S + kx) * DWC_C), acc[j]);        \
            }                                                                                                \
        }                                                                                                    \
        for (int j = 0; j < NX; j++)                                                                         \
            _mm512_store_ps(o + j * DWC_C, acc[j]);                                                          \
    }
#define DWC_ROWS(NX) DWC_ROW(NX, 1) DWC_ROW(NX, 2)
DWC_ROWS(1)
DWC_ROWS(2)
DWC_ROWS(3)
DWC_ROWS(4)
DWC_ROWS(5)
DWC_ROWS(6)
DWC_ROWS(7)
DWC_ROWS(8)

typedef void (*dwc_row_fn)(const float *, int64_t, const float *, __m512, int, int, float *);
static const dwc_row_fn dwc_rows[2][DWC_NX + 1] = {
    {NULL, dwc_row_1_1, dwc_row_2_1, dwc_row_3_1, dwc_row_4_1, dwc_row_5_1, dwc_row_6_1, dwc_row_7_1, dwc_row_8_1},
    {NULL, dwc_row_1_2, dwc_row_2_2, dwc_row_3_2, dwc_row_4_2, dwc_row_5_2, dwc_row_6_2, dwc_row_7_2, dwc_row_8_2},
};

/*
 * Output rows [oy0, oy0 + n_rows) from the pixel-vector buffer o back to
 * the nc channel planes at y (residual at res, same offsets), 16 pixels of
 * the rows' flat run at a time; act is e->act as a constant (dwc_store).
 */
static inline __attribute__((always_inline)) void dwc_store_rows(const dwc_plan *p, const float *o, int64_t oy0,
                                                                 int64_t n_rows, int nc, float *y, const float *res,
                                                                 const epilogue *e, const evo_act act)
{
    int64_t plane = p->oh * p->ow, f0 = oy0 * p->ow, n = n_rows * p->ow;
    for (int64_t f = 0; f < n; f += DWC_C) {
        __m512 r[16];
        for (int j = 0; j < 16; j++)
            r[j] = _mm512_load_ps(o + (f + j) * DWC_C);
        v_transpose16(r);
        __mmask16 m = range_mask(0, n - f);
        for (int c = 0; c < nc; c++) {
            int64_t off = c * plane + f0 + f;
            _mm512_mask_storeu_ps(y + off, m, act_res_ps(r[c], res ? res + off : NULL, m, act, e));
        }
    }
}

static void dwc_store(const dwc_plan *p, const float *o, int64_t oy0, int64_t n_rows, int nc, float *y,
                      const float *res, const epilogue *e)
{
    switch (e->act) {
    case EVO_ACT_NONE: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_NONE); break;
    case EVO_ACT_RELU: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_RELU); break;
    case EVO_ACT_CLIP: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_CLIP); break;
    case EVO_ACT_SILU: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_SILU); break;
    case EVO_ACT_HARD_SWISH: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_HARD_SWISH); break;
    default: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, e->act); break;
    }
}

/*
 * Where 16 channels to a vector beat a row to a vector. In models on 1
 * thread (the input hot from the conv before), maps up to 28 wide gain:
 * MobileNetV3's 5x5 on 7x7 x 960 0.113 -> 0.048 ms, EfficientNet-B0's 5x5
 * on 14x14 x 480 0.22 -> 0.15; wider maps do not, their rows fill dw's
 * vectors: 3x3 on 56x56 x 144 0.30 -> 0.34, on 112x112 x 32 0.28 -> 0.35.
 */
static bool dwc_pays(const dwc_plan *p)
{
    return p->ow <= 28;
}

static bool dwc_supports(const evo_graph *g, const evo_node *n)
{
    if (!dw_supports(g, n))
        return false;
    dwc_plan p;
    dwc_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    return dwc_pays(&p);
}

static size_t dwc_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    dwc_plan p;
    dwc_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    return (size_t)(p.b_floats + p.o_floats) * sizeof(float) * (size_t)n_tasks;
}

static size_t dwc_packed_bytes(const evo_graph *g, const evo_node *n)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    return (size_t)((wd[0] + DWC_C - 1) / DWC_C * wd[2] * wd[3] * DWC_C) * sizeof(float);
}

/* Weights as [block][tap][16 channels], channels past the last zero. */
static void dwc_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    const evo_value *wv = &g->values[n->in[1]];
    const float *w = wv->data;
    int64_t ch = wv->dims[0], taps = wv->dims[2] * wv->dims[3], nb = (ch + DWC_C - 1) / DWC_C;
    float *d = dst;
    for (int64_t cb = 0; cb < nb; cb++)
        for (int64_t t = 0; t < taps; t++)
            for (int64_t c = 0; c < DWC_C; c++) {
                int64_t ci = cb * DWC_C + c;
                *d++ = ci < ch ? w[ci * taps + t] : 0.0f;
            }
}

static void dwc_run(const evo_kernel_args *a, int task, int n_tasks)
{
    dwc_plan p;
    dwc_plan_make(&p, &a->node->a.conv, a->in[0].dims, a->in[1].dims, a->out[0].dims);
    int64_t u0, u1, per_img = p.nb * p.n_bands;
    evo_task_range(a->in[0].dims[0] * per_img, task, n_tasks, &u0, &u1);
    if (u0 >= u1)
        return;
    epilogue e = evo_conv_epilogue_of(a);
    float *b = (float *)a->scratch + (p.b_floats + p.o_floats) * task, *o = b + p.b_floats;
    memset(b, 0, sizeof(float) * (size_t)p.b_floats);
    int64_t in_plane = p.ih * p.iw, out_plane = p.oh * p.ow, taps = p.kh * p.kw, pitch = p.bw * DWC_C;
    dwc_row_fn full = dwc_rows[p.s - 1][DWC_NX], tail = dwc_rows[p.s - 1][(p.ow - 1) % DWC_NX + 1];
    unsigned csr = conv_flush_denormals();
    for (int64_t u = u0; u < u1; u++) {
        int64_t img = u / per_img, cb = u % per_img / p.n_bands, band = u % p.n_bands;
        int nc = (int)EVO_MIN((int64_t)DWC_C, p.ch - cb * DWC_C);
        int64_t c0 = img * p.ch + cb * DWC_C, oy0 = band * p.band, n_rows = EVO_MIN(p.band, p.oh - oy0);
        int64_t in0 = oy0 * p.s - p.pt;
        const float *w = (const float *)a->packed + cb * taps * DWC_C;
        __m512 bias = e.bias ? _mm512_maskz_loadu_ps(range_mask(0, nc), e.bias + cb * DWC_C) : _mm512_setzero_ps();
        dwc_load_band(&p, (const float *)a->in[0].data + c0 * in_plane, nc, in0, (n_rows - 1) * p.s + p.kh, b);

        for (int64_t oy = 0; oy < n_rows; oy++) {
            const float *brow = b + oy * p.s * pitch;
            float *orow = o + oy * p.ow * DWC_C;
            int64_t ox = 0;
            for (; ox + DWC_NX <= p.ow; ox += DWC_NX)
                full(brow + ox * p.s * DWC_C, pitch, w, bias, (int)p.kh, (int)p.kw, orow + ox * DWC_C);
            if (ox < p.ow)
                tail(brow + ox * p.s * DWC_C, pitch, w, bias, (int)p.kh, (int)p.kw, orow + ox * DWC_C);
        }
        dwc_store(&p, o, oy0, n_rows, nc, (float *)a->out[0].data + c0 * out_plane,
                  e.res ? e.res + c0 * out_plane : NULL, &e);
    }
    conv_restore_denormals(csr);
}

const evo_kernel_def evo_kernel_conv_dwc_avx512 = {
    .name = "dwc_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dwc_supports,
    .scratch_bytes = dwc_scratch,
    .run = dwc_run,
    .packed_bytes = dwc_packed_bytes,
    .pack = dwc_pack,
};

/*
 * Fused pair: a 1x1 conv P whose output E only a depthwise conv reads
 * (the expansion of an inverted residual block), with E written straight
 * into dwc's band buffer of pixel vectors and the depthwise conv run as
 * dwc does. Apart, P stores E as channel planes (in a model, to lines the
 * caches lost since the last run, which must be read in first: 1x1 16 ->
 * 64 on 112x112 takes 0.31 ms alone, 0.64 after a 64 MB sweep), and the
 * depthwise conv reads them back, dwc transposing them into pixel
 * vectors 16 x 16 at a time; here none of that happens. In models on 1
 * thread: MobileNetV2 7.1 -> 6.6 ms, MobileNetV3-Large 5.4 -> 5.15,
 * EfficientNet-B0 10.4 -> 9.9; its 16 -> 96 on 112x112 then 3x3/2 0.80 ->
 * 0.55 ms against bands of all channels through L2 (the previous fused
 * pair), 96 -> 576 on 14x14 then 3x3 0.31 -> 0.26 against the two apart. P runs with vectors over its output channels: for 16 channels
 * of E and PWC_NJ pixels, each input channel's 16 weights (two of P's
 * 8-channel panels, as conv_avx512 packed them) meet the pixels
 * broadcast from the input, so a finished tile is already the pixels'
 * vectors. The sums run over K in the same order as conv_avx512's, so E
 * is bit-identical to the unfused P's.
 *
 * A task takes (image, 16-channel block, band of output rows) units, as
 * dwc does; a band's E rows are computed into its buffer (rows shared by
 * two bands twice), then the depthwise rows and the out transpose run as
 * in dwc_run.
 */
#define PWC_NJ 28 /* pixels per tile of P: 28 accumulators */
/* Band buffer per task: a band of E for one channel block (P re-reads its input for each). */
#define PWC_BAND_BYTES (128 << 10)

typedef struct pwdwc_plan {
    dwc_plan d;       /* the depthwise conv, its band sized by PWC_BAND_BYTES */
    int64_t k;        /* P's input channels */
    int64_t m_panels; /* P's 8-channel weight panels */
} pwdwc_plan;

/* Sizes d's band (set by dwc_plan_make) for a buffer of PWC_BAND_BYTES. */
static void pwc_band(dwc_plan *d)
{
    int64_t rows = EVO_MAX(PWC_BAND_BYTES / (d->bw * DWC_C * (int64_t)sizeof(float)), d->kh);
    d->band = EVO_MIN(EVO_MAX((rows - d->kh) / d->s + 1, (int64_t)1), d->oh);
    d->n_bands = (d->oh + d->band - 1) / d->band;
    d->b_floats = ((d->band - 1) * d->s + d->kh) * d->bw * DWC_C;
    d->o_floats = (d->band * d->ow + DWC_C) * DWC_C;
}

static void pwdwc_plan_make(pwdwc_plan *p, const evo_kernel_args *pa, const evo_kernel_args *a)
{
    dwc_plan_make(&p->d, &a->node->a.conv, a->in[0].dims, a->in[1].dims, a->out[0].dims);
    pwc_band(&p->d);
    p->k = pa->in[0].dims[1];
    p->m_panels = (pa->out[0].dims[1] + MR - 1) / MR;
}

/*
 * NJ pixels of E from x (P's input at the first pixel, channel planes
 * plane floats apart): 16 channels whose weights are rows of the panels
 * a0 and a1, plus bias (pwc_act applies P's activation after); pixel j's
 * vector goes to the band buffer b at row r0, column c0 for j = 0, on
 * along rows of iw pixels, pitch floats apart.
 */
#define PWC_TILE(NJ)                                                                                         \
    static void pwc_tile_##NJ(const float *x, int64_t plane, const float *a0, const float *a1, int64_t k,   \
                              __m512 bias, float *b, int64_t pitch, int64_t iw, int64_t r0, int64_t c0)      \
    {                                                                                                        \
        __m512 acc[NJ];                                                                                      \
        _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++) acc[j] = _mm512_setzero_ps();                  \
        for (int64_t kk = 0; kk < k; kk++) {                                                                 \
            __m512 w = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_load_ps(a0 + kk * MR)),              \
                                          _mm256_load_ps(a1 + kk * MR), 1);                                  \
            const float *xr = x + kk * plane;                                                                \
            _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++) acc[j] =                                   \
                _mm512_fmadd_ps(_mm512_set1_ps(xr[j]), w, acc[j]);                                           \
        }                                                                                                    \
        float *row = b + r0 * pitch;                                                                         \
        _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++)                                                \
        {                                                                                                    \
            _mm512_store_ps(row + c0 * DWC_C, _mm512_add_ps(acc[j], bias));                                  \
            if (++c0 == iw)                                                                                  \
                c0 = 0, row += pitch;                                                                        \
        }                                                                                                    \
    }
#define PWC_TILES4(a, b, c, d) PWC_TILE(a) PWC_TILE(b) PWC_TILE(c) PWC_TILE(d)
PWC_TILES4(1, 2, 3, 4)
PWC_TILES4(5, 6, 7, 8)
PWC_TILES4(9, 10, 11, 12)
PWC_TILES4(13, 14, 15, 16)
PWC_TILES4(17, 18, 19, 20)
PWC_TILES4(21, 22, 23, 24)
PWC_TILES4(25, 26, 27, 28)

typedef void (*pwc_tile_fn)(const float *, int64_t, const float *, const float *, int64_t, __m512, float *, int64_t,
                            int64_t, int64_t, int64_t);
static const pwc_tile_fn pwc_tiles[PWC_NJ + 1] = {
    NULL,        pwc_tile_1,  pwc_tile_2,  pwc_tile_3,  pwc_tile_4,  pwc_tile_5,  pwc_tile_6,  pwc_tile_7,
    pwc_tile_8,  pwc_tile_9,  pwc_tile_10, pwc_tile_11, pwc_tile_12, pwc_tile_13, pwc_tile_14, pwc_tile_15,
    pwc_tile_16, pwc_tile_17, pwc_tile_18, pwc_tile_19, pwc_tile_20, pwc_tile_21, pwc_tile_22, pwc_tile_23,
    pwc_tile_24, pwc_tile_25, pwc_tile_26, pwc_tile_27, pwc_tile_28,
};

/* P's activation over n pixel vectors at v; act is e->act as a constant (pwc_act). */
static inline __attribute__((always_inline)) void pwc_act_run(float *v, int64_t n, const epilogue *e,
                                                               const evo_act act)
{
    for (int64_t i = 0; i < n; i++)
        _mm512_store_ps(v + i * DWC_C, act_ps(_mm512_load_ps(v + i * DWC_C), act, e));
}

static void pwc_act(float *v, int64_t n, const epilogue *e)
{
    switch (e->act) {
    case EVO_ACT_NONE: break;
    case EVO_ACT_RELU: pwc_act_run(v, n, e, EVO_ACT_RELU); break;
    case EVO_ACT_CLIP: pwc_act_run(v, n, e, EVO_ACT_CLIP); break;
    case EVO_ACT_SILU: pwc_act_run(v, n, e, EVO_ACT_SILU); break;
    case EVO_ACT_HARD_SWISH: pwc_act_run(v, n, e, EVO_ACT_HARD_SWISH); break;
    default: pwc_act_run(v, n, e, e->act); break;
    }
}

/*
 * E rows [lo, hi) of channel block cb into the band buffer b (its row 0 is
 * input row in0): the rows' pixels as one flat run, in tiles of equal
 * size up to PWC_NJ.
 */
static void pwc_rows(const pwdwc_plan *p, const evo_kernel_args *pa, const float *x, int64_t cb, int64_t lo,
                     int64_t hi, int64_t in0, float *b)
{
    const dwc_plan *d = &p->d;
    epilogue e = evo_conv_epilogue_of(pa);
    int64_t mp = 2 * cb, plane = d->ih * d->iw, pitch = d->bw * DWC_C;
    const float *a0 = (const float *)pa->packed + mp * p->k * MR;
    /* a block of 8 channels or fewer: the upper half repeats the lower, never stored */
    const float *a1 = mp + 1 < p->m_panels ? a0 + p->k * MR : a0;
    int64_t nc = EVO_MIN((int64_t)DWC_C, pa->out[0].dims[1] - cb * DWC_C);
    __m512 bias = e.bias ? _mm512_maskz_loadu_ps(range_mask(0, nc), e.bias + cb * DWC_C) : _mm512_setzero_ps();
    float *bp = b + d->pl * DWC_C;
    int64_t f = lo * d->iw, n = (hi - lo) * d->iw, n_tiles = (n + PWC_NJ - 1) / PWC_NJ;
    for (int64_t t = 0; t < n_tiles; t++) {
        int64_t nj = n / n_tiles + (t < n % n_tiles);
        pwc_tiles[nj](x + f, plane, a0, a1, p->k, bias, bp, pitch, d->iw, f / d->iw - in0, f % d->iw);
        f += nj;
    }
    for (int64_t r = lo; r < hi; r++)
        pwc_act(bp + (r - in0) * pitch, d->iw, &e);
}

static void pwdwc_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_kernel_args *pa = a->fused_prev;
    pwdwc_plan pp;
    pwdwc_plan_make(&pp, pa, a);
    const dwc_plan *p = &pp.d;
    int64_t u0, u1, per_img = p->nb * p->n_bands;
    evo_task_range(a->out[0].dims[0] * per_img, task, n_tasks, &u0, &u1);
    if (u0 >= u1)
        return;
    epilogue e = evo_conv_epilogue_of(a);
    float *b = (float *)a->scratch + (p->b_floats + p->o_floats) * task, *o = b + p->b_floats;
    memset(b, 0, sizeof(float) * (size_t)p->b_floats);
    int64_t x_size = pp.k * p->ih * p->iw, out_plane = p->oh * p->ow, taps = p->kh * p->kw;
    int64_t pitch = p->bw * DWC_C;
    dwc_row_fn full = dwc_rows[p->s - 1][DWC_NX], tail = dwc_rows[p->s - 1][(p->ow - 1) % DWC_NX + 1];
    unsigned csr = conv_flush_denormals();
    for (int64_t u = u0; u < u1; u++) {
        int64_t img = u / per_img, cb = u % per_img / p->n_bands, band = u % p->n_bands;
        int nc = (int)EVO_MIN((int64_t)DWC_C, p->ch - cb * DWC_C);
        int64_t c0 = img * p->ch + cb * DWC_C, oy0 = band * p->band, n_rows = EVO_MIN(p->band, p->oh - oy0);
        int64_t in0 = oy0 * p->s - p->pt, in1 = in0 + (n_rows - 1) * p->s + p->kh;
        int64_t lo = EVO_MAX(in0, (int64_t)0), hi = EVO_MIN(in1, p->ih);
        for (int64_t r = in0; r < in1; r++)
            if (r < lo || r >= hi)
                memset(b + (r - in0) * pitch, 0, sizeof(float) * (size_t)pitch);
        if (lo < hi)
            pwc_rows(&pp, pa, (const float *)pa->in[0].data + img * x_size, cb, lo, hi, in0, b);
        const float *w = (const float *)a->packed + cb * taps * DWC_C;
        __m512 bias = e.bias ? _mm512_maskz_loadu_ps(range_mask(0, nc), e.bias + cb * DWC_C) : _mm512_setzero_ps();
        for (int64_t oy = 0; oy < n_rows; oy++) {
            const float *brow = b + oy * p->s * pitch;
            float *orow = o + oy * p->ow * DWC_C;
            int64_t ox = 0;
            for (; ox + DWC_NX <= p->ow; ox += DWC_NX)
                full(brow + ox * p->s * DWC_C, pitch, w, bias, (int)p->kh, (int)p->kw, orow + ox * DWC_C);
            if (ox < p->ow)
                tail(brow + ox * p->s * DWC_C, pitch, w, bias, (int)p->kh, (int)p->kw, orow + ox * DWC_C);
        }
        dwc_store(p, o, oy0, n_rows, nc, (float *)a->out[0].data + c0 * out_plane,
                  e.res ? e.res + c0 * out_plane : NULL, &e);
    }
    conv_restore_denormals(csr);
}

static size_t pwdwc_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    dwc_plan d;
    dwc_plan_make(&d, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    pwc_band(&d);
    return (size_t)(d.b_floats + d.o_floats) * sizeof(float) * (size_t)n_tasks;
}

/*
 * Whether a is a 1x1 stride-1 unpadded conv (no residual, group 1) whose
 * output only b reads, as its input 0.
 */
static bool pw_feeds_only(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    if (a->op != EVO_OP_CONV || a->n_out < 1 || a->out[0] < 0 || b->in[0] != a->out[0] || a->a.conv.has_residual ||
        a->a.conv.out_groups || a->a.conv.group != 1 || a->n_in < 2)
        return false;
    const evo_conv_attrs *c = &a->a.conv;
    const int64_t *xd = g->values[a->in[0]].dims, *wd = g->values[a->in[1]].dims;
    const evo_value *e = &g->values[a->out[0]];
    if (wd[2] != 1 || wd[3] != 1 || c->stride[0] != 1 || c->stride[1] != 1 || c->pad_begin[0] || c->pad_begin[1] ||
        c->pad_end[0] || c->pad_end[1] || xd[2] != e->dims[2] || xd[3] != e->dims[3])
        return false;
    int v = a->out[0];
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return false;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in && !n->is_dead; k++)
            if (n->in[k] == v && (n != b || k != 0))
                return false;
    }
    return true;
}

/* P before a depthwise conv, its weights packed as one K block. */
static bool pwdwc_fuses(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    return pw_feeds_only(g, a, b) && dw_supports(g, b) &&
           evo_conv_avx512_kc(g, a) == g->values[a->in[1]].dims[1];
}

const evo_kernel_def evo_kernel_conv_pwdwc_avx512 = {
    .name = "pwdwc_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dw_supports,
    .scratch_bytes = pwdwc_scratch,
    .run = pwdwc_run,
    .packed_bytes = dwc_packed_bytes,
    .pack = dwc_pack,
    .fuses = pwdwc_fuses,
};
