/*
 * global_pool_ref.c - reference GlobalAveragePool / GlobalMaxPool: one
 * value per N*C plane; tasks split the planes. The mean accumulates in
 * double so large planes keep full float precision.
 */
#include "kernels/kernel.h"

static void global_pool_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0];
    const float *src = x->data;
    float *dst = a->out[0].data;
    int64_t plane_size = 1;
    for (int i = 2; i < x->rank; i++)
        plane_size *= x->dims[i];
    bool is_max = a->node->op == EVO_OP_GLOBAL_MAX_POOL;
    int64_t begin, end;
    evo_task_range(x->dims[0] * x->dims[1], task, n_tasks, &begin, &end);
    for (int64_t plane = begin; plane < end; plane++) {
        const float *p = src + plane * plane_size;
        if (plane_size == 0) {
            dst[plane] = 0.0f;
        } else if (is_max) {
            float best = p[0];
            for (int64_t i = 1; i < plane_size; i++)
                best = p[i] > best ? p[i] : best;
            dst[plane] = best;
        } else {
            double sum = 0.0;
            for (int64_t i = 0; i < plane_size; i++)
                sum += p[i];
            dst[plane] = plane_size ? (float)(sum / (double)plane_size) : 0.0f;
        }
    }
}

const evo_kernel_def evo_kernel_global_pool_ref = {"ref", EVO_ISA_REF, NULL, NULL,
                                                   global_pool_run};
