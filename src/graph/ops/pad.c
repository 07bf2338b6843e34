/*
 * pad.c - Pad: pads from the attribute (opset < 11) or a constant input
 * (opset >= 11, with an optional constant_value input and, from opset 18,
 * an optional axes input); modes constant, reflect, edge and wrap (opset
 * 19). Pads may be negative: those crop first, then the rest pads, as the
 * ONNX reference does.
 */
#include "graph/ops/tensor_common.h"

#include <string.h>

static evo_status pad_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_pad_attrs *pa = &n->a.pad;
    const char *mode;
    evo_status s = evo_attr_string(g, n, "mode", "constant", &mode, err);
    if (s)
        return s;
    if (strcmp(mode, "constant") == 0)
        pa->mode = EVO_PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        pa->mode = EVO_PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        pa->mode = EVO_PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0)
        pa->mode = EVO_PAD_WRAP;
    else
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "mode \"%s\" is not supported (constant, reflect, edge, wrap)", mode);
    return EVO_OK;
}

/* Reads pads (2 * count values) and the axes they apply to. */
static evo_status pad_read(evo_graph *g, const evo_node *n, int rank, int64_t *pads, int *n_pads,
                           int64_t *axes, int *n_axes, evo_error *err)
{
    evo_status s;
    *n_axes = 0;
    if (g->opset < 11) {
        if (!evo_attr_find(n, "pads"))
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"pads\" is required");
        s = evo_attr_ints(g, n, "pads", pads, 2 * EVO_MAX_RANK, n_pads, err);
    } else {
        s = evo_const_ints(g, n, 1, pads, 2 * EVO_MAX_RANK, n_pads, err);
        if (!s && evo_node_input(g, n, 3))
            s = evo_const_ints(g, n, 3, axes, EVO_MAX_RANK, n_axes, err);
    }
    if (s)
        return s;
    if (*n_axes == 0) {
        *n_axes = rank;
        for (int d = 0; d < rank; d++)
            axes[d] = d;
    }
    if (*n_pads != 2 * *n_axes)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "pads has %d values, expected %d (2 per axis)",
                               *n_pads, 2 * *n_axes);
    return EVO_OK;
}

static evo_status pad_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_pad_attrs *pa = &n->a.pad;
    evo_status s = evo_check_arity(g, n, 1, g->opset < 11 ? 1 : 4, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    int64_t pads[2 * EVO_MAX_RANK], axes[EVO_MAX_RANK], dims[EVO_MAX_RANK];
    int n_pads, n_axes;
    if ((s = pad_read(g, n, x->rank, pads, &n_pads, axes, &n_axes, err)))
        return s;
    for (int d = 0; d < x->rank; d++)
        pa->pad_begin[d] = pa->pad_end[d] = 0;
    for (int i = 0; i < n_axes; i++) {
        int64_t axis;
        if ((s = evo_norm_axis(g, n, axes[i], x->rank, false, &axis, err)))
            return s;
        pa->pad_begin[axis] = pads[i];
        pa->pad_end[axis] = pads[i + n_axes];
    }
    for (int d = 0; d < x->rank; d++) {
        int64_t b = pa->pad_begin[d], e = pa->pad_end[d];
        dims[d] = x->dims[d] + b + e;
        int64_t kept = x->dims[d] + EVO_MIN(b, 0) + EVO_MIN(e, 0);
        if (dims[d] < 0 || kept < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "pads %lld, %lld on axis %d of size %lld leave a negative size",
                                   (long long)b, (long long)e, d, (long long)x->dims[d]);
        if (pa->mode != EVO_PAD_CONSTANT && kept == 0 && dims[d] > 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "mode %s cannot pad axis %d, which is empty",
                                   pa->mode == EVO_PAD_EDGE ? "edge" : pa->mode == EVO_PAD_WRAP ? "wrap" : "reflect", d);
    }
    pa->value = 0;
    if (g->opset < 11) {
        float v;
        if ((s = evo_attr_float(g, n, "value", 0.0f, &v, err)))
            return s;
        pa->value = v;
    } else if (evo_node_input(g, n, 2)) {
        if (evo_value_count(evo_node_input(g, n, 2)) > 0 && (s = evo_const_scalar(g, n, 2, &pa->value, err)))
            return s;
    }
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_pad = {pad_import, pad_infer};
