/*
 * conv_dw_avx512.c - depthwise 2-D Conv (group = input channels = output
 * channels), AVX-512.
 *
 * Each channel is its own small stencil, with too little work per input
 * value for a GEMM. A plane is first copied into a zero-padded scratch
 * plane, split by stride phase (stride 2: four planes of even/odd rows and
 * columns), each phase QW floats wide, QW the output width or more. An
 * output (oy, ox) then has the flat index q = oy * QW + ox, and tap (ky, kx)
 * reads its phase plane at q + (ky / s) * QW + kx / s: every tap of a run of
 * outputs is one contiguous, unmasked load, whatever the map size, so small
 * late maps (7x7, 14x14) fill whole vectors instead of masked row pieces.
 * The QW - ow columns past each output row are computed and dropped. Up to
 * DW_NV vectors of q are accumulated in registers across all taps; then
 * bias, residual and activation are applied row by row on the way out.
 * Tasks split the (image, channel) planes; a task zeroes its scratch once,
 * and only the interior of the padded planes is rewritten per plane.
 */
#include "kernels/conv_avx512.h"

#define DW_NV 8 /* vectors of outputs accumulated across the taps */

static bool dw_supports(const evo_graph *g, const evo_node *n)
{
    const evo_conv_attrs *c = &n->a.conv;
    if (n->op != EVO_OP_CONV || c->n_spatial != 2 || n->n_in < 2 || c->out_groups)
        return false;
    const evo_value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]], *y = &g->values[n->out[0]];
    if (x->dtype != EVO_DTYPE_FLOAT || w->dtype != EVO_DTYPE_FLOAT || y->dtype != EVO_DTYPE_FLOAT ||
        !w->data || x->rank != 4 || w->rank != 4)
        return false;
    if (c->group != x->dims[1] || w->dims[0] != x->dims[1] || w->dims[1] != 1 || c->group < 2)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && g->values[n->in[2]].dtype != EVO_DTYPE_FLOAT)
        return false;
    if (c->has_residual && (n->n_in < 4 || n->in[3] < 0 || g->values[n->in[3]].dtype != EVO_DTYPE_FLOAT))
        return false;
    return c->dilation[0] == 1 && c->dilation[1] == 1 && c->stride[0] == c->stride[1] && c->stride[0] <= 2 &&
           w->dims[2] * w->dims[3] <= 64;
}

/* The padded, phase-split plane geometry of a node (all counts in floats). */
typedef struct dw_geom {
    int s;              /* stride (both axes) */
    int64_t qw;         /* phase plane width = flat row pitch of q */
    int64_t nq;         /* q indices computed: oh * qw rounded up to a vector */
    int64_t phase;      /* floats per phase plane, reads past nq included */
    int64_t slice;      /* floats per task: s * s phases + the q-space output */
} dw_geom;

static dw_geom dw_geom_of(const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd, const int64_t *yd)
{
    dw_geom d;
    d.s = (int)c->stride[0];
    int64_t pw_total = c->pad_begin[1] + xd[3] + c->pad_end[1];
    d.qw = EVO_MAX(yd[3], (pw_total + d.s - 1) / d.s);
    d.nq = (yd[2] * d.qw + VL - 1) / VL * VL;
    /* the last q vector's farthest tap: (kh - 1) / s rows and (kw - 1) / s columns on */
    d.phase = d.nq + ((wd[2] - 1) / d.s) * d.qw + (wd[3] - 1) / d.s + VL;
    /* rows of padded input that hold data: the phase must also cover them */
    int64_t rows = (c->pad_begin[0] + xd[2] + d.s - 1) / d.s + 1;
    d.phase = EVO_MAX(d.phase, rows * d.qw + VL);
    d.phase = (d.phase + VL - 1) / VL * VL;
    d.slice = (int64_t)d.s * d.s * d.phase + d.nq;
    return d;
}

static size_t dw_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    dw_geom d = dw_geom_of(&n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                           g->values[n->out[0]].dims);
    return (size_t)d.slice * sizeof(float) * (size_t)n_tasks;
}

/*
 * Copies plane x (ih x iw) into the phase planes at padded row pt, column
 * pl. Row tails go through masked loads and stores: the late maps are 7 to
 * 28 wide, and an element-by-element tail cost more than the taps.
 */
static void dw_copy_in(const float *x, int64_t ih, int64_t iw, int64_t pt, int64_t pl, const dw_geom *d, float *ph)
{
    if (d->s == 1) {
        for (int64_t y = 0; y < ih; y++) {
            const float *src = x + y * iw;
            float *dst = ph + (pt + y) * d->qw + pl;
            for (int64_t i = 0; i < iw; i += VL) {
                __mmask16 m = range_mask(0, iw - i);
                _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
            }
        }
        return;
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t y = 0; y < ih; y++) {
        int64_t r = pt + y;
        const float *src = x + y * iw;
        /* padded column c = pl + i goes to phase (r & 1, c & 1), column c >> 1 */
        float *dst[2];
        for (int p = 0; p < 2; p++)
            dst[p] = ph + ((r & 1) * 2 + ((pl + p) & 1)) * d->phase + (r >> 1) * d->qw + ((pl + p) >> 1);
        for (int64_t i = 0; i < iw; i += 2 * VL) {
            int64_t n = EVO_MIN(iw - i, (int64_t)(2 * VL)); /* i is even: (n + 1) / 2 even, n / 2 odd columns */
            __m512 lo = _mm512_maskz_loadu_ps(range_mask(0, n), src + i);
            __m512 hi = _mm512_maskz_loadu_ps(range_mask(0, n - VL), src + i + VL);
            _mm512_mask_storeu_ps(dst[0] + i / 2, range_mask(0, (n + 1) / 2), _mm512_permutex2var_ps(lo, even, hi));
            _mm512_mask_storeu_ps(dst[1] + i / 2, range_mask(0, n / 2), _mm512_permutex2var_ps(lo, odd, hi));
        }
    }
}

