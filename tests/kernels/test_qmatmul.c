/*
 * test_qmatmul.c - QLinearMatMul and MatMulInteger against a naive loop
 * written here: 1-D operands, broadcast batch dims, odd sizes, uint8/int8
 * on each side, per-tensor and per-column b scale/zero point, per-row
 * a zero point (MatMulInteger), FLOAT and FIXED requantization with fused
 * activations, 1 and 3 tasks, reference and registry-selected kernels; a
 * hand-computed case and bad inputs.
 */
#include "qtest_util.h"

typedef struct qm_case {
    int ra, rb;
    int64_t a[4], b[4];
    evo_dtype at, bt, yt;
    bool per_col, per_row, integer;
    qt_requant rq;
    int n_tasks;
} qm_case;

static int64_t bcast_off(const int64_t *dims, int rank, const int64_t *ob, int obr, int64_t bi, int64_t mat)
{
    int br = rank >= 2 ? rank - 2 : 0;
    int64_t off = 0, stride = mat;
    for (int i = obr - 1; i >= 0; i--) {
        int64_t idx = bi % ob[i];
        bi /= ob[i];
        int j = i - (obr - br);
        if (j >= 0) {
            off += (dims[j] == 1 ? 0 : idx) * stride;
            stride *= dims[j];
        }
    }
    return off;
}

