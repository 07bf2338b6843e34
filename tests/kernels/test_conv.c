/*
 * test_conv.c - Conv import, shape inference and the reference kernel
 * against a direct nested-loop convolution written here: 1-D/2-D/3-D,
 * groups incl. depthwise, strides, dilations, asymmetric pads, auto_pad,
 * optional bias, fused residual + activation, 1 and 3 tasks; a
 * hand-computed case; bad inputs.
 */
#include "nn_util.h"
#include "kernels/sgemm.h"

typedef struct conv_case {
    int ns;                 /* spatial dims */
    int64_t batch, c_in, c_out, group;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
    const char *auto_pad;   /* NULL: explicit pads */
    int has_bias, set_kernel_attr, n_tasks;
} conv_case;

/* Output extent and begin pad per the ONNX rules, computed independently. */
static int64_t expect_out(const conv_case *tc, int i, int64_t *pad_begin)
{
    int64_t ext = (tc->k[i] - 1) * tc->d[i] + 1;
    if (tc->auto_pad && strncmp(tc->auto_pad, "SAME", 4) == 0) {
        int64_t out = (tc->in[i] + tc->s[i] - 1) / tc->s[i];
        int64_t total = (out - 1) * tc->s[i] + ext - tc->in[i];
        if (total < 0)
            total = 0;
        *pad_begin = strcmp(tc->auto_pad, "SAME_UPPER") == 0 ? total / 2 : (total + 1) / 2;
        return out;
    }
    if (tc->auto_pad) {
        *pad_begin = 0;
        return (tc->in[i] - ext) / tc->s[i] + 1;
    }
    *pad_begin = tc->pb[i];
    return (tc->in[i] + tc->pb[i] + tc->pe[i] - ext) / tc->s[i] + 1;
}

/* Direct convolution in double over padded-to-3-D coordinates. */
static void direct_conv(const conv_case *tc, const float *x, const float *w, const float *b,
                        const int64_t *out, const int64_t *pad, double *y)
{
    int64_t in3[3] = {1, 1, 1}, out3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, s3[3] = {1, 1, 1},
            d3[3] = {1, 1, 1}, p3[3] = {0, 0, 0};
    for (int i = 0; i < tc->ns; i++) {
        int j = 3 - tc->ns + i;
        in3[j] = tc->in[i], out3[j] = out[i], k3[j] = tc->k[i], s3[j] = tc->s[i];
        d3[j] = tc->d[i], p3[j] = pad[i];
    }
    int64_t cig = tc->c_in / tc->group, cog = tc->c_out / tc->group;
    for (int64_t n = 0; n < tc->batch; n++)
        for (int64_t m = 0; m < tc->c_out; m++)
            for (int64_t od = 0; od < out3[0]; od++)
                for (int64_t oh = 0; oh < out3[1]; oh++)
                    for (int64_t ow = 0; ow < out3[2]; ow++) {
                        double sum = b ? b[m] : 0.0;
                        int64_t grp = m / cog;
                        for (int64_t c = 0; c < cig; c++)
                            for (int64_t kd = 0; kd < k3[0]; kd++)
                                for (int64_t kh = 0; kh < k3[1]; kh++)
                                    for (int64_t kw = 0; kw < k3[2]; kw++) {
                                        int64_t id = od * s3[0] - p3[0] + kd * d3[0];
                                        int64_t ih = oh * s3[1] - p3[1] + kh * d3[1];
                                        int64_t iw = ow * s3[2] - p3[2] + kw * d3[2];
                                        if (id < 0 || id >= in3[0] || ih < 0 || ih >= in3[1] ||
                                            iw < 0 || iw >= in3[2])
                                            continue;
                                        int64_t ci = grp * cig + c;
                                        double xv = x[(((n * tc->c_in + ci) * in3[0] + id) * in3[1] + ih) * in3[2] + iw];
                                        double wv = w[(((m * cig + c) * k3[0] + kd) * k3[1] + kh) * k3[2] + kw];
                                        sum += xv * wv;
                                    }
                        y[(((n * tc->c_out + m) * out3[0] + od) * out3[1] + oh) * out3[2] + ow] = sum;
                    }
}

