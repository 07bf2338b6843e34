/*
 * qconv_ref.c - reference QLinearConv and ConvInteger: a direct
 * convolution over logical indices, integer-exact.
 *
 * acc = sum (x - x_zp) * (w - w_zp[m]) + B[m] in int32; padded positions
 * hold x_zp and so add nothing. ConvInteger stores acc; QLinearConv
 * requantizes it per output channel (quant_out.h: FLOAT or FIXED, fused
 * clamp or table activation). Every spatial rank is handled as 3-D
 * (missing leading dims have extent 1). Tasks take ranges of output rows
 * (image, channel, z, y) and accumulate a whole row per weight tap in their
 * int64 scratch slice.
 */
#include "kernels/kernel.h"
#include "kernels/quant_out.h"

#include <string.h>

typedef struct qconv_geom {
    int64_t batch, c_in, c_out, c_in_g, c_out_g;
    int64_t in[3], out[3], k[3], s[3], d[3], p[3];
} qconv_geom;

/* The quantized operands of either op. */
typedef struct qconv_src {
    const void *x, *w;
    evo_dtype xt, wt;
    int32_t x_zp;
    const void *w_zp; /* NULL: 0 */
    int64_t n_w_zp;
    const int32_t *bias; /* NULL: none */
} qconv_src;

static void qconv_geom_make(qconv_geom *gm, const evo_conv_attrs *c, const int64_t *x_dims, const int64_t *w_dims,
                            const int64_t *y_dims)
{
    int off = 3 - c->n_spatial;
    gm->batch = x_dims[0];
    gm->c_in = x_dims[1];
    gm->c_out = w_dims[0];
    gm->c_in_g = gm->c_in / c->group;
    gm->c_out_g = gm->c_out / c->group;
    for (int i = 0; i < 3; i++) {
        int j = i - off;
        gm->in[i] = j >= 0 ? x_dims[2 + j] : 1;
        gm->out[i] = j >= 0 ? y_dims[2 + j] : 1;
        gm->k[i] = j >= 0 ? w_dims[2 + j] : 1;
        gm->s[i] = j >= 0 ? c->stride[j] : 1;
        gm->d[i] = j >= 0 ? c->dilation[j] : 1;
        gm->p[i] = j >= 0 ? c->pad_begin[j] : 0;
    }
}

/* Bytes of one task's accumulator row (int64 per output column), 64-byte aligned. */
static size_t qconv_row_bytes(int64_t out_w)
{
    return ((size_t)out_w * sizeof(int64_t) + 63) & ~(size_t)63;
}

static size_t qconv_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    const evo_value *y = &g->values[n->out[0]];
    return qconv_row_bytes(y->dims[y->rank - 1]) * (size_t)n_tasks;
}

/*
 * The accumulators of output row (b, m, oz, oy), all columns at once: each
 * weight tap adds (x - x_zp) * (w - w_zp[m]) to the columns whose input is
 * inside the image. Summed in int64 and wrapped to int32 by the caller, as
 * an int32 accumulator would wrap.
 */
static void qconv_row(const qconv_geom *gm, const qconv_src *s, int64_t b, int64_t m, int64_t oz, int64_t oy,
                      int64_t *acc)
{
    int64_t grp = m / gm->c_out_g, in_plane = gm->in[0] * gm->in[1] * gm->in[2];
    int64_t kprod = gm->k[0] * gm->k[1] * gm->k[2], out_w = gm->out[2];
    int32_t w_zp = s->w_zp ? evo_quant_load(s->w_zp, s->wt, s->n_w_zp > 1 ? m : 0) : 0;
    for (int64_t ox = 0; ox < out_w; ox++)
        acc[ox] = s->bias ? s->bias[m] : 0;
    for (int64_t c = 0; c < gm->c_in_g; c++) {
        int64_t x_base = (b * gm->c_in + grp * gm->c_in_g + c) * in_plane;
        int64_t w_base = (m * gm->c_in_g + c) * kprod;
        for (int64_t kz = 0; kz < gm->k[0]; kz++) {
            int64_t iz = oz * gm->s[0] - gm->p[0] + kz * gm->d[0];
            if (iz < 0 || iz >= gm->in[0])
                continue;
            for (int64_t ky = 0; ky < gm->k[1]; ky++) {
                int64_t iy = oy * gm->s[1] - gm->p[1] + ky * gm->d[1];
                if (iy < 0 || iy >= gm->in[1])
                    continue;
                int64_t x_row = x_base + (iz * gm->in[1] + iy) * gm->in[2];
                int64_t w_row = w_base + (kz * gm->k[1] + ky) * gm->k[2];
                for (int64_t kx = 0; kx < gm->k[2]; kx++) {
                    int32_t wv = evo_quant_load(s->w, s->wt, w_row + kx) - w_zp;
                    int64_t off = kx * gm->d[2] - gm->p[2]; /* ix = ox * stride + off */
                    int64_t lo = off >= 0 ? 0 : (-off + gm->s[2] - 1) / gm->s[2];
                    int64_t hi = gm->in[2] - 1 - off < 0 ? -1 : (gm->in[2] - 1 - off) / gm->s[2];
                    hi = hi < out_w - 1 ? hi : out_w - 1;
                    for (int64_t ox = lo; ox <= hi; ox++)
                        acc[ox] += (int64_t)((evo_quant_load(s->x, s->xt, x_row + ox * gm->s[2] + off) - s->x_zp) * wv);
                }
            }
        }
    }
}

