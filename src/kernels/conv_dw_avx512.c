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

/* The geometry of a plane of ih x iw input rows (pt, pl, pr padding) and oh x ow output rows. */
static dw_geom dw_geom_make(int s, int64_t pt, int64_t pl, int64_t pr, int64_t ih, int64_t iw, int64_t oh,
                            int64_t ow, int64_t kh, int64_t kw)
{
    dw_geom d;
    d.s = s;
    d.qw = EVO_MAX(ow, (pl + iw + pr + s - 1) / s);
    d.nq = (oh * d.qw + VL - 1) / VL * VL;
    /* the last q vector's farthest tap: (kh - 1) / s rows and (kw - 1) / s columns on */
    d.phase = d.nq + ((kh - 1) / s) * d.qw + (kw - 1) / s + VL;
    /* rows of padded input that hold data: the phase must also cover them */
    int64_t rows = (pt + ih + s - 1) / s + 1;
    d.phase = EVO_MAX(d.phase, rows * d.qw + VL);
    d.phase = (d.phase + VL - 1) / VL * VL;
    d.slice = (int64_t)s * s * d.phase + d.nq;
    return d;
}

static dw_geom dw_geom_of(const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd, const int64_t *yd)
{
    return dw_geom_make((int)c->stride[0], c->pad_begin[0], c->pad_begin[1], c->pad_end[1], xd[2], xd[3], yd[2],
                        yd[3], wd[2], wd[3]);
}

static size_t dw_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    dw_geom d = dw_geom_of(&n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                           g->values[n->out[0]].dims);
    return (size_t)d.slice * sizeof(float) * (size_t)n_tasks;
}

/*
 * Copies plane x (ih x iw) into the phase planes at padded row pt, column
 * pl. Row tails are read by masked loads (the late maps are 7 to 28 wide:
 * an element-by-element tail cost more than the taps) and every store is
 * a whole vector: lanes past the row carry zeros, into the padding that
 * follows it or into the next row's place, which is written after. The
 * last row's spill stays inside its phase plane (dw_geom_make keeps a
 * vector of room past the rows that hold data).
 */
