/*
 * test_fold_qdq_ms.c - the pass fold_qdq_ms: small QDQ graphs around Add
 * (with broadcasting), Mul, Sigmoid, LeakyRelu, Concat with differing
 * parameters, GlobalAveragePool, AveragePool and Gemm compiled with and
 * without the pass give outputs within one quantization step of each other
 * on random inputs, the folded graph holds the com.microsoft op and no
 * float one; and the patterns that must stay float do (mixed uint8/int8
 * inputs, a per-channel input, an output read twice, an input that is not
 * dequantized, Gemm with beta != 1), each with the reason `evo info` prints.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "onnx/onnx.h"
#include "onnx/onnx_write.h"
#include "passes/passes.h"
#include "qdq_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static check_rng wrng;

/* A graph input x [dims] quantized with p into the float value "<x>d". */
static void qinput(evo_builder *b, const char *x, int rank, const int64_t *dims, const char *p)
{
    char out[64];
    snprintf(out, sizeof(out), "%.40sd", x);
    evo_build_input(b, x, rank, dims);
    qdq(b, x, p, out);
}

static int variant; /* which pattern the builders make */

static void build_binary(evo_builder *b)
{
    bool mul = variant == 1, int8 = variant == 1;
    evo_dtype t = int8 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    qp(b, "a", 0.02f, t, int8 ? 3 : 128);
    qp(b, "b", 0.03f, t, int8 ? -5 : 120);
    qp(b, "y", mul ? 0.03f : 0.05f, t, int8 ? 0 : 128);
    qinput(b, "x0", 4, (int64_t[]){1, 4, 5, 7}, "a");
    qinput(b, "x1", 4, (int64_t[]){1, 4, 1, 1}, "b");
    evo_build_node(b, mul ? "Mul" : "Add", "x0d x1d", "s", NULL);
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void build_unary(evo_builder *b)
{
    bool sig = variant == 2;
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "y", sig ? 1.0f / 256 : 0.015f, EVO_DTYPE_UINT8, sig ? 0 : 100);
    qinput(b, "x", 4, (int64_t[]){1, 3, 7, 9}, "a");
    evo_build_node(b, sig ? "Sigmoid" : "LeakyRelu", "xd", "s", sig ? NULL : "alpha:0.2");
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void build_concat(evo_builder *b)
{
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "c", 0.01f, EVO_DTYPE_UINT8, 90);
    qp(b, "y", 0.025f, EVO_DTYPE_UINT8, 128);
    qinput(b, "x0", 4, (int64_t[]){1, 3, 5, 5}, "a");
    qinput(b, "x1", 4, (int64_t[]){1, 2, 5, 5}, "c");
    qinput(b, "x2", 4, (int64_t[]){1, 1, 5, 5}, "y");
    evo_build_node(b, "Concat", "x0d x1d x2d", "s", "axis=1");
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void build_pool(evo_builder *b)
{
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "y", 0.01f, EVO_DTYPE_UINT8, 128);
    qinput(b, "x", 4, (int64_t[]){1, 5, 9, 11}, "a");
    if (variant == 5)
        evo_build_node(b, "GlobalAveragePool", "xd", "s", NULL);
    else
        evo_build_node(b, "AveragePool", "xd", "s", "kernel_shape=3,3 pads=1,1,1,1 strides=2,2 ceil_mode=1");
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void build_gemm(evo_builder *b)
{
    int64_t wd[2] = {8, 16}, n_s = 8, bd = 8;
    int8_t w[128], wz[8] = {0};
    float ws[8], bs[8];
    int32_t bq[8];
    for (int i = 0; i < 128; i++)
        w[i] = (int8_t)check_rng_int(&wrng, -127, 127);
    for (int i = 0; i < 8; i++) {
        ws[i] = check_rng_float(&wrng, 0.002f, 0.01f);
        bs[i] = 0.02f * ws[i];
        bq[i] = check_rng_int(&wrng, -3000, 3000);
    }
    evo_build_const(b, "w_q", EVO_DTYPE_INT8, 2, wd, w);
    evo_build_const(b, "w_s", EVO_DTYPE_FLOAT, 1, &n_s, ws);
    evo_build_const(b, "w_z", EVO_DTYPE_INT8, 1, &n_s, wz);
    evo_build_node(b, "DequantizeLinear", "w_q w_s w_z", "w", "axis=0");
    evo_build_const(b, "b_q", EVO_DTYPE_INT32, 1, &bd, bq);
    evo_build_const(b, "b_s", EVO_DTYPE_FLOAT, 1, &bd, bs);
    evo_build_node(b, "DequantizeLinear", "b_q b_s", "bias", "axis=0");
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "y", 0.05f, EVO_DTYPE_UINT8, 128);
    qinput(b, "x", 2, (int64_t[]){3, 16}, "a");
    evo_build_node(b, "Gemm", "xd w bias", "s", variant == 7 ? "transB=1" : "transB=1 beta:0.5");
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

typedef struct compiled {
    evo_model *m;
    evo_model *rt; /* folded graph written as ONNX and read back (fold only) */
    uint8_t *rt_file; /* the ONNX bytes rt's weights point into: freed after rt */
    int n_live[EVO_OP_COUNT];
    char island[160]; /* "Op: reason" of the first float island */
} compiled;

/*
 * Writes the folded graph g as ONNX (com.microsoft nodes with their domain
 * and opset), reads it back and compiles it into out->rt; the ops must
 * stay the same.
 */
static bool round_trip(const evo_graph *g, compiled *out)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    evo_error err = {0};
    evo_graph *back = NULL;
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    bool ok = evo_onnx_write_buffer(g, NULL, &buf, &n, &err) == EVO_OK &&
              evo_onnx_load_buffer(buf, n, "round_trip.onnx", &back, &err) == EVO_OK &&
              evo_passes_run(back, &ctx) == EVO_OK;
    CHECK_MSG(ok, "round trip: %s", err.msg);
    if (!ok) {
        evo_graph_free(back);
        free(buf);
        return false;
    }
    out->rt_file = buf; /* the loaded graph's weights point into it */
    int live[EVO_OP_COUNT] = {0};
    for (int i = 0; i < back->n_nodes; i++)
        live[back->nodes[i].op] += !back->nodes[i].is_dead;
    int n_ms = 0;
    for (int op = EVO_OP_QLINEAR_ADD; op <= EVO_OP_QGEMM; op++) {
        CHECK_MSG(live[op] == out->n_live[op], "round trip: %d %s, was %d", live[op], evo_op_name((evo_op)op),
                  out->n_live[op]);
        n_ms += live[op];
    }
    CHECK_MSG(n_ms == 0 || back->opset_ms >= 1, "round trip: no com.microsoft opset_import");
    ok = evo_model_from_graph(back, &out->rt, &err) == EVO_OK;
    CHECK_MSG(ok, "round trip: %s", err.msg);
    return ok;
}