static void qconv_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_node *node = a->node;
    const evo_conv_attrs *c = &node->a.conv;
    bool qlinear = node->op == EVO_OP_QLINEAR_CONV;
    const evo_tensor *x = &a->in[0], *w = &a->in[qlinear ? 3 : 1];
    int wzp_in = qlinear ? 5 : 3;
    const evo_tensor *xzp = a->n_in > 2 ? &a->in[2] : NULL, *wzp = a->n_in > wzp_in ? &a->in[wzp_in] : NULL;
    qconv_src s = {x->data, w->data, x->dtype, w->dtype, 0, NULL, 0, NULL};
    if (xzp && xzp->data)
        s.x_zp = evo_quant_load(xzp->data, x->dtype, 0);
    if (wzp && wzp->data) {
        s.w_zp = wzp->data;
        s.n_w_zp = evo_tensor_count(wzp);
    }
    if (qlinear && a->n_in > 8 && a->in[8].data)
        s.bias = a->in[8].data;
    qconv_geom gm;
    qconv_geom_make(&gm, c, x->dims, w->dims, a->out[0].dims);

    evo_quant_out o;
    const float *w_scale = NULL;
    int64_t n_w_scale = 0;
    if (qlinear) {
        const evo_tensor *yzp = &a->in[7];
        int32_t y_zp = yzp->data ? evo_quant_load(yzp->data, a->out[0].dtype, 0) : 0;
        evo_quant_out_init(&o, c->requant, c->act_table, a->out[0].dtype, c->act, c->act_alpha, c->act_beta,
                           c->act_scale, c->act_zp, *(const float *)a->in[1].data, *(const float *)a->in[6].data, y_zp);
        w_scale = a->in[4].data;
        n_w_scale = evo_tensor_count(&a->in[4]);
    }
    int64_t n_rows = gm.batch * gm.c_out * gm.out[0] * gm.out[1], begin, end;
    int64_t *acc = (int64_t *)(void *)((unsigned char *)a->scratch + qconv_row_bytes(gm.out[2]) * (size_t)task);
    evo_task_range(n_rows, task, n_tasks, &begin, &end);
    for (int64_t r = begin; r < end; r++) {
        int64_t oy = r % gm.out[1], oz = r / gm.out[1] % gm.out[0];
        int64_t m = r / (gm.out[1] * gm.out[0]) % gm.c_out, b = r / (gm.out[1] * gm.out[0] * gm.c_out);
        int64_t y_off = r * gm.out[2];
        qconv_row(&gm, &s, b, m, oz, oy, acc);
        if (!qlinear) {
            int32_t *y = (int32_t *)a->out[0].data + y_off;
            for (int64_t ox = 0; ox < gm.out[2]; ox++)
                y[ox] = (int32_t)(uint32_t)(uint64_t)acc[ox];
            continue;
        }
        evo_quant_chan ch = evo_quant_out_chan(&o, w_scale[n_w_scale > 1 ? m : 0]);
        for (int64_t ox = 0; ox < gm.out[2]; ox++)
            evo_quant_store(a->out[0].data, o.dtype, y_off + ox,
                            evo_quant_out_value(&o, &ch, (int32_t)(uint32_t)(uint64_t)acc[ox]));
    }
}

const evo_kernel_def evo_kernel_qconv_ref = {"ref", EVO_ISA_REF, NULL, qconv_scratch, qconv_run};
