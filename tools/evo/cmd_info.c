/*
 * cmd_info.c - `evo info MODEL`: what a model is and whether evo can run
 * it: inputs/outputs, op histogram, parameters, MACs per layer and in
 * total (and how many run in int8), each layer's precision, the float
 * islands a quantized model keeps (with the reason), the memory plan, and
 * every unsupported node with the reason. With --target, where each node
 * of an int8 graph runs on that NPU and why (npu_report.c); --json prints
 * that placement alone as JSON. --estimate adds the NPU performance
 * estimate (npu_estimate.c; with --json, that report alone).
 */
#include "cli.h"
#include "exec/model.h"
#include "exec/tasks.h"
#include "graph/op.h"
#include "npu/npu.h"
#include "onnx/onnx.h"
#include "passes/passes.h"
#include "plan/evo_file.h"
#include "plan/plan.h"

#include <stdio.h>
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

/* Short dtype names for the precision column. */
static const char *short_dtype(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return "fp32";
    case EVO_DTYPE_UINT8: return "uint8";
    case EVO_DTYPE_INT8: return "int8";
    default: return evo_dtype_name(t);
    }
}

/* Does n multiply-add in integers (its MACs count as int8)? */
static bool is_int8_compute(const evo_node *n)
{
    return n->op == EVO_OP_QLINEAR_CONV || n->op == EVO_OP_CONV_INTEGER || n->op == EVO_OP_QLINEAR_MATMUL ||
           n->op == EVO_OP_MATMUL_INTEGER;
}

/* What n computes in: the quantized input type of the integer ops, "a>b" for (de)quantization, else its output type. */
static const char *precision(const evo_graph *g, const evo_node *n, char *buf, size_t cap)
{
    const evo_value *in = n->n_in > 0 && n->in[0] >= 0 ? &g->values[n->in[0]] : NULL;
    const evo_value *out = n->n_out > 0 && n->out[0] >= 0 ? &g->values[n->out[0]] : NULL;
    if (is_int8_compute(n) && in)
        return short_dtype(in->dtype);
    if ((n->op == EVO_OP_QUANTIZE_LINEAR || n->op == EVO_OP_DEQUANTIZE_LINEAR ||
         n->op == EVO_OP_DYNAMIC_QUANTIZE_LINEAR) && in && out) {
        snprintf(buf, cap, "%s>%s", short_dtype(in->dtype), short_dtype(out->dtype));
        return buf;
    }
    return out ? short_dtype(out->dtype) : "-";
}

static void print_layers(const evo_graph *g, bool verbose)
{
    double total = 0, total_int8 = 0;
    if (verbose)
        printf("layers:\n  %-4s %-32s %-18s %-11s %-22s %12s\n", "#", "node", "op", "precision", "output", "MACs");
    int idx = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        double macs = evo_node_flops(g, n) / 2;
        total += macs;
        if (is_int8_compute(n))
            total_int8 += macs;
        if (verbose) {
            char dims[128], prec[32];
            const evo_value *o = n->n_out && n->out[0] >= 0 ? &g->values[n->out[0]] : NULL;
            printf("  %-4d %-32.32s %-18s %-11s %-22s %12.0f\n", idx, n->name, n->op_type,
                   precision(g, n, prec, sizeof(prec)), o ? evo_dims_str(o->dims, o->rank, dims, sizeof(dims)) : "-",
                   macs);
        }
        idx++;
    }
    printf("layers: %d, MACs: %.3f G (%.3f GFLOP)\n", idx, total / 1e9, 2 * total / 1e9);
    if (total_int8 > 0)
        printf("precision: int8 %.3f G MACs (%.1f%%), fp32 %.3f G MACs (%.1f%%)\n", total_int8 / 1e9,
               100.0 * total_int8 / total, (total - total_int8) / 1e9, 100.0 * (total - total_int8) / total);
}

/* Float ops a QDQ model left between DequantizeLinear and QuantizeLinear, with the reason. */
static void print_float_islands(const evo_graph *g)
{
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const char *why = evo_fold_qdq_island(g, &g->nodes[i]);
        if (!why)
            continue;
        if (!count++)
            printf("float islands (ops of a quantized model that run in fp32):\n");
        printf("  node \"%s\" (%s): %s\n", g->nodes[i].name, g->nodes[i].op_type, why);
    }
}