/* Builds the graph for tc and returns the node id; *x,*w,*b value ids through ids[]. */
static int build_conv(evo_graph *g, const conv_case *tc, int extra_inputs)
{
    int64_t xd[5] = {tc->batch, tc->c_in}, wd[5] = {tc->c_out, tc->c_in / tc->group};
    for (int i = 0; i < tc->ns; i++) {
        xd[2 + i] = tc->in[i];
        wd[2 + i] = tc->k[i];
    }
    int ins[4];
    ins[0] = nn_value(g, "X", EVO_DTYPE_FLOAT, 2 + tc->ns, xd);
    ins[1] = nn_value(g, "W", EVO_DTYPE_FLOAT, 2 + tc->ns, wd);
    ins[2] = tc->has_bias ? nn_value(g, "B", EVO_DTYPE_FLOAT, 1, &tc->c_out) : -1;
    ins[3] = -1;
    int n_in = tc->has_bias ? 3 : 2;
    int node = nn_node(g, "Conv", n_in + extra_inputs, ins, 1);
    nn_attr_ints(g, node, "strides", tc->s, tc->ns);
    nn_attr_ints(g, node, "dilations", tc->d, tc->ns);
    if (tc->set_kernel_attr)
        nn_attr_ints(g, node, "kernel_shape", tc->k, tc->ns);
    if (tc->auto_pad) {
        nn_attr_string(g, node, "auto_pad", tc->auto_pad);
    } else {
        nn_attr_pads(g, node, tc->pb, tc->pe, tc->ns);
    }
    if (tc->group != 1)
        nn_attr_int(g, node, "group", tc->group);
    return node;
}

static void describe(const conv_case *tc, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "ns=%d N=%lld C=%lld M=%lld group=%lld in=[%lld,%lld,%lld] k=[%lld,%lld,%lld] "
             "s=[%lld,%lld,%lld] d=[%lld,%lld,%lld] pb=[%lld,%lld,%lld] pe=[%lld,%lld,%lld] "
             "auto_pad=%s bias=%d tasks=%d",
             tc->ns, (long long)tc->batch, (long long)tc->c_in, (long long)tc->c_out,
             (long long)tc->group, (long long)tc->in[0], (long long)tc->in[1],
             (long long)tc->in[2], (long long)tc->k[0], (long long)tc->k[1], (long long)tc->k[2],
             (long long)tc->s[0], (long long)tc->s[1], (long long)tc->s[2], (long long)tc->d[0],
             (long long)tc->d[1], (long long)tc->d[2], (long long)tc->pb[0],
             (long long)tc->pb[1], (long long)tc->pb[2], (long long)tc->pe[0],
             (long long)tc->pe[1], (long long)tc->pe[2], tc->auto_pad ? tc->auto_pad : "-",
             tc->has_bias, tc->n_tasks);
}

static void run_conv_case(check_rng *r, const conv_case *tc)
{
    char desc[512];
    describe(tc, desc, sizeof(desc));
    evo_graph *g = evo_graph_new("test");
    int node = build_conv(g, tc, 0);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s != EVO_OK) {
        evo_graph_free(g);
        return;
    }
    int64_t out[3], pad[3], count = tc->batch * tc->c_out;
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK(y->rank == 2 + tc->ns && y->dims[0] == tc->batch && y->dims[1] == tc->c_out);
    for (int i = 0; i < tc->ns; i++) {
        out[i] = expect_out(tc, i, &pad[i]);
        CHECK_MSG(y->dims[2 + i] == out[i], "%s: out dim %d = %lld, want %lld", desc, i,
                  (long long)y->dims[2 + i], (long long)out[i]);
        count *= out[i];
    }
    int64_t wn = tc->c_out * (tc->c_in / tc->group), xn = tc->batch * tc->c_in;
    for (int i = 0; i < tc->ns; i++) {
        wn *= tc->k[i];
        xn *= tc->in[i];
    }
    float *x = nn_random(r, xn), *w = nn_random(r, wn), *b = nn_random(r, tc->c_out);
    float *got = nn_random(r, count);
    double *want = malloc(sizeof(double) * (size_t)count);
    direct_conv(tc, x, w, tc->has_bias ? b : NULL, out, pad, want);
    void *ins[3] = {x, w, b}, *outs[1] = {got};
    nn_run(g, node, ins, outs, tc->n_tasks);
    int bad = nn_compare(got, want, count, 1e-4, desc);
    CHECK_MSG(bad == 0, "%s: %d mismatches", desc, bad);
    free(x);
    free(w);
    free(b);
    free(got);
    free(want);
    evo_graph_free(g);
}

