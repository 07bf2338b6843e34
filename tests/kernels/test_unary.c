/*
 * test_unary.c - elementwise unary ops against formulas evaluated here in
 * double, on random shapes (odd and prime sizes) as 1 and 3 tasks; Clip
 * bounds from attributes, constant inputs and run-time inputs; integer
 * Relu/Neg/Abs/Clip; Cast between types with hand-checked bit patterns
 * (float16 rounding, bfloat16 truncation, float -> int truncation); and
 * bad input.
 */
#include "kernels/nn_util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct unary_case {
    const char *op;
    float lo, hi; /* input range */
    float alpha, beta;
} unary_case;

static double naive(const unary_case *c, double x)
{
    const char *op = c->op;
    double a = c->alpha, b = c->beta;
    if (!strcmp(op, "Relu"))
        return x > 0 ? x : 0;
    if (!strcmp(op, "LeakyRelu"))
        return x >= 0 ? x : a * x;
    if (!strcmp(op, "Sigmoid"))
        return 1 / (1 + exp(-x));
    if (!strcmp(op, "HardSigmoid"))
        return fmax(0, fmin(1, a * x + b));
    if (!strcmp(op, "HardSwish"))
        return x * fmax(0, fmin(1, x / 6 + 0.5));
    if (!strcmp(op, "Tanh"))
        return tanh(x);
    if (!strcmp(op, "Exp"))
        return exp(x);
    if (!strcmp(op, "Log"))
        return log(x);
    if (!strcmp(op, "Sqrt"))
        return sqrt(x);
    if (!strcmp(op, "Neg"))
        return -x;
    if (!strcmp(op, "Abs"))
        return fabs(x);
    if (!strcmp(op, "Floor"))
        return floor(x);
    if (!strcmp(op, "Ceil"))
        return ceil(x);
    if (!strcmp(op, "Reciprocal"))
        return 1 / x;
    if (!strcmp(op, "Erf"))
        return erf(x);
    if (!strcmp(op, "Softplus"))
        return log(1 + exp(x));
    if (!strcmp(op, "Elu"))
        return x >= 0 ? x : a * (exp(x) - 1);
    return NAN;
}

static void random_dims(check_rng *r, int *rank, int64_t *dims)
{
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 31, 67};
    *rank = check_rng_int(r, 0, 4);
    for (int d = 0; d < *rank; d++)
        dims[d] = sizes[check_rng_int(r, 0, 7)];
    if (*rank >= 3) // keep it small
        dims[0] = 1;
}

static void run_float_case(check_rng *r, const unary_case *c, evo_dtype t, int n_tasks)
{
    int rank;
    int64_t dims[EVO_MAX_RANK];
    random_dims(r, &rank, dims);
    evo_graph *g = evo_graph_new("test");
    g->opset = 17;
    int x = nn_value(g, "x", t, rank, dims);
    int node = nn_node(g, c->op, 1, &x, 1);
    if (!strcmp(c->op, "LeakyRelu") || !strcmp(c->op, "Elu") || !strcmp(c->op, "HardSigmoid"))
        nn_attr_float(g, node, "alpha", c->alpha);
    if (!strcmp(c->op, "HardSigmoid"))
        nn_attr_float(g, node, "beta", c->beta);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", c->op, err.msg);
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK(y->dtype == t && y->rank == rank && !memcmp(y->dims, dims, sizeof(int64_t) * (size_t)rank));
    int64_t n = evo_value_count(&g->values[x]);
    size_t es = evo_dtype_size(t);
    char *in = malloc(es * (size_t)n), *out = malloc(es * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        float v = check_rng_float(r, c->lo, c->hi);
        if (i % 7 == 3 && c->lo < 0 && c->hi > 0)
            v = 0; // edges: exactly 0
        if (t == EVO_DTYPE_FLOAT)
            ((float *)in)[i] = v;
        else
            ((double *)in)[i] = v;
    }
    void *ins[1] = {in}, *outs[1] = {out};
    nn_run(g, node, ins, outs, n_tasks);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double xv = t == EVO_DTYPE_FLOAT ? ((float *)in)[i] : ((double *)in)[i];
        double got = t == EVO_DTYPE_FLOAT ? ((float *)out)[i] : ((double *)out)[i];
        double want = naive(c, xv), tol = 2e-6 * (1 + fabs(want));
        if (!(fabs(got - want) <= tol) && bad++ < 3)
            fprintf(stderr, "%s %s: x=%.9g got %.9g want %.9g\n", c->op, evo_dtype_name(t), xv,
                    got, want);
    }
    CHECK_MSG(bad == 0, "%s %s rank %d tasks %d: %d mismatches", c->op, evo_dtype_name(t), rank,
              n_tasks, bad);
    free(in);
    free(out);
    evo_graph_free(g);
}