/* Steps no fast variant takes on this machine, with their share of the estimated cost. */
static void print_reference_steps(const evo_graph *g, const evo_plan *p)
{
    double total = 0;
    int n_ref = 0, n_views = 0;
    for (int i = 0; i < p->n_steps; i++) {
        total += evo_step_estimate_ns(g, &g->nodes[p->steps[i].node]);
        n_views += p->steps[i].skip;
        n_ref += !p->steps[i].skip && p->steps[i].kernel == evo_kernel_ref(g->nodes[p->steps[i].node].op);
    }
    printf("kernels: %d steps on fast variants for this CPU, %d on portable reference kernels%s (%d views copy "
           "nothing)\n",
           p->n_steps - n_views - n_ref, n_ref, n_ref ? " (listed below)" : "", n_views);
    for (int i = 0; i < p->n_steps; i++) {
        const evo_node *n = &g->nodes[p->steps[i].node];
        if (p->steps[i].skip || p->steps[i].kernel != evo_kernel_ref(n->op))
            continue;
        printf("  %-36s %-18s %6.2f %% of the estimated cost\n", n->name, n->op_type,
               total > 0 ? 100.0 * evo_step_estimate_ns(g, n) / total : 0.0);
    }
}

int evo_cmd_info(int argc, char **argv)
{
    cli_model_opts mo = {.n_threads = 1};
    const char *path = NULL;
    bool verbose = true, json = false, estimate = false, rewrite = true;
    const char *system = NULL, *memory_mode = NULL; /* --estimate: another system configuration / memory mode */
    evo_npu_rewrites rw = {{0}};
    const evo_npu_target *target = NULL;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--brief") == 0)
            verbose = false;
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--estimate") == 0)
            estimate = true;
        else if (strcmp(argv[i], "--system") == 0 || strcmp(argv[i], "--memory-mode") == 0) {
            if (i + 1 >= argc)
                return cli_fail("info: %s needs a value", argv[i]);
            *(argv[i][2] == 's' ? &system : &memory_mode) = argv[i + 1];
            estimate = true;
            i++;
        }
        else if (strcmp(argv[i], "--no-rewrite") == 0)
            rewrite = false;
        else if (strcmp(argv[i], "--target") == 0) {
            if (i + 1 >= argc)
                return cli_fail("info: --target needs a value");
            if (cli_npu_target(argv[++i], &target))
                return 1;
        }
        else if (argv[i][0] == '-')
            return cli_fail("info: unknown option \"%s\"", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return cli_fail("usage: evo info MODEL [--brief] [--target T [--estimate [--system S] [--memory-mode M]] [--json] "
                        "[--no-rewrite]] [--input-shape NAME=DIMS]");
    evo_error err = {0};
    evo_graph *g = NULL;
    bool compiled = evo_file_path_has_magic(path); /* .evo: the passes already ran */
    if ((compiled ? evo_file_load(path, &g, &err) : evo_onnx_load_file(path, &g, &err)) != EVO_OK)
        return cli_fail("%s", err.msg);
    evo_compile_options co = cli_compile_options(&mo);
    evo_pass_ctx ctx = {&co, &err};
    evo_status s = compiled ? evo_file_check_options(g, &co, &err) : evo_passes_run(g, &ctx);
    if (!target && s == EVO_OK && g->npu_target) /* a .evo compiled with --target */
        target = evo_npu_target_find(g->npu_target);
    if ((json || estimate) && !target) {
        evo_graph_free(g);
        return cli_fail("info: %s: give --target too", json ? "--json prints a placement" : "--estimate needs a target");
    }
    if (target && s == EVO_OK) {
        int rc = cli_npu_require_int8(g, path, target);
        rewrite &= !g->npu_place; /* a file compiled for a target is reported as placed, rewrites included */
        if (!rc && rewrite)
            rc = cli_npu_rewrite(g, target, &rw);
        if (!rc && json)
            rc = estimate ? cli_npu_estimate_report(g, path, target, system, memory_mode, true, verbose)
                          : cli_npu_report(g, path, target, rewrite ? &rw : NULL, true, verbose);
        if (rc || json) {
            evo_graph_free(g);
            return rc;
        }
    }
    printf("model: %s\n  ir_version %lld, opset %lld", path, (long long)g->ir_version, (long long)g->opset);
    if (g->opset_ms)
        printf(", com.microsoft opset %lld", (long long)g->opset_ms);
    printf(", producer %s\n", g->producer_name ? g->producer_name : "?");
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
    print_float_islands(g);
    if (target)
        cli_npu_report(g, path, target, rewrite ? &rw : NULL, false, verbose);
    if (target && estimate && cli_npu_estimate_report(g, path, target, system, memory_mode, false, verbose)) {
        evo_graph_free(g);
        return 1;
    }
    evo_plan plan;
    if (evo_plan_build(g, EVO_ISA_AMX, mo.n_threads, &plan, &err) == EVO_OK) {
        printf("memory plan: arena %.2f MB for activations (%.2f MB without sharing), scratch %.2f MB\n",
               (double)plan.arena_bytes / 1e6, (double)plan.naive_bytes / 1e6, (double)plan.scratch_bytes / 1e6);
        print_reference_steps(g, &plan);
        evo_plan_free(&plan);
    } else {
        printf("memory plan: not built: %s\n", err.msg);
    }
    evo_graph_free(g);
    return 0;
}
