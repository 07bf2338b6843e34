/*
 * conv_layer.c - times one Conv layer per kernel variant, for tuning the
 * conv kernels (not part of the tests):
 *
 *     build/evo_conv_layer C_IN C_OUT H W K STRIDE [ACT] [--threads N] [--isa ISA] [--runs R] [--dw]
 *
 * builds Conv(K x K, stride, "same" padding) + optional activation (silu,
 * relu), compiles it like any model and prints the median time and GFLOP/s
 * with the kernel the session chose. --dw makes it depthwise (group =
 * C_IN, which C_OUT must equal).
 */
#include "evo.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "passes/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s C_IN C_OUT H W K STRIDE [silu|relu] [--threads N] [--isa ISA] [--runs R]\n",
                argv[0]);
        return 2;
    }
    int64_t ci = atoll(argv[1]), co = atoll(argv[2]), h = atoll(argv[3]), w = atoll(argv[4]);
    int64_t k = atoll(argv[5]), s = atoll(argv[6]);
    const char *act = NULL, *isa = NULL;
    int threads = 1, runs = 50;
    bool dw = false;
    for (int i = 7; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc)
            isa = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dw"))
            dw = true;
        else
            act = argv[i];
    }
    if (ci < 1 || co < 1 || h < 1 || w < 1 || k < 1 || s < 1 || runs < 1 || runs > 100000 || (dw && ci != co)) {
        fprintf(stderr, "conv_layer: sizes must be positive (and C_IN = C_OUT with --dw)\n");
        return 2;
    }
    evo_builder b;
    if (evo_builder_init(&b, "conv_layer", 7) != EVO_OK)
        return 1;
    evo_build_input(&b, "x", 4, (int64_t[]){1, ci, h, w});
    evo_build_weight(&b, "w", 4, (int64_t[]){co, dw ? 1 : ci, k, k}, 0.1f);
    evo_build_weight(&b, "bias", 1, (int64_t[]){co}, 0.1f);
    char attrs[256];
    int64_t p0 = (k - 1) / 2, p1 = k / 2;
    snprintf(attrs, sizeof(attrs), "kernel_shape=%lld,%lld strides=%lld,%lld pads=%lld,%lld,%lld,%lld group=%lld",
             (long long)k, (long long)k, (long long)s, (long long)s, (long long)p0, (long long)p0,
             (long long)p1, (long long)p1, (long long)(dw ? ci : 1));
    const char *out = act ? "c" : "y";
    evo_build_node(&b, "Conv", "x w bias", out, attrs);
    if (act && !strcmp(act, "silu")) {
        evo_build_node(&b, "Sigmoid", "c", "g", NULL);
        evo_build_node(&b, "Mul", "c g", "y", NULL);
    } else if (act && !strcmp(act, "relu")) {
        evo_build_node(&b, "Relu", "c", "y", NULL);
    } else if (act) {
        fprintf(stderr, "conv_layer: unknown activation '%s'\n", act);
        return 2;
    }
    evo_build_output(&b, "y");
    evo_error err = {0};
    evo_compile_options copts = evo_compile_options_default();
    evo_pass_ctx ctx = {&copts, &err};
    evo_model *m = NULL;
    if (!b.ok || evo_passes_run(b.g, &ctx) != EVO_OK || evo_model_from_graph(b.g, &m, &err) != EVO_OK) {
        fprintf(stderr, "conv_layer: %s\n", err.msg);
        return 1;
    }
    evo_session_options so = evo_session_options_default();
    so.n_threads = threads;
    so.isa = isa;
    so.profile = 1;
    evo_session *sess;
    if (evo_session_create(m, &so, &sess, &err) != EVO_OK) {
        fprintf(stderr, "conv_layer: %s\n", err.msg);
        return 1;
    }
    float *x = evo_session_input_data(sess, 0);
    for (int64_t i = 0; i < ci * h * w; i++)
        x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int r = -3; r < runs; r++) {
        double t0 = now_ms();
        if (evo_session_run(sess, &err) != EVO_OK) {
            fprintf(stderr, "conv_layer: %s\n", err.msg);
            return 1;
        }
        if (r >= 0)
            t[r] = now_ms() - t0;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    evo_step_profile p;
    evo_session_profile(sess, 0, &p);
    int64_t oh = (h - 1) / s + 1, ow = (w - 1) / s + 1;
    double gflop = 2.0 * (double)(co * (dw ? 1 : ci) * k * k) * (double)(oh * ow) * 1e-9;
    printf("conv %lldx%lld %lld->%lld s%lld out %lldx%lld %-4s  %-12s %8.3f ms  %7.1f GFLOP/s\n", (long long)k,
           (long long)k, (long long)ci, (long long)co, (long long)s, (long long)oh, (long long)ow, act ? act : "",
           p.kernel, t[runs / 2], gflop / t[runs / 2] * 1e3);
    free(t);
    evo_session_free(sess);
    evo_model_free(m);
    return 0;
}
