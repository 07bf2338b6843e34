/*
 * conv_pwdwc_avx512.c - fused pairs ending in a depthwise conv run as
 * dwc_avx512 runs it (conv_dw_avx512.c, conv_dwc_avx512.h): pwdwc_avx512
 * and bcdwc_avx512, and the same with the block's GlobalAveragePool
 * (pwdwc_gap_avx512, bcdwc_gap_avx512).
 */
#include "kernels/conv_avx512.h"
#include "kernels/conv_dwc_avx512.h"

#include <math.h>
#include <string.h>

/*
 * Fused pairs: a conv P whose output E only a depthwise conv reads, with E
 * written straight into dwc's band buffer of pixel vectors and the
 * depthwise conv run as dwc does. Apart, P stores E as channel planes (in
 * a model, to lines the caches lost since the last run, which must be
 * read in first: 1x1 16 -> 64 on 112x112 takes 0.31 ms alone, 0.64 after
 * a 64 MB sweep), and the depthwise conv reads them back, transposing
 * them into pixel vectors 16 x 16 at a time; here none of that happens.
 *
 * pwdwc_avx512: P is a 1x1 conv (an inverted residual block's expansion)
 * whose weights conv_avx512 packed (two of its 8-channel panels make 16
 * channels). In models on 1 thread: MobileNetV2 7.1 -> 6.6 ms,
 * MobileNetV3-Large 5.4 -> 5.15, EfficientNet-B0 10.4 -> 9.9; 16 -> 96
 * on 112x112 then 3x3/2 0.80 -> 0.55 ms against bands of all channels
 * through L2 (the pair's previous kernel), 96 -> 576 on 14x14 then 3x3
 * 0.31 -> 0.26 against the two apart.
 *
 * bcdwc_avx512: P is a conv bcast_avx512 runs (the 3x3/2 stems of
 * MobileNet and EfficientNet), weights as it packed them ([panel][K][16
 * or 32]); the input rows a band reads are copied, zero-padded, once per
 * band.
 *
 * P runs with vectors over its output channels: for 16 channels of E and
 * up to PWC_NJ pixels of a run, each row k of K (input channel, tap)
 * brings 16 weights, which meet the pixels broadcast from the input, so
 * a finished tile is already the pixels' vectors. The sums run over K in
 * the order of conv_avx512's and bcast_avx512's, so E is bit-identical to
 * the unfused P's.
 *
 * A task takes (image, band of output rows, 16-channel block) units; a
 * band's E rows are computed into the band buffer (rows shared by two
 * bands twice), then the depthwise rows and the out transpose run as in
 * dwc_run.
 *
 * Tried and left out: the block's 1x1 projection Q fused too, reading the
 * depthwise output's pixel vectors by broadcasts (16 channels x 16
 * pixels a tile, one transpose into Q's planes). No faster on MobileNetV2
 * (14x14 blocks 0.46 ms either way, 7x7 ones 0.30 -> 0.35): Q's tile runs
 * below the GEMM it replaces by about what the depthwise out transpose
 * costs, and Q needs all channels of a band, so its bands cannot split
 * small maps between threads.
 */
#define PWC_NJ 28 /* pixels per tile of P: 28 accumulators */
/* Band buffer per task: a band of E for one channel block. */
#define PWC_BAND_BYTES (128 << 10)
/* bcdwc: the largest copy of P's input rows per band (per task). */
#define PWC_COPY_BYTES (384 << 10)

typedef struct pwdwc_plan {
    dwc_plan d;   /* the depthwise conv, its band sized by PWC_BAND_BYTES */
    bool padded;  /* bcdwc: P's input rows copied, zero-padded; else a 1x1 P reads them in place */
    int64_t c_in, c_out, k, kh, kw, sh, sw, ph, pw, ih, iw; /* P: K = c_in * kh * kw, input ih x iw */
    int64_t rs, rows_in; /* bcdwc's copy: floats per row, rows per channel */
    int64_t wstep;       /* floats from one row of K to the next in P's packed weights */
    int64_t copy_floats, slice_floats; /* per task: the copy; band, output and copy buffers and K offsets */
} pwdwc_plan;

