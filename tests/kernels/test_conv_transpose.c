/*
 * test_conv_transpose.c - ConvTranspose against a direct scatter loop
 * written here: 1-D/2-D/3-D, groups, strides, dilations, asymmetric pads,
 * output_padding, output_shape, auto_pad, bias, 1 and 3 tasks; the ONNX
 * documentation example; bad inputs.
 */
#include "nn_util.h"

typedef struct convt_case {
    int ns;
    int64_t batch, c_in, c_out, group;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out_pad[3];
    int64_t out_shape[3]; /* [0] == 0: not given */
    const char *auto_pad;
    int has_bias, n_tasks;
} convt_case;

static void expect_geometry(const convt_case *tc, int64_t *out, int64_t *pb)
{
    for (int i = 0; i < tc->ns; i++) {
        int64_t full = tc->s[i] * (tc->in[i] - 1) + tc->out_pad[i] + (tc->k[i] - 1) * tc->d[i] + 1;
        int upper = tc->auto_pad && strcmp(tc->auto_pad, "SAME_UPPER") == 0;
        if (tc->out_shape[0] || (tc->auto_pad && strncmp(tc->auto_pad, "SAME", 4) == 0)) {
            out[i] = tc->out_shape[0] ? tc->out_shape[i] : tc->in[i] * tc->s[i];
            int64_t total = full > out[i] ? full - out[i] : 0;
            pb[i] = upper ? total / 2 : total - total / 2;
        } else {
            pb[i] = tc->auto_pad ? 0 : tc->pb[i];
            out[i] = full - pb[i] - (tc->auto_pad ? 0 : tc->pe[i]);
        }
    }
}

static void direct_convt(const convt_case *tc, const float *x, const float *w, const float *b,
                         const int64_t *out, const int64_t *pad, double *y, int64_t count)
{
    int64_t i3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, s3[3] = {1, 1, 1},
            d3[3] = {1, 1, 1}, p3[3] = {0, 0, 0};
    for (int i = 0; i < tc->ns; i++) {
        int j = 3 - tc->ns + i;
        i3[j] = tc->in[i], o3[j] = out[i], k3[j] = tc->k[i], s3[j] = tc->s[i];
        d3[j] = tc->d[i], p3[j] = pad[i];
    }
    int64_t cig = tc->c_in / tc->group, cog = tc->c_out / tc->group;
    int64_t osz = o3[0] * o3[1] * o3[2];
    for (int64_t i = 0; i < count; i++)
        y[i] = b ? b[(i / osz) % tc->c_out] : 0.0;
    for (int64_t n = 0; n < tc->batch; n++)
        for (int64_t ci = 0; ci < tc->c_in; ci++)
            for (int64_t a = 0; a < i3[0]; a++)
                for (int64_t bb = 0; bb < i3[1]; bb++)
                    for (int64_t c = 0; c < i3[2]; c++) {
                        double xv = x[(((n * tc->c_in + ci) * i3[0] + a) * i3[1] + bb) * i3[2] + c];
                        int64_t grp = ci / cig;
                        for (int64_t m = 0; m < cog; m++)
                            for (int64_t u = 0; u < k3[0]; u++)
                                for (int64_t v = 0; v < k3[1]; v++)
                                    for (int64_t t = 0; t < k3[2]; t++) {
                                        int64_t o0 = a * s3[0] - p3[0] + u * d3[0];
                                        int64_t o1 = bb * s3[1] - p3[1] + v * d3[1];
                                        int64_t o2 = c * s3[2] - p3[2] + t * d3[2];
                                        if (o0 < 0 || o1 < 0 || o2 < 0 || o0 >= o3[0] ||
                                            o1 >= o3[1] || o2 >= o3[2])
                                            continue;
                                        double wv = w[(((ci * cog + m) * k3[0] + u) * k3[1] + v) * k3[2] + t];
                                        int64_t oc = grp * cog + m;
                                        y[(((n * tc->c_out + oc) * o3[0] + o0) * o3[1] + o1) * o3[2] + o2] += xv * wv;
                                    }
                    }
}

static int build_convt(evo_graph *g, const convt_case *tc)
{
    int64_t xd[5] = {tc->batch, tc->c_in}, wd[5] = {tc->c_in, tc->c_out / tc->group};
    for (int i = 0; i < tc->ns; i++) {
        xd[2 + i] = tc->in[i];
        wd[2 + i] = tc->k[i];
    }
    int ins[3] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 2 + tc->ns, xd),
                  nn_value(g, "W", EVO_DTYPE_FLOAT, 2 + tc->ns, wd),
                  tc->has_bias ? nn_value(g, "B", EVO_DTYPE_FLOAT, 1, &tc->c_out) : -1};
    int node = nn_node(g, "ConvTranspose", tc->has_bias ? 3 : 2, ins, 1);
    nn_attr_ints(g, node, "strides", tc->s, tc->ns);
    nn_attr_ints(g, node, "dilations", tc->d, tc->ns);
    nn_attr_ints(g, node, "output_padding", tc->out_pad, tc->ns);
    if (tc->out_shape[0])
        nn_attr_ints(g, node, "output_shape", tc->out_shape, tc->ns);
    if (tc->auto_pad) {
        nn_attr_string(g, node, "auto_pad", tc->auto_pad);
    } else if (!tc->out_shape[0]) {
        nn_attr_pads(g, node, tc->pb, tc->pe, tc->ns);
    }
    if (tc->group != 1)
        nn_attr_int(g, node, "group", tc->group);
    return node;
}

