/*
 * test_resize.c - Resize and Upsample: every ONNX node test of the Debian
 * test set (its inputs, attributes and expected outputs, generated from
 * /usr/share/libonnx-testdata into the table below), random nearest/linear
 * cases against a naive per-axis implementation written from the spec,
 * the 2x nearest fast path against the general path on other dtypes, the
 * vectorised variants against the reference,
 * n_tasks 1 and 3, and bad inputs.
 */
#include "tensor_test_util.h"
#include "core/cpu.h"
#include "kernels/fastops.h"

#include <math.h>

typedef struct onnx_case {
    const char *name;
    int opset;
    const char *op, *mode, *coord, *nearest;
    int has_a;
    float cubic_a;
    int exclude_outside;
    float extrapolation;
    int64_t x_dims[4];
    const float *x;
    int n_roi;
    const float *roi;
    int n_scales;
    const float *scales;
    int n_sizes;
    const int64_t *sizes;
    int n_y;
    const float *y;
} onnx_case;

static const onnx_case onnx_cases[] = {
#include "resize_cases.inc"
};

static void test_resize_onnx_node_tests(void)
{
    for (size_t c = 0; c < EVO_ARRAY_LEN(onnx_cases); c++) {
        const onnx_case *k = &onnx_cases[c];
        evo_graph *g = tg_new(k->opset);
        int64_t zero[1] = {0};
        int ins[4] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 4, k->x_dims, k->x), -1, -1, -1};
        int n;
        if (strcmp(k->op, "Upsample") == 0) {
            ins[1] = tg_f32(g, "scales", k->n_scales, k->scales);
            n = tg_node(g, "Upsample", ins, 2, 1);
        } else {
            if (k->roi)
                ins[1] = tg_f32(g, "roi", k->n_roi, k->roi);
            if (k->scales)
                ins[2] = tg_f32(g, "scales", k->n_scales, k->scales);
            if (k->sizes)
                ins[3] = tg_i64(g, "sizes", k->n_sizes, k->sizes);
            if (k->opset == 11) { // this export wires empty tensors for the absent inputs
                float none[1];
                if (ins[1] < 0)
                    ins[1] = tg_value(g, "roi0", EVO_DTYPE_FLOAT, 1, zero, none);
                if (ins[2] < 0)
                    ins[2] = tg_value(g, "scales0", EVO_DTYPE_FLOAT, 1, zero, none);
            }
            n = tg_node(g, "Resize", ins, k->sizes ? 4 : 3, 1);
            tg_attr_str(g, n, "coordinate_transformation_mode", k->coord);
            if (k->nearest)
                tg_attr_str(g, n, "nearest_mode", k->nearest);
            if (k->has_a)
                tg_attr_float(g, n, "cubic_coeff_a", k->cubic_a);
            tg_attr_int(g, n, "exclude_outside", k->exclude_outside);
            tg_attr_float(g, n, "extrapolation_value", k->extrapolation);
        }
        tg_attr_str(g, n, "mode", k->mode);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s: %s", k->name, err.msg);
        CHECK_MSG(evo_value_count(tg_out(g, n, 0)) == k->n_y, "%s", k->name);
        if (evo_value_count(tg_out(g, n, 0)) == k->n_y) {
            for (int tasks = 1; tasks <= 3; tasks += 2) {
                float *y = tg_run(g, n, tasks, 0);
                double max_err = 0;
                for (int i = 0; i < k->n_y; i++)
                    max_err = fmax(max_err, fabs((double)y[i] - (double)k->y[i]));
                CHECK_MSG(max_err <= 1e-4, "%s tasks %d: max error %g", k->name, tasks, max_err);
                free(y);
            }
        }
        evo_graph_free(g);
    }
}

