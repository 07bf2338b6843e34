/*
 * cmd_info.c - `evo info MODEL`: what a model is and whether evo can run
 * it: inputs/outputs, op histogram, parameters, MACs per layer and in
 * total, the memory plan, and every unsupported node with the reason.
 */
#include "cli.h"
#include "exec/model.h"
#include "graph/op.h"
#include "onnx/onnx.h"
#include "passes/passes.h"
#include "plan/evo_file.h"
#include "plan/plan.h"

#include <stdlib.h>
#include <string.h>

static void print_value(const char *indent, const evo_value *v)
{
    char dims[256];
    printf("%s%-24s %-8s %s\n", indent, v->name, evo_dtype_name(v->dtype),
           evo_dims_str(v->dims, v->rank, dims, sizeof(dims)));
}

static int list_unsupported(const evo_graph *g)
{
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        const evo_op_def *def = evo_op_get(n->op);
        if (n->op != EVO_OP_UNKNOWN && def && def->infer)
            continue;
        if (!count)
            printf("unsupported:\n");
        printf("  node \"%s\": op %s%s%s: %s\n", n->name, n->domain[0] ? n->domain : "",
               n->domain[0] ? "." : "", n->op_type,
               n->op == EVO_OP_UNKNOWN ? "not an operator evo implements" : "not built into this evo");
        count++;
    }
    return count;
}

static void print_histogram(const evo_graph *g)
{
    int counts[EVO_OP_COUNT + 1] = {0};
    for (int i = 0; i < g->n_nodes; i++) {
        if (!g->nodes[i].is_dead)
            counts[g->nodes[i].op]++;
    }
    printf("ops (after folding):\n");
    for (int op = 0; op < EVO_OP_COUNT; op++) {
        if (counts[op])
            printf("  %-20s %d\n", evo_op_name((evo_op)op), counts[op]);
    }
}

/* Parameters: elements of the floating constants that live nodes read (each counted once). */
static void print_params(const evo_graph *g)
{
    bool *seen = calloc((size_t)g->n_values + 1, 1);
    int64_t params = 0;
    size_t bytes = 0;
    for (int i = 0; seen && i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v < 0 || seen[v] || !g->values[v].data)
                continue;
            seen[v] = true;
            params += evo_value_count(&g->values[v]);
            bytes += g->values[v].size_bytes;
        }
    }
    free(seen);
    printf("parameters: %lld (%.2f MB of constants)\n", (long long)params, (double)bytes / 1e6);
}

static void print_layers(const evo_graph *g, bool verbose)
{
    double total = 0;
    if (verbose)
        printf("layers:\n  %-4s %-32s %-18s %-22s %12s\n", "#", "node", "op", "output", "MACs");
    int idx = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        double macs = evo_node_flops(g, n) / 2;
        total += macs;
        if (verbose) {
            char dims[128];
            const evo_value *o = n->n_out ? &g->values[n->out[0]] : NULL;
            printf("  %-4d %-32.32s %-18s %-22s %12.0f\n", idx, n->name, n->op_type,
                   o ? evo_dims_str(o->dims, o->rank, dims, sizeof(dims)) : "-", macs);
        }
        idx++;
    }
    printf("layers: %d, MACs: %.3f G (%.3f GFLOP)\n", idx, total / 1e9, 2 * total / 1e9);
}

int evo_cmd_info(int argc, char **argv)
{
    cli_model_opts mo = {.n_threads = 1};
    const char *path = NULL;
    bool verbose = true;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--brief") == 0)
            verbose = false;
        else if (argv[i][0] == '-')
            return cli_fail("info: unknown option \"%s\"", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return cli_fail("usage: evo info MODEL [--brief] [--input-shape NAME=DIMS]");
    evo_error err = {0};
    evo_graph *g = NULL;
    bool compiled = evo_file_path_has_magic(path); /* .evo: the passes already ran */
    if ((compiled ? evo_file_load(path, &g, &err) : evo_onnx_load_file(path, &g, &err)) != EVO_OK)
        return cli_fail("%s", err.msg);
    printf("model: %s\n  ir_version %lld, opset %lld", path, (long long)g->ir_version, (long long)g->opset);
    if (g->opset_ms)
        printf(", com.microsoft opset %lld", (long long)g->opset_ms);
    printf(", producer %s\n", g->producer_name ? g->producer_name : "?");
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = mo.shapes;
    co.n_input_shapes = mo.n_shapes;
    co.disable_passes = mo.disable_passes;
    evo_pass_ctx ctx = {&co, &err};
    evo_status s = compiled ? evo_file_check_options(g, &co, &err) : evo_passes_run(g, &ctx);
    printf("inputs:\n");
    for (int i = 0; i < g->n_inputs; i++)
        print_value("  ", &g->values[g->inputs[i]]);
    printf("outputs:\n");
    for (int i = 0; i < g->n_outputs; i++)
        print_value("  ", &g->values[g->outputs[i]]);
    int n_unsupported = list_unsupported(g);
    if (s != EVO_OK) {
        if (!n_unsupported || s != EVO_ERR_UNSUPPORTED)
            fprintf(stderr, "evo: %s\n", err.msg);
        evo_graph_free(g);
        return 1;
    }
    print_histogram(g);
    print_params(g);
    print_layers(g, verbose);
    evo_plan plan;
    if (evo_plan_build(g, EVO_ISA_AMX, mo.n_threads, &plan, &err) == EVO_OK) {
        printf("memory plan: arena %.2f MB for activations (%.2f MB without sharing), scratch %.2f MB\n",
               (double)plan.arena_bytes / 1e6, (double)plan.naive_bytes / 1e6, (double)plan.scratch_bytes / 1e6);
        evo_plan_free(&plan);
    } else {
        printf("memory plan: not built: %s\n", err.msg);
    }
    evo_graph_free(g);
    return 0;
}
