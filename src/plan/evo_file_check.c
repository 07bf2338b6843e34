/*
 * evo_file_check.c - op semantics of a graph read from an .evo file.
 *
 * The planner and kernels index memory with typed attributes and shapes
 * without checking them, so a loaded graph must be as consistent as one the
 * passes produced. Where an op's shape inference reads only typed
 * attributes, shapes and constant inputs, it is re-run as the check: its
 * outputs must equal the stored dtypes and dims, and the attributes it
 * resolves must equal the stored ones (they are restored either way, so a
 * loaded graph is exactly what was written). Attribute ranges that only
 * the importers check (strides, dilations, group, blocksize, Cast type) are
 * checked first. Ops whose inference reads raw ONNX attributes, which the
 * file does not keep (Split, Slice, Pad, Resize, TopK, Transpose, the
 * reductions, the reshape family, Constant), are checked here directly.
 */
#include "graph/op.h"
#include "plan/evo_file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int min_inputs(evo_op op)
{
    switch (op) {
    case EVO_OP_CONSTANT: return 0;
    case EVO_OP_SUM:
    case EVO_OP_MEAN: return 1;
    case EVO_OP_WHERE:
    case EVO_OP_RANGE: return 3;
    case EVO_OP_BATCH_NORM: return 5;
    case EVO_OP_CONV:
    case EVO_OP_CONV_TRANSPOSE:
    case EVO_OP_MATMUL:
    case EVO_OP_GEMM:
    case EVO_OP_GATHER: return 2;
    default: return evo_file_attr_kind(op) == EVO_AK_BINARY ? 2 : 1;
    }
}

