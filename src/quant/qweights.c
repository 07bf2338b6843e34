/*
 * qweights.c - a float compute node becomes its QLinear form in place:
 * Conv -> QLinearConv, MatMul / bias-free Gemm -> QLinearMatMul, with
 * weights int8 symmetric per output channel (scale max|w| / 127, zero
 * point 0), bias int32 at scale x_scale * w_scale[c], requantization
 * EVO_REQUANT_FIXED and the fused activation (docs/int8.md).
 */
#include "quant/actrange.h"
#include "quant/quant_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int quant_const_scalar(evo_graph *g, const char *base, const char *what, evo_dtype dtype, double v)
{
    char name[512];
    snprintf(name, sizeof(name), "%s:%s", base, what);
    int id = evo_graph_add_value(g, name);
    if (id < 0)
        return -1;
    float f = (float)v;
    int8_t i8 = (int8_t)v;
    uint8_t u8 = (uint8_t)v;
    const void *data = dtype == EVO_DTYPE_FLOAT ? (const void *)&f : dtype == EVO_DTYPE_INT8 ? (const void *)&i8 : (const void *)&u8;
    if (evo_value_set_const(g, &g->values[id], dtype, 0, NULL, data, NULL) != EVO_OK)
        return -1;
    return id;
}

/*
 * A new constant named base:what with dims and data (copied); -1 on failure.
 * dims may point into the graph's values, which adding a value moves: it is
 * copied first.
 */
static int new_const(evo_graph *g, const char *base, const char *what, evo_dtype dtype, int rank,
                     const int64_t *dims, const void *data)
{
    char name[512];
    int64_t d[EVO_MAX_RANK];
    if (rank < 0 || rank > EVO_MAX_RANK)
        return -1;
    for (int i = 0; i < rank; i++)
        d[i] = dims[i];
    snprintf(name, sizeof(name), "%s:%s", base, what);
    int id = evo_graph_add_value(g, name);
    if (id < 0 || evo_value_set_const(g, &g->values[id], dtype, rank, d, data, NULL) != EVO_OK)
        return -1;
    return id;
}

