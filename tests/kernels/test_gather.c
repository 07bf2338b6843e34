/*
 * test_gather.c - Gather: random data ranks, every axis (also negative),
 * int32/int64 indices of rank 0..2 with negative entries, several dtypes,
 * against a naive numpy.take; the ONNX example; bad inputs.
 */
#include "tensor_test_util.h"

static void test_gather_random(void)
{
    check_rng r = {404};
    static const evo_dtype types[] = {EVO_DTYPE_FLOAT, EVO_DTYPE_INT64, EVO_DTYPE_BOOL, EVO_DTYPE_FLOAT16};
    for (int iter = 0; iter < 120; iter++) {
        int rank = check_rng_int(&r, 1, 4), axis = check_rng_int(&r, 0, rank - 1), irank = check_rng_int(&r, 0, 2);
        evo_dtype t = types[iter % 4];
        bool i32 = iter % 3 == 0;
        size_t es = evo_dtype_size(t);
        int64_t dims[4], idims[2], count = 1, icount = 1;
        for (int d = 0; d < rank; d++)
            count *= dims[d] = check_rng_int(&r, 1, 6);
        for (int d = 0; d < irank; d++)
            icount *= idims[d] = check_rng_int(&r, 1, 4);
        uint8_t *x = malloc((size_t)count * es);
        for (size_t i = 0; i < (size_t)count * es; i++)
            x[i] = (uint8_t)check_rng_u64(&r);
        int64_t idx64[16];
        int32_t idx32[16];
        for (int64_t i = 0; i < icount; i++)
            idx32[i] = (int32_t)(idx64[i] = check_rng_int(&r, -(int)dims[axis], (int)dims[axis] - 1));
        evo_graph *g = tg_new(13);
        int ins[2] = {tg_value(g, "x", t, rank, dims, x),
                      tg_value(g, "i", i32 ? EVO_DTYPE_INT32 : EVO_DTYPE_INT64, irank, idims,
                               i32 ? (void *)idx32 : (void *)idx64)};
        int n = tg_node(g, "Gather", ins, 2, 1);
        tg_attr_int(g, n, "axis", iter % 2 ? axis - rank : axis);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        const evo_value *y = tg_out(g, n, 0);
        CHECK(y->rank == rank - 1 + irank);
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < axis; d++)
            outer *= dims[d];
        for (int d = axis + 1; d < rank; d++)
            inner *= dims[d];
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            uint8_t *out = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t k = 0; k < icount; k++)
                    for (int64_t in = 0; in < inner; in++) {
                        int64_t i = idx64[k] < 0 ? idx64[k] + dims[axis] : idx64[k];
                        bad += memcmp(out + ((o * icount + k) * inner + in) * (int64_t)es,
                                      x + ((o * dims[axis] + i) * inner + in) * (int64_t)es, es) != 0;
                    }
            CHECK_MSG(bad == 0, "iter %d tasks %d: %d wrong", iter, tasks, bad);
            free(out);
        }
        free(x);
        evo_graph_free(g);
    }
}

static void test_gather_errors(void)
{
    evo_graph *g = tg_new(13);
    float x[6] = {0};
    int64_t dims[2] = {2, 3}, big[1] = {3};
    float fidx[1] = {0};
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 2, dims, x);
    int ins[2] = {in, tg_i64(g, "i", 1, big)};
    int n = tg_node(g, "Gather", ins, 2, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "out of range"));
    int ins2[2] = {in, tg_f32(g, "f", 1, fidx)};
    n = tg_node(g, "Gather", ins2, 2, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_PARSE && strstr(err.msg, "int32 or int64"));
    n = tg_node(g, "Gather", ins, 2, 1);
    tg_attr_int(g, n, "axis", 2);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
    evo_graph_free(g);
}

/* The shape-subgraph pattern: Gather of a scalar index out of a Shape result gives a scalar. */
static void test_gather_scalar_of_shape(void)
{
    evo_graph *g = tg_new(13);
    int64_t shape[4] = {1, 3, 640, 480}, two = 2;
    int ins[2] = {tg_i64(g, "shape", 4, shape), tg_value(g, "k", EVO_DTYPE_INT64, 0, NULL, &two)};
    int n = tg_node(g, "Gather", ins, 2, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_out(g, n, 0)->rank == 0);
    int64_t *y = tg_run(g, n, 1, 0);
    CHECK(y[0] == 640);
    free(y);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_gather_random), CHECK_TEST(test_gather_errors), CHECK_TEST(test_gather_scalar_of_shape))
