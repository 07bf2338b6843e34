/*
 * conv_transpose_ref.c - reference ConvTranspose: GEMM + col2im.
 *
 * For one image and group, cols[(m, k), p] = sum_c W[c, m, k] X[c, p] is a
 * GEMM with W read transposed through strides; col2im then scatter-adds
 * each column into the output at p*stride - pad + k*dilation. Work items
 * are single output channels (image x group x channel), so a task owns its
 * output channels outright and no two tasks add into the same element.
 * Input positions go in chunks so the cols scratch stays bounded.
 */
#include "kernels/kernel.h"
#include "kernels/sgemm.h"

#include <string.h>

#define COLS_BUDGET_FLOATS ((int64_t)1 << 18)

typedef struct convt_plan {
    int64_t batch, c_in, c_out, group, c_in_g, c_out_g;
    int64_t in[3], out[3], k[3], s[3], d[3], p[3];
    int64_t in_size, out_size, kprod;
    int64_t n_items, max_run, chunk;
    size_t cols_bytes, slice_bytes;
} convt_plan;

static void convt_plan_make(convt_plan *pl, const evo_conv_attrs *c, const int64_t *x_dims,
                            const int64_t *w_dims, const int64_t *y_dims, int n_tasks)
{
    int off = 3 - c->n_spatial;
    memset(pl, 0, sizeof(*pl));
    pl->batch = x_dims[0];
    pl->c_in = x_dims[1];
    pl->group = c->group;
    pl->c_in_g = pl->c_in / pl->group;
    pl->c_out_g = w_dims[1];
    pl->c_out = pl->c_out_g * pl->group;
    for (int i = 0; i < 3; i++) {
        int j = i - off;
        pl->in[i] = j >= 0 ? x_dims[2 + j] : 1;
        pl->out[i] = j >= 0 ? y_dims[2 + j] : 1;
        pl->k[i] = j >= 0 ? w_dims[2 + j] : 1;
        pl->s[i] = j >= 0 ? c->stride[j] : 1;
        pl->d[i] = j >= 0 ? c->dilation[j] : 1;
        pl->p[i] = j >= 0 ? c->pad_begin[j] : 0;
    }
    pl->in_size = pl->in[0] * pl->in[1] * pl->in[2];
    pl->out_size = pl->out[0] * pl->out[1] * pl->out[2];
    pl->kprod = pl->k[0] * pl->k[1] * pl->k[2];
    pl->n_items = pl->batch * pl->c_out;
    /* A task's run of channels within one image-group is at most this long. */
    pl->max_run = EVO_MIN(pl->c_out_g, (pl->n_items + n_tasks - 1) / n_tasks);
    pl->max_run = EVO_MAX(pl->max_run, (int64_t)1);
    int64_t rows = pl->max_run * pl->kprod;
    int64_t chunk = EVO_MAX(COLS_BUDGET_FLOATS / rows / 16 * 16, (int64_t)16);
    pl->chunk = EVO_MAX(EVO_MIN(chunk, pl->in_size), (int64_t)1);
    pl->cols_bytes = ((size_t)(rows * pl->chunk) * sizeof(float) + 63) & ~(size_t)63;
    pl->slice_bytes = pl->cols_bytes +
                      ((evo_sgemm_scratch_bytes(rows, pl->chunk, pl->c_in_g) + 63) & ~(size_t)63);
}

/* Adds cols rows [(m, k)] for input positions [p0, p1) into channels y[0..n_ch). */
static void col2im(const convt_plan *pl, const float *cols, int64_t n_ch, int64_t p0, int64_t p1,
                   float *y)
{
    const int64_t len = p1 - p0, plane_in = pl->in[1] * pl->in[2];
    int64_t row = 0;
    for (int64_t m = 0; m < n_ch; m++) {
        float *ym = y + m * pl->out_size;
        for (int64_t kd = 0; kd < pl->k[0]; kd++)
            for (int64_t kh = 0; kh < pl->k[1]; kh++)
                for (int64_t kw = 0; kw < pl->k[2]; kw++, row++) {
                    const float *src = cols + row * len;
                    for (int64_t p = p0; p < p1; p++) {
                        int64_t id = p / plane_in, rem = p % plane_in;
                        int64_t ih = rem / pl->in[2], iw = rem % pl->in[2];
                        int64_t od = id * pl->s[0] - pl->p[0] + kd * pl->d[0];
                        int64_t oh = ih * pl->s[1] - pl->p[1] + kh * pl->d[1];
                        int64_t ow = iw * pl->s[2] - pl->p[2] + kw * pl->d[2];
                        if (od < 0 || od >= pl->out[0] || oh < 0 || oh >= pl->out[1] || ow < 0 ||
                            ow >= pl->out[2])
                            continue;
                        ym[(od * pl->out[1] + oh) * pl->out[2] + ow] += src[p - p0];
                    }
                }
    }
}

