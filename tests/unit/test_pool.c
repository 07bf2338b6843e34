/*
 * test_pool.c - the thread pool runs every task exactly once per job, for
 * many jobs and any task count, and hands tasks out dynamically: a thread
 * held up in one task does not hold up the tasks not yet started; each
 * thread starts on its own contiguous share of the tasks.
 */
#include "check.h"
#include "exec/pool.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>

typedef struct job {
    atomic_int hits[32];
    atomic_int calls;
    int n_tasks_seen;
} job;

static void job_fn(void *ctx, int task, int n_tasks)
{
    job *j = ctx;
    atomic_fetch_add(&j->hits[task], 1);
    atomic_fetch_add(&j->calls, 1);
    j->n_tasks_seen = n_tasks;
}

static void test_every_task_once(void)
{
    for (int n = 1; n <= 4; n++) {
        evo_pool *pool = NULL;
        evo_error err;
        CHECK(evo_pool_create(n, &pool, &err) == EVO_OK);
        if (!pool)
            return;
        CHECK(evo_pool_size(pool) == n);
        for (int rep = 0; rep < 2000; rep++) {
            job j = {0};
            evo_pool_run(pool, job_fn, &j);
            CHECK(atomic_load(&j.calls) == n);
            for (int t = 0; t < n; t++)
                CHECK(atomic_load(&j.hits[t]) == 1);
            CHECK(j.n_tasks_seen == n);
        }
        evo_pool_free(pool);
    }
}

static void test_task_counts(void)
{
    for (int n = 2; n <= 3; n++) {
        evo_pool *pool = NULL;
        evo_error err;
        CHECK(evo_pool_create(n, &pool, &err) == EVO_OK);
        if (!pool)
            return;
        for (int rep = 0; rep < 3000; rep++) {
            int n_tasks = 1 + rep % 31;
            job j = {0};
            evo_pool_run_tasks(pool, job_fn, &j, n_tasks);
            CHECK(atomic_load(&j.calls) == n_tasks);
            for (int t = 0; t < n_tasks; t++)
                CHECK(atomic_load(&j.hits[t]) == 1);
            CHECK(j.n_tasks_seen == n_tasks);
        }
        evo_pool_free(pool);
    }
}

typedef struct stall_job {
    atomic_int started, finished;
    atomic_bool timed_out;
    int n_tasks;
} stall_job;

/*
 * The first task to start waits until every other task has finished (for
 * 20 s at most). With tasks split statically by thread this never ends:
 * the waiting thread owns tasks of its own that nobody else may take.
 */
static void stall_fn(void *ctx, int task, int n_tasks)
{
    (void)task, (void)n_tasks;
    stall_job *j = ctx;
    if (atomic_fetch_add(&j->started, 1) == 0) {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (atomic_load(&j->finished) < j->n_tasks - 1) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 20) {
                atomic_store(&j->timed_out, true);
                break;
            }
            sched_yield();
        }
    }
    atomic_fetch_add(&j->finished, 1);
}

static void test_stalled_thread(void)
{
    evo_pool *pool = NULL;
    evo_error err;
    CHECK(evo_pool_create(2, &pool, &err) == EVO_OK);
    if (!pool)
        return;
    for (int rep = 0; rep < 20; rep++) {
        stall_job j = {.n_tasks = 8};
        evo_pool_run_tasks(pool, stall_fn, &j, j.n_tasks);
        CHECK_MSG(!atomic_load(&j.timed_out), "round %d: the other thread did not take the stalled thread's tasks",
                  rep);
        CHECK(atomic_load(&j.finished) == j.n_tasks);
    }
    evo_pool_free(pool);
}

/*
 * Shares first: of 4 tasks on 2 threads, the caller's tasks 0 and 1 wait
 * (up to a second) for task 2 to start. The worker starts on its share,
 * tasks 2 and 3, so they never wait long; from one counter handing out
 * tasks in order, the worker would take task 1 and both would wait out
 * the second with task 2 unclaimed.
 */