static void test_conv_hand_computed(void)
{
    /* X = 1..9 (3x3), W = ones 2x2, pads top/left 1, stride 2: windows sum
     * {x00}, {x01,x02}, {x10,x20}, {x11,x12,x21,x22}. */
    evo_graph *g = evo_graph_new("test");
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, one = 1;
    int ins[3] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd), nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd),
                  nn_value(g, "B", EVO_DTYPE_FLOAT, 1, &one)};
    int node = nn_node(g, "Conv", 3, ins, 1);
    int64_t pads[4] = {1, 1, 0, 0}, strides[2] = {2, 2};
    nn_attr_ints(g, node, "pads", pads, 4);
    nn_attr_ints(g, node, "strides", strides, 2);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK(y->rank == 4 && y->dims[2] == 2 && y->dims[3] == 2);
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, b[1] = {0.5f}, out[4];
    void *in_data[3] = {x, w, b}, *out_data[1] = {out};
    nn_run(g, node, in_data, out_data, 1);
    CHECK_NEAR(out[0], 1.5, 1e-6);
    CHECK_NEAR(out[1], 5.5, 1e-6);
    CHECK_NEAR(out[2], 11.5, 1e-6);
    CHECK_NEAR(out[3], 28.5, 1e-6);
    evo_graph_free(g);
}

