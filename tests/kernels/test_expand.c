/*
 * test_expand.c - Expand (bidirectional broadcast, including a shape that
 * is shorter than or has 1s against the input), Tile, and Range (int16/32/64
 * exact with negative deltas, float/double) against naive loops; bad inputs.
 */
#include "tensor_test_util.h"

static void test_expand_random(void)
{
    check_rng r = {17};
    for (int iter = 0; iter < 80; iter++) {
        int rank = check_rng_int(&r, 1, 4), srank = check_rng_int(&r, 1, 5);
        int orank = rank > srank ? rank : srank;
        int64_t xd[4], sd[5], od[5], count = 1, ocount = 1;
        for (int d = 0; d < orank; d++) {
            int64_t dim = check_rng_int(&r, 1, 5);
            int xi = d - (orank - rank), si = d - (orank - srank);
            int choice = check_rng_int(&r, 0, 2);
            if (xi >= 0)
                xd[xi] = choice == 1 ? 1 : dim;
            if (si >= 0)
                sd[si] = choice == 2 ? 1 : dim;
            od[d] = (xi >= 0 && !(choice == 1)) || (si >= 0 && choice != 2) ? dim : 1;
        }
        for (int d = 0; d < rank; d++)
            count *= xd[d];
        for (int d = 0; d < orank; d++)
            ocount *= od[d];
        int64_t *x = malloc(sizeof(int64_t) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (int64_t)check_rng_u64(&r);
        evo_graph *g = tg_new(13);
        int ins[2] = {tg_value(g, "x", EVO_DTYPE_INT64, rank, xd, x), tg_i64(g, "s", srank, sd)};
        int n = tg_node(g, "Expand", ins, 2, 1);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        CHECK_MSG(tg_dims_eq(tg_out(g, n, 0), orank, od), "iter %d", iter);
        for (int tasks = 1; tasks <= 3 && tg_dims_eq(tg_out(g, n, 0), orank, od); tasks += 2) {
            int64_t *y = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t e = 0; e < ocount; e++) {
                int64_t rem = e, off = 0, mul = 1;
                for (int d = orank - 1; d >= 0; d--) {
                    int64_t c = rem % od[d];
                    rem /= od[d];
                    int xi = d - (orank - rank);
                    if (xi >= 0) {
                        off += (xd[xi] == 1 ? 0 : c) * mul;
                        mul *= xd[xi];
                    }
                }
                bad += y[e] != x[off];
            }
            CHECK_MSG(bad == 0, "iter %d tasks %d: %d wrong", iter, tasks, bad);
            free(y);
        }
        free(x);
        evo_graph_free(g);
    }
    evo_graph *g = tg_new(13);
    int64_t xd[2] = {3, 2};
    float x[6] = {0};
    int ins[2] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 2, xd, x), tg_i64(g, "s", 2, (int64_t[]){3, 4})};
    int n = tg_node(g, "Expand", ins, 2, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "broadcast"));
    evo_graph_free(g);
}

static void test_tile_random(void)
{
    check_rng r = {23};
    for (int iter = 0; iter < 60; iter++) {
        int rank = check_rng_int(&r, 1, 5);
        int64_t xd[5], reps[5], od[5], count = 1, ocount = 1;
        for (int d = 0; d < rank; d++) {
            count *= xd[d] = check_rng_int(&r, 1, 4);
            reps[d] = check_rng_int(&r, iter % 5 == 0 ? 0 : 1, 3);
            ocount *= od[d] = xd[d] * reps[d];
        }
        uint16_t *x = malloc(sizeof(uint16_t) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (uint16_t)i;
        evo_graph *g = tg_new(13);
        int ins[2] = {tg_value(g, "x", EVO_DTYPE_FLOAT16, rank, xd, x), tg_i64(g, "r", rank, reps)};
        int n = tg_node(g, "Tile", ins, 2, 1);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        CHECK(tg_dims_eq(tg_out(g, n, 0), rank, od));
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            uint16_t *y = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t e = 0; e < ocount; e++) {
                int64_t rem = e, off = 0, mul = 1;
                for (int d = rank - 1; d >= 0; d--) {
                    off += (rem % od[d]) % xd[d] * mul;
                    rem /= od[d];
                    mul *= xd[d];
                }
                bad += y[e] != x[off];
            }
            CHECK_MSG(bad == 0, "iter %d tasks %d: %d wrong", iter, tasks, bad);
            free(y);
        }
        free(x);
        evo_graph_free(g);
    }
    evo_graph *g = tg_new(13);
    int64_t xd[2] = {3, 2};
    float x[6] = {0};
    int ins[2] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 2, xd, x), tg_i64(g, "r", 1, (int64_t[]){2})};
    int n = tg_node(g, "Tile", ins, 2, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "repeats"));
    evo_graph_free(g);
}

