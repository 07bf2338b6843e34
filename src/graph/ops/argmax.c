/*
 * argmax.c - ArgMax and ArgMin: int64 indices of the extreme element along
 * `axis` (default 0), which is kept with size 1 (keepdims, default) or
 * removed. select_last_index picks the last of equal extremes.
 */
#include "graph/op.h"

static evo_status argmax_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_arg_attrs *at = &n->a.arg;
    int64_t keepdims, last;
    evo_status s;
    if ((s = evo_attr_int(g, n, "axis", 0, &at->axis, err)) ||
        (s = evo_attr_int(g, n, "keepdims", 1, &keepdims, err)) ||
        (s = evo_attr_int(g, n, "select_last_index", 0, &last, err)))
        return s;
    at->keepdims = keepdims != 0;
    at->select_last_index = last != 0;
    return EVO_OK;
}

static evo_status argmax_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = evo_check_numeric_input(g, n, x, err)) ||
        (s = evo_norm_input_axis(g, n, "input", x->rank, &n->a.arg.axis, err)))
        return s;
    int64_t axis = n->a.arg.axis;
    if (x->dims[axis] == 0)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "axis %lld has size 0: no element to select",
                               (long long)axis);
    int64_t dims[EVO_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (d != axis)
            dims[rank++] = x->dims[d];
        else if (n->a.arg.keepdims)
            dims[rank++] = 1;
    }
    evo_node_set_output(g, n, 0, EVO_DTYPE_INT64, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_argmax = {argmax_import, argmax_infer};
