/*
 * fuse_residual.c - folds a residual Add into the Conv that feeds it:
 * Add(Conv(x), r) becomes Conv(x) with r as input 3, added in the conv's
 * epilogue. fuse_residual runs before fuse_act and takes convs without an
 * activation: r is added before any activation (so ResNet's Relu(Conv + r)
 * fuses fully once fuse_act runs). fuse_residual_act runs after fuse_act
 * and takes convs that carry one: r is added after it (YOLO's bottleneck
 * x + SiLU(Conv)). Either applies when the conv's output has no other
 * reader, r has exactly the output's shape (no broadcast), and r is
 * produced before the conv runs.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

static bool same_dims(const evo_value *a, const evo_value *b)
{
    if (a->rank != b->rank || a->dtype != b->dtype)
        return false;
    for (int d = 0; d < a->rank; d++) {
        if (a->dims[d] != b->dims[d])
            return false;
    }
    return true;
}

/* after_act: take convs with a fused activation and add after it; else convs without one. */
static evo_status fuse(evo_graph *g, evo_pass_ctx *ctx, bool after_act)
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *conv = &g->nodes[i];
        if (conv->is_dead || conv->op != EVO_OP_CONV || conv->n_out != 1 ||
            (conv->a.conv.act != EVO_ACT_NONE) != after_act || conv->a.conv.has_residual ||
            conv->a.conv.out_groups)
            continue;
        int y = conv->out[0], users[2];
        if (evo_consumers(g, y, users, 2) != 1 || users[0] < 0)
            continue;
        evo_node *add = &g->nodes[users[0]];
        if (add->op != EVO_OP_ADD || add->n_in != 2 || add->n_out != 1 || add->in[0] == add->in[1])
            continue;
        int r = add->in[0] == y ? add->in[1] : add->in[0];
        const evo_value *rv = &g->values[r];
        if (rv->data || !same_dims(rv, &g->values[y]) || rv->dtype != EVO_DTYPE_FLOAT)
            continue;
        if (rv->producer >= i) /* r must exist when the conv runs */
            continue;
        int *in = evo_mem_alloc(&g->mem, sizeof(int) * 4);
        if (!in)
            return evo_errorf(ctx->err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
        for (int k = 0; k < 3; k++)
            in[k] = k < conv->n_in ? conv->in[k] : -1;
        in[3] = r;
        conv->in = in;
        conv->n_in = 4;
        conv->a.conv.has_residual = true;
        conv->a.conv.residual_after_act = after_act;
        add->is_dead = true;
        evo_redirect_output(g, i, add->out[0]);
    }
    return EVO_OK;
}

evo_status evo_pass_fuse_residual(evo_graph *g, evo_pass_ctx *ctx)
{
    return fuse(g, ctx, false);
}

evo_status evo_pass_fuse_residual_act(evo_graph *g, evo_pass_ctx *ctx)
{
    return fuse(g, ctx, true);
}
