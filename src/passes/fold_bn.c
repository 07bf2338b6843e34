/*
 * fold_bn.c - folds an inference BatchNormalization into the Conv that
 * feeds it: with s = gamma / sqrt(var + eps), W'[m] = W[m] * s[m] and
 * B'[m] = (B[m] - mean[m]) * s[m] + beta[m]. Applies when the conv's
 * weights and the BN's four parameters are constant float tensors and the
 * conv's output has no other reader.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <math.h>
#include <stdlib.h>

static const float *const_f32(const evo_graph *g, const evo_node *n, int i, int64_t count)
{
    if (i >= n->n_in || n->in[i] < 0)
        return NULL;
    const evo_value *v = &g->values[n->in[i]];
    if (!v->data || v->dtype != EVO_DTYPE_FLOAT || evo_value_count(v) != count)
        return NULL;
    return v->data;
}

static evo_status fold_one(evo_graph *g, int conv_id, int bn_id, evo_error *err)
{
    evo_node *conv = &g->nodes[conv_id];
    const evo_node *bn = &g->nodes[bn_id];
    const evo_value *w = &g->values[conv->in[1]];
    int64_t m = w->dims[0], per = evo_value_count(w) / (m ? m : 1);
    const float *gamma = const_f32(g, bn, 1, m), *beta = const_f32(g, bn, 2, m);
    const float *mean = const_f32(g, bn, 3, m), *var = const_f32(g, bn, 4, m);
    const float *wd = w->data, *bd = const_f32(g, conv, 2, m);
    if (!gamma || !beta || !mean || !var || !wd || (conv->n_in > 2 && conv->in[2] >= 0 && !bd))
        return EVO_OK;
    float *nw = malloc(sizeof(float) * (size_t)(m * per));
    float *nb = malloc(sizeof(float) * (size_t)m);
    evo_status s = EVO_OK;
    if (!nw || !nb) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory folding BatchNormalization", g->file);
        goto done;
    }
    for (int64_t o = 0; o < m; o++) {
        float sc = gamma[o] / sqrtf(var[o] + bn->a.bn.epsilon);
        for (int64_t k = 0; k < per; k++)
            nw[o * per + k] = wd[o * per + k] * sc;
        nb[o] = ((bd ? bd[o] : 0.0f) - mean[o]) * sc + beta[o];
    }
    int64_t bdims[1] = {m};
    int wid = evo_new_const_f32(g, g->values[conv->in[1]].name, w->rank, w->dims, nw);
    int bid = evo_new_const_f32(g, bn->name, 1, bdims, nb);
    if (wid < 0 || bid < 0) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory folding BatchNormalization", g->file);
        goto done;
    }
    conv = &g->nodes[conv_id];
    if (conv->n_in < 3) {
        int *in = evo_mem_alloc(&g->mem, sizeof(int) * 4);
        if (!in) {
            s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
            goto done;
        }
        in[0] = conv->in[0];
        in[1] = conv->in[1];
        in[3] = -1;
        conv->in = in;
        conv->n_in = 3;
    }
    conv->in[1] = wid;
    conv->in[2] = bid;
    g->nodes[bn_id].is_dead = true;
    evo_redirect_output(g, conv_id, g->nodes[bn_id].out[0]);
done:
    free(nw);
    free(nb);
    return s;
}

evo_status evo_pass_fold_bn(evo_graph *g, evo_pass_ctx *ctx)
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *bn = &g->nodes[i];
        if (bn->is_dead || bn->op != EVO_OP_BATCH_NORM || bn->in[0] < 0)
            continue;
        int x = bn->in[0], prod = g->values[x].producer, users[2];
        if (prod < 0 || g->values[x].data || evo_consumers(g, x, users, 2) != 1)
            continue;
        const evo_node *conv = &g->nodes[prod];
        if (conv->is_dead || conv->op != EVO_OP_CONV || conv->n_out != 1 ||
            conv->a.conv.act != EVO_ACT_NONE || conv->a.conv.has_residual || conv->in[1] < 0 ||
            !g->values[conv->in[1]].data)
            continue;
        evo_status s = fold_one(g, prod, i, ctx->err);
        if (s)
            return s;
    }
    return EVO_OK;
}
