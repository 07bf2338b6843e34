/*
 * unary.c - elementwise unary ops: activations, math functions, Not, Cast.
 * The output has the input's shape; its type is the input's, except Cast
 * (the `to` type). Clip takes min/max as attributes before opset 11 and as
 * optional scalar inputs from opset 11 on; constant bounds are resolved
 * into the attributes here, run-time bounds are read by the kernel.
 */
#include "graph/op.h"

#include <float.h>
#include <math.h>

/* Types Cast converts between: every numeric type and bool (not string). */
static bool is_castable(evo_dtype t)
{
    return evo_dtype_is_float(t) || evo_dtype_is_int(t) || t == EVO_DTYPE_BOOL;
}

static evo_status unary_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_unary_attrs *at = &n->a.unary;
    at->alpha = at->beta = 0;
    at->min = -INFINITY;
    at->max = INFINITY;
    at->to = EVO_DTYPE_UNDEFINED;
    evo_status s = EVO_OK;
    switch (n->op) {
    case EVO_OP_LEAKY_RELU: s = evo_attr_float(g, n, "alpha", 0.01f, &at->alpha, err); break;
    case EVO_OP_ELU: s = evo_attr_float(g, n, "alpha", 1.0f, &at->alpha, err); break;
    case EVO_OP_HARD_SIGMOID:
        if (!(s = evo_attr_float(g, n, "alpha", 0.2f, &at->alpha, err)))
            s = evo_attr_float(g, n, "beta", 0.5f, &at->beta, err);
        break;
    case EVO_OP_CLIP:
        if (g->opset < 11 && !(s = evo_attr_float(g, n, "min", -FLT_MAX, &at->min, err)))
            s = evo_attr_float(g, n, "max", FLT_MAX, &at->max, err);
        break;
    case EVO_OP_CAST: {
        if (!evo_attr_find(n, "to"))
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "missing required attribute \"to\"");
        int64_t to;
        if ((s = evo_attr_int(g, n, "to", 0, &to, err)))
            return s;
        if (to < 0 || to > 64 || !is_castable((evo_dtype)to))
            return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                                   "attribute \"to\" = %lld (%s): casting to this type is not supported",
                                   (long long)to, evo_dtype_name((evo_dtype)to));
        at->to = (evo_dtype)to;
        break;
    }
    default: break;
    }
    return s;
}

/* Checks x's type for op; returns a message naming the expected types. */
static evo_status check_type(evo_graph *g, const evo_node *n, evo_dtype t, evo_error *err)
{
    const char *expected = NULL;
    switch (n->op) {
    case EVO_OP_CAST:
        if (!is_castable(t))
            expected = "a numeric type or bool";
        break;
    case EVO_OP_NOT:
        if (t != EVO_DTYPE_BOOL)
            expected = "bool";
        break;
    case EVO_OP_RELU:
    case EVO_OP_NEG:
    case EVO_OP_ABS:
    case EVO_OP_CLIP:
        if (!evo_dtype_is_float(t) && !evo_dtype_is_int(t))
            expected = "a float or integer type";
        break;
    default:
        if (!evo_dtype_is_float(t))
            expected = "float32, float64, float16 or bfloat16";
        break;
    }
    if (expected)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input type %s is not supported, expected %s",
                               evo_dtype_name(t), expected);
    return EVO_OK;
}

/* Clip bound input k (1 = min, 2 = max): a scalar of x's type; resolved when constant. */
static evo_status clip_bound(evo_graph *g, evo_node *n, int k, evo_dtype t, float *out,
                             evo_error *err)
{
    const evo_value *v = evo_node_input(g, n, k);
    if (!v)
        return EVO_OK;
    if (v->dtype != t)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (%s) has type %s, expected %s like the input",
                               k, k == 1 ? "min" : "max", evo_dtype_name(v->dtype), evo_dtype_name(t));
    if (evo_value_count(v) != 1 || v->rank > 1)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (%s) must be a scalar, got rank %d with %lld elements",
                               k, k == 1 ? "min" : "max", v->rank, (long long)evo_value_count(v));
    if (!v->data)
        return EVO_OK; /* read by the kernel at run time */
    double d;
    evo_status s = evo_const_scalar(g, n, k, &d, err);
    if (!s)
        *out = (float)d;
    return s;
}

static evo_status unary_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    int max_in = n->op == EVO_OP_CLIP ? 3 : 1;
    evo_status s = evo_check_arity(g, n, 1, max_in, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = check_type(g, n, x->dtype, err)))
        return s;
    if (n->op == EVO_OP_CLIP) {
        if ((s = clip_bound(g, n, 1, x->dtype, &n->a.unary.min, err)) ||
            (s = clip_bound(g, n, 2, x->dtype, &n->a.unary.max, err)))
            return s;
    }
    evo_dtype out = n->op == EVO_OP_CAST ? n->a.unary.to : x->dtype;
    evo_node_set_output(g, n, 0, out, x->rank, x->dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_unary = {unary_import, unary_infer};
