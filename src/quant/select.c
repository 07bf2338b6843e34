/*
 * select.c - which nodes of a float graph run int8, in one walk in
 * topological order: a compute node (2-D Conv; MatMul with a constant
 * 2-D B; Gemm without bias, transA, alpha or beta) unless kept fp32, with
 * the activation its output alone feeds; an Add or Mul of two activations
 * (numpy broadcasting: a residual, a squeeze-excite scale) one of which is
 * int8, with the ReLU/Clip its output alone feeds; a layout-only node whose
 * data input is int8. The detector head's decode, every non-compute node
 * from which no compute node is reachable, stays fp32 unless --int8-all.
 * Add and Mul are ranked and kept fp32 by name as compute nodes are.
 */
#include "passes/rewrite.h"
#include "quant/quant_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool quant_is_compute(const evo_node *n)
{
    return n->op == EVO_OP_CONV || n->op == EVO_OP_MATMUL || n->op == EVO_OP_GEMM;
}

bool quant_is_binary(const evo_graph *g, const evo_node *n)
{
    if ((n->op != EVO_OP_ADD && n->op != EVO_OP_MUL) || n->n_in != 2 || n->n_out != 1 || n->out[0] < 0)
        return false;
    for (int k = 0; k < 2; k++) {
        const evo_value *v = n->in[k] >= 0 ? &g->values[n->in[k]] : NULL;
        if (!v || v->data || v->dtype != EVO_DTYPE_FLOAT)
            return false;
        /* x * Sigmoid(x) is SiLU, an activation (fused into its Conv, or fp32 with it) */
        const evo_node *p = v->producer >= 0 ? &g->nodes[v->producer] : NULL;
        if (n->op == EVO_OP_MUL && p && p->op == EVO_OP_SIGMOID && p->in[0] == n->in[1 - k])
            return false;
    }
    return g->values[n->out[0]].dtype == EVO_DTYPE_FLOAT;
}

evo_act quant_node_act(const evo_node *n, float *alpha, float *beta)
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
        return isnan(*alpha) || isnan(*beta) ? EVO_ACT_NONE : EVO_ACT_CLIP;
    default: return EVO_ACT_NONE;
    }
}

/* head[i]: node i is not compute and reaches no compute node. */
static bool *head_nodes(const evo_graph *g)
{
    bool *reach = calloc((size_t)g->n_nodes + 1, sizeof(bool));
    bool *head = calloc((size_t)g->n_nodes + 1, sizeof(bool));
    if (!reach || !head) {
        free(reach);
        free(head);
        return NULL;
    }
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        bool down = quant_is_compute(n) || reach[i];
        for (int k = 0; k < n->n_in; k++) {
            int p = n->in[k] >= 0 ? g->values[n->in[k]].producer : -1;
            if (p >= 0 && down)
                reach[p] = true;
        }
        head[i] = !quant_is_compute(n) && !reach[i];
    }
    free(reach);
    return head;
}

static bool has_range(const quant_state *q, int v)
{
    return v >= 0 && evo_calib_hist(q->cal, v) != NULL;
}

static bool const_float(const evo_graph *g, int v, int rank)
{
    return v >= 0 && g->values[v].data && g->values[v].dtype == EVO_DTYPE_FLOAT && g->values[v].rank == rank;
}

/* Can compute node n take the int8 form at all? */
static bool compute_fits(const evo_graph *g, const evo_node *n)
{
    if (n->n_out != 1)
        return false;
    if (n->op == EVO_OP_CONV) {
        const evo_conv_attrs *c = &n->a.conv;
        return n->a.conv.n_spatial == 2 && const_float(g, n->in[1], 4) &&
               (n->n_in < 3 || n->in[2] < 0 || const_float(g, n->in[2], 1)) && !c->has_residual &&
               !c->out_groups && c->act == EVO_ACT_NONE;
    }
    const evo_value *a = &g->values[n->in[0]];
    if (n->op == EVO_OP_MATMUL)
        return a->rank >= 2 && const_float(g, n->in[1], 2);
    const evo_gemm_attrs *ga = &n->a.gemm;
    return a->rank == 2 && const_float(g, n->in[1], 2) && (n->n_in < 3 || n->in[2] < 0) &&
           ga->alpha == 1.0f && !ga->trans_a && ga->act == EVO_ACT_NONE;
}

