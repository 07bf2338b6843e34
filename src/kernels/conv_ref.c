/*
 * conv_ref.c - reference Conv: im2col + the blocked SGEMM, per image and
 * group, over chunks of output positions.
 *
 * Every spatial rank is handled as 3-D (missing leading dims have extent 1),
 * so one im2col serves 1-D, 2-D and 3-D. Work items are (image, group,
 * chunk of output positions); a task takes a contiguous range of items and
 * builds the im2col matrix of one chunk in its own scratch slice, so the
 * scratch stays bounded (about 1 MB per task) whatever the image size.
 * A 1x1 stride-1 unpadded conv reads the input as the GEMM's B directly.
 * The epilogue adds the bias, the fused residual, and applies the fused
 * activation while the tile is still in cache. With out_groups the GEMM
 * writes a chunk to scratch, then each channel's run is scattered into
 * the [N, G, H, W, C / G] output.
 */
#include "kernels/kernel.h"
#include "kernels/sgemm.h"

#include <string.h>

/* Floats of im2col per task that a chunk of output positions may use. */
#define IM2COL_BUDGET_FLOATS ((int64_t)1 << 18)

typedef struct conv_plan {
    int64_t batch, c_in, c_out, group, c_in_g, c_out_g;
    int64_t in[3], out[3], k[3], s[3], d[3], p[3];
    int64_t in_size, out_size, kprod, kdim; /* kdim = c_in_g * kprod, the GEMM K */
    bool pointwise;
    int64_t chunk, n_chunks, n_items;
    int64_t out_groups;
    size_t im2col_bytes, out_bytes, slice_bytes; /* per task */
} conv_plan;

static size_t align64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

static void conv_plan_make(conv_plan *pl, const evo_conv_attrs *c, const int64_t *x_dims,
                           const int64_t *w_dims, const int64_t *y_dims, int n_tasks)
{
    int ns = c->n_spatial, off = 3 - ns;
    memset(pl, 0, sizeof(*pl));
    pl->batch = x_dims[0];
    pl->c_in = x_dims[1];
    pl->c_out = w_dims[0];
    pl->group = c->group;
    pl->c_in_g = pl->c_in / pl->group;
    pl->c_out_g = pl->c_out / pl->group;
    pl->pointwise = true;
    for (int i = 0; i < 3; i++) {
        int j = i - off; /* attribute index, < 0 for padded leading dims */
        pl->in[i] = j >= 0 ? x_dims[2 + j] : 1;
        pl->out[i] = j >= 0 ? y_dims[2 + j] : 1;
        pl->k[i] = j >= 0 ? w_dims[2 + j] : 1;
        pl->s[i] = j >= 0 ? c->stride[j] : 1;
        pl->d[i] = j >= 0 ? c->dilation[j] : 1;
        pl->p[i] = j >= 0 ? c->pad_begin[j] : 0;
        if (pl->k[i] != 1 || pl->s[i] != 1 || pl->p[i] != 0 || pl->in[i] != pl->out[i])
            pl->pointwise = false;
    }
    pl->in_size = pl->in[0] * pl->in[1] * pl->in[2];
    pl->out_size = pl->out[0] * pl->out[1] * pl->out[2];
    pl->kprod = pl->k[0] * pl->k[1] * pl->k[2];
    pl->kdim = pl->c_in_g * pl->kprod;

    int64_t chunk = IM2COL_BUDGET_FLOATS / EVO_MAX(pl->kdim, (int64_t)1) / 16 * 16;
    chunk = EVO_MAX(chunk, (int64_t)16);
    /* Enough chunks that every task gets work. */
    int64_t planes = EVO_MAX(pl->batch * pl->group, (int64_t)1);
    int64_t want = (n_tasks + planes - 1) / planes;
    int64_t per = (pl->out_size + want - 1) / want;
    chunk = EVO_MIN(chunk, (per + 15) / 16 * 16);
    chunk = EVO_MAX(EVO_MIN(chunk, pl->out_size), (int64_t)1);
    pl->chunk = chunk;
    pl->n_chunks = (pl->out_size + chunk - 1) / chunk;
    pl->n_items = pl->batch * pl->group * pl->n_chunks;
    pl->im2col_bytes = pl->pointwise ? 0 : align64((size_t)(pl->kdim * chunk) * sizeof(float));
    pl->out_groups = c->out_groups;
    pl->out_bytes = pl->out_groups > 0 ? align64((size_t)(pl->c_out_g * chunk) * sizeof(float)) : 0;
    pl->slice_bytes =
        pl->im2col_bytes + pl->out_bytes + align64(evo_sgemm_scratch_bytes(pl->c_out_g, chunk, pl->kdim));
}

/*
 * Writes rows [c, kd, kh, kw] x output positions [p0, p1) of the im2col
 * matrix of one image-group x (c_in_g channels) into dst (row stride p1-p0).
 */
