/*
 * gather.c - Gather: out = data[:axis] + indices.shape + data[axis+1:].
 * Indices are int32 or int64 of any rank (a scalar removes the axis) and may
 * be negative (counted from the end). Constant indices are range-checked
 * here; the kernel writes zeros for out-of-range run-time indices rather
 * than read outside the tensor.
 */
#include "graph/ops/tensor_common.h"

static evo_status gather_import(evo_graph *g, evo_node *n, evo_error *err)
{
    return evo_attr_int(g, n, "axis", 0, &n->a.axis.axis, err);
}

static evo_status gather_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 2, 2, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)) || (s = evo_tensor_input_check(g, n, 1, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0), *idx = evo_node_input(g, n, 1);
    if (idx->dtype != EVO_DTYPE_INT64 && idx->dtype != EVO_DTYPE_INT32)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "indices must be int32 or int64, got %s",
                               evo_dtype_name(idx->dtype));
    if ((s = evo_norm_input_axis(g, n, "data", x->rank, &n->a.axis.axis, err)))
        return s;
    int64_t axis = n->a.axis.axis;
    int rank = x->rank - 1 + idx->rank;
    if (rank > EVO_MAX_RANK)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output rank %d exceeds %d", rank, EVO_MAX_RANK);
    int64_t dim = x->dims[axis];
    if (idx->data) {
        int64_t count = evo_value_count(idx);
        for (int64_t i = 0; i < count; i++) {
            int64_t v = idx->dtype == EVO_DTYPE_INT64 ? ((const int64_t *)idx->data)[i]
                                                      : ((const int32_t *)idx->data)[i];
            if (v < -dim || v >= dim)
                return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                       "index %lld is out of range for axis %lld of size %lld", (long long)v,
                                       (long long)axis, (long long)dim);
        }
    }
    int64_t dims[EVO_MAX_RANK];
    int r = 0;
    for (int d = 0; d < axis; d++)
        dims[r++] = x->dims[d];
    for (int d = 0; d < idx->rank; d++)
        dims[r++] = idx->dims[d];
    for (int d = (int)axis + 1; d < x->rank; d++)
        dims[r++] = x->dims[d];
    evo_node_set_output(g, n, 0, x->dtype, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_gather = {gather_import, gather_infer};
