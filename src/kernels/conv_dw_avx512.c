/*
 * conv_dw_avx512.c - depthwise 2-D Conv, AVX-512: conv_dw_body.inc (the
 * scheme is described there) with 16-lane vectors; stride 2 splits a row
 * into its even and odd columns with two cross-lane permutes. Also
 * depthwise with 16 channels to a vector for small maps (dwc_avx512),
 * whose parts the fused pairs of conv_pwdwc_avx512.c share
 * (conv_dwc_avx512.h).
 */
#include "kernels/conv_avx512.h"
#include "kernels/conv_dwc_avx512.h"

#include <math.h>
#include <string.h>

#define DW_NV 8 /* vectors of outputs accumulated across the taps */

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

#define DWC_BAND_BYTES (40 << 10) /* input band buffer per task */

void evo_dwc_plan_make(dwc_plan *p, const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd,
                       const int64_t *yd)
{
    p->ch = xd[1], p->ih = xd[2], p->iw = xd[3], p->oh = yd[2], p->ow = yd[3], p->kh = wd[2], p->kw = wd[3];
    p->s = c->stride[0], p->pt = c->pad_begin[0], p->pl = c->pad_begin[1];
    p->bw = EVO_MAX(p->pl + p->iw, (p->ow - 1) * p->s + p->kw);
    int64_t rows = EVO_MAX(DWC_BAND_BYTES / (p->bw * DWC_C * (int64_t)sizeof(float)), p->kh);
    p->band = EVO_MIN(EVO_MAX((rows - p->kh) / p->s + 1, (int64_t)1), p->oh);
    p->n_bands = (p->oh + p->band - 1) / p->band;
    p->band = (p->oh + p->n_bands - 1) / p->n_bands; /* bands of equal height: tasks may split them */
    p->nb = (p->ch + DWC_C - 1) / DWC_C;
    p->b_floats = ((p->band - 1) * p->s + p->kh) * p->bw * DWC_C;
    p->o_floats = (p->band * p->ow + DWC_C) * DWC_C;
}

/*
 * Zeroes the columns of padding (left and right of the input's) in every
 * row of the band buffer b, once per task: nothing writes them after. A
 * memset of the whole buffer per task cost MobileNetV2 0.1 ms on 2
 * threads (four tasks).
 */
void evo_dwc_zero_pads(const dwc_plan *p, float *b)
{
    int64_t pitch = p->bw * DWC_C, right = p->bw - p->pl - p->iw;
    for (float *row = b; row < b + p->b_floats; row += pitch) {
        memset(row, 0, sizeof(float) * (size_t)(p->pl * DWC_C));
        if (right > 0)
            memset(row + (p->pl + p->iw) * DWC_C, 0, sizeof(float) * (size_t)(right * DWC_C));
    }
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

/*
 * The same for K x K taps (3 and 5), the loops spelled out with K a
 * constant: with kh and kw read at run time GCC kept the accumulators in
 * memory across the rows of taps, a store and a load of each per row
 * (MobileNetV2 on 1 thread: 6.51 -> 6.35 ms).
 */
#define DWC_ROWK(K, NX, S)                                                                                   \
    static void dwc_row##K##_##NX##_##S(const float *b, int64_t pitch, const float *w, __m512 bias, int kh,   \
                                        int kw, float *o)                                                    \
    {                                                                                                        \
        (void)kh, (void)kw;                                                                                  \
        __m512 acc[NX];                                                                                      \
        _Pragma("GCC unroll 8") for (int j = 0; j < NX; j++) acc[j] = bias;                                  \
        _Pragma("GCC unroll 5") for (int ky = 0; ky < K; ky++)                                               \
        {                                                                                                    \
            const float *row = b + ky * pitch;                                                               \
            _Pragma("GCC unroll 5") for (int kx = 0; kx < K; kx++)                                           \
            {                                                                                                \
                __m512 wv = _mm512_load_ps(w + (ky * K + kx) * DWC_C);                                       \
                _Pragma("GCC unroll 8") for (int j = 0; j < NX; j++) acc[j] =                                \
                    _mm512_fmadd_ps(wv, _mm512_load_ps(row + (j * S + kx) * DWC_C), acc[j]);                 \
            }                                                                                                \
        }                                                                                                    \
        _Pragma("GCC unroll 8") for (int j = 0; j < NX; j++) _mm512_store_ps(o + j * DWC_C, acc[j]);         \
    }
#define DWC_ROWSK(NX) DWC_ROWK(3, NX, 1) DWC_ROWK(3, NX, 2) DWC_ROWK(5, NX, 1) DWC_ROWK(5, NX, 2)
DWC_ROWSK(1)
DWC_ROWSK(2)
DWC_ROWSK(3)
DWC_ROWSK(4)
DWC_ROWSK(5)
DWC_ROWSK(6)
DWC_ROWSK(7)
DWC_ROWSK(8)

