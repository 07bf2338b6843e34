/*
 * conv_bcast_avx512.c - 2-D Conv with vectors over output channels and
 * input pixels broadcast straight from the (zero-padded) input, AVX-512:
 * no im2col packing, whatever the stride.
 *
 * Register tile: 32 output channels (two zmm) x BJ = 14 consecutive output
 * pixels of one row; for each tap k = (c, ky, kx) the micro-kernel loads
 * the 32 weights of k as two vectors and broadcasts the 14 input pixels
 * under the tile, sw apart, then multiplies-adds (28 accumulators; 14
 * pixels rather than 12 run YOLOv5s's stride-2 layers 1-4 % faster, and
 * the transposes below waste 2 lanes, not 4). The tile covers all of K in
 * registers, so the epilogue (bias, residual, activation) runs once, after
 * a 16 x 16 register transpose turns the accumulators (16 channels of one
 * pixel each) into runs of NCHW rows.
 *
 * A task takes a range of output rows in bands: it copies the input rows a
 * band reads, padded with zeros, into its scratch (one pass over the input,
 * against kh * kw / (sh * sw) for im2col packing), then runs every weight
 * panel over the band; a weight panel ([K][32], K = c_in * kh * kw) and
 * the band stay in L2.
 */
#include "kernels/conv_avx512.h"

#include <string.h>

#define BV 32 /* output channels per tile */
#define BJ 14 /* output pixels per tile */
/*
 * The tile of layers with 16 output channels or fewer (the stems of
 * YOLOv5n, YOLOv8n and MobileNetV3): one vector of channels x BJ16
 * pixels, the same 28 accumulators. With the 32-channel tile half of
 * every multiply-add was padding: 6x6/2 3 -> 16 on 640x640 took as long
 * as 3 -> 32.
 */
#define BV16 16
#define BJ16 28

static inline int64_t bcast_bv(int64_t c_out)
{
    return c_out <= BV16 ? BV16 : BV;
}

int64_t evo_conv_bcast_avx512_bv(int64_t c_out)
{
    return bcast_bv(c_out);
}
/*
 * Floats of the padded band copy: a quarter of L2, so the band, a weight
 * panel and the output rows streaming through leave each other room
 * (bcast_copy reads the band from L3 once). Against 1.5 MB bands, 1
 * thread: 3x3/2 32 -> 64 on 320x320 7.41 -> 7.09 ms, the 6x6/2 stem 5.95
 * -> 5.71, 3x3/2 128 -> 128 on 80x80 3.23 -> 3.14; 256 KB bands were no
 * better, and fetching the next band's rows ahead during a band no help.
 */
#define BAND_FLOATS_MAX ((int64_t)1 << 17)

typedef struct bcast_plan {
    int64_t c_in, c_out, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw;
    int64_t bv;      /* output channels per tile: BV, or BV16 for layers of 16 channels or fewer */
    int64_t k, m_panels;
    int64_t rs;      /* floats per padded input row: (ow - 1) * sw + kw, or pw + iw if more */
    int64_t band;    /* output rows per band */
    int64_t rows_in; /* input rows per band: (band - 1) * sh + kh */
    size_t copy_bytes, slice_bytes;
} bcast_plan;

static void bcast_plan_make(bcast_plan *p, const evo_conv_attrs *c, const int64_t *x_dims,
                            const int64_t *w_dims, const int64_t *y_dims, int n_tasks)
{
    p->c_in = x_dims[1], p->c_out = w_dims[0];
    p->ih = x_dims[2], p->iw = x_dims[3], p->oh = y_dims[2], p->ow = y_dims[3];
    p->kh = w_dims[2], p->kw = w_dims[3];
    p->sh = c->stride[0], p->sw = c->stride[1];
    p->ph = c->pad_begin[0], p->pw = c->pad_begin[1];
    p->k = p->c_in * p->kh * p->kw;
    p->bv = bcast_bv(p->c_out);
    p->m_panels = (p->c_out + p->bv - 1) / p->bv;
    p->rs = EVO_MAX((p->ow - 1) * p->sw + p->kw, p->pw + p->iw);
    int64_t rows_task = (p->oh + n_tasks - 1) / n_tasks;
    int64_t fit_rows = BAND_FLOATS_MAX / (p->c_in * p->rs);
    int64_t band = fit_rows >= p->kh ? (fit_rows - p->kh) / p->sh + 1 : 1;
    p->band = EVO_MAX(EVO_MIN(band, rows_task), (int64_t)1);
    p->rows_in = (p->band - 1) * p->sh + p->kh;
    p->copy_bytes = ((size_t)(p->c_in * p->rows_in * p->rs) * sizeof(float) + 63) & ~(size_t)63;
    p->slice_bytes = p->copy_bytes + (((size_t)p->k * sizeof(int64_t) + 63) & ~(size_t)63);
}

