/*
 * test_npu_estimate.c - the NPU performance model: every NPU target has
 * performance parameters whose micro-block and cores give the target's MACs
 * per cycle, the weight-size estimate on hand-computed codes, and the
 * estimate of a one-conv int8 graph on ethos-u55-256 worked out by hand
 * (block, MAC array, output unit, command latency, SRAM and flash traffic),
 * and the choice of Vela's other system configurations and memory modes.
 */
#include "check.h"
#include "graph/builder.h"
#include "npu/estimate.h"
#include "passes/passes.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_parameters(void)
{
    int n_npu = 0;
    for (int i = 0; evo_npu_target_at(i); i++) {
        const evo_npu_target *t = evo_npu_target_at(i);
        const evo_npu_perf *p = evo_npu_perf_find(t);
        if (!t->table) {
            CHECK(p == NULL);
            continue;
        }
        n_npu++;
        CHECK_MSG(p != NULL, "%s has no performance parameters", t->name);
        if (!p)
            continue;
        CHECK_MSG(p->ublock_w * p->ublock_h * p->ublock_d * 8 * p->n_cores == t->macs_per_cycle,
                  "%s: micro-block %dx%dx%d * 8 * %d cores != %d MACs/cycle", t->name, p->ublock_w, p->ublock_h,
                  p->ublock_d, p->n_cores, t->macs_per_cycle);
        CHECK(p->clock_hz > 0 && p->mem[p->fm_mem].bytes_per_cycle > 0 && p->mem[p->weight_mem].bytes_per_cycle > 0);
        CHECK(p->mem[EVO_NPU_MEM_SRAM].bytes_per_cycle > 0 && p->lut_op_cycles > 0);
        CHECK(p->shram_banks - p->shram_end_banks - 2 > 0 && p->ifm_granule > 0 && p->acc_granule > 0);
        CHECK(strlen(p->system) > 0 && strlen(p->source) > 0);
    }
    CHECK(n_npu == 12);
    CHECK(evo_npu_perf_find(NULL) == NULL);
}

static void test_weight_bytes(void)
{
    int8_t w[32];
    memset(w, 0, sizeof(w));
    /* zeros: the 0-bit Rice code, 1 bit each */
    CHECK_NEAR(evo_npu_weight_bytes(w, false, 32, 2, 0), 4.0, 1e-9);
    /* 127 - 0 zigzags to 254: every code is longer than 8 bits, so raw bytes */
    memset(w, 127, sizeof(w));
    CHECK_NEAR(evo_npu_weight_bytes(w, false, 32, 2, 0), 32.0, 1e-9);
    /* 1, -1 zigzag to 2, 1: k = 0 costs 3 + 2 bits, k = 1 costs 3 + 2 bits: 5 bits a pair */
    for (int i = 0; i < 16; i++)
        w[i] = i % 2 ? -1 : 1;
    CHECK_NEAR(evo_npu_weight_bytes(w, false, 16, 1, 0), 5.0, 1e-9);
    /* uint8 with zero point 128: 128 is 0 */
    uint8_t u[16];
    memset(u, 128, sizeof(u));
    CHECK_NEAR(evo_npu_weight_bytes(u, true, 16, 16, 128), 2.0, 1e-9);
    CHECK(evo_npu_weight_bytes(u, true, 0, 16, 128) == 0);
}

