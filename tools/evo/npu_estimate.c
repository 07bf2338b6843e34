/*
 * npu_estimate.c - the performance report of `evo info MODEL --target T
 * --estimate`: per node its TFLite-level operators, MACs, estimated cycles
 * (compute, and what each memory moves), the bound, and the totals (NPU
 * cycles, memory-bound cycles, cycles, ms and inferences/s at the
 * configuration's clock); CPU nodes are listed as CPU, without NPU cycles.
 * Text, or one JSON object.
 */
#include "cli.h"
#include "core/core.h"
#include "npu/estimate.h"

#include <stdio.h>
#include <string.h>

static void print_text(const evo_graph *g, const evo_npu_placement *pl, const evo_npu_estimate *e, bool verbose)
{
    const evo_npu_perf *p = e->perf;
    printf("estimate: %s, %s, %s, %.0f MHz (%s)\n", p->target, p->system, p->memory_mode, p->clock_hz / 1e6,
           p->source);
    if (verbose) {
        printf("  %-4s %-32s %-24s %12s %11s %11s %11s %11s %11s %-7s\n", "#", "node", "as", "MACs", "cycles",
               "NPU", "SRAM B", "DRAM B", "flash B", "bound");
        for (int i = 0; i < e->n_nodes; i++) {
            const evo_npu_node_cost *c = &e->nodes[i];
            char ops[96];
            cli_npu_parts_str(&pl->nodes[i], ops, sizeof(ops));
            printf("  %-4d %-32.32s %-24.24s %12.0f ", i, g->nodes[c->node].name, ops, c->macs);
            if (!c->on_npu) {
                printf("%11s\n", "CPU");
                continue;
            }
            printf("%11.0f %11.0f %11.0f %11.0f %11.0f %-7s\n", c->cycles, c->npu_cycles,
                   c->mem_bytes[EVO_NPU_MEM_SRAM], c->mem_bytes[EVO_NPU_MEM_DRAM], c->mem_bytes[EVO_NPU_MEM_FLASH],
                   evo_npu_bound_name(c->bound));
        }
    }
    printf("estimate: NPU %.0f cycles; memory access SRAM %.0f, DRAM %.0f, flash %.0f cycles; memory-bound %.0f "
           "cycles\n",
           e->npu_cycles, e->mem_cycles[EVO_NPU_MEM_SRAM], e->mem_cycles[EVO_NPU_MEM_DRAM],
           e->mem_cycles[EVO_NPU_MEM_FLASH], e->memory_bound_cycles);
    printf("estimate: total %.0f cycles = %.3f ms at %.0f MHz, %.1f inferences/s (NPU operators only; %d nodes on "
           "the CPU not counted)\n",
           e->total_cycles, e->ms, p->clock_hz / 1e6, e->inferences_per_s, e->n_cpu_nodes);
}

static void print_json(const evo_graph *g, const char *path, const evo_npu_placement *pl, const evo_npu_estimate *e)
{
    const evo_npu_perf *p = e->perf;
    printf("{\"model\": ");
    evo_json_put_string(stdout, path);
    printf(", \"target\": ");
    evo_json_put_string(stdout, p->target);
    printf(", \"system\": ");
    evo_json_put_string(stdout, p->system);
    printf(", \"memory_mode\": ");
    evo_json_put_string(stdout, p->memory_mode);
    printf(", \"source\": ");
    evo_json_put_string(stdout, p->source);
    printf(",\n \"clock_hz\": %.0f, \"nodes\": %d, \"npu_nodes\": %d, \"macs\": %.0f, \"npu_macs\": %.0f,\n"
           " \"estimate\": {\"npu_cycles\": %.0f, \"sram_cycles\": %.0f, \"dram_cycles\": %.0f, \"flash_cycles\": %.0f,"
           " \"memory_bound_cycles\": %.0f, \"total_cycles\": %.0f, \"ms\": %.6f, \"inferences_per_s\": %.3f,"
           " \"sram_bytes\": %.0f, \"dram_bytes\": %.0f, \"flash_bytes\": %.0f},\n \"ops\": [",
           p->clock_hz, pl->n_nodes, pl->n_npu, pl->macs_total, e->macs_npu, e->npu_cycles,
           e->mem_cycles[EVO_NPU_MEM_SRAM], e->mem_cycles[EVO_NPU_MEM_DRAM], e->mem_cycles[EVO_NPU_MEM_FLASH],
           e->memory_bound_cycles, e->total_cycles, e->ms, e->inferences_per_s, e->mem_bytes[EVO_NPU_MEM_SRAM],
           e->mem_bytes[EVO_NPU_MEM_DRAM], e->mem_bytes[EVO_NPU_MEM_FLASH]);
    for (int i = 0; i < e->n_nodes; i++) {
        const evo_npu_node_cost *c = &e->nodes[i];
        const evo_npu_place *pn = &pl->nodes[i];
        printf("%s\n  {\"node\": ", i ? "," : "");
        evo_json_put_string(stdout, g->nodes[c->node].name);
        printf(", \"op\": ");
        evo_json_put_string(stdout, g->nodes[c->node].op_type);
        printf(", \"place\": \"%s\", \"as\": [", c->on_npu ? "npu" : "cpu");
        for (int k = 0; k < pn->n_parts; k++) {
            printf("%s", k ? ", " : "");
            evo_json_put_string(stdout, evo_npu_op_name(pn->parts[k]));
        }
        printf("], \"macs\": %.0f", c->macs);
        if (c->on_npu)
            printf(", \"cycles\": %.0f, \"npu_cycles\": %.0f, \"sram_bytes\": %.0f, \"dram_bytes\": %.0f,"
                   " \"flash_bytes\": %.0f, \"bound\": \"%s\"",
                   c->cycles, c->npu_cycles, c->mem_bytes[EVO_NPU_MEM_SRAM], c->mem_bytes[EVO_NPU_MEM_DRAM],
                   c->mem_bytes[EVO_NPU_MEM_FLASH], evo_npu_bound_name(c->bound));
        printf("}");
    }
    printf("\n ]}\n");
}

int cli_npu_estimate_report(const evo_graph *g, const char *path, const evo_npu_target *t, const char *system,
                            const char *memory_mode, bool json, bool verbose)
{
    const evo_npu_perf *base = evo_npu_perf_find(t);
    if (!t->table || !base)
        return cli_fail("info: --estimate needs an NPU target (not %s)", t->name);
    evo_npu_perf perf = *base;
    evo_npu_placement pl;
    evo_npu_estimate e;
    evo_error err = {0};
    if ((system || memory_mode) && evo_npu_perf_configure(base, system, memory_mode, &perf, &err) != EVO_OK)
        return cli_fail("info: %s", err.msg);
    if (evo_npu_place_graph(g, t, &pl, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    if (evo_npu_estimate_graph_with(g, &pl, &perf, &e, &err) != EVO_OK) {
        evo_npu_placement_free(&pl);
        return cli_fail("%s", err.msg);
    }
    if (json)
        print_json(g, path, &pl, &e);
    else
        print_text(g, &pl, &e, verbose);
    evo_npu_estimate_free(&e);
    evo_npu_placement_free(&pl);
    return 0;
}
