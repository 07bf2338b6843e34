/*
 * update_ref.c - reference evo.UpdateSlices for any fixed-size dtype: the
 * output is input 0 (copied unless the planner placed the output on its
 * bytes) with each update's rows written over their slice of every output
 * row (dims before the axis). Tasks split the rows.
 */
#include "kernels/kernel.h"

#include <string.h>

static void update_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0], *y = &a->out[0];
    const evo_split_attrs *sa = &a->node->a.split;
    size_t esize = evo_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1, r0, r1;
    for (int d = 0; d < sa->axis; d++)
        outer *= x->dims[d];
    for (int d = (int)sa->axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    size_t row = (size_t)(x->dims[sa->axis] * inner) * esize;
    evo_task_range(outer, task, n_tasks, &r0, &r1);
    char *dst = y->data;
    if (y->data != x->data && r1 > r0)
        memcpy(dst + (size_t)r0 * row, (const char *)x->data + (size_t)r0 * row, (size_t)(r1 - r0) * row);
    for (int i = 1; i < a->n_in; i++) {
        size_t chunk = (size_t)(a->in[i].dims[sa->axis] * inner) * esize;
        size_t at = (size_t)(sa->sizes[i - 1] * inner) * esize;
        const char *src = a->in[i].data;
        for (int64_t r = r0; r < r1; r++)
            memcpy(dst + (size_t)r * row + at, src + (size_t)r * chunk, chunk);
    }
}

const evo_kernel_def evo_kernel_update_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = update_ref};
