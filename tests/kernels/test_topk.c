/*
 * test_topk.c - TopK against a naive selection (repeatedly take the best
 * remaining element, lower index first among equals) on random shapes,
 * axes and k with many ties, largest and smallest, float/int64/int32, 1
 * and 3 tasks; the ONNX examples; k as attribute (opset 1); NaN; bad input.
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
    default: return (double)((const int64_t *)p)[i];
    }
}

static void set(void *p, evo_dtype t, int64_t i, double v)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
    case EVO_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    default: ((int64_t *)p)[i] = (int64_t)v; break;
    }
}

/* Builds TopK on x with k as a constant input (opset 11) and runs inference. */
static int topk_node(evo_graph *g, evo_dtype t, int rank, const int64_t *dims, int64_t k,
                     int axis, bool largest, evo_status *s, evo_error *err)
{
    g->opset = 11;
    int64_t one = 1;
    int ins[2] = {nn_value(g, "x", t, rank, dims), evo_graph_add_value(g, "k")};
    evo_value_set_const(g, &g->values[ins[1]], EVO_DTYPE_INT64, 1, &one, &k, NULL);
    int node = nn_node(g, "TopK", 2, ins, 2);
    nn_attr_int(g, node, "axis", axis);
    if (!largest)
        nn_attr_int(g, node, "largest", 0);
    *s = nn_infer(g, node, err);
    return node;
}

static void run_case(check_rng *r, evo_dtype t, int n_tasks)
{
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 37};
    int rank = check_rng_int(r, 1, 4);
    int64_t dims[EVO_MAX_RANK], count = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = sizes[check_rng_int(r, 0, 6)];
        if (count * dims[d] > 4000)
            dims[d] = 2;
        count *= dims[d];
    }
    int axis_attr = check_rng_int(r, -rank, rank - 1), axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    int64_t n = dims[axis], k = check_rng_int(r, 0, (int)n);
    bool largest = check_rng_int(r, 0, 1);
    char desc[200];
    snprintf(desc, sizeof(desc), "TopK %s rank %d axis %d n %lld k %lld largest %d tasks %d",
             evo_dtype_name(t), rank, axis, (long long)n, (long long)k, largest, n_tasks);
    evo_graph *g = evo_graph_new("test");
    evo_error err = {0};
    evo_status s;
    int node = topk_node(g, t, rank, dims, k, axis_attr, largest, &s, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    const evo_value *yv = &g->values[g->nodes[node].out[0]], *yi = &g->values[g->nodes[node].out[1]];
    CHECK(yv->dtype == t && yi->dtype == EVO_DTYPE_INT64 && yv->rank == rank && yi->rank == rank);
    for (int d = 0; d < rank; d++)
        CHECK(yv->dims[d] == (d == axis ? k : dims[d]) && yi->dims[d] == yv->dims[d]);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < rank; d++) {
        if (d < axis)
            outer *= dims[d];
        else if (d > axis)
            inner *= dims[d];
    }
    int64_t out_count = outer * k * inner;
    void *in = malloc(8 * (size_t)count), *vals = malloc(8 * (size_t)(out_count + 1));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(out_count + 1));
    bool *taken = malloc((size_t)n);
    for (int64_t i = 0; i < count; i++)
        set(in, t, i, check_rng_int(r, -6, 6)); // ties
    void *ins[2] = {in, NULL}, *outs[2] = {vals, idx};
    nn_run(g, node, ins, outs, n_tasks);
    int bad = 0;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            memset(taken, 0, (size_t)n);
            for (int64_t j = 0; j < k; j++) {
                int64_t best = -1;
                for (int64_t m = 0; m < n; m++) {
                    if (taken[m])
                        continue;
                    double v = get(in, t, (o * n + m) * inner + i);
                    double bv = best < 0 ? 0 : get(in, t, (o * n + best) * inner + i);
                    if (best < 0 || (largest ? v > bv : v < bv))
                        best = m;
                }
                taken[best] = true;
                int64_t at = (o * k + j) * inner + i;
                double want_v = get(in, t, (o * n + best) * inner + i);
                if ((idx[at] != best || get(vals, t, at) != want_v) && bad++ < 3)
                    fprintf(stderr, "%s: [%lld,%lld,%lld] = %g @ %lld, want %g @ %lld\n", desc,
                            (long long)o, (long long)j, (long long)i, get(vals, t, at),
                            (long long)idx[at], want_v, (long long)best);
            }
        }
    }
    CHECK_MSG(bad == 0, "%s: %d mismatches", desc, bad);
    free(in);
    free(vals);
    free(idx);
    free(taken);
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0x7095};
    static const evo_dtype types[] = {EVO_DTYPE_FLOAT, EVO_DTYPE_INT64, EVO_DTYPE_INT32};
    for (size_t t = 0; t < EVO_ARRAY_LEN(types); t++) {
        for (int rep = 0; rep < 30; rep++) {
            run_case(&r, types[t], 1);
            run_case(&r, types[t], 3);
        }
    }
}