static void pwdwc_plan_make(pwdwc_plan *p, bool padded, const evo_conv_attrs *pc, const int64_t *pxd,
                            const int64_t *pwd, const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd,
                            const int64_t *yd)
{
    dwc_plan *d = &p->d;
    evo_dwc_plan_make(d, c, xd, wd, yd);
    int64_t rows = EVO_MAX(PWC_BAND_BYTES / (d->bw * DWC_C * (int64_t)sizeof(float)), d->kh);
    d->band = EVO_MIN(EVO_MAX((rows - d->kh) / d->s + 1, (int64_t)1), d->oh);
    d->n_bands = (d->oh + d->band - 1) / d->band;
    d->band = (d->oh + d->n_bands - 1) / d->n_bands; /* bands of equal height: tasks may split them */
    d->b_floats = ((d->band - 1) * d->s + d->kh) * d->bw * DWC_C;
    d->o_floats = (d->band * d->ow + DWC_C) * DWC_C;
    p->padded = padded;
    p->c_in = pxd[1], p->ih = pxd[2], p->iw = pxd[3], p->c_out = pwd[0], p->kh = pwd[2], p->kw = pwd[3];
    p->k = p->c_in * p->kh * p->kw;
    p->sh = pc->stride[0], p->sw = pc->stride[1], p->ph = pc->pad_begin[0], p->pw = pc->pad_begin[1];
    p->rs = EVO_MAX((d->iw - 1) * p->sw + p->kw, p->pw + p->iw);
    p->rows_in = ((d->band - 1) * d->s + d->kh - 1) * p->sh + p->kh;
    p->copy_floats = padded ? (p->c_in * p->rows_in * p->rs + DWC_C - 1) / DWC_C * DWC_C : 0;
    p->wstep = padded ? evo_conv_bcast_avx512_bv(p->c_out) : MR;
    int64_t koff_floats = (p->k * (int64_t)sizeof(int64_t) / (int64_t)sizeof(float) + DWC_C - 1) / DWC_C * DWC_C;
    p->slice_floats = d->b_floats + d->o_floats + p->copy_floats + koff_floats;
}

/*
 * NJ pixels of E, S columns of P's input apart from x: 16 channels whose
 * weights for row kk of K are the 8 at a0 + kk * ws and the 8 at a1 + kk
 * * ws, meeting the input at x + koff[kk], plus bias, then CLAMP 1: held
 * between lo and hi (P's ReLU or Clip), 2: SiLU, 3: HardSwish (other
 * activations pwc_act applies after); pixel j's vector goes to the band buffer b at
 * row r0, column c0 for j = 0, on along rows of iw pixels, pitch floats
 * apart. The clamp on the registers, against a pass over the band buffer
 * after: MobileNetV2 (ReLU6) 6.47 -> 6.28 ms on 1 thread; SiLU there:
 * EfficientNet-B0 9.70 -> 9.58.
 */
