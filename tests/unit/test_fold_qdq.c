/*
 * test_fold_qdq.c - the QDQ folding pass: small QDQ graphs compiled with
 * and without fold_qdq give outputs within one quantization step of each
 * other on random inputs (and mostly bit-exact), the folded graph holds the
 * quantized op and no float one, and the patterns that must stay float do
 * (scale mismatch across a layout op, weights that are not constant, a
 * DequantizeLinear output read twice, a Conv output read twice), each with
 * the reason `evo info` prints.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "passes/passes.h"
#include "qdq_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static check_rng wrng;

/* A dequantized int8 weight "<name>" [dims], per output channel along axis when per_axis. */
static void qweight(evo_builder *b, const char *name, int rank, const int64_t *dims, int axis, bool per_axis)
{
    int64_t count = 1, n_s = per_axis ? dims[axis] : 1;
    for (int i = 0; i < rank; i++)
        count *= dims[i];
    int8_t *w = malloc((size_t)count);
    float *s = malloc(sizeof(float) * (size_t)n_s);
    int8_t *z = calloc((size_t)n_s, 1);
    for (int64_t i = 0; i < count; i++)
        w[i] = (int8_t)check_rng_int(&wrng, -127, 127);
    for (int64_t i = 0; i < n_s; i++)
        s[i] = check_rng_float(&wrng, 0.002f, 0.01f);
    char wq[64], ws[64], wz[64], ins[200], attrs[32];
    snprintf(wq, sizeof(wq), "%s_q", name);
    snprintf(ws, sizeof(ws), "%s_s", name);
    snprintf(wz, sizeof(wz), "%s_z", name);
    evo_build_const(b, wq, EVO_DTYPE_INT8, rank, dims, w);
    evo_build_const(b, ws, EVO_DTYPE_FLOAT, per_axis ? 1 : 0, &n_s, s);
    evo_build_const(b, wz, EVO_DTYPE_INT8, per_axis ? 1 : 0, &n_s, z);
    snprintf(ins, sizeof(ins), "%s %s %s", wq, ws, wz);
    snprintf(attrs, sizeof(attrs), "axis=%d", axis);
    evo_build_node(b, "DequantizeLinear", ins, name, per_axis ? attrs : NULL);
    free(w), free(s), free(z);
}

/* A dequantized int32 bias "<name>" [m] at scale x_scale * w_scale[c] (read from the graph). */
static void qbias(evo_builder *b, const char *name, int64_t m, float x_scale, const char *w)
{
    char ws[64], bq[64], bs[64], ins[200];
    snprintf(ws, sizeof(ws), "%s_s", w);
    const evo_value *wsv = &b->g->values[evo_graph_find_value(b->g, ws)];
    int64_t n_ws = evo_value_count(wsv);
    int32_t *q = malloc(sizeof(int32_t) * (size_t)m);
    float *s = malloc(sizeof(float) * (size_t)m);
    for (int64_t c = 0; c < m; c++) {
        q[c] = check_rng_int(&wrng, -3000, 3000);
        s[c] = x_scale * ((const float *)wsv->data)[n_ws > 1 ? c : 0];
    }
    snprintf(bq, sizeof(bq), "%s_q", name);
    snprintf(bs, sizeof(bs), "%s_s", name);
    evo_build_const(b, bq, EVO_DTYPE_INT32, 1, &m, q);
    evo_build_const(b, bs, EVO_DTYPE_FLOAT, 1, &m, s);
    snprintf(ins, sizeof(ins), "%s %s", bq, bs);
    evo_build_node(b, "DequantizeLinear", ins, name, "axis=0");
    free(q), free(s);
}