/* Naive 2-D (last two axes) nearest/linear straight from the spec formulas, asymmetric/half_pixel/align_corners. */
static float naive_sample(const float *plane, int64_t ih, int64_t iw, double sy, double sx, int64_t oh,
                          int64_t ow, int64_t y, int64_t x, const char *coord, bool linear)
{
    double c[2];
    int64_t in[2] = {ih, iw}, out[2] = {oh, ow}, o[2] = {y, x};
    double s[2] = {sy, sx};
    for (int a = 0; a < 2; a++) {
        if (strcmp(coord, "asymmetric") == 0)
            c[a] = (double)o[a] / s[a];
        else if (strcmp(coord, "align_corners") == 0)
            c[a] = s[a] * (double)in[a] == 1 ? 0 : (double)o[a] * (double)(in[a] - 1) / (s[a] * (double)in[a] - 1);
        else
            c[a] = ((double)o[a] + 0.5) / s[a] - 0.5;
        (void)out;
    }
    if (!linear) { // round_prefer_floor
        int64_t i[2];
        for (int a = 0; a < 2; a++) {
            double f = floor(c[a]);
            i[a] = (int64_t)(c[a] - f > 0.5 ? f + 1 : f);
            i[a] = i[a] < 0 ? 0 : i[a] >= in[a] ? in[a] - 1 : i[a];
        }
        return plane[i[0] * iw + i[1]];
    }
    double acc = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            double fy = floor(c[0]), fx = floor(c[1]);
            int64_t yy = (int64_t)fy + dy, xx = (int64_t)fx + dx;
            double w = (dy ? c[0] - fy : 1 - (c[0] - fy)) * (dx ? c[1] - fx : 1 - (c[1] - fx));
            yy = yy < 0 ? 0 : yy >= ih ? ih - 1 : yy;
            xx = xx < 0 ? 0 : xx >= iw ? iw - 1 : xx;
            acc += w * plane[yy * iw + xx];
        }
    return (float)acc;
}

static void test_resize_random(void)
{
    check_rng r = {2024};
    static const char *const coords[] = {"asymmetric", "half_pixel", "align_corners"};
    for (int iter = 0; iter < 60; iter++) {
        int64_t N = check_rng_int(&r, 1, 2), C = check_rng_int(&r, 1, 3), H = check_rng_int(&r, 1, 7),
                W = check_rng_int(&r, 1, 7);
        bool linear = iter % 2, use_sizes = iter % 3 == 0;
        const char *coord = coords[check_rng_int(&r, 0, 2)];
        int64_t dims[4] = {N, C, H, W}, count = N * C * H * W;
        float *x = malloc(sizeof(float) * (size_t)count);
        tg_fill_f32(&r, x, count);
        evo_graph *g = tg_new(13);
        float scales[4] = {1, 1, (float)check_rng_int(&r, 1, 12) / 4, (float)check_rng_int(&r, 1, 12) / 4};
        int64_t sizes[4] = {N, C, check_rng_int(&r, 1, 11), check_rng_int(&r, 1, 11)};
        int ins[4] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, x), -1, -1, -1};
        if (use_sizes)
            ins[3] = tg_i64(g, "sizes", 4, sizes);
        else
            ins[2] = tg_f32(g, "scales", 4, scales);
        int n = tg_node(g, "Resize", ins, 4, 1);
        tg_attr_str(g, n, "mode", linear ? "linear" : "nearest");
        tg_attr_str(g, n, "coordinate_transformation_mode", coord);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        const evo_value *yv = tg_out(g, n, 0);
        int64_t oh = yv->dims[2], ow = yv->dims[3];
        if (!use_sizes) {
            CHECK(oh == (int64_t)floor((double)H * scales[2]) && ow == (int64_t)floor((double)W * scales[3]));
        } else {
            CHECK(oh == sizes[2] && ow == sizes[3]);
        }
        double sy = use_sizes ? (double)oh / (double)H : scales[2], sx = use_sizes ? (double)ow / (double)W : scales[3];
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            float *y = tg_run(g, n, tasks, 0);
            double max_err = 0;
            for (int64_t p = 0; p < N * C; p++)
                for (int64_t i = 0; i < oh; i++)
                    for (int64_t j = 0; j < ow; j++) {
                        float want = naive_sample(x + p * H * W, H, W, sy, sx, oh, ow, i, j, coord, linear);
                        max_err = fmax(max_err, fabs(want - y[(p * oh + i) * ow + j]));
                    }
            CHECK_MSG(max_err < 1e-4, "iter %d %s %s tasks %d: max error %g", iter, coord,
                      linear ? "linear" : "nearest", tasks, max_err);
            free(y);
        }
        free(x);
        evo_graph_free(g);
    }
}

/* YOLO's upsample: nearest 2x, asymmetric + floor; int64 and uint8 go through the same fast path. */
static void test_resize_nearest_2x_dtypes(void)
{
    check_rng r = {8};
    static const evo_dtype types[] = {EVO_DTYPE_FLOAT, EVO_DTYPE_INT64, EVO_DTYPE_UINT8};
    for (int k = 0; k < 3; k++) {
        size_t es = evo_dtype_size(types[k]);
        int64_t dims[4] = {1, 3, 5, 7}, count = 105;
        uint8_t *x = malloc((size_t)count * es);
        for (size_t i = 0; i < (size_t)count * es; i++)
            x[i] = (uint8_t)check_rng_u64(&r);
        evo_graph *g = tg_new(13);
        float scales[4] = {1, 1, 2, 2};
        int ins[3] = {tg_value(g, "x", types[k], 4, dims, x), -1, tg_f32(g, "scales", 4, scales)};
        int n = tg_node(g, "Resize", ins, 3, 1);
        tg_attr_str(g, n, "mode", "nearest");
        tg_attr_str(g, n, "coordinate_transformation_mode", "asymmetric");
        tg_attr_str(g, n, "nearest_mode", "floor");
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            uint8_t *y = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t c = 0; c < 3; c++)
                for (int64_t i = 0; i < 10; i++)
                    for (int64_t j = 0; j < 14; j++)
                        bad += memcmp(y + ((c * 10 + i) * 14 + j) * (int64_t)es,
                                      x + ((c * 5 + i / 2) * 7 + j / 2) * (int64_t)es, es) != 0;
            CHECK_MSG(bad == 0, "dtype %s tasks %d: %d wrong", evo_dtype_name(types[k]), tasks, bad);
            free(y);
        }
        free(x);
        evo_graph_free(g);
    }
}