static void test_float_ops(void)
{
    static const unary_case cases[] = {
        {"Relu", -3, 3, 0, 0},        {"LeakyRelu", -3, 3, 0.1f, 0}, {"Sigmoid", -9, 9, 0, 0},
        {"HardSigmoid", -6, 6, 0.3f, 0.4f}, {"HardSwish", -5, 5, 0, 0}, {"Tanh", -4, 4, 0, 0},
        {"Exp", -10, 10, 0, 0},       {"Log", 0.01f, 50, 0, 0},      {"Sqrt", 0, 50, 0, 0},
        {"Neg", -3, 3, 0, 0},         {"Abs", -3, 3, 0, 0},          {"Floor", -3, 3, 0, 0},
        {"Ceil", -3, 3, 0, 0},        {"Reciprocal", 0.1f, 9, 0, 0}, {"Erf", -3, 3, 0, 0},
        {"Softplus", -20, 20, 0, 0},  {"Elu", -4, 4, 0.7f, 0},
    };
    check_rng r = {0x0a11};
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++) {
        for (int rep = 0; rep < 6; rep++) {
            run_float_case(&r, &cases[i], EVO_DTYPE_FLOAT, 1);
            run_float_case(&r, &cases[i], EVO_DTYPE_FLOAT, 3);
        }
        run_float_case(&r, &cases[i], EVO_DTYPE_DOUBLE, 2);
    }
}

static void test_defaults(void)
{
    // LeakyRelu alpha 0.01, HardSigmoid 0.2/0.5, Elu 1.0 when the attributes are absent
    static const char *ops[] = {"LeakyRelu", "HardSigmoid", "Elu"};
    static const float want[3] = {-0.02f, 0.1f, -0.8646647f}; // at x = -2
    for (int i = 0; i < 3; i++) {
        evo_graph *g = evo_graph_new("test");
        g->opset = 17;
        int64_t one = 1;
        int x = nn_value(g, "x", EVO_DTYPE_FLOAT, 1, &one);
        int node = nn_node(g, ops[i], 1, &x, 1);
        evo_error err = {0};
        CHECK(nn_infer(g, node, &err) == EVO_OK);
        float in = -2, out = 0;
        void *ins[1] = {&in}, *outs[1] = {&out};
        nn_run(g, node, ins, outs, 1);
        CHECK_NEAR(out, want[i], 1e-6);
        evo_graph_free(g);
    }
}

/* Clip of x = -3..3 (step 0.5) with bounds given three ways. */
static void test_clip(void)
{
    float x[13], y[13];
    for (int i = 0; i < 13; i++)
        x[i] = -3.0f + 0.5f * (float)i;
    int64_t n13 = 13;
    for (int mode = 0; mode < 4; mode++) {
        evo_graph *g = evo_graph_new("test");
        g->opset = mode == 0 ? 6 : 13;
        int ins[3] = {nn_value(g, "x", EVO_DTYPE_FLOAT, 1, &n13), -1, -1};
        float lo = -1.0f, hi = 1.5f;
        int n_in = 1;
        if (mode >= 1) { // opset 13: inputs; mode 1 constant, 2 run time, 3 max only
            ins[1] = nn_value(g, "min", EVO_DTYPE_FLOAT, 0, NULL);
            ins[2] = nn_value(g, "max", EVO_DTYPE_FLOAT, 0, NULL);
            if (mode == 1) {
                evo_value_set_const(g, &g->values[ins[1]], EVO_DTYPE_FLOAT, 0, NULL, &lo, NULL);
                evo_value_set_const(g, &g->values[ins[2]], EVO_DTYPE_FLOAT, 0, NULL, &hi, NULL);
            }
            if (mode == 3)
                ins[1] = -1;
            n_in = 3;
        }
        int node = nn_node(g, "Clip", n_in, ins, 1);
        if (mode == 0) {
            nn_attr_float(g, node, "min", lo);
            nn_attr_float(g, node, "max", hi);
        }
        evo_error err = {0};
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "mode %d: %s", mode, err.msg);
        void *in_data[3] = {x, &lo, &hi}, *out_data[1] = {y};
        nn_run(g, node, in_data, out_data, 2);
        for (int i = 0; i < 13; i++) {
            float want = x[i] > hi ? hi : (mode != 3 && x[i] < lo) ? lo : x[i];
            CHECK_MSG(y[i] == want, "mode %d: clip(%g) = %g, want %g", mode, x[i], y[i], want);
        }
        evo_graph_free(g);
    }
}

