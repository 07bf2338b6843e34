/*
 * test_fused_pair.c - fused pairs (two convs run as one step, the first's
 * output kept in bands: bcast_pair_avx512, two broadcast convs, and
 * pwdwc_avx512 and bcdwc_avx512, a 1x1 or a broadcast conv then a
 * depthwise one) against
 * the same graph with the pairs disabled ($EVO_SKIP_KERNELS): outputs
 * bit-identical for stems like YOLOv5's (6x6/2 then 3x3/2) and YOLOv8's
 * (3x3/2 twice), for inverted-residual expansions (1x1, then 3x3 or 5x5
 * depthwise, stride 1 or 2) on large maps and small ones, channel counts
 * that are no multiple of 16 or 8, for MobileNet's stem (3x3/2 from 3
 * channels, then depthwise), odd sizes, batch 2, a residual on the
 * second conv, the first conv's SiLU, ReLU, Clip or HardSwish, 1-3 threads;
 * and dwpw_avx512, a depthwise conv then a 1x1 (MobileNetV3's first block,
 * YOLOX's DWConv: stride 1 and 2, 3x3 and 5x5, odd sizes and channel
 * counts). The plan marks the first step fused and stores no middle value;
 * a middle value read elsewhere or too small to matter is not fused, nor
 * a depthwise conv whose bands would hold too few rows.
 */
#include "check.h"
#include "graph_run.h"
#include "core/cpu.h"

#include <stdlib.h>
#include <string.h>

typedef struct pair_case {
    int64_t batch, c0, c1, c2, h, w; /* input c0 x h x w, then c1 and c2 channels */
    int k1, s1, p1, k2, s2, p2;
    bool residual; /* the second conv adds a tensor (Add after it) */
    bool shared;   /* the middle value is also a graph output */
    bool depthwise; /* the second conv is depthwise (c2 = c1, group c1) */
    int act;        /* the first conv's activation: 0 SiLU, 1 ReLU, 2 Clip (as ReLU6, narrower), 3 HardSwish */
    bool dw_first;  /* the first conv is depthwise (c1 = c0, group c0) */
} pair_case;

static const pair_case *cur;

static void build_pair(evo_builder *b)
{
    const pair_case *c = cur;
    char attrs[128];
    evo_build_input(b, "x", 4, (int64_t[]){c->batch, c->c0, c->h, c->w});
    evo_build_weight(b, "w1", 4, (int64_t[]){c->c1, c->dw_first ? 1 : c->c0, c->k1, c->k1}, 0.3f);
    evo_build_weight(b, "b1", 1, (int64_t[]){c->c1}, 0.2f);
    evo_build_weight(b, "w2", 4, (int64_t[]){c->c2, c->depthwise ? 1 : c->c1, c->k2, c->k2}, 0.1f);
    evo_build_weight(b, "b2", 1, (int64_t[]){c->c2}, 0.2f);
    snprintf(attrs, sizeof(attrs), "kernel_shape=%d,%d strides=%d,%d pads=%d,%d,%d,%d group=%lld", c->k1, c->k1,
             c->s1, c->s1, c->p1, c->p1, c->p1, c->p1, c->dw_first ? (long long)c->c0 : 1LL);
    evo_build_node(b, "Conv", "x w1 b1", "m", attrs);
    if (c->act == 1) {
        evo_build_node(b, "Relu", "m", "a", NULL);
    } else if (c->act == 3) {
        evo_build_node(b, "HardSwish", "m", "a", NULL);
    } else if (c->act == 2) {
        float lo = -0.25f, hi = 0.5f; /* both ends reached */
        evo_build_const(b, "lo", EVO_DTYPE_FLOAT, 0, NULL, &lo);
        evo_build_const(b, "hi", EVO_DTYPE_FLOAT, 0, NULL, &hi);
        evo_build_node(b, "Clip", "m lo hi", "a", NULL);
    } else {
        evo_build_node(b, "Sigmoid", "m", "ms", NULL);
        evo_build_node(b, "Mul", "m ms", "a", NULL); /* SiLU, fused into the conv */
    }
    snprintf(attrs, sizeof(attrs), "kernel_shape=%d,%d strides=%d,%d pads=%d,%d,%d,%d group=%lld", c->k2, c->k2,
             c->s2, c->s2, c->p2, c->p2, c->p2, c->p2, c->depthwise ? (long long)c->c1 : 1LL);
    evo_build_node(b, "Conv", "a w2 b2", "y0", attrs);
    if (c->residual) {
        int64_t oh = (c->h + 2 * c->p1 - c->k1) / c->s1 + 1, ow = (c->w + 2 * c->p1 - c->k1) / c->s1 + 1;
        oh = (oh + 2 * c->p2 - c->k2) / c->s2 + 1, ow = (ow + 2 * c->p2 - c->k2) / c->s2 + 1;
        evo_build_input(b, "r", 4, (int64_t[]){c->batch, c->c2, oh, ow});
        evo_build_node(b, "Add", "y0 r", "y", NULL);
    } else {
        evo_build_node(b, "Relu", "y0", "y", NULL);
    }
    evo_build_output(b, "y");
    if (c->shared)
        evo_build_output(b, "a");
}

