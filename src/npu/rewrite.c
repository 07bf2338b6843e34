/*
 * rewrite.c - exact graph rewrites applied when compiling for an NPU target:
 * each keeps the function the graph computes (float: the same sums, so equal
 * up to fp32 rounding order; int8: the same integer accumulators, so equal),
 * and turns a node the target's table refuses into nodes it may accept.
 *
 *   focus->conv    a Focus / space-to-depth (strided Slices of one tensor
 *                  concatenated along channels, as YOLOv5 v5 and YOLOX begin)
 *                  read by a stride-1 conv of kernel k: one stride-2 conv of
 *                  kernel 2k, weight (o, c, 2i + dy, 2j + dx) = the old
 *                  weight (o, slice (dy, dx)'s channel c, i, j), pads doubled.
 *                  A per-tensor QuantizeLinear between them moves before it.
 *   kernel-pad     a conv whose kernel side the table refuses, grown by one
 *                  or two taps of zero weight (the weight zero point) at the
 *                  end, padding at the end grown alike (6x6 -> 7x7, which is
 *                  then TensorFlow's SAME padding).
 *   slices->split  Slices that cut one tensor along channels into parts
 *                  that tile it (YOLOv8's C2f chunk, as exported) as one
 *                  Split with those parts, for targets that run SPLIT and
 *                  not STRIDED_SLICE.
 *   maxpool-chain  a k x k stride-1 max pool with SAME padding (YOLO's SPPF
 *                  5x5, SPP's 9x9 and 13x13) as (k - 1) / 2 chained 3x3 ones
 *                  (the max over a window is the max of maxima of windows).
 *
 * With a table a rewrite is applied only where it helps: the node breaks a
 * rule of its own operator and its rewritten form does not (focus->conv is
 * always applied: it moves float Slices and a Concat into a conv). Without a
 * table (tests, --target cpu is not one) every rewrite that matches applies.
 */
#include "npu/npu.h"

#include "passes/passes.h"
#include "passes/rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rw_names[EVO_NPU_RW_COUNT] = {"focus->conv", "kernel-pad", "maxpool-chain",
                                                         "slices->split"};

const char *evo_npu_rewrite_name(evo_npu_rewrite_kind k)
{
    return k >= 0 && k < EVO_NPU_RW_COUNT ? rw_names[k] : "?";
}

