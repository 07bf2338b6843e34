/*
 * adapt.h - whether a run of a many-thread session goes on its threads
 * or on the calling thread alone, from the run times the session has
 * measured both ways (adapt.c).
 */
#ifndef EVO_ADAPT_H
#define EVO_ADAPT_H

#include <stdint.h>

#define EVO_ADAPT_KEEP 3 /* run times kept per way; the estimate is their median */

typedef enum { EVO_RUN_THREADS = 0, EVO_RUN_SERIAL = 1 } evo_run_way;

typedef struct evo_adapt {
    int64_t ns[2][EVO_ADAPT_KEEP]; /* the last run times of each way, a ring */
    int n[2];                      /* run times recorded per way (the ring holds the last EVO_ADAPT_KEEP) */
    int64_t since_probe;           /* runs since the other way last ran */
    int64_t runs, serial_runs;     /* the first run (cold: page faults, caches) is counted here only */
    evo_run_way way;               /* the way the estimates favour */
} evo_adapt;

/* The way the next run takes. */
evo_run_way evo_adapt_next(const evo_adapt *a);
/* Records that a run took way w and ns nanoseconds, and updates the way the estimates favour. */
void evo_adapt_record(evo_adapt *a, evo_run_way w, int64_t ns);
/* The median of the run times kept for way w, or -1 if none. */
int64_t evo_adapt_estimate(const evo_adapt *a, evo_run_way w);

#endif /* EVO_ADAPT_H */
