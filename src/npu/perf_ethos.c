/*
 * perf_ethos.c - the performance parameters of each NPU target, as data
 * (evo_npu_perf, estimate.h).
 *
 * Ethos-U55/U65: the MAC configurations (micro-block, shared buffer banks
 * and granules, output-unit and activation cycles per element) as the
 * ethos-u-vela 5.2.0 compiler describes them (architecture_features.py),
 * and the system configuration Vela uses when none is given: U55 on
 * Ethos_U55_High_End_Embedded with the Shared_Sram memory mode (feature
 * maps in SRAM, weights in off-chip flash), U65 on Ethos_U65_Client_Server
 * with Dedicated_Sram_384KB (feature maps and weights in DRAM, 384 KiB of
 * SRAM as the NPU's cache), from Vela's vela.ini: bandwidth = AXI port
 * width (U55 8, U65 16 bytes/cycle) * the memory's clock scale.
 *
 * Ethos-N78: engines, SRAM and PLE lanes per variant from the driver
 * stack's support library (CapabilitiesInternal.cpp); clock, DRAM and the
 * per-element costs are assumptions (docs/npu.md), no public estimator
 * checks them.
 */
#include "npu/estimate.h"

#include <stdio.h>
#include <string.h>

#define KIB 1024.0

/* Vela's default U55 system: SRAM 8 B/cycle, flash 1 B/cycle at 500 MHz; feature maps SRAM, weights flash. */
#define U55_SYSTEM                                                                                                \
    .system = "Ethos_U55_High_End_Embedded", .memory_mode = "Shared_Sram", .clock_hz = 500e6, .axi_bytes = 8,       \
    .mem = {[EVO_NPU_MEM_SRAM] = {8.0, 32, 32, 32}, [EVO_NPU_MEM_FLASH] = {1.0, 128, 64, 0}},                    \
    .fm_mem = EVO_NPU_MEM_SRAM, .weight_mem = EVO_NPU_MEM_FLASH, .fm_cache_bytes = 0

/* Vela's default U65 system: SRAM 16 B/cycle, DRAM 12 B/cycle at 1 GHz; feature maps and weights DRAM, 384 KiB SRAM
   cache. */
#define U65_SYSTEM                                                                                                \
    .system = "Ethos_U65_Client_Server", .memory_mode = "Dedicated_Sram_384KB", .clock_hz = 1e9, .axi_bytes = 16, \
    .mem = {[EVO_NPU_MEM_SRAM] = {16.0, 32, 32, 32}, [EVO_NPU_MEM_DRAM] = {12.0, 128, 500, 250}},                \
    .fm_mem = EVO_NPU_MEM_DRAM, .weight_mem = EVO_NPU_MEM_DRAM, .fm_cache_bytes = 384 * KIB,                      \
    .sram_bytes = 384 * KIB

/* A table activation on its own (LOGISTIC...) costs twice the output unit's per-element time: what Vela 5.2.0
   reports for its LUT operators on every configuration (calibrated on YOLOv8n, docs/npu.md). */
#define LUT(out_conv) .lut_op_cycles = 2 * (out_conv)

#define VELA_SOURCE "ethos-u-vela 5.2.0 architecture_features.py and vela.ini"

/* Ethos-N78 (assumed): 1 GHz, DRAM 16 B/cycle; feature maps cached in half the SRAM. */
#define N78_SYSTEM(sram_kib)                                                                                      \
    .system = "assumed: 1 GHz, DRAM 16 B/cycle", .memory_mode = #sram_kib " KiB SRAM, half for feature maps",     \
    .clock_hz = 1e9,                                                                                               \
    .mem = {[EVO_NPU_MEM_SRAM] = {32.0, 32, 16, 16}, [EVO_NPU_MEM_DRAM] = {16.0, 64, 250, 250}},                  \
    .fm_mem = EVO_NPU_MEM_DRAM, .weight_mem = EVO_NPU_MEM_DRAM, .fm_cache_bytes = (sram_kib) * KIB / 2,           \
    .sram_bytes = (sram_kib) * KIB, .n_cores = 1, .ublock_w = 2, .ublock_h = 2, .shram_end_banks = 2,            \
    .ifm_granule = 8, .acc_granule = 16,                                                                           \
    .source = "ethos-n-driver-stack CapabilitiesInternal.cpp (SRAM, PLE lanes); the rest assumed (docs/npu.md)"

