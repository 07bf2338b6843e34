/*
 * constant_ref.c - reference Constant (copy the resolved bytes; normally
 * folded away by shape inference) and ConstantOfShape (fill with the value
 * bytes, split across tasks by elements).
 */
#include "kernels/kernel.h"

#include <string.h>

static void constant_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *out = &a->out[0];
    const evo_fill_attrs *fa = &a->node->a.fill;
    size_t esize = evo_dtype_size(out->dtype);
    int64_t e0, e1;
    evo_task_range(evo_tensor_count(out), task, n_tasks, &e0, &e1);
    char *dst = out->data;
    if (a->node->op == EVO_OP_CONSTANT) {
        if (fa->data && e1 > e0)
            memcpy(dst + (size_t)e0 * esize, (const char *)fa->data + (size_t)e0 * esize,
                   (size_t)(e1 - e0) * esize);
        return;
    }
    for (int64_t i = e0; i < e1; i++)
        memcpy(dst + (size_t)i * esize, fa->value, esize);
}

const evo_kernel_def evo_kernel_constant_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = constant_ref};
