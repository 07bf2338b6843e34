/*
 * test_sgemm.c - the blocked SGEMM against a naive triple loop: odd sizes
 * (incl. 1 and sizes straddling the cache blocks), transposed and strided
 * operands, alpha/beta, the fused epilogue, and task splits.
 */
#include "check.h"
#include "core/core.h"
#include "kernels/sgemm.h"

#include <stdlib.h>

static void fill(check_rng *r, float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = check_rng_float(r, -1.0f, 1.0f);
}

/* Relative-to-magnitude error: |a-b| <= 1e-4 * (1 + sum |terms|). */
static int close_enough(double got, double want, double mag)
{
    return fabs(got - want) <= 1e-4 * (1.0 + mag);
}

typedef struct gemm_case {
    int64_t m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
    int use_epi;
    int n_tasks;
} gemm_case;

static void run_case(check_rng *r, const gemm_case *tc)
{
    int64_t m = tc->m, n = tc->n, k = tc->k;
    /* Pad leading dimensions so strides are not the tight ones. */
    int64_t lda = (tc->trans_a ? m : k) + 3, ldb = (tc->trans_b ? k : n) + 2, ldc = n + 5;
    int64_t a_rows = tc->trans_a ? k : m, b_rows = tc->trans_b ? n : k;
    float *a = malloc(sizeof(float) * (size_t)(a_rows * lda + 1));
    float *b = malloc(sizeof(float) * (size_t)(b_rows * ldb + 1));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    float *c0 = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    float *bias = malloc(sizeof(float) * (size_t)m);
    float *add = malloc(sizeof(float) * (size_t)(m * n));
    fill(r, a, a_rows * lda);
    fill(r, b, b_rows * ldb);
    fill(r, c0, m * ldc);
    fill(r, bias, m);
    fill(r, add, m * n);
    memcpy(c, c0, sizeof(float) * (size_t)(m * ldc));

    evo_sgemm_epilogue epi = {bias, add, n, 1, 0.5f, EVO_ACT_LEAKY_RELU, 0.1f, 0.0f};
    evo_sgemm_args g = {m, n, k, tc->alpha, tc->beta,
                        a, tc->trans_a ? 1 : lda, tc->trans_a ? lda : 1,
                        b, tc->trans_b ? 1 : ldb, tc->trans_b ? ldb : 1,
                        c, ldc, tc->use_epi ? &epi : NULL};
    size_t slice = (evo_sgemm_scratch_bytes(m, n, k) + 63) / 64 * 64;
    unsigned char *scratch = evo_aligned_alloc(slice * (size_t)tc->n_tasks);
    for (int t = 0; t < tc->n_tasks; t++)
        evo_sgemm_ref_task(&g, scratch + slice * (size_t)t, t, tc->n_tasks);

    int bad = 0;
    for (int64_t i = 0; i < m && bad < 3; i++) {
        for (int64_t j = 0; j < n && bad < 3; j++) {
            double sum = 0.0, mag = 0.0;
            for (int64_t p = 0; p < k; p++) {
                double av = tc->trans_a ? a[p * lda + i] : a[i * lda + p];
                double bv = tc->trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += av * bv;
                mag += fabs(av * bv);
            }
            double want = tc->alpha * sum + tc->beta * c0[i * ldc + j];
            if (tc->use_epi) {
                want += bias[i] + 0.5 * add[i * n + j];
                want = want >= 0.0 ? want : 0.1 * want;
            }
            if (!close_enough(c[i * ldc + j], want, mag)) {
                bad++;
                CHECK_MSG(0, "m=%lld n=%lld k=%lld ta=%d tb=%d alpha=%g beta=%g epi=%d tasks=%d: "
                          "C[%lld,%lld] = %.7g, want %.7g",
                          (long long)m, (long long)n, (long long)k, tc->trans_a, tc->trans_b,
                          tc->alpha, tc->beta, tc->use_epi, tc->n_tasks, (long long)i,
                          (long long)j, c[i * ldc + j], want);
            }
        }
    }
    /* Padding columns of C are never written. */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = n; j < ldc && i * ldc + j < m * ldc; j++)
            if (c[i * ldc + j] != c0[i * ldc + j])
                bad++;
    CHECK(bad == 0);
    evo_aligned_free(scratch);
    free(a);
    free(b);
    free(c);
    free(c0);
    free(bias);
    free(add);
}

