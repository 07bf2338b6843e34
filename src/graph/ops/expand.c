/*
 * expand.c - Expand (bidirectional numpy broadcast of the input against a
 * constant shape) and Tile (constant repeats, one per axis).
 */
#include "graph/ops/tensor_common.h"

static evo_status expand_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 2, 2, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    int64_t arg[EVO_MAX_RANK], dims[EVO_MAX_RANK];
    int n_arg, rank;
    if ((s = evo_const_ints(g, n, 1, arg, EVO_MAX_RANK, &n_arg, err)))
        return s;
    if (n->op == EVO_OP_EXPAND) {
        for (int d = 0; d < n_arg; d++) {
            if (arg[d] < 0)
                return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "shape entry %d is negative (%lld)", d,
                                       (long long)arg[d]);
        }
        if ((s = evo_broadcast_dims(g, n, x->dims, x->rank, arg, n_arg, dims, &rank, err)))
            return s;
    } else {
        if (n_arg != x->rank)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "repeats has %d values for an input of rank %d",
                                   n_arg, x->rank);
        rank = x->rank;
        for (int d = 0; d < rank; d++) {
            if (arg[d] < 0)
                return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "repeat %d is negative (%lld)", d,
                                       (long long)arg[d]);
            if (!evo_mul_i64(x->dims[d], arg[d], &dims[d]) || dims[d] > EVO_MAX_ELEMENTS)
                return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "tiled dim %d is too large", d);
        }
    }
    evo_node_set_output(g, n, 0, x->dtype, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_expand = {NULL, expand_infer};