/*
 * out[q0 .. q0 + NV * VL) = b + sum over taps t of w[t] * tap[t][q]: NV
 * accumulators live across all n_taps taps.
 */
#define DW_BLOCK(NV)                                                                                         \
    static void dw_block##NV(const float *const *tap, const float *w, int n_taps, int64_t q0, float b,       \
                             float *out)                                                                     \
    {                                                                                                        \
        __m512 acc[NV];                                                                                      \
        for (int v = 0; v < NV; v++)                                                                         \
            acc[v] = _mm512_set1_ps(b);                                                                      \
        for (int t = 0; t < n_taps; t++) {                                                                   \
            __m512 wv = _mm512_set1_ps(w[t]);                                                                \
            const float *p = tap[t] + q0;                                                                    \
            for (int v = 0; v < NV; v++)                                                                     \
                acc[v] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + v * VL), acc[v]);                           \
        }                                                                                                    \
        for (int v = 0; v < NV; v++)                                                                         \
            _mm512_storeu_ps(out + q0 + v * VL, acc[v]);                                                     \
    }
DW_BLOCK(1)
DW_BLOCK(2)
DW_BLOCK(3)
DW_BLOCK(4)
DW_BLOCK(8)

/* Every q of the plane: blocks of DW_NV vectors, then the rest. */
static void dw_plane_q(const float *const *tap, const float *w, int n_taps, int64_t nq, float b, float *out)
{
    int64_t q = 0;
    for (; q + DW_NV * VL <= nq; q += DW_NV * VL)
        dw_block8(tap, w, n_taps, q, b, out);
    for (; q + 4 * VL <= nq; q += 4 * VL)
        dw_block4(tap, w, n_taps, q, b, out);
    int64_t rest = (nq - q) / VL;
    if (rest == 3)
        dw_block3(tap, w, n_taps, q, b, out);
    else if (rest == 2)
        dw_block2(tap, w, n_taps, q, b, out);
    else if (rest == 1)
        dw_block1(tap, w, n_taps, q, b, out);
}

/* Output rows from q space: residual and activation, row oy at out + oy * qw. */
static void dw_store(const float *out, int64_t qw, int64_t oh, int64_t ow, const float *r, float *y,
                     const epilogue *e)
{
    for (int64_t oy = 0; oy < oh; oy++) {
        for (int64_t ox = 0; ox < ow; ox += VL) {
            __mmask16 m = range_mask(0, ow - ox);
            int64_t o = oy * ow + ox;
            __m512 s = _mm512_maskz_loadu_ps(m, out + oy * qw + ox);
            _mm512_mask_storeu_ps(y + o, m, act_res_ps(s, r ? r + o : NULL, m, e->act, e));
        }
    }
}

static void dw_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    const int64_t *xd = a->in[0].dims, *wd = a->in[1].dims, *yd = a->out[0].dims;
    epilogue e = evo_conv_epilogue_of(a);
    const float *bias = e.bias, *res = e.res;
    int64_t ch = xd[1], in_plane = xd[2] * xd[3], out_plane = yd[2] * yd[3], p0, p1;
    evo_task_range(xd[0] * ch, task, n_tasks, &p0, &p1);
    if (p0 >= p1)
        return;
    dw_geom d = dw_geom_of(c, xd, wd, yd);
    float *ph = (float *)a->scratch + d.slice * task, *out = ph + (int64_t)d.s * d.s * d.phase;
    memset(ph, 0, sizeof(float) * (size_t)(d.s * d.s * d.phase));
    int n_taps = (int)(wd[2] * wd[3]);
    const float *tap[64];
    for (int64_t ky = 0; ky < wd[2]; ky++)
        for (int64_t kx = 0; kx < wd[3]; kx++)
            tap[ky * wd[3] + kx] = ph + ((ky % d.s) * d.s + kx % d.s) * d.phase + (ky / d.s) * d.qw + kx / d.s;
    unsigned csr = conv_flush_denormals();
    for (int64_t p = p0; p < p1; p++) {
        int64_t ci = p % ch;
        dw_copy_in((const float *)a->in[0].data + p * in_plane, xd[2], xd[3], c->pad_begin[0], c->pad_begin[1],
                   &d, ph);
        dw_plane_q(tap, (const float *)a->in[1].data + ci * n_taps, n_taps, d.nq, bias ? bias[ci] : 0.0f, out);
        dw_store(out, d.qw, yd[2], yd[3], res ? res + p * out_plane : NULL, (float *)a->out[0].data + p * out_plane,
                 &e);
    }
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_dw_avx512 = {
    .name = "dw_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dw_supports,
    .scratch_bytes = dw_scratch,
    .run = dw_run,
};
