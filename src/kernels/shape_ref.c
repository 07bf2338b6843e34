/*
 * shape_ref.c - reference Shape and Size: write the input's dims (from
 * start to end) or its element count as int64. Shape inference normally
 * turns these outputs into constants, so this runs only when a plan keeps
 * the node.
 */
#include "kernels/kernel.h"

static void shape_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    if (task != 0)
        return;
    const evo_tensor *x = &a->in[0];
    int64_t *y = a->out[0].data;
    if (a->node->op == EVO_OP_SIZE) {
        y[0] = evo_tensor_count(x);
        return;
    }
    const evo_axis_attrs *aa = &a->node->a.axis;
    for (int64_t i = aa->start; i < aa->end; i++)
        y[i - aa->start] = x->dims[i];
}

const evo_kernel_def evo_kernel_shape_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = shape_ref};