static bool same_dims(const evo_value *a, const evo_value *b)
{
    if (a->rank != b->rank)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

#define BAD(what) evo_node_errorf(err, g, n, EVO_ERR_PARSE, "%s", what)

static evo_status check_split(const evo_graph *g, const evo_node *n, const evo_value *x, evo_error *err)
{
    const evo_split_attrs *sa = &n->a.split;
    if (sa->axis < 0 || sa->axis >= x->rank || sa->n_splits != n->n_out)
        return BAD("split axis or count out of range");
    int64_t total = 0;
    for (int o = 0; o < n->n_out; o++) {
        if (sa->sizes[o] < 0 || !evo_add_i64(total, sa->sizes[o], &total))
            return BAD("negative split size");
        const evo_value *y = n->out[o] >= 0 ? &g->values[n->out[o]] : NULL;
        if (!y)
            continue;
        bool ok = y->dtype == x->dtype && y->rank == x->rank;
        for (int d = 0; ok && d < x->rank; d++)
            ok = y->dims[d] == (d == sa->axis ? sa->sizes[o] : x->dims[d]);
        if (!ok)
            return BAD("split output shape disagrees with the input and split sizes");
    }
    return total == x->dims[sa->axis] ? EVO_OK : BAD("split sizes do not add up to the axis");
}

/* Is every index start + i*step, 0 <= i < count, inside [0, dim)? */
static bool slice_axis_ok(int64_t start, int64_t step, int64_t count, int64_t dim)
{
    if (count == 0)
        return step != 0;
    if (step == 0 || start < 0 || start >= dim)
        return false;
    int64_t span;
    if (step == INT64_MIN || !evo_mul_i64(step < 0 ? -step : step, count - 1, &span))
        return false;
    return step > 0 ? span < dim - start : span <= start;
}

static evo_status check_slice(const evo_graph *g, const evo_node *n, const evo_value *x, const evo_value *y,
                              evo_error *err)
{
    if (y->rank != x->rank || y->dtype != x->dtype)
        return BAD("slice output rank or dtype differs from the input");
    for (int d = 0; d < x->rank; d++)
        if (!slice_axis_ok(n->a.slice.start[d], n->a.slice.step[d], y->dims[d], x->dims[d]))
            return BAD("slice start/step reach outside the input");
    return EVO_OK;
}

static evo_status check_pad(const evo_graph *g, const evo_node *n, const evo_value *x, const evo_value *y,
                            evo_error *err)
{
    const evo_pad_attrs *pa = &n->a.pad;
    if (y->rank != x->rank || y->dtype != x->dtype)
        return BAD("pad output rank or dtype differs from the input");
    for (int d = 0; d < x->rank; d++) {
        int64_t b = pa->pad_begin[d], e = pa->pad_end[d];
        if (b < -EVO_MAX_ELEMENTS || b > EVO_MAX_ELEMENTS || e < -EVO_MAX_ELEMENTS || e > EVO_MAX_ELEMENTS)
            return BAD("pad out of range");
        int64_t kept = x->dims[d] + EVO_MIN(b, 0) + EVO_MIN(e, 0);
        if (y->dims[d] != x->dims[d] + b + e || kept < 0 || (pa->mode != EVO_PAD_CONSTANT && kept == 0 && y->dims[d] > 0))
            return BAD("pads disagree with the output shape");
    }
    return EVO_OK;
}

static evo_status check_resize(const evo_graph *g, const evo_node *n, const evo_value *x, const evo_value *y,
                               evo_error *err)
{
    const evo_resize_attrs *ra = &n->a.resize;
    bool bytes_ok = ra->mode == EVO_RESIZE_NEAREST && (x->dtype == EVO_DTYPE_UINT8 || x->dtype == EVO_DTYPE_INT8);
    if (y->rank != x->rank || y->dtype != x->dtype || (x->dtype != EVO_DTYPE_FLOAT && !bytes_ok))
        return BAD("resize input and output must be float32 (or uint8/int8 for nearest) of the same rank");
    for (int d = 0; d < x->rank; d++) {
        if (!isfinite(ra->scale[d]) || ra->scale[d] <= 0 || !isfinite(ra->roi_start[d]) || !isfinite(ra->roi_end[d]))
            return BAD("resize scale or roi is not a positive finite number");
        if (x->dims[d] == 0 && y->dims[d] > 0)
            return BAD("resize of an empty axis");
    }
    return EVO_OK;
}

static evo_status check_topk(const evo_graph *g, const evo_node *n, const evo_value *x, evo_error *err)
{
    const evo_topk_attrs *ta = &n->a.topk;
    if (ta->axis < 0 || ta->axis >= x->rank || ta->k < 0 || ta->k > x->dims[ta->axis] || n->n_out < 2)
        return BAD("topk axis or k out of range");
    for (int o = 0; o < 2; o++) {
        const evo_value *y = n->out[o] >= 0 ? &g->values[n->out[o]] : NULL;
        if (!y)
            continue;
        bool ok = y->rank == x->rank && y->dtype == (o ? EVO_DTYPE_INT64 : x->dtype);
        for (int d = 0; ok && d < x->rank; d++)
            ok = y->dims[d] == (d == ta->axis ? ta->k : x->dims[d]);
        if (!ok)
            return BAD("topk output shape or dtype disagrees with the input");
    }
    return EVO_OK;
}

static evo_status check_transpose(const evo_graph *g, const evo_node *n, const evo_value *x, const evo_value *y,
                                  evo_error *err)
{
    unsigned seen = 0;
    if (y->rank != x->rank || y->dtype != x->dtype)
        return BAD("transpose output rank or dtype differs from the input");
    for (int d = 0; d < x->rank; d++) {
        int p = n->a.transpose.perm[d];
        if (p < 0 || p >= x->rank || (seen & (1u << p)) || y->dims[d] != x->dims[p])
            return BAD("transpose perm is not a permutation matching the output shape");
        seen |= 1u << p;
    }
    return EVO_OK;
}

static evo_status check_constant(const evo_graph *g, const evo_node *n, const evo_value *y, evo_error *err)
{
    if (n->a.fill.dtype != y->dtype || (n->op == EVO_OP_CONSTANT && !n->a.fill.data))
        return BAD("constant dtype or data disagrees with its output");
    return EVO_OK;
}

static evo_status check_reduce(const evo_graph *g, const evo_node *n, const evo_value *x, const evo_value *y,
                               evo_error *err)
{
    const evo_reduce_attrs *ra = &n->a.reduce;
    if (ra->axes_mask >> x->rank || y->dtype != x->dtype)
        return BAD("reduce axes or output dtype disagree with the input");
    int rank = 0;
    bool ok = true;
    for (int d = 0; d < x->rank && ok; d++) {
        bool reduced = (ra->axes_mask >> d) & 1;
        if (!reduced || ra->keepdims) {
            ok = rank < y->rank && y->dims[rank] == (reduced ? 1 : x->dims[d]);
            rank++;
        }
    }
    return ok && rank == y->rank ? EVO_OK : BAD("reduce output shape disagrees with the axes");
}

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout: a copy of the elements. */
static evo_status check_reshape(const evo_graph *g, const evo_node *n, const evo_value *x, const evo_value *y,
                                evo_error *err)
{
    if (y->dtype != x->dtype || evo_value_count(y) != evo_value_count(x))
        return BAD("output element count or dtype differs from the input");
    return EVO_OK;
}

static bool in_range(const int64_t *v, int n, int64_t lo)
{
    for (int i = 0; i < n; i++)
        if (v[i] < lo || v[i] > EVO_MAX_ELEMENTS)
            return false;
    return true;
}

/* Attribute ranges the importers guarantee and shape inference relies on. */
static evo_status check_ranges(const evo_graph *g, const evo_node *n, evo_error *err)
{
    switch (evo_file_attr_kind(n->op)) {
    case EVO_AK_CONV: {
        const evo_conv_attrs *c = &n->a.conv;
        int ns = c->n_spatial;
        if (ns < 1 || c->group < 1 || c->group > EVO_MAX_ELEMENTS || !in_range(c->kernel, ns, 1) ||
            !in_range(c->stride, ns, 1) || !in_range(c->dilation, ns, 1) || !in_range(c->pad_begin, ns, 0) ||
            !in_range(c->pad_end, ns, 0) || !in_range(c->output_padding, ns, 0) || !in_range(c->output_shape, ns, 0))
            return BAD("window attributes out of range");
        if (c->out_groups < 0 || c->out_groups > EVO_MAX_ELEMENTS)
            return BAD("out_groups out of range");
        if (c->out_groups) { /* fuse_layout's grouped output: a 2-D Conv, groups dividing its channels */
            const evo_value *w = n->n_in > 1 && n->in[1] >= 0 ? &g->values[n->in[1]] : NULL;
            if (n->op != EVO_OP_CONV || ns != 2 || c->has_residual || !w || w->rank < 1 ||
                w->dims[0] % c->out_groups != 0)
                return BAD("out_groups does not fit this node");
        }
        return EVO_OK;
    }
    case EVO_AK_POOL: {
        const evo_pool_attrs *p = &n->a.pool;
        int ns = p->n_spatial;
        if (n->op != EVO_OP_GLOBAL_AVERAGE_POOL && n->op != EVO_OP_GLOBAL_MAX_POOL &&
            (ns < 1 || !in_range(p->kernel, ns, 1) || !in_range(p->stride, ns, 1) || !in_range(p->dilation, ns, 1) ||
             !in_range(p->pad_begin, ns, 0) || !in_range(p->pad_end, ns, 0)))
            return BAD("window attributes out of range");
        return EVO_OK;
    }
    case EVO_AK_D2S:
        return n->a.d2s.blocksize >= 1 && n->a.d2s.blocksize <= 4096 ? EVO_OK : BAD("blocksize out of range");
    case EVO_AK_UNARY:
        return n->op != EVO_OP_CAST || evo_dtype_size(n->a.unary.to) > 0 ? EVO_OK : BAD("Cast to an unknown type");
    default: return EVO_OK;
    }
}

/* Re-runs shape inference on n and compares; restores attributes and outputs. */
static evo_status check_by_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_op_def *def = evo_op_get(n->op);
    if (!def || !def->infer)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "op not built into this evo");
    evo_value *saved = malloc(sizeof(evo_value) * (size_t)n->n_out);
    if (!saved)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
    for (int o = 0; o < n->n_out; o++)
        if (n->out[o] >= 0)
            saved[o] = g->values[n->out[o]];
    evo_attrs attrs = n->a;
    evo_status s = def->infer(g, n, err);
    for (int o = 0; o < n->n_out; o++) {
        if (n->out[o] < 0)
            continue;
        evo_value *v = &g->values[n->out[o]];
        if (!s && (v->dtype != saved[o].dtype || !same_dims(v, &saved[o])))
            s = BAD("stored output shape or dtype disagrees with shape inference");
        *v = saved[o];
    }
    if (!s && !evo_file_attrs_equal(n->op, &n->a, &attrs))
        s = BAD("stored attributes disagree with shape inference");
    n->a = attrs;
    free(saved);
    return s;
}

