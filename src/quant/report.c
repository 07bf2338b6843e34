/*
 * report.c - quantized vs float, layer by layer and at the outputs
 * (report.h). A quantized layer's output "<name>:q" is compared with the
 * float value "<name>" of the unfused float graph after dequantizing it
 * with the layer's own y_scale and y_zero_point.
 */
#include "exec/session.h"
#include "quant/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double evo_quant_sqnr_db(const evo_quant_err *e)
{
    if (e->err2 <= 0)
        return 200.0;
    if (e->ref2 <= 0)
        return -200.0;
    double db = 10.0 * log10(e->ref2 / e->err2);
    return db > 200 ? 200 : db;
}

double evo_quant_cosine(const evo_quant_err *e)
{
    if (e->ref2 <= 0 && e->q2 <= 0)
        return 1.0;
    if (e->ref2 <= 0 || e->q2 <= 0)
        return 0.0;
    return e->dot / sqrt(e->ref2 * e->q2);
}

void evo_quant_err_add(evo_quant_err *e, const float *ref, const float *q, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double r = ref[i], v = q[i], d = v - r;
        e->ref2 += r * r;
        e->err2 += d * d;
        e->dot += r * v;
        e->q2 += v * v;
    }
}

void evo_quant_compare_free(evo_quant_compare *c)
{
    if (c) {
        free(c->layers);
        memset(c, 0, sizeof(*c));
    }
}

typedef struct layer_map {
    int fp_value, q_value;
    float scale;
    int32_t zp;
    evo_dtype dtype;
    int64_t count;
    float *ref; /* the float value of the current input */
} layer_map;

typedef struct compare_ctx {
    layer_map *maps;
    int n;
    int *fp_layer, *q_layer; /* per value id of each graph: layer index or -1 */
    float *deq;              /* scratch: one dequantized tensor */
    evo_quant_compare *out;
} compare_ctx;

static void observe_fp(void *user, const evo_node *n, const evo_tensor *outs, int n_out)
{
    compare_ctx *c = user;
    for (int k = 0; k < n_out; k++) {
        int l = n->out[k] >= 0 ? c->fp_layer[n->out[k]] : -1;
        if (l >= 0 && outs[k].data && outs[k].dtype == EVO_DTYPE_FLOAT)
            memcpy(c->maps[l].ref, outs[k].data, sizeof(float) * (size_t)c->maps[l].count);
    }
}

static void observe_q(void *user, const evo_node *n, const evo_tensor *outs, int n_out)
{
    compare_ctx *c = user;
    for (int k = 0; k < n_out; k++) {
        int l = n->out[k] >= 0 ? c->q_layer[n->out[k]] : -1;
        if (l < 0 || !outs[k].data)
            continue;
        const layer_map *m = &c->maps[l];
        for (int64_t i = 0; i < m->count; i++) {
            int32_t v = m->dtype == EVO_DTYPE_INT8 ? ((const int8_t *)outs[k].data)[i]
                                                   : ((const uint8_t *)outs[k].data)[i];
            c->deq[i] = m->scale * (float)(v - m->zp);
        }
        evo_quant_err_add(&c->out->layers[l].err, m->ref, c->deq, m->count);
    }
}

static int32_t const_zp(const evo_value *v)
{
    if (!v || !v->data)
        return 0;
    return v->dtype == EVO_DTYPE_INT8 ? ((const int8_t *)v->data)[0] : ((const uint8_t *)v->data)[0];
}