/* Conv [-> act] between QDQ pairs; variant picks the weights, bias and activation. */
static int conv_variant;
static void build_conv(evo_builder *b)
{
    bool int8 = conv_variant & 1, per_tensor = conv_variant & 2, float_bias = conv_variant & 4;
    evo_dtype t = int8 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    float xs = 0.0157f, ys = 0.0412f;
    evo_build_input(b, "x", 4, (int64_t[]){1, 6, 9, 11});
    qp(b, "xq", xs, t, int8 ? -3 : 128);
    qp(b, "yq", ys, t, int8 ? -20 : 7);
    qdq(b, "x", "xq", "xd");
    int64_t group = conv_variant == 4 ? 6 : conv_variant == 5 ? 2 : 1, m = conv_variant == 4 ? 6 : 10;
    qweight(b, "w", 4, (int64_t[]){m, 6 / group, 3, 3}, 0, !per_tensor);
    if (float_bias)
        evo_build_weight(b, "bias", 1, &m, 0.2f);
    else
        qbias(b, "bias", m, xs, "w");
    char attrs[128];
    snprintf(attrs, sizeof(attrs), "kernel_shape=3,3 pads=1,0,1,2 strides=%d,1 group=%lld", conv_variant % 3 == 1 ? 2 : 1,
             (long long)group);
    evo_build_node(b, "Conv", "xd w bias", "c", attrs);
    const char *act = conv_variant % 3 == 0 ? "Relu" : conv_variant % 3 == 1 ? "Clip" : NULL;
    if (act && act[1] == 'l') {
        float lo = 0.0f, hi = 2.0f;
        evo_build_const(b, "lo", EVO_DTYPE_FLOAT, 0, NULL, &lo);
        evo_build_const(b, "hi", EVO_DTYPE_FLOAT, 0, NULL, &hi);
        evo_build_node(b, "Clip", "c lo hi", "a", NULL);
    } else if (act) {
        evo_build_node(b, "Relu", "c", "a", NULL);
    }
    qdq(b, act ? "a" : "c", "yq", "y");
    evo_build_output(b, "y");
}

static void build_matmul(evo_builder *b)
{
    float as = 0.0123f, ys = 0.05f;
    evo_build_input(b, "x", 3, (int64_t[]){2, 5, 16});
    qp(b, "aq", as, EVO_DTYPE_UINT8, 120);
    qp(b, "yq", ys, EVO_DTYPE_INT8, 3);
    qdq(b, "x", "aq", "xd");
    qweight(b, "w", 2, (int64_t[]){16, 7}, 1, true);
    evo_build_node(b, "MatMul", "xd w", "c", NULL);
    evo_build_node(b, "Relu", "c", "r", NULL);
    qdq(b, "r", "yq", "y");
    evo_build_output(b, "y");
}

/*
 * x -> QDQ -> MaxPool -> QDQ -> Transpose -> QDQ -> Concat(itself twice) ->
 * QDQ -> Pad (constant 0) -> QDQ -> Split -> QDQ each part; variant 1 changes the scale after MaxPool,
 * variant 2 reads the first DequantizeLinear's output twice.
 */
static int layout_variant;
static void build_layout(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 4, 7, 9});
    qp(b, "q", 0.02f, EVO_DTYPE_UINT8, 100);
    qp(b, "q2", layout_variant == 1 ? 0.03f : 0.02f, EVO_DTYPE_UINT8, 100);
    qdq(b, "x", "q", "xd");
    evo_build_node(b, "MaxPool", "xd", "p", "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
    qdq(b, "p", "q2", "pd");
    evo_build_node(b, "Transpose", "pd", "t", "perm=0,2,3,1");
    qdq(b, "t", "q", "td");
    evo_build_node(b, "Concat", "td td", "c", "axis=1");
    qdq(b, "c", "q", "cd");
    evo_build_ints(b, "pads", 8, (int64_t[]){0, 0, 0, 1, 0, 0, 0, 2});
    evo_build_node(b, "Pad", "cd pads", "pd0", NULL); /* value 0.0: the zero point 100 on the bytes */
    qdq(b, "pd0", "q", "pdd");
    evo_build_ints(b, "parts", 2, (int64_t[]){2, 3});
    evo_build_node(b, "Split", "pdd parts", "s0 s1", "axis=2");
    qdq(b, "s1", "q", "y");
    qdq(b, "s0", "q", "y2");
    evo_build_output(b, "y");
    evo_build_output(b, "y2");
    if (layout_variant == 2) /* the first DequantizeLinear's output is read twice */
        evo_build_output(b, "xd");
}

