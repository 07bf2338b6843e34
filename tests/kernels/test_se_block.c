/*
 * test_se_block.c - the fused steps of a squeeze-excite block: the Mul ->
 * 1x1 Conv pair (scaled_avx512, scaled_avx2: the per-channel scale taken
 * into the next conv's weights) and the GlobalAveragePool taken from a
 * fused pointwise/stem -> depthwise pair as it stores (pwdwc_gap_avx512,
 * bcdwc_gap_avx512). A block (GlobalAveragePool, 1x1 + ReLU, 1x1 +
 * Sigmoid, Mul) then a 1x1 conv, with or without an expansion (or a
 * stem) and a depthwise conv before, run with the fused steps and with
 * them skipped ($EVO_SKIP_KERNELS): outputs agree to float rounding (the
 * products and sums round in another order), on 1-3 threads, and with the
 * steps fused they are the same bits on every thread count; for channel
 * counts that are no multiple of 8 or 16, more input channels than one K
 * block, batch 2 (a scale per image), the scale as either Mul input, a
 * residual and an activation on the conv; and the Mul pair is not formed
 * when the product is read elsewhere, when the Mul multiplies two full
 * tensors, or when the conv's weights outweigh the product.
 */
#include "check.h"
#include "graph_run.h"
#include "kernels/conv_fast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct se_case {
    int64_t batch, c, c_out, h, w;
    bool scale_first; /* Mul(s, x) instead of Mul(x, s) */
    bool residual;    /* the conv adds a tensor (Add after it) */
    bool shared;      /* the product is also a graph output */
    bool full;        /* the Mul multiplies x by a full tensor, not a scale */
    int front;        /* before the block: 0 nothing, 1 a 1x1 expansion and a 3x3 depthwise conv, 2 a 3x3/2
                         stem from 3 channels and a 3x3 depthwise conv (SiLU after each) */
} se_case;

static const se_case *cur;

