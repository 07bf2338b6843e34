/*
 * test_qbinary.c - com.microsoft QLinearAdd and QLinearMul against a
 * direct loop written here: random ranks 0-4 with numpy broadcasting
 * (size-1 and missing leading dims on either side), odd sizes, uint8 and
 * int8, absent zero points, 1 and 3 tasks; hand-computed cases including a
 * half-way value rounded to even; bad inputs named by node and input.
 */
#include "q_util.h"

typedef struct qb_case {
    evo_op op;
    evo_dtype t;
    int ra, rb;
    int64_t da[4], db[4];
    float sa, sb, sc;
    int za, zb, zc; /* -1000: input left out */
} qb_case;

static int build(evo_graph *g, const qb_case *c)
{
    int ins[8];
    ins[0] = nn_value(g, "A", c->t, c->ra, c->da);
    ins[1] = q_scale(g, "A_s", c->sa);
    ins[2] = c->za == -1000 ? -1 : q_zp(g, "A_z", c->t, c->za);
    ins[3] = nn_value(g, "B", c->t, c->rb, c->db);
    ins[4] = q_scale(g, "B_s", c->sb);
    ins[5] = c->zb == -1000 ? -1 : q_zp(g, "B_z", c->t, c->zb);
    ins[6] = q_scale(g, "C_s", c->sc);
    ins[7] = c->zc == -1000 ? -1 : q_zp(g, "C_z", c->t, c->zc);
    return nn_node(g, evo_op_name(c->op), 8, ins, 1);
}

static int64_t count(const int64_t *d, int r)
{
    int64_t n = 1;
    for (int i = 0; i < r; i++)
        n *= d[i];
    return n;
}

/* Expected output by per-element index arithmetic (right-aligned broadcasting). */
static void direct(const qb_case *c, const uint8_t *a, const uint8_t *b, const int64_t *dy, int ry,
                   uint8_t *y)
{
    int za = c->za == -1000 ? 0 : c->za, zb = c->zb == -1000 ? 0 : c->zb, zc = c->zc == -1000 ? 0 : c->zc;
    for (int64_t i = 0; i < count(dy, ry); i++) {
        int64_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
        for (int d = ry - 1; d >= 0; d--) {
            int64_t k = rest % dy[d];
            rest /= dy[d];
            int xa = d - (ry - c->ra), xb = d - (ry - c->rb);
            if (xa >= 0) {
                ia += (c->da[xa] == 1 ? 0 : k) * sa;
                sa *= c->da[xa];
            }
            if (xb >= 0) {
                ib += (c->db[xb] == 1 ? 0 : k) * sb;
                sb *= c->db[xb];
            }
        }
        float va = c->sa * (float)(q_val(a[ia], c->t) - za), vb = c->sb * (float)(q_val(b[ib], c->t) - zb);
        y[i] = q_quant(c->op == EVO_OP_QLINEAR_MUL ? va * vb / c->sc : (va + vb) / c->sc, zc, c->t);
    }
}

