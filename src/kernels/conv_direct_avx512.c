/*
 * conv_direct_avx512.c - 2-D Conv read straight from a padded polyphase
 * copy of the input, AVX-512: no im2col packing.
 *
 * With strides sh x sw, the zero-padded input xpad splits into sh * sw
 * phases Q_ab[c][i][j] = xpad[c][i * sh + a][j * sw + b]; tap (ky, kx) of
 * output (oh, ow) is phase (ky % sh, kx % sw) at row oh + ky / sh, column
 * ow + kx / sw. Numbering the outputs of a band of rows with one flat index
 * f = (oh - oh0) * qw + ow over rows of qw = OW + (kw - 1) / sw columns,
 * the GEMM's B row for tap k is the contiguous run at Q + off[k] + f,
 * whatever the stride and padding, so the micro-kernels load it in place.
 * The qw - OW extra columns of each row are computed and dropped; a stored
 * vector's kept lanes are compressed, and land contiguously in the NCHW
 * output (row ends meet the next row's start there).
 *
 * The copy costs about one pass over the input, against kh * kw / (sh * sw)
 * for im2col packing, which matters when few output channels share it. A
 * task takes a range of output rows in bands whose copy stays in L2; every
 * weight panel runs over a band before the next band is copied.
 */
#include "kernels/conv_avx512.h"

KERNEL_OFF(kernel_off1, 1)
KERNEL_OFF(kernel_off2, 2)
KERNEL_OFF(kernel_off3, 3)

/* The phase copy of one band (c_in * sh * sw * (band + halo) * qw floats) stays below this. */
#define BAND_FLOATS_MAX ((int64_t)3 << 16)
/* Floats read past the last phase row (the dropped columns' taps). */
#define SLACK 64

typedef struct direct_plan {
    int64_t c_in, c_out, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw;
    int64_t qw;    /* columns per phase row */
    int64_t halo;  /* phase rows a band needs beyond its output rows: (kh - 1) / sh */
    int64_t band;  /* output rows per band */
    int64_t qrows; /* phase rows per band: band + halo */
    int64_t k, kc, n_kb, m_panels;
    size_t copy_bytes; /* one band's copy with slack, 64-byte multiple */
    size_t slice_bytes;
} direct_plan;

static void direct_plan_make(direct_plan *p, const evo_conv_attrs *c, const int64_t *x_dims,
                             const int64_t *w_dims, const int64_t *y_dims, int n_tasks)
{
    p->c_in = x_dims[1], p->c_out = w_dims[0];
    p->ih = x_dims[2], p->iw = x_dims[3], p->oh = y_dims[2], p->ow = y_dims[3];
    p->kh = w_dims[2], p->kw = w_dims[3];
    p->sh = c->stride[0], p->sw = c->stride[1];
    p->ph = c->pad_begin[0], p->pw = c->pad_begin[1];
    p->qw = p->ow + (p->kw - 1) / p->sw;
    p->halo = (p->kh - 1) / p->sh;
    int64_t row_floats = p->c_in * p->sh * p->sw * p->qw;
    int64_t rows_task = (p->oh + n_tasks - 1) / n_tasks;
    int64_t band = BAND_FLOATS_MAX / row_floats - p->halo;
    p->band = EVO_MAX(EVO_MIN(band, rows_task), (int64_t)1);
    p->qrows = p->band + p->halo;
    p->k = p->c_in * p->kh * p->kw;
    p->kc = evo_convf_kc(p->k);
    p->n_kb = (p->k + p->kc - 1) / p->kc;
    p->m_panels = (p->c_out + MR - 1) / MR;
    p->copy_bytes = ((size_t)(row_floats * p->qrows + SLACK) * sizeof(float) + 63) & ~(size_t)63;
    p->slice_bytes = p->copy_bytes + (((size_t)p->k * sizeof(int64_t) + 63) & ~(size_t)63);
}

