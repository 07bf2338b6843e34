/*
 * test_onnx_write_qdq.c - the QDQ form of QLinearConv and QLinearMatMul
 * (and of QLinearAdd / QLinearMul with a fused ReLU/Clip: a residual and a
 * squeeze-excite broadcast) for what only evo's own int8 graphs hold:
 * FIXED (fixed-point) requantization and every fused activation (ReLU and Clip as a clamp,
 * LeakyReLU, Sigmoid, SiLU, HardSigmoid, HardSwish and Tanh as a table
 * behind a requantization to act_scale, act_zp). Each graph runs in evo
 * as built and as written in QDQ form and re-imported (float ops between
 * DequantizeLinear and QuantizeLinear); the int8 outputs must all be
 * within 1 quantization step (a table activation: 1 step of its
 * pre-activation, up to ceil(slope * act_scale / y_scale) output steps)
 * and at least 97 % equal (FIXED rounding and
 * the double-precision tables differ from float arithmetic on a few).
 * The written model must hold no QLinear op and one QuantizeLinear more
 * for a table activation. With EVO_QDQ_DUMP_DIR set, each QDQ model, its
 * input and evo's output on the int8 graph are written there for
 * tests/models/test_qdq_export_ort.py to run in ONNX Runtime.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "onnx/onnx.h"
#include "onnx/onnx_write.h"
#include "passes/passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_EQUAL 0.97

typedef struct act_case {
    evo_act act;
    float alpha, beta;
    const char *name;
    float slope; /* largest |f'(x)| of the activation */
} act_case;

static void add_const(evo_builder *b, const char *name, evo_dtype t, int rank, const int64_t *dims,
                      const void *data)
{
    int v = evo_build_value(b, name);
    evo_error err = {0};
    if (v < 0 || evo_value_set_const(b->g, &b->g->values[v], t, rank, dims, data, &err) != EVO_OK)
        b->ok = false;
}

typedef enum kind { K_MATMUL, K_CONV, K_ADD, K_MUL } kind;

static const char *kind_op(kind k)
{
    return k == K_CONV ? "QLinearConv" : k == K_MATMUL ? "QLinearMatMul" : k == K_ADD ? "QLinearAdd" : "QLinearMul";
}

/*
 * x + B (B constant, x's shape) or x * B (B [1, 5, 1, 1]), quantized, from x [1, 5, 7, 6]: the
 * operands' and the output's scales and zero points.
 */
static void build_binary(evo_builder *b, kind k, evo_dtype t, check_rng *rng)
{
    int64_t xdims[4] = {1, 5, 7, 6}, bdims[4] = {1, 5, k == K_ADD ? 7 : 1, k == K_ADD ? 6 : 1};
    evo_build_input(b, "x", 4, xdims);
    b->g->values[evo_build_value(b, "x")].dtype = t;
    float xs = 0.03f, bs = 0.02f, ys = k == K_ADD ? 0.05f : 0.12f;
    uint8_t xz = t == EVO_DTYPE_UINT8 ? 120 : (uint8_t)(int8_t)-7, bz = t == EVO_DTYPE_UINT8 ? 100 : 3,
            yz = t == EVO_DTYPE_UINT8 ? 131 : 5;
    uint8_t bq[5 * 7 * 6];
    for (size_t i = 0; i < sizeof(bq); i++)
        bq[i] = (uint8_t)check_rng_int(rng, 0, 255);
    add_const(b, "xs", EVO_DTYPE_FLOAT, 0, NULL, &xs);
    add_const(b, "xz", t, 0, NULL, &xz);
    add_const(b, "bq", t, 4, bdims, bq);
    add_const(b, "bs", EVO_DTYPE_FLOAT, 0, NULL, &bs);
    add_const(b, "bz", t, 0, NULL, &bz);
    add_const(b, "ys", EVO_DTYPE_FLOAT, 0, NULL, &ys);
    add_const(b, "yz", t, 0, NULL, &yz);
    evo_build_node(b, k == K_ADD ? "com.microsoft.QLinearAdd" : "com.microsoft.QLinearMul", "x xs xz bq bs bz ys yz",
                   "y", "");
    evo_build_output(b, "y");
}

