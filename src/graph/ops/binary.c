/*
 * binary.c - elementwise ops with numpy broadcasting: arithmetic, variadic
 * Min/Max/Sum/Mean, comparisons (bool output), logic, Mod, Pow, PRelu and
 * Where. Operands must share one type, except Pow (any numeric exponent;
 * the output has the base's type) and Where (a bool condition). PRelu's
 * slope broadcasts to x only (unidirectionally); a 1-D slope [C] that does
 * not broadcast is applied per channel along axis 1, as in opsets < 7.
 */
#include "graph/op.h"

static bool is_numeric(evo_dtype t)
{
    return evo_dtype_is_int(t) || evo_dtype_is_float(t);
}

static evo_status binary_import(evo_graph *g, evo_node *n, evo_error *err)
{
    n->a.binary.fmod = false;
    n->a.binary.prelu_channel = false;
    if (n->op == EVO_OP_MOD) {
        int64_t v;
        evo_status s = evo_attr_int(g, n, "fmod", 0, &v, err);
        if (s)
            return s;
        if (v != 0 && v != 1)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"fmod\" must be 0 or 1, got %lld",
                                   (long long)v);
        n->a.binary.fmod = v == 1;
    }
    return EVO_OK;
}

static void arity(evo_op op, int *min_in, int *max_in)
{
    switch (op) {
    case EVO_OP_MIN:
    case EVO_OP_MAX:
    case EVO_OP_SUM:
    case EVO_OP_MEAN: *min_in = 1, *max_in = -1; break;
    case EVO_OP_WHERE: *min_in = *max_in = 3; break;
    default: *min_in = *max_in = 2; break;
    }
}

/* Checks operand types; writes the output type. */
static evo_status check_types(evo_graph *g, const evo_node *n, evo_dtype *out, evo_error *err)
{
    int first = n->op == EVO_OP_WHERE ? 1 : 0;
    evo_dtype t = evo_node_input(g, n, first)->dtype;
    for (int i = first + 1; i < n->n_in && n->op != EVO_OP_POW; i++) {
        const evo_value *v = evo_node_input(g, n, i);
        if (v->dtype != t)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d has type %s, expected %s like input %d",
                                   i, evo_dtype_name(v->dtype), evo_dtype_name(t), first);
    }
    const char *expected = NULL;
    *out = t;
    switch (n->op) {
    case EVO_OP_WHERE:
        if (evo_node_input(g, n, 0)->dtype != EVO_DTYPE_BOOL)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "condition has type %s, expected bool",
                                   evo_dtype_name(evo_node_input(g, n, 0)->dtype));
        if (!is_numeric(t) && t != EVO_DTYPE_BOOL)
            expected = "a numeric type or bool";
        break;
    case EVO_OP_AND:
    case EVO_OP_OR:
    case EVO_OP_XOR:
        if (t != EVO_DTYPE_BOOL)
            expected = "bool";
        *out = EVO_DTYPE_BOOL;
        break;
    case EVO_OP_EQUAL:
        if (!is_numeric(t) && t != EVO_DTYPE_BOOL)
            expected = "a numeric type or bool";
        *out = EVO_DTYPE_BOOL;
        break;
    case EVO_OP_LESS:
    case EVO_OP_GREATER:
    case EVO_OP_LESS_OR_EQUAL:
    case EVO_OP_GREATER_OR_EQUAL:
        if (!is_numeric(t))
            expected = "a numeric type";
        *out = EVO_DTYPE_BOOL;
        break;
    case EVO_OP_POW: {
        evo_dtype te = evo_node_input(g, n, 1)->dtype;
        if (!is_numeric(t) || !is_numeric(te))
            return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                                   "types %s ^ %s are not supported, expected numeric types",
                                   evo_dtype_name(t), evo_dtype_name(te));
        break;
    }
    case EVO_OP_MOD:
        if (!is_numeric(t))
            expected = "a numeric type";
        else if (evo_dtype_is_float(t) && !n->a.binary.fmod)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                   "attribute \"fmod\" must be 1 for %s inputs", evo_dtype_name(t));
        break;
    default:
        if (!is_numeric(t))
            expected = "a numeric type";
        break;
    }
    if (expected)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input type %s is not supported, expected %s",
                               evo_dtype_name(t), expected);
    return EVO_OK;
}

/* PRelu: slope must broadcast to x's shape (or be a legacy per-channel [C]). */
static evo_status prelu_shape(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_value *x = evo_node_input(g, n, 0), *slope = evo_node_input(g, n, 1);
    bool ok = slope->rank <= x->rank;
    for (int d = 0; d < slope->rank && ok; d++) {
        int64_t sd = slope->dims[slope->rank - 1 - d], xd = x->dims[x->rank - 1 - d];
        ok = sd == 1 || sd == xd;
    }
    if (ok)
        return EVO_OK;
    if (slope->rank == 1 && x->rank >= 2 && slope->dims[0] == x->dims[1]) {
        n->a.binary.prelu_channel = true;
        return EVO_OK;
    }
    char sx[128], ss[128];
    return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "slope shape %s does not broadcast to input shape %s",
                           evo_dims_str(slope->dims, slope->rank, ss, sizeof(ss)),
                           evo_dims_str(x->dims, x->rank, sx, sizeof(sx)));
}

static evo_status binary_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    int min_in, max_in;
    arity(n->op, &min_in, &max_in);
    evo_status s = evo_check_arity(g, n, min_in, max_in, 1, err);
    if (s)
        return s;
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d is empty", i);
    }
    evo_dtype out_type = EVO_DTYPE_UNDEFINED;
    if ((s = check_types(g, n, &out_type, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (n->op == EVO_OP_PRELU) {
        if ((s = prelu_shape(g, n, err)))
            return s;
        evo_node_set_output(g, n, 0, out_type, x->rank, x->dims);
        return EVO_OK;
    }
    int64_t dims[EVO_MAX_RANK];
    int rank = x->rank;
    for (int d = 0; d < rank; d++)
        dims[d] = x->dims[d];
    for (int i = 1; i < n->n_in; i++) {
        const evo_value *v = evo_node_input(g, n, i);
        int64_t next[EVO_MAX_RANK];
        int next_rank;
        if ((s = evo_broadcast_dims(g, n, dims, rank, v->dims, v->rank, next, &next_rank, err)))
            return s;
        rank = next_rank;
        for (int d = 0; d < rank; d++)
            dims[d] = next[d];
    }
    evo_node_set_output(g, n, 0, out_type, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_binary = {binary_import, binary_infer};
