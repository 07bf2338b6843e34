/*
 * test_argmax.c - ArgMax/ArgMin against a naive scan, on random shapes and
 * axes with many ties (values from a small set), keepdims and
 * select_last_index, float/int32/int64/uint8, 1 and 3 tasks; the ONNX
 * examples by hand; NaN; bad input.
 */
#include "kernels/nn_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double get(const void *p, evo_dtype t, int64_t i)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return ((const float *)p)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)p)[i];
    case EVO_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    default: return (double)((const int64_t *)p)[i];
    }
}

static void set(void *p, evo_dtype t, int64_t i, double v)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
    case EVO_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case EVO_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    default: ((int64_t *)p)[i] = (int64_t)v; break;
    }
}

static void run_case(check_rng *r, bool is_max, evo_dtype t, int n_tasks)
{
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 29};
    int rank = check_rng_int(r, 1, 4);
    int64_t dims[EVO_MAX_RANK], count = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = sizes[check_rng_int(r, 0, 6)];
        if (count * dims[d] > 5000)
            dims[d] = 2;
        count *= dims[d];
    }
    int axis_attr = check_rng_int(r, -rank, rank - 1), axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    bool keepdims = check_rng_int(r, 0, 1), last = check_rng_int(r, 0, 1);
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int x = nn_value(g, "x", t, rank, dims);
    int node = nn_node(g, is_max ? "ArgMax" : "ArgMin", 1, &x, 1);
    nn_attr_int(g, node, "axis", axis_attr);
    nn_attr_int(g, node, "keepdims", keepdims);
    if (last || check_rng_int(r, 0, 1))
        nn_attr_int(g, node, "select_last_index", last);
    char desc[200];
    snprintf(desc, sizeof(desc), "%s %s rank %d axis %d keepdims %d last %d tasks %d",
             is_max ? "ArgMax" : "ArgMin", evo_dtype_name(t), rank, axis, keepdims, last, n_tasks);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    int64_t outer = 1, inner = 1, n = dims[axis];
    for (int d = 0; d < rank; d++) {
        if (d < axis)
            outer *= dims[d];
        else if (d > axis)
            inner *= dims[d];
    }
    CHECK(y->dtype == EVO_DTYPE_INT64 && y->rank == (keepdims ? rank : rank - 1));
    int yd = 0;
    for (int d = 0; d < rank; d++) {
        if (d == axis && !keepdims)
            continue;
        CHECK(y->dims[yd] == (d == axis ? 1 : dims[d]));
        yd++;
    }
    void *in = malloc(8 * (size_t)count);
    int64_t *out = malloc(sizeof(int64_t) * (size_t)(outer * inner));
    for (int64_t i = 0; i < count; i++)
        set(in, t, i, check_rng_int(r, 0, 4)); // small set: ties everywhere
    void *ins[1] = {in}, *outs[1] = {out};
    nn_run(g, node, ins, outs, n_tasks);
    int bad = 0;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            // naive: the extreme value first, then its first or last position
            double ext = get(in, t, o * n * inner + i);
            for (int64_t k = 1; k < n; k++) {
                double v = get(in, t, (o * n + k) * inner + i);
                ext = is_max ? fmax(ext, v) : fmin(ext, v);
            }
            int64_t want = -1;
            for (int64_t k = 0; k < n; k++) {
                if (get(in, t, (o * n + k) * inner + i) == ext && (want < 0 || last))
                    want = k;
            }
            if (out[o * inner + i] != want && bad++ < 3)
                fprintf(stderr, "%s: [%lld,%lld] = %lld, want %lld\n", desc, (long long)o,
                        (long long)i, (long long)out[o * inner + i], (long long)want);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d mismatches", desc, bad);
    free(in);
    free(out);
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0xa9e};
    static const evo_dtype types[] = {EVO_DTYPE_FLOAT, EVO_DTYPE_INT32, EVO_DTYPE_INT64, EVO_DTYPE_UINT8};
    for (int is_max = 0; is_max < 2; is_max++) {
        for (size_t t = 0; t < EVO_ARRAY_LEN(types); t++) {
            for (int rep = 0; rep < 15; rep++) {
                run_case(&r, is_max, types[t], 1);
                run_case(&r, is_max, types[t], 3);
            }
        }
    }
}

/* ArgMax/ArgMin of a float [rows, cols] along axis 1, keepdims. */
static void arg2d(const char *op, const float *x, int64_t rows, int64_t cols, bool last, int64_t *y)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t dims[2] = {rows, cols};
    int xv = nn_value(g, "x", EVO_DTYPE_FLOAT, 2, dims);
    int node = nn_node(g, op, 1, &xv, 1);
    nn_attr_int(g, node, "axis", 1);
    nn_attr_int(g, node, "select_last_index", last);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    void *ins[1] = {(void *)x}, *outs[1] = {y};
    nn_run(g, node, ins, outs, 2);
    evo_graph_free(g);
}

static void test_hand_computed(void)
{
    int64_t y[3];
    // ONNX test_argmax_keepdims_example and its select_last_index variant
    float a[4] = {2, 1, 3, 10}, b[4] = {2, 2, 3, 10};
    arg2d("ArgMax", a, 2, 2, false, y);
    CHECK(y[0] == 0 && y[1] == 1);
    arg2d("ArgMax", b, 2, 2, true, y);
    CHECK(y[0] == 1 && y[1] == 1);
    arg2d("ArgMin", b, 2, 2, false, y);
    CHECK(y[0] == 0 && y[1] == 0);
    // NaN wins, as in numpy
    float c[3] = {1, NAN, 3};
    arg2d("ArgMax", c, 1, 3, false, y);
    CHECK(y[0] == 1);
    arg2d("ArgMin", c, 1, 3, false, y);
    CHECK(y[0] == 1);

    // default axis 0, no keepdims: a [2,3] -> [3]
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t dims[2] = {2, 3};
    int xv = nn_value(g, "x", EVO_DTYPE_FLOAT, 2, dims);
    int node = nn_node(g, "ArgMax", 1, &xv, 1);
    nn_attr_int(g, node, "keepdims", 0);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    const evo_value *yv = &g->values[g->nodes[node].out[0]];
    CHECK(yv->rank == 1 && yv->dims[0] == 3);
    float x[6] = {1, 5, 3, 4, 2, 3};
    void *ins[1] = {x}, *outs[1] = {y};
    nn_run(g, node, ins, outs, 1);
    CHECK(y[0] == 1 && y[1] == 0 && y[2] == 0);
    evo_graph_free(g);
}

static void test_bad_input(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t dims[2] = {2, 3}, zero[2] = {2, 0};
    int x = nn_value(g, "x", EVO_DTYPE_FLOAT, 2, dims), xz = nn_value(g, "xz", EVO_DTYPE_FLOAT, 2, zero);
    int xs = nn_value(g, "xs", EVO_DTYPE_FLOAT, 0, NULL);
    evo_error err = {0};
    int n = nn_node(g, "ArgMax", 1, &x, 1);
    nn_attr_int(g, n, "axis", 2);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE && nn_names_node(&err));
    n = nn_node(g, "ArgMin", 1, &xz, 1);
    nn_attr_int(g, n, "axis", 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "size 0"));
    n = nn_node(g, "ArgMin", 1, &xs, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE);
    int two[2] = {x, x};
    n = nn_node(g, "ArgMax", 2, two, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK && nn_names_node(&err));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand_computed), CHECK_TEST(test_bad_input))
