/*
 * s2d_conv.c - a stride-2 6x6 conv (the stem of YOLOv5 from v6.0 on, and
 * YOLOX's once fold_focus has folded its Focus) as SpaceToDepth(2) then a
 * stride-1 3x3 conv on the 4C pixel-phase channels, which the Winograd
 * kernels take (4x fewer products than the 6x6 taps) where nothing took
 * the 6x6 one: weight (o, (by * 2 + bx) * C + c, ky, kx) is the old
 * weight (o, c, 2 ky + by, 2 kx + bx), pads halved. Input row 2r + by of
 * channel c is row r of phase (by, bx)'s channel, so input padding maps
 * to padding and the products are the same, summed in another order.
 *
 * Where: float Conv, group 1, no dilation, even pads at the start (up to
 * 4; the 3x3 then needs end pads of 0-2), even
 * input height and width, and 16+ output channels (the Winograd kernels'
 * floor). On 1 thread, AVX-512 (medians of 5 alternated runs): YOLOX-nano's
 * 3 -> 16 stem on 416x416 1.65 -> 1.25 ms, the model 12.45 -> 12.21;
 * YOLOv5n's on 640x640 with the next conv (before, a fused pair keeping
 * the stem's output in cache) 6.5 -> 5.9, the model 40.4 -> 39.9. On
 * AVX2, which has no Winograd, the 3x3 on 4C channels runs as fast as the
 * 6x6 (YOLOv5n's stem 8.7 -> 8.4 ms with SpaceToDepth's 0.26). `evo
 * quantize` leaves the stem alone
 * (EVO_QUANT_UNFUSED_PASSES): NPUs take the 6x6 conv, not SpaceToDepth.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S2D_MIN_COUT 16

static bool s2d_applies(const evo_graph *g, const evo_node *n)
{
    if (n->op != EVO_OP_CONV || !evo_conv_like(n) || n->n_in < 2)
        return false;
    const evo_conv_attrs *a = &n->a.conv;
    const evo_value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]];
    if (a->group != 1 || x->dtype != EVO_DTYPE_FLOAT || w->dtype != EVO_DTYPE_FLOAT || !w->data || x->rank != 4 ||
        w->rank != 4 || w->dims[0] < S2D_MIN_COUT || w->dims[2] != 6 || w->dims[3] != 6)
        return false;
    for (int s = 0; s < 2; s++)
        if (a->stride[s] != 2 || a->dilation[s] != 1 || a->pad_begin[s] % 2 || a->pad_begin[s] > 4 ||
            x->dims[2 + s] % 2 || x->dims[2 + s] < 2)
            return false;
    return true;
}

/* The 3x3 weights on the phase channels, [M, 4C, 3, 3]; NULL when out of memory. */
static float *s2d_weights(const evo_value *w)
{
    int64_t m = w->dims[0], c = w->dims[1];
    float *buf = malloc(sizeof(float) * (size_t)(m * 4 * c * 9));
    if (!buf)
        return NULL;
    const float *src = w->data;
    for (int64_t o = 0; o < m; o++)
        for (int64_t ph = 0; ph < 4; ph++)
            for (int64_t ci = 0; ci < c; ci++)
                for (int64_t ky = 0; ky < 3; ky++)
                    for (int64_t kx = 0; kx < 3; kx++)
                        buf[(((o * 4 + ph) * c + ci) * 3 + ky) * 3 + kx] =
                            src[((o * c + ci) * 6 + 2 * ky + ph / 2) * 6 + 2 * kx + ph % 2];
    return buf;
}

/* Rewrites conv ci (s2d_applies); the new SpaceToDepth node goes last (the pass sorts after). */
static evo_status s2d_rewrite(evo_graph *g, int ci, evo_error *err)
{
    const evo_value *w = &g->values[g->nodes[ci].in[1]];
    float *buf = s2d_weights(w);
    int64_t wd[4] = {w->dims[0], 4 * w->dims[1], 3, 3};
    int wid = buf ? evo_new_const(g, w->name, EVO_DTYPE_FLOAT, 4, wd, buf) : -1;
    free(buf);
    char name[300];
    snprintf(name, sizeof(name), "%s:s2d", g->nodes[ci].name);
    int v = wid < 0 ? -1 : evo_graph_add_value(g, name);
    int si = v < 0 ? -1 : evo_graph_add_node(g, "SpaceToDepth", name, 1, 1);
    if (si < 0)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory rewriting conv %s", g->file, name);
    evo_node *conv = &g->nodes[ci], *s2d = &g->nodes[si];
    const evo_value *x = &g->values[conv->in[0]], *y = &g->values[conv->out[0]];
    evo_value *xv = &g->values[v];
    xv->dtype = x->dtype;
    xv->rank = 4;
    xv->dims[0] = x->dims[0];
    xv->dims[1] = 4 * x->dims[1];
    xv->dims[2] = x->dims[2] / 2;
    xv->dims[3] = x->dims[3] / 2;
    xv->producer = si;
    s2d->op = EVO_OP_SPACE_TO_DEPTH;
    s2d->a.d2s.blocksize = 2;
    s2d->in[0] = conv->in[0];
    s2d->out[0] = v;
    conv->in[0] = v;
    conv->in[1] = wid;
    evo_conv_attrs *a = &conv->a.conv;
    a->auto_pad = EVO_AUTO_PAD_NOTSET;
    for (int s = 0; s < 2; s++) { /* output size kept: oh = ih / 2 + pb / 2 + pe' - 2 */
        a->kernel[s] = 3;
        a->stride[s] = 1;
        a->pad_begin[s] /= 2;
        a->pad_end[s] = y->dims[2 + s] + 2 - xv->dims[2 + s] - a->pad_begin[s];
    }
    return EVO_OK;
}

evo_status evo_pass_s2d_conv(evo_graph *g, evo_pass_ctx *ctx)
{
    int n0 = g->n_nodes;
    for (int i = 0; i < n0; i++) {
        if (g->nodes[i].is_dead || !s2d_applies(g, &g->nodes[i]))
            continue;
        /* the output size must come out of the 3x3 with end pads 0-2 (a crop would not be a conv) */
        const evo_value *x = &g->values[g->nodes[i].in[0]], *y = &g->values[g->nodes[i].out[0]];
        bool fits = true;
        for (int s = 0; s < 2; s++) {
            int64_t pe = y->dims[2 + s] + 2 - x->dims[2 + s] / 2 - g->nodes[i].a.conv.pad_begin[s] / 2;
            fits = fits && pe >= 0 && pe <= 2;
        }
        if (!fits)
            continue;
        evo_status st = s2d_rewrite(g, i, ctx->err);
        if (st)
            return st;
    }
    return g->n_nodes != n0 ? evo_graph_sort(g, ctx->err) : EVO_OK;
}
