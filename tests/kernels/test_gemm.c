/*
 * test_gemm.c - Gemm against a naive loop written here: transA/transB,
 * alpha/beta, every C broadcast form (absent, scalar, [1], [N], [1,N],
 * [M,1], [M,N]), odd sizes incl. 1, 1 and 3 tasks, a fused activation;
 * a hand-computed case; bad inputs.
 */
#include "nn_util.h"
#include "core/cpu.h"
#include "kernels/fastops.h"

#include <math.h>

typedef struct gemm_case {
    int64_t m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
    int c_rank; /* -1: no C */
    int64_t c_dims[2];
    int n_tasks;
    bool const_b; /* B a constant (as a model's weights): the AVX-512 variant packs it when M = 1 */
} gemm_case;

static int gemm_fast_runs; /* cases the AVX-512 variant ran */

static void run_gemm_case(check_rng *r, const gemm_case *tc, evo_act act)
{
    char desc[200];
    snprintf(desc, sizeof(desc),
             "M=%lld N=%lld K=%lld tA=%d tB=%d alpha=%g beta=%g C rank %d "
             "[%lld,%lld] tasks=%d act=%d",
             (long long)tc->m, (long long)tc->n, (long long)tc->k, tc->trans_a, tc->trans_b, tc->alpha,
             tc->beta, tc->c_rank, (long long)tc->c_dims[0], (long long)tc->c_dims[1], tc->n_tasks, (int)act);
    evo_graph *g = evo_graph_new("test");
    int64_t ad[2] = {tc->trans_a ? tc->k : tc->m, tc->trans_a ? tc->m : tc->k};
    int64_t bd[2] = {tc->trans_b ? tc->n : tc->k, tc->trans_b ? tc->k : tc->n};
    int ins[3] = {nn_value(g, "A", EVO_DTYPE_FLOAT, 2, ad), nn_value(g, "B", EVO_DTYPE_FLOAT, 2, bd),
                  tc->c_rank >= 0 ? nn_value(g, "C", EVO_DTYPE_FLOAT, tc->c_rank, tc->c_dims) : -1};
    int node = nn_node(g, "Gemm", tc->c_rank >= 0 ? 3 : 2, ins, 1);
    nn_attr_float(g, node, "alpha", tc->alpha);
    nn_attr_float(g, node, "beta", tc->beta);
    nn_attr_int(g, node, "transA", tc->trans_a);
    nn_attr_int(g, node, "transB", tc->trans_b);
    float *b = nn_random(r, tc->k * tc->n);
    if (tc->const_b)
        g->values[ins[1]].data = b;
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        free(b);
        return;
    }
    g->nodes[node].a.gemm.act = act;
    g->nodes[node].a.gemm.act_alpha = 0.0f;
    g->nodes[node].a.gemm.act_beta = 0.5f;
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK(y->rank == 2 && y->dims[0] == tc->m && y->dims[1] == tc->n);
    int64_t cn = tc->c_rank <= 0 ? 1 : (tc->c_rank == 1 ? tc->c_dims[0] : tc->c_dims[0] * tc->c_dims[1]);
    float *a = nn_random(r, tc->m * tc->k), *c = nn_random(r, cn);
    float *got = nn_random(r, tc->m * tc->n);
    double *want = malloc(sizeof(double) * (size_t)(tc->m * tc->n));
    for (int64_t i = 0; i < tc->m; i++)
        for (int64_t j = 0; j < tc->n; j++) {
            double sum = 0.0;
            for (int64_t p = 0; p < tc->k; p++) {
                double av = tc->trans_a ? a[p * tc->m + i] : a[i * tc->k + p];
                double bv = tc->trans_b ? b[j * tc->k + p] : b[p * tc->n + j];
                sum += av * bv;
            }
            double cv = 0.0;
            if (tc->c_rank == 0)
                cv = c[0];
            else if (tc->c_rank == 1)
                cv = c[tc->c_dims[0] == 1 ? 0 : j];
            else if (tc->c_rank == 2)
                cv = c[(tc->c_dims[0] == 1 ? 0 : i) * tc->c_dims[1] + (tc->c_dims[1] == 1 ? 0 : j)];
            double v = tc->alpha * sum + tc->beta * cv;
            if (act == EVO_ACT_CLIP)
                v = v < 0.0 ? 0.0 : (v > 0.5 ? 0.5 : v);
            want[i * tc->n + j] = v;
        }
    void *in_data[3] = {a, b, c}, *out_data[1] = {got};
    nn_run(g, node, in_data, out_data, tc->n_tasks);
    CHECK_MSG(nn_compare(got, want, tc->m * tc->n, 1e-4, desc) == 0, "%s", desc);
    /* the AVX-512 variant, on the shapes it takes */
    const evo_kernel_def *fast = evo_kernel_select(g, &g->nodes[node], EVO_ISA_AVX512);
    if (fast && fast != evo_kernel_ref(EVO_OP_GEMM)) {
        CHECK(fast == &evo_kernel_gemm_avx512);
        for (int64_t i = 0; i < tc->m * tc->n; i++)
            got[i] = NAN;
        nn_run_kernel(fast, g, node, in_data, out_data, tc->n_tasks);
        CHECK_MSG(nn_compare(got, want, tc->m * tc->n, 1e-4, desc) == 0, "avx512: %s", desc);
        gemm_fast_runs++;
    }
    free(a);
    free(b);
    free(c);
    free(got);
    free(want);
    evo_graph_free(g);
}

