/*
 * test_reduce.c - ReduceSum/Mean/Max/Min/Prod against a naive model that
 * walks every input element and adds it into the output element found by
 * pinning the reduced coordinates to 0. Random shapes up to rank 5, random
 * axis sets given as attribute or as a constant input (ReduceSum opset 13,
 * all at opset 18), keepdims, noop_with_empty_axes, float/double/int64/
 * int32, 1 and 3 tasks; the ONNX example by hand; int64 folding; bad input.
 */
#include "kernels/nn_util.h"
#include "passes/passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double get(const void *p, evo_dtype t, int64_t i)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return ((const float *)p)[i];
    case EVO_DTYPE_DOUBLE: return ((const double *)p)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)p)[i];
    default: return (double)((const int64_t *)p)[i];
    }
}

static void set(void *p, evo_dtype t, int64_t i, double v)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
    case EVO_DTYPE_DOUBLE: ((double *)p)[i] = v; break;
    case EVO_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    default: ((int64_t *)p)[i] = (int64_t)v; break;
    }
}

static double combine(const char *op, double acc, double v)
{
    if (!strcmp(op, "ReduceMax"))
        return v > acc ? v : acc;
    if (!strcmp(op, "ReduceMin"))
        return v < acc ? v : acc;
    if (!strcmp(op, "ReduceProd"))
        return acc * v;
    return acc + v;
}

static double start(const char *op)
{
    if (!strcmp(op, "ReduceMax"))
        return -INFINITY;
    if (!strcmp(op, "ReduceMin"))
        return INFINITY;
    return !strcmp(op, "ReduceProd") ? 1 : 0;
}

