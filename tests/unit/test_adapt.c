/*
 * test_adapt.c - a many-thread session's choice between its threads and
 * the calling thread alone (exec/adapt.c): on made-up run times, it keeps
 * the threads while they are faster and times the other way only now and
 * then, goes to the calling thread within a few runs of the threads
 * turning slower, comes back once they recover, ignores the cold first
 * run and small differences; on a real session, the run that goes on the
 * calling thread alone gives the same outputs as the threads' runs, and
 * fixed_threads and profiling keep every run on the threads.
 */
#include "check.h"
#include "exec/adapt.h"
#include "exec/session.h"
#include "graph_run.h"

/* Runs n runs of a taking threads_ns / serial_ns; returns how many went on the calling thread. */
static int drive(evo_adapt *a, int n, int64_t threads_ns, int64_t serial_ns)
{
    int serial = 0;
    for (int i = 0; i < n; i++) {
        evo_run_way w = evo_adapt_next(a);
        serial += w == EVO_RUN_SERIAL;
        evo_adapt_record(a, w, w == EVO_RUN_SERIAL ? serial_ns : threads_ns);
    }
    return serial;
}

static void test_estimate_is_median(void)
{
    evo_adapt a = {0};
    CHECK(evo_adapt_estimate(&a, EVO_RUN_THREADS) == -1);
    evo_adapt_record(&a, EVO_RUN_THREADS, 999); /* the cold first run: not kept */
    CHECK(evo_adapt_estimate(&a, EVO_RUN_THREADS) == -1);
    evo_adapt_record(&a, EVO_RUN_THREADS, 30);
    CHECK(evo_adapt_estimate(&a, EVO_RUN_THREADS) == 30);
    evo_adapt_record(&a, EVO_RUN_THREADS, 10);
    CHECK(evo_adapt_estimate(&a, EVO_RUN_THREADS) == 20);
    evo_adapt_record(&a, EVO_RUN_THREADS, 50);
    CHECK(evo_adapt_estimate(&a, EVO_RUN_THREADS) == 30);
    evo_adapt_record(&a, EVO_RUN_THREADS, 5); /* replaces the oldest (30): 5, 10, 50 */
    CHECK(evo_adapt_estimate(&a, EVO_RUN_THREADS) == 10);
    CHECK(a.runs == 5 && a.serial_runs == 0);
}

static void test_threads_faster(void)
{
    evo_adapt a = {0};
    /* the cold first run is slow on the threads: the choice does not hang on it */
    CHECK(evo_adapt_next(&a) == EVO_RUN_THREADS);
    evo_adapt_record(&a, EVO_RUN_THREADS, 100000);
    int serial = drive(&a, 1024, 8000, 14000);
    CHECK_MSG(serial >= 2 && serial <= 8, "%d of 1024 runs on the calling thread while the threads are faster",
              serial);
    CHECK(a.way == EVO_RUN_THREADS && a.serial_runs == serial);
    /* a small gain is not worth leaving the threads the caller asked for */
    serial = drive(&a, 512, 10000, 9900);
    CHECK_MSG(serial <= 4 && a.way == EVO_RUN_THREADS, "%d runs on the calling thread for a 1 %% gain", serial);
}

static void test_threads_turn_slow_and_recover(void)
{
    evo_adapt a = {0};
    drive(&a, 300, 8000, 14000);
    CHECK(a.way == EVO_RUN_THREADS);
    /* the threads turn slow: within three runs the calling thread takes over */
    int k = 0;
    while (a.way == EVO_RUN_THREADS && k < 100)
        drive(&a, 1, 15500, 14000), k++;
    CHECK_MSG(a.way == EVO_RUN_SERIAL && k <= 3, "took %d runs to leave the slow threads", k);
    /* while they stay slow, they are tried about once in 17 runs */
    int serial = drive(&a, 340, 15500, 14000);
    CHECK_MSG(serial >= 340 - 24 && serial < 340, "%d of 340 runs on the calling thread", serial);
    CHECK(a.way == EVO_RUN_SERIAL);
    /* they recover: back on them within a few of those tries */
    k = 0;
    while (a.way == EVO_RUN_SERIAL && k < 1000)
        drive(&a, 1, 8000, 14000), k++;
    CHECK_MSG(a.way == EVO_RUN_THREADS && k <= 3 * 17, "took %d runs to go back to the threads", k);
}

static void build_convs(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 48, 40, 40});
    evo_build_weight(b, "w1", 4, (int64_t[]){96, 48, 1, 1}, 0.2f);
    evo_build_weight(b, "w2", 4, (int64_t[]){96, 1, 3, 3}, 0.3f);
    evo_build_weight(b, "w3", 4, (int64_t[]){32, 96, 1, 1}, 0.1f);
    evo_build_output(b, "y");
    evo_build_node(b, "Conv", "x w1", "m", NULL);
    evo_build_node(b, "Relu", "m", "a", NULL);
    evo_build_node(b, "Conv", "a w2", "d", "kernel_shape=3,3 pads=1,1,1,1 group=96");
    evo_build_node(b, "Conv", "d w3", "y", NULL);
}

/* Runs a 2-thread session 4 times; *serial: runs on the calling thread; the outputs of all runs must agree. */
static void run_session(bool fixed, bool profile, int64_t *runs, int64_t *serial)
{
    evo_error err = {0};
    evo_model *m;
    evo_session *s;
    evo_session_options so = evo_session_options_default();
    so.n_threads = 2;
    so.fixed_threads = fixed;
    so.profile = profile;
    *runs = *serial = -1;
    graph_session(build_convs, 17, NULL, &so, &m, &s);
    if (!s)
        goto done;
    evo_tensor_desc d;
    evo_model_output_desc(m, 0, &d);
    size_t n = d.size_bytes / sizeof(float);
    float *first = malloc(d.size_bytes);
    CHECK(first != NULL);
    for (int r = 0; r < 4 && first; r++) {
        fill_inputs_seeded(m, s, 11);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        const float *y = evo_session_output_data(s, 0);
        if (r == 0)
            memcpy(first, y, d.size_bytes);
        for (size_t i = 0; i < n; i++)
            if (y[i] != first[i]) {
                CHECK_MSG(0, "run %d: output %zu is %g, first run %g", r, i, y[i], first[i]);
                break;
            }
    }
    free(first);
    *runs = evo_session_runs(s, serial);
done:
    evo_session_free(s);
    evo_model_free(m);
}

static void test_session(void)
{
    int64_t runs, serial;
    run_session(false, false, &runs, &serial); /* the second run times the calling thread alone */
    CHECK_MSG(runs == 4 && serial >= 1 && serial <= 3, "adaptive: %lld runs, %lld serial", (long long)runs,
              (long long)serial);
    run_session(true, false, &runs, &serial);
    CHECK_MSG(runs == 0 && serial == 0, "fixed_threads: %lld runs, %lld serial", (long long)runs, (long long)serial);
    run_session(false, true, &runs, &serial);
    CHECK_MSG(runs == 0 && serial == 0, "profiling: %lld runs, %lld serial", (long long)runs, (long long)serial);
}

CHECK_MAIN(CHECK_TEST(test_estimate_is_median), CHECK_TEST(test_threads_faster),
           CHECK_TEST(test_threads_turn_slow_and_recover), CHECK_TEST(test_session))
