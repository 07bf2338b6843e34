/*
 * topk.c - TopK: the k largest (or smallest) values along `axis` (default
 * -1) and their int64 indices. k is the attribute before opset 10 and a
 * constant 1-element int64 input from opset 10 on (it fixes the output
 * shape, so a run-time k is not supported). Ties go to the lower index.
 */
#include "graph/op.h"

static evo_status topk_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_topk_attrs *at = &n->a.topk;
    int64_t largest, sorted;
    evo_status s;
    if ((s = evo_attr_int(g, n, "axis", -1, &at->axis, err)) ||
        (s = evo_attr_int(g, n, "largest", 1, &largest, err)) ||
        (s = evo_attr_int(g, n, "sorted", 1, &sorted, err)) || (s = evo_attr_int(g, n, "k", -1, &at->k, err)))
        return s;
    at->largest = largest != 0;
    at->sorted = sorted != 0;
    return EVO_OK;
}

static evo_status topk_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_topk_attrs *at = &n->a.topk;
    evo_status s = evo_check_arity(g, n, 1, 2, 2, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = evo_check_numeric_input(g, n, x, err)) ||
        (s = evo_norm_input_axis(g, n, "input", x->rank, &at->axis, err)))
        return s;
    int64_t axis = at->axis;
    if (evo_node_input(g, n, 1)) {
        int64_t k[1];
        int count;
        if ((s = evo_const_ints(g, n, 1, k, 1, &count, err)))
            return s;
        if (count != 1)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input K must hold one value, got %d", count);
        at->k = k[0];
    } else if (!evo_attr_find(n, "k")) {
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "k is missing: expected input K or attribute \"k\"");
    }
    if (at->k < 0 || at->k > x->dims[axis])
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "k = %lld is out of range for axis %lld of size %lld", (long long)at->k,
                               (long long)axis, (long long)x->dims[axis]);
    int64_t dims[EVO_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        dims[d] = d == axis ? at->k : x->dims[d];
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    evo_node_set_output(g, n, 1, EVO_DTYPE_INT64, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_topk = {topk_import, topk_infer};
