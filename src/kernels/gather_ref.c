/*
 * gather_ref.c - reference Gather for any fixed-size dtype. The data is
 * [outer, dim, inner] around the axis; each (outer, index) pair copies one
 * inner block. Tasks split the (outer, index) pairs.
 */
#include "kernels/kernel.h"

#include <string.h>

static void gather_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0], *idx = &a->in[1], *out = &a->out[0];
    int64_t axis = a->node->a.axis.axis;
    size_t esize = evo_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1, dim = x->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = (int)axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    int64_t n_idx = evo_tensor_count(idx);
    size_t block = (size_t)inner * esize;
    int64_t p0, p1;
    evo_task_range(outer * n_idx, task, n_tasks, &p0, &p1);
    for (int64_t p = p0; p < p1; p++) {
        int64_t o = p / n_idx, k = p % n_idx;
        int64_t i = idx->dtype == EVO_DTYPE_INT64 ? ((const int64_t *)idx->data)[k]
                                                  : ((const int32_t *)idx->data)[k];
        if (i < 0)
            i += dim;
        char *dst = (char *)out->data + (size_t)p * block;
        if (i < 0 || i >= dim)
            memset(dst, 0, block);
        else
            memcpy(dst, (const char *)x->data + (size_t)(o * dim + i) * block, block);
    }
}

const evo_kernel_def evo_kernel_gather_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = gather_ref};
