/*
 * qgemm.c - com.microsoft QGemm: Y = alpha * (A' - a_zp)(B' - b_zp) *
 * a_scale * b_scale + C with A' = transA ? A^T : A (B' likewise). Inputs:
 * A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale,
 * y_zero_point. A is uint8 or int8; B uint8 or int8 with a scale and zero
 * point per tensor or per column n (length N); C an optional int32 bias in
 * the accumulator's scale, broadcastable to [M, N]. With y_scale and
 * y_zero_point Y is quantized like A; without both it is float32.
 */
#include "graph/ops/qparams.h"

static evo_status qgemm_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_gemm_attrs *a = &n->a.gemm;
    int64_t trans_a = 0, trans_b = 0;
    evo_status s;
    if ((s = evo_attr_float(g, n, "alpha", 1.0f, &a->alpha, err)) ||
        (s = evo_attr_int(g, n, "transA", 0, &trans_a, err)) ||
        (s = evo_attr_int(g, n, "transB", 0, &trans_b, err)))
        return s;
    a->beta = 1.0f;
    a->trans_a = trans_a != 0;
    a->trans_b = trans_b != 0;
    a->act = EVO_ACT_NONE;
    a->act_alpha = a->act_beta = 0.0f;
    return EVO_OK;
}

/* b_scale and b_zero_point: float32 / B's type, each a scalar, [1] or [N], both the same length. */
static evo_status check_b_params(evo_graph *g, const evo_node *n, int64_t cols, evo_error *err)
{
    const evo_value *bs = evo_node_input(g, n, 4), *bz = evo_node_input(g, n, 5),
                    *b = evo_node_input(g, n, 3);
    if (!bs)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input 4 (b_scale) is missing");
    int64_t len_s = evo_value_count(bs), len_z = bz ? evo_value_count(bz) : len_s;
    if (bs->dtype != EVO_DTYPE_FLOAT || bs->rank > 1 || (len_s != 1 && len_s != cols))
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input 4 (b_scale) \"%s\" must be float32 of 1 or N=%lld elements", bs->name,
                               (long long)cols);
    if (bz && (bz->dtype != b->dtype || bz->rank > 1 || len_z != len_s))
        return evo_node_errorf(
            err, g, n, EVO_ERR_UNSUPPORTED,
            "input 5 (b_zero_point) \"%s\" must be %s with as many elements as b_scale (%lld)", bz->name,
            evo_dtype_name(b->dtype), (long long)len_s);
    return EVO_OK;
}

static evo_status check_c(evo_graph *g, const evo_node *n, int64_t m, int64_t cols, evo_error *err)
{
    const evo_value *c = evo_node_input(g, n, 6);
    if (!c)
        return EVO_OK;
    bool ok = c->dtype == EVO_DTYPE_INT32 && c->rank >= 0 && c->rank <= 2;
    if (ok && c->rank >= 1)
        ok = c->dims[c->rank - 1] == 1 || c->dims[c->rank - 1] == cols;
    if (ok && c->rank == 2)
        ok = c->dims[0] == 1 || c->dims[0] == m;
    char buf[128];
    if (!ok)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input 6 (C) is %s %s, expected int32 broadcastable to [%lld, %lld]",
                               evo_dtype_name(c->dtype), evo_dims_str(c->dims, c->rank, buf, sizeof(buf)),
                               (long long)m, (long long)cols);
    return EVO_OK;
}

static evo_status qgemm_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_gemm_attrs *at = &n->a.gemm;
    evo_status s = evo_q_check_arity(g, n, 6, 9, err);
    if (s || (s = evo_q_check_data(g, n, 0, "A", err)) || (s = evo_q_check_data(g, n, 3, "B", err)) ||
        (s = evo_q_check_params(g, n, 1, 2, evo_node_input(g, n, 0)->dtype, "a", err)))
        return s;
    const evo_value *a = evo_node_input(g, n, 0), *b = evo_node_input(g, n, 3);
    char sa[128], sb[128];
    if (a->rank != 2 || b->rank != 2)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "A %s and B %s must be matrices",
                               evo_dims_str(a->dims, a->rank, sa, sizeof(sa)),
                               evo_dims_str(b->dims, b->rank, sb, sizeof(sb)));
    int64_t m = at->trans_a ? a->dims[1] : a->dims[0], k = at->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = at->trans_b ? b->dims[1] : b->dims[0], cols = at->trans_b ? b->dims[0] : b->dims[1];
    if (k != kb)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "inner dims differ: A %s (transA=%d), B %s (transB=%d)",
                               evo_dims_str(a->dims, 2, sa, sizeof(sa)), at->trans_a,
                               evo_dims_str(b->dims, 2, sb, sizeof(sb)), at->trans_b);
    if ((s = check_b_params(g, n, cols, err)) || (s = check_c(g, n, m, cols, err)))
        return s;
    bool has_ys = evo_node_input(g, n, 7) != NULL, has_yz = evo_node_input(g, n, 8) != NULL;
    if (has_ys != has_yz)
        return evo_node_errorf(
            err, g, n, EVO_ERR_UNSUPPORTED,
            "y_scale and y_zero_point must be given together (a quantized Y) or not at all (float Y)");
    if (has_ys && (s = evo_q_check_params(g, n, 7, 8, a->dtype, "y", err)))
        return s;
    int64_t dims[2] = {m, cols};
    evo_node_set_output(g, n, 0, has_ys ? a->dtype : EVO_DTYPE_FLOAT, 2, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_qgemm = {qgemm_import, qgemm_infer};
