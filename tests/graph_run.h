/*
 * graph_run.h - what the fused-step tests share: a graph from a builder
 * function, compiled with every pass, run once on seeded inputs with some
 * kernels skipped, and the kernels its steps ran. Include after check.h.
 */
#ifndef EVO_TESTS_GRAPH_RUN_H
#define EVO_TESTS_GRAPH_RUN_H

#include "exec/model.h"
#include "graph/builder.h"
#include "passes/passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every float input of s in [-2, 2), seeded. */
static inline void fill_inputs_seeded(const evo_model *m, evo_session *s, uint64_t seed)
{
    evo_tensor_desc d;
    for (int i = 0; i < evo_model_n_inputs(m); i++) {
        evo_model_input_desc(m, i, &d);
        float *p = evo_session_input_data(s, i);
        uint64_t r = seed + (uint64_t)i;
        for (size_t k = 0; k < d.size_bytes / 4; k++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            p[k] = (float)((r >> 40) & 0xffff) / 16384.0f - 2.0f;
        }
    }
}

/*
 * Builds a graph with build() at opset, compiles it with every pass but
 * those listed in disable (NULL: none) and opens a session on it with
 * options so. *m and *s are NULL where that failed (a CHECK says where).
 */
static inline void graph_session(void (*build)(evo_builder *), int opset, const char *disable,
                                 const evo_session_options *so, evo_model **m, evo_session **s)
{
    evo_builder b;
    evo_error err = {0};
    *m = NULL;
    *s = NULL;
    CHECK(evo_builder_init(&b, "graph", opset) == EVO_OK);
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = disable;
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK && evo_model_from_graph(b.g, m, &err) == EVO_OK, "%s", err.msg);
    CHECK_MSG(*m && evo_session_create(*m, so, s, &err) == EVO_OK, "%s", err.msg);
}

/*
 * Builds a graph with build() at opset, compiles it (the passes listed in
 * disable skipped; NULL: none), runs it on n_threads with the kernels
 * capped at isa ("ref": the portable reference; NULL: the best)
 * and $EVO_SKIP_KERNELS = skip (NULL: none skipped) and inputs seeded by
 * seed, twice (the second run must give the same bits); output 0 goes to
 * *out (malloc'd, *n_out floats). Returns the OR
 * of step(profile of each step) (step NULL: 0).
 */
static inline int graph_run(void (*build)(evo_builder *), int opset, const char *disable, const char *isa,
                            int n_threads, const char *skip, uint64_t seed, int (*step)(const evo_step_profile *),
                            float **out, size_t *n_out)
{
    evo_error err = {0};
    evo_model *m;
    evo_session *s;
    int seen = 0;
    *out = NULL;
    *n_out = 0;
    if (skip)
        setenv("EVO_SKIP_KERNELS", skip, 1);
    else
        unsetenv("EVO_SKIP_KERNELS");
    evo_session_options so = evo_session_options_default();
    so.n_threads = n_threads;
    so.isa = isa;
    graph_session(build, opset, disable, &so, &m, &s);
    if (s) {
        evo_tensor_desc d;
        fill_inputs_seeded(m, s, seed);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        evo_model_output_desc(m, 0, &d);
        *n_out = d.size_bytes / 4;
        *out = malloc(d.size_bytes);
        if (*out)
            memcpy(*out, evo_session_output_data(s, 0), d.size_bytes);
        /* a second run on the same inputs: the same bits (a step's run state is back where it started) */
        fill_inputs_seeded(m, s, seed);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        CHECK_MSG(*out && memcmp(*out, evo_session_output_data(s, 0), d.size_bytes) == 0,
                  "a second run gave other outputs");
        for (int i = 0; step && i < evo_session_n_steps(s); i++) {
            evo_step_profile sp;
            evo_session_profile(s, i, &sp);
            seen |= step(&sp);
        }
    }
    unsetenv("EVO_SKIP_KERNELS");
    evo_session_free(s);
    evo_model_free(m);
    return seen;
}

/* max |a[i] - b[i]| over n floats; *scale = max |b[i]| */
static inline double graph_max_diff(const float *a, const float *b, size_t n, double *scale)
{
    double d = 0;
    *scale = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        *scale = fmax(*scale, fabs(b[i]));
    }
    return d;
}

#endif /* EVO_TESTS_GRAPH_RUN_H */