static bool bcast_supports(const evo_graph *g, const evo_node *n)
{
    if (!evo_convf_supports(g, n))
        return false;
    const evo_conv_attrs *c = &n->a.conv;
    const int64_t *wd = g->values[n->in[1]].dims;
    const int64_t *yd = g->values[n->out[0]].dims;
    if (c->dilation[0] != 1 || c->dilation[1] != 1 || c->stride[1] > 2 || wd[2] * wd[3] == 1)
        return false;
    /*
     * Measured against im2col packing (bench/conv_layer, EVO_SKIP_KERNELS,
     * best of alternating runs): faster on wide stride-2 layers (output
     * rows of 64+ pixels, where packing costs most per channel), on the
     * few-channel stems, and on stride-2 layers up to 128 channels in and
     * out with rows of 28+ (3x3/2 128 -> 128 on 80x80: 3.9 -> 3.5 ms on 1
     * thread, 2.1 -> 1.8 on 2; 64 -> 128 on 56x56: 0.88 -> 0.79, 0.49 ->
     * 0.42); slower with more channels on small maps, where the weight
     * panels leave L2 and tasks splitting rows each read all of them.
     */
    if (c->stride[1] == 2 && yd[3] >= 28 && wd[0] <= 128 && wd[1] <= 128)
        return true;
    /*
     * 16 output channels or fewer: the 16-channel tile against im2col's
     * 8 x 48, on every map where Winograd (tried first) does not run. 1
     * thread: YOLOX-nano's 3x3 12 -> 16 on 208x208 after its Focus slices
     * 2.29 -> 1.63 ms, 3x3 64 -> 16 on 13x13 0.071 -> 0.038, 5x5 24 -> 16
     * on 80x80 1.82 -> 1.11; 2 threads alike. Stride 1 up to 128 channels
     * in and out likewise: 5x5 64 -> 64 on 13x13 0.45 -> 0.30 ms, 128 ->
     * 128 1.55 -> 1.20, 3x3 32 -> 64 on 52x52 (no Winograd) 1.26 -> 0.94.
     */
    if (wd[0] <= BV16 || (c->stride[1] == 1 && wd[0] <= 128 && wd[1] <= 128))
        return true;
    return yd[3] >= 64 && (c->stride[1] == 2 || wd[1] <= 4);
}

static size_t bcast_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    bcast_plan p;
    bcast_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                    g->values[n->out[0]].dims, n_tasks);
    return p.slice_bytes * (size_t)n_tasks;
}

static size_t bcast_packed_bytes(const evo_graph *g, const evo_node *n)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    int64_t bv = bcast_bv(wd[0]);
    return (size_t)((wd[0] + bv - 1) / bv * bv * wd[1] * wd[2] * wd[3]) * sizeof(float);
}

/* W[c_out][K] into [panel][K][bv], zero channels past c_out. */
static void bcast_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    const float *w = g->values[n->in[1]].data;
    int64_t m = wd[0], k = wd[1] * wd[2] * wd[3], bv = bcast_bv(m);
    float *d = dst;
    for (int64_t i0 = 0; i0 < m; i0 += bv)
        for (int64_t p = 0; p < k; p++)
            for (int64_t i = 0; i < bv; i++)
                *d++ = i0 + i < m ? w[(i0 + i) * k + p] : 0.0f;
}

