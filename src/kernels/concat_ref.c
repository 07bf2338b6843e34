/*
 * concat_ref.c - reference Concat for any fixed-size dtype. The output is
 * seen as outer rows (the dims before the axis), each the concatenation of
 * one chunk per input. Tasks split the rows; when there are fewer rows than
 * tasks (batch-1 channel concat, the common case) they split each chunk's
 * bytes instead.
 */
#include "kernels/kernel.h"

#include <string.h>

static void concat_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *out = &a->out[0];
    int64_t axis = a->node->a.axis.axis;
    size_t esize = evo_dtype_size(out->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= out->dims[d];
    for (int d = (int)axis + 1; d < out->rank; d++)
        inner *= out->dims[d];
    size_t row_bytes = (size_t)(out->dims[axis] * inner) * esize;
    char *dst = out->data;
    if (outer >= n_tasks) {
        int64_t r0, r1;
        evo_task_range(outer, task, n_tasks, &r0, &r1);
        for (int64_t r = r0; r < r1; r++) {
            char *p = dst + (size_t)r * row_bytes;
            for (int i = 0; i < a->n_in; i++) {
                size_t chunk = (size_t)(a->in[i].dims[axis] * inner) * esize;
                memcpy(p, (const char *)a->in[i].data + (size_t)r * chunk, chunk);
                p += chunk;
            }
        }
        return;
    }
    for (int64_t r = 0; r < outer; r++) {
        char *p = dst + (size_t)r * row_bytes;
        for (int i = 0; i < a->n_in; i++) {
            size_t chunk = (size_t)(a->in[i].dims[axis] * inner) * esize;
            int64_t b0, b1;
            evo_task_range((int64_t)chunk, task, n_tasks, &b0, &b1);
            if (b1 > b0)
                memcpy(p + b0, (const char *)a->in[i].data + (size_t)r * chunk + b0, (size_t)(b1 - b0));
            p += chunk;
        }
    }
}

const evo_kernel_def evo_kernel_concat_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = concat_ref};
