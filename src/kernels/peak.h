/*
 * peak.h - floating-point peak of this core per ISA, measured by a loop of
 * independent FMAs that keeps every FMA port busy (what `evo verify` and
 * `evo bench` report achieved GFLOP/s against), and the int8 dot-product
 * peak the same way (what int8 steps are reported against).
 */
#ifndef EVO_PEAK_H
#define EVO_PEAK_H

#include <stdint.h>

/* Runs n_iter iterations of 12 independent vector FMAs; returns the FLOPs done. */
double evo_peak_fma_avx512(int64_t n_iter);
double evo_peak_fma_avx2(int64_t n_iter);
double evo_peak_fma_neon(int64_t n_iter);

/* Runs n_iter iterations of 12 independent int8 dot-product instructions; returns the int8 operations (2 per multiply-add). */
double evo_peak_dot_vnni(int64_t n_iter);    /* AVX-512 VNNI vpdpbusd */
double evo_peak_dot_dotprod(int64_t n_iter); /* AArch64 SDOT */

#endif /* EVO_PEAK_H */
