/*
 * qconv.c - QLinearConv and ConvInteger: Conv's attributes and shape rules
 * (conv.c) over uint8/int8 tensors, plus the checks of every scale, zero
 * point and bias against the data they describe.
 *
 * QLinearConv inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point,
 * y_scale, y_zero_point, B. Zero points must have their data's dtype; w's
 * scale and zero point are per-tensor or per output channel [M]; B is int32
 * [M]. The output dtype is y_zero_point's (uint8 when absent). Imported
 * nodes requantize in EVO_REQUANT_FLOAT; passes may set FIXED and a fused
 * activation (docs/int8.md).
 * ConvInteger inputs: x, w, x_zero_point, w_zero_point; output int32.
 */
#include "graph/ops/nn_ops.h"
#include "graph/ops/quant_ops.h"

#include <math.h>
#include <string.h>

static evo_status qconv_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_conv_import(g, n, err);
    if (s)
        return s;
    n->a.conv.requant = EVO_REQUANT_FLOAT;
    return EVO_OK;
}

/* Checks the fused activation fields a pass may have set. */
static evo_status qconv_check_act(const evo_graph *g, const evo_node *n, evo_error *err)
{
    const evo_conv_attrs *c = &n->a.conv;
    if (c->requant != EVO_REQUANT_FLOAT && c->requant != EVO_REQUANT_FIXED)
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "requant mode %d is not FLOAT or FIXED", (int)c->requant);
    if (c->has_residual || c->out_groups)
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "a fused residual or out_groups is not supported");
    bool table = c->act != EVO_ACT_NONE && c->act != EVO_ACT_RELU && c->act != EVO_ACT_CLIP;
    if (table && !(c->act_scale > 0.0f && isfinite(c->act_scale)))
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL,
                               "fused table activation %d needs a positive act_scale (got %g)", (int)c->act,
                               (double)c->act_scale);
    return EVO_OK;
}

static evo_status qlinear_conv_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 8, 9, 1, err);
    if (s || (s = evo_quant_check_data(g, n, 0, "x", 3, 2 + EVO_MAX_SPATIAL, err)) ||
        (s = evo_quant_check_data(g, n, 3, "w", 3, 2 + EVO_MAX_SPATIAL, err)) || (s = qconv_check_act(g, n, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0), *wv = evo_node_input(g, n, 3);
    const evo_value *yzp = evo_node_input(g, n, 7);
    int64_t dims[EVO_MAX_RANK], m = wv->dims[0], count;
    const char *chan = "output channels M";
    if ((s = evo_conv_geometry(g, n, x, wv, -1, dims, err)) ||
        (s = evo_quant_check_param(g, n, 1, "x_scale", EVO_DTYPE_FLOAT, 0, NULL, &count, err)) ||
        (s = evo_quant_check_param(g, n, 2, "x_zero_point", x->dtype, 0, NULL, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 4, "w_scale", EVO_DTYPE_FLOAT, m, chan, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 5, "w_zero_point", wv->dtype, m, chan, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 6, "y_scale", EVO_DTYPE_FLOAT, 0, NULL, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 7, "y_zero_point", EVO_DTYPE_UNDEFINED, 0, NULL, NULL, err)))
        return s;
    if (!evo_node_input(g, n, 1) || !evo_node_input(g, n, 4) || !evo_node_input(g, n, 6))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "inputs x_scale, w_scale and y_scale are required");
    const evo_value *b = evo_node_input(g, n, 8);
    if (b && (b->dtype != EVO_DTYPE_INT32 || b->rank != 1 || b->dims[0] != m)) {
        char sb[128];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input 8 (B) is %s %s, expected int32 [%lld]",
                               evo_dtype_name(b->dtype), evo_dims_str(b->dims, b->rank, sb, sizeof(sb)),
                               (long long)m);
    }
    int64_t total;
    if (!evo_dims_count(dims, x->rank, EVO_MAX_ELEMENTS, &total))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output has too many elements");
    evo_node_set_output(g, n, 0, yzp ? yzp->dtype : EVO_DTYPE_UINT8, x->rank, dims);
    return EVO_OK;
}

static evo_status conv_integer_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 2, 4, 1, err);
    if (s || (s = evo_quant_check_data(g, n, 0, "x", 3, 2 + EVO_MAX_SPATIAL, err)) ||
        (s = evo_quant_check_data(g, n, 1, "w", 3, 2 + EVO_MAX_SPATIAL, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0), *wv = evo_node_input(g, n, 1);
    int64_t dims[EVO_MAX_RANK], total;
    if (n->a.conv.act != EVO_ACT_NONE || n->a.conv.has_residual || n->a.conv.out_groups)
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "ConvInteger takes no fused activation or residual");
    if ((s = evo_conv_geometry(g, n, x, wv, -1, dims, err)) ||
        (s = evo_quant_check_param(g, n, 2, "x_zero_point", x->dtype, 0, NULL, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 3, "w_zero_point", wv->dtype, wv->dims[0], "output channels M", NULL,
                                   err)))
        return s;
    if (!evo_dims_count(dims, x->rank, EVO_MAX_ELEMENTS, &total))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output has too many elements");
    evo_node_set_output(g, n, 0, EVO_DTYPE_INT32, x->rank, dims);
    return EVO_OK;
}

static evo_status qconv_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    return n->op == EVO_OP_QLINEAR_CONV ? qlinear_conv_infer(g, n, err) : conv_integer_infer(g, n, err);
}

const evo_op_def evo_opdef_qconv = {qconv_import, qconv_infer};
