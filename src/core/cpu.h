/*
 * cpu.h - CPU feature detection, done once and read-only afterwards (the
 * one piece of process-global state evo keeps).
 */
#ifndef EVO_CPU_H
#define EVO_CPU_H

#include "kernels/kernel.h"

typedef struct evo_cpu_info {
    bool avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, amx_tile, amx_int8;
    bool avx_vnni;   /* vpdpbusd on ymm (Alder Lake, Zen 5): taken by AVX2-tier kernels that check it */
    bool avx512vbmi; /* byte permutes (vpermi2b): int8 kernels' table lookups check it */
    bool neon;
} evo_cpu_info;

/*
 * The CPU's features, capped by $EVO_ISA when it names a tier: features of
 * the tiers above it read as absent, so kernel choice, kernels' own feature
 * checks and tests all see the machine of that tier.
 */
const evo_cpu_info *evo_cpu_get(void);
/* Highest ISA tier the CPU supports: REF, AVX2, AVX512 or VNNI (AMX reported separately). */
evo_isa evo_cpu_best_isa(void);
/* Whether this CPU (capped as above) runs the kernels of tier isa. */
bool evo_cpu_has_isa(evo_isa isa);
const char *evo_isa_name(evo_isa isa);
/* Parses "ref", "avx2", "avx512", "vnni", "amx", "neon"; false if unknown. */
bool evo_isa_parse(const char *s, evo_isa *out);

#endif /* EVO_CPU_H */