static void qm_run_case(check_rng *r, const qm_case *tc)
{
    char desc[200];
    snprintf(desc, sizeof(desc), "%s A r%d [%lld,%lld,%lld] B r%d [%lld,%lld,%lld] %s x %s -> %s col %d row %d mode %d act %d",
             tc->integer ? "MatMulInteger" : "QLinearMatMul", tc->ra, (long long)tc->a[0], (long long)tc->a[1],
             (long long)tc->a[2], tc->rb, (long long)tc->b[0], (long long)tc->b[1], (long long)tc->b[2],
             evo_dtype_name(tc->at), evo_dtype_name(tc->bt), evo_dtype_name(tc->yt), tc->per_col, tc->per_row,
             tc->rq.mode, tc->rq.act);
    int64_t m = tc->ra >= 2 ? tc->a[tc->ra - 2] : 1, k = tc->a[tc->ra - 1], n = tc->rb >= 2 ? tc->b[tc->rb - 1] : 1;
    int bra = tc->ra >= 2 ? tc->ra - 2 : 0, brb = tc->rb >= 2 ? tc->rb - 2 : 0, br = bra > brb ? bra : brb;
    int64_t ob[4], n_batch = 1, an = 1, bn = 1;
    for (int i = 0; i < br; i++) {
        int ia = i - (br - bra), ib = i - (br - brb);
        int64_t da = ia >= 0 ? tc->a[ia] : 1, db = ib >= 0 ? tc->b[ib] : 1;
        ob[i] = da > db ? da : db;
        n_batch *= ob[i];
    }
    for (int i = 0; i < tc->ra; i++)
        an *= tc->a[i];
    for (int i = 0; i < tc->rb; i++)
        bn *= tc->b[i];
    int64_t ncol = tc->per_col ? n : 1, nrow = tc->per_row ? m : 1;
    uint8_t *a = qt_bytes(r, an, tc->at), *b = qt_bytes(r, bn, tc->bt), *azp = qt_bytes(r, nrow, tc->at);
    uint8_t *bzp = qt_bytes(r, ncol, tc->bt), *yzp = qt_bytes(r, 1, tc->yt);
    float as = check_rng_float(r, 0.002f, 0.05f), ys = check_rng_float(r, 0.05f, 0.5f), *bs = malloc(4 * (size_t)ncol);
    for (int64_t j = 0; j < ncol; j++)
        bs[j] = check_rng_float(r, 0.001f, 0.02f);
    evo_graph *g = evo_graph_new("test");
    int ia = qt_value(g, "a", tc->at, tc->ra, tc->a, NULL), ib = qt_value(g, "b", tc->bt, tc->rb, tc->b, b);
    int node;
    if (tc->integer) {
        int ins[4] = {ia, ib, qt_param(g, "azp", tc->at, nrow, azp), qt_param(g, "bzp", tc->bt, ncol, bzp)};
        node = nn_node(g, "MatMulInteger", 4, ins, 1);
    } else {
        int ins[8] = {ia, qt_param(g, "as", EVO_DTYPE_FLOAT, 1, &as), qt_param(g, "azp", tc->at, 1, azp), ib,
                      qt_param(g, "bs", EVO_DTYPE_FLOAT, ncol, bs), qt_param(g, "bzp", tc->bt, ncol, bzp),
                      qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &ys), qt_param(g, "yzp", tc->yt, 1, yzp)};
        node = nn_node(g, "QLinearMatMul", 8, ins, 1);
    }
    evo_node *nd = &g->nodes[node];
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    if (s == EVO_OK && !tc->integer) {
        nd->a.gemm.requant = tc->rq.mode ? EVO_REQUANT_FIXED : EVO_REQUANT_FLOAT;
        nd->a.gemm.act = tc->rq.act;
        nd->a.gemm.act_alpha = tc->rq.alpha;
        nd->a.gemm.act_beta = tc->rq.beta;
        nd->a.gemm.act_scale = tc->rq.act_scale;
        nd->a.gemm.act_zp = tc->rq.act_zp;
        s = evo_op_get(nd->op)->infer(g, nd, &err);
    }
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    int64_t y_count = n_batch * m * n;
    int32_t *want = malloc(sizeof(int32_t) * (size_t)y_count);
    for (int64_t bi = 0; bi < n_batch; bi++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                int64_t ao = bcast_off(tc->a, tc->ra, ob, br, bi, m * k), bo = bcast_off(tc->b, tc->rb, ob, br, bi, k * n);
                int32_t za = qt_load(azp, tc->at, tc->per_row ? i : 0), zb = qt_load(bzp, tc->bt, tc->per_col ? j : 0);
                int64_t acc = 0;
                for (int64_t kk = 0; kk < k; kk++)
                    acc += (qt_load(a, tc->at, ao + i * k + kk) - za) * (qt_load(b, tc->bt, bo + kk * n + j) - zb);
                int64_t oi = (bi * m + i) * n + j;
                want[oi] = tc->integer ? (int32_t)acc
                                       : qt_out(&tc->rq, (int32_t)acc, as, bs[tc->per_col ? j : 0], ys,
                                                qt_load(yzp, tc->yt, 0));
            }
    size_t y_bytes = (size_t)y_count * (tc->integer ? 4 : 1);
    void *got = malloc(y_bytes);
    const evo_kernel_def *ks[2] = {evo_kernel_ref(nd->op), s ? NULL : evo_kernel_select(g, nd, EVO_ISA_AMX)};
    for (int v = 0; v < 2 && s == EVO_OK && !(v == 1 && ks[1] == ks[0]); v++) {
        memset(got, 0xa5, y_bytes);
        void *ins[8] = {a, &as, azp, b, bs, bzp, &ys, yzp}, *ins_int[4] = {a, b, azp, bzp}, *outs[1] = {got};
        nn_run_kernel(ks[v], g, node, tc->integer ? ins_int : ins, outs, tc->n_tasks);
        int bad = 0;
        for (int64_t i = 0; i < y_count; i++) {
            int32_t gv = tc->integer ? ((int32_t *)got)[i] : qt_load(got, tc->yt, i);
            if (gv != want[i] && bad++ < 3)
                fprintf(stderr, "%s: %s: element %lld = %d want %d\n", desc, ks[v]->name, (long long)i, gv, want[i]);
        }
        CHECK_MSG(bad == 0, "%s: %s: %d mismatches", desc, ks[v]->name, bad);
    }
    free(a), free(b), free(azp), free(bzp), free(yzp), free(bs), free(want), free(got);
    evo_graph_free(g);
}

