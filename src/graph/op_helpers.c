/*
 * op_helpers.c - small checks shared by the shape inference of every op
 * family: arity, dtype and axis checks, numpy broadcasting, output setting.
 */
#include "graph/op.h"

void evo_node_set_output(evo_graph *g, const evo_node *n, int i, evo_dtype dtype, int rank,
                         const int64_t *dims)
{
    evo_value *v = evo_node_output(g, n, i);
    if (!v)
        return;
    v->dtype = dtype;
    v->rank = rank;
    for (int d = 0; d < EVO_MAX_RANK; d++)
        v->dims[d] = d < rank ? dims[d] : -1;
}

evo_status evo_broadcast_dims(const evo_graph *g, const evo_node *n, const int64_t *a, int rank_a,
                              const int64_t *b, int rank_b, int64_t *out, int *rank_out, evo_error *err)
{
    int rank = rank_a > rank_b ? rank_a : rank_b;
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - rank_a), ib = i - (rank - rank_b);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da == db || db == 1) {
            out[i] = da;
        } else if (da == 1) {
            out[i] = db;
        } else {
            char sa[128], sb[128];
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "shapes %s and %s cannot be broadcast (axis %d: %lld vs %lld)",
                                   evo_dims_str(a, rank_a, sa, sizeof(sa)),
                                   evo_dims_str(b, rank_b, sb, sizeof(sb)), i, (long long)da, (long long)db);
        }
    }
    *rank_out = rank;
    return EVO_OK;
}

evo_status evo_norm_axis(const evo_graph *g, const evo_node *n, int64_t axis, int rank, bool inclusive_end,
                         int64_t *out, evo_error *err)
{
    int64_t hi = inclusive_end ? rank + 1 : rank;
    int64_t a = axis < 0 ? axis + hi : axis;
    if (a < 0 || a >= hi)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "axis %lld out of range for rank %d",
                               (long long)axis, rank);
    *out = a;
    return EVO_OK;
}

evo_status evo_norm_input_axis(const evo_graph *g, const evo_node *n, const char *what, int rank,
                               int64_t *axis, evo_error *err)
{
    if (rank == 0)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "%s must have rank >= 1, got a scalar", what);
    return evo_norm_axis(g, n, *axis, rank, false, axis, err);
}

bool evo_dtype_is_float(evo_dtype t)
{
    return t == EVO_DTYPE_FLOAT || t == EVO_DTYPE_DOUBLE || t == EVO_DTYPE_FLOAT16 || t == EVO_DTYPE_BFLOAT16;
}

bool evo_dtype_is_int(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_INT8:
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_INT16:
    case EVO_DTYPE_UINT16:
    case EVO_DTYPE_INT32:
    case EVO_DTYPE_UINT32:
    case EVO_DTYPE_INT64:
    case EVO_DTYPE_UINT64: return true;
    default: return false;
    }
}

evo_status evo_check_numeric_input(const evo_graph *g, const evo_node *n, const evo_value *x, evo_error *err)
{
    switch (x->dtype) {
    case EVO_DTYPE_STRING:
    case EVO_DTYPE_BOOL:
    case EVO_DTYPE_UNDEFINED:
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input type %s is not supported, expected a numeric type",
                               evo_dtype_name(x->dtype));
    default: return EVO_OK;
    }
}

evo_status evo_check_arity(const evo_graph *g, const evo_node *n, int min_in, int max_in, int min_out,
                           evo_error *err)
{
    int present = n->n_in;
    if (present < min_in || (max_in >= 0 && present > max_in))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected %d..%d inputs, got %d", min_in, max_in,
                               present);
    for (int i = 0; i < min_in; i++) {
        if (n->in[i] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "required input %d is empty", i);
    }
    if (n->n_out < min_out)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected at least %d outputs, got %d", min_out,
                               n->n_out);
    return EVO_OK;
}