static void test_sgemm_small_odd(void)
{
    check_rng r = {0x5eed1};
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 17, 31};
    for (int mi = 0; mi < 8; mi++)
        for (int ni = 0; ni < 8; ni++)
            for (int ki = 0; ki < 8; ki += 3) {
                gemm_case tc = {sizes[mi], sizes[ni], sizes[ki], (mi + ki) % 2, (ni + ki) % 2,
                                1.0f, 0.0f, 0, 1 + 2 * ((mi + ni) % 2)};
                run_case(&r, &tc);
            }
}

static void test_sgemm_blocks(void)
{
    /* Sizes straddling MC=120, KC=256, NC=2048 and the 6x16 tile. */
    check_rng r = {0x5eed2};
    static const gemm_case cases[] = {
        {121, 37, 257, 0, 0, 1.0f, 0.0f, 0, 1},  {127, 2049, 9, 0, 0, 1.0f, 0.0f, 0, 3},
        {241, 97, 513, 1, 0, 0.5f, 0.0f, 0, 3},  {64, 130, 300, 0, 1, 1.0f, 1.0f, 0, 1},
        {1, 1000, 512, 0, 1, 1.0f, 0.0f, 1, 3},  {1000, 1, 257, 1, 1, 2.0f, 0.0f, 0, 3},
        {61, 67, 71, 1, 1, -1.5f, 0.25f, 1, 3},  {30, 50, 1, 0, 0, 1.0f, 0.0f, 1, 1},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_case(&r, &cases[i]);
}

static void test_sgemm_random(void)
{
    check_rng r = {0x5eed3};
    for (int it = 0; it < 40; it++) {
        gemm_case tc = {check_rng_int(&r, 1, 70), check_rng_int(&r, 1, 90),
                        check_rng_int(&r, 1, 300), check_rng_int(&r, 0, 1),
                        check_rng_int(&r, 0, 1), check_rng_float(&r, -2.0f, 2.0f),
                        (it % 3) ? 0.0f : check_rng_float(&r, -1.0f, 1.0f), it % 2,
                        check_rng_int(&r, 1, 4)};
        run_case(&r, &tc);
    }
}

static void test_sgemm_k0(void)
{
    /* K = 0: C = beta*C, then the epilogue. */
    float c[6] = {1, 2, 3, 4, 5, 6}, bias[2] = {10, 20};
    evo_sgemm_epilogue epi = {bias, NULL, 0, 0, 0.0f, EVO_ACT_NONE, 0, 0};
    evo_sgemm_args g = {2, 3, 0, 1.0f, 0.5f, c, 1, 1, c, 1, 1, c, 3, &epi};
    unsigned char scratch[4096];
    evo_sgemm_ref(&g, scratch);
    CHECK_NEAR(c[0], 10.5, 1e-6);
    CHECK_NEAR(c[5], 23.0, 1e-6);
}

static void test_act_apply(void)
{
    CHECK_NEAR(evo_act_apply(-2.0f, EVO_ACT_RELU, 0, 0), 0.0, 0);
    CHECK_NEAR(evo_act_apply(-2.0f, EVO_ACT_LEAKY_RELU, 0.1f, 0), -0.2, 1e-7);
    CHECK_NEAR(evo_act_apply(0.0f, EVO_ACT_SIGMOID, 0, 0), 0.5, 1e-7);
    CHECK_NEAR(evo_act_apply(1.0f, EVO_ACT_SILU, 0, 0), 1.0 / (1.0 + exp(-1.0)), 1e-6);
    CHECK_NEAR(evo_act_apply(1.0f, EVO_ACT_HARD_SIGMOID, 0.2f, 0.5f), 0.7, 1e-6);
    CHECK_NEAR(evo_act_apply(1.0f, EVO_ACT_HARD_SWISH, 0, 0), 1.0 * (1.0 / 6.0 + 0.5), 1e-6);
    CHECK_NEAR(evo_act_apply(4.0f, EVO_ACT_HARD_SWISH, 0, 0), 4.0, 1e-6);
    CHECK_NEAR(evo_act_apply(-4.0f, EVO_ACT_HARD_SWISH, 0, 0), 0.0, 1e-6);
    CHECK_NEAR(evo_act_apply(7.0f, EVO_ACT_CLIP, 0.0f, 6.0f), 6.0, 0);
    CHECK_NEAR(evo_act_apply(0.5f, EVO_ACT_TANH, 0, 0), tanh(0.5), 1e-6);
}

CHECK_MAIN(CHECK_TEST(test_sgemm_small_odd), CHECK_TEST(test_sgemm_blocks),
           CHECK_TEST(test_sgemm_random), CHECK_TEST(test_sgemm_k0), CHECK_TEST(test_act_apply))
