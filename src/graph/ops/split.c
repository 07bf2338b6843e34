/*
 * split.c - Split: the sizes come from the 'split' attribute (opset < 13),
 * the 'split' input (opset >= 13), 'num_outputs' (opset 18: ceil-sized
 * chunks, the last one smaller), or an equal split into the output count.
 * Resolved sizes live in graph memory so the kernel needs nothing else.
 */
#include "graph/ops/tensor_common.h"

static evo_status split_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_split_attrs *sa = &n->a.split;
    sa->n_splits = n->n_out;
    sa->sizes = NULL;
    return evo_attr_int(g, n, "axis", 0, &sa->axis, err);
}

/* Sizes when none are given: num_outputs chunks (opset 18) or an equal split. */
static evo_status split_equal(evo_graph *g, const evo_node *n, int64_t dim, int64_t *sizes,
                              evo_error *err)
{
    int64_t num_outputs;
    evo_status s = evo_attr_int(g, n, "num_outputs", 0, &num_outputs, err);
    if (s)
        return s;
    int parts = n->n_out;
    if (evo_attr_find(n, "num_outputs")) {
        if (num_outputs != parts)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "num_outputs is %lld but the node has %d outputs",
                                   (long long)num_outputs, parts);
        int64_t chunk = (dim + parts - 1) / parts;
        for (int i = 0; i < parts; i++)
            sizes[i] = i < parts - 1 ? chunk : dim - chunk * (parts - 1);
        if (sizes[parts - 1] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "dim %lld cannot be split into %d chunks of %lld",
                                   (long long)dim, parts, (long long)chunk);
        return EVO_OK;
    }
    if (dim % parts != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "dim %lld of the split axis is not divisible by the %d outputs",
                               (long long)dim, parts);
    for (int i = 0; i < parts; i++)
        sizes[i] = dim / parts;
    return EVO_OK;
}

static evo_status split_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_split_attrs *sa = &n->a.split;
    evo_status s = evo_check_arity(g, n, 1, 2, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = evo_norm_axis(g, n, sa->axis, x->rank, false, &sa->axis, err)))
        return s;
    int parts = n->n_out;
    int64_t *sizes = evo_mem_alloc(&g->mem, sizeof(int64_t) * (size_t)parts);
    if (!sizes)
        return evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory");
    int64_t dim = x->dims[sa->axis];
    int count = 0;
    if (evo_node_input(g, n, 1)) {
        s = evo_const_ints(g, n, 1, sizes, parts, &count, err);
    } else if (evo_attr_find(n, "split")) {
        s = evo_attr_ints(g, n, "split", sizes, parts, &count, err);
    } else {
        s = split_equal(g, n, dim, sizes, err);
        count = parts;
    }
    if (s)
        return s;
    if (count != parts)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "'split' has %d sizes but the node has %d outputs",
                               count, parts);
    int64_t total = 0;
    for (int i = 0; i < parts; i++) {
        if (sizes[i] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "split size %d is negative (%lld)", i,
                                   (long long)sizes[i]);
        if (!evo_add_i64(total, sizes[i], &total))
            return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "split sizes overflow");
    }
    if (total != dim)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "split sizes sum to %lld, expected dim %lld",
                               (long long)total, (long long)dim);
    sa->n_splits = parts;
    sa->sizes = sizes;
    int64_t dims[EVO_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        dims[d] = x->dims[d];
    for (int i = 0; i < parts; i++) {
        dims[sa->axis] = sizes[i];
        evo_node_set_output(g, n, i, x->dtype, x->rank, dims);
    }
    return EVO_OK;
}

const evo_op_def evo_opdef_split = {split_import, split_infer};