static bool direct_supports(const evo_graph *g, const evo_node *n)
{
    if (!evo_convf_supports(g, n))
        return false;
    const evo_conv_attrs *c = &n->a.conv;
    const int64_t *wd = g->values[n->in[1]].dims, *yd = g->values[n->out[0]].dims;
    /* 1x1 stride-1 convs read the input in place already (conv_avx512.c) */
    if (c->dilation[0] != 1 || c->dilation[1] != 1 || wd[2] * wd[3] == 1)
        return false;
    /*
     * Measured against im2col packing (bench/conv_layer): faster for stems
     * (few input channels, big kernels: 7x7 and 6x6 stride 2), slower for
     * 3x3 stride-2 layers of 32 channels and more, where the unaligned
     * tap loads cost more than the packing saves. Rows must be wide
     * enough that the dropped columns cost little.
     */
    return wd[1] <= 4 && yd[3] >= 16 && (wd[3] - 1) / c->stride[1] * 8 <= yd[3];
}

static size_t direct_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    direct_plan p;
    direct_plan_make(&p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                     g->values[n->out[0]].dims, n_tasks);
    return p.slice_bytes * (size_t)n_tasks;
}

static size_t direct_packed_bytes(const evo_graph *g, const evo_node *n)
{
    return evo_convf_packed_bytes(g, n, MR);
}

static void direct_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    evo_convf_pack_weights(g, n, MR, dst);
}

/* Where tap k = (c, ky, kx) of flat output 0 sits in a band's copy. */
static void direct_offsets(const direct_plan *p, int64_t *off)
{
    int64_t phase = p->qrows * p->qw;
    for (int64_t c = 0, k = 0; c < p->c_in; c++)
        for (int64_t ky = 0; ky < p->kh; ky++)
            for (int64_t kx = 0; kx < p->kw; kx++, k++)
                off[k] =
                    ((c * p->sh + ky % p->sh) * p->sw + kx % p->sw) * phase + ky / p->sh * p->qw + kx / p->sw;
}

/*
 * Phase rows [0, rows) of the band starting at output row oh0, for every
 * channel and phase: each input row is read once, in order, and split
 * into its sw column phases.
 */
static void direct_copy(const direct_plan *p, const float *x, int64_t oh0, int64_t rows, float *q)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    int64_t phase = p->qrows * p->qw;
    for (int64_t c = 0; c < p->c_in; c++)
        for (int64_t pr = oh0 * p->sh; pr < (oh0 + rows) * p->sh; pr++) {
            int64_t a = pr % p->sh, r = pr / p->sh - oh0, ih = pr - p->ph;
            float *dst = q + (c * p->sh + a) * p->sw * phase + r * p->qw; /* phase (a, 0) */
            if (ih < 0 || ih >= p->ih) {
                for (int64_t b = 0; b < p->sw; b++)
                    for (int64_t j = 0; j < p->qw; j += VL)
                        _mm512_mask_storeu_ps(dst + b * phase + j, range_mask(0, p->qw - j),
                                              _mm512_setzero_ps());
                continue;
            }
            const float *src = x + (c * p->ih + ih) * p->iw;
            for (int64_t j = 0; j < p->qw; j += VL) {
                __mmask16 keep = range_mask(0, p->qw - j);
                int64_t base = j * p->sw - p->pw; /* input column of phase (., 0) column j */
                if (p->sw == 1) {
                    __m512 v = _mm512_maskz_loadu_ps(range_mask(-base, p->iw - base), src + base);
                    _mm512_mask_storeu_ps(dst + j, keep, v);
                } else if (p->sw == 2) {
                    __m512 lo = _mm512_maskz_loadu_ps(range_mask(-base, p->iw - base), src + base);
                    __m512 hi =
                        _mm512_maskz_loadu_ps(range_mask(-base - VL, p->iw - base - VL), src + base + VL);
                    _mm512_mask_storeu_ps(dst + j, keep, _mm512_permutex2var_ps(lo, even, hi));
                    _mm512_mask_storeu_ps(dst + phase + j, keep, _mm512_permutex2var_ps(lo, odd, hi));
                } else {
                    for (int64_t b = 0; b < p->sw; b++)
                        for (int64_t l = 0; l < VL && j + l < p->qw; l++) {
                            int64_t iw = base + l * p->sw + b;
                            dst[b * phase + j + l] = iw >= 0 && iw < p->iw ? src[iw] : 0.0f;
                        }
                }
            }
        }
}

