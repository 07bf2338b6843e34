/*
 * fuse_update.c - Split -> (work on some parts) -> Concat along the same
 * axis, where other parts go from the Split straight back to the same
 * place in the Concat, becomes Split (of the worked-on parts only) ->
 * work -> evo.UpdateSlices(X, worked-on parts): the untouched parts are
 * neither split out nor concatenated back. YOLOv5's box decoding splits
 * each [1, 3, H, W, 85] head output into xy, wh and the 81 scores and
 * joins them again after scaling xy and wh; the planner then lets the
 * update write into the head output itself, so only 4 of 85 floats per
 * row move. A passed-through part must have the Concat as its only
 * reader (once), and the Split's input the Concat's shape and dtype.
 */
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 64

/* Start along the split axis of Split s's output o. */
static int64_t split_start(const evo_node *s, int o)
{
    int64_t at = 0;
    for (int i = 0; i < o; i++)
        at += s->a.split.sizes[i];
    return at;
}

static bool same_shape(const evo_value *a, const evo_value *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

/* Rewrites Concat c if some of its inputs pass through from one Split; prod[v] = producer node of v. */
static evo_status fuse_one(evo_graph *g, int ci, const int *prod, evo_error *err)
{
    evo_node *c = &g->nodes[ci];
    int64_t axis = c->a.axis.axis;
    const evo_value *y = &g->values[c->out[0]];
    int split = -1, n_pass = 0;
    bool pass[MAX_PARTS];
    int64_t at = 0, starts[MAX_PARTS];
    for (int k = 0; k < c->n_in; k++) {
        int v = c->in[k], users[2];
        pass[k] = false;
        starts[k] = at;
        if (v < 0)
            return EVO_OK;
        at += g->values[v].dims[axis];
        int pi = prod[v];
        if (pi < 0 || (split >= 0 && pi != split))
            continue;
        const evo_node *s = &g->nodes[pi];
        int uses = 0; /* a part joined twice must stay materialised */
        for (int k2 = 0; k2 < c->n_in; k2++)
            uses += c->in[k2] == v;
        if (s->op != EVO_OP_SPLIT || s->a.split.axis != axis || s->in[0] < 0 ||
            !same_shape(&g->values[s->in[0]], y) || uses != 1 || evo_consumers(g, v, users, 2) != 1 ||
            users[0] != ci)
            continue;
        for (int o = 0; o < s->n_out; o++)
            if (s->out[o] == v && split_start(s, o) == starts[k]) {
                pass[k] = true;
                split = pi;
                n_pass++;
            }
    }
    if (n_pass == 0)
        return EVO_OK;
    evo_node *s = &g->nodes[split];
    int n_upd = c->n_in - n_pass;
    int64_t *sizes = evo_mem_alloc(&g->mem, sizeof(int64_t) * (size_t)(n_upd ? n_upd : 1));
    if (!sizes)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory fusing %s", g->file, c->name);
    int w = 1, ins[MAX_PARTS];
    memcpy(ins, c->in, sizeof(int) * (size_t)c->n_in);
    c->in[0] = s->in[0];
    for (int k = 0; k < c->n_in; k++) {
        if (pass[k]) {
            for (int o = 0; o < s->n_out; o++)
                if (s->out[o] == ins[k])
                    s->out[o] = -1;
            continue;
        }
        sizes[w - 1] = starts[k];
        c->in[w++] = ins[k];
    }
    c->n_in = w;
    c->op = EVO_OP_UPDATE_SLICES;
    c->op_type = evo_op_name(EVO_OP_UPDATE_SLICES);
    c->domain = "";
    c->n_attrs = 0;
    c->a.split = (evo_split_attrs){.axis = axis, .n_splits = n_upd, .sizes = sizes};
    bool any = false;
    for (int o = 0; o < s->n_out; o++)
        any |= s->out[o] >= 0;
    s->is_dead = !any;
    return EVO_OK;
}

evo_status evo_pass_fuse_update(evo_graph *g, evo_pass_ctx *ctx)
{
    int *prod = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    if (!prod)
        return evo_errorf(ctx->err, EVO_ERR_NOMEM, "%s: out of memory in fuse_update", g->file);
    for (int v = 0; v < g->n_values; v++)
        prod[v] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        for (int o = 0; !n->is_dead && o < n->n_out; o++)
            if (n->out[o] >= 0)
                prod[n->out[o]] = i;
    }
    evo_status st = EVO_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const evo_node *n = &g->nodes[i];
        if (!n->is_dead && n->op == EVO_OP_CONCAT && n->n_out == 1 && n->out[0] >= 0 && n->n_in <= MAX_PARTS)
            st = fuse_one(g, i, prod, ctx->err);
    }
    free(prod);
    return st;
}
