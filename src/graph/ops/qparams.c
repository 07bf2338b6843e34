/*
 * qparams.c - the input checks of the com.microsoft quantized ops (see
 * qparams.h).
 */
#include "graph/ops/qparams.h"

#include <math.h>

evo_status evo_q_check_arity(const evo_graph *g, const evo_node *n, int min_in, int max_in, evo_error *err)
{
    if (n->n_in < min_in || n->n_in > max_in)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected %d..%d inputs, got %d", min_in, max_in,
                               n->n_in);
    if (n->n_out < 1 || n->out[0] < 0)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "output 0 (Y) is missing");
    return EVO_OK;
}

evo_status evo_q_check_data(evo_graph *g, const evo_node *n, int i, const char *what, evo_error *err)
{
    const evo_value *x = evo_node_input(g, n, i);
    if (!x)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (%s) is missing", i, what);
    if (x->dtype != EVO_DTYPE_UINT8 && x->dtype != EVO_DTYPE_INT8)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d (%s) \"%s\" has type %s, expected uint8 or int8", i, what, x->name,
                               evo_dtype_name(x->dtype));
    if (x->rank < 0)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (%s) \"%s\" has an unknown shape", i, what,
                               x->name);
    return EVO_OK;
}

static bool is_scalar_like(const evo_value *v)
{
    return v->rank == 0 || (v->rank == 1 && v->dims[0] == 1);
}

evo_status evo_q_check_params(evo_graph *g, const evo_node *n, int i_scale, int i_zp, evo_dtype t,
                              const char *what, evo_error *err)
{
    char buf[64];
    const evo_value *scale = evo_node_input(g, n, i_scale);
    if (!scale)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (%s_scale) is missing", i_scale, what);
    if (scale->dtype != EVO_DTYPE_FLOAT || !is_scalar_like(scale))
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d (%s_scale) \"%s\" is %s %s, expected a float32 scalar", i_scale,
                               what, scale->name, evo_dtype_name(scale->dtype),
                               evo_dims_str(scale->dims, scale->rank, buf, sizeof(buf)));
    if (scale->data) {
        float s = *(const float *)scale->data;
        if (!(s > 0.0f) || !isfinite(s))
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (%s_scale) \"%s\" is %g, expected > 0",
                                   i_scale, what, scale->name, (double)s);
    }
    const evo_value *zp = evo_node_input(g, n, i_zp);
    if (zp && (zp->dtype != t || !is_scalar_like(zp)))
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d (%s_zero_point) \"%s\" is %s %s, expected a %s scalar", i_zp, what,
                               zp->name, evo_dtype_name(zp->dtype),
                               evo_dims_str(zp->dims, zp->rank, buf, sizeof(buf)), evo_dtype_name(t));
    return EVO_OK;
}
