/*
 * fuse_act.c - fuses an activation into the epilogue of the Conv or Gemm
 * that feeds it: Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh,
 * Clip with constant bounds, and SiLU written as x * Sigmoid(x) (how
 * PyTorch exports nn.SiLU before opset 14 and often after). The producer
 * must have no other reader, so the pre-activation value is never needed.
 * An activation behind a chain of layout-only ops (Reshape, Flatten,
 * Squeeze, Unsqueeze, Transpose; each read only by the next) fuses too:
 * elementwise, it commutes with them, and the last layout op then writes
 * the activation's output. YOLOv5's head runs Conv -> Reshape ->
 * Transpose -> Sigmoid on its largest tensors; the Sigmoid pass goes.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <math.h>

static evo_act *act_slot(evo_node *n, float **alpha, float **beta)
{
    if (n->op == EVO_OP_CONV) { /* a fused residual is added before the activation */
        *alpha = &n->a.conv.act_alpha;
        *beta = &n->a.conv.act_beta;
        return &n->a.conv.act;
    }
    if (n->op == EVO_OP_GEMM) {
        *alpha = &n->a.gemm.act_alpha;
        *beta = &n->a.gemm.act_beta;
        return &n->a.gemm.act;
    }
    return NULL;
}

/* The activation a single-input node computes, or EVO_ACT_NONE. */
static evo_act node_act(const evo_node *n, float *alpha, float *beta)
{
    *alpha = n->a.unary.alpha;
    *beta = n->a.unary.beta;
    switch (n->op) {
    case EVO_OP_RELU: return EVO_ACT_RELU;
    case EVO_OP_LEAKY_RELU: return EVO_ACT_LEAKY_RELU;
    case EVO_OP_SIGMOID: return EVO_ACT_SIGMOID;
    case EVO_OP_HARD_SIGMOID: return EVO_ACT_HARD_SIGMOID;
    case EVO_OP_HARD_SWISH: return EVO_ACT_HARD_SWISH;
    case EVO_OP_TANH: return EVO_ACT_TANH;
    case EVO_OP_CLIP:
        *alpha = n->a.unary.min;
        *beta = n->a.unary.max;
        return EVO_ACT_CLIP;
    default: return EVO_ACT_NONE;
    }
}

static bool layout_only(const evo_node *n)
{
    return n->op == EVO_OP_RESHAPE || n->op == EVO_OP_FLATTEN || n->op == EVO_OP_SQUEEZE ||
           n->op == EVO_OP_UNSQUEEZE || n->op == EVO_OP_TRANSPOSE;
}

/*
 * Follows value x through layout-only nodes, each the single reader of
 * the one before, to the first other node; returns that node (or -1 when
 * the chain forks or ends in a graph output) and in *last the layout node
 * whose output it reads (-1: it reads x itself).
 */
static int reader_past_layout(const evo_graph *g, int x, int *last)
{
    *last = -1;
    for (int depth = 0; depth < 8; depth++) {
        int users[2];
        if (evo_consumers(g, x, users, 2) != 1 || users[0] < 0)
            return -1;
        const evo_node *u = &g->nodes[users[0]];
        if (!layout_only(u))
            return users[0];
        if (u->n_out != 1 || u->in[0] != x)
            return -1;
        *last = users[0];
        x = u->out[0];
    }
    return -1;
}

/* Is node m = Mul(x, s) or Mul(s, x) with s = Sigmoid(x) read only by m? Returns s's node or -1. */
static int silu_sigmoid(const evo_graph *g, int x, const evo_node *m)
{
    if (m->op != EVO_OP_MUL || m->n_in != 2)
        return -1;
    int other = m->in[0] == x ? m->in[1] : m->in[1] == x ? m->in[0] : -2;
    if (other < 0 || g->values[other].data)
        return -1;
    int sp = g->values[other].producer, users[2];
    if (sp < 0 || g->nodes[sp].op != EVO_OP_SIGMOID || g->nodes[sp].in[0] != x)
        return -1;
    if (evo_consumers(g, other, users, 2) != 1)
        return -1;
    return sp;
}

evo_status evo_pass_fuse_act(evo_graph *g, evo_pass_ctx *ctx)
{
    (void)ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *p = &g->nodes[i];
        float *alpha, *beta;
        evo_act *slot = p->is_dead || p->n_out != 1 ? NULL : act_slot(p, &alpha, &beta);
        if (!slot || *slot != EVO_ACT_NONE)
            continue;
        int x = p->out[0], users[3];
        int n_users = evo_consumers(g, x, users, 3);
        if (g->values[x].dtype != EVO_DTYPE_FLOAT)
            continue;
        if (n_users == 1 && users[0] >= 0) {
            int last, ai = reader_past_layout(g, x, &last);
            if (ai < 0)
                continue;
            evo_node *a = &g->nodes[ai];
            int ax = last < 0 ? x : g->nodes[last].out[0];
            float al, be;
            evo_act act = a->n_in >= 1 && a->in[0] == ax ? node_act(a, &al, &be) : EVO_ACT_NONE;
            if (act == EVO_ACT_NONE || a->n_out != 1 || g->values[a->out[0]].dtype != EVO_DTYPE_FLOAT)
                continue;
            if (a->op == EVO_OP_CLIP && (isnan(al) || isnan(be)))
                continue;
            *slot = act;
            *alpha = al;
            *beta = be;
            a->is_dead = true;
            evo_redirect_output(g, last < 0 ? i : last, a->out[0]);
        } else if (n_users == 2 && users[0] >= 0 && users[1] >= 0) {
            for (int k = 0; k < 2; k++) {
                evo_node *m = &g->nodes[users[k]];
                int sig = silu_sigmoid(g, x, m);
                if (sig < 0 || sig != users[1 - k])
                    continue;
                *slot = EVO_ACT_SILU;
                *alpha = *beta = 0;
                g->nodes[sig].is_dead = true;
                m->is_dead = true;
                evo_redirect_output(g, i, m->out[0]);
                break;
            }
        }
    }
    return EVO_OK;
}
