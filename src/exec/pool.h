/*
 * pool.h - a persistent thread pool for running one kernel on all threads.
 * The caller's thread is task 0; workers spin briefly on a generation
 * counter before sleeping, so back-to-back layers do not pay a wake-up.
 */
#ifndef EVO_POOL_H
#define EVO_POOL_H

#include "core/core.h"

typedef struct evo_pool evo_pool;
typedef void (*evo_pool_fn)(void *ctx, int task, int n_tasks);

/* n_threads includes the caller; 1 makes a pool without workers. */
evo_status evo_pool_create(int n_threads, evo_pool **out, evo_error *err);
void evo_pool_free(evo_pool *pool);
int evo_pool_size(const evo_pool *pool);
/* Runs fn(ctx, t, n) for every t in [0, n) and returns when all are done. */
void evo_pool_run(evo_pool *pool, evo_pool_fn fn, void *ctx);
/*
 * The wall time of one evo_pool_run of an empty function over back-to-back
 * runs (the cost a parallel step pays to fork and join; the first quartile,
 * so that moments when another process holds a core do not count), in
 * nanoseconds; 0 for a pool without workers.
 */
int64_t evo_pool_dispatch_ns(evo_pool *pool);

#endif /* EVO_POOL_H */