static void run_case(check_rng *r, const char *op, evo_dtype t, int n_tasks)
{
    static const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 13};
    int rank = check_rng_int(r, 0, 5);
    int64_t dims[EVO_MAX_RANK], count = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = sizes[check_rng_int(r, 0, 6)];
        if (count * dims[d] > 5000)
            dims[d] = 2;
        count *= dims[d];
    }
    // axes: a random subset, written in random order and sign
    int64_t axes[EVO_MAX_RANK];
    int n_axes = 0;
    bool reduced[EVO_MAX_RANK] = {false};
    for (int d = 0; d < rank; d++) {
        if (check_rng_int(r, 0, 1)) {
            axes[n_axes++] = check_rng_int(r, 0, 1) ? d : d - rank;
            reduced[d] = true;
        }
    }
    bool noop = n_axes == 0 && check_rng_int(r, 0, 1);
    if (n_axes == 0 && !noop) {
        for (int d = 0; d < rank; d++)
            reduced[d] = true;
    }
    bool keepdims = check_rng_int(r, 0, 2) != 0;
    bool as_input = n_axes > 0 && check_rng_int(r, 0, 1);
    evo_graph *g = evo_graph_new("test");
    g->opset = as_input ? (!strcmp(op, "ReduceSum") && check_rng_int(r, 0, 1) ? 13 : 18) : 13;
    int ins[2] = {nn_value(g, "x", t, rank, dims), -1};
    if (as_input) {
        int64_t na = n_axes;
        ins[1] = evo_graph_add_value(g, "axes");
        evo_value_set_const(g, &g->values[ins[1]], EVO_DTYPE_INT64, 1, &na, axes, NULL);
    }
    int node = nn_node(g, op, as_input ? 2 : 1, ins, 1);
    if (!as_input && n_axes)
        nn_attr_ints(g, node, "axes", axes, n_axes);
    if (!keepdims || check_rng_int(r, 0, 1))
        nn_attr_int(g, node, "keepdims", keepdims);
    if (noop)
        nn_attr_int(g, node, "noop_with_empty_axes", 1);
    char desc[200];
    snprintf(desc, sizeof(desc), "%s %s rank %d n_axes %d keepdims %d noop %d input %d tasks %d", op,
             evo_dtype_name(t), rank, n_axes, keepdims, noop, as_input, n_tasks);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    // expected shape
    int64_t out_dims[EVO_MAX_RANK], kept_dims[EVO_MAX_RANK];
    int out_rank = 0;
    for (int d = 0; d < rank; d++) {
        kept_dims[d] = reduced[d] ? 1 : dims[d];
        if (!reduced[d] || keepdims)
            out_dims[out_rank++] = kept_dims[d];
    }
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK_MSG(y->rank == out_rank && !memcmp(y->dims, out_dims, sizeof(int64_t) * (size_t)out_rank),
              "%s: output shape", desc);
    int64_t out_count = 1, red_count = 1;
    for (int d = 0; d < rank; d++) {
        out_count *= kept_dims[d];
        red_count *= reduced[d] ? dims[d] : 1;
    }
    void *in = malloc(8 * (size_t)count), *out = malloc(8 * (size_t)out_count);
    double *want = malloc(sizeof(double) * (size_t)out_count);
    for (int64_t i = 0; i < out_count; i++)
        want[i] = start(op);
    bool prod = !strcmp(op, "ReduceProd"), is_int = t == EVO_DTYPE_INT64 || t == EVO_DTYPE_INT32;
    for (int64_t i = 0; i < count; i++) {
        // integer products stay exact with signs only
        double v = is_int ? (prod ? (check_rng_int(r, 0, 1) ? 1 : -1) : check_rng_int(r, -100, 100))
                          : check_rng_float(r, prod ? 0.8f : -5.0f, prod ? 1.25f : 5.0f);
        set(in, t, i, v);
        int64_t rem = i, o = 0, mul = 1;
        for (int d = rank - 1; d >= 0; d--) {
            int64_t c = rem % dims[d];
            rem /= dims[d];
            o += (reduced[d] ? 0 : c) * mul;
            mul *= kept_dims[d];
        }
        want[o] = combine(op, want[o], get(in, t, i));
    }
    void *in_data[2] = {in, NULL}, *out_data[1] = {out};
    nn_run(g, node, in_data, out_data, n_tasks);
    int bad = 0;
    for (int64_t i = 0; i < out_count; i++) {
        double w = want[i];
        if (!strcmp(op, "ReduceMean"))
            w = is_int ? trunc(w / (double)red_count) : w / (double)red_count;
        double got = get(out, t, i), tol = is_int ? 0 : 1e-5 * (1 + fabs(w));
        if (!(fabs(got - w) <= tol) && bad++ < 3)
            fprintf(stderr, "%s: element %lld = %.9g, want %.9g\n", desc, (long long)i, got, w);
    }
    CHECK_MSG(bad == 0, "%s: %d mismatches", desc, bad);
    free(in);
    free(out);
    free(want);
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0x4ed0ce};
    static const char *ops[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"};
    for (size_t o = 0; o < EVO_ARRAY_LEN(ops); o++) {
        for (int rep = 0; rep < 25; rep++) {
            run_case(&r, ops[o], EVO_DTYPE_FLOAT, 1);
            run_case(&r, ops[o], EVO_DTYPE_FLOAT, 3);
        }
        for (int rep = 0; rep < 8; rep++) {
            run_case(&r, ops[o], EVO_DTYPE_INT64, 3);
            run_case(&r, ops[o], EVO_DTYPE_INT32, 1);
            run_case(&r, ops[o], EVO_DTYPE_DOUBLE, 2);
        }
    }
}