static void run_convt_case(check_rng *r, const convt_case *tc)
{
    char desc[256];
    snprintf(desc, sizeof(desc),
             "ns=%d N=%lld C=%lld M=%lld g=%lld in0=%lld k0=%lld s0=%lld d0=%lld pb0=%lld pe0=%lld "
             "op0=%lld os0=%lld auto=%s tasks=%d",
             tc->ns, (long long)tc->batch, (long long)tc->c_in, (long long)tc->c_out,
             (long long)tc->group, (long long)tc->in[0], (long long)tc->k[0], (long long)tc->s[0],
             (long long)tc->d[0], (long long)tc->pb[0], (long long)tc->pe[0],
             (long long)tc->out_pad[0], (long long)tc->out_shape[0],
             tc->auto_pad ? tc->auto_pad : "-", tc->n_tasks);
    evo_graph *g = evo_graph_new("test");
    int node = build_convt(g, tc);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    int64_t out[3], pad[3], count = tc->batch * tc->c_out, xn = tc->batch * tc->c_in;
    int64_t wn = tc->c_in * (tc->c_out / tc->group);
    expect_geometry(tc, out, pad);
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    for (int i = 0; i < tc->ns; i++) {
        CHECK_MSG(y->dims[2 + i] == out[i], "%s: dim %d = %lld, want %lld", desc, i,
                  (long long)y->dims[2 + i], (long long)out[i]);
        count *= out[i];
        xn *= tc->in[i];
        wn *= tc->k[i];
    }
    float *x = nn_random(r, xn), *w = nn_random(r, wn), *b = nn_random(r, tc->c_out);
    float *got = nn_random(r, count);
    double *want = malloc(sizeof(double) * (size_t)count);
    direct_convt(tc, x, w, tc->has_bias ? b : NULL, out, pad, want, count);
    void *ins[3] = {x, w, b}, *outs[1] = {got};
    nn_run(g, node, ins, outs, tc->n_tasks);
    CHECK_MSG(nn_compare(got, want, count, 1e-4, desc) == 0, "%s", desc);
    free(x);
    free(w);
    free(b);
    free(got);
    free(want);
    evo_graph_free(g);
}

