/*
 * test_slice.c - Slice: random starts/ends/steps (negative indices and
 * steps, out-of-range and INT64_MAX/-INT64_MAX ends) against a naive
 * numpy-style slice, the attribute form (opset < 10), the ONNX node-test
 * cases, the vectorised variants against the reference, and bad inputs.
 */
#include "tensor_test_util.h"
#include "core/cpu.h"
#include "kernels/fastops.h"

/* numpy semantics computed independently: the list of kept indices of one axis. */
static int64_t naive_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *idx)
{
    int64_t n = 0;
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    if (step > 0) {
        if (start < 0)
            start = 0;
        for (int64_t i = start; i < end && i < dim; i += step) {
            idx[n++] = i;
            if (step > dim)
                break;
        }
    } else {
        if (start > dim - 1)
            start = dim - 1;
        if (end < -1)
            end = -1;
        for (int64_t i = start; i > end && i >= 0; i += step) {
            idx[n++] = i;
            if (-step > dim)
                break;
        }
    }
    return n;
}

static const int64_t specials[] = {INT64_MAX, -INT64_MAX, INT64_MIN, 1000, -1000};

static int64_t pick(check_rng *r, int64_t dim)
{
    if (check_rng_int(r, 0, 5) == 0)
        return specials[check_rng_int(r, 0, 4)];
    return check_rng_int(r, -(int)dim - 2, (int)dim + 2);
}

