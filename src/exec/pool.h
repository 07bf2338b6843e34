/*
 * pool.h - a persistent thread pool for running one kernel on all threads.
 * The caller's thread takes part; tasks are claimed one at a time, each
 * thread's contiguous share of them first and then whatever the others
 * left, so any task may run on any thread (a kernel keys its scratch by
 * task, never by thread). Workers spin briefly on the
 * job word before sleeping, so back-to-back layers do not pay a wake-up.
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
/* The most tasks one run splits into (larger counts are cut to it). */
#define EVO_POOL_MAX_TASKS 4096
/*
 * Runs fn(ctx, t, n_tasks) once for every t in [0, n_tasks), on whichever
 * threads claim them, and returns when all are done.
 */
void evo_pool_run_tasks(evo_pool *pool, evo_pool_fn fn, void *ctx, int n_tasks);
/* evo_pool_run_tasks with one task per thread. */
void evo_pool_run(evo_pool *pool, evo_pool_fn fn, void *ctx);
/*
 * The wall time of one evo_pool_run of a job whose tasks wait until every
 * thread has taken one, over back-to-back runs: the cost a parallel step
 * pays to hand work to the workers and join them (the first quartile, so
 * that moments when another process holds a core do not count), in
 * nanoseconds; 0 for a pool without workers.
 */
int64_t evo_pool_dispatch_ns(evo_pool *pool);

/*
 * The round trip of a cache line between the calling thread and a worker
 * (one writes, the other sees it and answers), median over a few hundred
 * bounces, in nanoseconds: what every hand-over of data from one thread
 * to another pays. About 50-80 ns between cores that share a cache, some
 * hundreds between sockets (a virtual machine's two CPUs may move between
 * the two while it runs). 0 for a pool without workers or when no worker
 * answered within 20 ms.
 */
int64_t evo_pool_handoff_ns(evo_pool *pool);

#endif /* EVO_POOL_H */
