/*
 * peak.c - this machine's FMA peak, as `evo verify` prints it and `evo
 * bench` measures achieved GFLOP/s against: n threads each run the loop of
 * independent vector FMAs of kernels/peak.h at once; and the int8
 * dot-product peak (VNNI, SDOT) the same way.
 */
#include "cli.h"
#include "core/core.h"
#include "kernels/peak.h"

#include <math.h>
#include <pthread.h>

typedef struct peak_job {
    evo_isa isa;
    bool int8;
    int64_t iters;
    double flops, seconds;
} peak_job;

static void *peak_thread(void *arg)
{
    peak_job *j = arg;
    int64_t t0 = evo_now_ns();
#if defined(__x86_64__)
    if (j->int8)
        j->flops = evo_peak_dot_vnni(j->iters);
    else
        j->flops = j->isa >= EVO_ISA_AVX512 ? evo_peak_fma_avx512(j->iters) : evo_peak_fma_avx2(j->iters);
#elif defined(__aarch64__)
    j->flops = j->int8 ? evo_peak_dot_dotprod(j->iters) : evo_peak_fma_neon(j->iters);
#endif
    j->seconds = (double)(evo_now_ns() - t0) / 1e9;
    return NULL;
}

static double measure(evo_isa isa, bool int8, int n_threads, int64_t iters)
{
    double best = 0;
    n_threads = n_threads < 1 ? 1 : (n_threads > 64 ? 64 : n_threads);
    for (int rep = 0; rep < 3; rep++) {
        pthread_t th[64];
        peak_job jobs[64];
        int started = 0;
        for (int t = 0; t < n_threads; t++) {
            jobs[t] = (peak_job){isa, int8, iters, 0, 0};
            if (pthread_create(&th[t], NULL, peak_thread, &jobs[t]) != 0)
                break;
            started++;
        }
        double flops = 0, secs = 0;
        for (int t = 0; t < started; t++) {
            pthread_join(th[t], NULL);
            flops += jobs[t].flops;
            secs = fmax(secs, jobs[t].seconds);
        }
        if (secs > 0)
            best = fmax(best, flops / secs / 1e9);
    }
    return best;
}

double cli_measure_peak(evo_isa isa, int n_threads, int64_t iters)
{
    return measure(isa, false, n_threads, iters);
}

double cli_measure_int8_peak(evo_isa isa, int n_threads, int64_t iters)
{
    if (cli_int8_peak_isa(isa) == EVO_ISA_REF)
        return 0;
    /* a dot-product instruction does 4x an FMA's work: a quarter of the iterations take as long */
    return measure(isa, true, n_threads, iters / 4 > 0 ? iters / 4 : 1);
}

evo_isa cli_int8_peak_isa(evo_isa isa)
{
    if (isa == EVO_ISA_VNNI || isa == EVO_ISA_AMX)
        return EVO_ISA_VNNI; /* AMX tiles aside: the VNNI peak is what the VNNI kernels run against */
    if (isa == EVO_ISA_DOTPROD || isa == EVO_ISA_I8MM)
        return EVO_ISA_DOTPROD;
    return EVO_ISA_REF;
}

evo_isa cli_peak_isa(evo_isa isa)
{
    if (isa >= EVO_ISA_AVX512)
        return EVO_ISA_AVX512;
    if (isa == EVO_ISA_AVX2)
        return EVO_ISA_AVX2;
    if (isa >= EVO_ISA_NEON && isa <= EVO_ISA_I8MM)
        return EVO_ISA_NEON; /* dotprod and i8mm are integer: the fp32 peak is NEON's */
    return EVO_ISA_REF;
}