static void build_cur(evo_builder *b)
{
    build_pair(b);
}

static int fused_step(const evo_step_profile *sp)
{
    return strcmp(sp->kernel, "fused") == 0;
}

/* Runs cur with n_threads, the pair allowed or skipped; output 0 into out. Returns whether a step was fused. */
static bool run_pair(int n_threads, bool allow, float **out, size_t *n_out)
{
    /* s2d_conv off: it would turn the 6x6/2 stems into SpaceToDepth and a 3x3 the pair does not take */
    const char *skip = allow ? NULL : "bcast_pair_avx512,pwdwc_avx512,bcdwc_avx512,dwpw_avx512";
    return graph_run(build_cur, 14, "s2d_conv", NULL, n_threads, skip, 99, fused_step, out, n_out);
}

/* The fused output out (n floats) against the portable reference kernels': sums in another order, so 1e-5. */
static void check_against_ref(const float *out, size_t n)
{
    float *r = NULL;
    size_t nr = 0;
    graph_run(build_cur, 14, "s2d_conv", "ref", 1, NULL, 99, NULL, &r, &nr);
    double scale = 0, d = nr == n && r ? graph_max_diff(out, r, n, &scale) : INFINITY;
    CHECK_MSG(scale > 0.1 && d <= 1e-5 * scale, "%lldx%lld: max diff %g from the reference, of max %g",
              (long long)cur->h, (long long)cur->w, d, scale);
    free(r);
}

static void check_case(const pair_case *c, bool want_fused)
{
    cur = c;
    for (int t = 1; t <= 3; t++) {
        float *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        bool fused = run_pair(t, true, &a, &na);
        bool plain = run_pair(t, false, &b, &nb);
        CHECK_MSG(fused == want_fused && !plain, "%lldx%lld: fused %d (want %d), with the pair skipped %d",
                  (long long)c->h, (long long)c->w, fused, want_fused, plain);
        CHECK(na == nb && na > 0 && a && b);
        CHECK_MSG(a && b && memcmp(a, b, na * 4) == 0, "%lldx%lld threads %d: outputs differ", (long long)c->h,
                  (long long)c->w, t);
        if (t == 1 && a && na)
            check_against_ref(a, na);
        free(a);
        free(b);
    }
}

static void test_stems(void)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        CHECK_SKIP("the fused pair is an AVX-512 kernel: this CPU has no avx512");
        return;
    }
    static const pair_case cases[] = {
        {1, 3, 32, 64, 400, 400, 6, 2, 2, 3, 2, 1, false, false}, /* YOLOv5's stem, smaller */
        {1, 3, 32, 24, 366, 381, 3, 2, 1, 3, 2, 1, true, false},  /* YOLOv8's, odd sizes, a residual */
        {2, 3, 24, 16, 300, 330, 6, 2, 2, 3, 2, 0, false, false}, /* batch 2, no padding in the second */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], true);
}

static void test_expansions(void)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        CHECK_SKIP("the fused pair is an AVX-512 kernel: this CPU has no avx512");
        return;
    }
    static const pair_case cases[] = {
        {1, 7, 40, 40, 229, 231, 1, 1, 0, 3, 2, 1, false, false, true}, /* odd sizes, stride 2 */
        {1, 9, 56, 56, 201, 187, 1, 1, 0, 3, 1, 1, true, false, true}, /* stride 1, a residual */
        {2, 5, 35, 35, 251, 241, 1, 1, 0, 5, 2, 2, false, false, true}, /* batch 2, 5x5 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], true);
    static const pair_case wide = {1, 7, 40, 40, 99, 101, 1, 1, 0, 3, 2, 1, false, false, true};
    check_case(&wide, true); /* 1.6 MB in the middle */
}

