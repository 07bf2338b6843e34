/*
 * test_npu_rewrite.c - the exact NPU rewrites (src/npu/rewrite.c) keep the
 * float function: each graph is built twice from one seed, one copy
 * rewritten (no table: every rewrite that matches), both run on one random
 * input and compared (max pool chains bit-exact, convs up to fp32 rounding
 * order; channel slices -> Split bit-exact). Also: a table applies a rewrite only where it helps, and graphs
 * that do not match are left alone.
 */
#include "check.h"
#include "evo.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "npu/npu.h"
#include "passes/passes.h"

#include <stdlib.h>

typedef void (*build_fn)(evo_builder *b, int variant);

static int g_h = 10, g_w = 12; /* input side, varied by the tests */

static void slice(evo_builder *b, const char *x, const char *y, int64_t axis, int64_t start, int64_t step, int id)
{
    char st[32], en[32], ax[32], sp[32], ins[160];
    snprintf(st, sizeof st, "st%d", id);
    snprintf(en, sizeof en, "en%d", id);
    snprintf(ax, sizeof ax, "ax%d", id);
    snprintf(sp, sizeof sp, "sp%d", id);
    evo_build_ints(b, st, 1, (int64_t[]){start});
    evo_build_ints(b, en, 1, (int64_t[]){1000000});
    evo_build_ints(b, ax, 1, (int64_t[]){axis});
    evo_build_ints(b, sp, 1, (int64_t[]){step});
    snprintf(ins, sizeof ins, "%s %s %s %s %s", x, st, en, ax, sp);
    evo_build_node(b, "Slice", ins, y, NULL);
}

/* Focus as YOLOX exports it (two Slices per part), then a conv: variant = conv kernel (1 or 3) + 10 * pads. */
static void build_focus(evo_builder *b, int variant)
{
    int k = variant % 10, p = variant / 10;
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, g_h, g_w});
    static const int offs[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}}; /* YOLOX's order: tl, bl, tr, br */
    char cat[64] = "";
    for (int i = 0; i < 4; i++) {
        char r[16], c[16];
        snprintf(r, sizeof r, "r%d", i);
        snprintf(c, sizeof c, "c%d", i);
        slice(b, "x", r, 2, offs[i][0], 2, 2 * i);
        slice(b, r, c, 3, offs[i][1], 2, 2 * i + 1);
        strcat(cat, c);
        strcat(cat, i < 3 ? " " : "");
    }
    evo_build_node(b, "Concat", cat, "f", "axis=1");
    evo_build_weight(b, "w", 4, (int64_t[]){5, 12, k, k}, 0.3f);
    evo_build_weight(b, "bias", 1, (int64_t[]){5}, 0.3f);
    char attrs[96];
    snprintf(attrs, sizeof attrs, "kernel_shape=%d,%d pads=%d,%d,%d,%d", k, k, p, p, p, p);
    evo_build_node(b, "Conv", "f w bias", "y", attrs);
    evo_build_output(b, "y");
}

/* A SAME stride-1 max pool of kernel `variant`, after a conv (so the pool's input is not the graph input). */
static void build_pool(evo_builder *b, int variant)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, g_h, g_w});
    evo_build_weight(b, "w", 4, (int64_t[]){4, 3, 1, 1}, 0.5f);
    evo_build_node(b, "Conv", "x w", "c", "kernel_shape=1,1");
    char attrs[96];
    int p = (variant - 1) / 2;
    snprintf(attrs, sizeof attrs, "kernel_shape=%d,%d pads=%d,%d,%d,%d strides=1,1", variant, variant, p, p, p, p);
    evo_build_node(b, "MaxPool", "c", "y", attrs);
    evo_build_output(b, "y");
}

/* A 6x6 stride-2 conv (YOLOv5 v6's first layer). */
static void build_conv6(evo_builder *b, int variant)
{
    (void)variant;
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, g_h, g_w});
    evo_build_weight(b, "w", 4, (int64_t[]){6, 3, 6, 6}, 0.3f);
    evo_build_node(b, "Conv", "x w", "y", "kernel_shape=6,6 strides=2,2 pads=2,2,2,2");
    evo_build_output(b, "y");
}

