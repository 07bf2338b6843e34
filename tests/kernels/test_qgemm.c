/*
 * test_qgemm.c - com.microsoft QGemm against a direct loop written here:
 * random odd M, K, N, both transposes, per-tensor and per-column B
 * parameters, every bias shape, quantized and float Y, uint8 and int8 A,
 * 1 and 3 tasks; a hand-computed case; bad inputs.
 */
#include "q_util.h"

typedef struct qg_case {
    evo_dtype ta, tb;
    int64_t m, k, n;
    bool trans_a, trans_b, per_col, quant_y;
    int bias_rank; /* -1: no C; 0: scalar; 1: [N]; 2: [M, N] or [M, 1] (bias_col) */
    bool bias_col;
    float alpha;
} qg_case;

static void run(check_rng *r, const qg_case *c, int n_tasks)
{
    char desc[200];
    snprintf(desc, sizeof(desc),
             "QGemm %s/%s m=%lld k=%lld n=%lld tA=%d tB=%d per_col=%d quant_y=%d bias=%d%s tasks=%d",
             evo_dtype_name(c->ta), evo_dtype_name(c->tb), (long long)c->m, (long long)c->k, (long long)c->n,
             c->trans_a, c->trans_b, c->per_col, c->quant_y, c->bias_rank, c->bias_col ? "col" : "", n_tasks);
    evo_graph *g = evo_graph_new("test");
    int64_t da[2] = {c->trans_a ? c->k : c->m, c->trans_a ? c->m : c->k};
    int64_t db[2] = {c->trans_b ? c->n : c->k, c->trans_b ? c->k : c->n}, np = c->per_col ? c->n : 1;
    float bs[64], sa = check_rng_float(r, 0.01f, 0.05f), sy = check_rng_float(r, 0.05f, 0.3f);
    uint8_t bz[64];
    for (int64_t i = 0; i < np; i++) {
        bs[i] = check_rng_float(r, 0.002f, 0.02f);
        bz[i] = (uint8_t)q_zp_rand(r, c->tb);
    }
    int za = q_zp_rand(r, c->ta), zy = q_zp_rand(r, c->ta);
    uint8_t *b = q_bytes(r, c->k * c->n);
    int64_t dc[2] = {c->bias_rank == 2 ? c->m : c->n, c->bias_col ? 1 : c->n}, nc = 1;
    for (int i = 0; i < c->bias_rank; i++)
        nc *= dc[i];
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)nc);
    for (int64_t i = 0; i < nc; i++)
        bias[i] = check_rng_int(r, -5000, 5000);
    int ins[9] = {nn_value(g, "A", c->ta, 2, da),
                  q_scale(g, "a_s", sa),
                  q_zp(g, "a_z", c->ta, za),
                  evo_graph_add_value(g, "B"),
                  evo_graph_add_value(g, "b_s"),
                  evo_graph_add_value(g, "b_z"),
                  -1,
                  -1,
                  -1};
    evo_value_set_const(g, &g->values[ins[3]], c->tb, 2, db, b, NULL);
    evo_value_set_const(g, &g->values[ins[4]], EVO_DTYPE_FLOAT, c->per_col, &c->n, bs, NULL);
    evo_value_set_const(g, &g->values[ins[5]], c->tb, c->per_col, &c->n, bz, NULL);
    if (c->bias_rank >= 0) {
        ins[6] = evo_graph_add_value(g, "C");
        evo_value_set_const(g, &g->values[ins[6]], EVO_DTYPE_INT32, c->bias_rank,
                            c->bias_rank == 1 ? dc + 1 : dc, bias, NULL);
    }
    if (c->quant_y)
        ins[7] = q_scale(g, "y_s", sy), ins[8] = q_zp(g, "y_z", c->ta, zy);
    int node = nn_node(g, evo_op_name(EVO_OP_QGEMM), c->quant_y ? 9 : 7, ins, 1);
    nn_attr_int(g, node, "transA", c->trans_a);
    nn_attr_int(g, node, "transB", c->trans_b);
    nn_attr_float(g, node, "alpha", c->alpha);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s == EVO_OK) {
        int64_t ny = c->m * c->n;
        uint8_t *a = q_bytes(r, c->m * c->k), *want = malloc((size_t)ny), *got = q_bytes(r, ny * 4);
        float *wantf = malloc(sizeof(float) * (size_t)ny);
        for (int64_t i = 0; i < c->m; i++)
            for (int64_t j = 0; j < c->n; j++) {
                int64_t p = c->per_col ? j : 0;
                int32_t acc = c->bias_rank < 0    ? 0
                              : c->bias_rank == 0 ? bias[0]
                              : c->bias_rank == 1 ? bias[j]
                                                  : bias[i * dc[1] + (c->bias_col ? 0 : j)];
                for (int64_t t = 0; t < c->k; t++)
                    acc += (q_val(a[c->trans_a ? t * c->m + i : i * c->k + t], c->ta) - za) *
                           (q_val(b[c->trans_b ? j * c->k + t : t * c->n + j], c->tb) - q_val(bz[p], c->tb));
                float scale = c->alpha * sa * bs[p];
                wantf[i * c->n + j] = (float)acc * scale;
                want[i * c->n + j] = q_quant((float)acc * (scale / sy), zy, c->ta);
            }
        void *in_data[9] = {a};
        q_run(g, node, in_data, got, n_tasks);
        if (c->quant_y)
            CHECK_MSG(q_compare(got, want, ny, c->ta, desc) == 0, "%s", desc);
        else
            CHECK_MSG(memcmp(got, wantf, sizeof(float) * (size_t)ny) == 0, "%s: float Y differs", desc);
        free(a), free(want), free(got), free(wantf);
    }
    free(b), free(bias);
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0x9e33};
    for (int it = 0; it < 80; it++) {
        qg_case c = {it % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8, it % 3 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8};
        c.m = check_rng_int(&r, 1, 9);
        c.k = check_rng_int(&r, 1, 70);
        c.n = check_rng_int(&r, 1, 13);
        c.trans_a = check_rng_int(&r, 0, 1);
        c.trans_b = check_rng_int(&r, 0, 1);
        c.per_col = check_rng_int(&r, 0, 1);
        c.quant_y = it % 4 != 3;
        c.bias_rank = check_rng_int(&r, -1, 2);
        c.bias_col = c.bias_rank == 2 && check_rng_int(&r, 0, 1);
        c.alpha = it % 5 == 0 ? check_rng_float(&r, 0.5f, 2.0f) : 1.0f;
        run(&r, &c, it % 3 == 0 ? 3 : 1);
    }
}

