/*
 * test_qconcat.c - com.microsoft QLinearConcat against a direct loop
 * written here: 1-6 inputs of random odd shapes, every axis (negative
 * too), uint8 and int8, inputs sharing Y's parameters (copied) or not
 * (requantized), 1 and 3 tasks; a hand-computed case; bad inputs.
 */
#include "q_util.h"

#define MAXK 6

typedef struct qc_case {
    evo_dtype t;
    int k, rank;
    int64_t axis;
    int64_t dims[MAXK][4];
    float s[MAXK], sy;
    int z[MAXK], zy;
} qc_case;

static int build(evo_graph *g, const qc_case *c)
{
    int ins[2 + 3 * MAXK];
    ins[0] = q_scale(g, "Y_s", c->sy);
    ins[1] = q_zp(g, "Y_z", c->t, c->zy);
    for (int k = 0; k < c->k; k++) {
        char name[16];
        snprintf(name, sizeof(name), "X%d", k);
        ins[2 + 3 * k] = nn_value(g, name, c->t, c->rank, c->dims[k]);
        ins[3 + 3 * k] = q_scale(g, "s", c->s[k]);
        ins[4 + 3 * k] = q_zp(g, "z", c->t, c->z[k]);
    }
    int node = nn_node(g, evo_op_name(EVO_OP_QLINEAR_CONCAT), 2 + 3 * c->k, ins, 1);
    nn_attr_int(g, node, "axis", c->axis);
    return node;
}

static void run(check_rng *r, const qc_case *c, int n_tasks, uint8_t *const *xs_in, const uint8_t *want_in)
{
    evo_graph *g = evo_graph_new("test");
    int node = build(g, c);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    char desc[160];
    snprintf(desc, sizeof(desc), "QLinearConcat %s k=%d rank=%d axis=%lld tasks=%d", evo_dtype_name(c->t),
             c->k, c->rank, (long long)c->axis, n_tasks);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s == EVO_OK) {
        int64_t ax = c->axis < 0 ? c->axis + c->rank : c->axis, outer = 1, inner = 1, total = 0;
        for (int d = 0; d < ax; d++)
            outer *= c->dims[0][d];
        for (int d = (int)ax + 1; d < c->rank; d++)
            inner *= c->dims[0][d];
        void *ins[2 + 3 * MAXK] = {0};
        for (int k = 0; k < c->k; k++) {
            total += c->dims[k][ax];
            ins[2 + 3 * k] = xs_in ? xs_in[k] : q_bytes(r, outer * c->dims[k][ax] * inner);
        }
        uint8_t *got = q_bytes(r, outer * total * inner), *want = malloc((size_t)(outer * total * inner));
        for (int64_t o = 0, at = 0; o < outer; o++)
            for (int k = 0; k < c->k; k++)
                for (int64_t j = 0; j < c->dims[k][ax] * inner; j++) {
                    uint8_t b = ((uint8_t *)ins[2 + 3 * k])[o * c->dims[k][ax] * inner + j];
                    want[at++] = q_quant(c->s[k] * (float)(q_val(b, c->t) - c->z[k]) / c->sy, c->zy, c->t);
                }
        if (want_in)
            memcpy(want, want_in, (size_t)(outer * total * inner));
        q_run(g, node, ins, got, n_tasks);
        CHECK_MSG(q_compare(got, want, outer * total * inner, c->t, desc) == 0, "%s", desc);
        for (int k = 0; k < c->k && !xs_in; k++)
            free(ins[2 + 3 * k]);
        free(got);
        free(want);
    }
    evo_graph_free(g);
}

static void test_random(void)
{
    check_rng r = {0xc0c};
    for (int it = 0; it < 120; it++) {
        qc_case c = {it % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8};
        c.k = check_rng_int(&r, 1, MAXK);
        c.rank = check_rng_int(&r, 1, 4);
        int ax = check_rng_int(&r, 0, c.rank - 1);
        c.axis = check_rng_int(&r, 0, 1) ? ax : ax - c.rank;
        c.sy = check_rng_float(&r, 0.01f, 0.1f);
        c.zy = q_zp_rand(&r, c.t);
        for (int d = 0; d < c.rank; d++)
            c.dims[0][d] = check_rng_int(&r, 1, 7);
        for (int k = 0; k < c.k; k++) {
            memcpy(c.dims[k], c.dims[0], sizeof(c.dims[0]));
            c.dims[k][ax] = check_rng_int(&r, 1, 5);
            bool same = check_rng_int(&r, 0, 2) == 0;
            c.s[k] = same ? c.sy : check_rng_float(&r, 0.01f, 0.1f);
            c.z[k] = same ? c.zy : q_zp_rand(&r, c.t);
        }
        run(&r, &c, it % 3 == 0 ? 3 : 1, NULL, NULL);
    }
}

static void test_hand(void)
{
    /* X0 shares Y's parameters (copied: 200 stays 200); X1 at scale 0.2 zp 0: 3 -> 0.6 = 6 steps of 0.1 -> 16
     */
    qc_case c = {EVO_DTYPE_UINT8, 2, 2, 1, {{1, 2}, {1, 1}}, {0.1f, 0.2f}, 0.1f, {10, 0}, 10};
    uint8_t x0[2] = {200, 0}, x1[1] = {3}, want[3] = {200, 0, 16};
    uint8_t *xs[2] = {x0, x1};
    check_rng r = {5};
    run(&r, &c, 1, xs, want);
}

static void test_bad_inputs(void)
{
    qc_case c = {EVO_DTYPE_UINT8, 2, 2, 1, {{2, 2}, {3, 1}}, {0.1f, 0.2f}, 0.1f, {10, 0}, 10};
    evo_graph *g = evo_graph_new("test");
    int node = build(g, &c);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE && strstr(err.msg, "X1") && nn_names_node(&err));
    evo_graph_free(g);
    c.dims[1][0] = 2;
    c.axis = 2;
    g = evo_graph_new("test");
    node = build(g, &c);
    CHECK(nn_infer(g, node, &err) != EVO_OK && nn_names_node(&err));
    evo_graph_free(g);
    c.axis = 1;
    g = evo_graph_new("test");
    node = build(g, &c);
    g->nodes[node].n_in = 4; /* a broken triple */
    CHECK(nn_infer(g, node, &err) == EVO_ERR_PARSE && strstr(err.msg, "triples"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand), CHECK_TEST(test_bad_inputs))
