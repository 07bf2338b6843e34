/*
 * concat.c - Concat: import of the axis and shape inference. Inputs must
 * agree in dtype, rank and every dim but the axis; zero-sized inputs are
 * allowed (exporters emit them for empty shape lists).
 */
#include "graph/ops/tensor_common.h"

static evo_status concat_import(evo_graph *g, evo_node *n, evo_error *err)
{
    if (!evo_attr_find(n, "axis"))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"axis\" is required");
    return evo_attr_int(g, n, "axis", 0, &n->a.axis.axis, err);
}

static evo_status concat_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, -1, 1, err);
    if (s)
        return s;
    for (int i = 0; i < n->n_in; i++) {
        if ((s = evo_tensor_input_check(g, n, i, err)))
            return s;
    }
    const evo_value *first = evo_node_input(g, n, 0);
    int rank = first->rank;
    if ((s = evo_norm_input_axis(g, n, "inputs", rank, &n->a.axis.axis, err)))
        return s;
    int64_t axis = n->a.axis.axis;
    int64_t dims[EVO_MAX_RANK];
    for (int d = 0; d < rank; d++)
        dims[d] = first->dims[d];
    for (int i = 1; i < n->n_in; i++) {
        const evo_value *v = evo_node_input(g, n, i);
        char sa[128], sb[128];
        if (v->dtype != first->dtype)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d has type %s, expected %s", i,
                                   evo_dtype_name(v->dtype), evo_dtype_name(first->dtype));
        if (v->rank != rank)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d has rank %d, expected %d", i, v->rank,
                                   rank);
        for (int d = 0; d < rank; d++) {
            if (d != axis && v->dims[d] != first->dims[d])
                return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                       "input %d shape %s does not match input 0 shape %s outside axis %lld",
                                       i, evo_dims_str(v->dims, rank, sa, sizeof(sa)),
                                       evo_dims_str(first->dims, rank, sb, sizeof(sb)), (long long)axis);
        }
        if (!evo_add_i64(dims[axis], v->dims[axis], &dims[axis]))
            return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "concatenated dim overflows");
    }
    evo_node_set_output(g, n, 0, first->dtype, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_concat = {concat_import, concat_infer};