static bool compile(void (*build)(evo_builder *), bool fold, compiled *out)
{
    evo_builder b;
    evo_error err = {0};
    memset(out, 0, sizeof(*out));
    wrng.s = 0x7777;
    CHECK(evo_builder_init(&b, "qdq_ms", 5) == EVO_OK);
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = fold ? NULL : "fold_qdq_ms";
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
        if (why && !out->island[0])
            snprintf(out->island, sizeof(out->island), "%s: %s", n->op_type, why);
    }
    if (fold && !round_trip(b.g, out))
        return false;
    if (evo_model_from_graph(b.g, &out->m, &err) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        return false;
    }
    return true;
}

typedef struct fold_case {
    const char *name;
    void (*build)(evo_builder *);
    evo_op float_op, ms_op;
    float lsb;
} fold_case;

static void test_fold(void)
{
    static const fold_case cases[] = {
        {"Add", build_binary, EVO_OP_ADD, EVO_OP_QLINEAR_ADD, 0.05f},
        {"Mul", build_binary, EVO_OP_MUL, EVO_OP_QLINEAR_MUL, 0.03f},
        {"Sigmoid", build_unary, EVO_OP_SIGMOID, EVO_OP_QLINEAR_SIGMOID, 1.0f / 256},
        {"LeakyRelu", build_unary, EVO_OP_LEAKY_RELU, EVO_OP_QLINEAR_LEAKY_RELU, 0.015f},
        {"Concat", build_concat, EVO_OP_CONCAT, EVO_OP_QLINEAR_CONCAT, 0.025f},
        {"GlobalAveragePool", build_pool, EVO_OP_GLOBAL_AVERAGE_POOL, EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL,
         0.01f},
        {"AveragePool", build_pool, EVO_OP_AVERAGE_POOL, EVO_OP_QLINEAR_AVERAGE_POOL, 0.01f},
        {"Gemm", build_gemm, EVO_OP_GEMM, EVO_OP_QGEMM, 0.05f},
    };
    for (variant = 0; variant < (int)(sizeof(cases) / sizeof(cases[0])); variant++) {
        const fold_case *c = &cases[variant];
        compiled f, u;
        if (compile(c->build, true, &f) && compile(c->build, false, &u)) {
            CHECK_MSG(f.n_live[c->ms_op] == 1 && f.n_live[c->float_op] == 0, "%s: %s %d, float %d", c->name,
                      evo_op_name(c->ms_op), f.n_live[c->ms_op], f.n_live[c->float_op]);
            /* left: the inputs' QuantizeLinear and the output's DequantizeLinear */
            CHECK_MSG(f.n_live[EVO_OP_DEQUANTIZE_LINEAR] == 1 && f.island[0] == 0, "%s: %s", c->name,
                      f.island);
            CHECK_MSG(u.n_live[c->float_op] == 1 &&
                          strstr(u.island, "would fold (pass fold_qdq_ms disabled)"),
                      "%s: unfolded island \"%s\"", c->name, u.island);
            qdq_compare(f.m, f.rt, 0.0f, "round trip"); /* bit-identical */
            double exact = qdq_compare(f.m, u.m, c->lsb, c->name);
            printf("%-18s %.4f of the outputs bit-exact with the float island\n", c->name, exact);
            CHECK_MSG(exact >= 0.95, "%s: only %.4f bit-exact", c->name, exact);
        }
        evo_model_free(f.m);
        evo_model_free(f.rt);
        free(f.rt_file);
        evo_model_free(u.m);
    }
}

