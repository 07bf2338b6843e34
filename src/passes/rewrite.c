/*
 * rewrite.c - graph rewriting helpers shared by the fusion passes.
 */
#include "passes/rewrite.h"

#include <stdio.h>

int evo_consumers(const evo_graph *g, int v, int *out, int max)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *node = &g->nodes[i];
        if (node->is_dead)
            continue;
        for (int k = 0; k < node->n_in; k++) {
            if (node->in[k] == v) {
                if (n < max)
                    out[n] = i;
                n++;
                break;
            }
        }
    }
    for (int k = 0; k < g->n_outputs; k++) {
        if (g->outputs[k] == v) {
            if (n < max)
                out[n] = -1;
            n++;
        }
    }
    return n;
}

void evo_redirect_output(evo_graph *g, int keep, int v)
{
    g->nodes[keep].out[0] = v;
    g->values[v].producer = keep;
}

int evo_new_const(evo_graph *g, const char *base, evo_dtype dtype, int rank, const int64_t *dims, const void *data)
{
    char name[300];
    snprintf(name, sizeof(name), "%s:folded%d", base, g->n_values);
    int id = evo_graph_add_value(g, name);
    if (id < 0)
        return -1;
    if (evo_value_set_const(g, &g->values[id], dtype, rank, dims, data, NULL) != EVO_OK)
        return -1;
    return id;
}

int evo_new_const_f32(evo_graph *g, const char *base, int rank, const int64_t *dims, const float *data)
{
    return evo_new_const(g, base, EVO_DTYPE_FLOAT, rank, dims, data);
}

int evo_sole_reader(const evo_graph *g, int v)
{
    int r[2];
    return v >= 0 && evo_consumers(g, v, r, 2) == 1 && r[0] >= 0 ? r[0] : -1;
}

bool evo_conv_like(const evo_node *n)
{
    return (n->op == EVO_OP_CONV || n->op == EVO_OP_QLINEAR_CONV) && n->a.conv.n_spatial == 2 &&
           !n->a.conv.has_residual && n->a.conv.out_groups == 0;
}

int evo_conv_weight_input(const evo_node *n)
{
    return n->op == EVO_OP_QLINEAR_CONV ? 3 : 1;
}

double evo_conv_weight_zp(const evo_graph *g, const evo_node *n, int64_t o)
{
    if (n->op != EVO_OP_QLINEAR_CONV || n->n_in < 6 || n->in[5] < 0)
        return 0;
    const evo_value *z = &g->values[n->in[5]];
    int64_t i = evo_value_count(z) > 1 ? o : 0;
    if (!z->data || i >= evo_value_count(z))
        return 0;
    return z->dtype == EVO_DTYPE_INT8 ? ((const int8_t *)z->data)[i] : ((const uint8_t *)z->data)[i];
}

double evo_weight_get(const void *buf, evo_dtype t, int64_t i)
{
    return t == EVO_DTYPE_FLOAT ? ((const float *)buf)[i]
           : t == EVO_DTYPE_INT8 ? ((const int8_t *)buf)[i]
                                 : ((const uint8_t *)buf)[i];
}

void evo_weight_put(void *buf, evo_dtype t, int64_t i, double v)
{
    if (t == EVO_DTYPE_FLOAT)
        ((float *)buf)[i] = (float)v;
    else if (t == EVO_DTYPE_INT8)
        ((int8_t *)buf)[i] = (int8_t)v;
    else
        ((uint8_t *)buf)[i] = (uint8_t)v;
}