#define PWC_TILE(NJ, S, CLAMP)                                                                               \
    static void pwc_tile_##S##_##CLAMP##_##NJ(const float *x, const int64_t *koff, const float *a0,         \
                                              const float *a1, int64_t ws, int64_t k, __m512 bias, __m512 lo, \
                                              __m512 hi, float *b, int64_t pitch, int64_t iw, int64_t r0,    \
                                              int64_t c0)                                                    \
    {                                                                                                        \
        __m512 acc[NJ];                                                                                      \
        _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++) acc[j] = _mm512_setzero_ps();                  \
        for (int64_t kk = 0; kk < k; kk++) {                                                                 \
            __m512 w = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_load_ps(a0 + kk * ws)),              \
                                          _mm256_load_ps(a1 + kk * ws), 1);                                  \
            const float *xr = x + koff[kk];                                                                  \
            _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++) acc[j] =                                   \
                _mm512_fmadd_ps(_mm512_set1_ps(xr[j * S]), w, acc[j]);                                       \
        }                                                                                                    \
        float *row = b + r0 * pitch;                                                                         \
        _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++)                                                \
        {                                                                                                    \
            __m512 v = _mm512_add_ps(acc[j], bias);                                                          \
            if (CLAMP == 1)                                                                                  \
                v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);                                                 \
            else if (CLAMP == 2)                                                                             \
                v = _mm512_mul_ps(v, conv_sigmoid(v));                                                       \
            else if (CLAMP == 3)                                                                             \
                v = conv_act(v, EVO_ACT_HARD_SWISH, 0.0f, 0.0f);                                             \
            _mm512_store_ps(row + c0 * DWC_C, v);                                                            \
            if (++c0 == iw)                                                                                  \
                c0 = 0, row += pitch;                                                                        \
        }                                                                                                    \
    }
#define PWC_TILES(S, C)                                                                                      \
    PWC_TILE(1, S, C) PWC_TILE(2, S, C) PWC_TILE(3, S, C) PWC_TILE(4, S, C) PWC_TILE(5, S, C)               \
    PWC_TILE(6, S, C) PWC_TILE(7, S, C) PWC_TILE(8, S, C) PWC_TILE(9, S, C) PWC_TILE(10, S, C)              \
    PWC_TILE(11, S, C) PWC_TILE(12, S, C) PWC_TILE(13, S, C) PWC_TILE(14, S, C) PWC_TILE(15, S, C)          \
    PWC_TILE(16, S, C) PWC_TILE(17, S, C) PWC_TILE(18, S, C) PWC_TILE(19, S, C) PWC_TILE(20, S, C)          \
    PWC_TILE(21, S, C) PWC_TILE(22, S, C) PWC_TILE(23, S, C) PWC_TILE(24, S, C) PWC_TILE(25, S, C)          \
    PWC_TILE(26, S, C) PWC_TILE(27, S, C) PWC_TILE(28, S, C)
PWC_TILES(1, 0)
PWC_TILES(2, 0)
PWC_TILES(1, 1)
PWC_TILES(2, 1)
PWC_TILES(1, 2)
PWC_TILES(2, 2)
PWC_TILES(1, 3)
PWC_TILES(2, 3)

typedef void (*pwc_tile_fn)(const float *, const int64_t *, const float *, const float *, int64_t, int64_t, __m512,
                            __m512, __m512, float *, int64_t, int64_t, int64_t, int64_t);
