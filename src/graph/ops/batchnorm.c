/*
 * batchnorm.c - BatchNormalization, inference form only:
 * Y = (X - mean) / sqrt(var + epsilon) * scale + B over channel axis 1.
 * Training mode (training_mode=1, or the running mean/var outputs used)
 * and the pre-opset-9 per-activation form (spatial=0) are rejected.
 */
#include "graph/ops/nn_ops.h"

static evo_status batchnorm_import(evo_graph *g, evo_node *n, evo_error *err)
{
    int64_t training_mode = 0, spatial = 1;
    evo_status s;
    if ((s = evo_attr_float(g, n, "epsilon", 1e-5f, &n->a.bn.epsilon, err)) ||
        (s = evo_attr_int(g, n, "training_mode", 0, &training_mode, err)) ||
        (s = evo_attr_int(g, n, "spatial", 1, &spatial, err)))
        return s;
    if (training_mode != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "training_mode=%lld is not supported, only inference",
                               (long long)training_mode);
    if (spatial != 1)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "spatial=%lld (per-activation statistics) is not supported",
                               (long long)spatial);
    if (!(n->a.bn.epsilon >= 0.0f))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"epsilon\" = %g, expected >= 0",
                               (double)n->a.bn.epsilon);
    return EVO_OK;
}

static evo_status batchnorm_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
    evo_status s = evo_check_arity(g, n, 5, 5, 1, err);
    if (s || (s = evo_nn_float_input(g, n, 0, 2, EVO_MAX_RANK, err)))
        return s;
    for (int i = 1; i < n->n_out; i++) {
        if (n->out[i] >= 0)
            return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                                   "output %d (running statistics) is used: training mode is not "
                                   "supported",
                                   i);
    }
    const evo_value *x = evo_node_input(g, n, 0);
    for (int i = 1; i < 5; i++) {
        if ((s = evo_nn_float_input(g, n, i, 1, 1, err)))
            return s;
        const evo_value *v = evo_node_input(g, n, i);
        if (v->dims[0] != x->dims[1])
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "input %s has %lld values, expected C=%lld", names[i],
                                   (long long)v->dims[0], (long long)x->dims[1]);
    }
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, x->rank, x->dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_batchnorm = {batchnorm_import, batchnorm_infer};