/*
 * The activation fused into compute node id: its output's single reader
 * (or a SiLU's Sigmoid + Mul pair), when that may run int8 and was
 * calibrated. Fills q->act* and marks the absorbed nodes.
 */
static void fuse_activation(quant_state *q, int id, const bool *head, bool clamp_only)
{
    evo_graph *g = q->g;
    int x = g->nodes[id].out[0], users[3];
    int n_users = evo_consumers(g, x, users, 3);
    q->act_out[id] = x;
    if (n_users == 1 && users[0] >= 0) {
        const evo_node *a = &g->nodes[users[0]];
        float al, be;
        evo_act act =
            a->n_in >= 1 && a->in[0] == x && a->n_out == 1 ? quant_node_act(a, &al, &be) : EVO_ACT_NONE;
        bool may = q->o->int8_all || !head[users[0]];
        if (act == EVO_ACT_NONE || !may || evo_name_listed(q->o->keep_fp, a->name) ||
            !has_range(q, a->out[0]) || (clamp_only && act != EVO_ACT_RELU && act != EVO_ACT_CLIP))
            return;
        q->act[id] = act;
        q->act_alpha[id] = al;
        q->act_beta[id] = be;
        q->act_out[id] = a->out[0];
        q->absorbed[users[0]] = true;
        return;
    }
    if (clamp_only || n_users != 2 || users[0] < 0 || users[1] < 0)
        return;
    for (int k = 0; k < 2; k++) { /* SiLU: Mul(x, Sigmoid(x)) with the Sigmoid read only by the Mul */
        const evo_node *s = &g->nodes[users[k]], *m = &g->nodes[users[1 - k]];
        int su[2];
        if (s->op != EVO_OP_SIGMOID || s->in[0] != x || m->op != EVO_OP_MUL || m->n_in != 2 ||
            evo_consumers(g, s->out[0], su, 2) != 1 || su[0] != users[1 - k])
            continue;
        if (!((m->in[0] == x && m->in[1] == s->out[0]) || (m->in[1] == x && m->in[0] == s->out[0])))
            continue;
        bool may = q->o->int8_all || (!head[users[0]] && !head[users[1]]);
        if (!may || evo_name_listed(q->o->keep_fp, s->name) || evo_name_listed(q->o->keep_fp, m->name) ||
            !has_range(q, m->out[0]))
            return;
        q->act[id] = EVO_ACT_SILU;
        q->act_alpha[id] = q->act_beta[id] = 0;
        q->act_out[id] = m->out[0];
        q->absorbed[users[0]] = q->absorbed[users[1]] = true;
        return;
    }
}

/* The keep reason the options give node n (--keep-fp or the one layer ranked, target, output layers). */
static evo_keep_reason asked_keep(const quant_state *q, const evo_node *n)
{
    if (evo_name_listed(q->o->keep_fp, n->name) || (q->o->only && strcmp(q->o->only, n->name)))
        return EVO_KEEP_ASKED;
    if (evo_name_listed(q->o->keep_target, n->name))
        return EVO_KEEP_TARGET;
    if (evo_name_listed(q->o->keep_output, n->name))
        return EVO_KEEP_OUTPUT;
    return EVO_KEEP_NONE;
}

static void select_compute(quant_state *q, int id, const bool *head)
{
    evo_graph *g = q->g;
    const evo_node *n = &g->nodes[id];
    if ((q->keep[id] = asked_keep(q, n)))
        return;
    if (!compute_fits(g, n))
        q->keep[id] = EVO_KEEP_UNSUPPORTED;
    else if (!has_range(q, n->in[0]) || !has_range(q, n->out[0]))
        q->keep[id] = EVO_KEEP_NO_RANGE;
    if (q->keep[id])
        return;
    q->int8[id] = true;
    fuse_activation(q, id, head, false);
    q->quantized[n->in[0]] = true;
    q->quantized[q->act_out[id]] = true;
    q->produced_int8[q->act_out[id]] = true;
}