#define PWC_TABLE(S, C)                                                                                      \
    {NULL,                 pwc_tile_##S##_##C##_1,  pwc_tile_##S##_##C##_2,  pwc_tile_##S##_##C##_3,         \
     pwc_tile_##S##_##C##_4,  pwc_tile_##S##_##C##_5,  pwc_tile_##S##_##C##_6,  pwc_tile_##S##_##C##_7,     \
     pwc_tile_##S##_##C##_8,  pwc_tile_##S##_##C##_9,  pwc_tile_##S##_##C##_10, pwc_tile_##S##_##C##_11,    \
     pwc_tile_##S##_##C##_12, pwc_tile_##S##_##C##_13, pwc_tile_##S##_##C##_14, pwc_tile_##S##_##C##_15,    \
     pwc_tile_##S##_##C##_16, pwc_tile_##S##_##C##_17, pwc_tile_##S##_##C##_18, pwc_tile_##S##_##C##_19,    \
     pwc_tile_##S##_##C##_20, pwc_tile_##S##_##C##_21, pwc_tile_##S##_##C##_22, pwc_tile_##S##_##C##_23,    \
     pwc_tile_##S##_##C##_24, pwc_tile_##S##_##C##_25, pwc_tile_##S##_##C##_26, pwc_tile_##S##_##C##_27,    \
     pwc_tile_##S##_##C##_28}
/* [stride - 1][CLAMP][pixels] */
static const pwc_tile_fn pwc_tiles[2][4][PWC_NJ + 1] = {
    {PWC_TABLE(1, 0), PWC_TABLE(1, 1), PWC_TABLE(1, 2), PWC_TABLE(1, 3)},
    {PWC_TABLE(2, 0), PWC_TABLE(2, 1), PWC_TABLE(2, 2), PWC_TABLE(2, 3)}};

/* P's activation over n pixel vectors at v; act is e->act as a constant (pwc_act). */
static inline __attribute__((always_inline)) void pwc_act_run(float *v, int64_t n, const epilogue *e,
                                                               const evo_act act)
{
    for (int64_t i = 0; i < n; i++)
        _mm512_store_ps(v + i * DWC_C, act_ps(_mm512_load_ps(v + i * DWC_C), act, e));
}

/* The activations the tiles do not apply in registers. */
static void pwc_act(float *v, int64_t n, const epilogue *e)
{
    switch (e->act) {
    case EVO_ACT_NONE:
    case EVO_ACT_RELU:
    case EVO_ACT_CLIP:
    case EVO_ACT_SILU:
    case EVO_ACT_HARD_SWISH: break;
    default: pwc_act_run(v, n, e, e->act); break;
    }
}

/* bcdwc: P's input rows [r0, r0 + rows) of one image x, zero-padded, into q (rows_in rows per channel). */
static void pwc_copy(const pwdwc_plan *p, const float *x, int64_t r0, int64_t rows, float *q)
{
    for (int64_t c = 0; c < p->c_in; c++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t ih = r0 + r;
            conv_copy_padded_row(q + (c * p->rows_in + r) * p->rs, p->rs,
                                 ih < 0 || ih >= p->ih ? NULL : x + (c * p->ih + ih) * p->iw, p->pw, p->iw);
        }
}

/*
 * E rows [lo, hi) of channel block cb into the band buffer b (its row 0 is
 * input row in0) in tiles of equal size up to PWC_NJ: for a 1x1 P the
 * rows' pixels as one flat run of x (one image of P's input), for bcdwc
 * row by row from the copy q of P's input rows from lo * sh - ph on.
 */
static void pwc_rows(const pwdwc_plan *p, const evo_kernel_args *pa, const float *x, const float *q,
                     const int64_t *koff, int64_t cb, int64_t lo, int64_t hi, int64_t in0, float *b)
{
    const dwc_plan *d = &p->d;
    epilogue e = evo_conv_epilogue_of(pa);
    const float *a0, *a1;
    if (p->padded) { /* [panel][K][bv]: the 16 channels are a row's half or whole */
        int64_t bv = p->wstep;
        a0 = (const float *)pa->packed + cb * DWC_C / bv * p->k * bv + cb * DWC_C % bv;
        a1 = a0 + MR;
    } else { /* two 8-channel panels; a block of 8 channels or fewer repeats its panel (never stored) */
        int64_t mp = 2 * cb, m_panels = (p->c_out + MR - 1) / MR;
        a0 = (const float *)pa->packed + mp * p->k * MR;
        a1 = mp + 1 < m_panels ? a0 + p->k * MR : a0;
    }
    int64_t nc = EVO_MIN((int64_t)DWC_C, p->c_out - cb * DWC_C), pitch = d->bw * DWC_C;
    __m512 bias = e.bias ? _mm512_maskz_loadu_ps(range_mask(0, nc), e.bias + cb * DWC_C) : _mm512_setzero_ps();
    float *bp = b + d->pl * DWC_C;
    /* ReLU and Clip as a clamp in the tiles, SiLU and HardSwish there too */
    int clamp = e.act == EVO_ACT_RELU || e.act == EVO_ACT_CLIP ? 1
                : e.act == EVO_ACT_SILU                          ? 2
                : e.act == EVO_ACT_HARD_SWISH                    ? 3
                                                                 : 0;
    __m512 vlo = _mm512_set1_ps(e.act == EVO_ACT_CLIP ? e.alpha : 0.0f);
    __m512 vhi = _mm512_set1_ps(e.act == EVO_ACT_CLIP ? e.beta : INFINITY);
    if (!p->padded) {
        int64_t f = lo * d->iw, n = (hi - lo) * d->iw, n_tiles = (n + PWC_NJ - 1) / PWC_NJ;
        for (int64_t t = 0; t < n_tiles; t++) {
            int64_t nj = n / n_tiles + (t < n % n_tiles);
            pwc_tiles[0][clamp][nj](x + f, koff, a0, a1, p->wstep, p->k, bias, vlo, vhi, bp, pitch, d->iw,
                                    f / d->iw - in0, f % d->iw);
            f += nj;
        }
    } else {
        int64_t n = d->iw, n_tiles = (n + PWC_NJ - 1) / PWC_NJ;
        for (int64_t r = lo; r < hi; r++) {
            const float *xr = q + (r - lo) * p->sh * p->rs;
            for (int64_t t = 0, c0 = 0; t < n_tiles; t++) {
                int64_t nj = n / n_tiles + (t < n % n_tiles);
                pwc_tiles[p->sw - 1][clamp][nj](xr + c0 * p->sw, koff, a0, a1, p->wstep, p->k, bias, vlo, vhi, bp,
                                                pitch, d->iw, r - in0, c0);
                c0 += nj;
            }
        }
    }
    for (int64_t r = lo; r < hi; r++)
        pwc_act(bp + (r - in0) * pitch, d->iw, &e);
}

/*
 * The pair P -> depthwise a (P's arguments in a->fused_prev), the task's
 * buffers in scratch. sums non-NULL: unit u's channel sums of the output
 * go to sums + u * 16 (units: image, band, channel block).
 */
static void pwdwc_units(const evo_kernel_args *a, const pwdwc_plan *pp, int task, int n_tasks, float *scratch,
                        float *sums)
{
    const evo_kernel_args *pa = a->fused_prev;
    bool padded = pp->padded;
    const dwc_plan *p = &pp->d;
    int64_t u0, u1, per_img = p->nb * p->n_bands;
    evo_task_range(a->out[0].dims[0] * per_img, task, n_tasks, &u0, &u1);
    if (u0 >= u1)
        return;
    epilogue e = evo_conv_epilogue_of(a);
    float *b = scratch + pp->slice_floats * task, *o = b + p->b_floats, *q = o + p->o_floats;
    int64_t *koff = (int64_t *)(q + pp->copy_floats);
    evo_dwc_zero_pads(p, b);
    for (int64_t kk = 0; kk < pp->k; kk++) /* row kk of K: input channel, then tap */
        koff[kk] = padded ? (kk / (pp->kh * pp->kw) * pp->rows_in + kk / pp->kw % pp->kh) * pp->rs + kk % pp->kw
                          : kk * pp->ih * pp->iw;
    int64_t x_size = pp->c_in * pp->ih * pp->iw, out_plane = p->oh * p->ow, taps = p->kh * p->kw;
    int64_t pitch = p->bw * DWC_C, copied = -1;
    dwc_row_fn full = evo_dwc_row_of(p, DWC_NX), tail = evo_dwc_row_of(p, (p->ow - 1) % DWC_NX + 1);
    unsigned csr = conv_flush_denormals();
    for (int64_t u = u0; u < u1; u++) {
        int64_t img = u / per_img, band = u % per_img / p->nb, cb = u % p->nb;
        int nc = (int)EVO_MIN((int64_t)DWC_C, p->ch - cb * DWC_C);
        int64_t c0 = img * p->ch + cb * DWC_C, oy0 = band * p->band, n_rows = EVO_MIN(p->band, p->oh - oy0);
        int64_t in0 = oy0 * p->s - p->pt, in1 = in0 + (n_rows - 1) * p->s + p->kh;
        int64_t lo = EVO_MAX(in0, (int64_t)0), hi = EVO_MIN(in1, p->ih);
        const float *x = (const float *)pa->in[0].data + img * x_size;
        for (int64_t r = in0; r < in1; r++)
            if (r < lo || r >= hi)
                memset(b + (r - in0) * pitch, 0, sizeof(float) * (size_t)pitch);
        if (padded && lo < hi && copied != u / p->nb) { /* a new band: its input rows */
            pwc_copy(pp, x, lo * pp->sh - pp->ph, (hi - lo - 1) * pp->sh + pp->kh, q);
            copied = u / p->nb;
        }
        if (lo < hi)
            pwc_rows(pp, pa, x, q, koff, cb, lo, hi, in0, b);
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
        evo_dwc_store(p, o, oy0, n_rows, nc, (float *)a->out[0].data + c0 * out_plane,
                      e.res ? e.res + c0 * out_plane : NULL, &e, sums ? sums + u * DWC_C : NULL);
    }
    conv_restore_denormals(csr);
}

static void pwdwc_plan_args(pwdwc_plan *pp, bool padded, const evo_kernel_args *a)
{
    const evo_kernel_args *pa = a->fused_prev;
    pwdwc_plan_make(pp, padded, &pa->node->a.conv, pa->in[0].dims, pa->in[1].dims, &a->node->a.conv, a->in[0].dims,
                    a->in[1].dims, a->out[0].dims);
}

static void pwdwc_run_any(const evo_kernel_args *a, bool padded, int task, int n_tasks)
{
    pwdwc_plan pp;
    pwdwc_plan_args(&pp, padded, a);
    pwdwc_units(a, &pp, task, n_tasks, a->scratch, NULL);
}

static void pwdwc_run(const evo_kernel_args *a, int task, int n_tasks)
{
    pwdwc_run_any(a, false, task, n_tasks);
}

static void bcdwc_run(const evo_kernel_args *a, int task, int n_tasks)
{
    pwdwc_run_any(a, true, task, n_tasks);
}

/* The plan of the pair whose depthwise conv is n (P: the producer of its input). */
static bool pwdwc_plan_node(pwdwc_plan *p, bool padded, const evo_graph *g, const evo_node *n)
{
    const evo_node *a = evo_conv_producer(g, n->in[0]);
    if (!a || a->op != EVO_OP_CONV || a->n_in < 2)
        return false;
    pwdwc_plan_make(p, padded, &a->a.conv, g->values[a->in[0]].dims, g->values[a->in[1]].dims, &n->a.conv,
                    g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    return true;
}

static size_t pwdwc_scratch_any(const evo_graph *g, const evo_node *n, bool padded, int n_tasks)
{
    pwdwc_plan p;
    if (!pwdwc_plan_node(&p, padded, g, n))
        return 0;
    return (size_t)p.slice_floats * sizeof(float) * (size_t)n_tasks;
}

static size_t pwdwc_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    return pwdwc_scratch_any(g, n, false, n_tasks);
}

static size_t bcdwc_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    return pwdwc_scratch_any(g, n, true, n_tasks);
}

