/*
 * test_pooling.c - MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool
 * against direct loops written here: 1-D/2-D/3-D, strides, dilations,
 * asymmetric pads, auto_pad, ceil_mode, count_include_pad, Indices with
 * both storage orders, uint8, 1 and 3 tasks; hand-computed cases from the
 * ONNX operator documentation; bad inputs.
 */
#include "nn_util.h"

#include <float.h>

typedef struct pool_case {
    int is_max, ns;
    int64_t batch, chans;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
    const char *auto_pad;
    int ceil_mode, count_include_pad, storage_order, with_indices, n_tasks;
} pool_case;

/* Output extent and begin pad by the ONNX/PyTorch rules. */
static int64_t pool_out(const pool_case *tc, int i, int64_t *pb, int64_t *pe)
{
    int64_t ext = (tc->k[i] - 1) * tc->d[i] + 1;
    if (tc->auto_pad && strncmp(tc->auto_pad, "SAME", 4) == 0) {
        int64_t out = (tc->in[i] + tc->s[i] - 1) / tc->s[i];
        int64_t total = (out - 1) * tc->s[i] + ext - tc->in[i];
        total = total < 0 ? 0 : total;
        *pb = strcmp(tc->auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
        *pe = total - *pb;
        return out;
    }
    *pb = tc->auto_pad ? 0 : tc->pb[i];
    *pe = tc->auto_pad ? 0 : tc->pe[i];
    int64_t span = tc->in[i] + *pb + *pe - ext;
    int64_t out = (tc->ceil_mode ? (span + tc->s[i] - 1) / tc->s[i] : span / tc->s[i]) + 1;
    if (tc->ceil_mode && (out - 1) * tc->s[i] >= tc->in[i] + *pb)
        out--;
    return out;
}

static void direct_pool(const pool_case *tc, const float *x, const int64_t *out,
                        const int64_t *pb, const int64_t *pe, double *y, int64_t *ind)
{
    int64_t i3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, s3[3] = {1, 1, 1},
            d3[3] = {1, 1, 1}, b3[3] = {0, 0, 0}, e3[3] = {0, 0, 0};
    for (int i = 0; i < tc->ns; i++) {
        int j = 3 - tc->ns + i;
        i3[j] = tc->in[i], o3[j] = out[i], k3[j] = tc->k[i], s3[j] = tc->s[i];
        d3[j] = tc->d[i], b3[j] = pb[i], e3[j] = pe[i];
    }
    int64_t plane = i3[0] * i3[1] * i3[2], yi = 0;
    for (int64_t nc = 0; nc < tc->batch * tc->chans; nc++)
        for (int64_t a = 0; a < o3[0]; a++)
            for (int64_t b = 0; b < o3[1]; b++)
                for (int64_t c = 0; c < o3[2]; c++, yi++) {
                    double best = -DBL_MAX, sum = 0.0;
                    int64_t n_in = 0, n_pad = 0, arg = -1;
                    for (int64_t u = 0; u < k3[0]; u++)
                        for (int64_t v = 0; v < k3[1]; v++)
                            for (int64_t w = 0; w < k3[2]; w++) {
                                int64_t p0 = a * s3[0] - b3[0] + u * d3[0];
                                int64_t p1 = b * s3[1] - b3[1] + v * d3[1];
                                int64_t p2 = c * s3[2] - b3[2] + w * d3[2];
                                if (p0 < i3[0] + e3[0] && p1 < i3[1] + e3[1] && p2 < i3[2] + e3[2])
                                    n_pad++;
                                if (p0 < 0 || p1 < 0 || p2 < 0 || p0 >= i3[0] || p1 >= i3[1] ||
                                    p2 >= i3[2])
                                    continue;
                                double xv = x[nc * plane + (p0 * i3[1] + p1) * i3[2] + p2];
                                n_in++;
                                sum += xv;
                                if (xv > best) {
                                    best = xv;
                                    arg = tc->storage_order ? p0 + p1 * i3[0] + p2 * i3[0] * i3[1]
                                                            : (p0 * i3[1] + p1) * i3[2] + p2;
                                }
                            }
                    if (tc->is_max) {
                        y[yi] = best;
                        if (ind)
                            ind[yi] = nc * plane + arg;
                    } else {
                        y[yi] = sum / (double)(tc->count_include_pad ? n_pad : n_in);
                    }
                }
}

static int build_pool(evo_graph *g, const pool_case *tc)
{
    int64_t xd[5] = {tc->batch, tc->chans};
    for (int i = 0; i < tc->ns; i++)
        xd[2 + i] = tc->in[i];
    int x = nn_value(g, "X", EVO_DTYPE_FLOAT, 2 + tc->ns, xd);
    int node = nn_node(g, tc->is_max ? "MaxPool" : "AveragePool", 1, &x,
                       tc->with_indices ? 2 : 1);
    nn_attr_ints(g, node, "kernel_shape", tc->k, tc->ns);
    nn_attr_ints(g, node, "strides", tc->s, tc->ns);
    if (tc->is_max)
        nn_attr_ints(g, node, "dilations", tc->d, tc->ns);
    if (tc->auto_pad) {
        nn_attr_string(g, node, "auto_pad", tc->auto_pad);
    } else {
        nn_attr_pads(g, node, tc->pb, tc->pe, tc->ns);
    }
    nn_attr_int(g, node, "ceil_mode", tc->ceil_mode);
    if (!tc->is_max)
        nn_attr_int(g, node, "count_include_pad", tc->count_include_pad);
    if (tc->storage_order)
        nn_attr_int(g, node, "storage_order", 1);
    return node;
}

static void run_pool_case(check_rng *r, const pool_case *tc)
{
    char desc[400];
    snprintf(desc, sizeof(desc),
             "%s ns=%d in=[%lld,%lld,%lld] k=[%lld,%lld,%lld] s=[%lld,%lld,%lld] "
             "d=[%lld,%lld,%lld] pb=[%lld,%lld,%lld] pe=[%lld,%lld,%lld] auto=%s ceil=%d incl=%d "
             "order=%d tasks=%d",
             tc->is_max ? "max" : "avg", tc->ns, (long long)tc->in[0], (long long)tc->in[1],
             (long long)tc->in[2], (long long)tc->k[0], (long long)tc->k[1], (long long)tc->k[2],
             (long long)tc->s[0], (long long)tc->s[1], (long long)tc->s[2], (long long)tc->d[0],
             (long long)tc->d[1], (long long)tc->d[2], (long long)tc->pb[0],
             (long long)tc->pb[1], (long long)tc->pb[2], (long long)tc->pe[0],
             (long long)tc->pe[1], (long long)tc->pe[2], tc->auto_pad ? tc->auto_pad : "-",
             tc->ceil_mode, tc->count_include_pad, tc->storage_order, tc->n_tasks);
    evo_graph *g = evo_graph_new("test");
    int node = build_pool(g, tc);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    int64_t out[3], pb[3], pe[3], count = tc->batch * tc->chans, xn = count;
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    for (int i = 0; i < tc->ns; i++) {
        out[i] = pool_out(tc, i, &pb[i], &pe[i]);
        CHECK_MSG(y->dims[2 + i] == out[i], "%s: dim %d = %lld, want %lld", desc, i,
                  (long long)y->dims[2 + i], (long long)out[i]);
        count *= out[i];
        xn *= tc->in[i];
    }
    float *x = nn_random(r, xn), *got = nn_random(r, count);
    double *want = malloc(sizeof(double) * (size_t)count);
    int64_t *ind = malloc(sizeof(int64_t) * (size_t)count);
    int64_t *want_ind = malloc(sizeof(int64_t) * (size_t)count);
    direct_pool(tc, x, out, pb, pe, want, want_ind);
    void *ins[1] = {x}, *outs[2] = {got, ind};
    nn_run(g, node, ins, outs, tc->n_tasks);
    CHECK_MSG(nn_compare(got, want, count, 1e-5, desc) == 0, "%s", desc);
    if (tc->with_indices) {
        int bad = 0;
        for (int64_t i = 0; i < count; i++)
            bad += ind[i] != want_ind[i];
        CHECK_MSG(bad == 0, "%s: %d wrong indices", desc, bad);
    }
    free(x);
    free(got);
    free(want);
    free(ind);
    free(want_ind);
    evo_graph_free(g);
}

static void test_pool_fixed(void)
{
    check_rng r = {0x9001};
    static const pool_case cases[] = {
        /* max ns N C  in         k       s       d       pb      pe */
        {1, 2, 1, 3, {32, 32}, {5, 5}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, NULL, 0, 0, 0, 0, 1},
        {0, 2, 2, 3, {7, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 0}, {2, 1}, NULL, 0, 0, 0, 0, 3},
        {0, 2, 2, 3, {7, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 0}, {2, 1}, NULL, 0, 1, 0, 0, 3},
        {0, 2, 1, 2, {6, 7}, {3, 2}, {2, 3}, {1, 1}, {1, 1}, {0, 1}, NULL, 1, 1, 0, 0, 1},
        {1, 2, 1, 2, {6, 7}, {3, 2}, {2, 3}, {2, 2}, {1, 1}, {0, 1}, NULL, 1, 0, 0, 1, 3},
        {1, 2, 1, 2, {5, 5}, {2, 2}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, NULL, 0, 0, 1, 1, 1},
        {1, 2, 1, 4, {20, 20}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, NULL, 0, 0, 0, 0, 3},
        {1, 2, 1, 3, {9, 8}, {2, 3}, {1, 2}, {1, 1}, {0}, {0}, "SAME_UPPER", 0, 0, 0, 0, 1},
        {0, 2, 1, 3, {9, 8}, {2, 3}, {1, 2}, {1, 1}, {0}, {0}, "SAME_LOWER", 0, 0, 0, 0, 3},
        {0, 1, 2, 3, {31}, {4}, {3}, {1}, {2}, {1}, NULL, 1, 0, 0, 0, 3},
        {1, 3, 1, 2, {5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 2, 1}, {1, 0, 1}, {0, 1, 1}, NULL, 1,
         0, 1, 1, 3},
        {0, 3, 1, 2, {5, 6, 7}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, "VALID", 0, 0, 0, 0,
         1},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_pool_case(&r, &cases[i]);
}

static void test_pool_random(void)
{
    check_rng r = {0x9002};
    static const char *const modes[] = {NULL, NULL, NULL, "SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int it = 0; it < 150; it++) {
        pool_case tc;
        memset(&tc, 0, sizeof(tc));
        tc.is_max = it % 2;
        tc.ns = check_rng_int(&r, 1, 3);
        tc.batch = check_rng_int(&r, 1, 2);
        tc.chans = check_rng_int(&r, 1, 5);
        tc.auto_pad = modes[check_rng_int(&r, 0, 5)];
        tc.ceil_mode = tc.auto_pad ? 0 : check_rng_int(&r, 0, 1);
        tc.count_include_pad = check_rng_int(&r, 0, 1);
        tc.storage_order = tc.is_max ? check_rng_int(&r, 0, 1) : 0;
        tc.with_indices = tc.is_max ? check_rng_int(&r, 0, 1) : 0;
        for (int i = 0; i < tc.ns; i++) {
            tc.k[i] = check_rng_int(&r, 1, 4);
            tc.s[i] = check_rng_int(&r, 1, 3);
            tc.d[i] = tc.is_max ? check_rng_int(&r, 1, 2) : 1;
            /* pads smaller than the kernel, so no window is all padding */
            tc.pb[i] = check_rng_int(&r, 0, (int)tc.k[i] - 1);
            tc.pe[i] = check_rng_int(&r, 0, (int)tc.k[i] - 1);
            tc.in[i] = check_rng_int(&r, (int)((tc.k[i] - 1) * tc.d[i] + 1), tc.ns == 3 ? 8 : 17);
        }
        tc.n_tasks = check_rng_int(&r, 1, 3);
        run_pool_case(&r, &tc);
    }
}

static void test_pool_hand_computed(void)
{
    /* From the ONNX MaxPool/AveragePool docs: 4x4 of 1..16, kernel 3, stride 2, ceil_mode. */
    float x[16], got[4];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    for (int is_max = 0; is_max < 2; is_max++) {
        pool_case tc = {is_max, 2, 1, 1, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, NULL, 1, 0,
                        0, 0, 1};
        evo_graph *g = evo_graph_new("test");
        int node = build_pool(g, &tc);
        evo_error err = {0};
        CHECK(nn_infer(g, node, &err) == EVO_OK);
        void *ins[1] = {x}, *outs[1] = {got};
        nn_run(g, node, ins, outs, 1);
        static const float want_max[4] = {11, 12, 15, 16}, want_avg[4] = {6, 7.5f, 12, 13.5f};
        for (int i = 0; i < 4; i++)
            CHECK_NEAR(got[i], is_max ? want_max[i] : want_avg[i], 1e-6);
        evo_graph_free(g);
    }
    /* uint8 MaxPool, 5x5 of 1..25, kernel 5, pads 2: the max of the clipped window. */
    uint8_t xb[25], yb[25];
    for (int i = 0; i < 25; i++)
        xb[i] = (uint8_t)(i + 1);
    evo_graph *g = evo_graph_new("test");
    int64_t xd[4] = {1, 1, 5, 5}, k[2] = {5, 5}, pads[4] = {2, 2, 2, 2};
    int xv = nn_value(g, "X", EVO_DTYPE_UINT8, 4, xd);
    int node = nn_node(g, "MaxPool", 1, &xv, 1);
    nn_attr_ints(g, node, "kernel_shape", k, 2);
    nn_attr_ints(g, node, "pads", pads, 4);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    CHECK(g->values[g->nodes[node].out[0]].dtype == EVO_DTYPE_UINT8);
    void *ins[1] = {xb}, *outs[1] = {yb};
    nn_run(g, node, ins, outs, 2);
    static const uint8_t want[5] = {13, 14, 15, 15, 15};
    for (int i = 0; i < 5; i++) {
        CHECK(yb[i] == want[i]);
        CHECK(yb[20 + i] == 25 - (i < 2 ? 2 - i : 0));
    }
    evo_graph_free(g);
}

static void test_global_pool(void)
{
    check_rng r = {0x9003};
    for (int it = 0; it < 12; it++) {
        int rank = 3 + it % 3, is_max = it % 2;
        int64_t dims[5] = {check_rng_int(&r, 1, 2), check_rng_int(&r, 1, 7)}, plane = 1;
        for (int i = 2; i < rank; i++) {
            dims[i] = check_rng_int(&r, 1, 9);
            plane *= dims[i];
        }
        evo_graph *g = evo_graph_new("test");
        int xv = nn_value(g, "X", EVO_DTYPE_FLOAT, rank, dims);
        int node = nn_node(g, is_max ? "GlobalMaxPool" : "GlobalAveragePool", 1, &xv, 1);
        evo_error err = {0};
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
        const evo_value *y = &g->values[g->nodes[node].out[0]];
        CHECK(y->rank == rank && y->dims[0] == dims[0] && y->dims[1] == dims[1]);
        for (int i = 2; i < rank; i++)
            CHECK(y->dims[i] == 1);
        int64_t planes = dims[0] * dims[1];
        float *x = nn_random(&r, planes * plane), *got = nn_random(&r, planes);
        double *want = malloc(sizeof(double) * (size_t)planes);
        for (int64_t p = 0; p < planes; p++) {
            double acc = is_max ? -DBL_MAX : 0.0;
            for (int64_t i = 0; i < plane; i++) {
                double v = x[p * plane + i];
                acc = is_max ? (v > acc ? v : acc) : acc + v;
            }
            want[p] = is_max ? acc : acc / (double)plane;
        }
        void *ins[1] = {x}, *outs[1] = {got};
        nn_run(g, node, ins, outs, 1 + it % 3);
        CHECK(nn_compare(got, want, planes, 1e-5, is_max ? "globalmax" : "globalavg") == 0);
        free(x);
        free(got);
        free(want);
        evo_graph_free(g);
    }
}

static void test_pool_bad_inputs(void)
{
    evo_error err = {0};
    /* Kernel larger than the padded input. */
    pool_case tc = {1, 2, 1, 1, {4, 4}, {6, 3}, {1, 1}, {1, 1}, {1, 0}, {0, 0}, NULL, 0, 0, 0, 0, 1};
    evo_graph *g = evo_graph_new("test");
    int node = build_pool(g, &tc);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "exceeds"), "%s", err.msg);
    evo_graph_free(g);
    /* kernel_shape length does not match the input rank. */
    memset(&err, 0, sizeof(err));
    g = evo_graph_new("test");
    int64_t xd[5] = {1, 1, 4, 4, 4};
    int xv = nn_value(g, "X", EVO_DTYPE_FLOAT, 5, xd);
    node = nn_node(g, "AveragePool", 1, &xv, 1);
    nn_attr_ints(g, node, "kernel_shape", tc.k, 2);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err), "%s", err.msg);
    evo_graph_free(g);
    /* kernel_shape missing; X of rank 2. */
    memset(&err, 0, sizeof(err));
    g = evo_graph_new("test");
    xv = nn_value(g, "X", EVO_DTYPE_FLOAT, 2, xd);
    node = nn_node(g, "MaxPool", 1, &xv, 1);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_PARSE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "kernel_shape"), "%s", err.msg);
    nn_attr_ints(g, node, "kernel_shape", tc.k, 1);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "rank"), "%s", err.msg);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_pool_fixed), CHECK_TEST(test_pool_random),
           CHECK_TEST(test_pool_hand_computed), CHECK_TEST(test_global_pool),
           CHECK_TEST(test_pool_bad_inputs))