/* Conv whose weights come through Q -> DQ of a graph input: not constant. */
static void build_conv_runtime_weights(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 6, 6});
    evo_build_input(b, "wf", 4, (int64_t[]){4, 3, 3, 3});
    qp(b, "xq", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "wq", 0.01f, EVO_DTYPE_INT8, 0);
    qp(b, "yq", 0.05f, EVO_DTYPE_UINT8, 128);
    qdq(b, "x", "xq", "xd");
    qdq(b, "wf", "wq", "wd");
    evo_build_node(b, "Conv", "xd wd", "c", "kernel_shape=3,3");
    qdq(b, "c", "yq", "y");
    evo_build_output(b, "y");
}

/* Conv -> QDQ with the Conv output also a graph output, then a QDQ Add. */
static void build_conv_read_twice(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 6, 6});
    qp(b, "xq", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "yq", 0.05f, EVO_DTYPE_UINT8, 128);
    qdq(b, "x", "xq", "xd");
    qweight(b, "w", 4, (int64_t[]){4, 3, 3, 3}, 0, true);
    evo_build_node(b, "Conv", "xd w", "c", "kernel_shape=3,3");
    qdq(b, "c", "yq", "y");
    evo_build_node(b, "Add", "y y", "s", NULL);
    qdq(b, "s", "yq", "z");
    evo_build_output(b, "z");
    evo_build_output(b, "c");
}

typedef struct compiled {
    evo_model *m;
    int n_live[EVO_OP_COUNT];
    char island[4][160]; /* "Op: reason" of the first float islands */
    int n_islands;
} compiled;

static bool compile(void (*build)(evo_builder *), bool fold, compiled *out)
{
    evo_builder b;
    evo_error err = {0};
    memset(out, 0, sizeof(*out));
    wrng.s = 0x1234567;
    CHECK(evo_builder_init(&b, "qdq", 5) == EVO_OK);
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = fold ? NULL : "fold_qdq";
    evo_pass_ctx ctx = {&co, &err};
    if (evo_passes_run(b.g, &ctx) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        evo_graph_free(b.g);
        return false;
    }
    for (int i = 0; i < b.g->n_nodes; i++) {
        const evo_node *n = &b.g->nodes[i];
        if (n->is_dead)
            continue;
        out->n_live[n->op]++;
        const char *why = evo_fold_qdq_island(b.g, n);
        if (why && out->n_islands < 4)
            snprintf(out->island[out->n_islands++], sizeof(out->island[0]), "%s: %s", n->op_type, why);
    }
    if (evo_model_from_graph(b.g, &out->m, &err) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        return false;
    }
    return true;
}

static void test_fold_conv(void)
{
    for (conv_variant = 0; conv_variant < 6; conv_variant++) {
        compiled f, u;
        char name[64];
        snprintf(name, sizeof(name), "conv variant %d", conv_variant);
        if (compile(build_conv, true, &f) && compile(build_conv, false, &u)) {
            CHECK_MSG(f.n_live[EVO_OP_QLINEAR_CONV] == 1 && f.n_live[EVO_OP_CONV] == 0 &&
                          f.n_live[EVO_OP_RELU] == 0 && f.n_live[EVO_OP_CLIP] == 0,
                      "%s: QLinearConv %d Conv %d", name, f.n_live[EVO_OP_QLINEAR_CONV], f.n_live[EVO_OP_CONV]);
            /* left: the input's QuantizeLinear and the output's DequantizeLinear */
            CHECK_MSG(f.n_live[EVO_OP_QUANTIZE_LINEAR] == 1 && f.n_live[EVO_OP_DEQUANTIZE_LINEAR] == 1, "%s", name);
            CHECK_MSG(u.n_live[EVO_OP_CONV] == 1 && u.n_islands >= 1, "%s: unfolded", name);
            CHECK_MSG(f.n_islands == 0, "%s: island %s", name, f.island[0]);
            double exact = qdq_compare(f.m, u.m, 0.0412f, name);
            printf("%s: %.4f of the outputs bit-exact\n", name, exact);
            CHECK_MSG(exact >= 0.99, "%s: only %.4f bit-exact", name, exact);
        }
        evo_model_free(f.m);
        evo_model_free(u.m);
    }
}