/* Input rows of the band starting at output row oh0 (rows of them), zero-padded, into q. */
static void bcast_copy(const bcast_plan *p, const float *x, int64_t oh0, int64_t rows, float *q)
{
    for (int64_t c = 0; c < p->c_in; c++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t ih = oh0 * p->sh - p->ph + r;
            conv_copy_padded_row(q + (c * p->rows_in + r) * p->rs, p->rs,
                                 ih < 0 || ih >= p->ih ? NULL : x + (c * p->ih + ih) * p->iw, p->pw, p->iw);
        }
}

#define BC_FMA(j, NJ, S)                                                                                     \
    do {                                                                                                     \
        if (NJ > j) {                                                                                        \
            __m512 bj = _mm512_set1_ps(bp[j * S]);                                                           \
            c##j##0 = _mm512_fmadd_ps(a0, bj, c##j##0);                                                      \
            c##j##1 = _mm512_fmadd_ps(a1, bj, c##j##1);                                                      \
        }                                                                                                    \
    } while (0)
#define BC_OUT(j, NJ)                                                                                        \
    do {                                                                                                     \
        if (NJ > j) {                                                                                        \
            acc[2 * j] = c##j##0;                                                                            \
            acc[2 * j + 1] = c##j##1;                                                                        \
        }                                                                                                    \
    } while (0)
#define BC_ALL(OP, ...)                                                                                      \
    OP(0, __VA_ARGS__);                                                                                      \
    OP(1, __VA_ARGS__);                                                                                      \
    OP(2, __VA_ARGS__);                                                                                      \
    OP(3, __VA_ARGS__);                                                                                      \
    OP(4, __VA_ARGS__);                                                                                      \
    OP(5, __VA_ARGS__);                                                                                      \
    OP(6, __VA_ARGS__);                                                                                      \
    OP(7, __VA_ARGS__);                                                                                      \
    OP(8, __VA_ARGS__);                                                                                      \
    OP(9, __VA_ARGS__);                                                                                      \
    OP(10, __VA_ARGS__);                                                                                     \
    OP(11, __VA_ARGS__);                                                                                     \
    OP(12, __VA_ARGS__);                                                                                     \
    OP(13, __VA_ARGS__)
/*
 * acc[2 j + v] = sum over the k taps of weight vector v of tap p times the
 * input at xb + off[p] + j * S, for pixels j < NJ.
 */
#define BC_KERNEL(NAME, NJ, S)                                                                               \
    __attribute__((noinline)) static void NAME(int64_t k, const float *restrict a, const float *restrict xb, \
                                               const int64_t *restrict off, __m512 *restrict acc)            \
    {                                                                                                        \
        __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;                                   \
        __m512 c60, c61, c70, c71, c80, c81, c90, c91, c100, c101, c110, c111, c120, c121, c130, c131;       \
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm512_setzero_ps();         \
        c60 = c61 = c70 = c71 = c80 = c81 = c90 = c91 = c100 = c101 = c110 = c111 = c00;                     \
        c120 = c121 = c130 = c131 = c00;                                                                     \
        for (int64_t p = 0; p < k; p++) {                                                                    \
            const float *restrict bp = xb + off[p];                                                          \
            __m512 a0 = _mm512_load_ps(a), a1 = _mm512_load_ps(a + VL);                                      \
            _mm_prefetch((const char *)(a + A_PREFETCH), _MM_HINT_T0);                                       \
            BC_ALL(BC_FMA, NJ, S);                                                                           \
            a += BV;                                                                                         \
        }                                                                                                    \
        BC_ALL(BC_OUT, NJ);                                                                                  \
    }
