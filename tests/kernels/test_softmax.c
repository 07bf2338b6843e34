/*
 * test_softmax.c - Softmax and LogSoftmax against a naive double model on
 * random shapes (prime sizes, inner extents above the kernel's column
 * block) and every axis, in both the opset-13 one-axis form and the older
 * coerce-to-2-D form, as 1 and 3 tasks; hand-computed values including the
 * large-number case; bad input.
 */
#include "kernels/nn_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Expected output: groups are the axis (new) or the flat tail from axis on (legacy). */
static void naive_softmax(const double *x, double *y, int rank, const int64_t *dims, int axis,
                          bool legacy, bool is_log)
{
    int64_t outer = 1, n = 1, inner = 1;
    for (int d = 0; d < rank; d++) {
        if (d < axis)
            outer *= dims[d];
        else if (d == axis || legacy)
            n *= dims[d];
        else
            inner *= dims[d];
    }
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t k = 0; k < n; k++)
                mx = fmax(mx, x[(o * n + k) * inner + i]);
            for (int64_t k = 0; k < n; k++)
                sum += exp(x[(o * n + k) * inner + i] - mx);
            for (int64_t k = 0; k < n; k++) {
                double v = x[(o * n + k) * inner + i] - mx;
                y[(o * n + k) * inner + i] = is_log ? v - log(sum) : exp(v) / sum;
            }
        }
    }
}

static void run_case(check_rng *r, const char *op, evo_dtype t, int opset, int n_tasks)
{
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 67, 131};
    int rank = check_rng_int(r, 1, 4);
    int64_t dims[EVO_MAX_RANK], count = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = sizes[check_rng_int(r, 0, 7)];
        if (count * dims[d] > 20000)
            dims[d] = 3;
        count *= dims[d];
    }
    bool has_axis = check_rng_int(r, 0, 3) != 0;
    int axis_attr = check_rng_int(r, -rank, rank - 1);
    bool legacy = opset < 13;
    int axis = has_axis ? (axis_attr < 0 ? axis_attr + rank : axis_attr) : (legacy ? 1 : rank - 1);
    if (!has_axis && legacy && rank < 2)
        has_axis = true, axis_attr = axis = 0;
    evo_graph *g = evo_graph_new("test");
    g->opset = opset;
    int x = nn_value(g, "x", t, rank, dims);
    int node = nn_node(g, op, 1, &x, 1);
    if (has_axis)
        nn_attr_int(g, node, "axis", axis_attr);
    char desc[200];
    snprintf(desc, sizeof(desc), "%s %s opset %d rank %d axis %d tasks %d", op, evo_dtype_name(t),
             opset, rank, axis, n_tasks);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK(y->dtype == t && y->rank == rank && !memcmp(y->dims, dims, sizeof(int64_t) * (size_t)rank));
    double *xd = malloc(sizeof(double) * (size_t)count), *want = malloc(sizeof(double) * (size_t)count);
    void *in = malloc(8 * (size_t)count), *out = malloc(8 * (size_t)count);
    for (int64_t i = 0; i < count; i++) {
        float v = check_rng_float(r, -8.0f, 8.0f);
        xd[i] = v;
        if (t == EVO_DTYPE_FLOAT)
            ((float *)in)[i] = v;
        else
            ((double *)in)[i] = v;
    }
    naive_softmax(xd, want, rank, dims, axis, legacy, !strcmp(op, "LogSoftmax"));
    void *ins[1] = {in}, *outs[1] = {out};
    nn_run(g, node, ins, outs, n_tasks);
    int bad = 0;
    double tol = t == EVO_DTYPE_FLOAT ? 2e-5 : 1e-12;
    for (int64_t i = 0; i < count; i++) {
        double got = t == EVO_DTYPE_FLOAT ? ((float *)out)[i] : ((double *)out)[i];
        if (!(fabs(got - want[i]) <= tol * (1 + fabs(want[i]))) && bad++ < 3)
            fprintf(stderr, "%s: element %lld = %.9g, want %.9g\n", desc, (long long)i, got, want[i]);
    }
    CHECK_MSG(bad == 0, "%s: %d mismatches", desc, bad);
    free(xd);
    free(want);
    free(in);
    free(out);
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0x50f7};
    static const char *ops[] = {"Softmax", "LogSoftmax"};
    for (int o = 0; o < 2; o++) {
        for (int rep = 0; rep < 30; rep++) {
            run_case(&r, ops[o], EVO_DTYPE_FLOAT, 13, 1);
            run_case(&r, ops[o], EVO_DTYPE_FLOAT, 13, 3);
            run_case(&r, ops[o], EVO_DTYPE_FLOAT, 11, 3);
        }
        for (int rep = 0; rep < 5; rep++) {
            run_case(&r, ops[o], EVO_DTYPE_DOUBLE, 13, 2);
            run_case(&r, ops[o], EVO_DTYPE_DOUBLE, 11, 1);
        }
    }
}

