/*
 * d2s.c - DepthToSpace (modes DCR, the default, and CRD) and SpaceToDepth
 * on NCHW: [N,C,H,W] <-> [N, C/b^2, H*b, W*b].
 */
#include "graph/ops/tensor_common.h"

#include <string.h>

static evo_status d2s_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_d2s_attrs *da = &n->a.d2s;
    if (!evo_attr_find(n, "blocksize"))
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"blocksize\" is required");
    evo_status s = evo_attr_int(g, n, "blocksize", 0, &da->blocksize, err);
    if (s)
        return s;
    if (da->blocksize < 1 || da->blocksize > 4096)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "blocksize %lld is out of range",
                               (long long)da->blocksize);
    const char *mode;
    if ((s = evo_attr_string(g, n, "mode", "DCR", &mode, err)))
        return s;
    if (n->op == EVO_OP_DEPTH_TO_SPACE && strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "mode \"%s\", expected DCR or CRD", mode);
    da->crd = strcmp(mode, "CRD") == 0;
    return EVO_OK;
}

static evo_status d2s_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 1, 1, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (x->rank != 4)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input must have rank 4 (NCHW), got %d", x->rank);
    int64_t b = n->a.d2s.blocksize, dims[4] = {x->dims[0], 0, 0, 0};
    if (n->op == EVO_OP_DEPTH_TO_SPACE) {
        if (x->dims[1] % (b * b) != 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "channels %lld are not divisible by blocksize^2 = %lld",
                                   (long long)x->dims[1], (long long)(b * b));
        dims[1] = x->dims[1] / (b * b);
        dims[2] = x->dims[2] * b;
        dims[3] = x->dims[3] * b;
    } else {
        if (x->dims[2] % b != 0 || x->dims[3] % b != 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "height %lld and width %lld must be divisible by blocksize %lld",
                                   (long long)x->dims[2], (long long)x->dims[3], (long long)b);
        dims[1] = x->dims[1] * b * b;
        dims[2] = x->dims[2] / b;
        dims[3] = x->dims[3] / b;
    }
    evo_node_set_output(g, n, 0, x->dtype, 4, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_d2s = {d2s_import, d2s_infer};
