/*
 * transpose_ref.c - reference Transpose for any fixed-size dtype: output
 * axis i reads input axis perm[i], so its source stride is that axis's
 * input stride. Runs of axes that stay in order are merged by the strided
 * copy, so e.g. NCHW -> NHWC copies C-strided rows.
 */
#include "kernels/tensor_ref.h"

static void transpose_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    const int *perm = a->node->a.transpose.perm;
    int64_t in_strides[EVO_MAX_RANK], strides[EVO_MAX_RANK], stride = 1;
    for (int d = in->rank - 1; d >= 0; d--) {
        in_strides[d] = stride;
        stride *= in->dims[d];
    }
    for (int i = 0; i < out->rank; i++)
        strides[i] = in_strides[perm[i]];
    evo_strided_copy(out->data, in->data, out->dims, strides, out->rank, evo_dtype_size(in->dtype),
                     task, n_tasks);
}

const evo_kernel_def evo_kernel_transpose_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = transpose_ref};