typedef struct share_job {
    atomic_bool started2, timed_out;
} share_job;

static void share_fn(void *ctx, int task, int n_tasks)
{
    (void)n_tasks;
    share_job *j = ctx;
    if (task == 2)
        atomic_store(&j->started2, true);
    if (task >= 2)
        return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!atomic_load(&j->started2)) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) > 1000000000L) {
            atomic_store(&j->timed_out, true);
            return;
        }
        sched_yield();
    }
}

static void test_own_share_first(void)
{
    evo_pool *pool = NULL;
    evo_error err;
    CHECK(evo_pool_create(2, &pool, &err) == EVO_OK);
    if (!pool)
        return;
    for (int rep = 0; rep < 20; rep++) {
        share_job j = {0};
        evo_pool_run_tasks(pool, share_fn, &j, 4);
        CHECK_MSG(!atomic_load(&j.timed_out), "round %d: task 2 did not start while tasks 0 and 1 waited", rep);
    }
    evo_pool_free(pool);
}

/*
 * The measured fork/join cost is a real hand-off: above zero with a worker
 * (a job ends only once the worker has taken a task), zero without one,
 * bounded even when the worker is slow to come (the wait gives up), and
 * the pool runs jobs normally after it.
 */
static void test_dispatch_measured(void)
{
    evo_pool *one = NULL, *two = NULL;
    evo_error err;
    CHECK(evo_pool_create(1, &one, &err) == EVO_OK);
    CHECK(evo_pool_create(2, &two, &err) == EVO_OK);
    if (!one || !two) {
        evo_pool_free(one);
        evo_pool_free(two);
        return;
    }
    CHECK(evo_pool_dispatch_ns(one) == 0);
    int64_t ns = evo_pool_dispatch_ns(two);
    CHECK_MSG(ns > 0 && ns < 100000000, "dispatch measured %lld ns", (long long)ns);
    job j = {0};
    evo_pool_run_tasks(two, job_fn, &j, 5);
    CHECK(atomic_load(&j.calls) == 5);
    evo_pool_free(one);
    evo_pool_free(two);
}

/*
 * The handoff round trip: zero without a worker; with one (and with two,
 * where a third task has no partner and must simply return) a time above
 * zero and below the 20 ms either side waits before giving up (a worker
 * kept off its core for that long gives 0: some tries may); the pool runs
 * jobs normally after it.
 */
static void test_handoff_measured(void)
{
    evo_pool *one = NULL;
    evo_error err;
    CHECK(evo_pool_create(1, &one, &err) == EVO_OK);
    if (one)
        CHECK(evo_pool_handoff_ns(one) == 0);
    evo_pool_free(one);
    for (int n = 2; n <= 3; n++) {
        evo_pool *pool = NULL;
        CHECK(evo_pool_create(n, &pool, &err) == EVO_OK);
        if (!pool)
            return;
        int64_t ns = 0;
        for (int tries = 0; tries < 20 && ns == 0; tries++)
            ns = evo_pool_handoff_ns(pool);
        CHECK_MSG(ns > 0 && ns < 20000000, "%d threads: handoff measured %lld ns", n, (long long)ns);
        job j = {0};
        evo_pool_run_tasks(pool, job_fn, &j, 7);
        CHECK(atomic_load(&j.calls) == 7);
        evo_pool_free(pool);
    }
}

static void test_bad_thread_count(void)
{
    evo_pool *pool = NULL;
    evo_error err;
    CHECK(evo_pool_create(100000, &pool, &err) == EVO_ERR_INVALID_ARG);
    CHECK(pool == NULL);
    evo_pool_free(NULL);
}

CHECK_MAIN(CHECK_TEST(test_every_task_once), CHECK_TEST(test_task_counts), CHECK_TEST(test_stalled_thread),
           CHECK_TEST(test_own_share_first), CHECK_TEST(test_dispatch_measured), CHECK_TEST(test_handoff_measured),
           CHECK_TEST(test_bad_thread_count))
