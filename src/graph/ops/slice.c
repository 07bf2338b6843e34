/*
 * slice.c - Slice: starts/ends/axes from attributes (opset < 10) or constant
 * inputs with optional axes and steps (opset >= 10). Clamping follows the
 * ONNX definition: negative indices add the dim; for positive steps start
 * and end clamp to [0, dim], for negative steps both clamp to [-1, dim-1],
 * so ends like INT64_MAX or -INT64_MAX mean "to the edge". (The spec text
 * says [0, dim-1] for a negative-step start, but its reference
 * implementation and onnxruntime slice like numpy, where a start still
 * negative after adding the dim selects nothing; we follow them.) The kernel gets a start and step per input axis; the output dims
 * give the counts.
 */
#include "graph/ops/tensor_common.h"

static evo_status slice_read(evo_graph *g, const evo_node *n, int input, const char *attr,
                             int64_t *out, int *count, evo_error *err)
{
    if (g->opset < 10)
        return evo_attr_ints(g, n, attr, out, EVO_MAX_RANK, count, err);
    if (!evo_node_input(g, n, input)) {
        *count = 0;
        return EVO_OK;
    }
    return evo_const_ints(g, n, input, out, EVO_MAX_RANK, count, err);
}

/* Clamps start/end per the spec; writes the start and element count. */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t *step_io,
                       int64_t *start_out, int64_t *count_out)
{
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    int64_t step = *step_io, count;
    // A step longer than the dim takes one element; clamping keeps the math in range.
    if (step > dim)
        step = EVO_MAX(dim, 1);
    if (step < -dim)
        step = -EVO_MAX(dim, 1);
    if (dim == 0) {
        count = 0;
        start = 0;
    } else if (step > 0) {
        start = EVO_MAX(0, EVO_MIN(start, dim));
        end = EVO_MAX(0, EVO_MIN(end, dim));
        count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
        start = EVO_MAX(-1, EVO_MIN(start, dim - 1));
        end = EVO_MAX(-1, EVO_MIN(end, dim - 1));
        count = start > end ? (start - end - 1) / (-step) + 1 : 0;
    }
    *step_io = step;
    *start_out = count ? start : 0;
    *count_out = count;
}

static evo_status slice_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, g->opset < 10 ? 1 : 3, g->opset < 10 ? 1 : 5, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    int64_t starts[EVO_MAX_RANK], ends[EVO_MAX_RANK], axes[EVO_MAX_RANK], steps[EVO_MAX_RANK];
    int n_starts, n_ends, n_axes, n_steps;
    if ((s = slice_read(g, n, 1, "starts", starts, &n_starts, err)) ||
        (s = slice_read(g, n, 2, "ends", ends, &n_ends, err)) ||
        (s = slice_read(g, n, 3, "axes", axes, &n_axes, err)))
        return s;
    n_steps = 0;
    if (g->opset >= 10 && evo_node_input(g, n, 4) &&
        (s = evo_const_ints(g, n, 4, steps, EVO_MAX_RANK, &n_steps, err)))
        return s;
    if (n_starts != n_ends)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "starts has %d values but ends has %d", n_starts,
                               n_ends);
    if (n_axes == 0) {
        if (n_starts > x->rank)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "%d starts for an input of rank %d", n_starts,
                                   x->rank);
        for (int i = 0; i < n_starts; i++)
            axes[i] = i;
    } else if (n_axes != n_starts) {
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "axes has %d values but starts has %d", n_axes,
                               n_starts);
    }
    if (n_steps == 0) {
        for (int i = 0; i < n_starts; i++)
            steps[i] = 1;
    } else if (n_steps != n_starts) {
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "steps has %d values but starts has %d", n_steps,
                               n_starts);
    }
    evo_slice_attrs *sl = &n->a.slice;
    int64_t dims[EVO_MAX_RANK];
    bool seen[EVO_MAX_RANK] = {false};
    for (int d = 0; d < x->rank; d++) {
        sl->start[d] = 0;
        sl->step[d] = 1;
        dims[d] = x->dims[d];
    }
    for (int i = 0; i < n_starts; i++) {
        int64_t axis;
        if ((s = evo_norm_axis(g, n, axes[i], x->rank, false, &axis, err)))
            return s;
        if (seen[axis])
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "axis %lld appears twice", (long long)axes[i]);
        seen[axis] = true;
        if (steps[i] == 0)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "step for axis %lld is 0", (long long)axes[i]);
        sl->step[axis] = steps[i];
        slice_axis(x->dims[axis], starts[i], ends[i], &sl->step[axis], &sl->start[axis], &dims[axis]);
    }
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_slice = {NULL, slice_infer};