static void test_qmatmul_random(void)
{
    check_rng r = {0xabcdefu};
    static const evo_act acts[] = {EVO_ACT_NONE, EVO_ACT_RELU, EVO_ACT_CLIP, EVO_ACT_SIGMOID, EVO_ACT_HARD_SWISH};
    for (int it = 0; it < 100; it++) {
        qm_case tc;
        memset(&tc, 0, sizeof(tc));
        tc.ra = check_rng_int(&r, 1, 4);
        tc.rb = check_rng_int(&r, 1, 4);
        if (tc.ra == 1 && tc.rb == 1)
            tc.rb = 2;
        int64_t k = check_rng_int(&r, 1, 37);
        for (int i = 0; i < tc.ra; i++)
            tc.a[i] = check_rng_int(&r, 1, 7);
        for (int i = 0; i < tc.rb; i++)
            tc.b[i] = check_rng_int(&r, 1, 9);
        /* compatible batch dims: equal or 1 */
        for (int i = 0; i < 2; i++) {
            int ia = tc.ra - 3 - i, ib = tc.rb - 3 - i;
            if (ia >= 0 && ib >= 0 && tc.a[ia] != tc.b[ib] && check_rng_int(&r, 0, 1))
                tc.a[ia] = 1;
            else if (ia >= 0 && ib >= 0 && tc.a[ia] != tc.b[ib])
                tc.b[ib] = tc.a[ia];
        }
        tc.a[tc.ra - 1] = k;
        tc.b[tc.rb == 1 ? 0 : tc.rb - 2] = k;
        tc.at = check_rng_int(&r, 0, 1) ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        tc.bt = check_rng_int(&r, 0, 1) ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        tc.yt = check_rng_int(&r, 0, 1) ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        tc.integer = it % 4 == 3;
        tc.per_col = tc.rb >= 2 && check_rng_int(&r, 0, 1);
        tc.per_row = tc.integer && tc.ra >= 2 && check_rng_int(&r, 0, 1);
        tc.rq.mode = check_rng_int(&r, 0, 1);
        tc.rq.act = acts[it % 5];
        tc.rq.alpha = -0.5f;
        tc.rq.beta = 2.0f;
        tc.rq.act_scale = 0.05f;
        tc.rq.act_zp = tc.yt == EVO_DTYPE_INT8 ? 3 : 130;
        tc.rq.yt = tc.yt;
        tc.n_tasks = it % 2 ? 3 : 1;
        qm_run_case(&r, &tc);
    }
}

/* [1 2; 3 4] x [5 6; 7 8] with a_zp 1, b_zp 5: [0 1; 2 3] x [0 1; 2 3] = [2 3; 6 11]. */
static void test_qmatmul_hand(void)
{
    evo_graph *g = evo_graph_new("test");
    uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, azp = 1, bzp = 5;
    int64_t d[2] = {2, 2};
    int ins[4] = {qt_value(g, "a", EVO_DTYPE_UINT8, 2, d, NULL), qt_value(g, "b", EVO_DTYPE_UINT8, 2, d, NULL),
                  qt_param(g, "azp", EVO_DTYPE_UINT8, 1, &azp), qt_param(g, "bzp", EVO_DTYPE_UINT8, 1, &bzp)};
    int node = nn_node(g, "MatMulInteger", 4, ins, 1);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    int32_t y[4] = {0};
    void *in_data[4] = {a, b, &azp, &bzp}, *out_data[1] = {y};
    nn_run(g, node, in_data, out_data, 2);
    CHECK(y[0] == 2 && y[1] == 3 && y[2] == 6 && y[3] == 11);
    evo_graph_free(g);
}

static void test_qmatmul_bad_inputs(void)
{
    evo_graph *g = evo_graph_new("test");
    uint8_t u = 0;
    int8_t i8 = 0;
    float f = 0.1f, f2[2] = {0.1f, 0.2f};
    int64_t ad[2] = {3, 4}, bd[2] = {4, 5};
    int ins[8] = {qt_value(g, "a", EVO_DTYPE_UINT8, 2, ad, NULL), qt_param(g, "as", EVO_DTYPE_FLOAT, 1, &f),
                  qt_param(g, "azp", EVO_DTYPE_UINT8, 1, &u), qt_value(g, "b", EVO_DTYPE_INT8, 2, bd, NULL),
                  qt_param(g, "bs", EVO_DTYPE_FLOAT, 2, f2), qt_param(g, "bzp", EVO_DTYPE_INT8, 1, &i8),
                  qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &f), qt_param(g, "yzp", EVO_DTYPE_UINT8, 1, &u)};
    int node = nn_node(g, "QLinearMatMul", 8, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE);
    CHECK_MSG(nn_names_node(&err) && strstr(err.msg, "b_scale") && strstr(err.msg, "[5]"), "%s", err.msg);
    g->nodes[node].in[4] = ins[1];
    g->nodes[node].in[5] = ins[2]; /* uint8 zero point for int8 b */
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "b_zero_point") && strstr(err.msg, "int8"), "%s", err.msg);
    evo_graph_free(g);
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"qmatmul_hand", test_qmatmul_hand},
        {"qmatmul_random", test_qmatmul_random},
        {"qmatmul_bad_inputs", test_qmatmul_bad_inputs},
    };
    return check_run(tests, (int)(sizeof(tests) / sizeof(tests[0])), argc, argv);
}
