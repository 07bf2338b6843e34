/*
 * pool.c - the thread pool. One job at a time: the caller publishes
 * (fn, ctx), the job's tasks split into one contiguous share per thread
 * (a cursor each: job number, next task, end), and a job word (job
 * number, task count) that wakes the workers. Every thread, the caller
 * (thread 0) included, then claims the tasks of its own share one by one
 * with a compare-and-swap on its cursor, and once that is empty those
 * left in the other shares; the caller returns when the count of
 * finished tasks reaches the task count.
 *
 * Own shares first: a kernel splits its work into tasks in order (bands
 * of rows, runs of pixels), so thread t takes the same part of every
 * step's output, and the next step, split the same way, mostly reads
 * what its own core wrote. With every thread claiming from one counter
 * the two halves of a map changed cores from step to step, and the
 * lines crossed between the cores' caches. Taking over the others'
 * tasks keeps the split dynamic: a worker that another process keeps off
 * its core holds at most the one task it claimed, and the others take
 * the rest (with a static split the whole step waited for the stalled
 * thread's share). Workers spin for a bounded number of polls before
 * blocking on a condition variable. They are not pinned unless
 * EVO_PIN_THREADS=1: on a shared machine a pinned worker waits for its
 * one core while another core is idle.
 */
#include "exec/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define SPIN_POLLS 20000

/*
 * The job word: job number in the high 32 bits, task count in the next
 * 16. A cursor: job number in the high 32 bits, the share's next task and
 * its end in 16 bits each.
 */
#define JOB_OF(w) ((uint32_t)((w) >> 32))
#define TASKS_OF(w) ((int)(((w) >> 16) & 0xffff))
#define NEXT_OF(w) ((int)(((w) >> 16) & 0xffff))
#define END_OF(w) ((int)((w) & 0xffff))

typedef struct cursor {
    _Alignas(64) _Atomic uint64_t word; /* a line of its own: a thread claims from its share alone */
} cursor;

typedef struct worker {
    evo_pool *pool;
    int index;
    pthread_t thread;
} worker;

