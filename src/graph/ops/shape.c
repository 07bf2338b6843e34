/*
 * shape.c - Shape (with start/end, opset 15) and Size. Dims are static, so
 * the outputs are known at compile time: shape inference makes them
 * constants directly, which is what lets the shape subgraphs exporters write
 * (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) fold away even though
 * the Shape input itself is computed at run time.
 */
#include "graph/ops/tensor_common.h"

static evo_status shape_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_axis_attrs *aa = &n->a.axis;
    aa->axis = 0;
    evo_status s = evo_attr_int(g, n, "start", 0, &aa->start, err);
    if (s)
        return s;
    return evo_attr_int(g, n, "end", INT64_MAX, &aa->end, err);
}

/* Clamps a start/end per the spec: negative counts from the back, then [0, rank]. */
static int64_t clamp_index(int64_t i, int rank)
{
    if (i < 0)
        i += rank;
    return i < 0 ? 0 : i > rank ? rank : i;
}

static evo_status shape_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (x->rank < 0 || x->rank > EVO_MAX_RANK)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input has unsupported rank %d", x->rank);
    evo_value *y = evo_node_output(g, n, 0);
    if (!y)
        return EVO_OK;
    if (n->op == EVO_OP_SIZE) {
        int64_t count = evo_value_count(x);
        return evo_value_set_const(g, y, EVO_DTYPE_INT64, 0, NULL, &count, err);
    }
    evo_axis_attrs *aa = &n->a.axis;
    aa->start = clamp_index(aa->start, x->rank);
    aa->end = clamp_index(aa->end, x->rank);
    int64_t count = EVO_MAX(aa->end - aa->start, 0), dims[EVO_MAX_RANK];
    for (int64_t i = 0; i < count; i++)
        dims[i] = x->dims[aa->start + i];
    return evo_value_set_const(g, y, EVO_DTYPE_INT64, 1, &count, dims, err);
}

const evo_op_def evo_opdef_shape = {shape_import, shape_infer};
