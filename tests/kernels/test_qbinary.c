/*
 * test_qbinary.c - com.microsoft QLinearAdd and QLinearMul against a
 * direct loop written here: random ranks 0-4 with numpy broadcasting
 * (size-1 and missing leading dims on either side), odd sizes, uint8 and
 * int8, absent zero points, 1 and 3 tasks; hand-computed cases including a
 * half-way value rounded to even; bad inputs named by node and input.
 * FIXED requantization (TFLite's int8 ADD and MUL) with a fused ReLU/Clip:
 * the reference against a direct loop on exact int64 arithmetic here,
 * hand-computed ties, and the vector variants this CPU runs against the
 * reference bit for bit with 1-3 tasks and a guard zone, on random shapes
 * and broadcasts, residual and squeeze-excite shapes and scales that need
 * the scalar fallback.
 */
#include "q_util.h"
#include "qtest_util.h"

#include "core/cpu.h"
#include "kernels/qfastops.h"

typedef struct qb_case {
    evo_op op;
    evo_dtype t;
    int ra, rb;
    int64_t da[4], db[4];
    float sa, sb, sc;
    int za, zb, zc; /* -1000: input left out */
    evo_qbinary_attrs at; /* zero: FLOAT, no activation */
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
    int node = nn_node(g, evo_op_name(c->op), 8, ins, 1);
    g->nodes[node].a.qbinary = c->at;
    return node;
}

static int64_t count(const int64_t *d, int r)
{
    int64_t n = 1;
    for (int i = 0; i < r; i++)
        n *= d[i];
    return n;
}

/*
 * TFLite's int8 ADD / MUL of the offset operands xa, xb: ADD scales each
 * (shifted left 20 bits) by s_in / (2 max(sa, sb)), the sum by
 * 2 max(sa, sb) / (2^20 sc); MUL the product by sa sb / sc; then the zero
 * point and the clamp of the fused activation.
 */
static uint8_t direct_fixed(const qb_case *c, int xa, int xb, int zc)
{
    int64_t v;
    int32_t q, q2;
    int sh, sh2;
    if (c->op == EVO_OP_QLINEAR_MUL) {
        qt_multiplier((double)c->sa * c->sb / c->sc, &q, &sh);
        v = qt_fixed(xa * xb, q, sh);
    } else {
        double tm = 2.0 * (c->sa > c->sb ? c->sa : c->sb);
        qt_multiplier(c->sa / tm, &q, &sh);
        qt_multiplier(c->sb / tm, &q2, &sh2);
        int64_t sum = qt_fixed(xa * (1 << 20), q, sh) + qt_fixed(xb * (1 << 20), q2, sh2);
        qt_multiplier(tm / (1048576.0 * c->sc), &q, &sh);
        v = qt_fixed((int32_t)sum, q, sh);
    }
    int32_t lo = qt_qmin(c->t), hi = qt_qmax(c->t);
    if (c->at.act == EVO_ACT_RELU || c->at.act == EVO_ACT_CLIP) {
        float mn = c->at.act == EVO_ACT_RELU ? 0.0f : c->at.act_alpha;
        lo = qt_clamp(zc + (int64_t)roundf(mn / c->sc), lo, hi);
        if (c->at.act == EVO_ACT_CLIP)
            hi = qt_clamp(zc + (int64_t)roundf(c->at.act_beta / c->sc), lo, hi);
    }
    int32_t y = qt_clamp(v + zc, lo, hi);
    return (uint8_t)y;
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
        int xa = q_val(a[ia], c->t) - za, xb = q_val(b[ib], c->t) - zb;
        if (c->at.requant == EVO_REQUANT_FIXED) {
            y[i] = direct_fixed(c, xa, xb, zc);
            continue;
        }
        float va = c->sa * (float)xa, vb = c->sb * (float)xb;
        y[i] = q_quant(c->op == EVO_OP_QLINEAR_MUL ? va * vb / c->sc : (va + vb) / c->sc, zc, c->t);
    }
}

#define GUARD 37
#define CANARY 0xa5

