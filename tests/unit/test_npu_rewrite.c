/*
 * test_npu_rewrite.c - the exact NPU rewrites (src/npu/rewrite.c) keep the
 * float function: each graph is built twice from one seed, one copy
 * rewritten (no table: every rewrite that matches), both run on one random
 * input and compared (max pool chains bit-exact, convs up to fp32 rounding
 * order; channel slices -> Split bit-exact); int8 graphs (QuantizeLinear,
 * QLinearConv with nonzero weight zero points, DequantizeLinear) give
 * bit-identical outputs. Also: a table applies a rewrite only where it
 * helps, and graphs that do not match are left alone.
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

/* ---- int8 graphs: the rewrites must give the same bytes ---- */

/* QLinearConv x -> y (uint8 activations, int8 weights with per-channel scales and zero points). */
static void qconv(evo_builder *b, const char *x, const char *y, int cin, int cout, int k, const char *attrs,
                  const char *tag)
{
    char n[9][32], ins[320];
    const char *suffix[9] = {"", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"};
    for (int i = 1; i < 9; i++)
        snprintf(n[i], sizeof(n[i]), "%s_%s", tag, suffix[i]);
    float xs = 0.02f, ys = 0.05f, ws[16];
    uint8_t xz = 128, yz = 120;
    int8_t wz[16];
    int32_t bias[16];
    for (int i = 0; i < cout; i++) {
        ws[i] = 0.004f + 0.001f * (float)i;
        wz[i] = (int8_t)(i % 3 - 1); /* nonzero weight zero points: kernel-pad's taps must be them */
        bias[i] = 37 * i - 50;
    }
    evo_build_const(b, n[1], EVO_DTYPE_FLOAT, 0, NULL, &xs);
    evo_build_const(b, n[2], EVO_DTYPE_UINT8, 0, NULL, &xz);
    evo_build_qweight(b, n[3], 4, (int64_t[]){cout, cin, k, k});
    evo_build_const(b, n[4], EVO_DTYPE_FLOAT, 1, (int64_t[]){cout}, ws);
    evo_build_const(b, n[5], EVO_DTYPE_INT8, 1, (int64_t[]){cout}, wz);
    evo_build_const(b, n[6], EVO_DTYPE_FLOAT, 0, NULL, &ys);
    evo_build_const(b, n[7], EVO_DTYPE_UINT8, 0, NULL, &yz);
    evo_build_const(b, n[8], EVO_DTYPE_INT32, 1, (int64_t[]){cout}, bias);
    snprintf(ins, sizeof(ins), "%s %s %s %s %s %s %s %s %s", x, n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8]);
    evo_build_node(b, "QLinearConv", ins, y, attrs);
}

/* x (float) -> QuantizeLinear -> q; dq: DequantizeLinear of name with the conv output's parameters. */
static void quant_in(evo_builder *b, const char *x, const char *q)
{
    float s = 0.02f;
    uint8_t z = 128;
    evo_build_const(b, "qs", EVO_DTYPE_FLOAT, 0, NULL, &s);
    evo_build_const(b, "qz", EVO_DTYPE_UINT8, 0, NULL, &z);
    char ins[96];
    snprintf(ins, sizeof ins, "%s qs qz", x);
    evo_build_node(b, "QuantizeLinear", ins, q, NULL);
}

static void dequant_out(evo_builder *b, const char *v, const char *y)
{
    float s = 0.05f;
    uint8_t z = 120;
    char ds[64], dz[64], ins[200];
    snprintf(ds, sizeof ds, "%s_ds", y);
    snprintf(dz, sizeof dz, "%s_dz", y);
    evo_build_const(b, ds, EVO_DTYPE_FLOAT, 0, NULL, &s);
    evo_build_const(b, dz, EVO_DTYPE_UINT8, 0, NULL, &z);
    snprintf(ins, sizeof ins, "%s %s %s", v, ds, dz);
    evo_build_node(b, "DequantizeLinear", ins, y, NULL);
}

/* Focus (float slices, YOLOX's form) -> Concat -> QuantizeLinear -> QLinearConv 3x3 -> DequantizeLinear. */
static void build_qfocus(evo_builder *b, int variant)
{
    (void)variant;
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, g_h, g_w});
    static const int offs[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
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
    quant_in(b, "f", "q");
    qconv(b, "q", "qy", 12, 5, 3, "kernel_shape=3,3 pads=1,1,1,1", "c");
    dequant_out(b, "qy", "y");
    evo_build_output(b, "y");
}

/* QuantizeLinear -> QLinearConv 6x6/2 (grown by kernel-pad) or MaxPool 5x5/1 (chained) -> DequantizeLinear. */
static void build_qconv6(evo_builder *b, int variant)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, g_h, g_w});
    quant_in(b, "x", "q");
    if (variant == 6) {
        qconv(b, "q", "qy", 3, 6, 6, "kernel_shape=6,6 strides=2,2 pads=2,2,2,2", "c");
        dequant_out(b, "qy", "y");
    } else {
        char attrs[96];
        int p = (variant - 1) / 2;
        snprintf(attrs, sizeof attrs, "kernel_shape=%d,%d pads=%d,%d,%d,%d", variant, variant, p, p, p, p);
        evo_build_node(b, "MaxPool", "q", "qy", attrs);
        float s = 0.02f;
        uint8_t z = 128;
        evo_build_const(b, "ds", EVO_DTYPE_FLOAT, 0, NULL, &s);
        evo_build_const(b, "dz", EVO_DTYPE_UINT8, 0, NULL, &z);
        evo_build_node(b, "DequantizeLinear", "qy ds dz", "y", NULL);
    }
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
    co.disable_passes = "fold_focus"; /* the compile pass that folds a Focus as the rewrite does */
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    if (rewrite == 1)
        CHECK_MSG(evo_npu_rewrite(b.g, NULL, rw, &err) == EVO_OK, "%s", err.msg);
    if (rewrite == 2) {
        for (int i = 0; i < b.g->n_nodes; i++)
            if (!b.g->nodes[i].is_dead &&
                (b.g->nodes[i].op == EVO_OP_CONV || b.g->nodes[i].op == EVO_OP_QLINEAR_CONV))
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

/* On int8 graphs the rewrites give the same bytes: the outputs (dequantized) are bit-identical. */
static void test_int8(void)
{
    static const int sides[][2] = {{10, 12}, {6, 8}, {14, 10}};
    for (int s = 0; s < 3; s++) {
        g_h = sides[s][0];
        g_w = sides[s][1];
        compare(build_qfocus, 0, 1, EVO_NPU_RW_FOCUS, 0);
        compare(build_qconv6, 6, 2, EVO_NPU_RW_KERNEL_PAD, 0);
        compare(build_qconv6, 5, 1, EVO_NPU_RW_POOL_CHAIN, 0);
        compare(build_qconv6, 9, 1, EVO_NPU_RW_POOL_CHAIN, 0);
    }
    g_h = 10;
    g_w = 12;
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
           CHECK_TEST(test_slices_split), CHECK_TEST(test_int8),
           CHECK_TEST(test_no_match))
