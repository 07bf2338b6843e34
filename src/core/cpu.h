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
    /* AArch64, from the kernel's AT_HWCAP / AT_HWCAP2 (getauxval) */
    bool neon;    /* HWCAP_ASIMD */
    bool fp16;    /* HWCAP_FPHP + HWCAP_ASIMDHP: half-precision arithmetic */
    bool dotprod; /* HWCAP_ASIMDDP: SDOT/UDOT */
    bool i8mm;    /* HWCAP2_I8MM: SMMLA/UMMLA/USDOT */
    bool sve;     /* HWCAP_SVE (reported only; no SVE kernels) */
} evo_cpu_info;

/*
 * The CPU's features, capped by $EVO_ISA when it names a tier: features of
 * the tiers above it read as absent, so kernel choice, kernels' own feature
 * checks and tests all see the machine of that tier.
 */
const evo_cpu_info *evo_cpu_get(void);
/*
 * Highest kernel tier the CPU supports: REF, AVX2, AVX512 or VNNI on x86
 * (AMX reported separately), NEON, DOTPROD or I8MM on AArch64.
 */
evo_isa evo_cpu_best_isa(void);
/* Whether this CPU (capped as above) runs the kernels of tier isa. */
bool evo_cpu_has_isa(evo_isa isa);
/* Whether isa is REF or a tier of this CPU's architecture (whether or not this CPU reaches it). */
bool evo_isa_native(evo_isa isa);
const char *evo_isa_name(evo_isa isa);
/* Parses "ref", "neon", "dotprod", "i8mm", "avx2", "avx512", "vnni", "amx"; false if unknown. */
bool evo_isa_parse(const char *s, evo_isa *out);
/* This architecture's tier names for messages: "ref, avx2, avx512, vnni, amx" or "ref, neon, dotprod, i8mm". */
const char *evo_isa_choices(void);

#endif /* EVO_CPU_H */
