/*
 * range.c - Range(start, limit, delta): count = max(ceil((limit - start) /
 * delta), 0). The inputs must be constant scalars of one type (float,
 * double, int16, int32, int64) since the count is the output shape; integer
 * counts are computed exactly, floating ones in double as numpy does.
 */
#include "graph/ops/tensor_common.h"

#include <math.h>

/* Element 0 of a constant int16/int32/int64 input (checked by range_infer). */
static int64_t int_at(evo_graph *g, const evo_node *n, int i)
{
    const evo_value *v = evo_node_input(g, n, i);
    switch (v->dtype) {
    case EVO_DTYPE_INT16: return *(const int16_t *)v->data;
    case EVO_DTYPE_INT32: return *(const int32_t *)v->data;
    default: return *(const int64_t *)v->data;
    }
}

static evo_status int_count(evo_graph *g, const evo_node *n, int64_t *count, evo_error *err)
{
    int64_t start = int_at(g, n, 0), limit = int_at(g, n, 1), delta = int_at(g, n, 2), span;
    if (delta == 0)
        return evo_node_errorf(err, g, n, EVO_ERR_INVALID_ARG, "delta is 0");
    if (delta > 0 ? limit <= start : limit >= start) {
        *count = 0;
        return EVO_OK;
    }
    if (__builtin_sub_overflow(limit, start, &span))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "range is too long");
    // span and delta have the same sign here; ceil division without overflow.
    *count = delta > 0 ? (span - 1) / delta + 1 : (span + 1) / delta + 1;
    return EVO_OK;
}

static evo_status float_count(evo_graph *g, const evo_node *n, int64_t *count, evo_error *err)
{
    double start, limit, delta;
    evo_status s;
    if ((s = evo_const_scalar(g, n, 0, &start, err)) || (s = evo_const_scalar(g, n, 1, &limit, err)) ||
        (s = evo_const_scalar(g, n, 2, &delta, err)))
        return s;
    if (delta == 0 || !isfinite(delta) || !isfinite(start) || !isfinite(limit))
        return evo_node_errorf(err, g, n, EVO_ERR_INVALID_ARG, "start, limit and delta must be finite, delta non-zero");
    double c = ceil((limit - start) / delta);
    if (c > (double)EVO_MAX_ELEMENTS)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "range of %g elements is too long", c);
    *count = c > 0 ? (int64_t)c : 0;
    return EVO_OK;
}

static evo_status range_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 3, 3, 1, err);
    if (s)
        return s;
    evo_dtype t = evo_node_input(g, n, 0)->dtype;
    for (int i = 0; i < 3; i++) {
        const evo_value *v = evo_node_input(g, n, i);
        if (v->dtype != t)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d has type %s, expected %s", i,
                                   evo_dtype_name(v->dtype), evo_dtype_name(t));
        if (evo_value_count(v) != 1 || v->rank > 1)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (\"%s\") must be a scalar", i, v->name);
        if (!v->data)
            return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                                   "input %d (\"%s\") must be a constant (the output length is its shape)",
                                   i, v->name);
    }
    int64_t count;
    switch (t) {
    case EVO_DTYPE_INT16:
    case EVO_DTYPE_INT32:
    case EVO_DTYPE_INT64: s = int_count(g, n, &count, err); break;
    case EVO_DTYPE_FLOAT:
    case EVO_DTYPE_DOUBLE: s = float_count(g, n, &count, err); break;
    default:
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "type %s is not supported (float, double, int16, int32, int64)",
                               evo_dtype_name(t));
    }
    if (s)
        return s;
    if (count > EVO_MAX_ELEMENTS)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "range of %lld elements is too long", (long long)count);
    evo_node_set_output(g, n, 0, t, 1, &count);
    return EVO_OK;
}

const evo_op_def evo_opdef_range = {NULL, range_infer};
