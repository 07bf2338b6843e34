/*
 * qbinary.c - com.microsoft QLinearAdd and QLinearMul: C = quantize(
 * dequantize(A) op dequantize(B)) with numpy broadcasting. Inputs: A,
 * A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point
 * (zero points optional); A, B and C share one type, uint8 or int8.
 * Typed attributes (evo_qbinary_attrs, set by evo quantize, FLOAT and none
 * after import): the requantization mode and a fused ReLU or Clip.
 */
#include "graph/ops/qparams.h"

static evo_status qbinary_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_qbinary_attrs *qa = &n->a.qbinary;
    if (qa->requant != EVO_REQUANT_FLOAT && qa->requant != EVO_REQUANT_FIXED)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "requantization mode %d, expected FLOAT or FIXED",
                               (int)qa->requant);
    if (qa->act != EVO_ACT_NONE && qa->act != EVO_ACT_RELU && qa->act != EVO_ACT_CLIP)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "fused activation %d, expected none, ReLU or Clip",
                               (int)qa->act);
    if (qa->act == EVO_ACT_CLIP && !(qa->act_alpha <= qa->act_beta))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "fused Clip min %g above max %g",
                               (double)qa->act_alpha, (double)qa->act_beta);
    evo_status s = evo_q_check_arity(g, n, 7, 8, err);
    if (s || (s = evo_q_check_data(g, n, 0, "A", err)) || (s = evo_q_check_data(g, n, 3, "B", err)))
        return s;
    const evo_value *a = evo_node_input(g, n, 0), *b = evo_node_input(g, n, 3);
    if (a->dtype != b->dtype)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "inputs A (%s) and B (%s) differ in type",
                               evo_dtype_name(a->dtype), evo_dtype_name(b->dtype));
    if ((s = evo_q_check_params(g, n, 1, 2, a->dtype, "A", err)) ||
        (s = evo_q_check_params(g, n, 4, 5, a->dtype, "B", err)) ||
        (s = evo_q_check_params(g, n, 6, 7, a->dtype, "C", err)))
        return s;
    int64_t dims[EVO_MAX_RANK];
    int rank;
    if ((s = evo_broadcast_dims(g, n, a->dims, a->rank, b->dims, b->rank, dims, &rank, err)))
        return s;
    evo_node_set_output(g, n, 0, a->dtype, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_qbinary = {NULL, qbinary_infer};