/* Saturating; a NaN weight or bias (a broken model) becomes 0 rather than undefined behaviour. */
static int8_t quant_weight(float w, float scale)
{
    float v = nearbyintf(w / scale);
    return isnan(v) ? 0 : (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
}

static int32_t quant_bias(float b, double scale)
{
    double v = nearbyint((double)b / scale);
    return isnan(v) ? 0 : (int32_t)(v > 2147483647.0 ? 2147483647.0 : v < -2147483648.0 ? -2147483648.0 : v);
}

typedef struct qlinear_io {
    int x_q, y_q;
    evo_qparams x, y;
} qlinear_io;

/* The 9 inputs of QLinearConv from the float Conv n. */
static evo_status conv_inputs(evo_graph *g, evo_node *n, const qlinear_io *io, int *in, evo_error *err)
{
    /* g->values moves as constants are added below: what is needed of W is taken now */
    const evo_value *w = &g->values[n->in[1]];
    const evo_value *b = n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
    int64_t m = w->dims[0], per = evo_value_count(w) / (m ? m : 1), w_dims[EVO_MAX_RANK];
    int w_rank = w->rank;
    memcpy(w_dims, w->dims, sizeof(w_dims));
    const float *wf = w->data, *bf = b ? b->data : NULL;
    float *ws = malloc(sizeof(float) * (size_t)m);
    int8_t *wq = malloc((size_t)(m * per) + 1), *wzp = calloc((size_t)m + 1, 1);
    int32_t *bq = malloc(sizeof(int32_t) * (size_t)m);
    evo_status s = EVO_OK;
    if (!ws || !wq || !wzp || !bq) {
        s = evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory quantizing the weights");
        goto done;
    }
    for (int64_t c = 0; c < m; c++) {
        ws[c] = evo_qparams_weight_scale(wf + c * per, per);
        for (int64_t k = 0; k < per; k++)
            wq[c * per + k] = quant_weight(wf[c * per + k], ws[c]);
        bq[c] = bf ? quant_bias(bf[c], (double)io->x.scale * ws[c]) : 0;
    }
    int64_t mdim[1] = {m};
    in[0] = io->x_q;
    in[1] = quant_const_scalar(g, n->name, "x_scale", EVO_DTYPE_FLOAT, io->x.scale);
    in[2] = quant_const_scalar(g, n->name, "x_zero_point", io->x.dtype, io->x.zp);
    in[3] = new_const(g, n->name, "w_int8", EVO_DTYPE_INT8, w_rank, w_dims, wq);
    in[4] = new_const(g, n->name, "w_scale", EVO_DTYPE_FLOAT, 1, mdim, ws);
    in[5] = new_const(g, n->name, "w_zero_point", EVO_DTYPE_INT8, 1, mdim, wzp);
    in[6] = quant_const_scalar(g, n->name, "y_scale", EVO_DTYPE_FLOAT, io->y.scale);
    in[7] = quant_const_scalar(g, n->name, "y_zero_point", io->y.dtype, io->y.zp);
    in[8] = new_const(g, n->name, "bias_int32", EVO_DTYPE_INT32, 1, mdim, bq);
done:
    free(ws);
    free(wq);
    free(wzp);
    free(bq);
    return s;
}

/* The 8 inputs of QLinearMatMul from MatMul / Gemm n: B as [K, N], one scale per column. */
static evo_status matmul_inputs(evo_graph *g, evo_node *n, const qlinear_io *io, int *in, evo_error *err)
{
    const evo_value *b = &g->values[n->in[1]];
    bool trans = n->op == EVO_OP_GEMM && n->a.gemm.trans_b;
    int64_t kd = trans ? b->dims[1] : b->dims[0], nd = trans ? b->dims[0] : b->dims[1];
    const float *bf = b->data;
    float *bs = malloc(sizeof(float) * (size_t)nd + 1), *col = malloc(sizeof(float) * (size_t)kd + 1);
    int8_t *bq = malloc((size_t)(kd * nd) + 1), *bzp = calloc((size_t)nd + 1, 1);
    evo_status s = EVO_OK;
    if (!bs || !col || !bq || !bzp) {
        s = evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory quantizing the weights");
        goto done;
    }
    for (int64_t j = 0; j < nd; j++) {
        for (int64_t k = 0; k < kd; k++)
            col[k] = trans ? bf[j * kd + k] : bf[k * nd + j];
        bs[j] = evo_qparams_weight_scale(col, kd);
        for (int64_t k = 0; k < kd; k++)
            bq[k * nd + j] = quant_weight(col[k], bs[j]);
    }
    int64_t bdims[2] = {kd, nd}, ndim[1] = {nd};
    in[0] = io->x_q;
    in[1] = quant_const_scalar(g, n->name, "a_scale", EVO_DTYPE_FLOAT, io->x.scale);
    in[2] = quant_const_scalar(g, n->name, "a_zero_point", io->x.dtype, io->x.zp);
    in[3] = new_const(g, n->name, "b_int8", EVO_DTYPE_INT8, 2, bdims, bq);
    in[4] = new_const(g, n->name, "b_scale", EVO_DTYPE_FLOAT, 1, ndim, bs);
    in[5] = new_const(g, n->name, "b_zero_point", EVO_DTYPE_INT8, 1, ndim, bzp);
    in[6] = quant_const_scalar(g, n->name, "y_scale", EVO_DTYPE_FLOAT, io->y.scale);
    in[7] = quant_const_scalar(g, n->name, "y_zero_point", io->y.dtype, io->y.zp);
done:
    free(bs);
    free(col);
    free(bq);
    free(bzp);
    return s;
}

evo_status quant_convert_compute(quant_state *q, int id, int x_q, int y_q, evo_error *err)
{
    evo_graph *g = q->g;
    evo_node *n = &g->nodes[id];
    int x = n->in[0], pre = n->out[0];
    qlinear_io io = {x_q, y_q, q->qp[quant_find(q, x)], q->qp[quant_find(q, q->act_out[id])]};
    bool is_conv = n->op == EVO_OP_CONV;
    int n_in = is_conv ? 9 : 8;
    int *in = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)n_in);
    if (!in)
        return evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory");
    evo_status s = is_conv ? conv_inputs(g, n, &io, in, err) : matmul_inputs(g, n, &io, in, err);
    if (s)
        return s;
    n = &g->nodes[id];
    for (int k = 0; k < n_in; k++)
        if (in[k] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory adding quantization constants");
    /* a table activation reads the pre-activation in its own calibrated scale */
    evo_qparams act_qp = {1.0f, 0, io.y.dtype};
    evo_act act = q->act[id];
    if (act != EVO_ACT_NONE && act != EVO_ACT_RELU && act != EVO_ACT_CLIP) {
        double lo, hi;
        const evo_hist *h = evo_calib_hist(q->cal, pre);
        evo_hist_range(h, q->o->method, q->o->percentile, 256, &lo, &hi);
        quant_act_input_range(h, act, q->act_alpha[id], q->act_beta[id], 256, &lo, &hi);
        evo_qparams_from_range(lo, hi, q->o->act_dtype, q->o->act_symmetric, &act_qp);
    }
    n->in = in;
    n->n_in = n_in;
    n->out[0] = y_q;
    n->domain = "";
    if (is_conv) {
        n->op = EVO_OP_QLINEAR_CONV;
        n->op_type = "QLinearConv";
        n->a.conv.requant = EVO_REQUANT_FIXED;
        n->a.conv.act = act;
        n->a.conv.act_alpha = q->act_alpha[id];
        n->a.conv.act_beta = q->act_beta[id];
        n->a.conv.act_scale = act_qp.scale;
        n->a.conv.act_zp = act_qp.zp;
        n->a.conv.act_table = q->o->act_table;
    } else {
        n->op = EVO_OP_QLINEAR_MATMUL;
        n->op_type = "QLinearMatMul";
        memset(&n->a.gemm, 0, sizeof(n->a.gemm));
        n->a.gemm.alpha = n->a.gemm.beta = 1.0f;
        n->a.gemm.requant = EVO_REQUANT_FIXED;
        n->a.gemm.act = act;
        n->a.gemm.act_alpha = q->act_alpha[id];
        n->a.gemm.act_beta = q->act_beta[id];
        n->a.gemm.act_scale = act_qp.scale;
        n->a.gemm.act_zp = act_qp.zp;
        n->a.gemm.act_table = q->o->act_table;
        n->n_attrs = 0; /* Gemm's transB was applied to the constant */
    }
    return EVO_OK;
}
