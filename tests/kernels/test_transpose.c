/*
 * test_transpose.c - Transpose (random permutations up to rank 6, default
 * reverse, several element sizes) and DepthToSpace/SpaceToDepth (DCR, CRD,
 * and the round trip) against naive index formulas, SpaceToDepth's
 * vectorised variants against the reference; bad inputs.
 */
#include "tensor_test_util.h"
#include "core/cpu.h"
#include "kernels/fastops.h"

static void test_transpose_random(void)
{
    check_rng r = {5};
    static const evo_dtype types[] = {EVO_DTYPE_FLOAT, EVO_DTYPE_INT64, EVO_DTYPE_UINT8, EVO_DTYPE_INT16};
    for (int iter = 0; iter < 80; iter++) {
        int rank = check_rng_int(&r, 1, 6);
        evo_dtype t = types[iter % 4];
        size_t es = evo_dtype_size(t);
        int64_t dims[6], count = 1;
        for (int d = 0; d < rank; d++)
            count *= dims[d] = check_rng_int(&r, 1, 5);
        int64_t perm[6];
        for (int d = 0; d < rank; d++)
            perm[d] = d;
        for (int i = rank - 1; i > 0; i--) {
            int j = check_rng_int(&r, 0, i);
            int64_t tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        bool use_default = iter % 7 == 0;
        if (use_default) {
            for (int d = 0; d < rank; d++)
                perm[d] = rank - 1 - d;
        }
        uint8_t *x = malloc((size_t)count * es);
        for (size_t i = 0; i < (size_t)count * es; i++)
            x[i] = (uint8_t)check_rng_u64(&r);
        evo_graph *g = tg_new(13);
        int in = tg_value(g, "x", t, rank, dims, x);
        int n = tg_node(g, "Transpose", &in, 1, 1);
        if (!use_default)
            tg_attr_ints(g, n, "perm", rank, perm);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        const evo_value *y = tg_out(g, n, 0);
        for (int d = 0; d < rank; d++)
            CHECK(y->dims[d] == dims[perm[d]]);
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            uint8_t *out = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t e = 0; e < count; e++) {
                int64_t c[6], rem = e, off = 0;
                for (int d = rank - 1; d >= 0; d--) {
                    c[d] = rem % y->dims[d];
                    rem /= y->dims[d];
                }
                int64_t ic[6];
                for (int d = 0; d < rank; d++)
                    ic[perm[d]] = c[d];
                for (int d = 0; d < rank; d++)
                    off = off * dims[d] + ic[d];
                bad += memcmp(out + e * (int64_t)es, x + off * (int64_t)es, es) != 0;
            }
            CHECK_MSG(bad == 0, "iter %d rank %d tasks %d: %d wrong", iter, rank, tasks, bad);
            free(out);
        }
        free(x);
        evo_graph_free(g);
    }
}

static void test_transpose_errors(void)
{
    evo_graph *g = tg_new(13);
    float buf[8] = {0};
    int64_t dims[3] = {2, 2, 2}, dup[3] = {0, 0, 1}, short_perm[2] = {1, 0};
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 3, dims, buf);
    int n = tg_node(g, "Transpose", &in, 1, 1);
    tg_attr_ints(g, n, "perm", 3, dup);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "permutation"));
    n = tg_node(g, "Transpose", &in, 1, 1);
    tg_attr_ints(g, n, "perm", 2, short_perm);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
    evo_graph_free(g);
}

static void test_d2s_random(void)
{
    check_rng r = {11};
    for (int iter = 0; iter < 30; iter++) {
        int64_t b = check_rng_int(&r, 1, 3), N = check_rng_int(&r, 1, 2), C = check_rng_int(&r, 1, 3);
        int64_t H = check_rng_int(&r, 1, 4), W = check_rng_int(&r, 1, 5);
        bool crd = iter % 2;
        int64_t dims[4] = {N, C * b * b, H, W}, count = N * C * b * b * H * W;
        float *x = malloc(sizeof(float) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (float)i;
        evo_graph *g = tg_new(13);
        int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, x);
        int n = tg_node(g, "DepthToSpace", &in, 1, 1);
        tg_attr_int(g, n, "blocksize", b);
        if (crd || iter % 4 == 0)
            tg_attr_str(g, n, "mode", crd ? "CRD" : "DCR");
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        int64_t want[4] = {N, C, H * b, W * b};
        CHECK(tg_dims_eq(tg_out(g, n, 0), 4, want));
        float *y = tg_run(g, n, 1 + iter % 3, 0);
        int bad = 0;
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t oh = 0; oh < H * b; oh++)
                    for (int64_t ow = 0; ow < W * b; ow++) {
                        int64_t i = oh % b, j = ow % b, h = oh / b, w = ow / b;
                        int64_t ic = crd ? c * b * b + i * b + j : (i * b + j) * C + c;
                        float want_v = x[((nn * C * b * b + ic) * H + h) * W + w];
                        bad += y[((nn * C + c) * H * b + oh) * W * b + ow] != want_v;
                    }
        CHECK_MSG(bad == 0, "d2s iter %d: %d wrong", iter, bad);
        // SpaceToDepth undoes DCR DepthToSpace
        if (!crd) {
            int64_t yd[4] = {N, C, H * b, W * b};
            int yin = tg_value(g, "y", EVO_DTYPE_FLOAT, 4, yd, y);
            int m = tg_node(g, "SpaceToDepth", &yin, 1, 1);
            tg_attr_int(g, m, "blocksize", b);
            CHECK_MSG(tg_infer(g, m, &err) == EVO_OK, "%s", err.msg);
            CHECK(tg_dims_eq(tg_out(g, m, 0), 4, dims));
            float *z = tg_run(g, m, 2, 0);
            CHECK(memcmp(z, x, sizeof(float) * (size_t)count) == 0);
            free(z);
        }
        free(y);
        free(x);
        evo_graph_free(g);
    }
}

