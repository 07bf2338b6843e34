/*
 * slice_ref.c - reference Slice for any fixed-size dtype: a strided copy
 * whose per-axis source stride is step * input stride, starting at the
 * resolved starts (shape inference already clamped them).
 */
#include "kernels/tensor_ref.h"

static void slice_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    const evo_slice_attrs *sl = &a->node->a.slice;
    size_t esize = evo_dtype_size(in->dtype);
    int64_t strides[EVO_MAX_RANK], stride = 1, offset = 0;
    for (int d = in->rank - 1; d >= 0; d--) {
        strides[d] = sl->step[d] * stride;
        offset += sl->start[d] * stride;
        stride *= in->dims[d];
    }
    evo_strided_copy(out->data, (const char *)in->data + offset * (int64_t)esize, out->dims, strides,
                     out->rank, esize, task, n_tasks);
}

const evo_kernel_def evo_kernel_slice_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = slice_ref};