/*
 * Add/Mul node id of two activations (quant_is_binary): int8 with its
 * ReLU/Clip when one input is int8 already (or it is the one layer
 * ranked: its inputs are then quantized for it) and all three values have
 * ranges. Each operand and the output keep their own range (the FIXED
 * arithmetic rescales them).
 */
static void select_binary(quant_state *q, int id, const bool *head)
{
    evo_graph *g = q->g;
    const evo_node *n = &g->nodes[id];
    int a = n->in[0], b = n->in[1];
    if (head[id] && !q->o->int8_all)
        return;
    bool ranked = q->o->only && !strcmp(q->o->only, n->name);
    if ((q->keep[id] = asked_keep(q, n)))
        return;
    if (!has_range(q, a) || !has_range(q, b) || !has_range(q, n->out[0]))
        q->keep[id] = EVO_KEEP_NO_RANGE;
    else if (!ranked && !q->produced_int8[a] && !q->produced_int8[b])
        q->keep[id] = EVO_KEEP_FLOAT_INPUTS;
    if (q->keep[id])
        return;
    q->int8[id] = true;
    fuse_activation(q, id, head, true);
    q->quantized[a] = q->quantized[b] = true;
    q->quantized[q->act_out[id]] = q->produced_int8[q->act_out[id]] = true;
}

/* Layout-only ops that run on int8 bytes unchanged; the data inputs that carry the bytes. */
int quant_layout_data_inputs(const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_RESHAPE:
    case EVO_OP_FLATTEN:
    case EVO_OP_SQUEEZE:
    case EVO_OP_UNSQUEEZE:
    case EVO_OP_IDENTITY:
    case EVO_OP_TRANSPOSE:
    case EVO_OP_SLICE:
    case EVO_OP_SPLIT: return 1;
    case EVO_OP_MAX_POOL: return n->n_out == 1 ? 1 : 0; /* not with the Indices output */
    case EVO_OP_RESIZE:
    case EVO_OP_UPSAMPLE: return n->a.resize.mode == EVO_RESIZE_NEAREST ? 1 : 0;
    case EVO_OP_CONCAT: return n->n_in;
    default: return 0;
    }
}

static void select_layout(quant_state *q, int id, const bool *head)
{
    evo_graph *g = q->g;
    const evo_node *n = &g->nodes[id];
    int n_data = quant_layout_data_inputs(n);
    if (!n_data || n->n_out > QUANT_MAX_OUTS || (head[id] && !q->o->int8_all) ||
        evo_name_listed(q->o->keep_fp, n->name))
        return;
    bool any_int8 = false, all_ranged = true;
    for (int k = 0; k < n_data; k++) {
        int v = n->in[k];
        if (v < 0 || g->values[v].data)
            return;
        any_int8 |= q->produced_int8[v];
        all_ranged &= has_range(q, v);
    }
    for (int o = 0; o < n->n_out; o++)
        all_ranged &= has_range(q, n->out[o]);
    if (!any_int8 || !all_ranged)
        return;
    q->int8[id] = true;
    for (int k = 0; k < n_data; k++) {
        q->quantized[n->in[k]] = true;
        quant_union(q, n->in[k], n->out[0]);
    }
    for (int o = 0; o < n->n_out; o++) {
        q->quantized[n->out[o]] = q->produced_int8[n->out[o]] = true;
        quant_union(q, n->in[0], n->out[o]);
    }
}

evo_status quant_select(quant_state *q, evo_error *err)
{
    evo_graph *g = q->g;
    bool *head = head_nodes(g);
    if (!head)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory selecting int8 nodes", g->file);
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead || q->absorbed[i])
            continue;
        if (quant_is_compute(n))
            select_compute(q, i, head);
        else if (quant_is_binary(g, n))
            select_binary(q, i, head);
        else
            select_layout(q, i, head);
    }
    free(head);
    return EVO_OK;
}