/* One layer per QLinearConv / QLinearMatMul / QLinearAdd / QLinearMul whose float twin exists in fpg. */
static evo_status build_maps(const evo_graph *fpg, const evo_graph *qg, compare_ctx *c, int64_t *max_count,
                             evo_error *err)
{
    for (int i = 0; i < qg->n_nodes; i++) {
        const evo_node *n = &qg->nodes[i];
        bool layer = n->op == EVO_OP_QLINEAR_CONV || n->op == EVO_OP_QLINEAR_MATMUL ||
                     n->op == EVO_OP_QLINEAR_ADD || n->op == EVO_OP_QLINEAR_MUL;
        if (n->is_dead || !layer || n->n_in < 8)
            continue;
        const evo_value *y = &qg->values[n->out[0]];
        size_t len = strlen(y->name);
        if (len < 3 || strcmp(y->name + len - 2, ":q") != 0)
            continue;
        char name[512];
        snprintf(name, sizeof(name), "%.*s", (int)(len - 2), y->name);
        int fv = evo_graph_find_value(fpg, name);
        if (fv < 0 || fpg->values[fv].dtype != EVO_DTYPE_FLOAT ||
            evo_value_count(&fpg->values[fv]) != evo_value_count(y))
            continue;
        const evo_value *ys = &qg->values[n->in[6]];
        layer_map *m = &c->maps[c->n];
        *m = (layer_map){fv,
                         n->out[0],
                         ys->data ? *(const float *)ys->data : 1.0f,
                         const_zp(&qg->values[n->in[7]]),
                         y->dtype,
                         evo_value_count(y),
                         malloc(sizeof(float) * (size_t)evo_value_count(y) + 1)};
        if (!m->ref)
            return evo_errorf(err, EVO_ERR_NOMEM, "out of memory comparing layers");
        c->out->layers[c->n] = (evo_quant_layer){n->name, n->op_type, fpg->values[fv].name, {0, 0, 0, 0}};
        c->fp_layer[fv] = c->n;
        c->q_layer[n->out[0]] = c->n;
        *max_count = m->count > *max_count ? m->count : *max_count;
        c->n++;
    }
    return EVO_OK;
}

static evo_status run_one(evo_session *fp_sess, const evo_model *fp, evo_session *q_sess, const evo_model *q8,
                          const float *input, bool layers, compare_ctx *c, evo_error *err)
{
    evo_tensor_desc d;
    evo_model_input_desc(fp, 0, &d);
    memcpy(evo_session_input_data(fp_sess, 0), input, d.size_bytes);
    memcpy(evo_session_input_data(q_sess, 0), input, d.size_bytes);
    evo_status s =
        layers ? evo_session_run_observed(fp_sess, observe_fp, c, err) : evo_session_run(fp_sess, err);
    if (!s)
        s = layers ? evo_session_run_observed(q_sess, observe_q, c, err) : evo_session_run(q_sess, err);
    for (int k = 0; !s && k < evo_model_n_outputs(fp); k++) {
        evo_tensor_desc fo, qo;
        evo_model_output_desc(fp, k, &fo);
        evo_model_output_desc(q8, k, &qo);
        if (fo.dtype != EVO_DTYPE_FLOAT || qo.dtype != EVO_DTYPE_FLOAT || fo.size_bytes != qo.size_bytes)
            continue;
        evo_quant_err_add(&c->out->output, evo_session_output_data(fp_sess, k),
                          evo_session_output_data(q_sess, k), (int64_t)(fo.size_bytes / sizeof(float)));
    }
    return s;
}

evo_status evo_quant_compare_run(evo_session *fp_sess, const evo_model *fp, evo_session *q_sess,
                                 const evo_model *q8, const float *const *inputs, int n, bool layers,
                                 evo_quant_compare *out, evo_error *err)
{
    memset(out, 0, sizeof(*out));
    const evo_graph *fpg = fp->g, *qg = q8->g;
    compare_ctx c = {NULL, 0, NULL, NULL, NULL, out};
    c.maps = calloc((size_t)qg->n_nodes + 1, sizeof(layer_map));
    out->layers = calloc((size_t)qg->n_nodes + 1, sizeof(evo_quant_layer));
    c.fp_layer = malloc(sizeof(int) * ((size_t)fpg->n_values + 1));
    c.q_layer = malloc(sizeof(int) * ((size_t)qg->n_values + 1));
    evo_status s = EVO_OK;
    int64_t max_count = 0;
    if (!c.maps || !out->layers || !c.fp_layer || !c.q_layer) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "out of memory comparing layers");
        goto done;
    }
    for (int v = 0; v < fpg->n_values; v++)
        c.fp_layer[v] = -1;
    for (int v = 0; v < qg->n_values; v++)
        c.q_layer[v] = -1;
    if (layers && (s = build_maps(fpg, qg, &c, &max_count, err)))
        goto done;
    out->n_layers = c.n;
    if (!(c.deq = malloc(sizeof(float) * (size_t)max_count + 1))) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "out of memory comparing layers");
        goto done;
    }
    for (int i = 0; i < n && !s; i++)
        s = run_one(fp_sess, fp, q_sess, q8, inputs[i], layers, &c, err);
done:
    for (int l = 0; c.maps && l < c.n; l++)
        free(c.maps[l].ref);
    free(c.maps);
    free(c.fp_layer);
    free(c.q_layer);
    free(c.deq);
    if (s)
        evo_quant_compare_free(out);
    return s;
}