/*
 * The vectorised variants (fastops.h) against the reference: nearest
 * (every rounding mode) equal, linear within a few ulp; every coordinate
 * mode but tf_crop_and_resize, scales and sizes, up- and downsampling,
 * widths past several vectors with tails, rank 3 and 4, 1-3 tasks.
 */
static void test_resize_fast_variants(void)
{
    const evo_kernel_def *variants[] = {
#if defined(__aarch64__)
        &evo_kernel_resize_neon,
#endif
        &evo_kernel_resize_avx512, &evo_kernel_resize_avx2};
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                         "tf_half_pixel_for_nn", "half_pixel_symmetric"};
    static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    check_rng r = {77};
    int n_checked = 0;
    for (int iter = 0; iter < 150; iter++) {
        int rank = iter % 5 == 0 ? 3 : 4;
        int64_t dims[4] = {check_rng_int(&r, 1, 2), check_rng_int(&r, 1, 4), check_rng_int(&r, 1, 13),
                           check_rng_int(&r, 1, 45)};
        if (rank == 3)
            dims[0] = dims[1], dims[1] = dims[2], dims[2] = dims[3];
        int64_t count = 1;
        for (int d = 0; d < rank; d++)
            count *= dims[d];
        float *x = malloc(sizeof(float) * (size_t)count);
        tg_fill_f32(&r, x, count);
        evo_graph *g = tg_new(19);
        bool linear = iter % 2, use_sizes = iter % 3 == 0;
        const char *coord = coords[check_rng_int(&r, 0, 5)];
        float scales[4] = {1, 1, 1, 1};
        int64_t sizes[4];
        for (int d = 0; d < rank; d++)
            sizes[d] = dims[d];
        for (int d = rank - 2; d < rank; d++) {
            scales[d] = (float)check_rng_int(&r, 1, 16) / 4;
            sizes[d] = check_rng_int(&r, 1, 50);
        }
        bool replicate = iter % 6 == 4; /* nearest by integer factors: the replication path */
        if (replicate) {
            coord = "asymmetric";
            scales[rank - 2] = (float)check_rng_int(&r, 1, 3);
            scales[rank - 1] = (float)check_rng_int(&r, 1, 3);
        }
        int ins[4] = {tg_value(g, "x", EVO_DTYPE_FLOAT, rank, dims, x), -1, -1, -1};
        if (use_sizes)
            ins[3] = tg_i64(g, "sizes", rank, sizes);
        else
            ins[2] = tg_f32(g, "scales", rank, scales);
        int n = tg_node(g, "Resize", ins, 4, 1);
        tg_attr_str(g, n, "mode", linear ? "linear" : "nearest");
        tg_attr_str(g, n, "coordinate_transformation_mode", coord);
        tg_attr_str(g, n, "nearest_mode", replicate ? "floor" : nearest[check_rng_int(&r, 0, 3)]);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        const evo_value *yv = tg_out(g, n, 0);
        int64_t y_count = evo_value_count(yv);
        float *want = tg_run(g, n, 1, 0);
        double scale = 0;
        for (int64_t i = 0; i < y_count; i++)
            scale = fmax(scale, fabs(want[i]));
        for (size_t v = 0; v < EVO_ARRAY_LEN(variants); v++) {
            const evo_kernel_def *k = variants[v];
            if (!check_host_runs(k) || !k->supports(g, &g->nodes[n]))
                continue;
            for (int tasks = 1; tasks <= 3; tasks++) {
                float *got = tg_run_kernel(g, n, k, tasks, 0);
                int bad = 0;
                for (int64_t i = 0; i < y_count && bad < 3; i++) {
                    bool ok = linear ? fabs(got[i] - want[i]) <= 2e-6 * (scale + 1) : got[i] == want[i];
                    if (!ok) {
                        fprintf(stderr, "%s: iter %d %s %s rank %d [%lld,%lld]->[%lld,%lld] tasks %d: y[%lld] = %g, ref %g\n",
                                k->name, iter, coord, linear ? "linear" : "nearest", rank,
                                (long long)dims[rank - 2], (long long)dims[rank - 1],
                                (long long)yv->dims[rank - 2], (long long)yv->dims[rank - 1], tasks,
                                (long long)i, got[i], want[i]);
                        bad++;
                    }
                }
                CHECK(bad == 0);
                n_checked++;
                free(got);
            }
        }
        free(want);
        free(x);
        evo_graph_free(g);
    }
    /* on AVX2 machines and up, most cases run through a variant */
    if (evo_cpu_has_isa(EVO_ISA_AVX2) || evo_cpu_has_isa(EVO_ISA_NEON))
        CHECK_MSG(n_checked > 200, "only %d variant runs", n_checked);
}