static void test_slice_random(void)
{
    check_rng r = {77};
    for (int iter = 0; iter < 300; iter++) {
        int rank = check_rng_int(&r, 1, 4), n_axes = check_rng_int(&r, 1, rank);
        int64_t dims[4], count = 1;
        for (int d = 0; d < rank; d++)
            count *= dims[d] = check_rng_int(&r, 1, 7);
        float *x = malloc(sizeof(float) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (float)i;
        int64_t starts[4], ends[4], axes[4], steps[4];
        int perm[4] = {0, 1, 2, 3};
        for (int i = rank - 1; i > 0; i--) {
            int j = check_rng_int(&r, 0, i), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int64_t st[4] = {0}, en[4], sp[4] = {1, 1, 1, 1};
        for (int d = 0; d < rank; d++)
            en[d] = dims[d];
        for (int i = 0; i < n_axes; i++) {
            int a = perm[i];
            axes[i] = check_rng_int(&r, 0, 1) ? a : a - rank;
            starts[i] = st[a] = pick(&r, dims[a]);
            ends[i] = en[a] = pick(&r, dims[a]);
            int64_t s = check_rng_int(&r, -3, 3);
            if (s == 0)
                s = check_rng_int(&r, 0, 1) ? INT64_MAX : -INT64_MAX;
            steps[i] = sp[a] = s;
        }
        evo_graph *g = tg_new(13);
        int64_t xd[4];
        memcpy(xd, dims, sizeof(xd));
        int ins[5] = {tg_value(g, "x", EVO_DTYPE_FLOAT, rank, xd, x), tg_i64(g, "s", n_axes, starts),
                      tg_i64(g, "e", n_axes, ends), tg_i64(g, "a", n_axes, axes), tg_i64(g, "p", n_axes, steps)};
        int n = tg_node(g, "Slice", ins, 5, 1);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        int64_t idx[4][16], cnt[4], total = 1;
        for (int d = 0; d < rank; d++)
            total *= cnt[d] = naive_axis(dims[d], st[d], en[d], sp[d], idx[d]);
        const evo_value *y = tg_out(g, n, 0);
        CHECK_MSG(tg_dims_eq(y, rank, cnt), "iter %d", iter);
        for (int tasks = 1; tasks <= 3 && tg_dims_eq(y, rank, cnt); tasks += 2) {
            float *out = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t e = 0; e < total; e++) {
                int64_t rem = e, off = 0, mul = 1;
                for (int d = rank - 1; d >= 0; d--) {
                    off += idx[d][rem % cnt[d]] * mul;
                    rem /= cnt[d];
                    mul *= dims[d];
                }
                bad += out[e] != x[off];
            }
            CHECK_MSG(bad == 0, "iter %d tasks %d: %d wrong", iter, tasks, bad);
            free(out);
        }
        free(x);
        evo_graph_free(g);
    }
}

/*
 * The vectorised variants against the reference: step 1 or 2 on the last
 * axis (rows of 1 to 90 elements: vector bodies and tails), other axes
 * any positive step, float and int32, 1-3 tasks; negative steps and last-axis
 * steps of 3 are refused.
 */
static void test_slice_fast_variants(void)
{
    const evo_kernel_def *variants[] = {
#if defined(__aarch64__)
        &evo_kernel_slice_neon,
#endif
        &evo_kernel_slice_avx512, &evo_kernel_slice_avx2};
    check_rng r = {91};
    int n_checked = 0;
    for (int iter = 0; iter < 200; iter++) {
        int rank = check_rng_int(&r, 1, 4);
        int64_t dims[4], count = 1, starts[4], ends[4], axes[4], steps[4];
        for (int d = 0; d < rank; d++) {
            count *= dims[d] = d == rank - 1 ? check_rng_int(&r, 1, 180) : check_rng_int(&r, 1, 6);
            axes[d] = d;
            steps[d] = d == rank - 1 ? check_rng_int(&r, 1, iter % 10 == 0 ? 3 : 2) : check_rng_int(&r, 1, 3);
            if (iter % 17 == 0 && d == 0)
                steps[d] = -1;
            starts[d] = steps[d] > 0 ? check_rng_int(&r, 0, (int)dims[d] - 1) : dims[d] - 1;
            ends[d] = steps[d] > 0 ? dims[d] : -INT64_MAX;
        }
        evo_dtype t = iter % 3 ? EVO_DTYPE_FLOAT : EVO_DTYPE_INT32;
        float *x = malloc(sizeof(float) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (float)i;
        evo_graph *g = tg_new(13);
        int ins[5] = {tg_value(g, "x", t, rank, dims, x), tg_i64(g, "s", rank, starts), tg_i64(g, "e", rank, ends),
                      tg_i64(g, "a", rank, axes), tg_i64(g, "p", rank, steps)};
        int n = tg_node(g, "Slice", ins, 5, 1);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        bool want_support = steps[rank - 1] <= 2;
        for (int d = 0; d < rank; d++)
            want_support = want_support && steps[d] > 0;
        float *want = tg_run(g, n, 1, 0);
        int64_t y_count = evo_value_count(tg_out(g, n, 0));
        n_checked += tg_check_variants(g, n, variants, EVO_ARRAY_LEN(variants), want_support && y_count > 0, want,
                                       sizeof(float) * (size_t)y_count, "slice", iter);
        free(want);
        free(x);
        evo_graph_free(g);
    }
    if (evo_cpu_has_isa(EVO_ISA_AVX2) || evo_cpu_has_isa(EVO_ISA_NEON))
        CHECK_MSG(n_checked > 300, "only %d variant runs", n_checked);
}

/* ONNX test_slice_neg_steps: x[20,10,5], starts [20,10,4] ends [0,0,1] axes [0,1,2] steps [-1,-3,-2]. */
static void test_slice_onnx_cases(void)
{
    evo_graph *g = tg_new(13);
    int64_t dims[3] = {20, 10, 5};
    float *x = malloc(sizeof(float) * 1000);
    for (int i = 0; i < 1000; i++)
        x[i] = (float)i;
    int64_t s[3] = {20, 10, 4}, e[3] = {0, 0, 1}, a[3] = {0, 1, 2}, p[3] = {-1, -3, -2};
    int ins[5] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 3, dims, x), tg_i64(g, "s", 3, s), tg_i64(g, "e", 3, e),
                  tg_i64(g, "a", 3, a), tg_i64(g, "p", 3, p)};
    int n = tg_node(g, "Slice", ins, 5, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    int64_t want[3] = {19, 3, 2};
    CHECK(tg_dims_eq(tg_out(g, n, 0), 3, want));
    float *y = tg_run(g, n, 3, 0);
    // y[0,0,0] = x[19,9,4], y[0,1,1] = x[19,6,2]
    CHECK(y[0] == x[19 * 50 + 9 * 5 + 4]);
    CHECK(y[3] == x[19 * 50 + 6 * 5 + 2]);
    free(y);
    // default axes, only starts/ends; end out of bounds: x[:, 1:1000]
    int64_t s2[2] = {0, 1}, e2[2] = {20, 1000};
    int ins2[3] = {ins[0], tg_i64(g, "s2", 2, s2), tg_i64(g, "e2", 2, e2)};
    n = tg_node(g, "Slice", ins2, 3, 1);
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    int64_t want2[3] = {20, 9, 5};
    CHECK(tg_dims_eq(tg_out(g, n, 0), 3, want2));
    // start out of bounds gives an empty axis
    int64_t s3[1] = {1000}, e3[1] = {1000}, a3[1] = {1};
    int ins3[4] = {ins[0], tg_i64(g, "s3", 1, s3), tg_i64(g, "e3", 1, e3), tg_i64(g, "a3", 1, a3)};
    n = tg_node(g, "Slice", ins3, 4, 1);
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    int64_t want3[3] = {20, 0, 5};
    CHECK(tg_dims_eq(tg_out(g, n, 0), 3, want3));
    free(tg_run(g, n, 2, 0));
    free(x);
    evo_graph_free(g);
}

static void test_slice_attr_form(void)
{
    evo_graph *g = tg_new(9);
    int64_t dims[2] = {3, 4};
    int64_t x[12];
    for (int i = 0; i < 12; i++)
        x[i] = 100 + i;
    int in = tg_value(g, "x", EVO_DTYPE_INT64, 2, dims, x);
    int n = tg_node(g, "Slice", &in, 1, 1);
    int64_t s[2] = {1, -3}, e[2] = {INT64_MAX, -1}, a[2] = {0, 1};
    tg_attr_ints(g, n, "starts", 2, s);
    tg_attr_ints(g, n, "ends", 2, e);
    tg_attr_ints(g, n, "axes", 2, a);
    evo_error err = {0};
    CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
    int64_t want[2] = {2, 2};
    CHECK(tg_dims_eq(tg_out(g, n, 0), 2, want));
    int64_t *y = tg_run(g, n, 1, 0);
    CHECK(y[0] == 105 && y[1] == 106 && y[2] == 109 && y[3] == 110);
    free(y);
    evo_graph_free(g);
}

static void test_slice_errors(void)
{
    evo_graph *g = tg_new(13);
    float buf[16] = {0};
    int64_t dims[2] = {4, 4}, s[1] = {0}, e[1] = {2}, z[1] = {0}, two[2] = {0, 0};
    int x = tg_value(g, "x", EVO_DTYPE_FLOAT, 2, dims, buf);
    int ins[5] = {x, tg_i64(g, "s", 1, s), tg_i64(g, "e", 1, e), -1, tg_i64(g, "z", 1, z)};
    int n = tg_node(g, "Slice", ins, 5, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "step"));
    int ins2[4] = {x, ins[1], ins[2], tg_i64(g, "aa", 2, two)};
    n = tg_node(g, "Slice", ins2, 4, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE);
    int64_t one[1] = {1};
    int dyn = tg_value(g, "dyn", EVO_DTYPE_INT64, 1, one, NULL);
    int ins3[3] = {x, dyn, ins[2]};
    n = tg_node(g, "Slice", ins3, 3, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "constant"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_slice_random), CHECK_TEST(test_slice_fast_variants), CHECK_TEST(test_slice_onnx_cases), CHECK_TEST(test_slice_attr_form),
           CHECK_TEST(test_slice_errors))
