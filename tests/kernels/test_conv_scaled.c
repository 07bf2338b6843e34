/*
 * test_conv_scaled.c - the fused pair Mul -> 1x1 Conv (scaled_avx512,
 * scaled_avx2): squeeze-excite's per-channel scale taken into the next
 * conv's weights. A squeeze-excite block (GlobalAveragePool, 1x1 + ReLU,
 * 1x1 + Sigmoid, Mul) then a 1x1 conv, run with the pair and with it
 * skipped ($EVO_SKIP_KERNELS): outputs agree to float rounding (the
 * products round in another order), on 1-3 threads, for channel counts
 * that are no multiple of 8 or 16, more input channels than one K block,
 * batch 2 (a scale per image), the scale as either Mul input, a residual
 * and an activation on the conv; and the pair is not formed when the
 * product is read elsewhere, when the Mul multiplies two full tensors, or
 * when the conv's weights outweigh the product.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "kernels/conv_fast.h"
#include "passes/passes.h"
#include "plan/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct se_case {
    int64_t batch, c, c_out, h, w;
    bool scale_first; /* Mul(s, x) instead of Mul(x, s) */
    bool residual;    /* the conv adds a tensor (Add after it) */
    bool shared;      /* the product is also a graph output */
    bool full;        /* the Mul multiplies x by a full tensor, not a scale */
} se_case;

static const se_case *cur;

static void build_se(evo_builder *b)
{
    const se_case *c = cur;
    int64_t r = c->c / 4 > 0 ? c->c / 4 : 1;
    evo_build_input(b, "x", 4, (int64_t[]){c->batch, c->c, c->h, c->w});
    evo_build_weight(b, "w1", 4, (int64_t[]){r, c->c, 1, 1}, 0.3f);
    evo_build_weight(b, "b1", 1, (int64_t[]){r}, 0.2f);
    evo_build_weight(b, "w2", 4, (int64_t[]){c->c, r, 1, 1}, 0.3f);
    evo_build_weight(b, "b2", 1, (int64_t[]){c->c}, 0.2f);
    evo_build_weight(b, "w3", 4, (int64_t[]){c->c_out, c->c, 1, 1}, 0.1f);
    evo_build_weight(b, "b3", 1, (int64_t[]){c->c_out}, 0.2f);
    if (c->full) {
        evo_build_input(b, "z", 4, (int64_t[]){c->batch, c->c, c->h, c->w});
        evo_build_node(b, "Mul", "x z", "p", NULL);
    } else {
        evo_build_node(b, "GlobalAveragePool", "x", "g", NULL);
        evo_build_node(b, "Conv", "g w1 b1", "f1", "kernel_shape=1,1");
        evo_build_node(b, "Relu", "f1", "a1", NULL);
        evo_build_node(b, "Conv", "a1 w2 b2", "f2", "kernel_shape=1,1");
        evo_build_node(b, "Sigmoid", "f2", "s", NULL);
        evo_build_node(b, "Mul", c->scale_first ? "s x" : "x s", "p", NULL);
    }
    evo_build_node(b, "Conv", "p w3 b3", "y0", "kernel_shape=1,1");
    if (c->residual) {
        evo_build_input(b, "r", 4, (int64_t[]){c->batch, c->c_out, c->h, c->w});
        evo_build_node(b, "Add", "y0 r", "y", NULL);
    } else {
        evo_build_node(b, "Relu", "y0", "y", NULL);
    }
    evo_build_output(b, "y");
    if (c->shared)
        evo_build_output(b, "p");
}

