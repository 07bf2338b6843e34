/*
 * qconcat.c - com.microsoft QLinearConcat: inputs Y_scale, Y_zero_point,
 * then one (X, X_scale, X_zero_point) triple per tensor joined along axis
 * (required; negative counts from the back). Every X has Y's type and the
 * same shape off the axis. A triple whose parameters equal Y's is copied
 * as bytes; the others are requantized to Y's (the kernel's tables).
 */
#include "graph/ops/qparams.h"

static evo_status qconcat_import(evo_graph *g, evo_node *n, evo_error *err)
{
    if (!evo_attr_find(n, "axis"))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"axis\" is required");
    n->a.axis.legacy = false;
    n->a.axis.start = n->a.axis.end = 0;
    return evo_attr_int(g, n, "axis", 0, &n->a.axis.axis, err);
}

/* Checks triple k (inputs 2 + 3k ..) against the first tensor x0; grows *axis_len. */
static evo_status check_triple(evo_graph *g, evo_node *n, int k, const evo_value *x0, int64_t axis,
                               int64_t *axis_len, evo_error *err)
{
    char what[16], b0[128], b1[128];
    snprintf(what, sizeof(what), "X%d", k);
    int i = 2 + 3 * k;
    evo_status s = evo_q_check_data(g, n, i, what, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, i);
    if (x->dtype != x0->dtype)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "input %d (%s) has type %s, expected %s like the first", i, what,
                               evo_dtype_name(x->dtype), evo_dtype_name(x0->dtype));
    if ((s = evo_q_check_params(g, n, i + 1, i + 2, x->dtype, what, err)))
        return s;
    bool same = x->rank == x0->rank;
    for (int d = 0; same && d < x->rank; d++)
        same = d == axis || x->dims[d] == x0->dims[d];
    if (!same)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input %d (%s) shape %s does not match the first input %s off axis %lld", i,
                               what, evo_dims_str(x->dims, x->rank, b0, sizeof(b0)),
                               evo_dims_str(x0->dims, x0->rank, b1, sizeof(b1)), (long long)axis);
    *axis_len += x->dims[axis];
    return EVO_OK;
}

static evo_status qconcat_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    if (n->n_in < 5 || (n->n_in - 2) % 3 != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "has %d inputs, expected Y_scale, Y_zero_point and (X, X_scale, X_zero_point) "
                               "triples",
                               n->n_in);
    evo_status s = evo_q_check_arity(g, n, 5, n->n_in, err);
    if (s || (s = evo_q_check_data(g, n, 2, "X0", err)))
        return s;
    const evo_value *x0 = evo_node_input(g, n, 2);
    if (!evo_node_input(g, n, 1))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input 1 (Y_zero_point) is missing");
    if ((s = evo_q_check_params(g, n, 0, 1, x0->dtype, "Y", err)) ||
        (s = evo_norm_input_axis(g, n, "X0", x0->rank, &n->a.axis.axis, err)))
        return s;
    int64_t axis = n->a.axis.axis, axis_len = 0;
    for (int k = 0; k < (n->n_in - 2) / 3; k++) {
        if ((s = check_triple(g, n, k, x0, axis, &axis_len, err)))
            return s;
    }
    int64_t dims[EVO_MAX_RANK];
    for (int d = 0; d < x0->rank; d++)
        dims[d] = d == axis ? axis_len : x0->dims[d];
    evo_node_set_output(g, n, 0, x0->dtype, x0->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_qconcat = {qconcat_import, qconcat_infer};