/*
 * The vectorised SpaceToDepth (blocksize 2; pass s2d_conv's) against the
 * reference: widths around the vector lengths (the odd pixels' loads stop
 * a vector early), odd channel counts, batch 2, 1-3 tasks; blocksize 3 and
 * int32 too, and odd sizes refused.
 */
static void test_s2d_fast_variants(void)
{
    const evo_kernel_def *variants[] = {
#if defined(__aarch64__)
        &evo_kernel_s2d_neon,
#endif
        &evo_kernel_s2d_avx512, &evo_kernel_s2d_avx2};
    check_rng r = {29};
    int n_checked = 0;
    for (int iter = 0; iter < 60; iter++) {
        int64_t b = iter % 10 == 9 ? 3 : 2, N = check_rng_int(&r, 1, 2), C = check_rng_int(&r, 1, 5);
        int64_t H = b * check_rng_int(&r, 1, 6), W = b * check_rng_int(&r, 1, 40);
        bool odd = iter % 15 == 14;
        if (odd)
            W += 1;
        int64_t dims[4] = {N, C, H, W}, count = N * C * H * W;
        float *x = malloc(sizeof(float) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (float)i - 0.5f;
        evo_graph *g = tg_new(13);
        int in = tg_value(g, "x", iter % 4 == 3 ? EVO_DTYPE_INT32 : EVO_DTYPE_FLOAT, 4, dims, x);
        int n = tg_node(g, "SpaceToDepth", &in, 1, 1);
        tg_attr_int(g, n, "blocksize", b);
        evo_error err = {0};
        if (odd) { /* W not a multiple of the block: the op itself refuses it */
            CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
            free(x);
            evo_graph_free(g);
            continue;
        }
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        float *want = tg_run(g, n, 1, 0);
        n_checked += tg_check_variants(g, n, variants, EVO_ARRAY_LEN(variants), b == 2, want,
                                       sizeof(float) * (size_t)count, "space_to_depth", iter);
        free(want);
        free(x);
        evo_graph_free(g);
    }
    if (evo_cpu_has_isa(EVO_ISA_AVX2) || evo_cpu_has_isa(EVO_ISA_NEON))
        CHECK_MSG(n_checked > 100, "only %d variant runs", n_checked);
}

/* ONNX test_spacetodepth_example / depthtospace_example values. */
static void test_d2s_onnx_example(void)
{
    evo_graph *g = tg_new(13);
    int64_t dims[4] = {1, 8, 2, 3};
    float x[48];
    for (int i = 0; i < 48; i++)
        x[i] = (float)i;
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, x);
    int n = tg_node(g, "DepthToSpace", &in, 1, 1);
    tg_attr_int(g, n, "blocksize", 2);
    tg_attr_str(g, n, "mode", "CRD");
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    float *y = tg_run(g, n, 1, 0);
    // first output row of the CRD example: [0, 6, 1, 7, 2, 8]
    static const float row0[6] = {0, 6, 1, 7, 2, 8};
    CHECK(memcmp(y, row0, sizeof(row0)) == 0);
    free(y);
    n = tg_node(g, "DepthToSpace", &in, 1, 1);
    tg_attr_int(g, n, "blocksize", 2);
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    y = tg_run(g, n, 1, 0);
    // DCR example first row: [0, 12, 1, 13, 2, 14]
    static const float dcr0[6] = {0, 12, 1, 13, 2, 14};
    CHECK(memcmp(y, dcr0, sizeof(dcr0)) == 0);
    free(y);
    int64_t bad_dims[4] = {1, 6, 2, 3};
    int bad = tg_value(g, "bad", EVO_DTYPE_FLOAT, 4, bad_dims, NULL);
    n = tg_node(g, "DepthToSpace", &bad, 1, 1);
    tg_attr_int(g, n, "blocksize", 2);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "divisible"));
    n = tg_node(g, "SpaceToDepth", &bad, 1, 1);
    tg_attr_int(g, n, "blocksize", 2);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
    n = tg_node(g, "SpaceToDepth", &bad, 1, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "blocksize"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_transpose_random), CHECK_TEST(test_transpose_errors), CHECK_TEST(test_d2s_random),
           CHECK_TEST(test_s2d_fast_variants), CHECK_TEST(test_d2s_onnx_example))
