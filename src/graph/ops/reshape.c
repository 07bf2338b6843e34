/*
 * reshape.c - the ops that only change the dims, never the bytes: Reshape,
 * Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference mode: the
 * identity, with an all-true mask). Axes and shapes come from attributes in
 * old opsets and from constant inputs in new ones (Reshape >= 5,
 * Squeeze/Unsqueeze >= 13); shape inference resolves them into the output
 * dims, which is all the kernel (a copy) needs.
 */
#include "graph/ops/tensor_common.h"

static evo_status reshape_import(evo_graph *g, evo_node *n, evo_error *err)
{
    int64_t allowzero;
    evo_status s = evo_attr_int(g, n, "allowzero", 0, &allowzero, err);
    n->a.reshape.allowzero = allowzero != 0;
    return s;
}

static evo_status reshape_dims(evo_graph *g, const evo_node *n, const evo_value *x, int64_t *dims,
                               int *rank, evo_error *err)
{
    int64_t shape[EVO_MAX_RANK];
    int n_shape;
    evo_status s = g->opset < 5 ? evo_attr_ints(g, n, "shape", shape, EVO_MAX_RANK, &n_shape, err)
                                : evo_const_ints(g, n, 1, shape, EVO_MAX_RANK, &n_shape, err);
    if (s)
        return s;
    bool allowzero = n->a.reshape.allowzero;
    int infer_at = -1;
    int64_t known = 1, count = evo_value_count(x);
    for (int i = 0; i < n_shape; i++) {
        int64_t d = shape[i];
        if (d == 0 && !allowzero) {
            if (i >= x->rank)
                return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                       "shape entry %d is 0 (copy the input dim) but the input has rank %d",
                                       i, x->rank);
            d = x->dims[i];
        } else if (d == -1) {
            if (infer_at >= 0)
                return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "shape has more than one -1");
            infer_at = i;
            continue;
        } else if (d < -1) {
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "shape entry %d is %lld", i, (long long)d);
        } else if (d == 0 && allowzero) {
            for (int j = 0; j < n_shape; j++) {
                if (shape[j] == -1)
                    return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                           "shape has both 0 and -1 while allowzero is set");
            }
        }
        dims[i] = d;
        if (!evo_mul_i64(known, d, &known) || known > EVO_MAX_ELEMENTS)
            return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "shape is too large");
    }
    if (infer_at >= 0) {
        if (known == 0 || count % known != 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "cannot infer the -1 in the shape: %lld elements, %lld in the other dims",
                                   (long long)count, (long long)known);
        dims[infer_at] = count / known;
        known = count;
    }
    if (known != count) {
        char sa[128], sb[128];
        for (int i = 0; i < n_shape; i++)
            shape[i] = dims[i];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s",
                               evo_dims_str(x->dims, x->rank, sa, sizeof(sa)), (long long)count,
                               evo_dims_str(shape, n_shape, sb, sizeof(sb)));
    }
    *rank = n_shape;
    return EVO_OK;
}

static evo_status flatten_dims(evo_graph *g, const evo_node *n, const evo_value *x, int64_t *dims,
                               int *rank, evo_error *err)
{
    int64_t axis;
    evo_status s = evo_attr_int(g, n, "axis", 1, &axis, err);
    if (s)
        return s;
    // Flatten's axis is in [-rank, rank]; a negative one counts from the back (-1 = rank - 1).
    int64_t a = axis < 0 ? axis + x->rank : axis;
    if (a < 0 || a > x->rank)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "axis %lld out of range [-%d, %d]", (long long)axis,
                               x->rank, x->rank);
    axis = a;
    dims[0] = dims[1] = 1;
    for (int d = 0; d < x->rank; d++)
        dims[d < axis ? 0 : 1] *= x->dims[d];
    *rank = 2;
    return EVO_OK;
}

/* Squeeze/Unsqueeze axes: attribute before opset 13, optional input 1 after. */
static evo_status read_axes(evo_graph *g, const evo_node *n, int64_t *axes, int *n_axes, bool *given,
                            evo_error *err)
{
    *n_axes = 0;
    if (g->opset < 13) {
        *given = evo_attr_find(n, "axes") != NULL;
        return evo_attr_ints(g, n, "axes", axes, EVO_MAX_RANK, n_axes, err);
    }
    *given = evo_node_input(g, n, 1) != NULL;
    return *given ? evo_const_ints(g, n, 1, axes, EVO_MAX_RANK, n_axes, err) : EVO_OK;
}