/* Which lanes of a vector of flat outputs are kept, and where the first kept one goes. */
typedef struct lane_map {
    __mmask16 keep;
    int n;         /* kept lanes */
    int64_t start; /* output offset (oh * OW + ow) of the first kept lane */
} lane_map;

static void map_lanes(const direct_plan *p, int64_t oh0, int64_t f0, int64_t f_end, lane_map *m)
{
    m->keep = 0;
    m->n = 0;
    m->start = 0;
    for (int l = 0; l < VL && f0 + l < f_end; l++) {
        int64_t f = f0 + l, ow = f % p->qw;
        if (ow >= p->ow)
            continue;
        if (!m->n)
            m->start = (oh0 + f / p->qw) * p->ow + ow;
        m->keep |= (__mmask16)(1u << l);
        m->n++;
    }
}

/*
 * Stores an MR x (nv * VL) tile to the output channels from y (channel
 * stride cs) through the lane maps; first, e and act as for store_rows.
 */
static inline __attribute__((always_inline)) void
store_mapped_rows(const __m512 *acc, int nv, const lane_map *lm, float *y, const float *res, int64_t cs,
                  int n_rows, bool first, const epilogue *e, const float *bias, evo_act act)
{
    for (int i = 0; i < n_rows; i++)
        for (int v = 0; v < nv; v++) {
            const lane_map *m = &lm[v];
            if (!m->n)
                continue;
            __mmask16 dense = (__mmask16)((1u << m->n) - 1u);
            float *dst = y + i * cs + m->start;
            __m512 s = acc[i * 3 + v];
            if (!first)
                s = _mm512_add_ps(s, _mm512_maskz_expand_ps(m->keep, _mm512_maskz_loadu_ps(dense, dst)));
            if (e) {
                if (bias)
                    s = _mm512_add_ps(s, _mm512_set1_ps(bias[i]));
                if (res)
                    s = _mm512_add_ps(s, _mm512_maskz_expand_ps(
                                             m->keep, _mm512_maskz_loadu_ps(dense, res + i * cs + m->start)));
                s = act_ps(s, act, e);
            }
            if (m->keep == 0xffff)
                _mm512_storeu_ps(dst, s);
            else
                _mm512_mask_storeu_ps(dst, dense, _mm512_maskz_compress_ps(m->keep, s));
        }
}

static void store_mapped(const __m512 *acc, int nv, const lane_map *lm, float *y, const float *res,
                         int64_t cs, int n_rows, bool first, const epilogue *e, const float *bias)
{
    if (!e)
        store_mapped_rows(acc, nv, lm, y, NULL, cs, n_rows, first, NULL, NULL, EVO_ACT_NONE);
    else if (e->act == EVO_ACT_SILU)
        store_mapped_rows(acc, nv, lm, y, res, cs, n_rows, first, e, bias, EVO_ACT_SILU);
    else if (e->act == EVO_ACT_RELU)
        store_mapped_rows(acc, nv, lm, y, res, cs, n_rows, first, e, bias, EVO_ACT_RELU);
    else if (e->act == EVO_ACT_NONE)
        store_mapped_rows(acc, nv, lm, y, res, cs, n_rows, first, e, bias, EVO_ACT_NONE);
    else
        store_mapped_rows(acc, nv, lm, y, res, cs, n_rows, first, e, bias, e->act);
}

