/*
 * test_step_cpu.c - a profiled step's cpu_ms (its tasks' run time summed
 * over the threads): above 0 on every step that runs, at most the step's
 * time on its threads (the tasks run inside the step, one at a time on
 * each thread), at most its time when it runs on the calling thread alone,
 * started afresh each run, and 0 without profiling.
 */
#include "check.h"
#include "graph_run.h"

static void build_convs(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 48, 56, 56});
    evo_build_weight(b, "w1", 4, (int64_t[]){64, 48, 1, 1}, 0.2f);
    evo_build_weight(b, "w2", 4, (int64_t[]){64, 64, 3, 3}, 0.05f);
    evo_build_output(b, "y");
    evo_build_node(b, "Conv", "x w1", "m", NULL);
    evo_build_node(b, "Relu", "m", "a", NULL);
    evo_build_node(b, "Conv", "a w2", "y", "kernel_shape=3,3 pads=1,1,1,1");
}

/* Runs the graph `runs` times on n_threads (profiling or not) and checks every step's cpu_ms after the last run. */
static void check_cpu(int n_threads, bool profile, int runs)
{
    evo_error err = {0};
    evo_model *m;
    evo_session *s;
    evo_session_options so = evo_session_options_default();
    so.n_threads = n_threads;
    so.profile = profile;
    graph_session(build_convs, 17, NULL, &so, &m, &s);
    if (!s)
        goto done;
    for (int r = 0; r < runs; r++) {
        fill_inputs_seeded(m, s, 7);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
    }
    int ran = 0, split = 0;
    for (int i = 0; i < evo_session_n_steps(s); i++) {
        evo_step_profile p;
        CHECK(evo_session_profile(s, i, &p) == EVO_OK);
        if (!profile) {
            CHECK_MSG(p.cpu_ms == 0, "step %s: cpu %g ms without profiling", p.node, p.cpu_ms);
            continue;
        }
        if (strcmp(p.kernel, "view") == 0 || strcmp(p.kernel, "fused") == 0) {
            CHECK_MSG(p.cpu_ms == 0, "step %s (%s) ran no tasks but has cpu %g ms", p.node, p.kernel, p.cpu_ms);
            continue;
        }
        ran++;
        int threads = p.n_tasks < n_threads ? p.n_tasks : n_threads;
        split += threads > 1;
        /* 1 us of slack: the two clocks are read at different points */
        CHECK_MSG(p.cpu_ms > 0 && p.cpu_ms <= threads * p.time_ms + 1e-3,
                  "step %s on %d thread(s): cpu %.4f ms against %.4f ms", p.node, threads, p.cpu_ms, p.time_ms);
    }
    CHECK_MSG(!profile || ran >= 2, "%d steps ran", ran);
    CHECK_MSG(!profile || n_threads == 1 || split >= 1, "no step ran on %d threads", n_threads);
done:
    evo_session_free(s);
    evo_model_free(m);
}

static void test_one_thread(void)
{
    check_cpu(1, true, 3);
}

static void test_threads(void)
{
    check_cpu(2, true, 5);
    check_cpu(3, true, 5);
}

static void test_not_profiling(void)
{
    check_cpu(2, false, 2);
}

CHECK_MAIN(CHECK_TEST(test_one_thread), CHECK_TEST(test_threads), CHECK_TEST(test_not_profiling))