/*
 * Whether a is a 2-D conv (group 1, no residual, NCHW output) whose
 * output only b reads, as its input 0, and b a depthwise conv dw_avx512
 * takes.
 */
static bool feeds_dw_only(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    return a->op == EVO_OP_CONV && !a->a.conv.has_residual && !a->a.conv.out_groups && a->a.conv.group == 1 &&
           a->n_in >= 2 && a->a.conv.n_spatial == 2 && evo_conv_dw_supports(g, b) && evo_conv_feeds_only(g, a, b);
}

/* A 1x1 stride-1 unpadded P, its weights packed as one K block. */
static bool pwdwc_fuses(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    if (!feeds_dw_only(g, a, b))
        return false;
    const evo_conv_attrs *c = &a->a.conv;
    const int64_t *xd = g->values[a->in[0]].dims, *wd = g->values[a->in[1]].dims, *ed = g->values[a->out[0]].dims;
    return wd[2] == 1 && wd[3] == 1 && c->stride[0] == 1 && c->stride[1] == 1 && !c->pad_begin[0] &&
           !c->pad_begin[1] && !c->pad_end[0] && !c->pad_end[1] && xd[2] == ed[2] && xd[3] == ed[3] &&
           evo_conv_avx512_kc(g, a) == wd[1];
}

