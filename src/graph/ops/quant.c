/*
 * quant.c - QuantizeLinear, DequantizeLinear (opsets 10-21) and
 * DynamicQuantizeLinear: attribute import and shape inference, plus the
 * scale/zero-point checks the other quantized families share.
 *
 * Supported: float32 scales; uint8/int8 data and zero points (int32 data
 * for DequantizeLinear); per-tensor or per-axis (axis, opset >= 13). A
 * missing zero point means 0 of uint8, unless output_dtype (opset 21) says
 * int8. Blocked quantization (block_size > 0) and float8/int4/16-bit types
 * are refused with the node and attribute named.
 */
#include "graph/ops/quant_ops.h"

#include <string.h>

static bool is_byte(evo_dtype t)
{
    return t == EVO_DTYPE_UINT8 || t == EVO_DTYPE_INT8;
}

evo_status evo_quant_check_param(const evo_graph *g, const evo_node *n, int i, const char *name, evo_dtype want,
                                 int64_t per_len, const char *per_what, int64_t *count_out, evo_error *err)
{
    const evo_value *v = i < n->n_in && n->in[i] >= 0 ? &g->values[n->in[i]] : NULL;
    if (count_out)
        *count_out = 0;
    if (!v)
        return EVO_OK;
    bool dtype_ok = want == EVO_DTYPE_UNDEFINED ? is_byte(v->dtype) : v->dtype == want;
    if (!dtype_ok)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input %d (%s) has type %s, expected %s", i, name,
                               evo_dtype_name(v->dtype),
                               want == EVO_DTYPE_UNDEFINED ? "uint8 or int8" : evo_dtype_name(want));
    int64_t count = evo_value_count(v);
    char buf[128];
    if (v->rank > 1 || count < 1 || (count > 1 && (per_len <= 0 || count != per_len))) {
        if (per_len > 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "input %d (%s) shape %s, expected a scalar or [%lld] (the %s)", i, name,
                                   evo_dims_str(v->dims, v->rank, buf, sizeof(buf)), (long long)per_len,
                                   per_what);
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (%s) shape %s, expected a scalar", i, name,
                               evo_dims_str(v->dims, v->rank, buf, sizeof(buf)));
    }
    if (count_out)
        *count_out = count;
    return EVO_OK;
}

evo_status evo_quant_check_data(const evo_graph *g, const evo_node *n, int i, const char *name, int rank_min,
                                int rank_max, evo_error *err)
{
    const evo_value *v = i < n->n_in && n->in[i] >= 0 ? &g->values[n->in[i]] : NULL;
    if (!v)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (%s) is missing", i, name);
    if (!is_byte(v->dtype))
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input %d (%s) has type %s, expected uint8 or int8",
                               i, name, evo_dtype_name(v->dtype));
    if (v->rank < rank_min || v->rank > rank_max) {
        char buf[128];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (%s) shape %s has rank %d, expected %d..%d", i,
                               name, evo_dims_str(v->dims, v->rank, buf, sizeof(buf)), v->rank, rank_min,
                               rank_max);
    }
    return EVO_OK;
}

static evo_status quant_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_quant_attrs *q = &n->a.quant;
    memset(q, 0, sizeof(*q));
    if (n->op == EVO_OP_DYNAMIC_QUANTIZE_LINEAR) {
        q->output_dtype = EVO_DTYPE_UINT8;
        return EVO_OK;
    }
    int64_t block_size, out_dtype;
    evo_status s;
    if ((s = evo_attr_int(g, n, "axis", 1, &q->axis, err)) ||
        (s = evo_attr_int(g, n, "block_size", 0, &block_size, err)) ||
        (s = evo_attr_int(g, n, "output_dtype", 0, &out_dtype, err)))
        return s;
    if (block_size != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "attribute \"block_size\" = %lld: blocked quantization is not supported "
                               "(only per-tensor and per-axis)",
                               (long long)block_size);
    if (out_dtype != 0 && out_dtype != EVO_DTYPE_UINT8 && out_dtype != EVO_DTYPE_INT8)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "attribute \"output_dtype\" = %lld: only uint8 (2) and int8 (3) are supported "
                               "(float8, int4 and 16-bit types are not)",
                               (long long)out_dtype);
    q->output_dtype = (evo_dtype)out_dtype;
    return EVO_OK;
}

