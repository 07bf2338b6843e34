/*
 * estimate.h - a performance estimate of a placed int8 graph on an Arm NPU:
 * per TFLite-level operator the compute cycles of the MAC array and the
 * output unit, the bytes each memory (SRAM, DRAM, flash) moves and the
 * cycles that takes at the system's bandwidth; an operator takes the larger
 * of its compute and memory cycles (it is bound by one of them), and the
 * graph the sum over its NPU operators. CPU-placed nodes get no NPU cycles.
 *
 * A target's hardware (MAC units and micro-block shape, shared buffer,
 * output-unit throughput) and its system (clock, memories, where feature
 * maps and weights live) are data (evo_npu_perf, perf_ethos.c), so another
 * configuration is another record, never a change to the model.
 */
#ifndef EVO_NPU_ESTIMATE_H
#define EVO_NPU_ESTIMATE_H

#include "npu/npu.h"

typedef enum evo_npu_mem {
    EVO_NPU_MEM_SRAM = 0,
    EVO_NPU_MEM_DRAM,
    EVO_NPU_MEM_FLASH,
    EVO_NPU_MEM_COUNT
} evo_npu_mem;

/* One memory of the system: bandwidth at the NPU clock, burst and latencies. */
typedef struct evo_npu_port {
    double bytes_per_cycle; /* 0: the system has no such memory */
    int burst_bytes;        /* the memory's burst; shorter bursts waste the rest */
    int read_latency, write_latency; /* cycles */
} evo_npu_port;

/* Output-unit throughput classes (cycles per output element). */
typedef enum evo_npu_out_class {
    EVO_NPU_OUT_CONV = 0, /* conv, depthwise, fully connected, average pool, copies */
    EVO_NPU_OUT_MAXPOOL,
    EVO_NPU_OUT_ADD,
    EVO_NPU_OUT_MUL,
    EVO_NPU_OUT_COUNT
} evo_npu_out_class;

/* Activation throughput classes (cycles per output element). */
typedef enum evo_npu_act_class {
    EVO_NPU_ACTC_NONE = 0,
    EVO_NPU_ACTC_CLAMP, /* ReLU, ReLU6... */
    EVO_NPU_ACTC_LUT,   /* a table activation (sigmoid, tanh, hard swish, leaky ReLU) fused into a conv */
    EVO_NPU_ACTC_COUNT
} evo_npu_act_class;

/* A target's performance parameters: hardware and system configuration. */
typedef struct evo_npu_perf {
    const char *target;   /* "ethos-u55-256" */
    const char *system;   /* the system configuration, as its source names it */
    const char *memory_mode; /* where feature maps and weights live, as its source names it */
    const char *source;   /* where the numbers come from */
    double clock_hz;
    int n_cores;                        /* MAC arrays working on one op (depth split) */
    int ublock_w, ublock_h, ublock_d;   /* output micro-block of one core; MACs/cycle = w*h*d*8 */
    int shram_banks;                    /* shared buffer, 1 KiB banks, 2 reserved for output */
    int shram_end_banks;                /* banks reserved at the end (LUT) */
    int ifm_granule, acc_granule;       /* bank granules of the input and the 32-bit accumulators */
    double out_cycles[EVO_NPU_OUT_COUNT];
    double act_cycles[EVO_NPU_ACTC_COUNT];
    double lut_op_cycles;               /* a table activation as an operator of its own, per element */
    evo_npu_port mem[EVO_NPU_MEM_COUNT];
    evo_npu_mem fm_mem;      /* where feature maps live */
    evo_npu_mem weight_mem;  /* where weights live (streamed from there) */
    double fm_cache_bytes;   /* > 0: feature maps up to this size are kept in SRAM (a dedicated SRAM) */
    double sram_bytes;       /* on-chip SRAM size, for reports */
    int axi_bytes;           /* bytes per cycle of one memory port; 0: the system cannot be chosen */
} evo_npu_perf;

/* The performance parameters of target (NULL for the CPU or an unknown target). */
const evo_npu_perf *evo_npu_perf_find(const evo_npu_target *target);