static void test_int_ops(void)
{
    // ONNX test_clip_default_int8_min-style: int8 with a min input only
    int8_t x[6] = {-128, -5, 0, 3, 100, 127}, y[6], lo = 0, hi = 50;
    int64_t six = 6;
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int ins[3] = {nn_value(g, "x", EVO_DTYPE_INT8, 1, &six), nn_value(g, "lo", EVO_DTYPE_INT8, 0, NULL),
                  nn_value(g, "hi", EVO_DTYPE_INT8, 0, NULL)};
    int clip = nn_node(g, "Clip", 3, ins, 1);
    int relu = nn_node(g, "Relu", 1, ins, 1);
    int neg = nn_node(g, "Neg", 1, ins, 1);
    int abs_node = nn_node(g, "Abs", 1, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, clip, &err) == EVO_OK && nn_infer(g, relu, &err) == EVO_OK &&
          nn_infer(g, neg, &err) == EVO_OK && nn_infer(g, abs_node, &err) == EVO_OK);
    void *in_data[3] = {x, &lo, &hi}, *out_data[1] = {y};
    nn_run(g, clip, in_data, out_data, 3);
    int8_t clip_want[6] = {0, 0, 0, 3, 50, 50};
    CHECK(!memcmp(y, clip_want, 6));
    nn_run(g, relu, in_data, out_data, 1);
    int8_t relu_want[6] = {0, 0, 0, 3, 100, 127};
    CHECK(!memcmp(y, relu_want, 6));
    nn_run(g, neg, in_data, out_data, 1);
    int8_t neg_want[6] = {-128, 5, 0, -3, -100, -127}; // -(-128) wraps
    CHECK(!memcmp(y, neg_want, 6));
    nn_run(g, abs_node, in_data, out_data, 1);
    int8_t abs_want[6] = {-128, 5, 0, 3, 100, 127};
    CHECK(!memcmp(y, abs_want, 6));
    evo_graph_free(g);

    // int64 Clip with bounds beyond float precision stays exact
    g = evo_graph_new("test");
    g->opset = 13;
    int64_t three = 3, x64[3] = {INT64_MAX, (1LL << 60) + 1, -7}, y64[3];
    int64_t lo64 = -5, hi64 = (1LL << 60) + 3;
    int ins64[3] = {nn_value(g, "x", EVO_DTYPE_INT64, 1, &three),
                    nn_value(g, "lo", EVO_DTYPE_INT64, 0, NULL),
                    nn_value(g, "hi", EVO_DTYPE_INT64, 0, NULL)};
    evo_value_set_const(g, &g->values[ins64[2]], EVO_DTYPE_INT64, 0, NULL, &hi64, NULL);
    clip = nn_node(g, "Clip", 3, ins64, 1);
    CHECK(nn_infer(g, clip, &err) == EVO_OK);
    void *in64[3] = {x64, &lo64, (void *)g->values[ins64[2]].data}, *out64[1] = {y64};
    nn_run(g, clip, in64, out64, 1);
    CHECK(y64[0] == hi64 && y64[1] == (1LL << 60) + 1 && y64[2] == -5);
    evo_graph_free(g);

    // Not
    g = evo_graph_new("test");
    g->opset = 13;
    int64_t four = 4;
    uint8_t b[4] = {0, 1, 1, 0}, nb[4];
    int xb = nn_value(g, "b", EVO_DTYPE_BOOL, 1, &four);
    int not_node = nn_node(g, "Not", 1, &xb, 1);
    CHECK(nn_infer(g, not_node, &err) == EVO_OK);
    void *bin[1] = {b}, *bout[1] = {nb};
    nn_run(g, not_node, bin, bout, 3);
    CHECK(nb[0] == 1 && nb[1] == 0 && nb[2] == 0 && nb[3] == 1);
    evo_graph_free(g);
}

