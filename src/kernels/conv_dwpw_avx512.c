/*
 * conv_dwpw_avx512.c - the fused pair of a depthwise conv D, as
 * dw_avx512 runs it (conv_dw_body.inc: wide maps, a row of one channel
 * to a vector), and the 1x1 conv Q that alone reads its output: the
 * pointwise half of a depthwise-separable conv (YOLOX's DWConv,
 * NanoDet's and PicoDet's heads), or an inverted residual block without
 * expansion (MobileNetV3's first).
 *
 * Apart, D writes its whole output and Q reads it back from the caches
 * it was pushed out to, with Q's residual (often D's own input) gone by
 * then too: MobileNetV3-Large's first block, 16 channels at 112 x 112,
 * takes 0.11 ms for D and 0.14 for Q, where Q alone on hot data takes
 * 0.075. Here a task takes (image, band of output rows) units: D's rows
 * of the band for every channel go into a buffer of channel rows (the
 * layout D's output has, for band rows only), which stays in L1/L2, and
 * Q runs conv_avx512's micro-kernel over it as a GEMM whose B is that
 * buffer. D's sums are dw_avx512's and Q's run over the channels in
 * conv_avx512's order, so the output is bit-identical to the pair apart.
 */
#include "kernels/conv_avx512.h"

#include <string.h>

#define DW_NV 8 /* vectors of outputs accumulated across the taps */
#include "kernels/conv_dw_body.inc"

KERNEL(dwpw_kernel1, 1)
KERNEL(dwpw_kernel2, 2)
KERNEL(dwpw_kernel3, 3)

/* Bytes of D's output per band (all channels): it stays in L2, mostly in L1. */
#define DWPW_BAND_BYTES (64 << 10)
/* Fewest output rows a band must hold: fewer, and the rows of input bands share cost more than the pair saves. */
#define DWPW_MIN_BAND 8

typedef struct dwpw_plan {
    dw_geom g;                /* D's phase planes for one band */
    int64_t ch, ih, iw, oh, ow, kh, kw, s, pt, pl; /* D */
    int64_t c_out;            /* Q's output channels */
    int64_t band, n_bands;    /* output rows per band, bands per image */
    int64_t e_floats;         /* D's output for a band: ch rows of band * ow floats */
    int64_t slice;            /* floats of scratch per task */
} dwpw_plan;

static void dwpw_plan_make(dwpw_plan *p, const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd,
                           const int64_t *yd, int64_t c_out)
{
    p->ch = xd[1], p->ih = xd[2], p->iw = xd[3], p->oh = yd[2], p->ow = yd[3], p->kh = wd[2], p->kw = wd[3];
    p->s = c->stride[0], p->pt = c->pad_begin[0], p->pl = c->pad_begin[1], p->c_out = c_out;
    int64_t rows = EVO_MAX(DWPW_BAND_BYTES / (p->ch * p->ow * (int64_t)sizeof(float)), (int64_t)1);
    if (rows > DW_R)
        rows = rows / DW_R * DW_R; /* whole row blocks of dw_plane */
    p->n_bands = (p->oh + rows - 1) / rows;
    p->band = (p->oh + p->n_bands - 1) / p->n_bands;
    if (p->band > DW_R && p->band % DW_R) /* equal bands, still whole row blocks if it costs no band */
        p->band = EVO_MIN((p->band + DW_R - 1) / DW_R * DW_R, rows);
    p->n_bands = (p->oh + p->band - 1) / p->band;
    /* a band is a plane of its own: input rows from its first, no padding rows above or below */
    p->g = dw_geom_make((int)p->s, 0, p->pl, c->pad_end[1], (p->band - 1) * p->s + p->kh, p->iw, p->band, p->ow,
                        p->kh, p->kw);
    p->e_floats = (p->ch * p->band * p->ow + VL - 1) / VL * VL;
    p->slice = (p->g.slice + VL - 1) / VL * VL + p->e_floats;
}

