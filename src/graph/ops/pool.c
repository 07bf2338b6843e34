/*
 * pool.c - MaxPool and AveragePool: attribute import and shape inference.
 * kernel_shape is required; pads, strides, dilations and auto_pad follow
 * the Conv rules (nn_ops.h), plus ceil_mode. MaxPool accepts float32, int8
 * and uint8 and may produce the optional Indices output (int64).
 */
#include "graph/ops/nn_ops.h"

#include <string.h>

void evo_pool_set_window(evo_pool_attrs *p, const evo_window *w, bool ceil_mode, bool count_include_pad)
{
    p->n_spatial = w->n_spatial;
    memcpy(p->kernel, w->kernel, sizeof(p->kernel));
    memcpy(p->stride, w->stride, sizeof(p->stride));
    memcpy(p->dilation, w->dilation, sizeof(p->dilation));
    memcpy(p->pad_begin, w->pad_begin, sizeof(p->pad_begin));
    memcpy(p->pad_end, w->pad_end, sizeof(p->pad_end));
    p->auto_pad = w->auto_pad;
    p->ceil_mode = ceil_mode;
    p->count_include_pad = count_include_pad;
}

evo_status evo_pool_resolve(evo_graph *g, evo_node *n, const int64_t *in_sp, int n_spatial, int64_t *out_sp,
                            evo_error *err)
{
    evo_pool_attrs *p = &n->a.pool;
    evo_window w = {p->n_spatial, true, {0}, {0}, {0}, {0}, {0}, p->auto_pad};
    memcpy(w.kernel, p->kernel, sizeof(w.kernel));
    memcpy(w.stride, p->stride, sizeof(w.stride));
    memcpy(w.dilation, p->dilation, sizeof(w.dilation));
    memcpy(w.pad_begin, p->pad_begin, sizeof(w.pad_begin));
    memcpy(w.pad_end, p->pad_end, sizeof(w.pad_end));
    evo_status s = evo_window_resolve(g, n, &w, n_spatial, in_sp, p->ceil_mode, out_sp, err);
    if (s)
        return s;
    memcpy(p->pad_begin, w.pad_begin, sizeof(p->pad_begin));
    memcpy(p->pad_end, w.pad_end, sizeof(p->pad_end));
    return EVO_OK;
}

static evo_status pool_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_pool_attrs *p = &n->a.pool;
    evo_window w;
    int64_t ceil_mode = 0, count_include_pad = 0, storage_order = 0;
    evo_status s = evo_window_import(g, n, &w, err);
    if (s)
        return s;
    if (!w.has_kernel)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"kernel_shape\" is required");
    if ((s = evo_attr_int(g, n, "ceil_mode", 0, &ceil_mode, err)) ||
        (s = evo_attr_int(g, n, "count_include_pad", 0, &count_include_pad, err)) ||
        (s = evo_attr_int(g, n, "storage_order", 0, &storage_order, err)))
        return s;
    if (storage_order != 0 && storage_order != 1)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"storage_order\" = %lld, expected 0 or 1",
                               (long long)storage_order);
    memset(p, 0, sizeof(*p));
    evo_pool_set_window(p, &w, ceil_mode != 0, count_include_pad != 0);
    p->storage_order = storage_order;
    return EVO_OK;
}

static evo_status pool_check_input(evo_graph *g, const evo_node *n, evo_error *err)
{
    const evo_value *x = evo_node_input(g, n, 0);
    bool is_max = n->op == EVO_OP_MAX_POOL;
    if (x->dtype != EVO_DTYPE_FLOAT &&
        !(is_max && (x->dtype == EVO_DTYPE_UINT8 || x->dtype == EVO_DTYPE_INT8)))
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input X has type %s, expected float32%s", evo_dtype_name(x->dtype),
                               is_max ? ", int8 or uint8" : "");
    if (x->rank < 3 || x->rank > 2 + EVO_MAX_SPATIAL) {
        char buf[128];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input X shape %s has rank %d, expected [N, C, spatial...] with 1..%d "
                               "spatial dims",
                               evo_dims_str(x->dims, x->rank, buf, sizeof(buf)), x->rank,
                               EVO_MAX_SPATIAL);
    }
    return EVO_OK;
}

static evo_status pool_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    bool is_max = n->op == EVO_OP_MAX_POOL;
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s || (s = pool_check_input(g, n, err)))
        return s;
    if (n->n_out > (is_max ? 2 : 1))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "expected at most %d outputs, got %d",
                               is_max ? 2 : 1, n->n_out);
    const evo_value *x = evo_node_input(g, n, 0);
    int n_spatial = x->rank - 2;
    int64_t dims[EVO_MAX_RANK];
    if ((s = evo_pool_resolve(g, n, x->dims + 2, n_spatial, dims + 2, err)))
        return s;
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    if (evo_node_output(g, n, 1))
        evo_node_set_output(g, n, 1, EVO_DTYPE_INT64, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_pool = {pool_import, pool_infer};
