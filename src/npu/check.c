/*
 * check.c - the generic constraint checker, the target list and the
 * partition of a placed graph. Nothing here knows a target family: the
 * rules come from the tables (table_ethos_u.c, table_ethos_n.c).
 */
#include "npu/npu.h"

#include "exec/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
#define X(e, name) name,
    EVO_NPU_OPS(X)
#undef X
};

static const char *const param_names[] = {
#define X(e, name, meaning) name,
    EVO_NPU_PARAMS(X)
#undef X
};

const char *evo_npu_op_name(evo_npu_op op)
{
    return op >= 0 && op < EVO_NPU_OP_COUNT ? op_names[op] : "?";
}

const char *evo_npu_param_name(evo_npu_param p)
{
    return p >= 0 && p < EVO_NPU_PARAM_COUNT ? param_names[p] : "?";
}

/* The targets: the CPU, Ethos-U55/U65 MAC configurations, Ethos-N78 (TOPS x PLE count). */
static const evo_npu_target targets[] = {
    {"cpu", NULL, 0},
    {"ethos-u55-128", &evo_npu_table_ethos_u, 128},
    {"ethos-u55-256", &evo_npu_table_ethos_u, 256},
    {"ethos-u65-256", &evo_npu_table_ethos_u, 256},
    {"ethos-u65-512", &evo_npu_table_ethos_u, 512},
    {"ethos-n78-1tops-2ple", &evo_npu_table_ethos_n, 512},
    {"ethos-n78-1tops-4ple", &evo_npu_table_ethos_n, 512},
    {"ethos-n78-2tops-2ple", &evo_npu_table_ethos_n, 1024},
    {"ethos-n78-2tops-4ple", &evo_npu_table_ethos_n, 1024},
    {"ethos-n78-4tops-2ple", &evo_npu_table_ethos_n, 2048},
    {"ethos-n78-4tops-4ple", &evo_npu_table_ethos_n, 2048},
    {"ethos-n78-8tops-2ple", &evo_npu_table_ethos_n, 4096},
    {"ethos-n78-8tops-4ple", &evo_npu_table_ethos_n, 4096},
};
#define N_TARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

const evo_npu_target *evo_npu_target_at(int i)
{
    return i >= 0 && i < N_TARGETS ? &targets[i] : NULL;
}

const evo_npu_target *evo_npu_target_find(const char *name)
{
    for (int i = 0; name && i < N_TARGETS; i++) {
        if (strcmp(targets[i].name, name) == 0)
            return &targets[i];
    }
    return NULL;
}

char *evo_npu_target_list(char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = 0;
    for (int i = 0; i < N_TARGETS && len < cap; i++) {
        int k = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", targets[i].name);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    return buf;
}

static bool rule_applies(const evo_npu_rule *r, evo_npu_op op)
{
    if (r->op != EVO_NPU_OP_ANY)
        return r->op == op;
    for (int i = 0; i < EVO_NPU_MAX_EXCEPT && r->except[i] != EVO_NPU_OP_NONE; i++) {
        if (r->except[i] == op)
            return false;
    }
    return true;
}

static bool rule_holds(const evo_npu_rule *r, double v)
{
    switch (r->kind) {
    case EVO_NPU_RANGE: return v >= r->lo && v <= r->hi;
    case EVO_NPU_OPEN: return v > r->lo && v < r->hi;
    case EVO_NPU_SET:
        for (int i = 0; i < r->n_set; i++) {
            if (v == r->set[i])
                return true;
        }
        return false;
    }
    return false;
}

bool evo_npu_check(const evo_npu_table *table, const evo_npu_desc *d, char *why, size_t cap)
{
    bool listed = false;
    for (int i = 0; i < table->n_ops; i++)
        listed |= table->ops[i] == d->op;
    if (!listed) {
        if (why)
            snprintf(why, cap, "%s: not an operator %s runs (%s, %s)", evo_npu_op_name(d->op), table->family,
                     table->source, table->version);
        return false;
    }
    for (int i = 0; i < table->n_rules; i++) {
        const evo_npu_rule *r = &table->rules[i];
        if (!rule_applies(r, d->op) || !d->has[r->param] || rule_holds(r, d->v[r->param]))
            continue;
        if (why)
            snprintf(why, cap, "%s: %s (%s = %g; %s, %s)", evo_npu_op_name(d->op), r->text,
                     evo_npu_param_name(r->param), d->v[r->param], table->source, table->version);
        return false;
    }
    return true;
}

void evo_npu_partition(const bool *on_npu, int n, int *n_subgraphs, int *n_transitions)
{
    int runs = 0, changes = 0;
    for (int i = 0; i < n; i++) {
        if (on_npu[i] && (i == 0 || !on_npu[i - 1]))
            runs++;
        if (i > 0 && on_npu[i] != on_npu[i - 1])
            changes++;
    }
    *n_subgraphs = runs;
    *n_transitions = changes;
}

bool evo_npu_graph_is_int8(const evo_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_op op = g->nodes[i].op;
        if (!g->nodes[i].is_dead &&
            (op == EVO_OP_QLINEAR_CONV || op == EVO_OP_QLINEAR_MATMUL || op == EVO_OP_QLINEAR_ADD ||
             op == EVO_OP_QLINEAR_MUL || op == EVO_OP_QLINEAR_CONCAT || op == EVO_OP_QLINEAR_SIGMOID ||
             op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL || op == EVO_OP_QLINEAR_AVERAGE_POOL))
            return true;
    }
    return false;
}

