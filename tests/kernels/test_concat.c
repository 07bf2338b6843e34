/*
 * test_concat.c - Concat and Split: random shapes (odd sizes, empty
 * inputs, negative axes, several dtypes) against naive index arithmetic,
 * every way Split gets its sizes, n_tasks 1 and 3, and bad inputs.
 */
#include "tensor_test_util.h"

static const evo_dtype dtypes[] = {EVO_DTYPE_FLOAT, EVO_DTYPE_INT64, EVO_DTYPE_UINT8, EVO_DTYPE_FLOAT16};

static void fill_bytes(check_rng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)check_rng_u64(r);
}

/* Row-major offset of coordinate c in dims. */
static int64_t offset_of(const int64_t *c, const int64_t *dims, int rank)
{
    int64_t off = 0;
    for (int d = 0; d < rank; d++)
        off = off * dims[d] + c[d];
    return off;
}

static void coord_of(int64_t i, const int64_t *dims, int rank, int64_t *c)
{
    for (int d = rank - 1; d >= 0; d--) {
        c[d] = i % dims[d];
        i /= dims[d];
    }
}

static void test_concat_random(void)
{
    check_rng r = {0x1234};
    for (int iter = 0; iter < 60; iter++) {
        evo_graph *g = tg_new(13);
        int rank = check_rng_int(&r, 1, 4), n_in = check_rng_int(&r, 1, 4);
        int axis = check_rng_int(&r, 0, rank - 1);
        evo_dtype t = dtypes[check_rng_int(&r, 0, 3)];
        size_t es = evo_dtype_size(t);
        int64_t base[4], dims[8][4];
        for (int d = 0; d < rank; d++)
            base[d] = check_rng_int(&r, 1, 7);
        int ins[8];
        uint8_t *data[8];
        for (int i = 0; i < n_in; i++) {
            for (int d = 0; d < rank; d++)
                dims[i][d] = d == axis ? check_rng_int(&r, 0, 5) : base[d];
            int64_t count = 1;
            for (int d = 0; d < rank; d++)
                count *= dims[i][d];
            data[i] = malloc((size_t)count * es + 1);
            fill_bytes(&r, data[i], (size_t)count * es);
            char name[16];
            snprintf(name, sizeof(name), "x%d", i);
            ins[i] = tg_value(g, name, t, rank, dims[i], data[i]);
        }
        int n = tg_node(g, "Concat", ins, n_in, 1);
        tg_attr_int(g, n, "axis", check_rng_int(&r, 0, 1) ? axis - rank : axis);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        const evo_value *y = tg_out(g, n, 0);
        int64_t total = 0;
        for (int i = 0; i < n_in; i++)
            total += dims[i][axis];
        CHECK(y->rank == rank && y->dims[axis] == total && y->dtype == t);
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            uint8_t *out = tg_run(g, n, tasks, 0);
            int64_t count = evo_value_count(y);
            int bad = 0;
            for (int64_t e = 0; e < count; e++) {
                int64_t c[4];
                coord_of(e, y->dims, rank, c);
                int i = 0;
                while (c[axis] >= dims[i][axis]) {
                    c[axis] -= dims[i][axis];
                    i++;
                }
                bad += memcmp(out + e * (int64_t)es, data[i] + offset_of(c, dims[i], rank) * (int64_t)es, es) != 0;
            }
            CHECK_MSG(bad == 0, "iter %d rank %d axis %d tasks %d: %d wrong", iter, rank, axis, tasks, bad);
            free(out);
        }
        for (int i = 0; i < n_in; i++)
            free(data[i]);
        evo_graph_free(g);
    }
}

static void test_concat_errors(void)
{
    evo_graph *g = tg_new(13);
    float buf[64] = {0};
    int64_t a[2] = {2, 3}, b[2] = {3, 3}, c[2] = {2, 4};
    int ins[2] = {tg_value(g, "a", EVO_DTYPE_FLOAT, 2, a, buf), tg_value(g, "c", EVO_DTYPE_FLOAT, 2, c, buf)};
    int n = tg_node(g, "Concat", ins, 2, 1);
    tg_attr_int(g, n, "axis", 0);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
    CHECK(strstr(err.msg, "Concat") && strstr(err.msg, "[2,4]"));
    int ins2[2] = {ins[0], tg_value(g, "b", EVO_DTYPE_INT64, 2, b, buf)};
    n = tg_node(g, "Concat", ins2, 2, 1);
    tg_attr_int(g, n, "axis", 0);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "int64"));
    n = tg_node(g, "Concat", ins, 1, 1); // axis missing
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "axis"));
    n = tg_node(g, "Concat", ins, 1, 1);
    tg_attr_int(g, n, "axis", 2);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
    int s = tg_value(g, "s", EVO_DTYPE_STRING, 2, a, NULL);
    n = tg_node(g, "Concat", &s, 1, 1);
    tg_attr_int(g, n, "axis", 0);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "string"));
    evo_graph_free(g);
}