/*
 * Writes into *out the parameters of base with another system
 * configuration and/or memory mode (the names of Vela's vela.ini:
 * "Ethos_U65_High_End", "Shared_Sram"...; NULL keeps base's). The system
 * sets the clock and each memory's bandwidth (the port's width times the
 * memory's clock scale), burst and latencies; the mode where feature maps
 * and weights live and how much SRAM caches feature maps. Fails with
 * EVO_ERR_INVALID_ARG naming the known names, or the rule a combination
 * breaks, or when base's target has no such choice (Ethos-N78).
 */
evo_status evo_npu_perf_configure(const evo_npu_perf *base, const char *system, const char *memory_mode,
                                  evo_npu_perf *out, evo_error *err);

/* What limits an operator. */
typedef enum evo_npu_bound {
    EVO_NPU_BOUND_NONE = 0, /* CPU node, or no work */
    EVO_NPU_BOUND_COMPUTE,
    EVO_NPU_BOUND_SRAM,
    EVO_NPU_BOUND_DRAM,
    EVO_NPU_BOUND_FLASH,
} evo_npu_bound;

const char *evo_npu_bound_name(evo_npu_bound b);
const char *evo_npu_mem_name(evo_npu_mem m);

/* One node's estimate: the sum over its TFLite-level operators. */
typedef struct evo_npu_node_cost {
    int node;         /* node id */
    bool on_npu;
    double macs;
    double npu_cycles;                      /* compute (MAC array, output unit, commands, weight stream waits) */
    double mem_bytes[EVO_NPU_MEM_COUNT];    /* read + written */
    double mem_cycles[EVO_NPU_MEM_COUNT];   /* at the memory's bandwidth and burst efficiency */
    double cycles;                          /* sum over operators of max(compute, memories) */
    evo_npu_bound bound;                    /* of the operator that takes most cycles */
} evo_npu_node_cost;

typedef struct evo_npu_estimate {
    const evo_npu_perf *perf;
    evo_npu_node_cost *nodes; /* placement order; CPU nodes too (no cycles) */
    int n_nodes;
    double macs_npu;
    double npu_cycles;                     /* sum of compute cycles */
    double mem_cycles[EVO_NPU_MEM_COUNT];  /* sums of each memory's cycles */
    double mem_bytes[EVO_NPU_MEM_COUNT];
    double memory_bound_cycles;            /* what memories add over compute: sum of (cycles - compute) */
    double total_cycles;
    double ms, inferences_per_s;           /* at perf->clock_hz, NPU operators only */
    int n_cpu_nodes;
} evo_npu_estimate;

/*
 * Estimates g as placed by pl (evo_npu_place_graph) on pl->target. Fails
 * with EVO_ERR_UNSUPPORTED when the target has no performance parameters
 * (the CPU). Caller frees with evo_npu_estimate_free.
 */
evo_status evo_npu_estimate_graph(const evo_graph *g, const evo_npu_placement *pl, evo_npu_estimate *out,
                                  evo_error *err);
/* As evo_npu_estimate_graph with the parameters perf (from evo_npu_perf_configure); perf must outlive *out. */
evo_status evo_npu_estimate_graph_with(const evo_graph *g, const evo_npu_placement *pl, const evo_npu_perf *perf,
                                       evo_npu_estimate *out, evo_error *err);
void evo_npu_estimate_free(evo_npu_estimate *e);

/*
 * Estimated size in bytes of n 8-bit weights (int8, or uint8 when
 * is_unsigned; zero point zp) after the
 * NPU's lossless weight compression: per run of 16 output channels (or
 * all, when fewer) the best Golomb-Rice code of the zigzag-mapped values,
 * or 8 bits raw when no code is shorter. per_channel: weights per output
 * channel (contiguous).
 */
double evo_npu_weight_bytes(const void *w, bool is_unsigned, int64_t n, int64_t per_channel, int zp);

#endif /* EVO_NPU_ESTIMATE_H */