/*
 * A P that bcast_avx512 runs (stride 1 or 2 both ways, no dilation) with K
 * up to PWC_K_MAX, a stem reading the image: its rows shared by two bands
 * cost little to compute twice. On 1 thread, MobileNetV2's 3x3/2 3 -> 32
 * then 3x3 on 112x112: 0.65 -> 0.44 ms; but YOLOX-nano's 3x3 12 -> 16
 * (K = 108) on 208x208 then 3x3/2: 1.87 -> 1.93, an eighth of its rows
 * computed twice.
 */
#define PWC_K_MAX 32
static bool bcdwc_fuses(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    if (!feeds_dw_only(g, a, b))
        return false;
    const evo_conv_attrs *c = &a->a.conv;
    const int64_t *wd = g->values[a->in[1]].dims;
    if (c->stride[0] != c->stride[1] || c->stride[0] > 2 || c->dilation[0] != 1 || c->dilation[1] != 1 ||
        wd[1] * wd[2] * wd[3] > PWC_K_MAX)
        return false;
    pwdwc_plan p;
    return pwdwc_plan_node(&p, true, g, b) && p.copy_floats * (int64_t)sizeof(float) <= PWC_COPY_BYTES;
}

const evo_kernel_def evo_kernel_conv_pwdwc_avx512 = {
    .name = "pwdwc_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = evo_conv_dw_supports,
    .scratch_bytes = pwdwc_scratch,
    .run = pwdwc_run,
    .packed_bytes = evo_dwc_packed_bytes,
    .pack = evo_dwc_pack,
    .fuses = pwdwc_fuses,
};