/* N78's output unit is assumed to keep pace with its MACs (U55-256's per-element costs * 256 / MACs); its PLE
   lanes do the elementwise work (0.5 cycle per element and lane for ADD and tables, 0.25 for MUL). */
#define N78_UNITS(macs, lanes)                                                                                    \
    .ublock_d = (macs) / 32, .shram_banks = 48 * (macs) / 256,                                                    \
    .out_cycles = {0.25 * 256 / (macs), 0.125 * 256 / (macs), 0.5 / (lanes), 0.25 / (lanes)},                    \
    .act_cycles = {0, 0.25 * 256 / (macs), 0.5 / (lanes)}, .lut_op_cycles = 0.5 / (lanes)

static const evo_npu_perf perfs[] = {
    {.target = "ethos-u55-128", U55_SYSTEM, .source = VELA_SOURCE, .n_cores = 1, .ublock_w = 2, .ublock_h = 1,
     .ublock_d = 8, .shram_banks = 24, .shram_end_banks = 2, .ifm_granule = 4, .acc_granule = 8,
     .out_cycles = {0.5, 0.25, 1.5, 0.75}, .act_cycles = {0, 0.5, 1.0}, LUT(0.5)},
    {.target = "ethos-u55-256", U55_SYSTEM, .source = VELA_SOURCE, .n_cores = 1, .ublock_w = 2, .ublock_h = 2,
     .ublock_d = 8, .shram_banks = 48, .shram_end_banks = 2, .ifm_granule = 8, .acc_granule = 16,
     .out_cycles = {0.25, 0.125, 0.75, 0.375}, .act_cycles = {0, 0.25, 1.0}, LUT(0.25)},
    {.target = "ethos-u65-256", U65_SYSTEM, .source = VELA_SOURCE, .n_cores = 1, .ublock_w = 2, .ublock_h = 2,
     .ublock_d = 8, .shram_banks = 48, .shram_end_banks = 2, .ifm_granule = 8, .acc_granule = 16,
     .out_cycles = {0.25, 0.125, 0.75, 0.375}, .act_cycles = {0, 0.25, 1.0}, LUT(0.25)},
    {.target = "ethos-u65-512", U65_SYSTEM, .source = VELA_SOURCE, .n_cores = 2, .ublock_w = 2, .ublock_h = 2,
     .ublock_d = 8, .shram_banks = 48, .shram_end_banks = 2, .ifm_granule = 8, .acc_granule = 16,
     .out_cycles = {0.125, 0.0625, 0.375, 0.1875}, .act_cycles = {0, 0.125, 0.5}, LUT(0.125)},
    {.target = "ethos-n78-1tops-2ple", N78_SYSTEM(448), N78_UNITS(512, 1)},
    {.target = "ethos-n78-1tops-4ple", N78_SYSTEM(448), N78_UNITS(512, 2)},
    {.target = "ethos-n78-2tops-2ple", N78_SYSTEM(768), N78_UNITS(1024, 1)},
    {.target = "ethos-n78-2tops-4ple", N78_SYSTEM(768), N78_UNITS(1024, 2)},
    {.target = "ethos-n78-4tops-2ple", N78_SYSTEM(1024), N78_UNITS(2048, 2)},
    {.target = "ethos-n78-4tops-4ple", N78_SYSTEM(1024), N78_UNITS(2048, 2)},
    {.target = "ethos-n78-8tops-2ple", N78_SYSTEM(2048), N78_UNITS(4096, 2)},
    {.target = "ethos-n78-8tops-4ple", N78_SYSTEM(2048), N78_UNITS(4096, 2)},
};

const evo_npu_perf *evo_npu_perf_find(const evo_npu_target *target)
{
    for (size_t i = 0; target && i < sizeof(perfs) / sizeof(perfs[0]); i++) {
        if (strcmp(perfs[i].target, target->name) == 0)
            return &perfs[i];
    }
    return NULL;
}

/* ---- Ethos-U system configurations and memory modes (Vela 5.2.0 vela.ini) ---- */

/* A memory behind a port: clock scale (of the port's width per cycle), burst, read and write latency. */
typedef struct port_spec {
    double clock_scale;
    int burst_bytes, read_latency, write_latency;
} port_spec;

/* A system: its clock, the SRAM on port 0, and on port 1 flash or DRAM. */
typedef struct system_spec {
    const char *name;
    double clock_hz;
    port_spec sram;
    evo_npu_mem port1; /* EVO_NPU_MEM_FLASH or EVO_NPU_MEM_DRAM */
    port_spec other;
} system_spec;