static void im2col(const conv_plan *pl, const float *x, int64_t p0, int64_t p1, float *dst)
{
    const int64_t len = p1 - p0, plane_out = pl->out[1] * pl->out[2];
    int64_t row = 0;
    for (int64_t c = 0; c < pl->c_in_g; c++) {
        const float *xc = x + c * pl->in_size;
        for (int64_t kd = 0; kd < pl->k[0]; kd++)
            for (int64_t kh = 0; kh < pl->k[1]; kh++)
                for (int64_t kw = 0; kw < pl->k[2]; kw++, row++) {
                    float *out = dst + row * len;
                    int64_t p = p0;
                    while (p < p1) {
                        int64_t od = p / plane_out, rem = p % plane_out;
                        int64_t oh = rem / pl->out[2], ow = rem % pl->out[2];
                        int64_t run = EVO_MIN(pl->out[2] - ow, p1 - p);
                        int64_t id = od * pl->s[0] - pl->p[0] + kd * pl->d[0];
                        int64_t ih = oh * pl->s[1] - pl->p[1] + kh * pl->d[1];
                        float *o = out + (p - p0);
                        if (id < 0 || id >= pl->in[0] || ih < 0 || ih >= pl->in[1]) {
                            memset(o, 0, sizeof(float) * (size_t)run);
                        } else {
                            const float *src = xc + (id * pl->in[1] + ih) * pl->in[2];
                            int64_t iw = ow * pl->s[2] - pl->p[2] + kw * pl->d[2];
                            for (int64_t t = 0; t < run; t++, iw += pl->s[2])
                                o[t] = (iw >= 0 && iw < pl->in[2]) ? src[iw] : 0.0f;
                        }
                        p += run;
                    }
                }
    }
}

static size_t conv_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    conv_plan pl;
    conv_plan_make(&pl, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                   g->values[n->out[0]].dims, n_tasks);
    return pl.slice_bytes * (size_t)n_tasks;
}

static void conv_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    conv_plan pl;
    conv_plan_make(&pl, c, a->in[0].dims, a->in[1].dims, a->out[0].dims, n_tasks);
    const float *x = a->in[0].data, *w = a->in[1].data;
    const float *bias = (a->n_in > 2 && a->in[2].data) ? a->in[2].data : NULL;
    const float *res = (c->has_residual && a->n_in > 3) ? a->in[3].data : NULL;
    float *y = a->out[0].data;
    unsigned char *slice = (unsigned char *)a->scratch + pl.slice_bytes * (size_t)task;
    float *cols = (float *)slice, *outs = (float *)(slice + pl.im2col_bytes);
    void *gemm_scratch = slice + pl.im2col_bytes + pl.out_bytes;

    int64_t begin, end;
    evo_task_range(pl.n_items, task, n_tasks, &begin, &end);
    for (int64_t item = begin; item < end; item++) {
        int64_t chunk_i = item % pl.n_chunks, bg = item / pl.n_chunks;
        int64_t b = bg / pl.group, grp = bg % pl.group;
        int64_t p0 = chunk_i * pl.chunk, p1 = EVO_MIN(p0 + pl.chunk, pl.out_size);
        const float *xg = x + (b * pl.c_in + grp * pl.c_in_g) * pl.in_size;
        int64_t y_off = (b * pl.c_out + grp * pl.c_out_g) * pl.out_size + p0;

        evo_sgemm_args ga = {pl.c_out_g,  p1 - p0, pl.kdim, 1.0f, 0.0f, w + grp * pl.c_out_g * pl.kdim,
                             pl.kdim,     1,       NULL,    0,    1,    y + y_off,
                             pl.out_size, NULL};
        if (pl.out_groups > 0) {
            ga.c = outs;
            ga.c_rs = p1 - p0;
        }
        if (pl.pointwise) {
            ga.b = xg + p0;
            ga.b_rs = pl.in_size;
        } else {
            im2col(&pl, xg, p0, p1, cols);
            ga.b = cols;
            ga.b_rs = p1 - p0;
        }
        evo_sgemm_epilogue epi = {bias ? bias + grp * pl.c_out_g : NULL,
                                  res ? res + y_off : NULL,
                                  pl.out_size,
                                  1,
                                  1.0f,
                                  c->act,
                                  c->act_alpha,
                                  c->act_beta,
                                  c->residual_after_act};
        if (epi.bias_m || epi.add || epi.act != EVO_ACT_NONE)
            ga.epi = &epi;
        evo_sgemm_ref(&ga, gemm_scratch);
        if (pl.out_groups > 0) { /* channel co, position p -> [b][co / cg][p][co % cg] */
            int64_t cg = pl.c_out / pl.out_groups;
            for (int64_t i = 0; i < pl.c_out_g; i++) {
                int64_t co = grp * pl.c_out_g + i;
                float *dst = y + ((b * pl.out_groups + co / cg) * pl.out_size + p0) * cg + co % cg;
                for (int64_t p = 0; p < p1 - p0; p++)
                    dst[p * cg] = outs[i * (p1 - p0) + p];
            }
        }
    }
}

const evo_kernel_def evo_kernel_conv_ref = {"ref", EVO_ISA_REF, NULL, conv_scratch, conv_run};