/* Casts n elements of src (type from) to type to; returns the inference status. */
static evo_status cast(evo_dtype from, evo_dtype to, const void *src, void *dst, int64_t n)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int x = nn_value(g, "x", from, 1, &n);
    int node = nn_node(g, "Cast", 1, &x, 1);
    nn_attr_int(g, node, "to", to);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    if (!s) {
        CHECK(g->values[g->nodes[node].out[0]].dtype == to);
        void *ins[1] = {(void *)src}, *outs[1] = {dst};
        nn_run(g, node, ins, outs, 2);
    }
    evo_graph_free(g);
    return s;
}

static void test_cast(void)
{
    float f[8] = {1.0f, 0.1f, 65520.0f, 65519.0f, 5.9604645e-08f, 1e-8f, -2.0f, NAN};
    uint16_t h[8];
    CHECK(cast(EVO_DTYPE_FLOAT, EVO_DTYPE_FLOAT16, f, h, 8) == EVO_OK);
    uint16_t h_want[8] = {0x3c00, 0x2e66, 0x7c00, 0x7bff, 0x0001, 0x0000, 0xc000, 0x7e00};
    for (int i = 0; i < 8; i++)
        CHECK_MSG(h[i] == h_want[i], "f16 %d: 0x%04x want 0x%04x", i, h[i], h_want[i]);
    float back[8];
    CHECK(cast(EVO_DTYPE_FLOAT16, EVO_DTYPE_FLOAT, h, back, 8) == EVO_OK);
    CHECK(back[0] == 1.0f && back[1] == 0.0999755859375f && isinf(back[2]) && back[3] == 65504.0f);
    CHECK(back[4] == 5.9604645e-08f && back[6] == -2.0f && isnan(back[7]));

    // double -> float16 rounds once: 1 + 2^-11 +- 2^-40 are just above / below a
    // tie that rounding through float would create
    double d[4] = {1.0 + ldexp(1, -11) + ldexp(1, -40), 1.0 + ldexp(1, -11),
                   1.0 + ldexp(1, -11) - ldexp(1, -40), -1.0 - ldexp(1, -11) - ldexp(1, -40)};
    CHECK(cast(EVO_DTYPE_DOUBLE, EVO_DTYPE_FLOAT16, d, h, 4) == EVO_OK);
    CHECK(h[0] == 0x3c01 && h[1] == 0x3c00 && h[2] == 0x3c00 && h[3] == 0xbc01);

    // bfloat16 truncates (ONNX test_cast_FLOAT_to_BFLOAT16 data)
    float bf[4] = {0.47892547f, 0.48033667f, INFINITY, -INFINITY};
    uint16_t b16[4];
    CHECK(cast(EVO_DTYPE_FLOAT, EVO_DTYPE_BFLOAT16, bf, b16, 4) == EVO_OK);
    CHECK(b16[0] == 16117 && b16[1] == 16117 && b16[2] == 32640 && b16[3] == 65408);
    CHECK(cast(EVO_DTYPE_BFLOAT16, EVO_DTYPE_FLOAT, b16, bf, 4) == EVO_OK);
    CHECK(bf[0] == 0.478515625f && isinf(bf[2]));

    // float -> int truncates toward zero
    float fi[5] = {2.7f, -2.7f, -0.5f, 1e10f, NAN};
    int32_t i32[5];
    CHECK(cast(EVO_DTYPE_FLOAT, EVO_DTYPE_INT32, fi, i32, 4) == EVO_OK);
    CHECK(i32[0] == 2 && i32[1] == -2 && i32[2] == 0);
    int64_t i64[5];
    CHECK(cast(EVO_DTYPE_FLOAT, EVO_DTYPE_INT64, fi, i64, 5) == EVO_OK);
    CHECK(i64[0] == 2 && i64[1] == -2 && i64[3] == 10000000000LL && i64[4] == 0);
    uint8_t u8[5];
    float fu[3] = {300.7f, -1.5f, 255.9f};
    CHECK(cast(EVO_DTYPE_FLOAT, EVO_DTYPE_UINT8, fu, u8, 3) == EVO_OK);
    CHECK(u8[0] == 44 && u8[1] == 255 && u8[2] == 255);

    // integers: exact int64 -> double for 2^53 - 1, wrap on narrowing
    int64_t big[3] = {(1LL << 53) - 1, -1, 4294967296LL + 5};
    double dd[3];
    CHECK(cast(EVO_DTYPE_INT64, EVO_DTYPE_DOUBLE, big, dd, 3) == EVO_OK);
    CHECK(dd[0] == 9007199254740991.0 && dd[1] == -1.0);
    CHECK(cast(EVO_DTYPE_INT64, EVO_DTYPE_INT32, big, i32, 3) == EVO_OK);
    CHECK(i32[0] == -1 && i32[1] == -1 && i32[2] == 5);
    uint64_t u64[3];
    CHECK(cast(EVO_DTYPE_INT64, EVO_DTYPE_UINT64, big, u64, 3) == EVO_OK);
    CHECK(u64[1] == UINT64_MAX);
    CHECK(cast(EVO_DTYPE_UINT64, EVO_DTYPE_FLOAT, u64, fi, 3) == EVO_OK);
    CHECK(fi[1] == 18446744073709551616.0f);

    // bool both ways
    float fb[4] = {0.0f, -0.0f, 0.25f, NAN};
    uint8_t bl[4];
    CHECK(cast(EVO_DTYPE_FLOAT, EVO_DTYPE_BOOL, fb, bl, 4) == EVO_OK);
    CHECK(bl[0] == 0 && bl[1] == 0 && bl[2] == 1 && bl[3] == 1);
    CHECK(cast(EVO_DTYPE_BOOL, EVO_DTYPE_FLOAT, bl, fb, 4) == EVO_OK);
    CHECK(fb[0] == 0 && fb[2] == 1);
    CHECK(cast(EVO_DTYPE_BOOL, EVO_DTYPE_INT64, bl, i64, 4) == EVO_OK);
    CHECK(i64[0] == 0 && i64[3] == 1);

    // same type: a copy
    CHECK(cast(EVO_DTYPE_INT64, EVO_DTYPE_INT64, big, i64, 3) == EVO_OK);
    CHECK(!memcmp(big, i64, sizeof(big)));
}

