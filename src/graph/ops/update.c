/*
 * update.c - evo.UpdateSlices, an internal op that passes make (never
 * imported): the output is input 0 with a slice along the axis replaced by
 * each further input, input i + 1 starting at sizes[i] (attrs.h). It is
 * what fuse_update makes of Split -> ... -> Concat on one axis where parts
 * pass through unchanged (YOLOv5's box decoding): only the changed slices
 * are written, in place when the planner lets the output take input 0's
 * bytes. Inference checks every attribute, since .evo files are checked by
 * it too.
 */
#include "graph/ops/tensor_common.h"

static evo_status update_import(evo_graph *g, evo_node *n, evo_error *err)
{
    return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "%s is internal to evo, not an ONNX op", n->op_type);
}

static evo_status update_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_split_attrs *sa = &n->a.split;
    evo_status s = evo_check_arity(g, n, 1, -1, 1, err);
    if (s)
        return s;
    for (int i = 0; i < n->n_in; i++) {
        if ((s = evo_tensor_input_check(g, n, i, err)))
            return s;
    }
    const evo_value *x = evo_node_input(g, n, 0);
    if (sa->axis < 0 || sa->axis >= x->rank)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "axis %lld is outside rank %d", (long long)sa->axis,
                               x->rank);
    if (sa->n_splits != n->n_in - 1 || (sa->n_splits > 0 && !sa->sizes))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "%d slice starts for %d updates", sa->n_splits,
                               n->n_in - 1);
    for (int i = 1; i < n->n_in; i++) {
        const evo_value *u = evo_node_input(g, n, i);
        int64_t start = sa->sizes[i - 1], len = u->rank == x->rank ? u->dims[sa->axis] : -1;
        bool ok = u->dtype == x->dtype && u->rank == x->rank;
        for (int d = 0; ok && d < x->rank; d++)
            ok = d == sa->axis || u->dims[d] == x->dims[d];
        if (!ok)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "update %d (\"%s\") differs from input 0 in type or outside axis %lld", i,
                                   u->name, (long long)sa->axis);
        if (start < 0 || start > x->dims[sa->axis] || len > x->dims[sa->axis] - start)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "update %d covers [%lld, %lld) of axis %lld, which has %lld", i,
                                   (long long)start, (long long)(start + len), (long long)sa->axis,
                                   (long long)x->dims[sa->axis]);
    }
    evo_node_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_update = {update_import, update_infer};