static void test_hand_computed(void)
{
    // softmax([1,2,3]) and the same shifted by 1000 (ONNX test_softmax_large_number)
    float x[6] = {1, 2, 3, 1000, 1001, 1002}, y[6];
    static const double sm[3] = {0.09003057317, 0.24472847105, 0.66524095577};
    static const double lsm[3] = {-2.40760596445, -1.40760596445, -0.40760596445};
    for (int is_log = 0; is_log < 2; is_log++) {
        evo_graph *g = evo_graph_new("test");
        g->opset = 13;
        int64_t dims[2] = {2, 3};
        int xv = nn_value(g, "x", EVO_DTYPE_FLOAT, 2, dims);
        int node = nn_node(g, is_log ? "LogSoftmax" : "Softmax", 1, &xv, 1);
        evo_error err = {0};
        CHECK(nn_infer(g, node, &err) == EVO_OK);
        void *ins[1] = {x}, *outs[1] = {y};
        nn_run(g, node, ins, outs, 2);
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(y[i], is_log ? lsm[i % 3] : sm[i % 3], 1e-6);
        evo_graph_free(g);
    }
    // legacy default axis 1 on [2,1,3] covers [1,3] per row: the same numbers
    evo_graph *g = evo_graph_new("test");
    g->opset = 11;
    int64_t dims[3] = {2, 1, 3};
    int xv = nn_value(g, "x", EVO_DTYPE_FLOAT, 3, dims);
    int node = nn_node(g, "Softmax", 1, &xv, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    CHECK(g->nodes[node].a.axis.axis == 1 && g->nodes[node].a.axis.legacy);
    void *ins[1] = {x}, *outs[1] = {y};
    nn_run(g, node, ins, outs, 1);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(y[i], sm[i % 3], 1e-6);
    evo_graph_free(g);
}

static void test_bad_input(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t dims[2] = {2, 3};
    int xi = nn_value(g, "xi", EVO_DTYPE_INT64, 2, dims), xf = nn_value(g, "xf", EVO_DTYPE_FLOAT, 2, dims);
    int xs = nn_value(g, "xs", EVO_DTYPE_FLOAT, 0, NULL);
    evo_error err = {0};
    int n = nn_node(g, "Softmax", 1, &xi, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && nn_names_node(&err));
    n = nn_node(g, "Softmax", 1, &xf, 1);
    nn_attr_int(g, n, "axis", 2);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "axis"));
    n = nn_node(g, "LogSoftmax", 1, &xf, 1);
    nn_attr_int(g, n, "axis", -3);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE);
    int two[2] = {xf, xf};
    n = nn_node(g, "Softmax", 2, two, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK && nn_names_node(&err));
    n = nn_node(g, "Softmax", 1, &xs, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand_computed), CHECK_TEST(test_bad_input))