/* Each vector variant this CPU runs, 1-3 tasks, against want (the reference's output), guard zone intact. */
static void compare_fast(evo_graph *g, int node, void *const *data, const uint8_t *want, int64_t n, const char *desc)
{
    void *ins[8];
    for (int i = 0; i < 8; i++) {
        int v = g->nodes[node].in[i];
        ins[i] = v >= 0 && g->values[v].data ? (void *)g->values[v].data : data[i];
    }
    const evo_kernel_def *vs[2];
    int nv = 0;
    if (check_host_runs(&evo_kernel_qbinary_avx512))
        vs[nv++] = &evo_kernel_qbinary_avx512;
    if (check_host_runs(&evo_kernel_qbinary_avx2))
        vs[nv++] = &evo_kernel_qbinary_avx2;
    for (int v = 0; v < nv; v++) {
        CHECK_MSG(vs[v]->supports(g, &g->nodes[node]), "%s %s: not supported", desc, vs[v]->name);
        for (int t = 1; t <= 3; t++) {
            uint8_t *got = malloc((size_t)n + GUARD);
            memset(got, CANARY, (size_t)n + GUARD);
            void *outs[1] = {got};
            nn_run_kernel(vs[v], g, node, ins, outs, t);
            int64_t bad = n;
            for (int64_t i = 0; i < n + GUARD && bad == n; i++)
                if (got[i] != (i < n ? want[i] : CANARY))
                    bad = i;
            CHECK_MSG(bad == n, "%s %s tasks=%d: byte %lld of %lld = 0x%02x, want 0x%02x", desc, vs[v]->name, t,
                      (long long)bad, (long long)n, got[bad], bad < n ? want[bad] : CANARY);
            free(got);
        }
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
        if (c->at.requant == EVO_REQUANT_FIXED)
            compare_fast(g, node, ins, got, n, desc);
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

/* A random activation: none, ReLU or a Clip around the output's range. */
static evo_qbinary_attrs fixed_attrs(check_rng *r)
{
    evo_qbinary_attrs at = {EVO_REQUANT_FIXED, EVO_ACT_NONE, 0, 0};
    int k = check_rng_int(r, 0, 2);
    at.act = k == 0 ? EVO_ACT_NONE : k == 1 ? EVO_ACT_RELU : EVO_ACT_CLIP;
    if (at.act == EVO_ACT_CLIP) {
        at.act_alpha = check_rng_float(r, -2.0f, 0.0f);
        at.act_beta = check_rng_float(r, 0.5f, 6.0f);
    }
    return at;
}

static void test_fixed_random(void)
{
    check_rng r = {0x5eed02};
    for (int it = 0; it < 300; it++) {
        qb_case c = {it % 2 ? EVO_OP_QLINEAR_MUL : EVO_OP_QLINEAR_ADD,
                     (it / 2) % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8};
        c.at = fixed_attrs(&r);
        int ry = check_rng_int(&r, 0, 4);
        int64_t dy[4];
        for (int d = 0; d < ry; d++)
            dy[d] = check_rng_int(&r, 1, 9) * (check_rng_int(&r, 0, 2) == 0 ? 7 : 1);
        c.ra = check_rng_int(&r, 0, ry);
        c.rb = check_rng_int(&r, 0, 1) ? ry : check_rng_int(&r, 0, ry);
        for (int d = 0; d < c.ra; d++)
            c.da[d] = check_rng_int(&r, 0, 3) == 0 ? 1 : dy[ry - c.ra + d];
        for (int d = 0; d < c.rb; d++)
            c.db[d] = check_rng_int(&r, 0, 3) == 0 ? 1 : dy[ry - c.rb + d];
        c.sa = check_rng_float(&r, 0.002f, 0.1f);
        c.sb = check_rng_float(&r, 0.002f, 0.1f);
        c.sc = c.op == EVO_OP_QLINEAR_MUL ? c.sa * c.sb * check_rng_float(&r, 20.0f, 120.0f)
                                          : check_rng_float(&r, 0.01f, 0.2f);
        if (it % 25 == 3) /* a left shift the lanes cannot take: the scalar step */
            c.sc = c.op == EVO_OP_QLINEAR_MUL ? c.sa * c.sb / 70000.0f : c.sa * 1e-6f;
        c.za = check_rng_int(&r, 0, 7) == 0 ? -1000 : q_zp_rand(&r, c.t);
        c.zb = q_zp_rand(&r, c.t);
        c.zc = check_rng_int(&r, 0, 7) == 0 ? -1000 : q_zp_rand(&r, c.t);
        run_case(&r, &c, it % 3 == 0 ? 3 : 1, NULL, NULL, NULL);
    }
}

/* The shapes evo quantize makes int8: a residual Add, an SE Mul, a constant, with odd sizes. */
static void test_fixed_model_shapes(void)
{
    check_rng r = {0x5eed03};
    const struct {
        int ra, rb;
        int64_t da[4], db[4];
    } shapes[] = {
        {4, 4, {1, 64, 40, 40}, {1, 64, 40, 40}}, {4, 4, {1, 37, 13, 11}, {1, 37, 13, 11}},
        {4, 4, {1, 96, 20, 20}, {1, 96, 1, 1}},   {4, 4, {1, 33, 1, 1}, {1, 33, 7, 9}},
        {4, 0, {1, 17, 5, 3}, {0}},               {4, 1, {2, 5, 3, 19}, {19}},
        {4, 4, {2, 3, 5, 1}, {2, 1, 1, 13}},
    };
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        for (int m = 0; m < 4; m++) {
            qb_case c = {m % 2 ? EVO_OP_QLINEAR_MUL : EVO_OP_QLINEAR_ADD, m / 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8,
                         shapes[k].ra, shapes[k].rb};
            memcpy(c.da, shapes[k].da, sizeof(c.da));
            memcpy(c.db, shapes[k].db, sizeof(c.db));
            c.at = fixed_attrs(&r);
            c.sa = check_rng_float(&r, 0.01f, 0.05f);
            c.sb = c.op == EVO_OP_QLINEAR_MUL ? 1.0f / 255 : check_rng_float(&r, 0.01f, 0.05f);
            c.sc = c.op == EVO_OP_QLINEAR_MUL ? c.sa * check_rng_float(&r, 0.5f, 1.0f) : c.sa + c.sb;
            c.za = q_zp_rand(&r, c.t);
            c.zb = c.op == EVO_OP_QLINEAR_MUL ? (c.t == EVO_DTYPE_INT8 ? -128 : 0) : q_zp_rand(&r, c.t);
            c.zc = q_zp_rand(&r, c.t);
            run_case(&r, &c, 2, NULL, NULL, NULL);
        }
    }
}

static void test_fixed_hand(void)
{
    check_rng r = {8};
    /*
     * ADD, all scales 0.1 (uint8, zero points 0): operand multipliers 0.5
     * (2^30, shift 0), output 2^-19 (2^30, shift -18): 10 + 5 = 15; with
     * C's scale 0.2 the sum 0.1 / 0.2 = 0.5 rounds away from zero to 1
     * (FLOAT rounds it to even, 0).
     */
    qb_case add = {EVO_OP_QLINEAR_ADD, EVO_DTYPE_UINT8, 1, 1, {2}, {2}, 0.1f, 0.1f, 0.1f, 0, 0, 0};
    add.at.requant = EVO_REQUANT_FIXED;
    const uint8_t a[2] = {10, 1}, b[2] = {5, 0}, want_add[2] = {15, 1};
    run_case(&r, &add, 1, a, b, want_add);
    add.sc = 0.2f;
    const uint8_t want_add2[2] = {8, 1}; /* 1.5 / 0.2 = 7.5 -> 8; 0.5 -> 1 */
    run_case(&r, &add, 1, a, b, want_add2);
    /* a fused ReLU, A's zero point 50, C's 100: 1.0 + 0.5 -> 115; -4.0 + 0 -> -40, clamped to C's zero point */
    add.sc = 0.1f;
    add.za = 50;
    add.zc = 100;
    add.at.act = EVO_ACT_RELU;
    const uint8_t ra[2] = {60, 10}, want_relu[2] = {115, 100};
    run_case(&r, &add, 1, ra, b, want_relu);
    /*
     * MUL, int8, scales 0.5, 0.5 -> 1: multiplier 0.25 (2^30, shift -1),
     * two roundings: 3 * 3 -> SRDHM 4.5 -> 5, then 5 / 2 -> 3 (2.25 exact);
     * 3 * 1 -> 2 -> 1; -3 * 3 -> -4 -> -2.
     */
    qb_case mul = {EVO_OP_QLINEAR_MUL, EVO_DTYPE_INT8, 1, 1, {3}, {3}, 0.5f, 0.5f, 1.0f, 0, 0, 0};
    mul.at.requant = EVO_REQUANT_FIXED;
    const uint8_t ma[3] = {3, 3, (uint8_t)-3}, mb[3] = {3, 1, 3}, want_mul[3] = {3, 1, (uint8_t)-2};
    run_case(&r, &mul, 1, ma, mb, want_mul);
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

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand), CHECK_TEST(test_fixed_random), CHECK_TEST(test_fixed_model_shapes),
           CHECK_TEST(test_fixed_hand), CHECK_TEST(test_bad_inputs))
