/*
 * reduce.c - ReduceMean/Max/Min/Sum/Prod. The axes come from the `axes`
 * attribute, or from a constant int64 input (ReduceSum from opset 13, all
 * of them from opset 18); they fix the output shape, so run-time axes are
 * not supported. No axes means all axes, unless noop_with_empty_axes makes
 * the op an identity. Reduced axes are kept with size 1 (keepdims, default)
 * or removed.
 */
#include "graph/op.h"

#define MAX_AXES (2 * EVO_MAX_RANK)

static evo_status reduce_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_reduce_attrs *at = &n->a.reduce;
    int64_t keepdims, noop;
    evo_status s;
    if ((s = evo_attr_int(g, n, "keepdims", 1, &keepdims, err)) ||
        (s = evo_attr_int(g, n, "noop_with_empty_axes", 0, &noop, err)))
        return s;
    at->axes_mask = 0;
    at->keepdims = keepdims != 0;
    at->noop_with_empty_axes = noop != 0;
    return EVO_OK;
}

/* Reads the axes from input 1 or the attribute; *n_axes = 0 when none are given. */
static evo_status read_axes(evo_graph *g, evo_node *n, int64_t *axes, int *n_axes, evo_error *err)
{
    *n_axes = 0;
    const evo_value *v = evo_node_input(g, n, 1);
    if (!v)
        return evo_attr_ints(g, n, "axes", axes, MAX_AXES, n_axes, err);
    if (evo_attr_find(n, "axes"))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "axes given both as attribute and as input");
    if (v->dtype != EVO_DTYPE_INT64)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input axes has type %s, expected int64",
                               evo_dtype_name(v->dtype));
    if (v->rank == 1 && v->dims[0] == 0)
        return EVO_OK; /* an empty axes tensor: same as none */
    return evo_const_ints(g, n, 1, axes, MAX_AXES, n_axes, err);
}

static evo_status reduce_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_reduce_attrs *at = &n->a.reduce;
    evo_status s = evo_check_arity(g, n, 1, 2, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = evo_check_numeric_input(g, n, x, err)))
        return s;
    int64_t axes[MAX_AXES];
    int n_axes;
    if ((s = read_axes(g, n, axes, &n_axes, err)))
        return s;
    uint32_t mask = 0;
    for (int i = 0; i < n_axes; i++) {
        int64_t axis;
        if ((s = evo_norm_axis(g, n, axes[i], x->rank, false, &axis, err)))
            return s;
        mask |= 1u << axis;
    }
    if (n_axes == 0 && !at->noop_with_empty_axes)
        mask = (uint32_t)((1u << x->rank) - 1);
    at->axes_mask = mask;
    int64_t dims[EVO_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (!((mask >> d) & 1))
            dims[rank++] = x->dims[d];
        else if (at->keepdims)
            dims[rank++] = 1;
    }
    evo_node_set_output(g, n, 0, x->dtype, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_reduce = {reduce_import, reduce_infer};