static evo_status squeeze_dims(evo_graph *g, const evo_node *n, const evo_value *x, int64_t *dims,
                               int *rank, evo_error *err)
{
    int64_t axes[EVO_MAX_RANK];
    int n_axes;
    bool given;
    evo_status s = read_axes(g, n, axes, &n_axes, &given, err);
    if (s)
        return s;
    bool drop[EVO_MAX_RANK] = {false};
    for (int i = 0; i < n_axes; i++) {
        int64_t axis;
        if ((s = evo_norm_axis(g, n, axes[i], x->rank, false, &axis, err)))
            return s;
        if (x->dims[axis] != 1)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "cannot squeeze axis %lld of size %lld",
                                   (long long)axes[i], (long long)x->dims[axis]);
        drop[axis] = true;
    }
    *rank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (given && n_axes > 0 ? !drop[d] : x->dims[d] != 1)
            dims[(*rank)++] = x->dims[d];
    }
    return EVO_OK;
}

static evo_status unsqueeze_dims(evo_graph *g, const evo_node *n, const evo_value *x, int64_t *dims,
                                 int *rank, evo_error *err)
{
    int64_t axes[EVO_MAX_RANK];
    int n_axes;
    bool given;
    evo_status s = read_axes(g, n, axes, &n_axes, &given, err);
    if (s)
        return s;
    if (!given)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "axes are required");
    int out_rank = x->rank + n_axes;
    if (out_rank > EVO_MAX_RANK)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output rank %d exceeds %d", out_rank,
                               EVO_MAX_RANK);
    bool insert[EVO_MAX_RANK] = {false};
    for (int i = 0; i < n_axes; i++) {
        int64_t axis;
        if ((s = evo_norm_axis(g, n, axes[i], out_rank, false, &axis, err)))
            return s;
        if (insert[axis])
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "axis %lld appears twice", (long long)axes[i]);
        insert[axis] = true;
    }
    for (int d = 0, j = 0; d < out_rank; d++)
        dims[d] = insert[d] ? 1 : x->dims[j++];
    *rank = out_rank;
    return EVO_OK;
}

static evo_status dropout_check(evo_graph *g, const evo_node *n, evo_error *err)
{
    const evo_value *mode = evo_node_input(g, n, 2);
    if (!mode)
        return EVO_OK;
    double training;
    evo_status s = evo_const_scalar(g, n, 2, &training, err);
    if (s)
        return s;
    if (training != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "training_mode is true; only inference is supported");
    return EVO_OK;
}

static evo_status reshape_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    int max_in = n->op == EVO_OP_RESHAPE || n->op == EVO_OP_SQUEEZE || n->op == EVO_OP_UNSQUEEZE ? 2
                 : n->op == EVO_OP_DROPOUT                                                       ? 3
                                                                                                 : 1;
    evo_status s = evo_check_arity(g, n, 1, max_in, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    int64_t dims[EVO_MAX_RANK];
    int rank = x->rank;
    for (int d = 0; d < rank; d++)
        dims[d] = x->dims[d];
    switch (n->op) {
    case EVO_OP_RESHAPE: s = reshape_dims(g, n, x, dims, &rank, err); break;
    case EVO_OP_FLATTEN: s = flatten_dims(g, n, x, dims, &rank, err); break;
    case EVO_OP_SQUEEZE: s = squeeze_dims(g, n, x, dims, &rank, err); break;
    case EVO_OP_UNSQUEEZE: s = unsqueeze_dims(g, n, x, dims, &rank, err); break;
    case EVO_OP_DROPOUT: s = dropout_check(g, n, err); break;
    default: break;
    }
    if (s)
        return s;
    evo_node_set_output(g, n, 0, x->dtype, rank, dims);
    if (n->op == EVO_OP_DROPOUT)
        evo_node_set_output(g, n, 1, EVO_DTYPE_BOOL, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_reshape = {reshape_import, reshape_infer};
