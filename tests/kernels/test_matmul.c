/*
 * test_matmul.c - MatMul against a naive loop written here: 1-D operands,
 * numpy batch broadcasting (either side, rank 2..5, size-1 dims), the
 * linear-layer fold, odd sizes, 1 and 3 tasks; a hand-computed case; bad
 * inputs.
 */
#include "nn_util.h"

typedef struct mm_case {
    int ra, rb;
    int64_t a[6], b[6];
    int n_tasks;
} mm_case;

/* Index of a broadcast operand for output batch index bi. */
static int64_t batch_offset(const int64_t *dims, int rank, const int64_t *out_batch, int out_br,
                            int64_t bi, int64_t mat)
{
    int br = rank >= 2 ? rank - 2 : 0;
    int64_t off = 0, stride = mat;
    for (int i = out_br - 1; i >= 0; i--) {
        int64_t idx = bi % out_batch[i];
        bi /= out_batch[i];
        int j = i - (out_br - br);
        if (j >= 0) {
            off += (dims[j] == 1 ? 0 : idx) * stride;
            stride *= dims[j];
        }
    }
    return off;
}

static void run_mm_case(check_rng *r, const mm_case *tc)
{
    char desc[160];
    snprintf(desc, sizeof(desc), "A rank %d [%lld,%lld,%lld..] B rank %d [%lld,%lld,%lld..] tasks %d",
             tc->ra, (long long)tc->a[0], (long long)tc->a[1], (long long)tc->a[2], tc->rb,
             (long long)tc->b[0], (long long)tc->b[1], (long long)tc->b[2], tc->n_tasks);
    evo_graph *g = evo_graph_new("test");
    int ins[2] = {nn_value(g, "A", EVO_DTYPE_FLOAT, tc->ra, tc->a),
                  nn_value(g, "B", EVO_DTYPE_FLOAT, tc->rb, tc->b)};
    int node = nn_node(g, "MatMul", 2, ins, 1);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s) {
        evo_graph_free(g);
        return;
    }
    int64_t m = tc->ra >= 2 ? tc->a[tc->ra - 2] : 1, k = tc->a[tc->ra - 1];
    int64_t n = tc->rb >= 2 ? tc->b[tc->rb - 1] : 1;
    int bra = tc->ra >= 2 ? tc->ra - 2 : 0, brb = tc->rb >= 2 ? tc->rb - 2 : 0;
    int br = bra > brb ? bra : brb, rank = 0;
    int64_t out_batch[6], dims[8], n_batch = 1;
    for (int i = 0; i < br; i++) {
        int ia = i - (br - bra), ib = i - (br - brb);
        int64_t da = ia >= 0 ? tc->a[ia] : 1, db = ib >= 0 ? tc->b[ib] : 1;
        out_batch[i] = da > db ? da : db;
        dims[rank++] = out_batch[i];
        n_batch *= out_batch[i];
    }
    if (tc->ra >= 2)
        dims[rank++] = m;
    if (tc->rb >= 2)
        dims[rank++] = n;
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK_MSG(y->rank == rank, "%s: rank %d want %d", desc, y->rank, rank);
    for (int i = 0; i < rank && i < y->rank; i++)
        CHECK_MSG(y->dims[i] == dims[i], "%s: dim %d", desc, i);
    int64_t an = 1, bn = 1;
    for (int i = 0; i < tc->ra; i++)
        an *= tc->a[i];
    for (int i = 0; i < tc->rb; i++)
        bn *= tc->b[i];
    float *a = nn_random(r, an), *b = nn_random(r, bn), *got = nn_random(r, n_batch * m * n);
    double *want = malloc(sizeof(double) * (size_t)(n_batch * m * n));
    for (int64_t bi = 0; bi < n_batch; bi++) {
        const float *ab = a + batch_offset(tc->a, tc->ra, out_batch, br, bi, m * k);
        const float *bb = b + batch_offset(tc->b, tc->rb, out_batch, br, bi, k * n);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double sum = 0.0;
                for (int64_t p = 0; p < k; p++)
                    sum += (double)ab[i * k + p] * bb[p * n + j];
                want[(bi * m + i) * n + j] = sum;
            }
    }
    void *in_data[2] = {a, b}, *out_data[1] = {got};
    nn_run(g, node, in_data, out_data, tc->n_tasks);
    CHECK_MSG(nn_compare(got, want, n_batch * m * n, 1e-4, desc) == 0, "%s", desc);
    free(a);
    free(b);
    free(got);
    free(want);
    evo_graph_free(g);
}