static void test_fold_matmul(void)
{
    compiled f, u;
    if (compile(build_matmul, true, &f) && compile(build_matmul, false, &u)) {
        CHECK(f.n_live[EVO_OP_QLINEAR_MATMUL] == 1 && f.n_live[EVO_OP_MATMUL] == 0 && f.n_live[EVO_OP_RELU] == 0);
        double exact = qdq_compare(f.m, u.m, 0.05f, "matmul");
        printf("matmul: %.4f of the outputs bit-exact\n", exact);
        CHECK_MSG(exact >= 0.99, "matmul: only %.4f bit-exact", exact);
    }
    evo_model_free(f.m);
    evo_model_free(u.m);
}

static void test_fold_layout(void)
{
    for (layout_variant = 0; layout_variant < 3; layout_variant++) {
        compiled f, u;
        if (!compile(build_layout, true, &f) || !compile(build_layout, false, &u)) {
            evo_model_free(f.m);
            continue;
        }
        int q = f.n_live[EVO_OP_QUANTIZE_LINEAR], dq = f.n_live[EVO_OP_DEQUANTIZE_LINEAR];
        if (layout_variant == 0) {
            /* everything on the bytes: one Q in, one DQ per output */
            CHECK_MSG(q == 1 && dq == 2 && f.n_islands == 0, "q %d dq %d islands %d", q, dq, f.n_islands);
            CHECK(qdq_compare(f.m, u.m, 0.0f, "layout") == 1.0);
        } else if (layout_variant == 1) {
            /* q2 after MaxPool differs from q: MaxPool and Transpose stay float, Concat folds */
            CHECK_MSG(f.n_islands == 2 && strstr(f.island[0], "MaxPool: the scale or zero point differs") &&
                          strstr(f.island[1], "Transpose: the scale or zero point differs"),
                      "%d: %s", f.n_islands, f.island[0]);
            CHECK_MSG(q == 3 && dq == 4 && f.n_live[EVO_OP_CONCAT] == 1, "q %d dq %d", q, dq);
            CHECK(qdq_compare(f.m, u.m, 0.0f, "layout, scale mismatch") == 1.0);
        } else {
            CHECK_MSG(f.n_islands == 1 && strstr(f.island[0], "MaxPool: its DequantizeLinear output is read by other"),
                      "%s", f.island[0]);
            CHECK(qdq_compare(f.m, u.m, 0.0f, "layout, DQ read twice") == 1.0);
        }
        evo_model_free(f.m);
        evo_model_free(u.m);
    }
}

static void test_no_fold(void)
{
    compiled f;
    if (compile(build_conv_runtime_weights, true, &f)) {
        CHECK(f.n_live[EVO_OP_CONV] == 1 && f.n_live[EVO_OP_QLINEAR_CONV] == 0);
        CHECK_MSG(f.n_islands == 1 && strstr(f.island[0], "Conv: weights are not a uint8/int8 constant"), "%s",
                  f.island[0]);
    }
    evo_model_free(f.m);
    if (compile(build_conv_read_twice, true, &f)) {
        CHECK(f.n_live[EVO_OP_CONV] == 1 && f.n_live[EVO_OP_QLINEAR_CONV] == 0);
        /* the Add island becomes QLinearAdd (pass fold_qdq_ms) */
        CHECK(f.n_live[EVO_OP_ADD] == 0 && f.n_live[EVO_OP_QLINEAR_ADD] == 1);
        CHECK_MSG(f.n_islands == 1 && strstr(f.island[0], "Conv: its output is read by more than one node"),
                  "%d: %s", f.n_islands, f.island[0]);
    }
    evo_model_free(f.m);
}

CHECK_MAIN(CHECK_TEST(test_fold_conv), CHECK_TEST(test_fold_matmul), CHECK_TEST(test_fold_layout),
           CHECK_TEST(test_no_fold))