#define DWC_TABLE(P, S)                                                                                      \
    {NULL, P##1_##S, P##2_##S, P##3_##S, P##4_##S, P##5_##S, P##6_##S, P##7_##S, P##8_##S}
/* [any, 3x3, 5x5][stride - 1][outputs] */
static const dwc_row_fn dwc_rows[3][2][DWC_NX + 1] = {
    {DWC_TABLE(dwc_row_, 1), DWC_TABLE(dwc_row_, 2)},
    {DWC_TABLE(dwc_row3_, 1), DWC_TABLE(dwc_row3_, 2)},
    {DWC_TABLE(dwc_row5_, 1), DWC_TABLE(dwc_row5_, 2)},
};

/* The row function of NX outputs for plan p */
dwc_row_fn evo_dwc_row_of(const dwc_plan *p, int64_t nx)
{
    int k = p->kh != p->kw ? 0 : p->kh == 3 ? 1 : p->kh == 5 ? 2 : 0;
    return dwc_rows[k][p->s - 1][nx];
}

/*
 * Output rows [oy0, oy0 + n_rows) from the pixel-vector buffer o back to
 * the nc channel planes at y (residual at res, same offsets), 16 pixels of
 * the rows' flat run at a time; act is e->act as a constant (evo_dwc_store).
 * With SUMS (and no residual), each channel's sum of the values stored
 * goes to sums[c]: the activation comes before the transpose, and the
 * pixel vectors add up to the sums in one register.
 */
static inline __attribute__((always_inline)) void dwc_store_rows(const dwc_plan *p, const float *o, int64_t oy0,
                                                                 int64_t n_rows, int nc, float *y, const float *res,
                                                                 const epilogue *e, const evo_act act,
                                                                 const bool SUMS, float *sums)
{
    int64_t plane = p->oh * p->ow, f0 = oy0 * p->ow, n = n_rows * p->ow;
    __m512 sum = _mm512_setzero_ps();
    for (int64_t f = 0; f < n; f += DWC_C) {
        __m512 r[16];
        __mmask16 m = range_mask(0, n - f);
        if (SUMS) {
            for (int j = 0; j < 16; j++) {
                r[j] = act_ps(_mm512_load_ps(o + (f + j) * DWC_C), act, e);
                if (j < n - f)
                    sum = _mm512_add_ps(sum, r[j]);
            }
            v_transpose16(r);
            for (int c = 0; c < nc; c++)
                _mm512_mask_storeu_ps(y + c * plane + f0 + f, m, r[c]);
            continue;
        }
        for (int j = 0; j < 16; j++)
            r[j] = _mm512_load_ps(o + (f + j) * DWC_C);
        v_transpose16(r);
        for (int c = 0; c < nc; c++) {
            int64_t off = c * plane + f0 + f;
            _mm512_mask_storeu_ps(y + off, m, act_res_ps(r[c], res ? res + off : NULL, m, act, e));
        }
    }
    if (SUMS)
        _mm512_mask_storeu_ps(sums, range_mask(0, nc), sum);
}

#define DWC_STORE_ACTS(SUMS)                                                                                 \
    switch (e->act) {                                                                                        \
    case EVO_ACT_NONE: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_NONE, SUMS, sums); break;    \
    case EVO_ACT_RELU: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_RELU, SUMS, sums); break;    \
    case EVO_ACT_CLIP: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_CLIP, SUMS, sums); break;    \
    case EVO_ACT_SILU: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_SILU, SUMS, sums); break;    \
    case EVO_ACT_HARD_SWISH:                                                                                 \
        dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, EVO_ACT_HARD_SWISH, SUMS, sums);                    \
        break;                                                                                               \
    default: dwc_store_rows(p, o, oy0, n_rows, nc, y, res, e, e->act, SUMS, sums); break;                    \
    }

/* dwc_store_rows for e->act, with channel sums into sums unless it is NULL */
void evo_dwc_store(const dwc_plan *p, const float *o, int64_t oy0, int64_t n_rows, int nc, float *y,
                   const float *res, const epilogue *e, float *sums)
{
    if (sums) {
        DWC_STORE_ACTS(true)
    } else {
        DWC_STORE_ACTS(false)
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
    evo_dwc_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    return dwc_pays(&p);
}

static size_t dwc_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    dwc_plan p;
    evo_dwc_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    return (size_t)(p.b_floats + p.o_floats) * sizeof(float) * (size_t)n_tasks;
}

size_t evo_dwc_packed_bytes(const evo_graph *g, const evo_node *n)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    return (size_t)((wd[0] + DWC_C - 1) / DWC_C * wd[2] * wd[3] * DWC_C) * sizeof(float);
}

/* Weights as [block][tap][16 channels], channels past the last zero. */
void evo_dwc_pack(const evo_graph *g, const evo_node *n, void *dst)
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
    evo_dwc_plan_make(&p, &a->node->a.conv, a->in[0].dims, a->in[1].dims, a->out[0].dims);
    int64_t u0, u1, per_img = p.nb * p.n_bands;
    evo_task_range(a->in[0].dims[0] * per_img, task, n_tasks, &u0, &u1);
    if (u0 >= u1)
        return;
    epilogue e = evo_conv_epilogue_of(a);
    float *b = (float *)a->scratch + (p.b_floats + p.o_floats) * task, *o = b + p.b_floats;
    evo_dwc_zero_pads(&p, b);
    int64_t in_plane = p.ih * p.iw, out_plane = p.oh * p.ow, taps = p.kh * p.kw, pitch = p.bw * DWC_C;
    dwc_row_fn full = evo_dwc_row_of(&p, DWC_NX), tail = evo_dwc_row_of(&p, (p.ow - 1) % DWC_NX + 1);
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
        evo_dwc_store(&p, o, oy0, n_rows, nc, (float *)a->out[0].data + c0 * out_plane,
                      e.res ? e.res + c0 * out_plane : NULL, &e, NULL);
    }
    conv_restore_denormals(csr);
}

const evo_kernel_def evo_kernel_conv_dwc_avx512 = {
    .name = "dwc_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dwc_supports,
    .scratch_bytes = dwc_scratch,
    .run = dwc_run,
    .packed_bytes = evo_dwc_packed_bytes,
    .pack = evo_dwc_pack,
};

bool evo_conv_dw_supports(const evo_graph *g, const evo_node *n)
{
    return dw_supports(g, n);
}
