/*
 * pool_ref.c - reference MaxPool (float32, int8, uint8; optional Indices)
 * and AveragePool, on 1-D/2-D/3-D windows handled as 3-D. Tasks split the
 * N*C planes.
 *
 * Padding never wins a max. The average divides by the taps inside the
 * input, or with count_include_pad by the taps inside the padded input
 * (a ceil_mode window hanging past the end pad does not count the overhang).
 */
#include "kernels/kernel.h"

#include <float.h>
#include <string.h>

typedef struct pool_geom {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
    int64_t in_size, out_size;
} pool_geom;

static void pool_geom_make(pool_geom *pg, const evo_pool_attrs *p, const evo_tensor *x,
                           const evo_tensor *y)
{
    int ns = x->rank - 2, off = 3 - ns;
    for (int i = 0; i < 3; i++) {
        int j = i - off;
        pg->in[i] = j >= 0 ? x->dims[2 + j] : 1;
        pg->out[i] = j >= 0 ? y->dims[2 + j] : 1;
        pg->k[i] = j >= 0 ? p->kernel[j] : 1;
        pg->s[i] = j >= 0 ? p->stride[j] : 1;
        pg->d[i] = j >= 0 ? p->dilation[j] : 1;
        pg->pb[i] = j >= 0 ? p->pad_begin[j] : 0;
        pg->pe[i] = j >= 0 ? p->pad_end[j] : 0;
    }
    pg->in_size = pg->in[0] * pg->in[1] * pg->in[2];
    pg->out_size = pg->out[0] * pg->out[1] * pg->out[2];
}

/* Reads element i of a plane as float, whatever the dtype. */
static float load(const void *x, evo_dtype t, int64_t i)
{
    if (t == EVO_DTYPE_UINT8)
        return ((const uint8_t *)x)[i];
    if (t == EVO_DTYPE_INT8)
        return ((const int8_t *)x)[i];
    return ((const float *)x)[i];
}

static void store(void *y, evo_dtype t, int64_t i, float v)
{
    if (t == EVO_DTYPE_UINT8)
        ((uint8_t *)y)[i] = (uint8_t)v;
    else if (t == EVO_DTYPE_INT8)
        ((int8_t *)y)[i] = (int8_t)v;
    else
        ((float *)y)[i] = v;
}

/* One output element of one plane. */
static void pool_point(const pool_geom *pg, const evo_pool_attrs *p, bool is_max, evo_dtype t,
                       const void *x, int64_t x_off, const int64_t *o, float *value,
                       int64_t *arg)
{
    float best = -FLT_MAX, sum = 0.0f;
    int64_t best_at = -1, n_valid = 0, n_padded = 0;
    for (int64_t kd = 0; kd < pg->k[0]; kd++) {
        int64_t id = o[0] * pg->s[0] - pg->pb[0] + kd * pg->d[0];
        for (int64_t kh = 0; kh < pg->k[1]; kh++) {
            int64_t ih = o[1] * pg->s[1] - pg->pb[1] + kh * pg->d[1];
            for (int64_t kw = 0; kw < pg->k[2]; kw++) {
                int64_t iw = o[2] * pg->s[2] - pg->pb[2] + kw * pg->d[2];
                bool inside = id >= 0 && id < pg->in[0] && ih >= 0 && ih < pg->in[1] &&
                              iw >= 0 && iw < pg->in[2];
                if (id < pg->in[0] + pg->pe[0] && ih < pg->in[1] + pg->pe[1] &&
                    iw < pg->in[2] + pg->pe[2])
                    n_padded++;
                if (!inside)
                    continue;
                int64_t at = (id * pg->in[1] + ih) * pg->in[2] + iw;
                float v = load(x, t, x_off + at);
                n_valid++;
                sum += v;
                if (v > best || best_at < 0) {
                    best = v;
                    /* storage_order 1 numbers elements column-major */
                    best_at = p->storage_order ? id + (ih + iw * pg->in[1]) * pg->in[0] : at;
                }
            }
        }
    }
    if (is_max) {
        if (best_at < 0 && t != EVO_DTYPE_FLOAT) /* a window of padding only */
            best = t == EVO_DTYPE_UINT8 ? 0.0f : -128.0f;
        *value = best;
        *arg = best_at < 0 ? 0 : best_at;
    } else {
        int64_t div = p->count_include_pad ? n_padded : n_valid;
        *value = div > 0 ? sum / (float)div : 0.0f;
    }
}

static void pool_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_pool_attrs *p = &a->node->a.pool;
    const evo_tensor *x = &a->in[0], *y = &a->out[0];
    const evo_tensor *ind = (a->n_out > 1 && a->out[1].data) ? &a->out[1] : NULL;
    bool is_max = a->node->op == EVO_OP_MAX_POOL;
    pool_geom pg;
    pool_geom_make(&pg, p, x, y);
    int64_t begin, end;
    evo_task_range(x->dims[0] * x->dims[1], task, n_tasks, &begin, &end);
    for (int64_t plane = begin; plane < end; plane++) {
        int64_t x_off = plane * pg.in_size, y_off = plane * pg.out_size, i = 0;
        int64_t o[3];
        for (o[0] = 0; o[0] < pg.out[0]; o[0]++)
            for (o[1] = 0; o[1] < pg.out[1]; o[1]++)
                for (o[2] = 0; o[2] < pg.out[2]; o[2]++, i++) {
                    float v;
                    int64_t arg = 0;
                    pool_point(&pg, p, is_max, x->dtype, x->data, x_off, o, &v, &arg);
                    store(y->data, y->dtype, y_off + i, v);
                    if (ind)
                        ((int64_t *)ind->data)[y_off + i] = x_off + arg;
                }
    }
}

const evo_kernel_def evo_kernel_pool_ref = {"ref", EVO_ISA_REF, NULL, NULL, pool_run};