static void test_hand(void)
{
    /* [1, 2] . [2, 1]: (3 - 1)(4) + (5 - 1)(-2) = 0, + bias 100 = 100; * 0.1 * 0.5 / 1 = 5 -> 5 + y_zp 3 = 8
     */
    evo_graph *g = evo_graph_new("test");
    int64_t da[2] = {1, 2}, db[2] = {2, 1}, one = 1;
    uint8_t bq[2] = {4, (uint8_t)-2}, bz = 0;
    float bs = 0.5f;
    int32_t bias = 100;
    int ins[9] = {nn_value(g, "A", EVO_DTYPE_UINT8, 2, da),
                  q_scale(g, "a_s", 0.1f),
                  q_zp(g, "a_z", EVO_DTYPE_UINT8, 1),
                  evo_graph_add_value(g, "B"),
                  q_scale(g, "b_s", bs),
                  evo_graph_add_value(g, "b_z"),
                  evo_graph_add_value(g, "C"),
                  q_scale(g, "y_s", 1.0f),
                  q_zp(g, "y_z", EVO_DTYPE_UINT8, 3)};
    evo_value_set_const(g, &g->values[ins[3]], EVO_DTYPE_INT8, 2, db, bq, NULL);
    evo_value_set_const(g, &g->values[ins[5]], EVO_DTYPE_INT8, 0, NULL, &bz, NULL);
    evo_value_set_const(g, &g->values[ins[6]], EVO_DTYPE_INT32, 1, &one, &bias, NULL);
    int node = nn_node(g, evo_op_name(EVO_OP_QGEMM), 9, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    uint8_t a[2] = {3, 5}, y = 0;
    void *in_data[9] = {a};
    q_run(g, node, in_data, &y, 1);
    CHECK(y == 8);
    /* bad: y_scale without y_zero_point; B scale of the wrong length */
    g->nodes[node].in[8] = -1;
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "y_zero_point") &&
          nn_names_node(&err));
    g->nodes[node].in[8] = ins[8];
    int64_t two = 2;
    float bs2[2] = {1.0f, 1.0f};
    evo_value_set_const(g, &g->values[ins[4]], EVO_DTYPE_FLOAT, 1, &two, bs2, NULL);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "b_scale"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand))
