/*
 * range_ref.c - reference Range: out[i] = start + i * delta, exact in
 * int64 for integer types and computed in double for float ones (numpy's
 * arange, not an accumulating sum, so the error does not grow with i).
 */
#include "kernels/kernel.h"

static void range_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *out = &a->out[0];
    int64_t i0, i1;
    evo_task_range(out->dims[0], task, n_tasks, &i0, &i1);
    const void *s = a->in[0].data, *d = a->in[2].data;
    switch (out->dtype) {
    case EVO_DTYPE_INT16:
        for (int64_t i = i0; i < i1; i++)
            ((int16_t *)out->data)[i] = (int16_t)(*(const int16_t *)s + i * *(const int16_t *)d);
        break;
    case EVO_DTYPE_INT32:
        for (int64_t i = i0; i < i1; i++)
            ((int32_t *)out->data)[i] = (int32_t)(*(const int32_t *)s + i * *(const int32_t *)d);
        break;
    case EVO_DTYPE_INT64:
        for (int64_t i = i0; i < i1; i++)
            ((int64_t *)out->data)[i] = *(const int64_t *)s + i * *(const int64_t *)d;
        break;
    case EVO_DTYPE_FLOAT:
        for (int64_t i = i0; i < i1; i++)
            ((float *)out->data)[i] = (float)(*(const float *)s + (double)i * *(const float *)d);
        break;
    case EVO_DTYPE_DOUBLE:
        for (int64_t i = i0; i < i1; i++)
            ((double *)out->data)[i] = *(const double *)s + (double)i * *(const double *)d;
        break;
    default: break;
    }
}

const evo_kernel_def evo_kernel_range_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = range_ref};
