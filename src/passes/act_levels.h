/*
 * act_levels.h - activation levels: one activation replaced by another
 * before quantization (act_levels.c). Changes the network.
 */
#ifndef EVO_ACT_LEVELS_H
#define EVO_ACT_LEVELS_H

#include "graph/graph.h"

typedef enum evo_act_level_src {
    EVO_ACT_LEVEL_SRC_SILU = 0,
    EVO_ACT_LEVEL_SRC_HARD_SWISH,
    EVO_ACT_LEVEL_SRC_LEAKY,
    EVO_ACT_LEVEL_SRC_SIGMOID,
    EVO_ACT_LEVEL_SRC_RELU6,
    EVO_ACT_LEVEL_N_SRC
} evo_act_level_src;

typedef enum evo_act_level_dst {
    EVO_ACT_LEVEL_RELU = 0,
    EVO_ACT_LEVEL_RELU6,
    EVO_ACT_LEVEL_LEAKY,
    EVO_ACT_LEVEL_HARD_SWISH,
} evo_act_level_dst;

/* A parsed spec: for each source activation, whether and by what it is replaced. */
typedef struct evo_act_levels {
    bool set[EVO_ACT_LEVEL_N_SRC];
    evo_act_level_dst dst[EVO_ACT_LEVEL_N_SRC];
    float alpha[EVO_ACT_LEVEL_N_SRC]; /* leaky's slope */
} evo_act_levels;

/* Parses "silu=relu,hardswish=leaky:0.1"; an error names the bad entry. */
evo_status evo_act_levels_parse(const char *spec, evo_act_levels *out, evo_error *err);
/* Replaces the activations of float graph g; counts[s] += replacements of source s. */
evo_status evo_act_levels_apply(evo_graph *g, const evo_act_levels *lv, int counts[EVO_ACT_LEVEL_N_SRC]);
const char *evo_act_level_src_name(evo_act_level_src s);

#endif /* EVO_ACT_LEVELS_H */