/* Places one node: every TFLite-level part must pass the table. */
static void place_node(const evo_graph *g, const evo_node *n, const evo_npu_target *t, evo_npu_place *p)
{
    evo_npu_node_desc d;
    evo_npu_describe(g, n, &d);
    p->n_parts = d.n_parts;
    for (int k = 0; k < d.n_parts; k++)
        p->parts[k] = d.parts[k].op;
    p->macs = evo_node_flops(g, n) / 2;
    if (!t->table) {
        snprintf(p->reason, sizeof(p->reason), "target cpu");
        return;
    }
    if (!d.n_parts) {
        snprintf(p->reason, sizeof(p->reason), "%s", d.cpu_reason);
        return;
    }
    for (int k = 0; k < d.n_parts; k++) {
        char why[288];
        if (!evo_npu_check(t->table, &d.parts[k], why, sizeof(why))) {
            if (d.parts[k].role)
                snprintf(p->reason, sizeof(p->reason), "%s: %s", d.parts[k].role, why);
            else
                snprintf(p->reason, sizeof(p->reason), "%s", why);
            return;
        }
    }
    p->on_npu = true;
}

evo_status evo_npu_place_graph(const evo_graph *g, const evo_npu_target *target, evo_npu_placement *out,
                               evo_error *err)
{
    memset(out, 0, sizeof(*out));
    out->target = target;
    out->nodes = calloc((size_t)g->n_nodes + 1, sizeof(*out->nodes));
    bool *on = calloc((size_t)g->n_nodes + 1, sizeof(*on));
    if (!out->nodes || !on) {
        free(on);
        evo_npu_placement_free(out);
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory placing %d nodes", g->file, g->n_nodes);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        evo_npu_place *p = &out->nodes[out->n_nodes];
        p->node = i;
        place_node(g, n, target, p);
        if (p->on_npu && g->npu_place && g->npu_target && strcmp(g->npu_target, target->name) == 0 &&
            !g->npu_place[i]) {
            p->on_npu = false; /* the file's recorded placement keeps it on the CPU */
            snprintf(p->reason, sizeof(p->reason), "placed on the CPU by the recorded placement");
        }
        on[out->n_nodes++] = p->on_npu;
        out->n_npu += p->on_npu;
        out->macs_total += p->macs;
        if (p->on_npu)
            out->macs_npu += p->macs;
    }
    evo_npu_partition(on, out->n_nodes, &out->n_subgraphs, &out->n_transitions);
    free(on);
    return EVO_OK;
}

void evo_npu_placement_free(evo_npu_placement *p)
{
    if (!p)
        return;
    free(p->nodes);
    p->nodes = NULL;
    p->n_nodes = 0;
}

evo_status evo_npu_record(evo_graph *g, const evo_npu_target *target, evo_npu_placement *out, evo_error *err)
{
    evo_status s = evo_npu_place_graph(g, target, out, err);
    if (s)
        return s;
    g->npu_target = evo_mem_strdup(&g->mem, target->name);
    g->npu_place = evo_mem_alloc(&g->mem, (size_t)g->n_nodes + 1);
    if (!g->npu_target || !g->npu_place) {
        evo_npu_placement_free(out);
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory recording the placement", g->file);
    }
    memset(g->npu_place, 0, (size_t)g->n_nodes + 1);
    for (int i = 0; i < out->n_nodes; i++)
        g->npu_place[out->nodes[i].node] = out->nodes[i].on_npu;
    evo_npu_sim sim;
    evo_npu_apply_semantics(g, out, &sim);
    return EVO_OK;
}