static void build_se(evo_builder *b)
{
    const se_case *c = cur;
    int64_t r = c->c / 4 > 0 ? c->c / 4 : 1;
    const char *x = "x";
    if (c->front == 0) {
        evo_build_input(b, "x", 4, (int64_t[]){c->batch, c->c, c->h, c->w});
    } else {
        int64_t c0 = c->front == 1 ? (c->c + 3) / 4 : 3, k = c->front == 1 ? 1 : 3, s = c->front == 1 ? 1 : 2;
        evo_build_input(b, "x", 4, (int64_t[]){c->batch, c0, c->h * s, c->w * s});
        evo_build_weight(b, "we", 4, (int64_t[]){c->c, c0, k, k}, 0.3f);
        evo_build_weight(b, "wd", 4, (int64_t[]){c->c, 1, 3, 3}, 0.3f);
        evo_build_weight(b, "bd", 1, (int64_t[]){c->c}, 0.1f);
        evo_build_node(b, "Conv", "x we", "e0",
                       c->front == 1 ? "kernel_shape=1,1" : "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
        evo_build_node(b, "Sigmoid", "e0", "e1", NULL);
        evo_build_node(b, "Mul", "e0 e1", "e", NULL);
        char attrs[96];
        snprintf(attrs, sizeof(attrs), "kernel_shape=3,3 pads=1,1,1,1 group=%lld", (long long)c->c);
        evo_build_node(b, "Conv", "e wd bd", "d0", attrs);
        evo_build_node(b, "Sigmoid", "d0", "d1", NULL);
        evo_build_node(b, "Mul", "d0 d1", "d", NULL);
        x = "d";
    }
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
        evo_build_node(b, "GlobalAveragePool", x, "g", NULL);
        evo_build_node(b, "Conv", "g w1 b1", "f1", "kernel_shape=1,1");
        evo_build_node(b, "Relu", "f1", "a1", NULL);
        evo_build_node(b, "Conv", "a1 w2 b2", "f2", "kernel_shape=1,1");
        evo_build_node(b, "Sigmoid", "f2", "s", NULL);
        char ins[8];
        snprintf(ins, sizeof(ins), c->scale_first ? "s %s" : "%s s", x);
        evo_build_node(b, "Mul", ins, "p", NULL);
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

/* whether the Mul was fused (bit 0) and whether a kernel took the GlobalAveragePool into the pair before (bit 1) */
static int se_steps(const evo_step_profile *sp)
{
    return (strcmp(sp->kernel, "fused") == 0 && strcmp(sp->op, "Mul") == 0) |
           (strcmp(sp->kernel, "pwdwc_gap_avx512") == 0 || strcmp(sp->kernel, "bcdwc_gap_avx512") == 0) << 1;
}

/* Runs cur on n_threads, the fused steps allowed or skipped; output 0 into out. Returns se_steps' bits. */
static int run_se(int n_threads, bool allow, float **out, size_t *n_out)
{
    static const char *const fused = "scaled_avx512,scaled_avx2,pwdwc_gap_avx512,bcdwc_gap_avx512";
    return graph_run(build_se, 13, NULL, NULL, n_threads, allow ? NULL : fused, 7, se_steps, out, n_out);
}

/* want_fused: the Mul pair formed; the pooling is taken into the pair before whenever the block has one (AVX-512) */
static void check_case(const se_case *c, bool want_fused)
{
    cur = c;
    int want = want_fused | (c->front && !c->full && evo_cpu_has_isa(EVO_ISA_AVX512)) << 1;
    float *one = NULL;
    size_t n_one = 0;
    for (int t = 1; t <= 3; t++) {
        float *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        int fused = run_se(t, true, &a, &na);
        int plain = run_se(t, false, &b, &nb);
        CHECK_MSG(fused == want && !plain, "%lld ch %lldx%lld: fused %d (want %d), with them skipped %d",
                  (long long)c->c, (long long)c->h, (long long)c->w, fused, want, plain);
        CHECK(na == nb && na > 0 && a && b);
        if (!a || !b || na != nb)
            continue;
        if (t == 1) {
            one = a, n_one = na;
        } else { /* sums in an order that does not follow the task split */
            CHECK_MSG(n_one == na && one && memcmp(one, a, na * 4) == 0, "%lld ch: %d threads differ from 1",
                      (long long)c->c, t);
        }
        double max_ref = 0, max_diff = graph_max_diff(a, b, na, &max_ref);
        /* float sums of c products, rounded in another order */
        CHECK_MSG(max_ref > 0.1 && max_diff <= 1e-5 * max_ref, "%lld ch threads %d: max diff %g of max %g",
                  (long long)c->c, t, max_diff, max_ref);
        if (t == 1) { /* and the portable reference kernels' */
            float *r = NULL;
            size_t nr = 0;
            graph_run(build_se, 13, NULL, "ref", 1, NULL, 7, NULL, &r, &nr);
            max_diff = nr == na && r ? graph_max_diff(a, r, na, &max_ref) : INFINITY;
            CHECK_MSG(max_ref > 0.1 && max_diff <= 1e-5 * max_ref, "%lld ch: max diff %g from the reference, of max %g",
                      (long long)c->c, max_diff, max_ref);
            free(r);
        }
        if (t > 1)
            free(a);
        free(b);
    }
    free(one);
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
        {1, 144, 24, 56, 56, false, true, false, false, 1}, /* an expansion and depthwise before, a residual */
        {2, 72, 40, 29, 27, true, false, false, false, 1},  /* batch 2, odd sizes, 72 channels */
        {1, 32, 16, 112, 112, false, false, false, false, 2}, /* EfficientNet-B0's stem and first block */
        {1, 40, 20, 37, 41, false, false, false, false, 2},   /* a stem, odd sizes */
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
    static const se_case heavy = {1, 1152, 320, 7, 7, false, false, false, false, 1};
    check_case(&shared, false); /* the product is a graph output */
    check_case(&full, false);   /* two full tensors */
    check_case(&heavy, false);  /* 320 x 1152 weights against a 1152 x 49 product (the pooling still fused) */
}

CHECK_MAIN(CHECK_TEST(test_scaled), CHECK_TEST(test_not_fused))