/* YOLO's 2x nearest upsample and a 2x linear one both take the variants (replication and blending). */
static void test_resize_fast_selection(void)
{
    int64_t dims[4] = {1, 8, 20, 20};
    float x[3200] = {0};
    float scales[4] = {1, 1, 2, 2};
    for (int linear = 0; linear < 2; linear++) {
        evo_graph *g = tg_new(13);
        int ins[3] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, x), -1, tg_f32(g, "scales", 4, scales)};
        int n = tg_node(g, "Resize", ins, 3, 1);
        tg_attr_str(g, n, "mode", linear ? "linear" : "nearest");
        tg_attr_str(g, n, "coordinate_transformation_mode", linear ? "half_pixel" : "asymmetric");
        tg_attr_str(g, n, "nearest_mode", "floor");
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
#if defined(__aarch64__)
        CHECK(evo_kernel_resize_neon.supports(g, &g->nodes[n]));
#else
        CHECK(evo_kernel_resize_avx512.supports(g, &g->nodes[n]));
        CHECK(evo_kernel_resize_avx2.supports(g, &g->nodes[n]));
#endif
        evo_graph_free(g);
    }
}

static void test_resize_errors(void)
{
    evo_graph *g = tg_new(13);
    float buf[16] = {0};
    int64_t dims[4] = {1, 1, 2, 2}, sizes[4] = {1, 1, 4, 4};
    float scales[4] = {1, 1, 2, 2}, bad_scales[3] = {1, 2, 2};
    int x = tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, buf);
    int ins[4] = {x, -1, tg_f32(g, "s", 4, scales), tg_i64(g, "z", 4, sizes)};
    int n = tg_node(g, "Resize", ins, 4, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "exactly one"));
    n = tg_node(g, "Resize", ins, 3, 1);
    tg_attr_int(g, n, "antialias", 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "antialias"));
    int ins2[3] = {x, -1, tg_f32(g, "b", 3, bad_scales)};
    n = tg_node(g, "Resize", ins2, 3, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "scales"));
    n = tg_node(g, "Resize", ins, 3, 1);
    tg_attr_str(g, n, "mode", "area");
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "area"));
    int xi = tg_value(g, "xi", EVO_DTYPE_INT32, 4, dims, buf);
    int ins3[3] = {xi, -1, ins[2]};
    n = tg_node(g, "Resize", ins3, 3, 1);
    tg_attr_str(g, n, "mode", "linear");
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "float32"));
    int dyn = tg_value(g, "dyn", EVO_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    int ins4[3] = {x, -1, dyn};
    n = tg_node(g, "Resize", ins4, 3, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "constant"));
    evo_graph_free(g);
}

/* Upsample-7 with the scales attribute and linear mode (asymmetric). */
static void test_upsample7_linear(void)
{
    evo_graph *g = tg_new(7);
    int64_t dims[2] = {2, 2};
    float x[4] = {1, 2, 3, 4}, scales[2] = {2, 2};
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 2, dims, x);
    int n = tg_node(g, "Upsample", &in, 1, 1);
    tg_attr_floats(g, n, "scales", 2, scales);
    tg_attr_str(g, n, "mode", "linear");
    evo_error err = {0};
    CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
    float *y = tg_run(g, n, 1, 0);
    // asymmetric: row 0 = 1, 1.5, 2, 2; row 1 = 2, 2.5, 3, 3
    static const float want[8] = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3};
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(y[i], want[i], 1e-6);
    free(y);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_resize_onnx_node_tests), CHECK_TEST(test_resize_random),
           CHECK_TEST(test_resize_fast_variants), CHECK_TEST(test_resize_fast_selection),
           CHECK_TEST(test_resize_nearest_2x_dtypes), CHECK_TEST(test_resize_errors),
           CHECK_TEST(test_upsample7_linear))
