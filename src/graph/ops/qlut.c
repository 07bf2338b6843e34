/*
 * qlut.c - com.microsoft QLinearSigmoid and QLinearLeakyRelu (alpha,
 * default 0.01): an elementwise function of one quantized tensor, which
 * the kernel evaluates as a 256-entry table. Inputs: X, X_scale,
 * X_zero_point, Y_scale, Y_zero_point (zero points optional); Y has X's
 * type and shape.
 */
#include "graph/ops/qparams.h"

#include <math.h>

static evo_status qlut_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_unary_attrs *at = &n->a.unary;
    at->alpha = at->beta = 0.0f;
    at->min = -INFINITY;
    at->max = INFINITY;
    at->to = EVO_DTYPE_UNDEFINED;
    at->table = EVO_ACT_TABLE_FLOAT;
    if (n->op != EVO_OP_QLINEAR_LEAKY_RELU)
        return EVO_OK;
    evo_status s = evo_attr_float(g, n, "alpha", 0.01f, &at->alpha, err);
    if (s == EVO_OK && !isfinite(at->alpha))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"alpha\" is %g, expected a finite value",
                               (double)at->alpha);
    return s;
}

static evo_status qlut_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_q_check_arity(g, n, 4, 5, err);
    if (s || (s = evo_q_check_data(g, n, 0, "X", err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = evo_q_check_params(g, n, 1, 2, x->dtype, "X", err)) ||
        (s = evo_q_check_params(g, n, 3, 4, x->dtype, "Y", err)))
        return s;
    evo_node_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_qlut = {qlut_import, qlut_infer};
