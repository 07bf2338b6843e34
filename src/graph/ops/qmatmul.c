/*
 * qmatmul.c - QLinearMatMul and MatMulInteger: MatMul's numpy shape rules
 * (matmul.c) over uint8/int8 tensors, plus the scale and zero-point checks.
 *
 * QLinearMatMul inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point,
 * y_scale, y_zero_point. a and y are quantized per tensor; b per tensor or
 * per column (1-D [N]). The output dtype is y_zero_point's. Requantization
 * is EVO_REQUANT_FLOAT unless a pass says otherwise (docs/int8.md).
 * MatMulInteger inputs: A, B, a_zero_point (scalar or per row [M]),
 * b_zero_point (scalar or per column [N]); output int32.
 */
#include "graph/ops/nn_ops.h"
#include "graph/ops/quant_ops.h"

#include <math.h>
#include <string.h>

static evo_status qmatmul_import(evo_graph *g, evo_node *n, evo_error *err)
{
    (void)g;
    (void)err;
    evo_gemm_attrs *a = &n->a.gemm;
    memset(a, 0, sizeof(*a));
    a->alpha = 1.0f;
    a->beta = 1.0f;
    a->act = EVO_ACT_NONE;
    a->requant = EVO_REQUANT_FLOAT;
    return EVO_OK;
}

static evo_status qmatmul_check_act(const evo_graph *g, const evo_node *n, evo_error *err)
{
    const evo_gemm_attrs *a = &n->a.gemm;
    if (a->requant != EVO_REQUANT_FLOAT && a->requant != EVO_REQUANT_FIXED)
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "requant mode %d is not FLOAT or FIXED", (int)a->requant);
    if (n->op == EVO_OP_MATMUL_INTEGER && a->act != EVO_ACT_NONE)
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "MatMulInteger takes no fused activation");
    bool table = a->act != EVO_ACT_NONE && a->act != EVO_ACT_RELU && a->act != EVO_ACT_CLIP;
    if (table && !(a->act_scale > 0.0f && isfinite(a->act_scale)))
        return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL,
                               "fused table activation %d needs a positive act_scale (got %g)", (int)a->act,
                               (double)a->act_scale);
    return EVO_OK;
}

/* Output dims of A x B; *rows and *cols get M and N. */
static evo_status qmatmul_dims(evo_graph *g, evo_node *n, int ia, int ib, int64_t *dims, int *rank, int64_t *rows,
                               int64_t *cols, evo_error *err)
{
    evo_status s;
    if ((s = evo_quant_check_data(g, n, ia, "A", 1, EVO_MAX_RANK, err)) ||
        (s = evo_quant_check_data(g, n, ib, "B", 1, EVO_MAX_RANK, err)) || (s = qmatmul_check_act(g, n, err)))
        return s;
    const evo_value *av = evo_node_input(g, n, ia), *bv = evo_node_input(g, n, ib);
    if ((s = evo_matmul_dims(g, n, av, bv, dims, rank, err)))
        return s;
    *rows = av->rank >= 2 ? av->dims[av->rank - 2] : 1;
    *cols = bv->rank >= 2 ? bv->dims[bv->rank - 1] : 1;
    int64_t total;
    if (!evo_dims_count(dims, *rank, EVO_MAX_ELEMENTS, &total))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output has too many elements");
    return EVO_OK;
}

static evo_status qlinear_matmul_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    int64_t dims[EVO_MAX_RANK], rows, cols;
    int rank;
    evo_status s = evo_check_arity(g, n, 8, 8, 1, err);
    if (s || (s = qmatmul_dims(g, n, 0, 3, dims, &rank, &rows, &cols, err)))
        return s;
    const evo_value *av = evo_node_input(g, n, 0), *bv = evo_node_input(g, n, 3);
    const char *col = "columns N of B";
    if ((s = evo_quant_check_param(g, n, 1, "a_scale", EVO_DTYPE_FLOAT, 0, NULL, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 2, "a_zero_point", av->dtype, 0, NULL, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 4, "b_scale", EVO_DTYPE_FLOAT, bv->rank >= 2 ? cols : 0, col, NULL,
                                   err)) ||
        (s = evo_quant_check_param(g, n, 5, "b_zero_point", bv->dtype, bv->rank >= 2 ? cols : 0, col, NULL,
                                   err)) ||
        (s = evo_quant_check_param(g, n, 6, "y_scale", EVO_DTYPE_FLOAT, 0, NULL, NULL, err)) ||
        (s = evo_quant_check_param(g, n, 7, "y_zero_point", EVO_DTYPE_UNDEFINED, 0, NULL, NULL, err)))
        return s;
    if (!evo_node_input(g, n, 1) || !evo_node_input(g, n, 4) || !evo_node_input(g, n, 6))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "inputs a_scale, b_scale and y_scale are required");
    const evo_value *yzp = evo_node_input(g, n, 7);
    evo_node_set_output(g, n, 0, yzp ? yzp->dtype : EVO_DTYPE_UINT8, rank, dims);
    return EVO_OK;
}

static evo_status matmul_integer_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    int64_t dims[EVO_MAX_RANK], rows, cols;
    int rank;
    evo_status s = evo_check_arity(g, n, 2, 4, 1, err);
    if (s || (s = qmatmul_dims(g, n, 0, 1, dims, &rank, &rows, &cols, err)))
        return s;
    const evo_value *av = evo_node_input(g, n, 0), *bv = evo_node_input(g, n, 1);
    if ((s = evo_quant_check_param(g, n, 2, "a_zero_point", av->dtype, av->rank >= 2 ? rows : 0, "rows M of A",
                                   NULL, err)) ||
        (s = evo_quant_check_param(g, n, 3, "b_zero_point", bv->dtype, bv->rank >= 2 ? cols : 0,
                                   "columns N of B", NULL, err)))
        return s;
    evo_node_set_output(g, n, 0, EVO_DTYPE_INT32, rank, dims);
    return EVO_OK;
}

static evo_status qmatmul_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    return n->op == EVO_OP_QLINEAR_MATMUL ? qlinear_matmul_infer(g, n, err) : matmul_integer_infer(g, n, err);
}

const evo_op_def evo_opdef_qmatmul = {qmatmul_import, qmatmul_infer};