char *evo_npu_rewrites_str(const evo_npu_rewrites *r, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = 0;
    for (int k = 0; k < EVO_NPU_RW_COUNT && len < cap; k++) {
        if (!r->count[k])
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s %d", len ? ", " : "", rw_names[k], r->count[k]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (!len)
        snprintf(buf, cap, "none");
    return buf;
}

/* Does operator part op of node n (as described) pass the table? -1: no such part. */
static int part_passes(const evo_npu_table *t, const evo_graph *g, const evo_node *n, evo_npu_op op)
{
    evo_npu_node_desc d;
    evo_npu_describe(g, n, &d);
    for (int k = 0; k < d.n_parts; k++)
        if (d.parts[k].op == op || (op == EVO_NPU_OP_CONV_2D && d.parts[k].op == EVO_NPU_OP_DEPTHWISE_CONV_2D))
            return evo_npu_check(t, &d.parts[k], NULL, 0);
    return -1;
}

/* ---- kernel-pad ---- */

/* Grows conv ni's kernel by (dh, dw) zero taps at the end; false when out of memory. */
static bool grow_kernel(evo_graph *g, int ni, int64_t dh, int64_t dw)
{
    evo_node *n = &g->nodes[ni];
    const evo_value *w = &g->values[n->in[evo_conv_weight_input(n)]];
    int64_t m = w->dims[0], c = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    int64_t nh = kh + dh, nw = kw + dw, dims[4] = {m, c, nh, nw};
    size_t es = evo_dtype_size(w->dtype);
    void *buf = malloc((size_t)(m * c * nh * nw) * es + 1);
    if (!buf)
        return false;
    for (int64_t o = 0; o < m; o++) {
        double zp = evo_conv_weight_zp(g, n, o);
        for (int64_t i = 0; i < c * nh * nw; i++) {
            int64_t ci = i / (nh * nw), y = i / nw % nh, x = i % nw;
            double v = y < kh && x < kw ? evo_weight_get(w->data, w->dtype, ((o * c + ci) * kh + y) * kw + x) : zp;
            evo_weight_put(buf, w->dtype, o * c * nh * nw + i, v);
        }
    }
    int id = evo_new_const(g, w->name, w->dtype, 4, dims, buf);
    free(buf);
    if (id < 0)
        return false;
    n = &g->nodes[ni];
    n->in[evo_conv_weight_input(n)] = id;
    n->a.conv.kernel[0] = nh;
    n->a.conv.kernel[1] = nw;
    n->a.conv.pad_end[0] += dh * n->a.conv.dilation[0];
    n->a.conv.pad_end[1] += dw * n->a.conv.dilation[1];
    return true;
}

evo_status evo_npu_grow_kernel(evo_graph *g, int ni, int64_t dh, int64_t dw, evo_error *err)
{
    const evo_node *n = &g->nodes[ni];
    int wi = evo_conv_weight_input(n);
    if (!evo_conv_like(n) || dh < 0 || dw < 0 || n->in[wi] < 0 || !g->values[n->in[wi]].data ||
        g->values[n->in[wi]].rank != 4)
        return evo_node_errorf(err, g, n, EVO_ERR_INVALID_ARG, "kernel-pad: not a 2-D conv with constant weights");
    if (!grow_kernel(g, ni, dh, dw))
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory growing a kernel", g->file);
    return EVO_OK;
}

static evo_status kernel_pad(evo_graph *g, const evo_npu_table *t, int ni, evo_npu_rewrites *rep, evo_error *err)
{
    const evo_node *n = &g->nodes[ni];
    if (!t || !evo_conv_like(n) || part_passes(t, g, n, EVO_NPU_OP_CONV_2D) != 0)
        return EVO_OK;
    const evo_value *w = &g->values[n->in[evo_conv_weight_input(n)]];
    if (!w->data || w->rank != 4)
        return EVO_OK;
    for (int64_t grow = 1; grow <= 4; grow++) { /* (0,1) (1,0) (1,1) (0,2) ... by total taps added */
        for (int64_t dh = 0; dh <= grow && dh <= 2; dh++) {
            int64_t dw = grow - dh;
            if (dw > 2)
                continue;
            evo_node tmp = *n;
            tmp.a.conv.kernel[0] += dh;
            tmp.a.conv.kernel[1] += dw;
            tmp.a.conv.pad_end[0] += dh * tmp.a.conv.dilation[0];
            tmp.a.conv.pad_end[1] += dw * tmp.a.conv.dilation[1];
            if (part_passes(t, g, &tmp, EVO_NPU_OP_CONV_2D) != 1)
                continue;
            if (!grow_kernel(g, ni, dh, dw))
                return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory growing a kernel", g->file);
            rep->count[EVO_NPU_RW_KERNEL_PAD]++;
            return EVO_OK;
        }
    }
    return EVO_OK;
}

/* ---- slices->split ---- */

/* Is node n a Slice of x along channels only (step 1, full extent elsewhere)? Its first channel in *c0. */
static bool channel_slice(const evo_graph *g, const evo_node *n, int x, int64_t *c0, int64_t *cn)
{
    if (n->is_dead || n->op != EVO_OP_SLICE || n->in[0] != x || n->n_out != 1 || n->out[0] < 0)
        return false;
    const evo_value *xv = &g->values[x], *y = &g->values[n->out[0]];
    if (xv->rank != 4 || y->rank != 4)
        return false;
    for (int a = 0; a < 4; a++) {
        if (n->a.slice.step[a] != 1 || (a != 1 && (n->a.slice.start[a] != 0 || y->dims[a] != xv->dims[a])))
            return false;
    }
    *c0 = n->a.slice.start[1];
    *cn = y->dims[1];
    return true;
}

static evo_status slices_split(evo_graph *g, const evo_npu_table *t, int si, evo_npu_rewrites *rep, evo_error *err)
{
    int64_t c0, cn;
    const evo_node *first = &g->nodes[si];
    if (first->op != EVO_OP_SLICE || first->is_dead)
        return EVO_OK;
    int x = first->in[0];
    if (!channel_slice(g, first, x, &c0, &cn))
        return EVO_OK;
    int parts[EVO_NPU_MAX_SPLIT], n = 0;
    int64_t starts[EVO_NPU_MAX_SPLIT], sizes[EVO_NPU_MAX_SPLIT];
    for (int i = si; i < g->n_nodes; i++) { /* si is the first of its group in node order */
        if (!channel_slice(g, &g->nodes[i], x, &c0, &cn))
            continue;
        if (n == EVO_NPU_MAX_SPLIT)
            return EVO_OK;
        parts[n] = i;
        starts[n] = c0;
        sizes[n++] = cn;
    }
    for (int a = 0; a < n; a++) /* sort by first channel (insertion) */
        for (int b = a; b > 0 && starts[b] < starts[b - 1]; b--) {
            int64_t ts = starts[b], tz = sizes[b];
            int tp = parts[b];
            starts[b] = starts[b - 1], sizes[b] = sizes[b - 1], parts[b] = parts[b - 1];
            starts[b - 1] = ts, sizes[b - 1] = tz, parts[b - 1] = tp;
        }
    int64_t at = 0;
    for (int a = 0; a < n; a++) { /* the parts must tile [0, C) */
        if (starts[a] != at)
            return EVO_OK;
        at += sizes[a];
    }
    if (n < 2 || at != g->values[x].dims[1])
        return EVO_OK;
    int outs[EVO_NPU_MAX_SPLIT];
    for (int a = 0; a < n; a++)
        outs[a] = g->nodes[parts[a]].out[0];
    evo_node tmp = g->nodes[si];
    tmp.op = EVO_OP_SPLIT;
    tmp.n_out = n;
    tmp.out = outs;
    memset(&tmp.a, 0, sizeof(tmp.a));
    tmp.a.split.axis = 1;
    tmp.a.split.n_splits = n;
    tmp.a.split.sizes = sizes;
    if (t && (part_passes(t, g, &g->nodes[si], EVO_NPU_OP_STRIDED_SLICE) != 0 ||
              (part_passes(t, g, &tmp, EVO_NPU_OP_SPLIT) != 1 && part_passes(t, g, &tmp, EVO_NPU_OP_SPLIT_V) != 1)))
        return EVO_OK;
    int *out_ids = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)n);
    int64_t *sz = evo_mem_alloc(&g->mem, sizeof(int64_t) * (size_t)n);
    if (!out_ids || !sz)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory making a Split", g->file);
    memcpy(out_ids, outs, sizeof(int) * (size_t)n);
    memcpy(sz, sizes, sizeof(int64_t) * (size_t)n);
    evo_node *sp = &g->nodes[si];
    sp->op = EVO_OP_SPLIT;
    sp->op_type = evo_op_name(EVO_OP_SPLIT);
    sp->n_in = 1;
    sp->n_out = n;
    sp->out = out_ids;
    sp->n_attrs = 0;
    memset(&sp->a, 0, sizeof(sp->a));
    sp->a.split.axis = 1;
    sp->a.split.n_splits = n;
    sp->a.split.sizes = sz;
    for (int a = 0; a < n; a++) {
        g->values[out_ids[a]].producer = si;
        if (parts[a] != si)
            g->nodes[parts[a]].is_dead = true;
    }
    rep->count[EVO_NPU_RW_SLICES_SPLIT]++;
    return EVO_OK;
}

