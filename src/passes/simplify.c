/*
 * simplify.c - replaces ops by cheaper ones that give bit-identical
 * results: Pow(x, 2) with a constant scalar exponent becomes Mul(x, x)
 * (x * x is the correctly rounded square that powf returns), which runs
 * on the vectorised elementwise kernels. YOLOv5's head squares its box
 * sizes this way.
 */
#include "passes/passes.h"

#include <math.h>

/* The constant scalar float value of v, or NAN. */
static float const_scalar(const evo_graph *g, int v)
{
    const evo_value *c = &g->values[v];
    if (!c->data || c->dtype != EVO_DTYPE_FLOAT)
        return NAN;
    int64_t count = 1;
    for (int i = 0; i < c->rank; i++)
        count *= c->dims[i];
    return count == 1 ? *(const float *)c->data : NAN;
}

evo_status evo_pass_simplify(evo_graph *g, evo_pass_ctx *ctx)
{
    (void)ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *n = &g->nodes[i];
        if (n->is_dead || n->op != EVO_OP_POW || n->n_in != 2 || n->n_out != 1 || n->in[0] < 0 ||
            n->in[1] < 0)
            continue;
        const evo_value *x = &g->values[n->in[0]], *y = &g->values[n->out[0]];
        if (x->dtype != EVO_DTYPE_FLOAT || y->rank != x->rank || const_scalar(g, n->in[1]) != 2.0f)
            continue;
        bool same = true; /* the exponent must not broadcast the output past x's shape */
        for (int d = 0; d < x->rank; d++)
            same = same && x->dims[d] == y->dims[d];
        if (!same)
            continue;
        n->op = EVO_OP_MUL;
        n->op_type = "Mul";
        n->in[1] = n->in[0];
    }
    return EVO_OK;
}
