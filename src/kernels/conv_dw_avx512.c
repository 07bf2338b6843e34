/*
 * conv_dw_avx512.c - depthwise 2-D Conv (group = input channels = output
 * channels), AVX-512.
 *
 * Each channel is its own small stencil, with too little work per input
 * value for a GEMM: vectors run along an output row, DW_NV of them (64
 * outputs) held in registers while every tap of the kernel adds its
 * broadcast weight times the matching input run. Stride 1 reads the run
 * in place, stride 2 de-interleaves it from two loads; padding is applied
 * by masked loads (masked-off lanes never fault). Bias, residual (before
 * or after the activation) and activation are applied on the way out.
 * Tasks split the (image, channel) planes.
 */
#include "kernels/conv_avx512.h"

#define DW_NV 4 /* vectors of outputs per row segment */

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
    return c->dilation[0] == 1 && c->dilation[1] == 1 && c->stride[1] <= 2;
}

/* One vector of inputs for outputs [ow0, ow0 + 16) at tap column kx: columns ow * sw + kx - pw. */
static inline __m512 dw_load(const float *row, int64_t iw, int64_t base, int sw)
{
    bool inside = base >= 0 && base + sw * VL <= iw; /* the common case: no mask arithmetic */
    if (sw == 1)
        return inside ? _mm512_loadu_ps(row + base)
                      : _mm512_maskz_loadu_ps(range_mask(-base, iw - base), row + base);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    if (inside)
        return _mm512_permutex2var_ps(_mm512_loadu_ps(row + base), even, _mm512_loadu_ps(row + base + VL));
    __m512 lo = _mm512_maskz_loadu_ps(range_mask(-base, iw - base), row + base);
    __m512 hi = _mm512_maskz_loadu_ps(range_mask(-base - VL, iw - base - VL), row + base + VL);
    return _mm512_permutex2var_ps(lo, even, hi);
}

/* One output plane: x, w (kh * kw taps), bias b, residual plane r (or NULL), into y. */
static void dw_plane(const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd, const int64_t *yd,
                     const float *x, const float *w, float b, const float *r, float *y, const epilogue *e)
{
    int64_t ih = xd[2], iw = xd[3], oh = yd[2], ow = yd[3], kh = wd[2], kw = wd[3];
    int64_t sh = c->stride[0], ph = c->pad_begin[0], pw = c->pad_begin[1];
    int sw = (int)c->stride[1];
    for (int64_t oy = 0; oy < oh; oy++) {
        for (int64_t ox = 0; ox < ow; ox += DW_NV * VL) {
            int nv = (int)EVO_MIN((int64_t)DW_NV, (ow - ox + VL - 1) / VL);
            __m512 acc[DW_NV];
            for (int v = 0; v < DW_NV; v++)
                acc[v] = _mm512_set1_ps(b);
            for (int64_t ky = 0; ky < kh; ky++) {
                int64_t y_in = oy * sh - ph + ky;
                if (y_in < 0 || y_in >= ih)
                    continue;
                const float *row = x + y_in * iw;
                for (int64_t kx = 0; kx < kw; kx++) {
                    __m512 wv = _mm512_set1_ps(w[ky * kw + kx]);
                    for (int v = 0; v < nv; v++) {
                        int64_t base = (ox + v * VL) * sw + kx - pw;
                        acc[v] = _mm512_fmadd_ps(wv, dw_load(row, iw, base, sw), acc[v]);
                    }
                }
            }
            for (int v = 0; v < nv; v++) {
                int64_t o = oy * ow + ox + v * VL;
                __mmask16 m = range_mask(0, ow - ox - v * VL);
                __m512 s = act_res_ps(acc[v], r ? r + o : NULL, m, e->act, e);
                _mm512_mask_storeu_ps(y + o, m, s);
            }
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
    unsigned csr = conv_flush_denormals();
    for (int64_t p = p0; p < p1; p++) {
        int64_t ci = p % ch;
        dw_plane(c, xd, wd, yd, (const float *)a->in[0].data + p * in_plane,
                 (const float *)a->in[1].data + ci * wd[2] * wd[3], bias ? bias[ci] : 0.0f,
                 res ? res + p * out_plane : NULL, (float *)a->out[0].data + p * out_plane, &e);
    }
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_dw_avx512 = {
    .name = "dw_avx512",
    .isa = EVO_ISA_AVX512,
    .supports = dw_supports,
    .run = dw_run,
};
