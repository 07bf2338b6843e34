/*
 * test_quant.c - QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear:
 * hand-computed ties (round half to even), saturation, absent zero points,
 * int32 dequantization, output_dtype; random shapes per-tensor and per-axis
 * (every axis, negative axes) against a loop written here, 1 and 3 tasks;
 * and refused inputs (block_size, float8/int16 types, wrong lengths).
 */
#include "qtest_util.h"

/* QuantizeLinear of x with scale/zp per axis; returns the node (inputs x, scale, zp). */
static int q_node(evo_graph *g, const char *op, evo_dtype xt, int rank, const int64_t *dims, int64_t n_scale,
                  const float *scale, evo_dtype zt, const void *zp, int64_t axis)
{
    int x = qt_value(g, "x", xt, rank, dims, NULL);
    int ins[3] = {x, qt_param(g, "s", EVO_DTYPE_FLOAT, n_scale, scale), zp ? qt_param(g, "z", zt, n_scale, zp) : -1};
    int node = nn_node(g, op, zp ? 3 : 2, ins, 1);
    if (axis != 1)
        nn_attr_int(g, node, "axis", axis);
    return node;
}

static void test_quantize_hand(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t d[1] = {10};
    float x[10] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300.0f, -300.0f, 1.0f, 2.0f, NAN}, s = 1.0f;
    int8_t zp = 1;
    int node = q_node(g, "QuantizeLinear", EVO_DTYPE_FLOAT, 1, d, 1, &s, EVO_DTYPE_INT8, &zp, 1);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    CHECK(g->values[g->nodes[node].out[0]].dtype == EVO_DTYPE_INT8);
    int8_t y[10];
    void *in[3] = {x, &s, &zp}, *out[1] = {y};
    nn_run(g, node, in, out, 3);
    /* 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0, -1.5 -> -2, then + 1 and saturate */
    int8_t want[10] = {1, 3, 3, 1, -1, 127, -128, 2, 3, -128};
    for (int i = 0; i < 10; i++)
        CHECK_MSG(y[i] == want[i], "y[%d] = %d want %d", i, y[i], want[i]);
    evo_graph_free(g);

    /* No zero point: uint8 with zp 0; output_dtype int8 (opset 21) switches the type. */
    for (int variant = 0; variant < 2; variant++) {
        g = evo_graph_new("test");
        g->opset = 21;
        float x2[3] = {-1.0f, 0.4f, 3.0f}, s2 = 0.5f;
        int64_t d3[1] = {3};
        node = q_node(g, "QuantizeLinear", EVO_DTYPE_FLOAT, 1, d3, 1, &s2, EVO_DTYPE_UINT8, NULL, 1);
        if (variant)
            nn_attr_int(g, node, "output_dtype", EVO_DTYPE_INT8);
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
        evo_dtype t = g->values[g->nodes[node].out[0]].dtype;
        CHECK(t == (variant ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8));
        uint8_t y2[3];
        void *in2[2] = {x2, &s2}, *out2[1] = {y2};
        nn_run(g, node, in2, out2, 1);
        CHECK(qt_load(y2, t, 0) == (variant ? -2 : 0) && qt_load(y2, t, 1) == 1 && qt_load(y2, t, 2) == 6);
        evo_graph_free(g);
    }
}

static void test_dequantize_hand(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t d[1] = {4};
    int32_t x[4] = {-1000000, 0, 7, 2000000000};
    float s = 0.5f;
    int node = q_node(g, "DequantizeLinear", EVO_DTYPE_INT32, 1, d, 1, &s, EVO_DTYPE_INT32, NULL, 1);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    float y[4];
    void *in[2] = {x, &s}, *out[1] = {y};
    nn_run(g, node, in, out, 1);
    CHECK(y[0] == -500000.0f && y[1] == 0.0f && y[2] == 3.5f && y[3] == 1e9f);
    evo_graph_free(g);
    g = evo_graph_new("test");
    uint8_t xb[3] = {0, 128, 255}, zp = 128;
    node = q_node(g, "DequantizeLinear", EVO_DTYPE_UINT8, 1, (int64_t[]){3}, 1, &s, EVO_DTYPE_UINT8, &zp, 1);
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    void *in2[3] = {xb, &s, &zp}, *out2[1] = {y};
    nn_run(g, node, in2, out2, 1);
    CHECK(y[0] == -64.0f && y[1] == 0.0f && y[2] == 63.5f);
    evo_graph_free(g);
}

