/*
 * tensor_common.h - checks shared by the shape inference of the tensor
 * manipulation families (concat, split, slice, pad, reshape, ...). These ops
 * move bytes, so any fixed-size dtype is accepted; strings are not, since
 * their elements have no fixed size.
 */
#ifndef EVO_OPS_TENSOR_COMMON_H
#define EVO_OPS_TENSOR_COMMON_H

#include "graph/op.h"

/* Checks that input i is present and has a fixed-size element type. */
static inline evo_status evo_tensor_input_check(evo_graph *g, const evo_node *n, int i,
                                                evo_error *err)
{
    const evo_value *v = evo_node_input(g, n, i);
    if (!v)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d is missing", i);
    if (v->dtype == EVO_DTYPE_STRING)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d (\"%s\"): string tensors are not supported", i, v->name);
    if (evo_dtype_size(v->dtype) == 0)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input %d (\"%s\"): unsupported type %s",
                               i, v->name, evo_dtype_name(v->dtype));
    if (v->rank < 0 || v->rank > EVO_MAX_RANK)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (\"%s\"): unsupported rank %d", i,
                               v->name, v->rank);
    return EVO_OK;
}

#endif /* EVO_OPS_TENSOR_COMMON_H */