static void build_mixed_types(evo_builder *b)
{
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "b", 0.02f, EVO_DTYPE_INT8, 0);
    qp(b, "y", 0.05f, EVO_DTYPE_UINT8, 128);
    qinput(b, "x0", 2, (int64_t[]){3, 5}, "a");
    qinput(b, "x1", 2, (int64_t[]){3, 5}, "b");
    evo_build_node(b, "Add", "x0d x1d", "s", NULL);
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void build_read_twice(evo_builder *b)
{
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "y", 1.0f / 256, EVO_DTYPE_UINT8, 0);
    qinput(b, "x", 2, (int64_t[]){3, 5}, "a");
    evo_build_node(b, "Sigmoid", "xd", "s", NULL);
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
    evo_build_output(b, "s");
}

static void build_per_channel(evo_builder *b)
{
    int64_t c = 3;
    float s[3] = {0.01f, 0.02f, 0.03f};
    uint8_t z[3] = {128, 128, 128};
    evo_build_const(b, "pc_s", EVO_DTYPE_FLOAT, 1, &c, s);
    evo_build_const(b, "pc_z", EVO_DTYPE_UINT8, 1, &c, z);
    qp(b, "y", 0.05f, EVO_DTYPE_UINT8, 128);
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 4, 4});
    evo_build_node(b, "QuantizeLinear", "x pc_s pc_z", "xq", "axis=1");
    evo_build_node(b, "DequantizeLinear", "xq pc_s pc_z", "xd", "axis=1");
    evo_build_node(b, "Mul", "xd xd", "s", NULL);
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void build_float_input(evo_builder *b)
{
    qp(b, "a", 0.02f, EVO_DTYPE_UINT8, 128);
    qp(b, "y", 0.05f, EVO_DTYPE_UINT8, 128);
    qinput(b, "x0", 2, (int64_t[]){3, 5}, "a");
    evo_build_input(b, "x1", 2, (int64_t[]){3, 5});
    evo_build_node(b, "Mul", "x0d x1", "s", NULL);
    qdq(b, "s", "y", "z");
    evo_build_output(b, "z");
}

static void test_no_fold(void)
{
    static const struct {
        void (*build)(evo_builder *);
        evo_op float_op;
        const char *why;
    } cases[] = {
        {build_mixed_types, EVO_OP_ADD, "Add: its inputs are quantized to different types"},
        {build_read_twice, EVO_OP_SIGMOID, "Sigmoid: its output is not read by one QuantizeLinear only"},
        {build_per_channel, EVO_OP_MUL, "Mul: an input is not quantized per tensor"},
        {build_float_input, EVO_OP_MUL, "Mul: an input is not dequantized"},
        {build_gemm, EVO_OP_GEMM, "Gemm: beta is not 1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        compiled f;
        variant = 99;
        if (compile(cases[i].build, true, &f)) {
            CHECK_MSG(f.n_live[cases[i].float_op] == 1, "case %zu: the float op folded", i);
            CHECK_MSG(strstr(f.island, cases[i].why), "case %zu: island \"%s\", want \"%s\"", i, f.island,
                      cases[i].why);
        }
        evo_model_free(f.m);
        evo_model_free(f.rt);
        free(f.rt_file);
    }
}

CHECK_MAIN(CHECK_TEST(test_fold), CHECK_TEST(test_no_fold))