static void test_hand_computed(void)
{
    // ONNX test_top_k and test_top_k_smallest: [3,4], k = 3, axis 1
    float a[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    float b[12] = {0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8};
    float va[9] = {3, 2, 1, 7, 6, 5, 11, 10, 9}, vb[9] = {0, 1, 2, 4, 5, 6, 8, 9, 10};
    int64_t ia[9] = {3, 2, 1, 3, 2, 1, 3, 2, 1}, ib[9] = {0, 1, 2, 0, 1, 2, 3, 2, 1};
    int64_t dims[2] = {3, 4};
    for (int smallest = 0; smallest < 2; smallest++) {
        evo_graph *g = evo_graph_new("test");
        evo_error err = {0};
        evo_status s;
        int node = topk_node(g, EVO_DTYPE_FLOAT, 2, dims, 3, 1, !smallest, &s, &err);
        CHECK(s == EVO_OK);
        float v[9];
        int64_t i[9];
        void *ins[2] = {smallest ? b : a, NULL}, *outs[2] = {v, i};
        nn_run(g, node, ins, outs, 2);
        CHECK(!memcmp(v, smallest ? vb : va, sizeof(v)));
        CHECK(!memcmp(i, smallest ? ib : ia, sizeof(i)));
        evo_graph_free(g);
    }
    // opset 1: k as attribute; default axis -1; NaN ranks above every number
    evo_graph *g = evo_graph_new("test");
    g->opset = 1;
    int64_t five = 5;
    int x = nn_value(g, "x", EVO_DTYPE_FLOAT, 1, &five);
    int node = nn_node(g, "TopK", 1, &x, 2);
    nn_attr_int(g, node, "k", 3);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    float in[5] = {2, NAN, 7, 7, -1}, v[3];
    int64_t i[3];
    void *ins[1] = {in}, *outs[2] = {v, i};
    nn_run(g, node, ins, outs, 1);
    CHECK(isnan(v[0]) && v[1] == 7 && v[2] == 7);
    CHECK(i[0] == 1 && i[1] == 2 && i[2] == 3);
    evo_graph_free(g);
}

static void test_bad_input(void)
{
    int64_t dims[2] = {3, 4};
    evo_error err = {0};
    evo_status s;
    evo_graph *g = evo_graph_new("test");
    topk_node(g, EVO_DTYPE_FLOAT, 2, dims, 5, 1, true, &s, &err); // k > 4
    CHECK(s == EVO_ERR_SHAPE && nn_names_node(&err));
    evo_graph_free(g);
    g = evo_graph_new("test");
    topk_node(g, EVO_DTYPE_FLOAT, 2, dims, -1, 1, true, &s, &err);
    CHECK(s == EVO_ERR_SHAPE);
    evo_graph_free(g);
    g = evo_graph_new("test");
    topk_node(g, EVO_DTYPE_FLOAT, 2, dims, 2, 2, true, &s, &err); // axis out of range
    CHECK(s == EVO_ERR_SHAPE && strstr(err.msg, "axis"));
    evo_graph_free(g);

    g = evo_graph_new("test");
    g->opset = 11;
    int64_t one = 1;
    int ins[2] = {nn_value(g, "x", EVO_DTYPE_FLOAT, 2, dims), nn_value(g, "k", EVO_DTYPE_INT64, 1, &one)};
    int node = nn_node(g, "TopK", 2, ins, 2); // run-time k
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "constant"));
    node = nn_node(g, "TopK", 1, ins, 2); // no k at all
    CHECK(nn_infer(g, node, &err) != EVO_OK && nn_names_node(&err));
    node = nn_node(g, "TopK", 2, ins, 1); // one output
    CHECK(nn_infer(g, node, &err) != EVO_OK);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand_computed), CHECK_TEST(test_bad_input))
