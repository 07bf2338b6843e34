/*
 * constant.c - Constant and ConstantOfShape. Constant's output becomes a
 * constant value during shape inference (value, value_float(s) or
 * value_int(s); strings and sparse tensors are refused), so nothing runs at
 * run time. ConstantOfShape needs its shape input constant; its fill value
 * is a one-element tensor attribute (default float 0) kept as raw bytes.
 */
#include "graph/ops/tensor_common.h"

#include <string.h>

static evo_status constant_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    if (n->n_in != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected no inputs, got %d", n->n_in);
    evo_value *y = evo_node_output(g, n, 0);
    if (n->n_attrs != 1)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected exactly one value attribute, got %d",
                               n->n_attrs);
    if (!y)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected one output");
    const evo_attr *at = &n->attrs[0];
    evo_status s;
    if (strcmp(at->name, "value") == 0 && at->type == EVO_ATTR_TENSOR && at->tensor >= 0) {
        const evo_value *t = &g->values[at->tensor];
        if (t->dtype == EVO_DTYPE_STRING || evo_dtype_size(t->dtype) == 0)
            return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "value has unsupported type %s",
                                   evo_dtype_name(t->dtype));
        if (!t->data && evo_value_count(t) > 0)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "value tensor has no data");
        s = evo_value_set_const(g, y, t->dtype, t->rank, t->dims, t->data, err);
    } else if (strcmp(at->name, "value_float") == 0 && at->type == EVO_ATTR_FLOAT) {
        s = evo_value_set_const(g, y, EVO_DTYPE_FLOAT, 0, NULL, &at->f, err);
    } else if (strcmp(at->name, "value_int") == 0 && at->type == EVO_ATTR_INT) {
        s = evo_value_set_const(g, y, EVO_DTYPE_INT64, 0, NULL, &at->i, err);
    } else if (strcmp(at->name, "value_floats") == 0 && at->type == EVO_ATTR_FLOATS) {
        int64_t count = at->n;
        s = evo_value_set_const(g, y, EVO_DTYPE_FLOAT, 1, &count, at->floats, err);
    } else if (strcmp(at->name, "value_ints") == 0 && at->type == EVO_ATTR_INTS) {
        int64_t count = at->n;
        s = evo_value_set_const(g, y, EVO_DTYPE_INT64, 1, &count, at->ints, err);
    } else {
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "attribute \"%s\" is not supported (expected value, value_float(s) or value_int(s))",
                               at->name);
    }
    if (s)
        return evo_error_prefix(err, "node \"%s\" (Constant)", n->name);
    n->a.fill.dtype = y->dtype;
    n->a.fill.data = y->data;
    return EVO_OK;
}

static evo_status fill_value(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_fill_attrs *fa = &n->a.fill;
    memset(fa->value, 0, sizeof(fa->value));
    fa->dtype = EVO_DTYPE_FLOAT;
    fa->data = NULL;
    const evo_attr *at = evo_attr_find(n, "value");
    if (!at)
        return EVO_OK;
    if (at->type != EVO_ATTR_TENSOR || at->tensor < 0)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"value\" must be a tensor");
    const evo_value *t = &g->values[at->tensor];
    size_t esize = evo_dtype_size(t->dtype);
    if (t->dtype == EVO_DTYPE_STRING || esize == 0)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "value has unsupported type %s",
                               evo_dtype_name(t->dtype));
    if (evo_value_count(t) != 1 || !t->data)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "value must hold exactly one element, got %lld",
                               (long long)evo_value_count(t));
    fa->dtype = t->dtype;
    memcpy(fa->value, t->data, esize);
    return EVO_OK;
}

static evo_status constant_of_shape_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s || (s = fill_value(g, n, err)))
        return s;
    int64_t dims[EVO_MAX_RANK];
    int rank;
    if ((s = evo_const_ints(g, n, 0, dims, EVO_MAX_RANK, &rank, err)))
        return s;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "shape entry %d is negative (%lld)", d,
                                   (long long)dims[d]);
    }
    evo_node_set_output(g, n, 0, n->a.fill.dtype, rank, dims);
    return EVO_OK;
}

static evo_status constant_family_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    return n->op == EVO_OP_CONSTANT ? constant_infer(g, n, err) : constant_of_shape_infer(g, n, err);
}

const evo_op_def evo_opdef_constant = {NULL, constant_family_infer};