static void run_case(check_rng *r, const qb_case *c, int n_tasks, const uint8_t *a_in, const uint8_t *b_in,
                     const uint8_t *want_in)
{
    evo_graph *g = evo_graph_new("test");
    int node = build(g, c);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    char desc[256];
    snprintf(desc, sizeof(desc), "%s %s ra=%d [%lld,%lld,%lld,%lld] rb=%d [%lld,%lld,%lld,%lld] tasks=%d",
             evo_op_name(c->op), evo_dtype_name(c->t), c->ra, (long long)c->da[0], (long long)c->da[1],
             (long long)c->da[2], (long long)c->da[3], c->rb, (long long)c->db[0], (long long)c->db[1],
             (long long)c->db[2], (long long)c->db[3], n_tasks);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s == EVO_OK) {
        const evo_value *yv = &g->values[g->nodes[node].out[0]];
        int64_t n = count(yv->dims, yv->rank);
        uint8_t *a = a_in ? (uint8_t *)a_in : q_bytes(r, count(c->da, c->ra));
        uint8_t *b = b_in ? (uint8_t *)b_in : q_bytes(r, count(c->db, c->rb));
        uint8_t *got = q_bytes(r, n), *want = malloc((size_t)n + 1);
        if (want_in)
            memcpy(want, want_in, (size_t)n);
        else
            direct(c, a, b, yv->dims, yv->rank, want);
        void *ins[8] = {a, NULL, NULL, b};
        q_run(g, node, ins, got, n_tasks);
        CHECK_MSG(yv->dtype == c->t && q_compare(got, want, n, c->t, desc) == 0, "%s", desc);
        if (!a_in)
            free(a);
        if (!b_in)
            free(b);
        free(got);
        free(want);
    }
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0x5eed01};
    for (int it = 0; it < 200; it++) {
        qb_case c = {it % 2 ? EVO_OP_QLINEAR_MUL : EVO_OP_QLINEAR_ADD,
                     (it / 2) % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8};
        int ry = check_rng_int(&r, 0, 4);
        int64_t dy[4];
        for (int d = 0; d < ry; d++)
            dy[d] = check_rng_int(&r, 1, 9) * (check_rng_int(&r, 0, 3) == 0 ? 3 : 1);
        c.ra = check_rng_int(&r, 0, ry);
        c.rb = check_rng_int(&r, 0, 1) ? ry : check_rng_int(&r, 0, ry);
        for (int d = 0; d < c.ra; d++)
            c.da[d] = check_rng_int(&r, 0, 2) == 0 ? 1 : dy[ry - c.ra + d];
        for (int d = 0; d < c.rb; d++)
            c.db[d] = check_rng_int(&r, 0, 2) == 0 ? 1 : dy[ry - c.rb + d];
        c.sa = check_rng_float(&r, 0.002f, 0.1f);
        c.sb = check_rng_float(&r, 0.002f, 0.1f);
        c.sc = c.op == EVO_OP_QLINEAR_MUL ? c.sa * c.sb * check_rng_float(&r, 20.0f, 120.0f)
                                          : check_rng_float(&r, 0.01f, 0.2f);
        c.za = check_rng_int(&r, 0, 7) == 0 ? -1000 : q_zp_rand(&r, c.t);
        c.zb = q_zp_rand(&r, c.t);
        c.zc = check_rng_int(&r, 0, 7) == 0 ? -1000 : q_zp_rand(&r, c.t);
        run_case(&r, &c, it % 3 == 0 ? 3 : 1, NULL, NULL, NULL);
    }
}

static void test_hand(void)
{
    check_rng r = {7};
    /* (0.1 * 10 + 0.2 * 5) / 0.05 = 40; (0.1 * 5 + 0.2 * 0) / 0.2 = 2.5 -> 2 (half to even) */
    qb_case add = {EVO_OP_QLINEAR_ADD, EVO_DTYPE_UINT8, 1, 1, {2}, {2}, 0.1f, 0.2f, 0.05f, 0, 0, 10};
    const uint8_t a[2] = {10, 5}, b[2] = {5, 0}, want_add[2] = {50, 12};
    add.sc = 0.05f;
    run_case(&r, &add, 1, a, b, NULL);
    qb_case add2 = add;
    add2.sc = 0.2f;
    const uint8_t want_add2[2] = {20, 12}; /* 2.0/0.2=10 -> 20; 0.5/0.2=2.5 -> 2 -> 12 */
    run_case(&r, &add2, 1, a, b, want_add2);
    (void)want_add;
    /* int8 Mul saturates: (0.5 * 100) * (0.5 * 100) / 1 = 2500 -> 127 */
    qb_case mul = {EVO_OP_QLINEAR_MUL, EVO_DTYPE_INT8, 0, 0, {0}, {0}, 0.5f, 0.5f, 1.0f, 0, 0, 0};
    const uint8_t a1[1] = {100}, b1[1] = {100}, want_mul[1] = {127};
    run_case(&r, &mul, 1, a1, b1, want_mul);
}

static void test_bad_inputs(void)
{
    qb_case c = {EVO_OP_QLINEAR_ADD, EVO_DTYPE_UINT8, 2, 2, {3, 4}, {5, 4}, 0.1f, 0.1f, 0.1f, 0, 0, 0};
    evo_graph *g = evo_graph_new("test");
    int node = build(g, &c);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE && nn_names_node(&err));
    evo_graph_free(g);
    /* B int8 against A uint8 */
    g = evo_graph_new("test");
    c.db[0] = 3;
    node = build(g, &c);
    g->values[g->nodes[node].in[3]].dtype = EVO_DTYPE_INT8;
    CHECK(nn_infer(g, node, &err) != EVO_OK && strstr(err.msg, "differ in type") && nn_names_node(&err));
    evo_graph_free(g);
    /* a float A; a zero scale */
    g = evo_graph_new("test");
    node = build(g, &c);
    g->values[g->nodes[node].in[0]].dtype = EVO_DTYPE_FLOAT;
    CHECK(nn_infer(g, node, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "input 0 (A)"));
    evo_graph_free(g);
    g = evo_graph_new("test");
    c.sb = 0.0f;
    node = build(g, &c);
    CHECK(nn_infer(g, node, &err) == EVO_ERR_PARSE && strstr(err.msg, "B_scale"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand), CHECK_TEST(test_bad_inputs))