/* Quantized input x, its scale and zero point, and the output's; conv or matmul weights. */
static void build(evo_builder *b, bool conv, evo_dtype t, check_rng *rng)
{
    int64_t xdims[4] = {1, 5, 7, 6}, adims[2] = {8, 24}, m = conv ? 6 : 9;
    evo_build_input(b, "x", conv ? 4 : 2, conv ? xdims : adims);
    b->g->values[evo_build_value(b, "x")].dtype = t;
    // Not 0.08: 1 / 0.08f is 12.5 in float, a tie the double-precision table rounds the other way.
    float xs = 0.03f, ys = conv ? 0.05f : 0.07f, ws[9];
    uint8_t xz = t == EVO_DTYPE_UINT8 ? 120 : (uint8_t)(int8_t)-7, yz = t == EVO_DTYPE_UINT8 ? 131 : 5;
    int8_t w[6 * 5 * 9 + 24 * 9], wz[9] = {0};
    int32_t bias[6];
    for (size_t i = 0; i < sizeof(w); i++)
        w[i] = (int8_t)check_rng_int(rng, -127, 127);
    for (int c = 0; c < 9; c++)
        ws[c] = check_rng_float(rng, 0.002f, 0.008f);
    for (int c = 0; c < 6; c++)
        bias[c] = check_rng_int(rng, -2000, 2000);
    add_const(b, "xs", EVO_DTYPE_FLOAT, 0, NULL, &xs);
    add_const(b, "xz", t, 0, NULL, &xz);
    add_const(b, "ys", EVO_DTYPE_FLOAT, 0, NULL, &ys);
    add_const(b, "yz", t, 0, NULL, &yz);
    add_const(b, "ws", EVO_DTYPE_FLOAT, 1, &m, ws);
    add_const(b, "wz", EVO_DTYPE_INT8, 1, &m, wz);
    if (conv) {
        add_const(b, "w", EVO_DTYPE_INT8, 4, (int64_t[]){6, 5, 3, 3}, w);
        add_const(b, "bias", EVO_DTYPE_INT32, 1, &m, bias);
        evo_build_node(b, "QLinearConv", "x xs xz w ws wz ys yz bias", "y",
                       "kernel_shape=3,3 pads=1,0,1,2 strides=2,1");
    } else {
        add_const(b, "w", EVO_DTYPE_INT8, 2, (int64_t[]){24, 9}, w);
        evo_build_node(b, "QLinearMatMul", "x xs xz w ws wz ys yz", "y", "");
    }
    evo_build_output(b, "y");
}

/* Writes size bytes to dir/name.ext; false on failure. */
static bool dump(const char *dir, const char *name, const char *ext, const void *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    ok = f && fclose(f) == 0 && ok;
    CHECK_MSG(ok, "cannot write %s", path);
    return ok;
}

/* Seeded input bytes, output bytes copied into out[cap]; returns the output count. */
static size_t run(evo_model *m, uint8_t *out, size_t cap, uint8_t *in_copy, size_t *n_in)
{
    evo_session *s = NULL;
    evo_error err = {0};
    evo_tensor_desc d;
    size_t n = 0;
    CHECK_MSG(evo_session_create(m, NULL, &s, &err) == EVO_OK, "%s", err.msg);
    if (!s)
        return 0;
    evo_model_input_desc(m, 0, &d);
    uint8_t *p = evo_session_input_data(s, 0);
    uint64_t seed = 5;
    for (size_t k = 0; k < d.size_bytes; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[k] = (uint8_t)(seed >> 56);
    }
    if (in_copy && d.size_bytes <= 4096) {
        memcpy(in_copy, p, d.size_bytes);
        *n_in = d.size_bytes;
    }
    if (evo_session_run(s, &err) == EVO_OK && evo_model_output_desc(m, 0, &d) == EVO_OK &&
        d.size_bytes <= cap) {
        n = d.size_bytes;
        memcpy(out, evo_session_output_data(s, 0), n);
    }
    CHECK_MSG(n > 0, "run: %s", err.msg);
    evo_session_free(s);
    return n;
}