static void test_hand_computed(void)
{
    // ONNX test_reduce_mean_keepdims_example: [3,2,2], axes [1]
    float x[12] = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2}, y[6];
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t dims[3] = {3, 2, 2}, axes[1] = {1};
    int xv = nn_value(g, "x", EVO_DTYPE_FLOAT, 3, dims);
    int node = nn_node(g, "ReduceMean", 1, &xv, 1);
    nn_attr_ints(g, node, "axes", axes, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    const evo_value *yv = &g->values[g->nodes[node].out[0]];
    CHECK(yv->rank == 3 && yv->dims[0] == 3 && yv->dims[1] == 1 && yv->dims[2] == 2);
    void *ins[1] = {x}, *outs[1] = {y};
    nn_run(g, node, ins, outs, 2);
    float want[6] = {12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f};
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(y[i], want[i], 1e-6);
    evo_graph_free(g);

    // ReduceSum with an empty axes input and noop_with_empty_axes: identity;
    // without noop: everything, to a [1,1,1] tensor
    for (int noop = 0; noop < 2; noop++) {
        g = evo_graph_new("test");
        g->opset = 13;
        int64_t zero = 0;
        int ins2[2] = {nn_value(g, "x", EVO_DTYPE_FLOAT, 3, dims), evo_graph_add_value(g, "axes")};
        evo_value_set_const(g, &g->values[ins2[1]], EVO_DTYPE_INT64, 1, &zero, NULL, NULL);
        node = nn_node(g, "ReduceSum", 2, ins2, 1);
        nn_attr_int(g, node, "noop_with_empty_axes", noop);
        CHECK(nn_infer(g, node, &err) == EVO_OK);
        yv = &g->values[g->nodes[node].out[0]];
        float z[12];
        void *in2[2] = {x, NULL}, *out2[1] = {z};
        nn_run(g, node, in2, out2, 3);
        if (noop) {
            CHECK(yv->rank == 3 && yv->dims[0] == 3 && yv->dims[1] == 2);
            CHECK(!memcmp(z, x, sizeof(x)));
        } else {
            CHECK(yv->rank == 3 && yv->dims[0] == 1 && yv->dims[1] == 1 && yv->dims[2] == 1);
            CHECK_NEAR(z[0], 219, 1e-5);
        }
        evo_graph_free(g);
    }
}

/* ReduceProd of an int64 shape, folded through the pass pipeline. */
static void test_fold(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int));
    int64_t three = 3, shape[3] = {2, 3, 4000000000LL};
    int v = evo_graph_add_value(g, "shape");
    evo_error err = {0};
    CHECK(evo_value_set_const(g, &g->values[v], EVO_DTYPE_INT64, 1, &three, shape, &err) == EVO_OK);
    int node = nn_node(g, "ReduceProd", 1, &v, 1);
    nn_attr_int(g, node, "keepdims", 0);
    int y = g->nodes[node].out[0];
    g->outputs[g->n_outputs++] = y;
    g->values[y].is_output = true;
    evo_compile_options o = evo_compile_options_default();
    evo_pass_ctx ctx = {&o, &err};
    evo_status s = evo_passes_run(g, &ctx);
    CHECK_MSG(s == EVO_OK, "%s", err.msg);
    if (!s) {
        CHECK(g->values[y].rank == 0 && g->values[y].data);
        CHECK(*(const int64_t *)g->values[y].data == 24000000000LL); // exact beyond 2^32
    }
    evo_graph_free(g);
}

static void test_bad_input(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t dims[2] = {2, 3}, axes[1] = {2}, one = 1;
    int x = nn_value(g, "x", EVO_DTYPE_FLOAT, 2, dims), xs = nn_value(g, "s", EVO_DTYPE_STRING, 2, dims);
    int rt_axes = nn_value(g, "a", EVO_DTYPE_INT64, 1, &one); // not constant
    evo_error err = {0};
    int n = nn_node(g, "ReduceMean", 1, &x, 1);
    nn_attr_ints(g, n, "axes", axes, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE && nn_names_node(&err));
    int with_axes[2] = {x, rt_axes};
    n = nn_node(g, "ReduceSum", 2, with_axes, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "constant"));
    n = nn_node(g, "ReduceSum", 2, with_axes, 1);
    nn_attr_ints(g, n, "axes", axes, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK && strstr(err.msg, "axes"));
    n = nn_node(g, "ReduceMax", 1, &xs, 1);
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED);
    int three[3] = {x, x, x};
    n = nn_node(g, "ReduceMin", 3, three, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK && nn_names_node(&err));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand_computed), CHECK_TEST(test_fold),
           CHECK_TEST(test_bad_input))