static void test_conv_fixed(void)
{
    check_rng r = {0xc0417};
    static const conv_case cases[] = {
        /* ns N  C  M  grp  in          k          s          d          pb         pe */
        {2, 1, 3, 8, 1, {13, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, 1, 1},
        {2, 2, 4, 6, 2, {7, 9}, {3, 2}, {2, 3}, {1, 1}, {1, 0}, {0, 2}, NULL, 1, 0, 3},
        {2, 1, 6, 6, 6, {11, 7}, {3, 3}, {2, 1}, {2, 1}, {2, 1}, {1, 0}, NULL, 1, 1, 3},
        {2, 1, 4, 8, 4, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 0, 0, 1},
        {2, 2, 5, 7, 1, {6, 5}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, NULL, 1, 1, 3},
        {2, 1, 5, 7, 1, {6, 5}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, NULL, 0, 0, 3},
        {2, 1, 3, 4, 1, {5, 5}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, "SAME_LOWER", 0, 1, 1},
        {2, 1, 3, 4, 1, {6, 7}, {4, 3}, {3, 2}, {1, 1}, {0}, {0}, "SAME_UPPER", 1, 0, 3},
        {2, 1, 2, 3, 1, {8, 7}, {3, 2}, {2, 2}, {2, 1}, {0}, {0}, "VALID", 1, 1, 1},
        {1, 2, 3, 5, 1, {17}, {3}, {2}, {2}, {1}, {2}, NULL, 1, 0, 3},
        {3, 1, 2, 3, 1, {5, 6, 7}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1}, {0, 1, 1}, NULL,
         1, 1, 3},
        {3, 2, 4, 4, 2, {3, 4, 5}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, NULL, 1, 0, 1},
        /* larger than one im2col chunk / several GEMM blocks */
        {2, 1, 32, 130, 1, {37, 41}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, 0, 3},
        {2, 1, 300, 20, 1, {11, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, 0, 1},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_conv_case(&r, &cases[i]);
}

static void test_conv_random(void)
{
    check_rng r = {0xc0418};
    static const char *const pads_mode[] = {NULL, NULL, NULL, "SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int it = 0; it < 120; it++) {
        conv_case tc;
        memset(&tc, 0, sizeof(tc));
        tc.ns = check_rng_int(&r, 1, 3);
        tc.batch = check_rng_int(&r, 1, 2);
        int kind = check_rng_int(&r, 0, 2); /* dense, grouped, depthwise */
        tc.group = kind == 0 ? 1 : (kind == 1 ? check_rng_int(&r, 2, 3) : check_rng_int(&r, 2, 5));
        tc.c_in = kind == 2 ? tc.group : tc.group * check_rng_int(&r, 1, 4);
        tc.c_out = tc.group * (kind == 2 ? check_rng_int(&r, 1, 2) : check_rng_int(&r, 1, 5));
        tc.auto_pad = pads_mode[check_rng_int(&r, 0, 5)];
        int max_in = tc.ns == 3 ? 7 : (tc.ns == 2 ? 13 : 29);
        for (int i = 0; i < tc.ns; i++) {
            tc.k[i] = check_rng_int(&r, 1, tc.ns == 3 ? 3 : 4);
            tc.s[i] = check_rng_int(&r, 1, 3);
            tc.d[i] = check_rng_int(&r, 1, 2);
            tc.pb[i] = check_rng_int(&r, 0, 2);
            tc.pe[i] = check_rng_int(&r, 0, 2);
            int64_t ext = (tc.k[i] - 1) * tc.d[i] + 1;
            tc.in[i] = check_rng_int(&r, (int)ext, max_in);
        }
        tc.has_bias = check_rng_int(&r, 0, 1);
        tc.set_kernel_attr = check_rng_int(&r, 0, 1);
        tc.n_tasks = (it % 2) ? 3 : 1;
        run_conv_case(&r, &tc);
    }
}

static void test_conv_fused_epilogue(void)
{
    /* Residual add then SiLU, as the fusion passes will set them. */
    check_rng r = {0xc0419};
    conv_case tc = {2, 1, 4, 6, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, 1, 3};
    evo_graph *g = evo_graph_new("test");
    int node = build_conv(g, &tc, 1);
    int64_t yd[4] = {1, 6, 9, 8};
    g->nodes[node].in[3] = nn_value(g, "R", EVO_DTYPE_FLOAT, 4, yd);
    evo_node *n = &g->nodes[node];
    const evo_op_def *def = evo_op_get(n->op);
    evo_error err = {0};
    CHECK(def->import(g, n, &err) == EVO_OK);
    n->a.conv.has_residual = true;
    n->a.conv.act = EVO_ACT_SILU;
    CHECK_MSG(def->infer(g, n, &err) == EVO_OK, "%s", err.msg);
    int64_t count = 6 * 9 * 8, pad[2] = {1, 1}, out[2] = {9, 8};
    float *x = nn_random(&r, 4 * 72), *w = nn_random(&r, 6 * 4 * 9), *b = nn_random(&r, 6);
    float *res = nn_random(&r, count), *got = nn_random(&r, count);
    double *want = malloc(sizeof(double) * (size_t)count);
    direct_conv(&tc, x, w, b, out, pad, want);
    for (int64_t i = 0; i < count; i++) {
        double v = want[i] + res[i];
        want[i] = v / (1.0 + exp(-v));
    }
    void *ins[4] = {x, w, b, res}, *outs[1] = {got};
    nn_run(g, node, ins, outs, 3);
    CHECK(nn_compare(got, want, count, 1e-4, "conv+residual+silu") == 0);
    free(x);
    free(w);
    free(b);
    free(res);
    free(got);
    free(want);
    evo_graph_free(g);
}

static evo_status infer_shapes(const int64_t *xd, int xr, const int64_t *wd, int wr, int64_t group,
                               const int64_t *pads, int n_pads, evo_error *err)
{
    evo_graph *g = evo_graph_new("test");
    int ins[2] = {nn_value(g, "X", EVO_DTYPE_FLOAT, xr, xd), nn_value(g, "W", EVO_DTYPE_FLOAT, wr, wd)};
    int node = nn_node(g, "Conv", 2, ins, 1);
    if (group != 1)
        nn_attr_int(g, node, "group", group);
    if (n_pads)
        nn_attr_ints(g, node, "pads", pads, n_pads);
    evo_status s = nn_infer(g, node, err);
    evo_graph_free(g);
    return s;
}

static void test_conv_bad_inputs(void)
{
    evo_error err;
    int64_t x[4] = {1, 8, 5, 5}, w_ok[4] = {4, 4, 3, 3}, w_bad[4] = {4, 3, 3, 3};
    int64_t w_big[4] = {4, 8, 7, 3}, pads[4] = {1, 0, 1, 0};
    CHECK(infer_shapes(x, 4, w_ok, 4, 2, NULL, 0, &err) == EVO_OK);
    /* W channels do not match C/group. */
    memset(&err, 0, sizeof(err));
    CHECK(infer_shapes(x, 4, w_bad, 4, 2, NULL, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "C/group"), "%s", err.msg);
    /* M not a multiple of group. */
    memset(&err, 0, sizeof(err));
    CHECK(infer_shapes(x, 4, w_ok, 4, 3, NULL, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err), "%s", err.msg);
    /* Kernel 7 > padded input 5 + 1 + 1 = 7 is fine; 5 + 0 + 0 is not. */
    memset(&err, 0, sizeof(err));
    CHECK(infer_shapes(x, 4, w_big, 4, 1, pads, 4, &err) == EVO_OK);
    CHECK(infer_shapes(x, 4, w_big, 4, 1, NULL, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "exceeds the padded input"), "%s", err.msg);
    /* Wrong ranks. */
    memset(&err, 0, sizeof(err));
    CHECK(infer_shapes(x, 2, w_ok, 2, 1, NULL, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "rank"), "%s", err.msg);
    memset(&err, 0, sizeof(err));
    CHECK(infer_shapes(x, 4, w_ok, 3, 2, NULL, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "rank"), "%s", err.msg);
    /* pads with the wrong spatial count. */
    memset(&err, 0, sizeof(err));
    CHECK(infer_shapes(x, 4, w_ok, 4, 2, pads, 2, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err), "%s", err.msg);
}

CHECK_MAIN(CHECK_TEST(test_conv_hand_computed), CHECK_TEST(test_conv_fixed),
           CHECK_TEST(test_conv_random), CHECK_TEST(test_conv_fused_epilogue),
           CHECK_TEST(test_conv_bad_inputs))