/* Channel Slices that tile a tensor (YOLOv8's C2f chunk), concatenated back in another order: variant = cut. */
static void build_chunk(evo_builder *b, int variant)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, g_h, g_w});
    evo_build_weight(b, "w", 4, (int64_t[]){8, 3, 1, 1}, 0.5f);
    evo_build_node(b, "Conv", "x w", "c", "kernel_shape=1,1");
    evo_build_ints(b, "s0", 1, (int64_t[]){0});
    evo_build_ints(b, "e0", 1, (int64_t[]){variant});
    evo_build_ints(b, "s1", 1, (int64_t[]){variant});
    evo_build_ints(b, "e1", 1, (int64_t[]){8});
    evo_build_ints(b, "ax", 1, (int64_t[]){1});
    evo_build_node(b, "Slice", "c s1 e1 ax", "hi", NULL);
    evo_build_node(b, "Slice", "c s0 e0 ax", "lo", NULL);
    evo_build_weight(b, "w2", 4, (int64_t[]){8 - variant, 8 - variant, 3, 3}, 0.5f);
    evo_build_node(b, "Conv", "hi w2", "h2", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Concat", "h2 lo", "y", "axis=1");
    evo_build_output(b, "y");
}

/* Builds, compiles, optionally rewrites (kernel-pad: grows node `grow` instead), runs; returns the output. */
static float *run(build_fn fn, int variant, int rewrite, evo_npu_rewrites *rw, size_t *n_out)
{
    evo_builder b;
    evo_error err = {0};
    evo_model *m = NULL;
    evo_session *s = NULL;
    float *out = NULL;
    memset(rw, 0, sizeof(*rw));
    CHECK(evo_builder_init(&b, "rewrite", 7) == EVO_OK);
    fn(&b, variant);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    if (rewrite == 1)
        CHECK_MSG(evo_npu_rewrite(b.g, NULL, rw, &err) == EVO_OK, "%s", err.msg);
    if (rewrite == 2) {
        for (int i = 0; i < b.g->n_nodes; i++)
            if (!b.g->nodes[i].is_dead && b.g->nodes[i].op == EVO_OP_CONV)
                CHECK_MSG(evo_npu_grow_kernel(b.g, i, 1, 1, &err) == EVO_OK, "%s", err.msg);
    }
    CHECK_MSG(evo_model_from_graph(b.g, &m, &err) == EVO_OK, "%s", err.msg);
    evo_session_options so = evo_session_options_default();
    CHECK_MSG(m && evo_session_create(m, &so, &s, &err) == EVO_OK, "%s", err.msg);
    if (s) {
        evo_tensor_desc d;
        evo_model_input_desc(m, 0, &d);
        float *p = evo_session_input_data(s, 0);
        check_rng r = {12345};
        for (size_t k = 0; k < d.size_bytes / 4; k++)
            p[k] = check_rng_float(&r, -2, 2);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        evo_model_output_desc(m, 0, &d);
        *n_out = d.size_bytes / 4;
        out = malloc(d.size_bytes);
        memcpy(out, evo_session_output_data(s, 0), d.size_bytes);
    }
    evo_session_free(s);
    if (m)
        evo_model_free(m);
    else
        evo_graph_free(b.g);
    return out;
}

/* Original vs rewritten: same size, max |diff| <= tol (0: bit-exact). */
static void compare(build_fn fn, int variant, int mode, evo_npu_rewrite_kind kind, double tol)
{
    evo_npu_rewrites r0, r1;
    size_t n0 = 0, n1 = 0;
    float *a = run(fn, variant, 0, &r0, &n0), *b = run(fn, variant, mode, &r1, &n1);
    if (mode == 1)
        CHECK_MSG(r1.count[kind] == 1, "variant %d: %s applied %d times", variant, evo_npu_rewrite_name(kind),
                  r1.count[kind]);
    CHECK(a && b && n0 == n1 && n0 > 0);
    double worst = 0;
    for (size_t i = 0; a && b && n0 == n1 && i < n0; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        worst = d > worst ? d : worst;
    }
    CHECK_MSG(worst <= tol, "variant %d, %dx%d: max |diff| %g > %g", variant, g_h, g_w, worst, tol);
    free(a);
    free(b);
}

