/*
 * matmul.c - MatMul with numpy semantics: the last two dims multiply, the
 * leading (batch) dims broadcast, a 1-D A is a row vector and a 1-D B a
 * column vector whose unit dim is dropped from the output. Uses the Gemm
 * attributes with alpha 1 and no transposes so a fused activation fits.
 */
#include "graph/ops/nn_ops.h"

#include <string.h>

static evo_status matmul_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_gemm_attrs *a = &n->a.gemm;
    memset(a, 0, sizeof(*a));
    a->alpha = 1.0f;
    a->beta = 1.0f;
    a->act = EVO_ACT_NONE;
    return EVO_OK;
}

evo_status evo_matmul_dims(const evo_graph *g, const evo_node *n, const evo_value *av, const evo_value *bv,
                           int64_t *out, int *rank_out, evo_error *err)
{
    int64_t ka = av->dims[av->rank - 1];
    int64_t kb = bv->rank == 1 ? bv->dims[0] : bv->dims[bv->rank - 2];
    char sa[128], sb[128];
    if (ka != kb)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "inner dims differ: A %s has K=%lld, B %s has K=%lld",
                               evo_dims_str(av->dims, av->rank, sa, sizeof(sa)), (long long)ka,
                               evo_dims_str(bv->dims, bv->rank, sb, sizeof(sb)), (long long)kb);
    int64_t dims[EVO_MAX_RANK + 2];
    int rank = 0;
    int ra = av->rank >= 2 ? av->rank - 2 : 0, rb = bv->rank >= 2 ? bv->rank - 2 : 0;
    evo_status s = evo_broadcast_dims(g, n, av->dims, ra, bv->dims, rb, dims, &rank, err);
    if (s)
        return s;
    if (av->rank >= 2)
        dims[rank++] = av->dims[av->rank - 2];
    if (bv->rank >= 2)
        dims[rank++] = bv->dims[bv->rank - 1];
    if (rank > EVO_MAX_RANK)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output rank %d exceeds %d", rank,
                               EVO_MAX_RANK);
    memcpy(out, dims, sizeof(int64_t) * (size_t)rank);
    *rank_out = rank;
    return EVO_OK;
}

static evo_status matmul_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 2, 2, 1, err);
    if (s || (s = evo_nn_float_input(g, n, 0, 1, EVO_MAX_RANK, err)) ||
        (s = evo_nn_float_input(g, n, 1, 1, EVO_MAX_RANK, err)))
        return s;
    const evo_value *av = evo_node_input(g, n, 0), *bv = evo_node_input(g, n, 1);
    int64_t dims[EVO_MAX_RANK];
    int rank = 0;
    if ((s = evo_matmul_dims(g, n, av, bv, dims, &rank, err)))
        return s;
    int64_t count;
    if (!evo_dims_count(dims, rank, EVO_MAX_ELEMENTS, &count))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output has too many elements");
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_matmul = {matmul_import, matmul_infer};