static void test_convt_fixed(void)
{
    check_rng r = {0x7c01};
    static const convt_case cases[] = {
        /* ns N C M g  in       k       s       d       pb      pe      op      os */
        {2, 1, 1, 2, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {0}, {0}, {0}, {0}, NULL, 0, 1},
        {2, 1, 1, 2, 1, {3, 3}, {3, 3}, {3, 2}, {1, 1}, {0}, {0}, {1, 1}, {0}, NULL, 1, 3},
        {2, 1, 1, 2, 1, {3, 3}, {3, 3}, {3, 2}, {1, 1}, {1, 2}, {1, 2}, {0}, {0}, NULL, 0, 1},
        {2, 1, 1, 2, 1, {3, 3}, {3, 3}, {3, 2}, {1, 1}, {0}, {0}, {0}, {10, 8}, NULL, 0, 3},
        {2, 1, 1, 2, 1, {3, 3}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, {0}, {0}, "SAME_UPPER", 0, 1},
        {2, 1, 1, 2, 1, {3, 4}, {3, 2}, {2, 3}, {1, 1}, {0}, {0}, {0}, {0}, "SAME_LOWER", 1, 3},
        {2, 1, 1, 1, 1, {3, 3}, {2, 2}, {1, 1}, {2, 2}, {0}, {0}, {0}, {0}, NULL, 0, 1},
        {1, 2, 3, 4, 1, {7}, {3}, {2}, {1}, {1}, {0}, {1}, {0}, NULL, 1, 3},
        {3, 1, 1, 2, 1, {3, 4, 5}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, {0}, {0}, NULL, 0, 3},
        {2, 2, 4, 6, 2, {5, 4}, {3, 2}, {2, 2}, {1, 2}, {1, 0}, {0, 1}, {1, 0}, {0}, NULL, 1, 3},
        {2, 1, 6, 6, 6, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {0}, {0}, NULL, 1, 1},
        {2, 1, 40, 24, 1, {17, 19}, {2, 2}, {2, 2}, {1, 1}, {0}, {0}, {0}, {0}, NULL, 1, 3},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_convt_case(&r, &cases[i]);
}

static void test_convt_random(void)
{
    check_rng r = {0x7c02};
    for (int it = 0; it < 80; it++) {
        convt_case tc;
        memset(&tc, 0, sizeof(tc));
        tc.ns = check_rng_int(&r, 1, 3);
        tc.batch = check_rng_int(&r, 1, 2);
        tc.group = check_rng_int(&r, 1, 3);
        tc.c_in = tc.group * check_rng_int(&r, 1, 3);
        tc.c_out = tc.group * check_rng_int(&r, 1, 3);
        int mode = check_rng_int(&r, 0, 4);
        tc.auto_pad = mode == 3 ? "SAME_UPPER" : (mode == 4 ? "SAME_LOWER" : NULL);
        for (int i = 0; i < tc.ns; i++) {
            tc.in[i] = check_rng_int(&r, 1, tc.ns == 3 ? 5 : 9);
            tc.k[i] = check_rng_int(&r, 1, 4);
            tc.s[i] = check_rng_int(&r, 1, 3);
            tc.d[i] = check_rng_int(&r, 1, 2);
            tc.out_pad[i] = check_rng_int(&r, 0, (int)EVO_MAX(tc.s[i], tc.d[i]) - 1);
            tc.pb[i] = check_rng_int(&r, 0, (int)(tc.k[i] - 1));
            tc.pe[i] = check_rng_int(&r, 0, (int)(tc.k[i] - 1));
            int64_t full = tc.s[i] * (tc.in[i] - 1) + tc.out_pad[i] + (tc.k[i] - 1) * tc.d[i] + 1;
            tc.pb[i] = EVO_MIN(tc.pb[i], full - 1);
            tc.pe[i] = EVO_MIN(tc.pe[i], full - 1 - tc.pb[i]); /* keep >= 1 output */
        }
        if (mode == 2) {
            for (int i = 0; i < tc.ns; i++) {
                int64_t full = tc.s[i] * (tc.in[i] - 1) + tc.out_pad[i] + (tc.k[i] - 1) * tc.d[i] + 1;
                tc.out_shape[i] = full - check_rng_int(&r, 0, (int)EVO_MIN(full - 1, 3));
            }
        }
        if (mode >= 3)
            memset(tc.out_pad, 0, sizeof(tc.out_pad));
        tc.has_bias = check_rng_int(&r, 0, 1);
        tc.n_tasks = check_rng_int(&r, 1, 3);
        run_convt_case(&r, &tc);
    }
}

static void test_convt_hand_computed(void)
{
    /* ONNX ConvTranspose doc: X = 0..8 (3x3), W = ones(1,2,3,3): channel 0 output. */
    static const float want[25] = {0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15,
                                   9, 20, 33, 24, 13, 6, 13, 21, 15, 8};
    convt_case tc = {2, 1, 1, 2, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {0}, {0}, {0}, {0}, NULL, 0, 1};
    evo_graph *g = evo_graph_new("test");
    int node = build_convt(g, &tc);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    float x[9], w[18], y[50];
    for (int i = 0; i < 9; i++)
        x[i] = (float)i;
    for (int i = 0; i < 18; i++)
        w[i] = 1.0f;
    void *ins[2] = {x, w}, *outs[1] = {y};
    nn_run(g, node, ins, outs, 2);
    for (int i = 0; i < 25; i++) {
        CHECK_NEAR(y[i], want[i], 1e-5);
        CHECK_NEAR(y[25 + i], want[i], 1e-5);
    }
    evo_graph_free(g);
}

static void test_convt_bad_inputs(void)
{
    /* W's first dim must equal C. */
    evo_graph *g = evo_graph_new("test");
    int64_t xd[4] = {1, 4, 5, 5}, wd[4] = {3, 2, 3, 3};
    int ins[2] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd), nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd)};
    int node = nn_node(g, "ConvTranspose", 2, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "W shape"), "%s", err.msg);
    evo_graph_free(g);
    /* Pads that crop everything away. */
    g = evo_graph_new("test");
    int64_t xd2[4] = {1, 1, 2, 2}, wd2[4] = {1, 1, 2, 2}, pads[4] = {2, 0, 2, 0};
    int ins2[2] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd2),
                   nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd2)};
    node = nn_node(g, "ConvTranspose", 2, ins2, 1);
    nn_attr_ints(g, node, "pads", pads, 4);
    memset(&err, 0, sizeof(err));
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err), "%s", err.msg);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_convt_fixed), CHECK_TEST(test_convt_random),
           CHECK_TEST(test_convt_hand_computed), CHECK_TEST(test_convt_bad_inputs))
