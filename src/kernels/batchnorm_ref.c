/*
 * batchnorm_ref.c - reference BatchNormalization (inference): per channel
 * y = x * a + b with a = scale / sqrt(var + eps), b = B - mean * a,
 * computed in double. Tasks split the N*C planes.
 */
#include "kernels/kernel.h"

#include <math.h>

static void batchnorm_run(const evo_kernel_args *args, int task, int n_tasks)
{
    const evo_tensor *x = &args->in[0];
    const float *scale = args->in[1].data, *bias = args->in[2].data;
    const float *mean = args->in[3].data, *var = args->in[4].data;
    double eps = args->node->a.bn.epsilon;
    const float *src = x->data;
    float *dst = args->out[0].data;
    int64_t chans = x->dims[1], plane = 1;
    for (int i = 2; i < x->rank; i++)
        plane *= x->dims[i];
    int64_t begin, end;
    evo_task_range(x->dims[0] * chans, task, n_tasks, &begin, &end);
    for (int64_t p = begin; p < end; p++) {
        int64_t c = p % chans;
        double a = scale[c] / sqrt((double)var[c] + eps);
        float af = (float)a, bf = (float)(bias[c] - mean[c] * a);
        const float *xs = src + p * plane;
        float *ys = dst + p * plane;
        for (int64_t i = 0; i < plane; i++)
            ys[i] = xs[i] * af + bf;
    }
}

const evo_kernel_def evo_kernel_batchnorm_ref = {"ref", EVO_ISA_REF, NULL, NULL, batchnorm_run};