static void dw_copy_in(const float *x, int64_t ih, int64_t iw, int64_t pt, int64_t pl, const dw_geom *d, float *ph)
{
    if (d->s == 1) {
        for (int64_t y = 0; y < ih; y++) {
            const float *src = x + y * iw;
            float *dst = ph + (pt + y) * d->qw + pl;
            for (int64_t i = 0; i < iw; i += VL)
                _mm512_storeu_ps(dst + i, _mm512_maskz_loadu_ps(range_mask(0, iw - i), src + i));
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
            int64_t n = iw - i;
            __m512 lo = _mm512_maskz_loadu_ps(range_mask(0, n), src + i);
            __m512 hi = _mm512_maskz_loadu_ps(range_mask(0, n - VL), src + i + VL);
            _mm512_storeu_ps(dst[0] + i / 2, _mm512_permutex2var_ps(lo, even, hi));
            _mm512_storeu_ps(dst[1] + i / 2, _mm512_permutex2var_ps(lo, odd, hi));
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
static inline __attribute__((always_inline)) void dw_store_rows(const float *out, int64_t qw, int64_t oh,
                                                                int64_t ow, const float *r, float *y,
                                                                const epilogue *e, const evo_act act)
{
    for (int64_t oy = 0; oy < oh; oy++) {
        for (int64_t ox = 0; ox < ow; ox += VL) {
            __mmask16 m = range_mask(0, ow - ox);
            int64_t o = oy * ow + ox;
            __m512 s = _mm512_maskz_loadu_ps(m, out + oy * qw + ox);
            _mm512_mask_storeu_ps(y + o, m, act_res_ps(s, r ? r + o : NULL, m, act, e));
        }
    }
}

/*
 * dw_store_rows with the common activations as constants: a switch per
 * vector took a tenth of EfficientNet-B0's time (SiLU after every
 * depthwise conv).
 */
static void dw_store(const float *out, int64_t qw, int64_t oh, int64_t ow, const float *r, float *y,
                     const epilogue *e)
{
    switch (e->act) {
    case EVO_ACT_NONE: dw_store_rows(out, qw, oh, ow, r, y, e, EVO_ACT_NONE); break;
    case EVO_ACT_RELU: dw_store_rows(out, qw, oh, ow, r, y, e, EVO_ACT_RELU); break;
    case EVO_ACT_CLIP: dw_store_rows(out, qw, oh, ow, r, y, e, EVO_ACT_CLIP); break;
    case EVO_ACT_SILU: dw_store_rows(out, qw, oh, ow, r, y, e, EVO_ACT_SILU); break;
    case EVO_ACT_HARD_SWISH: dw_store_rows(out, qw, oh, ow, r, y, e, EVO_ACT_HARD_SWISH); break;
    default: dw_store_rows(out, qw, oh, ow, r, y, e, e->act); break;
    }
}

/* Where tap (ky, kx) of output q = 0 reads in the phase planes at ph. */
static void dw_taps(const dw_geom *d, int64_t kh, int64_t kw, const float *ph, const float **tap)
{
    for (int64_t ky = 0; ky < kh; ky++)
        for (int64_t kx = 0; kx < kw; kx++)
            tap[ky * kw + kx] = ph + ((ky % d->s) * d->s + kx % d->s) * d->phase + (ky / d->s) * d->qw + kx / d->s;
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
    dw_taps(&d, wd[2], wd[3], ph, tap);
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

/*
 * Fused pair: a 1x1 conv P whose output E only this depthwise conv reads
 * (the expansion of an inverted residual block), run band by band. For
 * each band of output rows, P writes the rows of E the band reads into a
 * band buffer of all channels (the rows the next band shares slide to its
 * top, so no row is computed twice within a task), and the depthwise conv
 * runs on the buffer, channel by channel as above. E, up to 5 MB in the
 * early blocks of MobileNetV2 and EfficientNet, is never stored whole; the
 * buffer stays in L2. Tasks split the output rows; where two tasks meet,
 * a row or two of E is computed by both.
 */
#define PWDW_BAND_BYTES ((int64_t)320 << 10) /* band buffer per task */
/*
 * Fused only when E is at least this large. Below it E stays in this
 * machine's L3 (32 MB), and the pair runs no faster fused: on 1 thread,
 * 1x1 16 -> 96 + ReLU6 then 3x3/2 depthwise on 112x112 (E 4.8 MB) takes
 * 0.73-0.75 ms apart and 0.76-0.78 fused, 1x1 24 -> 144 then 3x3 on 56x56
 * 0.49-0.50 either way: the time goes to the 1x1 conv's K = 16 tiles and
 * the depthwise plane copy, not to E's trip through the caches.
 */
#define PWDW_MIN_BYTES ((int64_t)8 << 20)

typedef struct pwdw_plan {
    int64_t ch, ih, iw, oh, ow, kh, kw;
    int64_t band;    /* output rows per band */
    int64_t e_plane; /* floats per channel of the band buffer */
    size_t e_bytes, slice_bytes; /* band buffer, and it with the phase planes: per task */
} pwdw_plan;

static void pwdw_plan_make(pwdw_plan *p, const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd,
                           const int64_t *yd)
{
    int64_t s = c->stride[0];
    p->ch = xd[1], p->ih = xd[2], p->iw = xd[3], p->oh = yd[2], p->ow = yd[3], p->kh = wd[2], p->kw = wd[3];
    int64_t rows = EVO_MAX(PWDW_BAND_BYTES / (p->ch * p->iw * (int64_t)sizeof(float)), p->kh);
    p->band = EVO_MIN(EVO_MAX((rows - p->kh) / s + 1, (int64_t)1), p->oh);
    int64_t rows_max = (p->band - 1) * s + p->kh;
    p->e_plane = (rows_max * p->iw + VL - 1) / VL * VL;
    p->e_bytes = (size_t)(p->ch * p->e_plane) * sizeof(float);
    /* the largest phase planes: a band of band rows reading rows_max rows, none of them padding */
    dw_geom d = dw_geom_make((int)s, 0, c->pad_begin[1], c->pad_end[1], rows_max, p->iw, p->band, p->ow, p->kh,
                             p->kw);
    p->slice_bytes = p->e_bytes + ((size_t)d.slice * sizeof(float) + 63) / 64 * 64;
}

static bool pwdw_fuses(const evo_graph *g, const evo_node *a, const evo_node *b)
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
    /* a smaller E stays in L2 anyway, and the bands would only cut the 1x1 conv's tiles short */
    return (int64_t)evo_value_count(e) * (int64_t)sizeof(float) >= PWDW_MIN_BYTES;
}

static size_t pwdw_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    pwdw_plan p;
    pwdw_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims, g->values[n->out[0]].dims);
    return p.slice_bytes * (size_t)n_tasks;
}

/* Output rows [r0, r1) of one image: x is P's input, y and res this conv's output and residual. */
static void pwdw_rows(const evo_kernel_args *a, const pwdw_plan *p, const float *x, float *y, const float *res,
                      int64_t r0, int64_t r1, float *e, float *ph)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    epilogue ep = evo_conv_epilogue_of(a);
    int64_t s = c->stride[0], out_plane = p->oh * p->ow, prev_lo = 0, prev_hi = 0;
    int n_taps = (int)(p->kh * p->kw);
    const float *tap[64];
    for (int64_t b0 = r0; b0 < r1; b0 += p->band) {
        int64_t rows = EVO_MIN(p->band, r1 - b0);
        int64_t in0 = b0 * s - c->pad_begin[0], in1 = in0 + (rows - 1) * s + p->kh; /* padded rows read */
        int64_t lo = EVO_MAX(in0, (int64_t)0), hi = EVO_MIN(in1, p->ih);        /* E rows among them */
        int64_t keep = b0 > r0 ? EVO_MAX(prev_hi - lo, (int64_t)0) : 0;
        if (keep > 0 && lo > prev_lo)
            for (int64_t ci = 0; ci < p->ch; ci++)
                memmove(e + ci * p->e_plane, e + ci * p->e_plane + (lo - prev_lo) * p->iw,
                        sizeof(float) * (size_t)(keep * p->iw));
        if (lo + keep < hi)
            evo_conv_avx512_columns(a->fused_prev, x, (lo + keep) * p->iw, hi * p->iw, e + keep * p->iw, p->e_plane);
        dw_geom d = dw_geom_make((int)s, lo - in0, c->pad_begin[1], c->pad_end[1], hi - lo, p->iw, rows, p->ow,
                                 p->kh, p->kw);
        float *out = ph + (int64_t)d.s * d.s * d.phase;
        memset(ph, 0, sizeof(float) * (size_t)(d.s * d.s * d.phase));
        dw_taps(&d, p->kh, p->kw, ph, tap);
        for (int64_t ci = 0; ci < p->ch; ci++) {
            dw_copy_in(e + ci * p->e_plane, hi - lo, p->iw, lo - in0, c->pad_begin[1], &d, ph);
            dw_plane_q(tap, (const float *)a->in[1].data + ci * n_taps, n_taps, d.nq, ep.bias ? ep.bias[ci] : 0.0f,
                       out);
            int64_t o = ci * out_plane + b0 * p->ow;
            dw_store(out, d.qw, rows, p->ow, res ? res + o : NULL, y + o, &ep);
        }
        prev_lo = lo, prev_hi = hi;
    }
}