const evo_kernel_def evo_kernel_conv_bcdwc_avx512 = {
    .name = "bcdwc_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = evo_conv_dw_supports,
    .scratch_bytes = bcdwc_scratch,
    .run = bcdwc_run,
    .packed_bytes = evo_dwc_packed_bytes,
    .pack = evo_dwc_pack,
    .fuses = bcdwc_fuses,
};

/*
 * pwdwc or bcdwc with the GlobalAveragePool of the depthwise output (a
 * squeeze-excite block's first step) taken from the vectors as they are
 * stored: the output is still stored for the block's multiply, but not
 * read again. Each unit (image, band, channel block) writes its channel
 * sums to its own slot; the task that finishes last (a count in the
 * step's run state, args.state, reset by that task) adds the bands
 * in order, so the means do not depend on the task split.
 */
#define GAP_STATE_BYTES sizeof(int)

/* The plan of the pair before GlobalAveragePool node n; with it, floats of the units' sums. */
static bool gap_plan_node(pwdwc_plan *p, bool padded, const evo_graph *g, const evo_node *n, int64_t *sum_floats)
{
    const evo_node *d = evo_conv_producer(g, n->in[0]);
    if (!d || !pwdwc_plan_node(p, padded, g, d))
        return false;
    *sum_floats = g->values[d->out[0]].dims[0] * p->d.n_bands * p->d.nb * DWC_C;
    return true;
}