/* The per-axis length for a scale of scale_count elements, after normalising axis. */
static evo_status resolve_axis(evo_graph *g, evo_node *n, const evo_value *x, int64_t *per_len, evo_error *err)
{
    evo_quant_attrs *q = &n->a.quant;
    const evo_value *scale = evo_node_input(g, n, 1);
    *per_len = 0;
    if (evo_value_count(scale) <= 1 && scale->rank <= 1)
        return EVO_OK;
    if (g->opset > 0 && g->opset < 13)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input 1 (scale) has %lld elements: per-axis quantization needs opset 13 (model "
                               "has %lld)",
                               (long long)evo_value_count(scale), (long long)g->opset);
    evo_status s = evo_norm_input_axis(g, n, "x", x->rank, &q->axis, err);
    if (s)
        return s;
    *per_len = x->dims[q->axis];
    return EVO_OK;
}

static evo_status quantize_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_quant_attrs *q = &n->a.quant;
    evo_status s = evo_check_arity(g, n, 2, 3, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0), *zp = evo_node_input(g, n, 2);
    if (!x || !evo_node_input(g, n, 1))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "inputs x and y_scale are required");
    if (x->dtype != EVO_DTYPE_FLOAT)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input 0 (x) has type %s, only float32 is supported",
                               evo_dtype_name(x->dtype));
    int64_t per_len;
    if ((s = resolve_axis(g, n, x, &per_len, err)) ||
        (s = evo_quant_check_param(g, n, 1, "y_scale", EVO_DTYPE_FLOAT, per_len, "size of x along axis", NULL,
                                   err)) ||
        (s = evo_quant_check_param(g, n, 2, "y_zero_point", EVO_DTYPE_UNDEFINED, per_len,
                                   "size of x along axis", NULL, err)))
        return s;
    evo_dtype out = zp ? zp->dtype : q->output_dtype ? q->output_dtype : EVO_DTYPE_UINT8;
    if (zp && q->output_dtype && q->output_dtype != zp->dtype)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "attribute \"output_dtype\" says %s but y_zero_point has type %s",
                               evo_dtype_name(q->output_dtype), evo_dtype_name(zp->dtype));
    q->output_dtype = out;
    evo_node_set_output(g, n, 0, out, x->rank, x->dims);
    return EVO_OK;
}

static evo_status dequantize_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 2, 3, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (!x || !evo_node_input(g, n, 1))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "inputs x and x_scale are required");
    if (!is_byte(x->dtype) && x->dtype != EVO_DTYPE_INT32)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input 0 (x) has type %s, expected uint8, int8 or int32 (float8, int4 and "
                               "16-bit types are not supported)",
                               evo_dtype_name(x->dtype));
    int64_t per_len;
    if ((s = resolve_axis(g, n, x, &per_len, err)) ||
        (s = evo_quant_check_param(g, n, 1, "x_scale", EVO_DTYPE_FLOAT, per_len, "size of x along axis", NULL,
                                   err)) ||
        (s = evo_quant_check_param(g, n, 2, "x_zero_point", x->dtype, per_len, "size of x along axis", NULL,
                                   err)))
        return s;
    n->a.quant.output_dtype = EVO_DTYPE_FLOAT;
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, x->rank, x->dims);
    return EVO_OK;
}

static evo_status dynamic_quantize_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (!x || x->dtype != EVO_DTYPE_FLOAT)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input 0 (x) has type %s, expected float32",
                               x ? evo_dtype_name(x->dtype) : "(missing)");
    evo_node_set_output(g, n, 0, EVO_DTYPE_UINT8, x->rank, x->dims);
    if (n->n_out > 1)
        evo_node_set_output(g, n, 1, EVO_DTYPE_FLOAT, 0, NULL);
    if (n->n_out > 2)
        evo_node_set_output(g, n, 2, EVO_DTYPE_UINT8, 0, NULL);
    return EVO_OK;
}

static evo_status quant_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    switch (n->op) {
    case EVO_OP_QUANTIZE_LINEAR: return quantize_infer(g, n, err);
    case EVO_OP_DEQUANTIZE_LINEAR: return dequantize_infer(g, n, err);
    default: return dynamic_quantize_infer(g, n, err);
    }
}

const evo_op_def evo_opdef_quant = {quant_import, quant_infer};
