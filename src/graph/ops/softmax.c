/*
 * softmax.c - Softmax and LogSoftmax. From opset 13 they normalise along
 * one axis (default -1); before, the input is coerced to 2-D at `axis`
 * (default 1) and normalised over all axes from `axis` on. The output has
 * the input's shape and type (float32 or float64).
 */
#include "graph/op.h"

static evo_status softmax_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_axis_attrs *at = &n->a.axis;
    at->legacy = g->opset < 13;
    at->start = at->end = 0;
    return evo_attr_int(g, n, "axis", at->legacy ? 1 : -1, &at->axis, err);
}

static evo_status softmax_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (x->dtype != EVO_DTYPE_FLOAT && x->dtype != EVO_DTYPE_DOUBLE)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input type %s is not supported, expected float32 or float64",
                               evo_dtype_name(x->dtype));
    if ((s = evo_norm_input_axis(g, n, "input", x->rank, &n->a.axis.axis, err)))
        return s;
    evo_node_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_softmax = {softmax_import, softmax_infer};