static int count_op(const uint8_t *buf, size_t size, const char *op)
{
    evo_graph *g = NULL;
    evo_error err = {0};
    int n = -1;
    if (evo_onnx_load_buffer(buf, size, "qdq.onnx", &g, &err) == EVO_OK) {
        n = 0;
        for (int i = 0; i < g->n_nodes; i++)
            n += strcmp(g->nodes[i].op_type, op) == 0;
        evo_graph_free(g);
    }
    return n;
}

static void check_case(kind k, evo_dtype t, evo_requant mode, const act_case *ac)
{
    bool conv = k == K_CONV, binary = k == K_ADD || k == K_MUL;
    static uint8_t ya[4096], yb[4096];
    check_rng rng = {0x5eed + (uint64_t)ac->act};
    evo_builder b;
    evo_error err = {0};
    evo_model *ma = NULL, *mb = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    const char *what = kind_op(k);
    CHECK(evo_builder_init(&b, "qdq", 11) == EVO_OK);
    if (binary)
        build_binary(&b, k, t, &rng);
    else
        build(&b, conv, t, &rng);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(b.ok && evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    evo_node *n = NULL;
    for (int i = 0; i < b.g->n_nodes; i++)
        if (!b.g->nodes[i].is_dead && strstr(b.g->nodes[i].op_type, what))
            n = &b.g->nodes[i];
    CHECK(n != NULL);
    if (!n) {
        evo_graph_free(b.g);
        return;
    }
    bool table = ac->act != EVO_ACT_NONE && ac->act != EVO_ACT_RELU && ac->act != EVO_ACT_CLIP;
    // The pre-activation domain: wider than the output's for the saturating activations.
    float act_scale = table ? 0.06f : 0.0f;
    int32_t act_zp = table ? (t == EVO_DTYPE_UINT8 ? 128 : 0) : 0;
    if (binary)
        n->a.qbinary = (evo_qbinary_attrs){mode, ac->act, ac->alpha, ac->beta};
    else if (conv)
        n->a.conv = (evo_conv_attrs){.n_spatial = n->a.conv.n_spatial,
                                     .group = n->a.conv.group,
                                     .kernel = {3, 3},
                                     .stride = {2, 1},
                                     .dilation = {1, 1},
                                     .pad_begin = {1, 0},
                                     .pad_end = {1, 2},
                                     .act = ac->act,
                                     .act_alpha = ac->alpha,
                                     .act_beta = ac->beta,
                                     .requant = mode,
                                     .act_scale = act_scale,
                                     .act_zp = act_zp};
    else
        n->a.gemm = (evo_gemm_attrs){.alpha = 1,
                                     .beta = 1,
                                     .act = ac->act,
                                     .act_alpha = ac->alpha,
                                     .act_beta = ac->beta,
                                     .requant = mode,
                                     .act_scale = act_scale,
                                     .act_zp = act_zp};
    evo_onnx_write_options wo = evo_onnx_write_options_default();
    wo.qdq = true;
    CHECK_MSG(evo_onnx_write_buffer(b.g, &wo, &buf, &size, &err) == EVO_OK, "%s %s: %s", what, ac->name,
              err.msg);
    CHECK_MSG(evo_model_from_graph(b.g, &ma, &err) == EVO_OK, "%s", err.msg);
    if (!ma)
        evo_graph_free(b.g);
    if (!buf || !ma)
        goto done;
    CHECK_MSG(count_op(buf, size, what) == 0, "%s %s: still written as %s", what, ac->name, what);
    CHECK_MSG(count_op(buf, size, "QuantizeLinear") == 1 + table, "%s %s: %d QuantizeLinear", what, ac->name,
              count_op(buf, size, "QuantizeLinear"));
    CHECK_MSG(evo_model_load_buffer(buf, size, "qdq.onnx", NULL, &mb, &err) == EVO_OK, "%s", err.msg);
    if (!mb)
        goto done;
    static uint8_t x[4096];
    size_t n_x = 0, na = run(ma, ya, sizeof(ya), x, &n_x), nb = run(mb, yb, sizeof(yb), NULL, NULL);
    size_t n_equal = 0, n_far = 0;
    // One step of the pre-activation (act_scale) moves a table activation's output by up to
    // slope * act_scale / y_scale steps (1.8 for HardSwish here).
    float y_scale = conv || k == K_ADD ? 0.05f : k == K_MUL ? 0.12f : 0.07f;
    int max_steps = table ? (int)ceil(ac->slope * act_scale / y_scale) : 1;
    max_steps = max_steps < 1 ? 1 : max_steps;
    const char *dir = getenv("EVO_QDQ_DUMP_DIR"); /* for the ONNX Runtime side of the test */
    if (dir && *dir) {
        char name[128], steps[16];
        snprintf(name, sizeof(name), "%s_%s_%s_%s", what, evo_dtype_name(t),
                 mode == EVO_REQUANT_FIXED ? "fixed" : "float", ac->name);
        snprintf(steps, sizeof(steps), "%d\n", max_steps);
        if (dump(dir, name, "onnx", buf, size) && dump(dir, name, "x.bin", x, n_x) &&
            dump(dir, name, "steps", steps, strlen(steps)))
            dump(dir, name, "y.bin", ya, na);
    }
    CHECK(na == nb && na > 0);
    int distinct = 0;
    bool seen[256] = {false};
    for (size_t i = 0; i < na && na == nb; i++) {
        int da = t == EVO_DTYPE_INT8 ? (int8_t)ya[i] : ya[i],
            db = t == EVO_DTYPE_INT8 ? (int8_t)yb[i] : yb[i];
        n_equal += da == db;
        n_far += abs(da - db) > max_steps;
        distinct += !seen[ya[i]];
        seen[ya[i]] = true;
    }
    double equal = na ? (double)n_equal / (double)na : 0;
    printf("%-13s %-5s %-5s %-12s %4zu outputs (%3d distinct): %.4f equal, %zu beyond %d step(s)\n", what,
           evo_dtype_name(t), mode == EVO_REQUANT_FIXED ? "fixed" : "float", ac->name, na, distinct, equal,
           n_far, max_steps);
    CHECK_MSG(n_far == 0 && equal >= MIN_EQUAL, "%s %s: %zu outputs beyond %d step(s), %.4f equal", what,
              ac->name, n_far, max_steps, equal);
    CHECK_MSG(distinct >= 6, "%s %s: only %d distinct outputs", what, ac->name, distinct);
done:
    evo_model_free(ma);
    evo_model_free(mb);
    free(buf);
}

static const act_case acts[] = {
    {EVO_ACT_NONE, 0, 0, "none", 1},
    {EVO_ACT_RELU, 0, 0, "relu", 1},
    {EVO_ACT_CLIP, -0.5f, 2.0f, "clip", 1},
    {EVO_ACT_LEAKY_RELU, 0.1f, 0, "leaky_relu", 1},
    {EVO_ACT_SIGMOID, 0, 0, "sigmoid", 0.25f},
    {EVO_ACT_SILU, 0, 0, "silu", 1.1f},
    {EVO_ACT_HARD_SIGMOID, 0.2f, 0.5f, "hard_sigmoid", 0.2f},
    {EVO_ACT_HARD_SWISH, 0, 0, "hard_swish", 1.5f},
    {EVO_ACT_TANH, 0, 0, "tanh", 1},
};

static void test_qconv(void)
{
    for (size_t k = 0; k < sizeof(acts) / sizeof(acts[0]); k++) {
        check_case(K_CONV, EVO_DTYPE_UINT8, EVO_REQUANT_FIXED, &acts[k]);
        check_case(K_CONV, EVO_DTYPE_INT8, EVO_REQUANT_FIXED, &acts[k]);
        check_case(K_CONV, EVO_DTYPE_UINT8, EVO_REQUANT_FLOAT, &acts[k]);
    }
}

static void test_qmatmul(void)
{
    for (size_t k = 0; k < sizeof(acts) / sizeof(acts[0]); k++) {
        check_case(K_MATMUL, EVO_DTYPE_UINT8, EVO_REQUANT_FIXED, &acts[k]);
        check_case(K_MATMUL, EVO_DTYPE_INT8, EVO_REQUANT_FLOAT, &acts[k]);
    }
}

/* QLinearAdd / QLinearMul with the clamps evo quantize fuses (none, ReLU, Clip). */
static void test_qbinary(void)
{
    for (size_t k = 0; k < 3; k++) {
        for (kind op = K_ADD; op <= K_MUL; op++) {
            check_case(op, EVO_DTYPE_UINT8, EVO_REQUANT_FIXED, &acts[k]);
            check_case(op, EVO_DTYPE_INT8, EVO_REQUANT_FIXED, &acts[k]);
            check_case(op, EVO_DTYPE_UINT8, EVO_REQUANT_FLOAT, &acts[k]);
        }
    }
}

/*
 * A QLinearConv without raw attributes (as a pass makes it), written
 * without QDQ: stays a QLinearConv with its attributes from the typed
 * ones (strides, pads), and computes the same bytes.
 */
static void test_qconv_typed_attrs(void)
{
    static uint8_t ya[4096], yb[4096];
    check_rng rng = {77};
    evo_builder b;
    evo_error err = {0};
    evo_model *ma = NULL, *mb = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK(evo_builder_init(&b, "typed", 11) == EVO_OK);
    build(&b, true, EVO_DTYPE_UINT8, &rng);
    evo_compile_options co = evo_compile_options_default();
    CHECK_MSG(b.ok && evo_passes_run(b.g, &(evo_pass_ctx){&co, &err}) == EVO_OK, "%s", err.msg);
    for (int i = 0; i < b.g->n_nodes; i++)
        if (b.g->nodes[i].op == EVO_OP_QLINEAR_CONV)
            b.g->nodes[i].n_attrs = 0;
    CHECK_MSG(evo_onnx_write_buffer(b.g, NULL, &buf, &size, &err) == EVO_OK, "%s", err.msg);
    CHECK_MSG(evo_model_from_graph(b.g, &ma, &err) == EVO_OK, "%s", err.msg);
    if (!ma)
        evo_graph_free(b.g);
    if (buf) {
        CHECK(count_op(buf, size, "QLinearConv") == 1 && count_op(buf, size, "DequantizeLinear") == 0);
        CHECK_MSG(evo_model_load_buffer(buf, size, "typed.onnx", NULL, &mb, &err) == EVO_OK, "%s", err.msg);
    }
    if (ma && mb) {
        size_t na = run(ma, ya, sizeof(ya), NULL, NULL), nb = run(mb, yb, sizeof(yb), NULL, NULL);
        CHECK(na == nb && na == 6 * 4 * 6 && memcmp(ya, yb, na) == 0);
    }
    evo_model_free(ma);
    evo_model_free(mb);
    free(buf);
}

CHECK_MAIN(CHECK_TEST(test_qconv), CHECK_TEST(test_qmatmul), CHECK_TEST(test_qbinary), CHECK_TEST(test_qconv_typed_attrs))
