/*
 * gemm.c - Gemm: Y = alpha * A' B' + beta * C with A' = transA ? A^T : A
 * (and B' likewise), C optional and unidirectionally broadcastable to
 * [M, N] (scalar, [N], [1, N], [M, 1] or [M, N]).
 */
#include "graph/ops/nn_ops.h"

static evo_status gemm_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_gemm_attrs *a = &n->a.gemm;
    int64_t trans_a = 0, trans_b = 0;
    evo_status s;
    if ((s = evo_attr_float(g, n, "alpha", 1.0f, &a->alpha, err)) ||
        (s = evo_attr_float(g, n, "beta", 1.0f, &a->beta, err)) ||
        (s = evo_attr_int(g, n, "transA", 0, &trans_a, err)) ||
        (s = evo_attr_int(g, n, "transB", 0, &trans_b, err)))
        return s;
    a->trans_a = trans_a != 0;
    a->trans_b = trans_b != 0;
    a->act = EVO_ACT_NONE;
    a->act_alpha = a->act_beta = 0.0f;
    return EVO_OK;
}

static evo_status gemm_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_gemm_attrs *a = &n->a.gemm;
    evo_status s = evo_check_arity(g, n, 2, 3, 1, err);
    if (s || (s = evo_nn_float_input(g, n, 0, 2, 2, err)) ||
        (s = evo_nn_float_input(g, n, 1, 2, 2, err)))
        return s;
    const evo_value *av = evo_node_input(g, n, 0), *bv = evo_node_input(g, n, 1);
    const evo_value *cv = evo_node_input(g, n, 2);
    int64_t m = a->trans_a ? av->dims[1] : av->dims[0], k = a->trans_a ? av->dims[0] : av->dims[1];
    int64_t kb = a->trans_b ? bv->dims[1] : bv->dims[0], nn = a->trans_b ? bv->dims[0] : bv->dims[1];
    char sa[128], sb[128];
    if (k != kb)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "inner dims differ: A %s (transA=%d) gives K=%lld, B %s (transB=%d) "
                               "gives K=%lld",
                               evo_dims_str(av->dims, 2, sa, sizeof(sa)), a->trans_a, (long long)k,
                               evo_dims_str(bv->dims, 2, sb, sizeof(sb)), a->trans_b,
                               (long long)kb);
    if (cv) {
        if ((s = evo_nn_float_input(g, n, 2, 0, 2, err)))
            return s;
        bool ok = true;
        if (cv->rank >= 1)
            ok = cv->dims[cv->rank - 1] == 1 || cv->dims[cv->rank - 1] == nn;
        if (cv->rank == 2)
            ok = ok && (cv->dims[0] == 1 || cv->dims[0] == m);
        if (!ok)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "input C shape %s does not broadcast to [M=%lld, N=%lld]",
                                   evo_dims_str(cv->dims, cv->rank, sa, sizeof(sa)), (long long)m,
                                   (long long)nn);
    }
    int64_t dims[2] = {m, nn};
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, 2, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_gemm = {gemm_import, gemm_infer};
