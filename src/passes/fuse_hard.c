/*
 * fuse_hard.c - hard-swish and hard-sigmoid written as elementwise chains
 * become the single ops, which fuse_act then folds into the producing
 * Conv's epilogue (four passes over the tensor become none):
 *
 *     x * Clip(x + 3, 0, 6) / 6       (or * (1/6), or x * (Clip(..) / 6))  -> HardSwish(x)
 *     Clip(x + 3, 0, 6) / 6           (or * (1/6))                         -> HardSigmoid(x), alpha 1/6, beta 1/2
 *
 * as Paddle's and older PyTorch exports write them (PicoDet has 87). The
 * ops compute x * clamp(x / 6 + 1/2, 0, 1): the same function, rounded
 * differently (a few ulp). Every intermediate value must have the chain's
 * next node as its only reader; the last node of the chain is rewritten in
 * place, so the graph order stays valid, and the others die.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <math.h>

/* The constant scalar float of value v, or NAN. */
static double scalar_of(const evo_graph *g, int v)
{
    if (v < 0)
        return NAN;
    const evo_value *c = &g->values[v];
    if (!c->data || c->dtype != EVO_DTYPE_FLOAT || evo_value_count(c) != 1)
        return NAN;
    return *(const float *)c->data;
}

/* The node reading v when it is v's only reader (and v is no graph output), else -1. */
static int sole_reader(const evo_graph *g, int v)
{
    int r[2];
    return evo_consumers(g, v, r, 2) == 1 && r[0] >= 0 ? r[0] : -1;
}

/* For a binary node n reading v: the other input, or -2 when v is not an input. */
static int other_input(const evo_node *n, int v)
{
    if (n->n_in != 2)
        return -2;
    return n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : -2;
}

/* n divides v by 6 (Div(v, 6)) or multiplies it by 1/6. */
static bool is_sixth(const evo_graph *g, const evo_node *n, int v)
{
    if (n->op == EVO_OP_DIV)
        return n->n_in == 2 && n->in[0] == v && scalar_of(g, n->in[1]) == 6.0;
    if (n->op == EVO_OP_MUL)
        return fabs(scalar_of(g, other_input(n, v)) - 1.0 / 6.0) < 1e-7;
    return false;
}

/* Same shape and float: the chain's result may replace the last node's output as is. */
static bool same_shape(const evo_graph *g, int a, int b)
{
    const evo_value *x = &g->values[a], *y = &g->values[b];
    if (x->dtype != EVO_DTYPE_FLOAT || y->dtype != EVO_DTYPE_FLOAT || x->rank != y->rank)
        return false;
    for (int d = 0; d < x->rank; d++)
        if (x->dims[d] != y->dims[d])
            return false;
    return true;
}

/* Rewrites node `last` into op(x); the chain nodes die. */
static void rewrite(evo_graph *g, int last, evo_op op, int x, const int *chain, int n_chain)
{
    evo_node *n = &g->nodes[last];
    n->op = op;
    n->op_type = evo_op_name(op);
    n->n_in = 1;
    n->in[0] = x;
    n->n_attrs = 0;
    n->a.unary.alpha = 1.0f / 6.0f;
    n->a.unary.beta = 0.5f;
    for (int i = 0; i < n_chain; i++)
        g->nodes[chain[i]].is_dead = true;
}

/* Tries the chains that start with Add node i; true when one was rewritten. */
static bool try_chain(evo_graph *g, int i)
{
    const evo_node *add = &g->nodes[i];
    int x = -1;
    for (int k = 0; k < 2 && add->n_in == 2; k++)
        if (scalar_of(g, add->in[k]) == 3.0 && add->in[1 - k] >= 0)
            x = add->in[1 - k];
    if (x < 0 || !same_shape(g, x, add->out[0]))
        return false;
    int ci = sole_reader(g, add->out[0]);
    if (ci < 0 || g->nodes[ci].op != EVO_OP_CLIP || g->nodes[ci].a.unary.min != 0.0f ||
        g->nodes[ci].a.unary.max != 6.0f)
        return false;
    int clip = g->nodes[ci].out[0], ni = sole_reader(g, clip);
    if (ni < 0)
        return false;
    const evo_node *n = &g->nodes[ni];
    int chain[3] = {i, ci, ni};
    if (is_sixth(g, n, clip)) { /* Clip / 6: hard-sigmoid, unless x * that follows */
        int mi = sole_reader(g, n->out[0]);
        if (mi >= 0 && g->nodes[mi].op == EVO_OP_MUL && other_input(&g->nodes[mi], n->out[0]) == x &&
            same_shape(g, x, g->nodes[mi].out[0])) {
            rewrite(g, mi, EVO_OP_HARD_SWISH, x, chain, 3);
            return true;
        }
        if (!same_shape(g, x, n->out[0]))
            return false;
        rewrite(g, ni, EVO_OP_HARD_SIGMOID, x, chain, 2);
        return true;
    }
    if (n->op != EVO_OP_MUL || other_input(n, clip) != x) /* x * Clip, then / 6 */
        return false;
    int di = sole_reader(g, n->out[0]);
    if (di < 0 || !is_sixth(g, &g->nodes[di], n->out[0]) || !same_shape(g, x, g->nodes[di].out[0]))
        return false;
    rewrite(g, di, EVO_OP_HARD_SWISH, x, chain, 3);
    return true;
}

evo_status evo_pass_fuse_hard(evo_graph *g, evo_pass_ctx *ctx)
{
    (void)ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (!n->is_dead && n->op == EVO_OP_ADD && n->n_out == 1 && n->out[0] >= 0)
            try_chain(g, i);
    }
    return EVO_OK;
}
