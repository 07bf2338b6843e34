/*
 * fold_focus.c - folds a Focus block (YOLOX, YOLOv5 before v6.0: strided
 * Slices of one tensor x, its pixel phases x[:, :, dy::2, dx::2],
 * concatenated along channels, then a stride-1 k x k conv reading the
 * concatenation alone) into one stride-2 2k x 2k conv on x: weight (o, c,
 * 2i + dy, 2j + dx) is the old weight (o, channel c of the slice at offset
 * (dy, dx), i, j), pads doubled. A phase row outside [0, H/2) is a pair of
 * x rows outside [0, H), so padding maps to padding. A per-tensor
 * QuantizeLinear between the Concat and a QLinearConv moves before it (it
 * is elementwise). int8: the same integer products, bit-identical; float:
 * the same products in another order. The slices' copies and the
 * 4C-channel tensor are gone and the stem reads the image itself
 * (YOLOX-nano fp32, 1 thread: 13.0 -> 12.7 ms). The pass fold_focus runs
 * it on every Concat; the NPU rewrites (npu/rewrite.c) on int8 graphs the
 * quantizer left it in.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <stdlib.h>

/*
 * The strided view value v takes of a source tensor through a chain of up
 * to 3 Slices, each read only by the next: offset and step per axis of the
 * source; returns the source value or -1.
 */
static int slice_chain(const evo_graph *g, int v, int64_t off[4], int64_t step[4], int *chain, int *n_chain)
{
    for (int a = 0; a < 4; a++) {
        off[a] = 0;
        step[a] = 1;
    }
    *n_chain = 0;
    while (v >= 0 && g->values[v].producer >= 0 && *n_chain < 3) {
        const evo_node *s = &g->nodes[g->values[v].producer];
        if (s->op != EVO_OP_SLICE || s->is_dead)
            break;
        const evo_value *x = &g->values[s->in[0]];
        if (x->rank != 4 || evo_sole_reader(g, v) < 0)
            return -1;
        for (int a = 0; a < 4; a++) { /* idx_x = start + idx_y * step_s; composed outside-in */
            if (s->a.slice.step[a] < 1)
                return -1;
            off[a] = s->a.slice.start[a] + off[a] * s->a.slice.step[a];
            step[a] *= s->a.slice.step[a];
        }
        chain[(*n_chain)++] = g->values[v].producer;
        v = s->in[0];
    }
    return *n_chain ? v : -1;
}

/* Builds the 2k x 2k stride-2 weights of the Focus conv; NULL when out of memory. */
static void *focus_weights(const evo_graph *g, const evo_node *conv, const int64_t (*offs)[2], int n_parts,
                           int64_t c, int64_t dims[4])
{
    const evo_value *w = &g->values[conv->in[evo_conv_weight_input(conv)]];
    int64_t m = w->dims[0], kh = w->dims[2], kw = w->dims[3];
    int64_t nh = 2 * kh, nw = 2 * kw;
    size_t es = evo_dtype_size(w->dtype);
    double *acc = calloc((size_t)(m * c * nh * nw) + 1, sizeof(double));
    void *buf = malloc((size_t)(m * c * nh * nw) * es + 1);
    if (!acc || !buf) {
        free(acc);
        free(buf);
        return NULL;
    }
    for (int64_t o = 0; o < m; o++) {
        double zp = evo_conv_weight_zp(g, conv, o);
        for (int p = 0; p < n_parts; p++)
            for (int64_t ci = 0; ci < c; ci++)
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        double v = evo_weight_get(w->data, w->dtype, ((o * w->dims[1] + p * c + ci) * kh + i) * kw + j) - zp;
                        acc[((o * c + ci) * nh + 2 * i + offs[p][0]) * nw + 2 * j + offs[p][1]] += v;
                    }
        for (int64_t i = 0; i < c * nh * nw; i++)
            evo_weight_put(buf, w->dtype, o * c * nh * nw + i, acc[o * c * nh * nw + i] + zp);
    }
    free(acc);
    dims[0] = m;
    dims[1] = c;
    dims[2] = nh;
    dims[3] = nw;
    return buf;
}

/* The weights of a folded Focus must fit the weight type (int8: two slices at one offset could overflow). */
static bool focus_offsets_distinct(const int64_t (*offs)[2], int n)
{
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (offs[a][0] == offs[b][0] && offs[a][1] == offs[b][1])
                return false;
    return true;
}

