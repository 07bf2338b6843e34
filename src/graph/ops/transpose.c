/*
 * transpose.c - Transpose: perm must be a permutation of 0..rank-1; the
 * default reverses the axes. Output dim i is input dim perm[i].
 */
#include "graph/ops/tensor_common.h"

static evo_status transpose_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    int64_t perm[EVO_MAX_RANK];
    int n_perm;
    if ((s = evo_attr_ints(g, n, "perm", perm, EVO_MAX_RANK, &n_perm, err)))
        return s;
    if (!evo_attr_find(n, "perm")) {
        n_perm = x->rank;
        for (int i = 0; i < x->rank; i++)
            perm[i] = x->rank - 1 - i;
    }
    if (n_perm != x->rank)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "perm has %d entries for an input of rank %d",
                               n_perm, x->rank);
    bool seen[EVO_MAX_RANK] = {false};
    int64_t dims[EVO_MAX_RANK];
    for (int i = 0; i < n_perm; i++) {
        if (perm[i] < 0 || perm[i] >= x->rank || seen[perm[i]])
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                   "perm is not a permutation of 0..%d (entry %d is %lld)", x->rank - 1,
                                   i, (long long)perm[i]);
        seen[perm[i]] = true;
        n->a.transpose.perm[i] = (int)perm[i];
        dims[i] = x->dims[perm[i]];
    }
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_transpose = {NULL, transpose_infer};
