/*
 * pool.c - the thread pool. One job at a time: the caller publishes
 * (fn, ctx) and bumps a generation counter; each worker runs its task and
 * decrements a pending count; the caller runs task 0 and then waits for
 * pending to reach zero. Workers spin for a bounded number of polls before
 * blocking on a condition variable. Worker t is pinned to CPU t (modulo the
 * CPUs this process may use), so a layer's tasks do not migrate mid-layer
 * and each keeps its caches; the caller's thread is left where it is.
 */
#include "exec/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN_POLLS 20000

typedef struct worker {
    evo_pool *pool;
    int task;
    pthread_t thread;
} worker;

struct evo_pool {
    int n_threads;
    worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint generation;
    atomic_int pending;
    atomic_bool stop;
    evo_pool_fn fn;
    void *ctx;
};

/* Pins the calling thread to the index-th CPU of the process's affinity mask. */
static void pin_to_cpu(int index)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return;
    int n = CPU_COUNT(&allowed);
    if (n <= 1)
        return;
    int want = index % n;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        if (seen++ == want) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    evo_pool *p = w->pool;
    const char *pin = getenv("EVO_PIN_THREADS");
    if (pin && pin[0] == '1')
        pin_to_cpu(w->task);
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int polls = 0;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load(&p->stop)) {
            if (++polls < SPIN_POLLS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = gen;
        p->fn(p->ctx, w->task, p->n_threads);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
    }
}

evo_status evo_pool_create(int n_threads, evo_pool **out, evo_error *err)
{
    if (n_threads < 1)
        n_threads = 1;
    if (n_threads > 256)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "thread count %d is out of range (1..256)", n_threads);
    evo_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the thread pool");
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, false);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads, sizeof(worker));
        if (!p->workers) {
            evo_pool_free(p);
            return evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the thread pool");
        }
        for (int t = 1; t < n_threads; t++) {
            p->workers[t].pool = p;
            p->workers[t].task = t;
            if (pthread_create(&p->workers[t].thread, NULL, worker_main, &p->workers[t]) != 0) {
                p->n_threads = t; /* join only the ones started */
                evo_pool_free(p);
                return evo_errorf(err, EVO_ERR_INTERNAL, "cannot start thread %d", t);
            }
        }
    }
    *out = p;
    return EVO_OK;
}

void evo_pool_free(evo_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; p->workers && t < p->n_threads; t++)
        pthread_join(p->workers[t].thread, NULL);
    free(p->workers);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p);
}

int evo_pool_size(const evo_pool *p)
{
    return p->n_threads;
}

void evo_pool_run(evo_pool *p, evo_pool_fn fn, void *ctx)
{
    if (p->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n_threads - 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n_threads);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0)
        sched_yield();
}

static void empty_task(void *ctx, int task, int n_tasks)
{
    (void)ctx, (void)task, (void)n_tasks;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t evo_pool_dispatch_ns(evo_pool *p)
{
    enum { ROUNDS = 48 };
    if (p->n_threads == 1)
        return 0;
    int64_t t[ROUNDS];
    for (int i = 0; i < 8; i++) /* wake the workers up */
        evo_pool_run(p, empty_task, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        int64_t t0 = evo_now_ns();
        evo_pool_run(p, empty_task, NULL);
        t[i] = evo_now_ns() - t0;
    }
    qsort(t, ROUNDS, sizeof(t[0]), cmp_i64);
    /* the lowest quarter: rounds where another process held a worker's core say nothing of the pool */
    return t[ROUNDS / 4];
}