#define BC_KERNELS(S)                                                                                        \
    BC_KERNEL(bc##S##_1, 1, S)                                                                               \
    BC_KERNEL(bc##S##_2, 2, S)                                                                               \
    BC_KERNEL(bc##S##_3, 3, S)                                                                               \
    BC_KERNEL(bc##S##_4, 4, S)                                                                               \
    BC_KERNEL(bc##S##_5, 5, S)                                                                               \
    BC_KERNEL(bc##S##_6, 6, S)                                                                               \
    BC_KERNEL(bc##S##_7, 7, S)                                                                               \
    BC_KERNEL(bc##S##_8, 8, S)                                                                               \
    BC_KERNEL(bc##S##_9, 9, S)                                                                               \
    BC_KERNEL(bc##S##_10, 10, S)                                                                             \
    BC_KERNEL(bc##S##_11, 11, S)                                                                             \
    BC_KERNEL(bc##S##_12, 12, S)                                                                             \
    BC_KERNEL(bc##S##_13, 13, S)                                                                             \
    BC_KERNEL(bc##S##_14, 14, S)
BC_KERNELS(1)
BC_KERNELS(2)

typedef void (*bc_kernel_fn)(int64_t k, const float *a, const float *xb, const int64_t *off, __m512 *acc);
static const bc_kernel_fn bc_kernels[2][BJ + 1] = {
    {NULL, bc1_1, bc1_2, bc1_3, bc1_4, bc1_5, bc1_6, bc1_7, bc1_8, bc1_9, bc1_10, bc1_11, bc1_12, bc1_13, bc1_14},
    {NULL, bc2_1, bc2_2, bc2_3, bc2_4, bc2_5, bc2_6, bc2_7, bc2_8, bc2_9, bc2_10, bc2_11, bc2_12, bc2_13, bc2_14},
};

/*
 * The 16-channel tile: acc[j] = sum over the k taps of weight vector p
 * times the input at xb + off[p] + j * S, for pixels j < NJ (NJ a
 * constant in each copy, so the accumulators stay in registers).
 */
#define BC16_KERNEL(NAME, NJ, S)                                                                             \
    __attribute__((noinline)) static void NAME(int64_t k, const float *restrict a, const float *restrict xb, \
                                               const int64_t *restrict off, __m512 *restrict acc)            \
    {                                                                                                        \
        __m512 c[NJ];                                                                                        \
        _Pragma("GCC unroll 28") for (int j = 0; j < NJ; j++) c[j] = _mm512_setzero_ps();                    \
        for (int64_t p = 0; p < k; p++) {                                                                    \
            const float *restrict bp = xb + off[p];                                                          \
            __m512 a0 = _mm512_load_ps(a);                                                                   \
            _mm_prefetch((const char *)(a + A_PREFETCH), _MM_HINT_T0);                                       \
            _Pragma("GCC unroll 28") for (int j = 0; j < NJ; j++) c[j] =                                     \
                _mm512_fmadd_ps(a0, _mm512_set1_ps(bp[j * S]), c[j]);                                        \
            a += BV16;                                                                                       \
        }                                                                                                    \
        _Pragma("GCC unroll 28") for (int j = 0; j < NJ; j++) acc[j] = c[j];                                 \
    }
#define BC16_KERNELS(S)                                                                                      \
    BC16_KERNEL(bq##S##_1, 1, S)                                                                             \
    BC16_KERNEL(bq##S##_2, 2, S)                                                                             \
    BC16_KERNEL(bq##S##_4, 4, S)                                                                             \
    BC16_KERNEL(bq##S##_8, 8, S)                                                                             \
    BC16_KERNEL(bq##S##_16, 16, S)                                                                           \
    BC16_KERNEL(bq##S##_28, 28, S)
BC16_KERNELS(1)
BC16_KERNELS(2)
/* by pixel count: a row's last pixels take the largest copies that fit, as several tiles */
static const bc_kernel_fn bq_kernels[2][6] = {{bq1_1, bq1_2, bq1_4, bq1_8, bq1_16, bq1_28},
                                              {bq2_1, bq2_2, bq2_4, bq2_8, bq2_16, bq2_28}};
static const int bq_widths[6] = {1, 2, 4, 8, 16, 28};

/*
 * Bias, residual and activation on the tile's accumulators (pixels
 * [0, nj) from output offset pix, channels from c0, channel stride cs):
 * each 16-channel half is transposed in registers into one vector of
 * pixels per channel, stored as a run of the NCHW row. Without a residual
 * (laid out like the output, so only addable after the transpose) bias
 * and activation run on the accumulators themselves: nj full vectors
 * instead of 16 vectors of nj lanes.
 */
static inline __attribute__((always_inline)) void bcast_store_act(const __m512 *acc, int halves, int nj,
                                                                  int64_t c0, int64_t m, float *y,
                                                                  const float *res, int64_t cs, int64_t pix,
                                                                  const epilogue *e, evo_act act)
{
    __mmask16 lanes = range_mask(0, nj);
    for (int v = 0; v < halves; v++) {
        int64_t cv = c0 + v * VL;
        if (cv >= m)
            break;
        int n_ch = (int)EVO_MIN((int64_t)VL, m - cv);
        __m512 r[16];
        if (res) {
            for (int j = 0; j < 16; j++)
                r[j] = j < nj ? acc[halves * j + v] : _mm512_setzero_ps();
        } else {
            __m512 bias = e->bias ? _mm512_maskz_loadu_ps(range_mask(0, n_ch), e->bias + cv) : _mm512_setzero_ps();
            for (int j = 0; j < 16; j++)
                r[j] = j < nj ? act_ps(_mm512_add_ps(acc[halves * j + v], bias), act, e) : _mm512_setzero_ps();
        }
        v_transpose16(r);
        for (int i = 0; i < n_ch; i++) {
            int64_t o = (cv + i) * cs + pix;
            __m512 s = r[i];
            if (res) {
                if (e->bias)
                    s = _mm512_add_ps(s, _mm512_set1_ps(e->bias[cv + i]));
                s = act_res_ps(s, res + o, lanes, act, e);
            }
            _mm512_mask_storeu_ps(y + o, lanes, s);
        }
    }
}

/*
 * A tile's nj pixels (at most 16): halves 2 for the 32-channel tile
 * (acc[2 j + v]: channel half v of pixel j), 1 for the 16-channel one.
 */
static void bcast_store(const __m512 *acc, int halves, int nj, int64_t c0, int64_t m, float *y, const float *res,
                        int64_t cs, int64_t pix, const epilogue *e)
{
    if (e->act == EVO_ACT_SILU)
        bcast_store_act(acc, halves, nj, c0, m, y, res, cs, pix, e, EVO_ACT_SILU);
    else if (e->act == EVO_ACT_RELU)
        bcast_store_act(acc, halves, nj, c0, m, y, res, cs, pix, e, EVO_ACT_RELU);
    else if (e->act == EVO_ACT_HARD_SWISH)
        bcast_store_act(acc, halves, nj, c0, m, y, res, cs, pix, e, EVO_ACT_HARD_SWISH);
    else if (e->act == EVO_ACT_NONE)
        bcast_store_act(acc, halves, nj, c0, m, y, res, cs, pix, e, EVO_ACT_NONE);
    else
        bcast_store_act(acc, halves, nj, c0, m, y, res, cs, pix, e, e->act);
}

/*
 * Where output rows go: row r at y + (r - row0) * rs, channels cs apart
 * (the output itself: row0 0, rs ow, cs oh * ow; or a fused pair's band).
 */
typedef struct bcast_out {
    float *y;
    const float *res; /* laid out like y, or NULL */
    int64_t cs, rs, row0;
} bcast_out;

/* Output rows [oh0, oh0 + rows) of one image from its band copy q. */
static void bcast_band(const bcast_plan *p, const float *wp, const float *q, const int64_t *off,
                       const bcast_out *o, const epilogue *e, int64_t oh0, int64_t rows)
{
    const bc_kernel_fn *kern = bc_kernels[p->sw - 1];
    __m512 acc[BJ16 + 2 * 16]; /* room for bcast_store's reads of 16 pixels from acc + 16 */
    if (p->bv == BV16) {
        const bc_kernel_fn *kq = bq_kernels[p->sw - 1];
        for (int64_t r = 0; r < rows; r++) {
            int64_t pix = (oh0 + r - o->row0) * o->rs;
            for (int64_t ow0 = 0, w = 5; ow0 < p->ow; ow0 += bq_widths[w]) {
                while (bq_widths[w] > p->ow - ow0)
                    w--;
                kq[w](p->k, wp, q + r * p->sh * p->rs + ow0 * p->sw, off, acc);
                for (int j = 0; j < bq_widths[w]; j += 16)
                    bcast_store(acc + j, 1, (int)EVO_MIN(16, bq_widths[w] - j), 0, p->c_out, o->y, o->res, o->cs,
                                pix + ow0 + j, e);
            }
        }
        return;
    }
    for (int64_t mp = 0; mp < p->m_panels; mp++) {
        const float *a = wp + mp * p->k * BV;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t ow0 = 0; ow0 < p->ow; ow0 += BJ) {
                int nj = (int)EVO_MIN((int64_t)BJ, p->ow - ow0);
                kern[nj](p->k, a, q + r * p->sh * p->rs + ow0 * p->sw, off, acc);
                bcast_store(acc, 2, nj, mp * BV, p->c_out, o->y, o->res, o->cs, (oh0 + r - o->row0) * o->rs + ow0,
                            e);
            }
    }
}

/* A task's scratch slice: the band copy q, then the tap offsets into it. */
static float *bcast_slice(const bcast_plan *p, unsigned char *slice, int64_t **off)
{
    *off = (int64_t *)(slice + p->copy_bytes);
    for (int64_t ci = 0, k = 0; ci < p->c_in; ci++)
        for (int64_t ky = 0; ky < p->kh; ky++)
            for (int64_t kx = 0; kx < p->kw; kx++, k++)
                (*off)[k] = (ci * p->rows_in + ky) * p->rs + kx;
    return (float *)slice;
}

/* Output rows [r0, r1) of image x, band by band through the copy q. */
static void bcast_rows(const bcast_plan *p, const float *wp, const float *x, float *q, const int64_t *off,
                       const bcast_out *o, const epilogue *e, int64_t r0, int64_t r1)
{
    for (int64_t b0 = r0; b0 < r1; b0 += p->band) {
        int64_t rows = EVO_MIN(p->band, r1 - b0);
        bcast_copy(p, x, b0, (rows - 1) * p->sh + p->kh, q);
        bcast_band(p, wp, q, off, o, e, b0, rows);
    }
}

static void bcast_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    bcast_plan p;
    bcast_plan_make(&p, c, a->in[0].dims, a->in[1].dims, a->out[0].dims, n_tasks);
    int64_t oh0, oh1;
    evo_task_range(p.oh, task, n_tasks, &oh0, &oh1);
    if (oh0 >= oh1)
        return;
    epilogue e = evo_conv_epilogue_of(a);
    int64_t *off;
    float *q = bcast_slice(&p, (unsigned char *)a->scratch + p.slice_bytes * (size_t)task, &off);
    unsigned csr = conv_flush_denormals();
    int64_t in_size = p.c_in * p.ih * p.iw, out_size = p.c_out * p.oh * p.ow;
    for (int64_t b = 0; b < a->in[0].dims[0]; b++) {
        bcast_out o = {(float *)a->out[0].data + b * out_size, e.res ? e.res + b * out_size : NULL, p.oh * p.ow, p.ow,
                       0};
        bcast_rows(&p, a->packed, (const float *)a->in[0].data + b * in_size, q, off, &o, &e, oh0, oh1);
    }
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_bcast_avx512 = {
    .name = "bcast_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = bcast_supports,
    .scratch_bytes = bcast_scratch,
    .run = bcast_run,
    .packed_bytes = bcast_packed_bytes,
    .pack = bcast_pack,
};

/*
 * Fused pair: a broadcast conv A (the stem) whose output only a broadcast
 * conv B reads, run band by band so that A's output never exists whole:
 * for each band of B's output rows, A writes the input rows the band
 * reads straight into B's padded band buffer (zero padding around), the
 * rows the next band shares slide to its top, and B runs on the buffer.
 * A's 13 MB output on YOLOv5s-640 then neither goes to memory nor comes
 * back for B's band copy. Each task works on its own rows of B and
 * computes the A rows they need (a row or two twice where tasks meet).
 */
static bool pair_fuses(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    if (a->op != EVO_OP_CONV || b->op != EVO_OP_CONV || b->n_in < 2 || a->a.conv.has_residual ||
        !evo_conv_feeds_only(g, a, b))
        return false;
    /* worth it where A's output leaves L2 by far (the stems of 640-pixel detectors) */
    return (int64_t)evo_value_count(&g->values[a->out[0]]) * 4 >= ((int64_t)4 << 20);
}

static void pair_plans(const evo_kernel_args *a, int n_tasks, bcast_plan *pa, bcast_plan *pb)
{
    const evo_kernel_args *p = a->fused_prev;
    bcast_plan_make(pa, &p->node->a.conv, p->in[0].dims, p->in[1].dims, p->out[0].dims, n_tasks);
    bcast_plan_make(pb, &a->node->a.conv, a->in[0].dims, a->in[1].dims, a->out[0].dims, n_tasks);
}

static size_t pair_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    for (int i = 0; i < g->n_nodes; i++) { /* A: the live node writing n's input */
        const evo_node *a = &g->nodes[i];
        if (!a->is_dead && a->n_out > 0 && a->out[0] == n->in[0])
            return bcast_scratch(g, a, n_tasks) + bcast_scratch(g, n, n_tasks);
    }
    return bcast_scratch(g, n, n_tasks);
}

static void pair_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_kernel_args *pa_args = a->fused_prev;
    bcast_plan pa, pb;
    pair_plans(a, n_tasks, &pa, &pb);
    int64_t oh0, oh1;
    evo_task_range(pb.oh, task, n_tasks, &oh0, &oh1);
    if (oh0 >= oh1)
        return;
    epilogue ea = evo_conv_epilogue_of(pa_args), eb = evo_conv_epilogue_of(a);
    unsigned char *slice = (unsigned char *)a->scratch + (pa.slice_bytes + pb.slice_bytes) * (size_t)task;
    int64_t *off_a, *off_b;
    float *qa = bcast_slice(&pa, slice, &off_a), *qb = bcast_slice(&pb, slice + pa.slice_bytes, &off_b);
    int64_t plane = pb.rows_in * pb.rs; /* floats per channel of B's band */
    unsigned csr = conv_flush_denormals();
    int64_t in_size = pa.c_in * pa.ih * pa.iw, out_size = pb.c_out * pb.oh * pb.ow;
    for (int64_t img = 0; img < a->in[0].dims[0]; img++) {
        const float *x = (const float *)pa_args->in[0].data + img * in_size;
        bcast_out ob = {(float *)a->out[0].data + img * out_size, eb.res ? eb.res + img * out_size : NULL,
                        pb.oh * pb.ow, pb.ow, 0};
        memset(qb, 0, (size_t)(pb.c_in * plane) * sizeof(float)); /* the padding stays zero */
        int64_t prev0 = 0, prev1 = 0; /* A rows in the buffer, from its row 0 */
        for (int64_t r0 = oh0; r0 < oh1; r0 += pb.band) {
            int64_t rows = EVO_MIN(pb.band, oh1 - r0);
            int64_t in0 = r0 * pb.sh - pb.ph, in1 = in0 + (rows - 1) * pb.sh + pb.kh; /* A rows read */
            int64_t keep = r0 > oh0 ? EVO_MAX(prev1 - in0, (int64_t)0) : 0;
            if (keep > 0)
                for (int64_t c = 0; c < pb.c_in; c++)
                    memmove(qb + c * plane, qb + c * plane + (in0 - prev0) * pb.rs,
                            (size_t)(keep * pb.rs) * sizeof(float));
            /* A's rows past the keep: computed inside A's output, zero outside */
            int64_t lo = EVO_MAX(in0 + keep, (int64_t)0), hi = EVO_MIN(in1, pa.oh);
            for (int64_t r = in0 + keep; r < in1; r++)
                if (r < lo || r >= hi)
                    for (int64_t c = 0; c < pb.c_in; c++)
                        memset(qb + c * plane + (r - in0) * pb.rs, 0, (size_t)pb.rs * sizeof(float));
            if (lo < hi) {
                bcast_out oa = {qb + pb.pw, NULL, plane, pb.rs, in0};
                bcast_rows(&pa, pa_args->packed, x, qa, off_a, &oa, &ea, lo, hi);
            }
            bcast_band(&pb, a->packed, qb, off_b, &ob, &eb, r0, rows);
            prev0 = in0, prev1 = in1;
        }
    }
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_bcast_pair_avx512 = {
    .name = "bcast_pair_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = bcast_supports,
    .scratch_bytes = pair_scratch,
    .run = pair_run,
    .packed_bytes = bcast_packed_bytes,
    .pack = bcast_pack,
    .fuses = pair_fuses,
};
