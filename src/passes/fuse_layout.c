/*
 * fuse_layout.c - lets a Conv write its output in the layout its reader
 * wants instead of a copy moving it there: Conv -> Reshape [N, G, C/G, H,
 * W] -> Transpose perm [0, 1, 3, 4, 2] (YOLOv5's detect head, on its
 * biggest tensors) becomes one Conv with out_groups = G writing [N, G, H,
 * W, C/G] straight into the Transpose's output. The Conv output and the
 * Reshape output must each have no other reader.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

/* The single live node reading v (not a graph output), or -1. */
static int sole_reader(const evo_graph *g, int v)
{
    int users[2];
    return evo_consumers(g, v, users, 2) == 1 && users[0] >= 0 ? users[0] : -1;
}

/* Is node t a Transpose of value v with perm [0, 1, 3, 4, 2]? */
static bool is_group_transpose(const evo_graph *g, const evo_node *t, int v)
{
    static const int want[5] = {0, 1, 3, 4, 2};
    if (t->op != EVO_OP_TRANSPOSE || t->n_out != 1 || t->n_in < 1 || t->in[0] != v ||
        g->values[t->out[0]].rank != 5)
        return false;
    for (int d = 0; d < 5; d++)
        if (t->a.transpose.perm[d] != want[d])
            return false;
    return true;
}

evo_status evo_pass_fuse_layout(evo_graph *g, evo_pass_ctx *ctx)
{
    (void)ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *conv = &g->nodes[i];
        if (conv->is_dead || conv->op != EVO_OP_CONV || conv->n_out != 1)
            continue;
        const evo_conv_attrs *c = &conv->a.conv;
        const evo_value *y = &g->values[conv->out[0]];
        if (c->n_spatial != 2 || c->has_residual || c->out_groups || y->rank != 4 || y->dtype != EVO_DTYPE_FLOAT)
            continue;
        int ri = sole_reader(g, conv->out[0]);
        if (ri < 0 || g->nodes[ri].op != EVO_OP_RESHAPE || g->nodes[ri].n_out != 1 ||
            g->nodes[ri].in[0] != conv->out[0])
            continue;
        int rv = g->nodes[ri].out[0];
        const evo_value *r = &g->values[rv];
        if (r->rank != 5 || r->dims[0] != y->dims[0] || r->dims[1] < 1 || r->dims[1] * r->dims[2] != y->dims[1] ||
            r->dims[3] != y->dims[2] || r->dims[4] != y->dims[3])
            continue;
        int ti = sole_reader(g, rv);
        if (ti < 0 || !is_group_transpose(g, &g->nodes[ti], rv))
            continue;
        conv->a.conv.out_groups = r->dims[1];
        g->nodes[ri].is_dead = true;
        g->nodes[ti].is_dead = true;
        evo_redirect_output(g, i, g->nodes[ti].out[0]);
    }
    return EVO_OK;
}
