/*
 * npu_report.c - the placement report of `evo info MODEL --target T`: each
 * node's place (NPU or CPU, as TFLite-level operators), the rule each CPU
 * node breaks, the share of nodes and MACs on the NPU, and the partition
 * (NPU subgraphs, transitions); as text or as one JSON object.
 */
#include "cli.h"
#include "core/core.h"
#include "npu/npu.h"

#include <stdio.h>
#include <string.h>

int cli_npu_target(const char *name, const evo_npu_target **out)
{
    *out = evo_npu_target_find(name);
    if (*out)
        return 0;
    char list[512];
    return cli_fail("unknown target \"%s\"; known targets: %s", name, evo_npu_target_list(list, sizeof(list)));
}

int cli_npu_require_int8(const evo_graph *g, const char *path, const evo_npu_target *t)
{
    if (!t->table || evo_npu_graph_is_int8(g))
        return 0;
    return cli_fail("%s: a float model; --target %s places int8 graphs: quantize it first "
                    "(evo quantize %s --calib DIR -o MODEL_int8.evo) and give the int8 .evo",
                    path, t->name, path);
}

int cli_npu_rewrite(struct evo_graph *g, const evo_npu_target *t, evo_npu_rewrites *rw)
{
    evo_error err = {0};
    memset(rw, 0, sizeof(*rw));
    if (!t->table)
        return 0;
    if (evo_npu_rewrite(g, t->table, rw, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    return 0;
}

void cli_npu_parts_str(const struct evo_npu_place *p, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < p->n_parts && len < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s", k ? "+" : "", evo_npu_op_name(p->parts[k]));
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (!p->n_parts)
        snprintf(buf, cap, "-");
}

/*
 * Nodes on the CPU only because of their activation: the reason is an
 * activation part's (describe.c checks the conv and its padding first), so
 * an activation level (--act) would place them, changing the network.
 */
typedef struct act_bound {
    const char *prefix, *act; /* reason prefix (the part's role), --act source */
    int nodes;
    double macs;
} act_bound;

static void count_act_bound(const evo_npu_placement *pl, act_bound *b, int n_b)
{
    for (int i = 0; i < pl->n_nodes; i++) {
        const evo_npu_place *p = &pl->nodes[i];
        for (int k = 0; k < n_b && !p->on_npu; k++) {
            if (strncmp(p->reason, b[k].prefix, strlen(b[k].prefix)) == 0) {
                b[k].nodes++;
                b[k].macs += p->macs;
            }
        }
    }
}

#define ACT_BOUND_INIT {{"SiLU's", "silu", 0, 0}, {"fused HardSwish", "hardswish", 0, 0}, {"fused Sigmoid", "sigmoid", 0, 0}}

static void print_text(const evo_graph *g, const evo_npu_placement *pl, const evo_npu_rewrites *rw, bool verbose)
{
    const evo_npu_target *t = pl->target;
    printf("target %s", t->name);
    if (t->table)
        printf(" (%s rules: %s, %s)", t->table->family, t->table->source, t->table->version);
    printf("\n");
    if (rw) {
        char buf[256];
        printf("rewritten: %s (exact: the same function)\n", evo_npu_rewrites_str(rw, buf, sizeof(buf)));
    }
    if (verbose) {
        printf("placement:\n  %-4s %-32s %-18s %-5s %-34s %s\n", "#", "node", "op", "place", "as", "reason");
        for (int i = 0; i < pl->n_nodes; i++) {
            const evo_npu_place *p = &pl->nodes[i];
            char parts[128];
            cli_npu_parts_str(p, parts, sizeof(parts));
            printf("  %-4d %-32.32s %-18s %-5s %-34s %s\n", i, g->nodes[p->node].name, g->nodes[p->node].op_type,
                   p->on_npu ? "NPU" : "CPU", parts, p->on_npu ? "" : p->reason);
        }
    }
    printf("npu: %d of %d nodes (%.1f%%), %.3f of %.3f G MACs (%.1f%%); %d NPU subgraphs, %d NPU<->CPU transitions\n",
           pl->n_npu, pl->n_nodes, pl->n_nodes ? 100.0 * pl->n_npu / pl->n_nodes : 0.0, pl->macs_npu / 1e9,
           pl->macs_total / 1e9, pl->macs_total > 0 ? 100.0 * pl->macs_npu / pl->macs_total : 0.0, pl->n_subgraphs,
           pl->n_transitions);
    act_bound b[] = ACT_BOUND_INIT;
    count_act_bound(pl, b, (int)(sizeof(b) / sizeof(b[0])));
    for (size_t k = 0; k < sizeof(b) / sizeof(b[0]); k++) {
        if (b[k].nodes)
            printf("activation-bound: %d CPU nodes (%.3f G MACs) break a rule only through %s; --act %s=relu on the "
                   "ONNX model would place them, but changes the network (retrain it; docs/npu.md)\n",
                   b[k].nodes, b[k].macs / 1e9, b[k].act, b[k].act);
    }
}

static void print_json(const evo_graph *g, const char *path, const evo_npu_placement *pl,
                       const evo_npu_rewrites *rw)
{
    const evo_npu_target *t = pl->target;
    printf("{\"model\": ");
    evo_json_put_string(stdout, path);
    printf(", \"target\": ");
    evo_json_put_string(stdout, t->name);
    if (t->table) {
        printf(", \"rules\": {\"family\": ");
        evo_json_put_string(stdout, t->table->family);
        printf(", \"source\": ");
        evo_json_put_string(stdout, t->table->source);
        printf(", \"version\": ");
        evo_json_put_string(stdout, t->table->version);
        printf("}");
    }
    if (rw) {
        printf(", \"rewritten\": {");
        for (int k = 0; k < EVO_NPU_RW_COUNT; k++)
            printf("%s\"%s\": %d", k ? ", " : "", evo_npu_rewrite_name((evo_npu_rewrite_kind)k), rw->count[k]);
        printf("}");
    }
    act_bound b[] = ACT_BOUND_INIT;
    count_act_bound(pl, b, (int)(sizeof(b) / sizeof(b[0])));
    printf(", \"activation_bound\": {");
    for (size_t k = 0; k < sizeof(b) / sizeof(b[0]); k++)
        printf("%s\"%s\": {\"nodes\": %d, \"macs\": %.0f}", k ? ", " : "", b[k].act, b[k].nodes, b[k].macs);
    printf("}");
    printf(",\n \"nodes\": %d, \"npu_nodes\": %d, \"macs\": %.0f, \"npu_macs\": %.0f, \"npu_mac_share\": %.6f,"
           " \"npu_subgraphs\": %d, \"transitions\": %d,\n \"placement\": [",
           pl->n_nodes, pl->n_npu, pl->macs_total, pl->macs_npu,
           pl->macs_total > 0 ? pl->macs_npu / pl->macs_total : 0.0, pl->n_subgraphs, pl->n_transitions);
    for (int i = 0; i < pl->n_nodes; i++) {
        const evo_npu_place *p = &pl->nodes[i];
        printf("%s\n  {\"node\": ", i ? "," : "");
        evo_json_put_string(stdout, g->nodes[p->node].name);
        printf(", \"op\": ");
        evo_json_put_string(stdout, g->nodes[p->node].op_type);
        printf(", \"place\": \"%s\", \"as\": [", p->on_npu ? "npu" : "cpu");
        for (int k = 0; k < p->n_parts; k++) {
            printf("%s", k ? ", " : "");
            evo_json_put_string(stdout, evo_npu_op_name(p->parts[k]));
        }
        printf("], \"macs\": %.0f", p->macs);
        if (!p->on_npu) {
            printf(", \"reason\": ");
            evo_json_put_string(stdout, p->reason);
        }
        printf("}");
    }
    printf("\n ]}\n");
}

int cli_npu_report(const evo_graph *g, const char *path, const evo_npu_target *t, const evo_npu_rewrites *rw,
                   bool json, bool verbose)
{
    evo_npu_placement pl;
    evo_error err = {0};
    if (evo_npu_place_graph(g, t, &pl, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    if (json)
        print_json(g, path, &pl, rw);
    else
        print_text(g, &pl, rw, verbose);
    evo_npu_placement_free(&pl);
    return 0;
}