static void pwdw_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_kernel_args *pa = a->fused_prev;
    pwdw_plan p;
    pwdw_plan_make(&p, &a->node->a.conv, a->in[0].dims, a->in[1].dims, a->out[0].dims);
    int64_t r0, r1;
    evo_task_range(p.oh, task, n_tasks, &r0, &r1);
    if (r0 >= r1)
        return;
    unsigned char *slice = (unsigned char *)a->scratch + p.slice_bytes * (size_t)task;
    float *e = (float *)slice, *ph = (float *)(slice + p.e_bytes);
    epilogue ep = evo_conv_epilogue_of(a);
    int64_t x_size = evo_tensor_count(&pa->in[0]) / pa->in[0].dims[0], y_size = p.ch * p.oh * p.ow;
    unsigned csr = conv_flush_denormals();
    for (int64_t img = 0; img < a->out[0].dims[0]; img++)
        pwdw_rows(a, &p, (const float *)pa->in[0].data + img * x_size, (float *)a->out[0].data + img * y_size,
                  ep.res ? ep.res + img * y_size : NULL, r0, r1, e, ph);
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_pwdw_avx512 = {
    .name = "pwdw_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dw_supports,
    .scratch_bytes = pwdw_scratch,
    .run = pwdw_run,
    .fuses = pwdw_fuses,
};
