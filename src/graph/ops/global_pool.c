/*
 * global_pool.c - GlobalAveragePool and GlobalMaxPool: shape inference.
 * The output keeps N and C and has extent 1 in every spatial dim; the pool
 * attributes are resolved to a window covering the whole input.
 */
#include "graph/ops/nn_ops.h"

#include <string.h>

static evo_status global_pool_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s || (s = evo_nn_float_input(g, n, 0, 3, EVO_MAX_RANK, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    evo_pool_attrs *p = &n->a.pool;
    memset(p, 0, sizeof(*p));
    p->n_spatial = x->rank - 2 <= EVO_MAX_SPATIAL ? x->rank - 2 : 0;
    for (int i = 0; i < EVO_MAX_SPATIAL; i++) {
        p->kernel[i] = i < p->n_spatial ? x->dims[2 + i] : 1;
        p->stride[i] = p->dilation[i] = 1;
    }
    int64_t dims[EVO_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = i < 2 ? x->dims[i] : 1;
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_global_pool = {NULL, global_pool_infer};