static const system_spec systems[] = {
    {"Ethos_U55_Deep_Embedded", 200e6, {1.0, 32, 32, 32}, EVO_NPU_MEM_FLASH, {0.0625, 128, 64, 0}},
    {"Ethos_U55_High_End_Embedded", 500e6, {1.0, 32, 32, 32}, EVO_NPU_MEM_FLASH, {0.125, 128, 64, 0}},
    {"Ethos_U65_Embedded", 500e6, {1.0, 32, 32, 32}, EVO_NPU_MEM_FLASH, {0.0625, 128, 64, 0}},
    {"Ethos_U65_Mid_End", 500e6, {1.0, 32, 32, 32}, EVO_NPU_MEM_DRAM, {0.46875, 128, 500, 250}},
    {"Ethos_U65_High_End", 1e9, {1.0, 32, 32, 32}, EVO_NPU_MEM_DRAM, {0.234375, 128, 500, 250}},
    {"Ethos_U65_Client_Server", 1e9, {1.0, 32, 32, 32}, EVO_NPU_MEM_DRAM, {0.75, 128, 500, 250}},
};

/* A memory mode: weights and feature maps on port 0 (SRAM) or 1, and the SRAM that caches feature maps. */
typedef struct mode_spec {
    const char *name;
    int weight_port, fm_port;
    double cache_bytes; /* feature maps up to this size stay in SRAM (Dedicated_Sram: the whole SRAM) */
} mode_spec;

static const mode_spec modes[] = {
    {"Sram_Only", 0, 0, 0},
    {"Shared_Sram", 1, 0, 0},
    {"Dedicated_Sram", 1, 1, 4.0 * 1024 * 1024 * 1024},
    {"Dedicated_Sram_256KB", 1, 1, 256 * KIB},
    {"Dedicated_Sram_384KB", 1, 1, 384 * KIB},
    {"Dedicated_Sram_512KB", 1, 1, 512 * KIB},
};

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void set_port(evo_npu_port *m, const port_spec *s, int axi_bytes)
{
    m->bytes_per_cycle = s->clock_scale * axi_bytes;
    m->burst_bytes = s->burst_bytes;
    m->read_latency = s->read_latency;
    m->write_latency = s->write_latency;
}

evo_status evo_npu_perf_configure(const evo_npu_perf *base, const char *system, const char *memory_mode,
                                  evo_npu_perf *out, evo_error *err)
{
    if (!base->axi_bytes)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: no system configuration or memory mode to choose (%s)",
                          base->target, base->source);
    const system_spec *sys = NULL;
    const mode_spec *mode = NULL;
    system = system ? system : base->system;
    memory_mode = memory_mode ? memory_mode : base->memory_mode;
    char known[320] = "";
    for (int i = 0; i < N_OF(systems); i++) {
        sys = strcmp(systems[i].name, system) == 0 ? &systems[i] : sys;
        snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "", systems[i].name);
    }
    if (!sys)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "unknown system configuration \"%s\"; known: %s", system, known);
    known[0] = 0;
    for (int i = 0; i < N_OF(modes); i++) {
        mode = strcmp(modes[i].name, memory_mode) == 0 ? &modes[i] : mode;
        snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "", modes[i].name);
    }
    if (!mode)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "unknown memory mode \"%s\"; known: %s", memory_mode, known);
    if (mode->fm_port == 1 && sys->port1 == EVO_NPU_MEM_FLASH)
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "memory mode %s puts feature maps on the second port, which is flash in %s "
                          "(feature maps live in SRAM or DRAM)", mode->name, sys->name);
    *out = *base;
    out->system = sys->name;
    out->memory_mode = mode->name;
    out->clock_hz = sys->clock_hz;
    memset(out->mem, 0, sizeof(out->mem));
    set_port(&out->mem[EVO_NPU_MEM_SRAM], &sys->sram, base->axi_bytes);
    set_port(&out->mem[sys->port1], &sys->other, base->axi_bytes);
    /* Sram_Only: the weights are on the SRAM's port too, read as from SRAM */
    out->weight_mem = mode->weight_port ? sys->port1 : EVO_NPU_MEM_SRAM;
    out->fm_mem = mode->fm_port ? sys->port1 : EVO_NPU_MEM_SRAM;
    out->fm_cache_bytes = mode->cache_bytes;
    out->sram_bytes = mode->cache_bytes < 1e9 ? mode->cache_bytes : 0;
    return EVO_OK;
}
