/*
 * qdq.c - reading the parameters of DequantizeLinear / QuantizeLinear
 * nodes for the QDQ folding passes (see qdq.h).
 */
#include "passes/qdq.h"
#include "passes/rewrite.h"

bool evo_qdq_is_const(const evo_graph *g, int v)
{
    return v >= 0 && g->values[v].data != NULL;
}

int evo_qdq_single_reader(const evo_graph *g, int v)
{
    int r[2];
    return evo_consumers(g, v, r, 2) == 1 ? r[0] : -1;
}

const char *evo_qparam_of(const evo_graph *g, int id, evo_qparam *q)
{
    const evo_node *n = &g->nodes[id];
    bool dq = n->op == EVO_OP_DEQUANTIZE_LINEAR;
    q->node = id;
    q->data = dq ? n->in[0] : n->out[0];
    q->scale = n->n_in > 1 ? n->in[1] : -1;
    q->zp = n->n_in > 2 ? n->in[2] : -1;
    if (q->data < 0 || !evo_qdq_is_const(g, q->scale) || (q->zp >= 0 && !evo_qdq_is_const(g, q->zp)))
        return dq ? "a DequantizeLinear scale or zero point is not constant"
                  : "the QuantizeLinear scale or zero point is not constant";
    q->dtype = g->values[q->data].dtype;
    q->count = evo_value_count(&g->values[q->scale]);
    return NULL;
}

int evo_qdq_dq_node(const evo_graph *g, int v)
{
    int p = v >= 0 ? g->values[v].producer : -1;
    if (p < 0 || g->nodes[p].op != EVO_OP_DEQUANTIZE_LINEAR || (g->nodes[p].is_dead && !evo_qdq_is_const(g, v)))
        return -1;
    return p;
}

float evo_qparam_scale(const evo_graph *g, const evo_qparam *q, int64_t i)
{
    return ((const float *)g->values[q->scale].data)[q->count > 1 ? i : 0];
}

int32_t evo_qparam_zp(const evo_graph *g, const evo_qparam *q, int64_t i)
{
    if (q->zp < 0)
        return 0;
    const evo_value *z = &g->values[q->zp];
    int64_t k = evo_value_count(z) > 1 ? i : 0;
    switch (z->dtype) {
    case EVO_DTYPE_INT8: return ((const int8_t *)z->data)[k];
    case EVO_DTYPE_UINT8: return ((const uint8_t *)z->data)[k];
    case EVO_DTYPE_INT32: return ((const int32_t *)z->data)[k];
    default: return 0;
    }
}

int evo_qparam_zp_value(evo_graph *g, const evo_qparam *q, const char *base)
{
    if (q->zp >= 0)
        return q->zp;
    uint8_t zero = 0;
    return evo_new_const(g, base, q->dtype, 0, NULL, &zero);
}

const int32_t *evo_qdq_int32_bias(const evo_graph *g, int bias, const evo_qparam *x, const evo_qparam *w,
                                  int64_t n)
{
    evo_qparam b;
    int p = evo_qdq_dq_node(g, bias);
    if (p < 0 || evo_qparam_of(g, p, &b) || b.dtype != EVO_DTYPE_INT32 || !evo_qdq_is_const(g, b.data))
        return NULL;
    for (int64_t i = 0; i < n; i++) {
        if (evo_qparam_zp(g, &b, i) != 0 ||
            evo_qparam_scale(g, &b, i) != evo_qparam_scale(g, x, 0) * evo_qparam_scale(g, w, i))
            return NULL;
    }
    return g->values[b.data].data;
}

void evo_qdq_drop_unread_dq(evo_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *n = &g->nodes[i];
        int r;
        if (!n->is_dead && n->op == EVO_OP_DEQUANTIZE_LINEAR && evo_consumers(g, n->out[0], &r, 1) == 0)
            n->is_dead = true;
    }
}
