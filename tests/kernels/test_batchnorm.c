/*
 * test_batchnorm.c - BatchNormalization (inference) against the formula
 * evaluated here in double, ranks 2..5, 1 and 3 tasks; a hand-computed
 * case; training mode and bad shapes rejected with the node named.
 */
#include "nn_util.h"

static int build_bn(evo_graph *g, int rank, const int64_t *dims, int64_t stat_len, int n_out)
{
    int ins[5];
    ins[0] = nn_value(g, "X", EVO_DTYPE_FLOAT, rank, dims);
    static const char *const names[4] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; i++)
        ins[1 + i] = nn_value(g, names[i], EVO_DTYPE_FLOAT, 1, &stat_len);
    return nn_node(g, "BatchNormalization", 5, ins, n_out);
}

static void test_batchnorm_random(void)
{
    check_rng r = {0xb401};
    for (int it = 0; it < 20; it++) {
        int rank = 2 + it % 4;
        int64_t dims[5] = {check_rng_int(&r, 1, 3), check_rng_int(&r, 1, 9)}, count = 1;
        for (int i = 2; i < rank; i++)
            dims[i] = check_rng_int(&r, 1, 7);
        for (int i = 0; i < rank; i++)
            count *= dims[i];
        int64_t chans = dims[1], plane = count / (dims[0] * chans);
        float eps = (it % 2) ? 1e-5f : 0.01f;
        evo_graph *g = evo_graph_new("test");
        int node = build_bn(g, rank, dims, chans, 1);
        if (it % 2 == 0)
            nn_attr_float(g, node, "epsilon", eps);
        evo_error err = {0};
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
        const evo_value *y = &g->values[g->nodes[node].out[0]];
        CHECK(y->rank == rank && memcmp(y->dims, dims, sizeof(int64_t) * (size_t)rank) == 0);
        float *x = nn_random(&r, count), *scale = nn_random(&r, chans), *bias = nn_random(&r, chans);
        float *mean = nn_random(&r, chans), *var = nn_random(&r, chans), *got = nn_random(&r, count);
        for (int64_t c = 0; c < chans; c++)
            var[c] = var[c] * var[c] + 0.05f;
        double *want = malloc(sizeof(double) * (size_t)count);
        for (int64_t i = 0; i < count; i++) {
            int64_t c = (i / plane) % chans;
            want[i] = (x[i] - (double)mean[c]) / sqrt((double)var[c] + eps) * scale[c] + bias[c];
        }
        void *ins[5] = {x, scale, bias, mean, var}, *outs[1] = {got};
        nn_run(g, node, ins, outs, 1 + 2 * (it % 2));
        CHECK(nn_compare(got, want, count, 1e-4, "batchnorm") == 0);
        free(x);
        free(scale);
        free(bias);
        free(mean);
        free(var);
        free(got);
        free(want);
        evo_graph_free(g);
    }
}

static void test_batchnorm_hand_computed(void)
{
    /* x = [-1, 0, 1] per channel; channel 0: scale 1, B 0, mean 0, var 1;
     * channel 1: scale 1.5, B 1.5, mean 0, var 1 (ONNX doc example), eps 0. */
    evo_graph *g = evo_graph_new("test");
    int64_t dims[3] = {1, 2, 3};
    int node = build_bn(g, 3, dims, 2, 1);
    nn_attr_float(g, node, "epsilon", 0.0f);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    float x[6] = {-1, 0, 1, -1, 0, 1}, s[2] = {1, 1.5f}, b[2] = {0, 1.5f}, m[2] = {0, 0};
    float v[2] = {1, 1}, y[6];
    void *ins[5] = {x, s, b, m, v}, *outs[1] = {y};
    nn_run(g, node, ins, outs, 2);
    static const float want[6] = {-1, 0, 1, 0, 1.5f, 3};
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(y[i], want[i], 1e-6);
    evo_graph_free(g);
}

static void test_batchnorm_rejects(void)
{
    int64_t dims[4] = {2, 3, 4, 5};
    evo_error err = {0};
    /* training_mode=1 */
    evo_graph *g = evo_graph_new("test");
    int node = build_bn(g, 4, dims, 3, 1);
    nn_attr_int(g, node, "training_mode", 1);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "training"), "%s", err.msg);
    evo_graph_free(g);
    /* running statistics outputs used */
    memset(&err, 0, sizeof(err));
    g = evo_graph_new("test");
    node = build_bn(g, 4, dims, 3, 3);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "training"), "%s", err.msg);
    evo_graph_free(g);
    /* statistics of the wrong length */
    memset(&err, 0, sizeof(err));
    g = evo_graph_new("test");
    node = build_bn(g, 4, dims, 4, 1);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "C=3"), "%s", err.msg);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_batchnorm_random), CHECK_TEST(test_batchnorm_hand_computed),
           CHECK_TEST(test_batchnorm_rejects))