static size_t convt_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    convt_plan pl;
    convt_plan_make(&pl, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                    g->values[n->out[0]].dims, n_tasks);
    return pl.slice_bytes * (size_t)n_tasks;
}

/* Output channels [oc0, oc0+n_ch) of group grp in image b. */
static void convt_run_channels(const evo_kernel_args *a, const convt_plan *pl, int64_t b,
                               int64_t grp, int64_t oc0, int64_t n_ch, unsigned char *slice)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    const float *x = a->in[0].data, *w = a->in[1].data;
    const float *bias = (a->n_in > 2 && a->in[2].data) ? a->in[2].data : NULL;
    const float *res = (c->has_residual && a->n_in > 3) ? a->in[3].data : NULL;
    int64_t y_off = (b * pl->c_out + grp * pl->c_out_g + oc0) * pl->out_size;
    float *y = (float *)a->out[0].data + y_off;
    for (int64_t m = 0; m < n_ch; m++) {
        float v = bias ? bias[grp * pl->c_out_g + oc0 + m] : 0.0f;
        for (int64_t i = 0; i < pl->out_size; i++)
            y[m * pl->out_size + i] = v;
    }
    float *cols = (float *)slice;
    const float *xg = x + (b * pl->c_in + grp * pl->c_in_g) * pl->in_size;
    for (int64_t p0 = 0; p0 < pl->in_size; p0 += pl->chunk) {
        int64_t p1 = EVO_MIN(p0 + pl->chunk, pl->in_size);
        /* A[(m,k), ci] = W[grp*c_in_g + ci, oc0 + m, k]: transposed via strides */
        evo_sgemm_args ga = {n_ch * pl->kprod, p1 - p0, pl->c_in_g, 1.0f, 0.0f,
                             w + (grp * pl->c_in_g * pl->c_out_g + oc0) * pl->kprod, 1,
                             pl->c_out_g * pl->kprod, xg + p0, pl->in_size, 1,
                             cols, p1 - p0, NULL};
        evo_sgemm_ref(&ga, slice + pl->cols_bytes);
        col2im(pl, cols, n_ch, p0, p1, y);
    }
    if (res || c->act != EVO_ACT_NONE) {
        const float *r = res ? res + y_off : NULL;
        bool post = c->residual_after_act; /* add r after the activation, not before */
        for (int64_t i = 0; i < n_ch * pl->out_size; i++) {
            float add = r ? r[i] : 0.0f;
            y[i] = evo_act_apply(y[i] + (post ? 0.0f : add), c->act, c->act_alpha, c->act_beta) +
                   (post ? add : 0.0f);
        }
    }
}

static void convt_run(const evo_kernel_args *a, int task, int n_tasks)
{
    convt_plan pl;
    convt_plan_make(&pl, &a->node->a.conv, a->in[0].dims, a->in[1].dims, a->out[0].dims,
                    n_tasks);
    unsigned char *slice = (unsigned char *)a->scratch + pl.slice_bytes * (size_t)task;
    int64_t begin, end;
    evo_task_range(pl.n_items, task, n_tasks, &begin, &end);
    /* Items are (image, channel); split the range at group boundaries. */
    while (begin < end) {
        int64_t b = begin / pl.c_out, oc = begin % pl.c_out;
        int64_t grp = oc / pl.c_out_g, oc_g = oc % pl.c_out_g;
        int64_t n_ch = EVO_MIN(end - begin, pl.c_out_g - oc_g);
        n_ch = EVO_MIN(n_ch, pl.max_run);
        convt_run_channels(a, &pl, b, grp, oc_g, n_ch, slice);
        begin += n_ch;
    }
}

const evo_kernel_def evo_kernel_conv_transpose_ref = {"ref", EVO_ISA_REF, NULL, convt_scratch,
                                                      convt_run};