/* Runs cur on n_threads, the pair allowed or skipped; output 0 into out. Returns whether a Mul step was fused. */
static bool run_se(int n_threads, bool allow, float **out, size_t *n_out)
{
    evo_builder b;
    evo_error err = {0};
    evo_model *m = NULL;
    evo_session *s = NULL;
    bool fused = false;
    if (allow)
        unsetenv("EVO_SKIP_KERNELS");
    else
        setenv("EVO_SKIP_KERNELS", "scaled_avx512,scaled_avx2", 1);
    CHECK(evo_builder_init(&b, "se", 13) == EVO_OK);
    build_se(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK && evo_model_from_graph(b.g, &m, &err) == EVO_OK, "%s", err.msg);
    evo_session_options so = evo_session_options_default();
    so.n_threads = n_threads;
    CHECK_MSG(m && evo_session_create(m, &so, &s, &err) == EVO_OK, "%s", err.msg);
    if (s) {
        evo_tensor_desc d;
        for (int i = 0; i < evo_model_n_inputs(m); i++) {
            evo_model_input_desc(m, i, &d);
            float *p = evo_session_input_data(s, i);
            uint64_t seed = 7 + (uint64_t)i;
            for (size_t k = 0; k < d.size_bytes / 4; k++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                p[k] = (float)((seed >> 40) & 0xffff) / 16384.0f - 2.0f;
            }
        }
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        evo_model_output_desc(m, 0, &d);
        *n_out = d.size_bytes / 4;
        *out = malloc(d.size_bytes);
        memcpy(*out, evo_session_output_data(s, 0), d.size_bytes);
        for (int i = 0; i < evo_session_n_steps(s); i++) {
            evo_step_profile sp;
            evo_session_profile(s, i, &sp);
            fused |= strcmp(sp.kernel, "fused") == 0 && strcmp(sp.op, "Mul") == 0;
        }
    }
    unsetenv("EVO_SKIP_KERNELS");
    evo_session_free(s);
    evo_model_free(m);
    return fused;
}

static void check_case(const se_case *c, bool want_fused)
{
    cur = c;
    for (int t = 1; t <= 3; t++) {
        float *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        bool fused = run_se(t, true, &a, &na);
        bool plain = run_se(t, false, &b, &nb);
        CHECK_MSG(fused == want_fused && !plain, "%lld ch %lldx%lld: fused %d (want %d), with the pair skipped %d",
                  (long long)c->c, (long long)c->h, (long long)c->w, fused, want_fused, plain);
        CHECK(na == nb && na > 0 && a && b);
        if (!a || !b || na != nb)
            continue;
        double max_ref = 0, max_diff = 0;
        for (size_t i = 0; i < na; i++) {
            max_ref = fmax(max_ref, fabs(b[i]));
            max_diff = fmax(max_diff, fabs((double)a[i] - b[i]));
        }
        /* float sums of c products, rounded in another order */
        CHECK_MSG(max_ref > 0.1 && max_diff <= 1e-5 * max_ref, "%lld ch threads %d: max diff %g of max %g",
                  (long long)c->c, t, max_diff, max_ref);
        free(a);
        free(b);
    }
}

/* AVX2 or AVX-512 (as --isa caps it): the pair of that tier */
static bool have_kernel(void)
{
    return check_host_runs(&evo_kernel_conv_scaled_avx2);
}

static void test_scaled(void)
{
    if (!have_kernel())
        return;
    static const se_case cases[] = {
        {1, 96, 24, 56, 56, false, false, false, false},  /* EfficientNet-B0's second stage */
        {1, 40, 21, 29, 27, true, false, false, false},   /* Mul(s, x), odd sizes, 21 outputs */
        {2, 72, 40, 28, 28, false, true, false, false},   /* batch 2: a scale per image; a residual */
        {1, 1100, 40, 14, 14, false, false, false, false}, /* K in two blocks (AVX2: five) */
        {1, 13, 8, 11, 5, true, true, false, false},      /* 13 channels, tiny map */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], true);
}

static void test_not_fused(void)
{
    if (!have_kernel())
        return;
    static const se_case shared = {1, 96, 24, 56, 56, false, false, true, false};
    static const se_case full = {1, 48, 24, 20, 20, false, false, false, true};
    static const se_case heavy = {1, 1152, 320, 7, 7, false, false, false, false};
    check_case(&shared, false); /* the product is a graph output */
    check_case(&full, false);   /* two full tensors */
    check_case(&heavy, false);  /* 320 x 1152 weights against a 1152 x 49 product */
}

CHECK_MAIN(CHECK_TEST(test_scaled), CHECK_TEST(test_not_fused))