static size_t gap_scratch_any(const evo_graph *g, const evo_node *n, bool padded, int n_tasks)
{
    pwdwc_plan p;
    int64_t sum_floats;
    if (!gap_plan_node(&p, padded, g, n, &sum_floats))
        return 0;
    return (size_t)(p.slice_floats * n_tasks + sum_floats) * sizeof(float);
}

static size_t pwdwc_gap_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    return gap_scratch_any(g, n, false, n_tasks);
}

static size_t bcdwc_gap_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    return gap_scratch_any(g, n, true, n_tasks);
}

static size_t gap_state_bytes(const evo_graph *g, const evo_node *n)
{
    (void)g, (void)n;
    return GAP_STATE_BYTES;
}

static void gap_run_any(const evo_kernel_args *a, bool padded, int task, int n_tasks)
{
    const evo_kernel_args *d = a->fused_prev;
    pwdwc_plan pp;
    pwdwc_plan_args(&pp, padded, d);
    float *sums = (float *)a->scratch + pp.slice_floats * n_tasks;
    pwdwc_units(d, &pp, task, n_tasks, a->scratch, sums);
    /* the count of finished tasks: zero between runs */
    int *done = a->state;
    if (__atomic_add_fetch(done, 1, __ATOMIC_ACQ_REL) != n_tasks)
        return;
    __atomic_store_n(done, 0, __ATOMIC_RELAXED);
    const dwc_plan *p = &pp.d;
    int64_t per_img = p->nb * p->n_bands;
    float plane = (float)(p->oh * p->ow), *y = a->out[0].data;
    for (int64_t img = 0; img < d->out[0].dims[0]; img++)
        for (int64_t c = 0; c < p->ch; c++) {
            float s = 0.0f;
            for (int64_t band = 0; band < p->n_bands; band++)
                s += sums[(img * per_img + band * p->nb + c / DWC_C) * DWC_C + c % DWC_C];
            y[img * p->ch + c] = s / plane;
        }
}

static void pwdwc_gap_run(const evo_kernel_args *a, int task, int n_tasks)
{
    gap_run_any(a, false, task, n_tasks);
}

static void bcdwc_gap_run(const evo_kernel_args *a, int task, int n_tasks)
{
    gap_run_any(a, true, task, n_tasks);
}

/* n a GlobalAveragePool of d's output (d run by pwdwc or bcdwc, as the registry pairs them; no residual) */
static bool gap_fuses(const evo_graph *g, const evo_node *d, const evo_node *n)
{
    if (n->op != EVO_OP_GLOBAL_AVERAGE_POOL || n->n_in < 1 || n->n_out < 1 || d->n_out < 1 ||
        n->in[0] != d->out[0] || n->out[0] < 0 || d->op != EVO_OP_CONV || d->a.conv.has_residual)
        return false;
    const evo_value *x = &g->values[n->in[0]], *y = &g->values[n->out[0]];
    return x->dtype == EVO_DTYPE_FLOAT && y->dtype == EVO_DTYPE_FLOAT && x->rank == 4 && y->rank == 4 &&
           y->dims[0] == x->dims[0] && y->dims[1] == x->dims[1] && y->dims[2] == 1 && y->dims[3] == 1;
}

const evo_kernel_def evo_kernel_conv_pwdwc_gap_avx512 = {
    .name = "pwdwc_gap_avx512",
    .isa = EVO_ISA_AVX512,
    .scratch_bytes = pwdwc_gap_scratch,
    .run = pwdwc_gap_run,
    .state_bytes = gap_state_bytes,
    .fuses = gap_fuses,
    .keeps_prev_output = true,
};

const evo_kernel_def evo_kernel_conv_bcdwc_gap_avx512 = {
    .name = "bcdwc_gap_avx512",
    .isa = EVO_ISA_AVX512,
    .scratch_bytes = bcdwc_gap_scratch,
    .run = bcdwc_gap_run,
    .state_bytes = gap_state_bytes,
    .fuses = gap_fuses,
    .keeps_prev_output = true,
};