static void test_bad_input(void)
{
    evo_error err = {0};
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t two = 2;
    int xf = nn_value(g, "xf", EVO_DTYPE_FLOAT, 1, &two), xi = nn_value(g, "xi", EVO_DTYPE_INT32, 1, &two);
    int xs = nn_value(g, "xs", EVO_DTYPE_STRING, 1, &two);
    int n = nn_node(g, "Not", 1, &xf, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && nn_names_node(&err));
    n = nn_node(g, "Sigmoid", 1, &xi, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "int32"));
    n = nn_node(g, "Cast", 1, &xf, 1); // no "to"
    CHECK(nn_infer(g, n, &err) != EVO_OK && strstr(err.msg, "to"));
    n = nn_node(g, "Cast", 1, &xf, 1);
    nn_attr_int(g, n, "to", EVO_DTYPE_STRING);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED);
    n = nn_node(g, "Cast", 1, &xs, 1);
    nn_attr_int(g, n, "to", EVO_DTYPE_FLOAT);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED);
    int two_in[2] = {xf, xf};
    n = nn_node(g, "Relu", 2, two_in, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK && nn_names_node(&err));
    int clip_in[2] = {xf, xi}; // min of another type
    n = nn_node(g, "Clip", 2, clip_in, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK && strstr(err.msg, "min"));
    int clip_vec[2] = {xf, xf}; // min is not a scalar
    n = nn_node(g, "Clip", 2, clip_vec, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_float_ops), CHECK_TEST(test_defaults), CHECK_TEST(test_clip),
           CHECK_TEST(test_int_ops), CHECK_TEST(test_cast), CHECK_TEST(test_bad_input))