static void test_gemm_forms(void)
{
    check_rng r = {0x6e01};
    static const int64_t sizes[][3] = {{1, 1, 1},   {3, 5, 7},     {1, 1000, 64},
                                       {13, 1, 17}, {37, 29, 300}, {130, 70, 9}};
    for (size_t si = 0; si < EVO_ARRAY_LEN(sizes); si++) {
        int64_t m = sizes[si][0], n = sizes[si][1], k = sizes[si][2];
        gemm_case forms[] = {
            {m, n, k, 0, 0, 1.0f, 1.0f, -1, {0, 0}, 1}, {m, n, k, 1, 0, 0.5f, 2.0f, 0, {0, 0}, 3},
            {m, n, k, 0, 1, 1.0f, 1.0f, 1, {1, 0}, 3},  {m, n, k, 1, 1, 0.25f, 0.35f, 1, {n, 0}, 1},
            {m, n, k, 0, 0, 1.0f, -1.0f, 2, {1, n}, 3}, {m, n, k, 0, 1, 2.0f, 1.0f, 2, {m, 1}, 3},
            {m, n, k, 1, 0, 1.0f, 0.5f, 2, {m, n}, 1},  {m, n, k, 0, 0, 1.0f, 0.0f, 2, {m, n}, 3},
        };
        for (size_t f = 0; f < EVO_ARRAY_LEN(forms); f++)
            run_gemm_case(&r, &forms[f], EVO_ACT_NONE);
    }
    gemm_case fused = {19, 23, 31, 0, 1, 1.0f, 1.0f, 1, {23, 0}, 3};
    run_gemm_case(&r, &fused, EVO_ACT_CLIP);
    /* a ResNet head (M = 1, B as [N][K]) and a batch of 16 with B as [K][N], both fused */
    gemm_case head = {1, 1000, 512, 0, 1, 1.0f, 1.0f, 1, {1000, 0}, 2};
    run_gemm_case(&r, &head, EVO_ACT_CLIP);
    gemm_case batch = {16, 131, 67, 0, 0, 0.5f, 2.0f, 2, {16, 131}, 3};
    run_gemm_case(&r, &batch, EVO_ACT_CLIP);
    /*
     * M = 1 against a constant B, packed in 8-column panels: N off a
     * multiple of 8 and of the tasks' 64-column units, K below, at and
     * past one 16-row step (odd: the last row pair half empty).
     */
    static const int64_t heads[][2] = {{1, 1}, {7, 15}, {8, 16}, {13, 17}, {70, 33}, {1000, 300}, {129, 1281}};
    for (size_t i = 0; i < EVO_ARRAY_LEN(heads); i++)
        for (int tb = 0; tb < 2; tb++) {
            int64_t n = heads[i][0];
            gemm_case one = {1, n, heads[i][1], 0, tb, 1.0f, 0.5f, 1, {n, 0}, 1 + (int)(i % 3), true};
            run_gemm_case(&r, &one, tb ? EVO_ACT_CLIP : EVO_ACT_NONE);
        }
    if (evo_cpu_has_isa(EVO_ISA_AVX512))
        CHECK_MSG(gemm_fast_runs >= 20, "AVX-512 Gemm ran %d cases", gemm_fast_runs);
}

static void test_gemm_hand_computed(void)
{
    /* [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]; alpha 2, beta 1, C = [1, -1]. */
    evo_graph *g = evo_graph_new("test");
    int64_t d2[2] = {2, 2}, d1 = 2;
    int ins[3] = {nn_value(g, "A", EVO_DTYPE_FLOAT, 2, d2), nn_value(g, "B", EVO_DTYPE_FLOAT, 2, d2),
                  nn_value(g, "C", EVO_DTYPE_FLOAT, 1, &d1)};
    int node = nn_node(g, "Gemm", 3, ins, 1);
    nn_attr_float(g, node, "alpha", 2.0f);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[2] = {1, -1}, y[4];
    void *in_data[3] = {a, b, c}, *out_data[1] = {y};
    nn_run(g, node, in_data, out_data, 2);
    CHECK_NEAR(y[0], 39, 1e-5);
    CHECK_NEAR(y[1], 43, 1e-5);
    CHECK_NEAR(y[2], 87, 1e-5);
    CHECK_NEAR(y[3], 99, 1e-5);
    evo_graph_free(g);
}

static evo_status infer_dims(const int64_t *ad, const int64_t *bd, int c_rank, const int64_t *cd, int trans_b,
                             evo_error *err)
{
    evo_graph *g = evo_graph_new("test");
    int ins[3] = {nn_value(g, "A", EVO_DTYPE_FLOAT, 2, ad), nn_value(g, "B", EVO_DTYPE_FLOAT, 2, bd),
                  c_rank >= 0 ? nn_value(g, "C", EVO_DTYPE_FLOAT, c_rank, cd) : -1};
    int node = nn_node(g, "Gemm", c_rank >= 0 ? 3 : 2, ins, 1);
    nn_attr_int(g, node, "transB", trans_b);
    evo_status s = nn_infer(g, node, err);
    evo_graph_free(g);
    return s;
}

static void test_gemm_bad_inputs(void)
{
    evo_error err = {0};
    int64_t a[2] = {3, 4}, b[2] = {4, 5}, bt[2] = {5, 4}, c_bad[2] = {2, 5}, c_ok[2] = {3, 1};
    CHECK(infer_dims(a, b, 2, c_ok, 0, &err) == EVO_OK);
    CHECK(infer_dims(a, bt, -1, NULL, 1, &err) == EVO_OK);
    CHECK(infer_dims(a, bt, -1, NULL, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "inner dims"), "%s", err.msg);
    memset(&err, 0, sizeof(err));
    CHECK(infer_dims(a, b, 2, c_bad, 0, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "broadcast"), "%s", err.msg);
}

CHECK_MAIN(CHECK_TEST(test_gemm_forms), CHECK_TEST(test_gemm_hand_computed), CHECK_TEST(test_gemm_bad_inputs))
