/*
 * reshape_ref.c - reference kernel of Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity and Dropout: the bytes do not change, so it is one copy split
 * by bytes across tasks (skipped when the planner made the output alias the
 * input). Dropout's optional mask is all true in inference.
 */
#include "kernels/kernel.h"

#include <string.h>

static void reshape_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    size_t bytes = (size_t)evo_tensor_count(in) * evo_dtype_size(in->dtype);
    int64_t b0, b1;
    evo_task_range((int64_t)bytes, task, n_tasks, &b0, &b1);
    if (out->data != in->data && b1 > b0)
        memcpy((char *)out->data + b0, (const char *)in->data + b0, (size_t)(b1 - b0));
    if (a->n_out > 1 && a->out[1].data) {
        evo_task_range(evo_tensor_count(&a->out[1]), task, n_tasks, &b0, &b1);
        if (b1 > b0)
            memset((char *)a->out[1].data + b0, 1, (size_t)(b1 - b0));
    }
}

const evo_kernel_def evo_kernel_reshape_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = reshape_ref};