evo_status evo_fold_focus_at(evo_graph *g, int ci, bool *folded, evo_error *err)
{
    *folded = false;
    const evo_node *cat = &g->nodes[ci];
    if (cat->op != EVO_OP_CONCAT || cat->a.axis.axis != 1 || cat->n_in < 2 || cat->n_in > 8)
        return EVO_OK;
    int64_t offs[8][2];
    int chains[8][3], n_chains[8], src = -1;
    for (int k = 0; k < cat->n_in; k++) {
        int64_t off[4], step[4];
        int s = slice_chain(g, cat->in[k], off, step, chains[k], &n_chains[k]);
        if (s < 0 || (src >= 0 && s != src) || off[0] || off[1] || step[0] != 1 || step[1] != 1 || step[2] != 2 ||
            step[3] != 2 || off[2] > 1 || off[3] > 1)
            return EVO_OK;
        const evo_value *x = &g->values[s], *y = &g->values[cat->in[k]];
        if (x->dims[2] % 2 || x->dims[3] % 2 || y->dims[1] != x->dims[1] || y->dims[2] != x->dims[2] / 2 ||
            y->dims[3] != x->dims[3] / 2)
            return EVO_OK;
        src = s;
        offs[k][0] = off[2];
        offs[k][1] = off[3];
    }
    /* the Concat, then perhaps a per-tensor QuantizeLinear, then a stride-1 conv reading it alone */
    int qi = -1, cv = cat->out[0], ri = evo_sole_reader(g, cv);
    if (ri >= 0 && g->nodes[ri].op == EVO_OP_QUANTIZE_LINEAR && evo_value_count(&g->values[g->nodes[ri].in[1]]) == 1) {
        qi = ri;
        cv = g->nodes[qi].out[0];
        ri = evo_sole_reader(g, cv);
    }
    if (ri < 0 || !evo_conv_like(&g->nodes[ri]) || g->nodes[ri].in[0] != cv)
        return EVO_OK;
    const evo_node *conv = &g->nodes[ri];
    const evo_conv_attrs *a = &conv->a.conv;
    const evo_value *w = &g->values[conv->in[evo_conv_weight_input(conv)]];
    int64_t c = g->values[src].dims[1];
    if (a->group != 1 || a->stride[0] != 1 || a->stride[1] != 1 || a->dilation[0] != 1 || a->dilation[1] != 1 ||
        !w->data || w->rank != 4 || w->dims[1] != c * cat->n_in ||
        (w->dtype != EVO_DTYPE_FLOAT && !focus_offsets_distinct((const int64_t(*)[2])offs, cat->n_in)))
        return EVO_OK;
    int64_t dims[4];
    void *buf = focus_weights(g, conv, (const int64_t(*)[2])offs, cat->n_in, c, dims);
    if (!buf)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory folding a Focus", g->file);
    int wid = evo_new_const(g, w->name, w->dtype, 4, dims, buf);
    free(buf);
    if (wid < 0)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory folding a Focus", g->file);
    evo_node *cn = &g->nodes[ri];
    cn->in[evo_conv_weight_input(cn)] = wid;
    for (int s = 0; s < 2; s++) {
        cn->a.conv.kernel[s] = dims[2 + s];
        cn->a.conv.stride[s] = 2;
        cn->a.conv.pad_begin[s] *= 2;
        cn->a.conv.pad_end[s] *= 2;
    }
    if (qi >= 0) { /* quantize the source itself: elementwise, per tensor, so the same bytes */
        evo_node *q = &g->nodes[qi];
        evo_value *qv = &g->values[q->out[0]];
        q->in[0] = src;
        for (int d = 0; d < 4; d++)
            qv->dims[d] = g->values[src].dims[d];
    } else {
        cn->in[0] = src;
    }
    g->nodes[ci].is_dead = true;
    for (int k = 0; k < g->nodes[ci].n_in; k++)
        for (int i = 0; i < n_chains[k]; i++)
            g->nodes[chains[k][i]].is_dead = true;
    *folded = true;
    return EVO_OK;
}

evo_status evo_pass_fold_focus(evo_graph *g, evo_pass_ctx *ctx)
{
    int n0 = g->n_nodes;
    for (int i = 0; i < n0; i++) {
        if (g->nodes[i].is_dead || g->nodes[i].op != EVO_OP_CONCAT)
            continue;
        bool folded;
        evo_status s = evo_fold_focus_at(g, i, &folded, ctx->err);
        if (s)
            return s;
    }
    return EVO_OK;
}
