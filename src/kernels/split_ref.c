/*
 * split_ref.c - reference Split for any fixed-size dtype: the mirror of
 * Concat. Input rows (dims before the axis) are cut into one chunk per
 * output. Tasks split rows, or each chunk's bytes when rows are fewer than
 * tasks. Absent outputs (empty names) are skipped.
 */
#include "kernels/kernel.h"

#include <string.h>

static void split_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0];
    const evo_split_attrs *sa = &a->node->a.split;
    int64_t axis = sa->axis;
    size_t esize = evo_dtype_size(in->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= in->dims[d];
    for (int d = (int)axis + 1; d < in->rank; d++)
        inner *= in->dims[d];
    size_t row_bytes = (size_t)(in->dims[axis] * inner) * esize;
    const char *src = in->data;
    bool by_rows = outer >= n_tasks;
    int64_t r0 = 0, r1 = outer;
    if (by_rows)
        evo_task_range(outer, task, n_tasks, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *p = src + (size_t)r * row_bytes;
        for (int i = 0; i < sa->n_splits && i < a->n_out; i++) {
            size_t chunk = (size_t)(sa->sizes[i] * inner) * esize;
            char *dst = a->out[i].data;
            if (dst) {
                int64_t b0 = 0, b1 = (int64_t)chunk;
                if (!by_rows)
                    evo_task_range((int64_t)chunk, task, n_tasks, &b0, &b1);
                if (b1 > b0)
                    memcpy(dst + (size_t)r * chunk + b0, p + b0, (size_t)(b1 - b0));
            }
            p += chunk;
        }
    }
}

const evo_kernel_def evo_kernel_split_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = split_ref};