/* Per-axis and per-tensor on random 1-4-D shapes, both directions, against the loop here. */
static void test_quant_random(void)
{
    check_rng r = {99};
    for (int it = 0; it < 80; it++) {
        int rank = check_rng_int(&r, 1, 4);
        int64_t dims[4], count = 1;
        for (int i = 0; i < rank; i++)
            count *= dims[i] = check_rng_int(&r, 1, 7);
        int axis = check_rng_int(&r, 0, rank - 1);
        bool per_axis = it % 3 != 0, neg = check_rng_int(&r, 0, 1), deq = it % 2;
        int64_t nsc = per_axis ? dims[axis] : 1, inner = 1;
        if (per_axis && nsc == 1)
            per_axis = false;
        for (int i = axis + 1; i < rank; i++)
            inner *= dims[i];
        evo_dtype zt = check_rng_int(&r, 0, 1) ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        float *sc = malloc(4 * (size_t)nsc), *xf = malloc(4 * (size_t)count), *yf = malloc(4 * (size_t)count);
        uint8_t *zp = qt_bytes(&r, nsc, zt), *xq = qt_bytes(&r, count, zt), *yq = malloc((size_t)count);
        for (int64_t i = 0; i < nsc; i++)
            sc[i] = check_rng_float(&r, 0.01f, 0.1f);
        for (int64_t i = 0; i < count; i++)
            xf[i] = check_rng_float(&r, -15.0f, 15.0f);
        evo_graph *g = evo_graph_new("test");
        g->opset = 13;
        int node = q_node(g, deq ? "DequantizeLinear" : "QuantizeLinear", deq ? zt : EVO_DTYPE_FLOAT, rank, dims,
                          nsc, sc, zt, zp, neg ? axis - rank : axis);
        evo_error err = {0};
        evo_status s = nn_infer(g, node, &err);
        CHECK_MSG(s == EVO_OK, "it %d: %s", it, err.msg);
        void *in[3] = {deq ? (void *)xq : (void *)xf, sc, zp}, *out[1] = {deq ? (void *)yf : (void *)yq};
        if (s == EVO_OK)
            nn_run(g, node, in, out, it % 4 ? 3 : 1);
        int bad = 0;
        for (int64_t i = 0; s == EVO_OK && i < count; i++) {
            int64_t c = nsc > 1 ? (i / inner) % dims[axis] : 0;
            int32_t z = qt_load(zp, zt, c);
            if (deq) {
                float want = (float)(qt_load(xq, zt, i) - z) * sc[c];
                bad += yf[i] != want;
            } else {
                int32_t want = qt_clamp((int64_t)nearbyintf(xf[i] / sc[c]) + z, qt_qmin(zt), qt_qmax(zt));
                bad += qt_load(yq, zt, i) != want;
            }
        }
        CHECK_MSG(bad == 0, "it %d rank %d axis %d per_axis %d deq %d: %d wrong", it, rank, axis, per_axis, deq, bad);
        free(sc), free(xf), free(yf), free(zp), free(xq), free(yq);
        evo_graph_free(g);
    }
}

static void test_dynamic_quantize(void)
{
    evo_graph *g = evo_graph_new("test");
    int64_t d[2] = {2, 3};
    int x = qt_value(g, "x", EVO_DTYPE_FLOAT, 2, d, NULL);
    int node = nn_node(g, "DynamicQuantizeLinear", 1, &x, 3);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    CHECK(g->values[g->nodes[node].out[0]].dtype == EVO_DTYPE_UINT8);
    CHECK(g->values[g->nodes[node].out[1]].rank == 0 && g->values[g->nodes[node].out[2]].dtype == EVO_DTYPE_UINT8);
    /* range [-1, 1.55]: scale 0.01, zp = round(100) = 100 */
    float xv[6] = {-1.0f, 0.0f, 1.55f, 0.5f, -0.255f, 0.015f}, scale = 0;
    uint8_t y[6], zp = 0;
    void *in[1] = {xv}, *out[3] = {y, &scale, &zp};
    nn_run(g, node, in, out, 2);
    CHECK_NEAR(scale, 2.55f / 255.0f, 1e-9);
    CHECK(zp == 100);
    CHECK(y[0] == 0 && y[1] == 100 && y[2] == 255 && y[3] == 150);
    /* all zeros: a zero range keeps scale 1, zero point 0 */
    for (int i = 0; i < 6; i++)
        xv[i] = 0.0f;
    nn_run(g, node, in, out, 1);
    CHECK(scale == 1.0f && zp == 0 && y[0] == 0);
    evo_graph_free(g);
}

static void test_quant_refused(void)
{
    float s = 1.0f, s3[3] = {1, 1, 1};
    uint8_t z[3] = {0, 0, 0};
    int64_t d[2] = {2, 4};
    struct {
        const char *op;
        const char *attr;
        int64_t value;
        evo_dtype zt;
        int64_t n_scale;
        const char *want;
    } cases[] = {
        {"QuantizeLinear", "block_size", 2, EVO_DTYPE_UINT8, 1, "block_size"},
        {"DequantizeLinear", "block_size", 4, EVO_DTYPE_UINT8, 1, "block_size"},
        {"QuantizeLinear", "output_dtype", 17, EVO_DTYPE_UINT8, 0, "output_dtype"},
        {"QuantizeLinear", NULL, 0, EVO_DTYPE_INT16, 1, "y_zero_point"},
        {"QuantizeLinear", NULL, 0, EVO_DTYPE_UINT8, 3, "[4]"}, /* axis 1 has 4 elements, the scale 3 */
        {"QuantizeLinear", "output_dtype", EVO_DTYPE_INT8, EVO_DTYPE_UINT8, 1, "output_dtype"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        evo_graph *g = evo_graph_new("test");
        g->opset = 21;
        bool deq = cases[i].op[0] == 'D';
        int16_t z16[3] = {0, 0, 0};
        int node = q_node(g, cases[i].op, deq ? EVO_DTYPE_UINT8 : EVO_DTYPE_FLOAT, 2, d,
                          cases[i].n_scale ? cases[i].n_scale : 1, cases[i].n_scale == 3 ? s3 : &s, cases[i].zt,
                          cases[i].n_scale == 0 ? NULL : cases[i].zt == EVO_DTYPE_INT16 ? (void *)z16 : (void *)z,
                          1);
        if (cases[i].attr)
            nn_attr_int(g, node, cases[i].attr, cases[i].value);
        evo_error err = {0};
        evo_status st = nn_infer(g, node, &err);
        CHECK_MSG(st != EVO_OK && nn_names_node(&err) && strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
        evo_graph_free(g);
    }
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"quantize_hand", test_quantize_hand},   {"dequantize_hand", test_dequantize_hand},
        {"quant_random", test_quant_random},     {"dynamic_quantize", test_dynamic_quantize},
        {"quant_refused", test_quant_refused},
    };
    return check_run(tests, (int)(sizeof(tests) / sizeof(tests[0])), argc, argv);
}
