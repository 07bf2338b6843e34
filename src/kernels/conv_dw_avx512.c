/*
 * conv_dw_avx512.c - depthwise 2-D Conv, AVX-512: conv_dw_body.inc (the
 * scheme is described there) with 16-lane vectors; stride 2 splits a row
 * into its even and odd columns with two cross-lane permutes. Also the
 * fused pair of a 1x1 conv and the depthwise conv that reads its output.
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
 * Fused only when E is at least this large. In a model E is written to
 * memory the caches lost since the last run (the late layers' weights
 * stream through them), so apart the 1x1 conv pays for reading E's lines
 * in before it writes them, and the depthwise conv reads them back. On 1
 * thread with a 64 MB sweep before each run (as in a model), 1x1 16 -> 64
 * + ReLU on 112x112 takes 0.64 ms apart (0.31 with E cached). In models,
 * 1 thread: MobileNetV3 16 -> 64 on 112x112 then 3x3/2 (E 3.2 MB) 0.96 ->
 * 0.48 ms, MobileNetV2 16 -> 96 + ReLU6 (E 4.8 MB) 0.98 -> 0.77; but 24 ->
 * 144 on 56x56 (E 1.8 MB) 0.45 -> 0.48 and 0.34 -> 0.37: there the bands
 * cut the 1x1 conv's K = 24 tiles short for less traffic saved.
 */
#define PWDW_MIN_BYTES ((int64_t)3 << 20)

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
    /* below it the bands cost the 1x1 conv more than the traffic they save (above) */
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
            dw_plane(ph, &d, tap, (const float *)a->in[1].data + ci * n_taps, (int)p->kh, (int)p->kw, rows,
                     ep.bias ? ep.bias[ci] : 0.0f, out);
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
    conv_restore_denormals(csr);
}

const evo_kernel_def evo_kernel_conv_pwdw_avx512 = {
    .name = "pwdw_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dw_supports,
    .scratch_bytes = pwdw_scratch,
    .run = pwdw_run,
    .fuses = pwdw_fuses,
};