/* The plan of Q node n (D: the producer of its input). */
static bool dwpw_plan_node(dwpw_plan *p, const evo_graph *g, const evo_node *n)
{
    const evo_node *d = evo_conv_producer(g, n->in[0]);
    if (!d || d->op != EVO_OP_CONV || d->n_in < 2)
        return false;
    dwpw_plan_make(p, &d->a.conv, g->values[d->in[0]].dims, g->values[d->in[1]].dims, g->values[d->out[0]].dims,
                   g->values[n->out[0]].dims[1]);
    return true;
}

static size_t dwpw_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    dwpw_plan p;
    if (!dwpw_plan_node(&p, g, n))
        return 0;
    return (size_t)p.slice * sizeof(float) * (size_t)n_tasks;
}

static size_t dwpw_packed_bytes(const evo_graph *g, const evo_node *n)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    return (size_t)((wd[0] + MR - 1) / MR * wd[1] * MR) * sizeof(float);
}

/* Q's weights as conv_avx512 packs a 1x1 of one K block: [panel][K][8 channels], channels past the last zero. */
static void dwpw_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    const evo_value *wv = &g->values[n->in[1]];
    const float *w = wv->data;
    int64_t c_out = wv->dims[0], k = wv->dims[1], panels = (c_out + MR - 1) / MR;
    float *d = dst;
    for (int64_t mp = 0; mp < panels; mp++)
        for (int64_t kk = 0; kk < k; kk++)
            for (int64_t i = 0; i < MR; i++) {
                int64_t co = mp * MR + i;
                *d++ = co < c_out ? w[co * k + kk] : 0.0f;
            }
}

/*
 * Q over a band's n pixels of D's output e (ch rows, ldb floats apart)
 * into y (Q's output for the image from the band's first pixel, planes of
 * out_plane floats), residual at the same offsets from res.
 */
static void dwpw_q(const dwpw_plan *p, const float *a, const float *e, int64_t ldb, int64_t n, float *y,
                   const float *res, int64_t out_plane, const epilogue *eq)
{
    __m512 acc[24];
    int64_t panels = (p->c_out + MR - 1) / MR;
    for (int64_t n0 = 0; n0 < n; n0 += NR) {
        int64_t cols = EVO_MIN((int64_t)NR, n - n0);
        int nv = (int)((cols + VL - 1) / VL);
        __mmask16 tm = range_mask(0, cols - (nv - 1) * VL);
        for (int64_t mp = 0; mp < panels; mp++) {
            const float *am = a + mp * p->ch * MR;
            if (nv == 3)
                dwpw_kernel3(p->ch, am, e + n0, ldb, tm, acc);
            else if (nv == 2)
                dwpw_kernel2(p->ch, am, e + n0, ldb, tm, acc);
            else
                dwpw_kernel1(p->ch, am, e + n0, ldb, tm, acc);
            int64_t co = mp * MR, off = co * out_plane + n0;
            store_tile(acc, nv, y + off, out_plane, (int)EVO_MIN((int64_t)MR, p->c_out - co), tm, true, eq,
                       eq->bias ? eq->bias + co : NULL, res ? res + off : NULL);
        }
    }
}

