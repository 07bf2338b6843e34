/*
 * policy.c - the layers evo quantize keeps fp32 by default besides the
 * worst-ranked ones: those that write a model output. A detector's last
 * class and box layers feed scores and box distributions that the decode
 * thresholds, exponentiates or softmaxes, so one per-tensor step there
 * moves detections directly, while the layers cost little (1x1 or 3x3
 * Convs to a few dozen channels).
 */
#include "quant/quant_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* out[i]: from node i's outputs a graph output is reachable through non-compute nodes only. */
static bool *reaches_output(const evo_graph *g)
{
    bool *out = calloc((size_t)g->n_nodes + 1, sizeof(bool));
    if (!out)
        return NULL;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        for (int o = 0; o < n->n_out && !out[i]; o++) {
            int v = n->out[o];
            if (v < 0)
                continue;
            out[i] = g->values[v].is_output;
            for (int k = 0; k < g->n_outputs; k++)
                out[i] |= g->outputs[k] == v;
            /* readers come later in topological order */
            for (int j = i + 1; j < g->n_nodes && !out[i]; j++) {
                const evo_node *r = &g->nodes[j];
                if (r->is_dead || quant_is_compute(r) || !out[j])
                    continue;
                for (int k = 0; k < r->n_in; k++)
                    out[i] |= r->in[k] == v;
            }
        }
    }
    return out;
}

bool evo_quant_output_layers(const evo_graph *g, char *buf, size_t cap)
{
    bool *out = reaches_output(g);
    size_t len = 0;
    bool ok = out != NULL && cap > 0;
    if (ok)
        buf[0] = 0;
    for (int i = 0; ok && i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead || !quant_is_compute(n) || !out[i])
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? "," : "", n->name);
        ok = w >= 0 && (size_t)w < cap - len;
        len += ok ? (size_t)w : 0;
    }
    free(out);
    return ok;
}