static int range_node(evo_graph *g, evo_dtype t, const void *s, const void *l, const void *d)
{
    int ins[3] = {tg_value(g, "s", t, 0, NULL, s), tg_value(g, "l", t, 0, NULL, l), tg_value(g, "d", t, 0, NULL, d)};
    return tg_node(g, "Range", ins, 3, 1);
}

static void test_range(void)
{
    evo_graph *g = tg_new(11);
    evo_error err = {0};
    // test_range_int32_type_negative_delta: 10, 6, -3 -> [10, 7]
    int32_t s32 = 10, l32 = 6, d32 = -3;
    int n = range_node(g, EVO_DTYPE_INT32, &s32, &l32, &d32);
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_out(g, n, 0)->dims[0] == 2);
    int32_t *y32 = tg_run(g, n, 3, 0);
    CHECK(y32[0] == 10 && y32[1] == 7);
    free(y32);
    // test_range_float_type_positive_delta: 1, 5, 2 -> [1, 3]
    float sf = 1, lf = 5, df = 2;
    n = range_node(g, EVO_DTYPE_FLOAT, &sf, &lf, &df);
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_out(g, n, 0)->dims[0] == 2);
    float *yf = tg_run(g, n, 1, 0);
    CHECK(yf[0] == 1 && yf[1] == 3);
    free(yf);
    // int64 near the limits stays exact
    int64_t s64 = INT64_MAX - 10, l64 = INT64_MAX, d64 = 3;
    n = range_node(g, EVO_DTYPE_INT64, &s64, &l64, &d64);
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_out(g, n, 0)->dims[0] == 4);
    int64_t *y64 = tg_run(g, n, 3, 0);
    CHECK(y64[3] == INT64_MAX - 1);
    free(y64);
    // random int16 and double against a loop
    check_rng r = {3};
    for (int iter = 0; iter < 50; iter++) {
        int16_t a = (int16_t)check_rng_int(&r, -50, 50), b = (int16_t)check_rng_int(&r, -50, 50);
        int16_t d = (int16_t)check_rng_int(&r, -7, 7);
        if (d == 0)
            d = 1;
        n = range_node(g, EVO_DTYPE_INT16, &a, &b, &d);
        CHECK(tg_infer(g, n, &err) == EVO_OK);
        int64_t want = 0;
        for (int v = a; d > 0 ? v < b : v > b; v += d)
            want++;
        CHECK_MSG(tg_out(g, n, 0)->dims[0] == want, "%d %d %d", a, b, d);
        int16_t *y = tg_run(g, n, 3, 0);
        for (int64_t i = 0; i < want; i++)
            CHECK(y[i] == a + i * d);
        free(y);
        double da = check_rng_float(&r, -5, 5), db = check_rng_float(&r, -5, 5), dd = check_rng_float(&r, 0.1f, 2);
        if (iter % 2)
            dd = -dd;
        n = range_node(g, EVO_DTYPE_DOUBLE, &da, &db, &dd);
        CHECK(tg_infer(g, n, &err) == EVO_OK);
        int64_t cnt = (int64_t)fmax(ceil((db - da) / dd), 0);
        CHECK(tg_out(g, n, 0)->dims[0] == cnt);
        double *yd = tg_run(g, n, 1, 0);
        for (int64_t i = 0; i < cnt; i++)
            CHECK_NEAR(yd[i], da + (double)i * dd, 1e-12);
        free(yd);
    }
    int32_t zero = 0;
    n = range_node(g, EVO_DTYPE_INT32, &s32, &l32, &zero);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, "delta"));
    int64_t one = 1;
    int ins[3] = {tg_value(g, "a", EVO_DTYPE_INT32, 0, NULL, &s32), tg_value(g, "b", EVO_DTYPE_INT64, 0, NULL, &one),
                  tg_value(g, "c", EVO_DTYPE_INT32, 0, NULL, &d32)};
    n = tg_node(g, "Range", ins, 3, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "type"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_expand_random), CHECK_TEST(test_tile_random), CHECK_TEST(test_range))