struct evo_pool {
    int n_threads;
    worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    _Atomic uint64_t word; /* the job word above */
    cursor *cursors;       /* one per thread */
    atomic_int done;       /* tasks of the current job finished */
    atomic_bool stop;
    _Atomic(evo_pool_fn) fn;
    _Atomic(void *) ctx;
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

/*
 * Claims and runs tasks of job `job` (n_tasks of them) from the share of
 * thread `self`, then from the others' in turn, until none is left or
 * another job has replaced it. fn and ctx were read after the job word
 * showed `job`; they are used only for tasks claimed while their cursor
 * still shows it, and the job cannot end (nor fn and ctx change) before
 * a claimed task is done.
 */
static void run_claimed(evo_pool *p, uint32_t job, int n_tasks, int self)
{
    evo_pool_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
    for (int k = 0; k < p->n_threads; k++) {
        _Atomic uint64_t *c = &p->cursors[(self + k) % p->n_threads].word;
        uint64_t w = atomic_load_explicit(c, memory_order_acquire);
        while (JOB_OF(w) == job && NEXT_OF(w) < END_OF(w)) {
            if (!atomic_compare_exchange_weak_explicit(c, &w, w + (1u << 16), memory_order_acq_rel,
                                                       memory_order_acquire))
                continue;
            fn(ctx, NEXT_OF(w), n_tasks);
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
            w = atomic_load_explicit(c, memory_order_acquire);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    evo_pool *p = w->pool;
    const char *pin = getenv("EVO_PIN_THREADS");
    if (pin && pin[0] == '1')
        pin_to_cpu(w->index);
    uint32_t seen = 0;
    for (;;) {
        uint32_t job;
        uint64_t jw;
        int polls = 0;
        while ((job = JOB_OF(jw = atomic_load_explicit(&p->word, memory_order_acquire))) == seen &&
               !atomic_load(&p->stop)) {
            if (++polls < SPIN_POLLS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (JOB_OF(atomic_load(&p->word)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = job;
        run_claimed(p, job, TASKS_OF(jw), w->index);
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
    p->cursors = evo_aligned_alloc(sizeof(cursor) * (size_t)n_threads);
    if (!p->cursors) {
        free(p);
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the thread pool");
    }
    for (int t = 0; t < n_threads; t++)
        atomic_init(&p->cursors[t].word, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->word, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->stop, false);
    atomic_init(&p->fn, NULL);
    atomic_init(&p->ctx, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads, sizeof(worker));
        if (!p->workers) {
            evo_pool_free(p);
            return evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the thread pool");
        }
        for (int t = 1; t < n_threads; t++) {
            p->workers[t].pool = p;
            p->workers[t].index = t;
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
    evo_aligned_free(p->cursors);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p);
}

int evo_pool_size(const evo_pool *p)
{
    return p->n_threads;
}

void evo_pool_run_tasks(evo_pool *p, evo_pool_fn fn, void *ctx, int n_tasks)
{
    if (n_tasks > EVO_POOL_MAX_TASKS)
        n_tasks = EVO_POOL_MAX_TASKS;
    if (p->n_threads == 1 || n_tasks <= 1) {
        for (int t = 0; t < n_tasks; t++)
            fn(ctx, t, n_tasks);
        return;
    }
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
    /* every increment of the last job's count happened before the caller saw it complete */
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    uint32_t job = JOB_OF(atomic_load_explicit(&p->word, memory_order_relaxed)) + 1;
    for (int t = 0; t < p->n_threads; t++) { /* thread t's share: tasks [t * n / T, (t + 1) * n / T) */
        uint64_t lo = (uint64_t)t * (uint64_t)n_tasks / (uint64_t)p->n_threads;
        uint64_t hi = (uint64_t)(t + 1) * (uint64_t)n_tasks / (uint64_t)p->n_threads;
        atomic_store_explicit(&p->cursors[t].word, (uint64_t)job << 32 | lo << 16 | hi, memory_order_release);
    }
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->word, (uint64_t)job << 32 | (uint64_t)n_tasks << 16, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_claimed(p, job, n_tasks, 0);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n_tasks)
        sched_yield();
}

void evo_pool_run(evo_pool *p, evo_pool_fn fn, void *ctx)
{
    evo_pool_run_tasks(p, fn, ctx, p->n_threads);
}

/*
 * A task that waits for all the job's tasks to have started (or for
 * RENDEZVOUS_NS to pass): a job of these ends only once every thread has
 * taken a task, so its time is a real hand-off to the workers and back.
 * Empty tasks measured near zero: the caller, already running, claimed
 * them all before a worker woke.
 */
#define RENDEZVOUS_NS 200000
static void rendezvous_task(void *ctx, int task, int n_tasks)
{
    (void)task;
    atomic_int *started = ctx;
    atomic_fetch_add_explicit(started, 1, memory_order_acq_rel);
    int64_t t0 = evo_now_ns();
    while (atomic_load_explicit(started, memory_order_acquire) < n_tasks && evo_now_ns() - t0 < RENDEZVOUS_NS)
        ;
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
    atomic_int started;
    for (int i = 0; i < 8; i++) { /* wake the workers up */
        atomic_init(&started, 0);
        evo_pool_run(p, rendezvous_task, &started);
    }
    for (int i = 0; i < ROUNDS; i++) {
        atomic_init(&started, 0);
        int64_t t0 = evo_now_ns();
        evo_pool_run(p, rendezvous_task, &started);
        t[i] = evo_now_ns() - t0;
    }
    qsort(t, ROUNDS, sizeof(t[0]), cmp_i64);
    /* the lowest quarter: rounds where another process held a worker's core say nothing of the pool */
    return t[ROUNDS / 4];
}

/*
 * evo_pool_handoff_ns: the first two tasks to start bounce one counter,
 * the first writing odd values and the second even ones; a side that
 * waits 20 ms for the other gives up, so a worker another process keeps
 * off its core cannot hang the caller.
 */
#define HANDOFF_BOUNCES 256
#define HANDOFF_BATCH 8 /* bounces timed together: the clock costs about as much as a near bounce */
#define HANDOFF_WAIT_NS 20000000

typedef struct handoff {
    atomic_int started;
    _Alignas(64) atomic_int ball;
    _Alignas(64) atomic_bool gave_up;
    int64_t ns[HANDOFF_BOUNCES / HANDOFF_BATCH]; /* per batch, per bounce */
} handoff;

/*
 * Waits for h->ball to read want; false if the other side gave up or
 * HANDOFF_WAIT_NS passed. A long wait yields now and then: the other side
 * may be waiting for this very CPU (more threads than free cores).
 */
static bool handoff_wait(handoff *h, int want)
{
    int64_t t0 = evo_now_ns();
    for (int spins = 1; atomic_load_explicit(&h->ball, memory_order_acquire) != want; spins++) {
        if (spins % 256)
            continue;
        if (atomic_load(&h->gave_up) || evo_now_ns() - t0 > HANDOFF_WAIT_NS) {
            atomic_store(&h->gave_up, true);
            return false;
        }
        if (spins >= 4096)
            sched_yield();
    }
    return true;
}

static void handoff_task(void *ctx, int task, int n_tasks)
{
    (void)task, (void)n_tasks;
    handoff *h = ctx;
    int role = atomic_fetch_add_explicit(&h->started, 1, memory_order_acq_rel);
    if (role == 0) {
        for (int b = 0; b < HANDOFF_BOUNCES / HANDOFF_BATCH; b++) {
            int64_t t0 = evo_now_ns();
            for (int i = b * HANDOFF_BATCH; i < (b + 1) * HANDOFF_BATCH; i++) {
                atomic_store_explicit(&h->ball, 2 * i + 1, memory_order_release);
                if (!handoff_wait(h, 2 * i + 2))
                    return;
            }
            h->ns[b] = (evo_now_ns() - t0) / HANDOFF_BATCH;
        }
    } else if (role == 1) {
        for (int i = 0; i < HANDOFF_BOUNCES; i++) {
            if (!handoff_wait(h, 2 * i + 1))
                return;
            atomic_store_explicit(&h->ball, 2 * i + 2, memory_order_release);
        }
    }
}

int64_t evo_pool_handoff_ns(evo_pool *p)
{
    if (p->n_threads == 1)
        return 0;
    handoff *h = evo_aligned_alloc(sizeof(*h)); /* its fields are on cache lines of their own */
    if (!h)
        return 0;
    atomic_init(&h->started, 0);
    atomic_init(&h->ball, 0);
    atomic_init(&h->gave_up, false);
    /* two tasks, so that a worker must take one; the caller alone would wait out the 20 ms */
    evo_pool_run_tasks(p, handoff_task, h, 2);
    int64_t med = 0;
    if (!atomic_load(&h->gave_up)) {
        int n = HANDOFF_BOUNCES / HANDOFF_BATCH;
        qsort(h->ns, (size_t)n, sizeof(h->ns[0]), cmp_i64);
        med = h->ns[n / 2];
    }
    evo_aligned_free(h);
    return med;
}