static void test_focus_conv(void)
{
    static const int sides[][2] = {{10, 12}, {6, 6}, {14, 8}};
    for (int s = 0; s < 3; s++) {
        g_h = sides[s][0];
        g_w = sides[s][1];
        compare(build_focus, 3 + 10, 1, EVO_NPU_RW_FOCUS, 2e-5); /* 3x3 pad 1 (YOLOX) -> 6x6/2 pad 2 */
        compare(build_focus, 1, 1, EVO_NPU_RW_FOCUS, 2e-5);      /* 1x1 -> 2x2/2 */
        compare(build_focus, 3, 1, EVO_NPU_RW_FOCUS, 2e-5);      /* 3x3 valid */
    }
    g_h = 10;
    g_w = 12;
}

static void test_pool_chain(void)
{
    static const int sides[][2] = {{10, 12}, {7, 5}, {20, 20}};
    for (int s = 0; s < 3; s++) {
        g_h = sides[s][0];
        g_w = sides[s][1];
        compare(build_pool, 5, 1, EVO_NPU_RW_POOL_CHAIN, 0); /* SPPF */
        compare(build_pool, 9, 1, EVO_NPU_RW_POOL_CHAIN, 0); /* SPP */
        compare(build_pool, 13, 1, EVO_NPU_RW_POOL_CHAIN, 0);
    }
    g_h = 10;
    g_w = 12;
}

static void test_kernel_pad(void)
{
    static const int sides[][2] = {{10, 12}, {9, 7}, {16, 16}};
    for (int s = 0; s < 3; s++) {
        g_h = sides[s][0];
        g_w = sides[s][1];
        compare(build_conv6, 0, 2, EVO_NPU_RW_KERNEL_PAD, 2e-5);
    }
    g_h = 10;
    g_w = 12;
}

static void test_slices_split(void)
{
    compare(build_chunk, 4, 1, EVO_NPU_RW_SLICES_SPLIT, 0);
    compare(build_chunk, 3, 1, EVO_NPU_RW_SLICES_SPLIT, 0);
}

/* A table applies a rewrite only where it helps; graphs that do not match stay as they are. */
static void test_no_match(void)
{
    evo_npu_rewrites rw;
    size_t n;
    /* a 3x3 max pool is no chain; a float graph's conv breaks no table rule (float op): nothing for a table */
    free(run(build_pool, 3, 1, &rw, &n));
    CHECK(rw.count[EVO_NPU_RW_POOL_CHAIN] == 0);
    evo_builder b;
    evo_error err = {0};
    CHECK(evo_builder_init(&b, "rewrite", 7) == EVO_OK);
    build_pool(&b, 5);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK(evo_passes_run(b.g, &ctx) == EVO_OK);
    CHECK(evo_npu_rewrite(b.g, &evo_npu_table_ethos_n, &rw, &err) == EVO_OK);
    CHECK(rw.count[EVO_NPU_RW_POOL_CHAIN] == 0 && rw.count[EVO_NPU_RW_KERNEL_PAD] == 0);
    char buf[64];
    CHECK(strcmp(evo_npu_rewrites_str(&rw, buf, sizeof buf), "none") == 0);
    rw.count[EVO_NPU_RW_FOCUS] = 1;
    rw.count[EVO_NPU_RW_POOL_CHAIN] = 3;
    CHECK(strcmp(evo_npu_rewrites_str(&rw, buf, sizeof buf), "focus->conv 1, maxpool-chain 3") == 0);
    /* a kernel grown on something that is not a conv is an error naming the node, not a crash */
    CHECK(evo_npu_grow_kernel(b.g, b.g->n_nodes - 1, 1, 1, &err) != EVO_OK && strstr(err.msg, "kernel-pad"));
    evo_graph_free(b.g);
}

CHECK_MAIN(CHECK_TEST(test_focus_conv), CHECK_TEST(test_pool_chain), CHECK_TEST(test_kernel_pad),
           CHECK_TEST(test_slices_split),
           CHECK_TEST(test_no_match))
