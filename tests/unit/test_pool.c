/* test_pool.c - the thread pool runs every task exactly once per job, for many jobs. */
#include "check.h"
#include "exec/pool.h"

#include <stdatomic.h>

typedef struct job {
    atomic_int hits[8];
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

static void test_bad_thread_count(void)
{
    evo_pool *pool = NULL;
    evo_error err;
    CHECK(evo_pool_create(100000, &pool, &err) == EVO_ERR_INVALID_ARG);
    CHECK(pool == NULL);
    evo_pool_free(NULL);
}

CHECK_MAIN(CHECK_TEST(test_every_task_once), CHECK_TEST(test_bad_thread_count))