/* Runs a Split node and checks every output against the input slices. */
static void check_split(evo_graph *g, int n, const uint8_t *x, const int64_t *dims, int rank, int axis,
                        size_t es, const int64_t *want_sizes, int parts)
{
    evo_error err = {0};
    CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
    if (err.msg[0])
        return;
    for (int tasks = 1; tasks <= 3; tasks += 2) {
        int64_t at = 0;
        for (int p = 0; p < parts; p++) {
            const evo_value *y = tg_out(g, n, p);
            CHECK(y->rank == rank && y->dims[axis] == want_sizes[p]);
            uint8_t *out = tg_run(g, n, tasks, p);
            int64_t count = evo_value_count(y);
            int bad = 0;
            for (int64_t e = 0; e < count; e++) {
                int64_t c[4];
                coord_of(e, y->dims, rank, c);
                c[axis] += at;
                bad += memcmp(out + e * (int64_t)es, x + offset_of(c, dims, rank) * (int64_t)es, es) != 0;
            }
            CHECK_MSG(bad == 0, "part %d tasks %d: %d wrong", p, tasks, bad);
            at += want_sizes[p];
            free(out);
        }
    }
}

static void test_split_variants(void)
{
    check_rng r = {99};
    for (int iter = 0; iter < 40; iter++) {
        int rank = check_rng_int(&r, 1, 4), axis = check_rng_int(&r, 0, rank - 1);
        int parts = check_rng_int(&r, 1, 4), how = iter % 4;
        evo_dtype t = dtypes[check_rng_int(&r, 0, 3)];
        size_t es = evo_dtype_size(t);
        int64_t dims[4], sizes[4], count = 1;
        for (int d = 0; d < rank; d++)
            dims[d] = check_rng_int(&r, 1, 6);
        if (how == 0 || how == 1) { // explicit sizes, zeros allowed
            dims[axis] = 0;
            for (int p = 0; p < parts; p++)
                dims[axis] += sizes[p] = check_rng_int(&r, 0, 4);
        } else if (how == 2) { // equal split
            int64_t each = check_rng_int(&r, 1, 3);
            dims[axis] = each * parts;
            for (int p = 0; p < parts; p++)
                sizes[p] = each;
        } else { // opset 18 num_outputs: ceil chunks, last smaller
            dims[axis] = check_rng_int(&r, parts, 3 * parts);
            int64_t chunk = (dims[axis] + parts - 1) / parts;
            if (chunk * (parts - 1) > dims[axis])
                dims[axis] = chunk * (parts - 1);
            for (int p = 0; p < parts; p++)
                sizes[p] = p < parts - 1 ? chunk : dims[axis] - chunk * (parts - 1);
        }
        for (int d = 0; d < rank; d++)
            count *= dims[d];
        uint8_t *x = malloc((size_t)count * es + 1);
        fill_bytes(&r, x, (size_t)count * es);
        evo_graph *g = tg_new(how == 0 ? 13 : how == 3 ? 18 : 11);
        int ins[2] = {tg_value(g, "x", t, rank, dims, x), -1};
        if (how == 0)
            ins[1] = tg_i64(g, "split", parts, sizes);
        int n = tg_node(g, "Split", ins, how == 0 ? 2 : 1, parts);
        tg_attr_int(g, n, "axis", axis - (iter % 3 == 0 ? rank : 0));
        if (how == 1)
            tg_attr_ints(g, n, "split", parts, sizes);
        if (how == 3)
            tg_attr_int(g, n, "num_outputs", parts);
        check_split(g, n, x, dims, rank, axis, es, sizes, parts);
        free(x);
        evo_graph_free(g);
    }
}

static void test_split_errors(void)
{
    evo_graph *g = tg_new(13);
    float buf[64] = {0};
    int64_t dims[2] = {5, 3}, bad_sizes[2] = {2, 2};
    int x = tg_value(g, "x", EVO_DTYPE_FLOAT, 2, dims, buf);
    int ins[2] = {x, tg_i64(g, "split", 2, bad_sizes)};
    int n = tg_node(g, "Split", ins, 2, 2);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "sum to 4"));
    n = tg_node(g, "Split", ins, 1, 2); // 5 is not divisible by 2
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "divisible"));
    int y = tg_value(g, "y", EVO_DTYPE_INT64, 1, dims, NULL); // sizes computed at run time
    int ins2[2] = {x, y};
    n = tg_node(g, "Split", ins2, 2, 2);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "constant"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_concat_random), CHECK_TEST(test_concat_errors), CHECK_TEST(test_split_variants),
           CHECK_TEST(test_split_errors))
