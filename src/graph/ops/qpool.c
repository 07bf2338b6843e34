/*
 * qpool.c - com.microsoft QLinearGlobalAveragePool and QLinearAveragePool:
 * average pooling of a quantized tensor. Inputs: X, x_scale, x_zero_point,
 * y_scale, y_zero_point (zero points optional). channels_last = 1 lays X
 * and Y out as [N, spatial..., C]. QLinearAveragePool takes AveragePool's
 * kernel_shape, strides, pads, auto_pad, ceil_mode and count_include_pad
 * (no dilations); the global op pools each channel's whole image.
 */
#include "graph/ops/nn_ops.h"
#include "graph/ops/qparams.h"

#include <string.h>

static evo_status qpool_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_pool_attrs *p = &n->a.pool;
    int64_t channels_last = 0, ceil_mode = 0, count_include_pad = 0;
    evo_status s = evo_attr_int(g, n, "channels_last", 0, &channels_last, err);
    if (s)
        return s;
    if (channels_last != 0 && channels_last != 1)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"channels_last\" = %lld, expected 0 or 1",
                               (long long)channels_last);
    memset(p, 0, sizeof(*p));
    p->channels_last = channels_last != 0;
    if (n->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL)
        return EVO_OK;
    evo_window w;
    if ((s = evo_window_import(g, n, &w, err)))
        return s;
    if (!w.has_kernel)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"kernel_shape\" is required");
    if (evo_attr_find(n, "dilations"))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"dilations\" is not defined for this op");
    if ((s = evo_attr_int(g, n, "ceil_mode", 0, &ceil_mode, err)) ||
        (s = evo_attr_int(g, n, "count_include_pad", 0, &count_include_pad, err)))
        return s;
    evo_pool_set_window(p, &w, ceil_mode != 0, count_include_pad != 0);
    return EVO_OK;
}

static evo_status qpool_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_pool_attrs *p = &n->a.pool;
    evo_status s = evo_q_check_arity(g, n, 4, 5, err);
    if (s || (s = evo_q_check_data(g, n, 0, "X", err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if ((s = evo_q_check_params(g, n, 1, 2, x->dtype, "x", err)) ||
        (s = evo_q_check_params(g, n, 3, 4, x->dtype, "y", err)))
        return s;
    if (x->rank < 3 || x->rank > 2 + EVO_MAX_SPATIAL) {
        char buf[128];
        return evo_node_errorf(
            err, g, n, EVO_ERR_SHAPE,
            "input X shape %s has rank %d, expected [N, C, spatial...] with 1..%d spatial dims",
            evo_dims_str(x->dims, x->rank, buf, sizeof(buf)), x->rank, EVO_MAX_SPATIAL);
    }
    int n_spatial = x->rank - 2, c_axis = p->channels_last ? x->rank - 1 : 1, sp0 = p->channels_last ? 1 : 2;
    int64_t dims[EVO_MAX_RANK];
    dims[0] = x->dims[0];
    dims[c_axis] = x->dims[c_axis];
    if (n->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL) {
        p->n_spatial = n_spatial;
        for (int i = 0; i < EVO_MAX_SPATIAL; i++) {
            p->kernel[i] = i < n_spatial ? x->dims[sp0 + i] : 1;
            p->stride[i] = p->dilation[i] = 1;
        }
        for (int i = 0; i < n_spatial; i++)
            dims[sp0 + i] = 1;
    } else if ((s = evo_pool_resolve(g, n, x->dims + sp0, n_spatial, dims + sp0, err))) {
        return s;
    }
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_qpool = {qpool_import, qpool_infer};