static evo_status check_node(evo_graph *g, evo_node *n, evo_error *err)
{
    if (n->n_out < 1 || n->out[0] < 0)
        return BAD("node has no output");
    int need = min_inputs(n->op);
    if (n->n_in < need)
        return BAD("too few inputs");
    for (int k = 0; k < need; k++)
        if (n->in[k] < 0)
            return BAD("a required input is empty");
    const evo_value *x = need > 0 ? &g->values[n->in[0]] : NULL;
    const evo_value *y = &g->values[n->out[0]];
    switch (n->op) {
    case EVO_OP_SPLIT: return check_split(g, n, x, err);
    case EVO_OP_SLICE: return check_slice(g, n, x, y, err);
    case EVO_OP_PAD: return check_pad(g, n, x, y, err);
    case EVO_OP_RESIZE:
    case EVO_OP_UPSAMPLE: return check_resize(g, n, x, y, err);
    case EVO_OP_TOP_K: return check_topk(g, n, x, err);
    case EVO_OP_TRANSPOSE: return check_transpose(g, n, x, y, err);
    case EVO_OP_CONSTANT:
    case EVO_OP_CONSTANT_OF_SHAPE: return check_constant(g, n, y, err);
    case EVO_OP_RESHAPE:
    case EVO_OP_FLATTEN:
    case EVO_OP_SQUEEZE:
    case EVO_OP_UNSQUEEZE:
    case EVO_OP_IDENTITY:
    case EVO_OP_DROPOUT: return check_reshape(g, n, x, y, err);
    default: break;
    }
    if (evo_file_attr_kind(n->op) == EVO_AK_REDUCE)
        return check_reduce(g, n, x, y, err);
    evo_status s = check_ranges(g, n, err);
    return s ? s : check_by_infer(g, n, err);
}

evo_status evo_file_check_nodes(evo_graph *g, evo_error *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_status s = check_node(g, &g->nodes[i], err);
        if (s)
            return s;
    }
    return EVO_OK;
}