/* the small maps of late inverted-residual blocks */
static void test_small_expansions(void)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        CHECK_SKIP("the fused pair is an AVX-512 kernel: this CPU has no avx512");
        return;
    }
    static const pair_case cases[] = {
        {1, 16, 96, 96, 14, 14, 1, 1, 0, 3, 1, 1, true, false, true},   /* MobileNetV2's 14x14 blocks, a residual */
        {1, 24, 40, 40, 7, 7, 1, 1, 0, 5, 1, 2, false, false, true},    /* 7x7, 5x5, a half block of 8 channels */
        {2, 13, 72, 72, 27, 29, 1, 1, 0, 3, 2, 1, false, false, true},  /* batch 2, odd sizes, stride 2, 72 channels */
        {1, 9, 21, 21, 28, 28, 1, 1, 0, 5, 2, 2, true, false, true},    /* 21 channels, 5x5/2, a residual */
        {1, 160, 960, 960, 7, 7, 1, 1, 0, 3, 1, 1, false, false, true}, /* MobileNetV2's last blocks */
        {1, 16, 96, 96, 14, 14, 1, 1, 0, 3, 1, 1, true, false, true, 2}, /* Clip, clamped in the tiles */
        {2, 7, 40, 40, 29, 27, 1, 1, 0, 5, 2, 2, false, false, true, 1}, /* ReLU, batch 2, odd sizes */
        {1, 16, 72, 72, 28, 28, 1, 1, 0, 5, 1, 2, true, false, true, 3}, /* HardSwish (MobileNetV3), a residual */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], true);
}

static void test_not_fused(void)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        CHECK_SKIP("the fused pair is an AVX-512 kernel: this CPU has no avx512");
        return;
    }
    static const pair_case shared = {1, 3, 32, 64, 400, 400, 6, 2, 2, 3, 2, 1, false, true};
    static const pair_case small = {1, 3, 16, 32, 160, 160, 6, 2, 2, 3, 2, 1, false, false};
    static const pair_case wide_k = {1, 12, 16, 16, 208, 208, 3, 1, 1, 3, 2, 1, false, false, true};
    check_case(&shared, false); /* the middle value is a graph output */
    check_case(&wide_k, false); /* a stem after YOLOX's slices: K = 108 */
    check_case(&small, false);  /* 0.4 MB in the middle: stays two steps */
}

/* bcdwc_avx512: a conv bcast_avx512 runs, then depthwise */
static void test_stem_depthwise(void)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        CHECK_SKIP("the fused pair is an AVX-512 kernel: this CPU has no avx512");
        return;
    }
    static const pair_case cases[] = {
        {1, 3, 32, 32, 224, 224, 3, 2, 1, 3, 1, 1, false, false, true}, /* MobileNetV2's stem and first block */
        {2, 3, 16, 16, 161, 179, 3, 2, 1, 3, 1, 1, true, false, true},  /* batch 2, odd sizes, a residual */
        {1, 3, 24, 24, 100, 98, 3, 2, 1, 5, 2, 2, false, false, true},  /* 5x5/2, a half panel of 32 */
        {1, 3, 40, 40, 60, 61, 3, 1, 1, 3, 1, 1, false, false, true},   /* a stride-1 first conv */
        {1, 3, 32, 32, 113, 111, 3, 2, 1, 3, 1, 1, false, false, true, 2}, /* Clip, odd sizes */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], true);
}

/* dwpw_avx512: depthwise on a wide map, then a 1x1 */
static void test_depthwise_pointwise(void)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        CHECK_SKIP("the fused pair is an AVX-512 kernel: this CPU has no avx512");
        return;
    }
    static const pair_case cases[] = {
        /* MobileNetV3's first block: ReLU, then 16 -> 16 and the block's input added */
        {1, 16, 16, 16, 112, 112, 3, 1, 1, 1, 1, 0, true, false, false, 1, true},
        {1, 12, 12, 20, 97, 103, 3, 2, 1, 1, 1, 0, false, false, false, 0, true}, /* stride 2, odd sizes, SiLU */
        {2, 8, 8, 24, 61, 67, 5, 1, 2, 1, 1, 0, true, false, false, 2, true},     /* 5x5, batch 2, Clip */
        {1, 5, 5, 9, 80, 99, 5, 2, 2, 1, 1, 0, false, false, false, 3, true},     /* 5x5/2, HardSwish, 5 channels */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], true);
    static const pair_case many = {1, 96, 96, 96, 52, 52, 3, 1, 1, 1, 1, 0, false, false, false, 1, true};
    static const pair_case small = {1, 16, 16, 24, 14, 14, 3, 1, 1, 1, 1, 0, false, false, false, 1, true};
    check_case(&many, false);  /* bands of 2 rows: the input rows they share cost more than the pair saves */
    check_case(&small, false); /* a small map: the depthwise conv runs 16 channels to a vector (dwc) */
}

CHECK_MAIN(CHECK_TEST(test_stems), CHECK_TEST(test_expansions), CHECK_TEST(test_small_expansions),
           CHECK_TEST(test_stem_depthwise), CHECK_TEST(test_depthwise_pointwise), CHECK_TEST(test_not_fused))
