/*
 * test_qlut.c - com.microsoft QLinearSigmoid and QLinearLeakyRelu against
 * the float formula written here, on random odd sizes, uint8 and int8,
 * every byte value, absent zero points, 1 and 3 tasks; sigmoid also within
 * one step of the exact value; hand-computed LeakyRelu bytes; bad inputs.
 */
#include "q_util.h"

static int build(evo_graph *g, evo_op op, evo_dtype t, int64_t n, float sx, int zx, float sy, int zy,
                 float alpha)
{
    int ins[5] = {nn_value(g, "X", t, 1, &n), q_scale(g, "X_s", sx), zx == -1000 ? -1 : q_zp(g, "X_z", t, zx),
                  q_scale(g, "Y_s", sy), zy == -1000 ? -1 : q_zp(g, "Y_z", t, zy)};
    int node = nn_node(g, evo_op_name(op), 5, ins, 1);
    if (op == EVO_OP_QLINEAR_LEAKY_RELU && alpha >= 0.0f)
        nn_attr_float(g, node, "alpha", alpha);
    return node;
}

static uint8_t direct(evo_op op, evo_dtype t, uint8_t b, float sx, int zx, float sy, int zy, float alpha)
{
    float x = sx * (float)(q_val(b, t) - zx);
    float y = op == EVO_OP_QLINEAR_SIGMOID ? 1.0f / (1.0f + expf(-x)) : x >= 0.0f ? x : alpha * x;
    return q_quant(y / sy, zy, t);
}

static void run(check_rng *r, evo_op op, evo_dtype t, int64_t n, float sx, int zx, float sy, int zy,
                float alpha, int n_tasks)
{
    char desc[200];
    snprintf(desc, sizeof(desc), "%s %s n=%lld sx=%g zx=%d sy=%g zy=%d alpha=%g tasks=%d", evo_op_name(op),
             evo_dtype_name(t), (long long)n, (double)sx, zx, (double)sy, zy, (double)alpha, n_tasks);
    evo_graph *g = evo_graph_new("test");
    int node = build(g, op, t, n, sx, zx, sy, zy, alpha);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s == EVO_OK) {
        uint8_t *x = q_bytes(r, n), *got = q_bytes(r, n), *want = malloc((size_t)n);
        for (int64_t i = 0; i < n; i++)
            x[i] = i < 256 ? (uint8_t)i : x[i]; /* every byte value once */
        float a = alpha >= 0.0f ? alpha : 0.01f;
        for (int64_t i = 0; i < n; i++)
            want[i] = direct(op, t, x[i], sx, zx == -1000 ? 0 : zx, sy, zy == -1000 ? 0 : zy, a);
        void *ins[5] = {x};
        q_run(g, node, ins, got, n_tasks);
        CHECK_MSG(q_compare(got, want, n, t, desc) == 0, "%s", desc);
        for (int64_t i = 0; op == EVO_OP_QLINEAR_SIGMOID && i < n; i++) {
            double exact = 1.0 / (1.0 + exp(-(double)sx * (q_val(x[i], t) - (zx == -1000 ? 0 : zx))));
            double q = exact / sy + (zy == -1000 ? 0 : zy);
            int lo = t == EVO_DTYPE_INT8 ? -128 : 0, hi = lo + 255;
            q = q < lo ? lo : q > hi ? hi : q;
            CHECK_MSG(fabs(q_val(got[i], t) - q) <= 1.0, "%s: byte %d far from sigmoid", desc, x[i]);
        }
        free(x);
        free(got);
        free(want);
    }
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0x1e7};
    for (int it = 0; it < 60; it++) {
        evo_op op = it % 2 ? EVO_OP_QLINEAR_SIGMOID : EVO_OP_QLINEAR_LEAKY_RELU;
        evo_dtype t = (it / 2) % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        int64_t n = check_rng_int(&r, 1, 700) | 1;
        float sx = check_rng_float(&r, 0.005f, 0.2f), sy = check_rng_float(&r, 0.002f, 0.1f);
        int zx = it % 7 == 0 ? -1000 : q_zp_rand(&r, t), zy = it % 5 == 0 ? -1000 : q_zp_rand(&r, t);
        float alpha = it % 4 == 0 ? -1.0f : check_rng_float(&r, 0.0f, 0.5f);
        run(&r, op, t, n, sx, zx, sy, zy, alpha, it % 3 == 0 ? 3 : 1);
    }
}

static void test_hand(void)
{
    /* x_scale 0.5, x_zp 128: byte 120 is -4; alpha 0.1 gives -0.4 = -4 steps of 0.1 -> 96 with y_zp 100 */
    evo_graph *g = evo_graph_new("test");
    int node = build(g, EVO_OP_QLINEAR_LEAKY_RELU, EVO_DTYPE_UINT8, 3, 0.5f, 128, 0.1f, 100, 0.1f);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    uint8_t x[3] = {120, 130, 255}, y[3];
    void *ins[5] = {x};
    q_run(g, node, ins, y, 1);
    CHECK(y[0] == 96 && y[1] == 110 && y[2] == 255); /* 130 -> 1.0 -> 10 steps; 255 saturates */
    evo_graph_free(g);
}

static void test_bad_inputs(void)
{
    evo_graph *g = evo_graph_new("test");
    int node = build(g, EVO_OP_QLINEAR_SIGMOID, EVO_DTYPE_UINT8, 3, 0.5f, 128, 0.1f, 100, -1.0f);
    g->values[g->nodes[node].in[4]].dtype = EVO_DTYPE_INT8; /* zero point of the wrong type */
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "Y_zero_point") &&
          nn_names_node(&err));
    evo_graph_free(g);
    g = evo_graph_new("test");
    node = build(g, EVO_OP_QLINEAR_LEAKY_RELU, EVO_DTYPE_UINT8, 3, 0.5f, 128, 0.1f, 100, -1.0f);
    nn_attr_float(g, node, "alpha", INFINITY);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_PARSE && strstr(err.msg, "alpha"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand), CHECK_TEST(test_bad_inputs))