static void test_matmul_fixed(void)
{
    check_rng r = {0x3a01};
    static const mm_case cases[] = {
        {2, 2, {3, 4}, {4, 3}, 1},
        {3, 3, {2, 3, 4}, {2, 4, 3}, 3},
        {4, 4, {1, 2, 3, 4}, {1, 2, 4, 3}, 3},
        {1, 1, {7}, {7}, 1},
        {1, 2, {5}, {5, 3}, 3},
        {2, 1, {4, 5}, {5}, 3},
        {1, 3, {5}, {2, 5, 3}, 3},
        {3, 1, {2, 4, 5}, {5}, 1},
        {3, 2, {4, 7, 9}, {9, 11}, 3},          /* linear layer: folds into one GEMM */
        {2, 3, {7, 9}, {4, 9, 11}, 3},          /* A broadcast over B's batch */
        {4, 3, {2, 1, 5, 6}, {3, 6, 7}, 3},     /* [2,1] x [3] -> [2,3] */
        {5, 4, {2, 1, 3, 5, 4}, {3, 1, 4, 2}, 1},
        {3, 3, {1, 3, 4}, {5, 4, 2}, 3},
        {2, 2, {67, 300}, {300, 45}, 3},
        {3, 3, {2, 1, 13}, {2, 13, 1}, 3},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_mm_case(&r, &cases[i]);
}

static void test_matmul_random(void)
{
    check_rng r = {0x3a02};
    for (int it = 0; it < 60; it++) {
        mm_case tc;
        memset(&tc, 0, sizeof(tc));
        tc.ra = check_rng_int(&r, 1, 5);
        tc.rb = check_rng_int(&r, 1, 5);
        int64_t m = check_rng_int(&r, 1, 19), k = check_rng_int(&r, 1, 23), n = check_rng_int(&r, 1, 17);
        int bra = tc.ra >= 2 ? tc.ra - 2 : 0, brb = tc.rb >= 2 ? tc.rb - 2 : 0;
        int br = bra > brb ? bra : brb;
        int64_t batch[3];
        for (int i = 0; i < br; i++)
            batch[i] = check_rng_int(&r, 1, 3);
        for (int i = 0; i < bra; i++)
            tc.a[i] = check_rng_int(&r, 0, 2) ? batch[br - bra + i] : 1;
        for (int i = 0; i < brb; i++)
            tc.b[i] = check_rng_int(&r, 0, 2) ? batch[br - brb + i] : 1;
        if (tc.ra >= 2) {
            tc.a[tc.ra - 2] = m;
            tc.a[tc.ra - 1] = k;
        } else {
            tc.a[0] = k;
        }
        if (tc.rb >= 2) {
            tc.b[tc.rb - 2] = k;
            tc.b[tc.rb - 1] = n;
        } else {
            tc.b[0] = k;
        }
        tc.n_tasks = check_rng_int(&r, 1, 3);
        run_mm_case(&r, &tc);
    }
}

static void test_matmul_hand_computed(void)
{
    /* [1,2,3] . [[1,0],[0,1],[1,1]] = [4, 5] (1-D A drops M). */
    evo_graph *g = evo_graph_new("test");
    int64_t ad = 3, bd[2] = {3, 2};
    int ins[2] = {nn_value(g, "A", EVO_DTYPE_FLOAT, 1, &ad), nn_value(g, "B", EVO_DTYPE_FLOAT, 2, bd)};
    int node = nn_node(g, "MatMul", 2, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK(y->rank == 1 && y->dims[0] == 2);
    float a[3] = {1, 2, 3}, b[6] = {1, 0, 0, 1, 1, 1}, out[2];
    void *in_data[2] = {a, b}, *out_data[1] = {out};
    nn_run(g, node, in_data, out_data, 1);
    CHECK_NEAR(out[0], 4, 1e-6);
    CHECK_NEAR(out[1], 5, 1e-6);
    evo_graph_free(g);
}

static void test_matmul_bad_inputs(void)
{
    evo_graph *g = evo_graph_new("test");
    int64_t ad[3] = {2, 3, 4}, bd[3] = {3, 4, 5}, bk[2] = {5, 6};
    int ins[2] = {nn_value(g, "A", EVO_DTYPE_FLOAT, 3, ad), nn_value(g, "B", EVO_DTYPE_FLOAT, 3, bd)};
    int node = nn_node(g, "MatMul", 2, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE); /* batch 2 vs 3 */
    CHECK_MSG(nn_names_node(&err), "%s", err.msg);
    evo_graph_free(g);
    g = evo_graph_new("test");
    int ins2[2] = {nn_value(g, "A", EVO_DTYPE_FLOAT, 3, ad), nn_value(g, "B", EVO_DTYPE_FLOAT, 2, bk)};
    node = nn_node(g, "MatMul", 2, ins2, 1);
    memset(&err, 0, sizeof(err));
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE); /* K 4 vs 5 */
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "inner dims"), "%s", err.msg);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_matmul_fixed), CHECK_TEST(test_matmul_random),
           CHECK_TEST(test_matmul_hand_computed), CHECK_TEST(test_matmul_bad_inputs))