static void dwpw_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_kernel_args *da = a->fused_prev;
    const evo_conv_attrs *c = &da->node->a.conv;
    dwpw_plan p;
    dwpw_plan_make(&p, c, da->in[0].dims, da->in[1].dims, da->out[0].dims, a->out[0].dims[1]);
    int64_t u0, u1;
    evo_task_range(da->in[0].dims[0] * p.n_bands, task, n_tasks, &u0, &u1);
    if (u0 >= u1)
        return;
    epilogue ed = evo_conv_epilogue_of(da), eq = evo_conv_epilogue_of(a);
    float *ph = (float *)a->scratch + p.slice * task, *qo = ph + (int64_t)p.g.s * p.g.s * p.g.phase;
    float *e = ph + p.slice - p.e_floats;
    memset(ph, 0, sizeof(float) * (size_t)(p.g.s * p.g.s * p.g.phase));
    const float *tap[64];
    dw_taps(&p.g, p.kh, p.kw, ph, tap);
    int64_t in_plane = p.ih * p.iw, out_plane = p.oh * p.ow, taps = p.kh * p.kw, ldb = p.band * p.ow;
    const float *x = da->in[0].data, *wd = da->in[1].data;
    unsigned csr = conv_flush_denormals();
    for (int64_t u = u0; u < u1; u++) {
        int64_t img = u / p.n_bands, oy0 = u % p.n_bands * p.band, n_rows = EVO_MIN(p.band, p.oh - oy0);
        for (int64_t ci = 0; ci < p.ch; ci++) {
            dw_copy_rows(x + (img * p.ch + ci) * in_plane, oy0 * p.s - p.pt, (n_rows - 1) * p.s + p.kh, p.ih, p.iw,
                         0, p.pl, &p.g, ph);
            dw_plane(ph, &p.g, tap, wd + ci * taps, (int)p.kh, (int)p.kw, n_rows, ed.bias ? ed.bias[ci] : 0.0f, qo);
            dw_store(qo, p.g.qw, n_rows, p.ow, NULL, e + ci * ldb, &ed);
        }
        int64_t off = img * p.c_out * out_plane + oy0 * p.ow;
        dwpw_q(&p, a->packed, e, ldb, n_rows * p.ow, (float *)a->out[0].data + off, eq.res ? eq.res + off : NULL,
               out_plane, &eq);
    }
    conv_restore_denormals(csr);
}

/* Q: a 1x1 stride-1 unpadded conv of group 1, its K one block of conv_avx512's (its sums in the same order) */
static bool dwpw_supports(const evo_graph *g, const evo_node *n)
{
    const evo_conv_attrs *c = &n->a.conv;
    if (n->op != EVO_OP_CONV || c->n_spatial != 2 || n->n_in < 2 || c->out_groups || c->group != 1)
        return false;
    const evo_value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]], *y = &g->values[n->out[0]];
    if (x->dtype != EVO_DTYPE_FLOAT || w->dtype != EVO_DTYPE_FLOAT || y->dtype != EVO_DTYPE_FLOAT || !w->data ||
        x->rank != 4 || w->rank != 4 || y->rank != 4)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && g->values[n->in[2]].dtype != EVO_DTYPE_FLOAT)
        return false;
    if (c->has_residual && (n->n_in < 4 || n->in[3] < 0 || g->values[n->in[3]].dtype != EVO_DTYPE_FLOAT))
        return false;
    return w->dims[2] == 1 && w->dims[3] == 1 && c->stride[0] == 1 && c->stride[1] == 1 && !c->pad_begin[0] &&
           !c->pad_begin[1] && !c->pad_end[0] && !c->pad_end[1] && x->dims[2] == y->dims[2] &&
           x->dims[3] == y->dims[3] && evo_conv_avx512_kc(g, n) == w->dims[1];
}

/* d a depthwise conv dw_avx512 takes (no residual), its output read by q alone, as its input 0 */
static bool dwpw_fuses(const evo_graph *g, const evo_node *d, const evo_node *q)
{
    if (d->op != EVO_OP_CONV || d->a.conv.has_residual || !dw_supports(g, d) || !dwpw_supports(g, q) ||
        !evo_conv_feeds_only(g, d, q))
        return false;
    dwpw_plan p;
    return dwpw_plan_node(&p, g, q) && p.band >= EVO_MIN(p.oh, (int64_t)DWPW_MIN_BAND);
}

const evo_kernel_def evo_kernel_conv_dwpw_avx512 = {
    .name = "dwpw_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dwpw_supports,
    .scratch_bytes = dwpw_scratch,
    .run = dwpw_run,
    .packed_bytes = dwpw_packed_bytes,
    .pack = dwpw_pack,
    .fuses = dwpw_fuses,
};