/* x [1,16,8,8] uint8 -> QLinearConv 1x1, 16 outputs -> y: both are graph input/output (shared with the CPU). */
static evo_graph *build_conv(void)
{
    evo_builder b;
    CHECK(evo_builder_init(&b, "npu_estimate", 11) == EVO_OK);
    float xs = 0.05f, ys = 0.1f, ws[16];
    uint8_t zp = 128;
    int8_t wz[16] = {0};
    int32_t bias[16] = {0};
    for (int i = 0; i < 16; i++)
        ws[i] = 0.01f;
    evo_build_input_typed(&b, "x", EVO_DTYPE_UINT8, 4, (int64_t[]){1, 16, 8, 8});
    evo_build_const(&b, "xs", EVO_DTYPE_FLOAT, 0, NULL, &xs);
    evo_build_const(&b, "xz", EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_qweight(&b, "w", 4, (int64_t[]){16, 16, 1, 1});
    evo_build_const(&b, "ws", EVO_DTYPE_FLOAT, 1, (int64_t[]){16}, ws);
    evo_build_const(&b, "wz", EVO_DTYPE_INT8, 1, (int64_t[]){16}, wz);
    evo_build_const(&b, "ys", EVO_DTYPE_FLOAT, 0, NULL, &ys);
    evo_build_const(&b, "yz", EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_const(&b, "b", EVO_DTYPE_INT32, 1, (int64_t[]){16}, bias);
    evo_build_node(&b, "QLinearConv", "x xs xz w ws wz ys yz b", "y", "kernel_shape=1,1");
    evo_build_output(&b, "y");
    CHECK(b.ok);
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    return b.g;
}

static void test_conv(void)
{
    evo_graph *g = build_conv();
    evo_error err = {0};
    evo_npu_placement pl;
    evo_npu_estimate e;
    CHECK(evo_npu_place_graph(g, evo_npu_target_find("ethos-u55-256"), &pl, &err) == EVO_OK);
    CHECK(pl.n_nodes == 1 && pl.nodes[0].on_npu);
    CHECK_MSG(evo_npu_estimate_graph(g, &pl, &e, &err) == EVO_OK, "%s", err.msg);
    /*
     * One 8x8x16 block (the whole output). MAC array: 4x4 micro-blocks of 2x2, 2 deep, one kernel step:
     * max(32, 4 * 16) * 2 = 128 cycles. Output unit: 1024 elements * 0.25 = 256. x and y are NHWC
     * (shared with the CPU): 16-byte bursts on a 32-byte SRAM, so each 1024-byte block moves 2048 bytes'
     * time: 32 + 256 cycles to read, as many to write; the commands' share (576 + 128 + 256) / 4 = 240.
     * One block: max(256, 240) + max(128, 240) = 496 compute cycles. SRAM: (1024 + 1024) * 2 / 8 = 512.
     * Flash: 64 latency + the encoded weights and 10 bytes per output channel at 1 byte/cycle.
     */
    const evo_value *w = &g->values[g->nodes[pl.nodes[0].node].in[3]];
    double wbytes = evo_npu_weight_bytes(w->data, false, 256, 16, 0) + 160;
    const evo_npu_node_cost *c = &e.nodes[0];
    CHECK_NEAR(c->macs, 16.0 * 16 * 64, 0.5);
    CHECK_NEAR(c->npu_cycles, 496, 1e-6);
    CHECK_NEAR(c->mem_bytes[EVO_NPU_MEM_SRAM], 2048, 1e-6);
    CHECK_NEAR(c->mem_cycles[EVO_NPU_MEM_SRAM], 512, 1e-6);
    CHECK_NEAR(c->mem_bytes[EVO_NPU_MEM_FLASH], wbytes, 1e-6);
    CHECK_NEAR(c->mem_cycles[EVO_NPU_MEM_FLASH], 64 + wbytes, 1e-6);
    CHECK(c->mem_bytes[EVO_NPU_MEM_DRAM] == 0);
    double want = fmax(496, fmax(512, 64 + wbytes));
    CHECK_NEAR(c->cycles, want, 1e-6);
    CHECK(c->bound == (want == 512 ? EVO_NPU_BOUND_SRAM : EVO_NPU_BOUND_FLASH));
    CHECK_NEAR(e.total_cycles, want, 1e-6);
    CHECK_NEAR(e.memory_bound_cycles, want - 496, 1e-6);
    CHECK_NEAR(e.ms, 1e3 * want / 500e6, 1e-12);
    CHECK(e.n_cpu_nodes == 0 && e.macs_npu == c->macs);
    evo_npu_estimate_free(&e);
    evo_npu_placement_free(&pl);

    /* the CPU has no performance model */
    CHECK(evo_npu_place_graph(g, evo_npu_target_find("cpu"), &pl, &err) == EVO_OK);
    CHECK(evo_npu_estimate_graph(g, &pl, &e, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "cpu"));
    evo_npu_estimate_free(&e);
    evo_npu_placement_free(&pl);
    evo_npu_estimate_free(NULL);
    evo_graph_free(g);
}

static void test_configure(void)
{
    evo_error err = {0};
    evo_npu_perf p;
    const evo_npu_perf *u65 = evo_npu_perf_find(evo_npu_target_find("ethos-u65-512"));
    const evo_npu_perf *u55 = evo_npu_perf_find(evo_npu_target_find("ethos-u55-128"));
    /* NULL keeps the defaults: the same parameters */
    CHECK(evo_npu_perf_configure(u65, NULL, NULL, &p, &err) == EVO_OK);
    CHECK(p.clock_hz == u65->clock_hz && p.fm_mem == u65->fm_mem && p.weight_mem == u65->weight_mem);
    CHECK(p.fm_cache_bytes == u65->fm_cache_bytes);
    for (int m = 0; m < EVO_NPU_MEM_COUNT; m++)
        CHECK_NEAR(p.mem[m].bytes_per_cycle, u65->mem[m].bytes_per_cycle, 1e-12);
    /* U65 High_End: DRAM at 16 bytes * 0.234375 = 3.75 bytes/cycle, 1 GHz */
    CHECK(evo_npu_perf_configure(u65, "Ethos_U65_High_End", NULL, &p, &err) == EVO_OK);
    CHECK_NEAR(p.mem[EVO_NPU_MEM_DRAM].bytes_per_cycle, 3.75, 1e-12);
    CHECK(p.clock_hz == 1e9 && strcmp(p.memory_mode, "Dedicated_Sram_384KB") == 0);
    /* a U55 on the same system: its port is 8 bytes wide */
    CHECK(evo_npu_perf_configure(u55, "Ethos_U65_High_End", "Shared_Sram", &p, &err) == EVO_OK);
    CHECK_NEAR(p.mem[EVO_NPU_MEM_DRAM].bytes_per_cycle, 1.875, 1e-12);
    CHECK(p.fm_mem == EVO_NPU_MEM_SRAM && p.weight_mem == EVO_NPU_MEM_DRAM && p.fm_cache_bytes == 0);
    CHECK(p.mem[EVO_NPU_MEM_FLASH].bytes_per_cycle == 0);
    /* Sram_Only: weights read from the SRAM's port */
    CHECK(evo_npu_perf_configure(u55, NULL, "Sram_Only", &p, &err) == EVO_OK);
    CHECK(p.fm_mem == EVO_NPU_MEM_SRAM && p.weight_mem == EVO_NPU_MEM_SRAM);
    /* refusals name what is known or the rule */
    CHECK(evo_npu_perf_configure(u55, "nope", NULL, &p, &err) == EVO_ERR_INVALID_ARG &&
          strstr(err.msg, "Ethos_U65_Client_Server"));
    CHECK(evo_npu_perf_configure(u55, NULL, "nope", &p, &err) == EVO_ERR_INVALID_ARG &&
          strstr(err.msg, "Dedicated_Sram_512KB"));
    CHECK(evo_npu_perf_configure(u55, NULL, "Dedicated_Sram", &p, &err) == EVO_ERR_INVALID_ARG &&
          strstr(err.msg, "flash"));
    const evo_npu_perf *n78 = evo_npu_perf_find(evo_npu_target_find("ethos-n78-1tops-2ple"));
    CHECK(evo_npu_perf_configure(n78, "Ethos_U65_High_End", NULL, &p, &err) == EVO_ERR_INVALID_ARG);
}

int main(void)
{
    test_parameters();
    test_weight_bytes();
    test_conv();
    test_configure();
    printf("%d checks, %d failed\n", check_count, check_failures);
    return check_failures != 0;
}