/* ---- maxpool-chain ---- */

static bool pool_same_s1(const evo_node *n)
{
    const evo_pool_attrs *a = &n->a.pool;
    if (n->op != EVO_OP_MAX_POOL || a->n_spatial != 2 || a->ceil_mode || n->n_out != 1 || a->channels_last)
        return false;
    for (int s = 0; s < 2; s++) {
        int64_t k = a->kernel[s];
        if (a->stride[s] != 1 || a->dilation[s] != 1 || k % 2 == 0 || a->pad_begin[s] != (k - 1) / 2 ||
            a->pad_end[s] != (k - 1) / 2)
            return false;
    }
    return a->kernel[0] == a->kernel[1] && a->kernel[0] >= 5;
}

static void set_pool3(evo_pool_attrs *a)
{
    for (int s = 0; s < 2; s++) {
        a->kernel[s] = 3;
        a->pad_begin[s] = 1;
        a->pad_end[s] = 1;
    }
    a->auto_pad = EVO_AUTO_PAD_NOTSET;
}

static evo_status pool_chain(evo_graph *g, const evo_npu_table *t, int pi, evo_npu_rewrites *rep, evo_error *err)
{
    if (!pool_same_s1(&g->nodes[pi]))
        return EVO_OK;
    if (t) {
        evo_node tmp = g->nodes[pi];
        set_pool3(&tmp.a.pool);
        if (part_passes(t, g, &g->nodes[pi], EVO_NPU_OP_MAX_POOL_2D) != 0 ||
            part_passes(t, g, &tmp, EVO_NPU_OP_MAX_POOL_2D) != 1)
            return EVO_OK;
    }
    int steps = (int)(g->nodes[pi].a.pool.kernel[0] - 1) / 2, y = g->nodes[pi].out[0];
    set_pool3(&g->nodes[pi].a.pool);
    int prev = pi;
    for (int k = 1; k < steps; k++) {
        char name[300];
        snprintf(name, sizeof(name), "%s:chain%d", g->values[y].name, k);
        int v = evo_graph_add_value(g, name);
        snprintf(name, sizeof(name), "%s:chain%d", g->nodes[pi].name, k);
        int ni = v < 0 ? -1 : evo_graph_add_node(g, "MaxPool", name, 1, 1);
        if (ni < 0)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory chaining a max pool", g->file);
        const evo_value *yv = &g->values[y];
        evo_value *vv = &g->values[v];
        vv->dtype = yv->dtype;
        vv->rank = yv->rank;
        memcpy(vv->dims, yv->dims, sizeof(vv->dims));
        evo_node *n = &g->nodes[ni];
        n->op = EVO_OP_MAX_POOL;
        n->a = g->nodes[pi].a;
        /* prev writes v, n reads v and writes y */
        g->nodes[prev].out[0] = v;
        vv->producer = prev;
        n->in[0] = v;
        n->out[0] = y;
        g->values[y].producer = ni;
        prev = ni;
    }
    rep->count[EVO_NPU_RW_POOL_CHAIN]++;
    return EVO_OK;
}

evo_status evo_npu_rewrite(evo_graph *g, const evo_npu_table *table, evo_npu_rewrites *out, evo_error *err)
{
    memset(out, 0, sizeof(*out));
    int n0 = g->n_nodes;
    for (int i = 0; i < n0; i++) {
        if (g->nodes[i].is_dead)
            continue;
        bool folded = false;
        evo_status s = evo_fold_focus_at(g, i, &folded, err);
        out->count[EVO_NPU_RW_FOCUS] += folded;
        if (!s && !g->nodes[i].is_dead)
            s = pool_chain(g, table, i, out, err);
        if (!s && !g->nodes[i].is_dead)
            s = slices_split(g, table, i, out, err);
        if (s)
            return s;
    }
    for (int i = 0; i < g->n_nodes; i++) { /* after focus->conv, whose 2k kernels may need it */
        if (g->nodes[i].is_dead)
            continue;
        evo_status s = kernel_pad(g, table, i, out, err);
        if (s)
            return s;
    }
    if (g->n_nodes != n0)
        return evo_graph_sort(g, err);
    return EVO_OK;
}