/* Output rows [oh0, oh0 + rows) of one image, from its band copy q. */
static void direct_band(const direct_plan *p, const float *wp, const float *q, const int64_t *off, float *y,
                        const float *res, const epilogue *e, int64_t oh0, int64_t rows)
{
    int64_t n = rows * p->qw, cs = p->oh * p->ow;
    __m512 acc[MR * 3];
    for (int64_t kb = 0; kb < p->n_kb; kb++) {
        int64_t k0 = kb * p->kc, kc = EVO_MIN(p->kc, p->k - k0);
        bool first = kb == 0, last = kb == p->n_kb - 1;
        for (int64_t f0 = 0; f0 < n; f0 += NR) {
            int64_t width = EVO_MIN((int64_t)NR, n - f0);
            int nv = (int)((width + VL - 1) / VL);
            __mmask16 tm = range_mask(0, width - (nv - 1) * VL);
            lane_map lm[3];
            for (int v = 0; v < nv; v++)
                map_lanes(p, oh0, f0 + v * VL, n, &lm[v]);
            for (int64_t mp = 0; mp < p->m_panels; mp++) {
                const float *a = wp + (k0 * p->m_panels + mp * kc) * MR;
                int64_t i0 = mp * MR;
                int n_rows = (int)EVO_MIN((int64_t)MR, p->c_out - i0);
                if (nv == 3)
                    kernel_off3(kc, a, q + f0, off + k0, tm, acc);
                else if (nv == 2)
                    kernel_off2(kc, a, q + f0, off + k0, tm, acc);
                else
                    kernel_off1(kc, a, q + f0, off + k0, tm, acc);
                store_mapped(acc, nv, lm, y + i0 * cs, last && res ? res + i0 * cs : NULL, cs, n_rows, first,
                             last ? e : NULL, last && e->bias ? e->bias + i0 : NULL);
            }
        }
    }
}

static void direct_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    direct_plan p;
    direct_plan_make(&p, c, a->in[0].dims, a->in[1].dims, a->out[0].dims, n_tasks);
    int64_t oh0, oh1;
    evo_task_range(p.oh, task, n_tasks, &oh0, &oh1);
    if (oh0 >= oh1)
        return;
    epilogue e = {NULL, NULL, c->act, c->act_alpha, c->act_beta};
    if (a->n_in > 2 && a->in[2].data)
        e.bias = a->in[2].data;
    const float *res = c->has_residual && a->n_in > 3 ? a->in[3].data : NULL;
    unsigned char *slice = (unsigned char *)a->scratch + p.slice_bytes * (size_t)task;
    float *q = (float *)slice;
    int64_t *off = (int64_t *)(slice + p.copy_bytes);
    direct_offsets(&p, off);
    /* the slack past the last phase row is read by dropped columns only; keep it finite */
    int64_t used = p.c_in * p.sh * p.sw * p.qrows * p.qw;
    memset(q + used, 0, p.copy_bytes - (size_t)used * sizeof(float));
    unsigned csr = conv_flush_denormals();
    int64_t in_size = p.c_in * p.ih * p.iw, out_size = p.c_out * p.oh * p.ow;
    for (int64_t b = 0; b < a->in[0].dims[0]; b++) {
        const float *x = (const float *)a->in[0].data + b * in_size;
        float *y = (float *)a->out[0].data + b * out_size;
        const float *rb = res ? res + b * out_size : NULL;
        for (int64_t r0 = oh0; r0 < oh1; r0 += p.band) {
            int64_t rows = EVO_MIN(p.band, oh1 - r0);
            direct_copy(&p, x, r0, rows + p.halo, q);
            direct_band(&p, a->packed, q, off, y, rb, &e, r0, rows);
        }
    }
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_direct_avx512 = {
    .name = "direct_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = direct_supports,
    .scratch_bytes = direct_scratch,
    .run = direct_run,
    .packed_bytes = direct_packed_bytes,
    .pack = direct_pack,
};
