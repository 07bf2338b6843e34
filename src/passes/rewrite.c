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
