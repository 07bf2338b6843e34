/*
 * expand_ref.c - reference Expand and Tile, both strided copies. Expand
 * reads broadcast axes with stride 0 (input dims right-aligned to the
 * output). Tile views output axis d as [repeats_d, in_d]: the repeat axis
 * has stride 0 and the inner one the input stride.
 */
#include "kernels/tensor_ref.h"

static void expand_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    int64_t in_strides[EVO_MAX_RANK], stride = 1;
    for (int d = in->rank - 1; d >= 0; d--) {
        in_strides[d] = stride;
        stride *= in->dims[d];
    }
    int64_t dims[EVO_STRIDED_MAX_RANK], strides[EVO_STRIDED_MAX_RANK];
    int rank = 0;
    if (a->node->op == EVO_OP_EXPAND) {
        int lead = out->rank - in->rank;
        for (int d = 0; d < out->rank; d++) {
            int i = d - lead;
            dims[rank] = out->dims[d];
            strides[rank++] = (i < 0 || in->dims[i] == 1) ? 0 : in_strides[i];
        }
    } else {
        for (int d = 0; d < in->rank; d++) {
            int64_t reps = in->dims[d] ? out->dims[d] / in->dims[d] : 0;
            dims[rank] = reps;
            strides[rank++] = 0;
            dims[rank] = in->dims[d];
            strides[rank++] = in_strides[d];
        }
    }
    evo_strided_copy(out->data, in->data, dims, strides, rank, evo_dtype_size(in->dtype), task, n_tasks);
}

const evo_kernel_def evo_kernel_expand_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = expand_ref};
