/*
 * peak.h - floating-point peak of this core per ISA, measured by a loop of
 * independent FMAs that keeps every FMA port busy (what `evo verify` and
 * `evo bench` report achieved GFLOP/s against).
 */
#ifndef EVO_PEAK_H
#define EVO_PEAK_H

#include <stdint.h>

/* Runs n_iter iterations of 12 independent vector FMAs; returns the FLOPs done. */
double evo_peak_fma_avx512(int64_t n_iter);
double evo_peak_fma_avx2(int64_t n_iter);
double evo_peak_fma_neon(int64_t n_iter);

#endif /* EVO_PEAK_H */
