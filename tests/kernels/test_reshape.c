/*
 * test_reshape.c - the dims-only ops (Reshape with 0/-1/allowzero, Flatten,
 * Squeeze/Unsqueeze in attribute and input forms, Identity, Dropout with
 * its mask), Shape/Size (start/end clamping, outputs made constant), and
 * Constant/ConstantOfShape, with expected dims written out by hand from
 * the ONNX node tests.
 */
#include "tensor_test_util.h"

/* Infers a node of op with input x [dims] (+ optional int64 input) and checks the output dims. */
static void expect_dims(int64_t opset, const char *op, int rank, const int64_t *dims, int n_arg,
                        const int64_t *arg, const char *attr, int64_t attr_v, int want_rank,
                        const int64_t *want)
{
    evo_graph *g = tg_new(opset);
    int64_t count = 1;
    for (int d = 0; d < rank; d++)
        count *= dims[d];
    float *x = calloc((size_t)count + 1, sizeof(float));
    for (int64_t i = 0; i < count; i++)
        x[i] = (float)i * 0.5f;
    int ins[2] = {tg_value(g, "x", EVO_DTYPE_FLOAT, rank, dims, x), -1};
    if (n_arg >= 0)
        ins[1] = tg_i64(g, "arg", n_arg, arg);
    int n = tg_node(g, op, ins, n_arg >= 0 ? 2 : 1, 1);
    if (attr)
        tg_attr_int(g, n, attr, attr_v);
    evo_error err = {0};
    evo_status s = tg_infer(g, n, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", op, err.msg);
    CHECK_MSG(s || tg_dims_eq(tg_out(g, n, 0), want_rank, want), "%s opset %lld", op, (long long)opset);
    if (!s) {
        float *y = tg_run(g, n, 3, 0);
        CHECK(memcmp(y, x, sizeof(float) * (size_t)count) == 0);
        free(y);
    }
    free(x);
    evo_graph_free(g);
}

static void test_reshape_cases(void)
{
    int64_t d234[3] = {2, 3, 4};
    // test_reshape_*: reordered, negative dim, zero dims, allowzero
    expect_dims(13, "Reshape", 3, d234, 3, (int64_t[]){4, 2, 3}, NULL, 0, 3, (int64_t[]){4, 2, 3});
    expect_dims(13, "Reshape", 3, d234, 3, (int64_t[]){2, -1, 2}, NULL, 0, 3, (int64_t[]){2, 6, 2});
    expect_dims(13, "Reshape", 3, d234, 4, (int64_t[]){2, 0, 4, 1}, NULL, 0, 4, (int64_t[]){2, 3, 4, 1});
    expect_dims(13, "Reshape", 3, d234, 3, (int64_t[]){2, 0, -1}, NULL, 0, 3, (int64_t[]){2, 3, 4});
    expect_dims(13, "Reshape", 3, d234, 1, (int64_t[]){24}, NULL, 0, 1, (int64_t[]){24});
    expect_dims(14, "Reshape", 3, (int64_t[]){0, 3, 4}, 3, (int64_t[]){3, 4, 0}, "allowzero", 1, 3,
                (int64_t[]){3, 4, 0});
    // Flatten: axes 0..3 and negative
    expect_dims(13, "Flatten", 3, d234, -1, NULL, "axis", 0, 2, (int64_t[]){1, 24});
    expect_dims(13, "Flatten", 3, d234, -1, NULL, NULL, 0, 2, (int64_t[]){2, 12});
    expect_dims(13, "Flatten", 3, d234, -1, NULL, "axis", 3, 2, (int64_t[]){24, 1});
    expect_dims(13, "Flatten", 3, d234, -1, NULL, "axis", -1, 2, (int64_t[]){6, 4});
    expect_dims(13, "Flatten", 3, d234, -1, NULL, "axis", -3, 2, (int64_t[]){1, 24});
    // Squeeze / Unsqueeze (opset 13 inputs)
    int64_t d1315[4] = {1, 3, 1, 5};
    expect_dims(13, "Squeeze", 4, d1315, 1, (int64_t[]){-2}, NULL, 0, 3, (int64_t[]){1, 3, 5});
    expect_dims(13, "Squeeze", 4, d1315, -1, NULL, NULL, 0, 2, (int64_t[]){3, 5});
    expect_dims(13, "Unsqueeze", 3, d234, 2, (int64_t[]){4, 0}, NULL, 0, 5, (int64_t[]){1, 2, 3, 4, 1});
    expect_dims(13, "Unsqueeze", 3, d234, 3, (int64_t[]){5, 4, 2}, NULL, 0, 6, (int64_t[]){2, 3, 1, 4, 1, 1});
    expect_dims(13, "Unsqueeze", 3, d234, 1, (int64_t[]){-2}, NULL, 0, 4, (int64_t[]){2, 3, 1, 4});
    expect_dims(13, "Unsqueeze", 0, NULL, 1, (int64_t[]){0}, NULL, 0, 1, (int64_t[]){1});
    expect_dims(13, "Identity", 3, d234, -1, NULL, NULL, 0, 3, d234);
}

static void test_reshape_attr_forms(void)
{
    evo_graph *g = tg_new(11);
    int64_t dims[4] = {1, 3, 1, 5}, axes[2] = {0, 2}, shape[2] = {5, 3};
    float x[15] = {0};
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, x);
    int n = tg_node(g, "Squeeze", &in, 1, 1);
    tg_attr_ints(g, n, "axes", 2, axes);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_dims_eq(tg_out(g, n, 0), 2, (int64_t[]){3, 5}));
    n = tg_node(g, "Unsqueeze", &in, 1, 1);
    tg_attr_ints(g, n, "axes", 2, axes);
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_dims_eq(tg_out(g, n, 0), 6, (int64_t[]){1, 1, 1, 3, 1, 5}));
    g->opset = 4;
    n = tg_node(g, "Reshape", &in, 1, 1);
    tg_attr_ints(g, n, "shape", 2, shape);
    CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
    CHECK(tg_dims_eq(tg_out(g, n, 0), 2, shape));
    evo_graph_free(g);
}

static void test_reshape_errors(void)
{
    evo_graph *g = tg_new(14);
    float x[24] = {0};
    int64_t dims[3] = {2, 3, 4};
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 3, dims, x);
    struct {
        const char *op;
        int n;
        int64_t v[4];
        evo_status want;
        const char *msg;
    } bad[] = {
        {"Reshape", 2, {5, -1}, EVO_ERR_SHAPE, "-1"},        {"Reshape", 2, {-1, -1}, EVO_ERR_SHAPE, "more than one"},
        {"Reshape", 2, {7, 3}, EVO_ERR_SHAPE, "cannot reshape"}, {"Reshape", 2, {-2, 12}, EVO_ERR_SHAPE, "-2"},
        {"Squeeze", 1, {1}, EVO_ERR_SHAPE, "size 3"},        {"Unsqueeze", 2, {1, 1}, EVO_ERR_PARSE, "twice"},
        {"Unsqueeze", 1, {5}, EVO_ERR_SHAPE, "out of range"},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(bad); i++) {
        int ins[2] = {in, tg_i64(g, "arg", bad[i].n, bad[i].v)};
        int n = tg_node(g, bad[i].op, ins, 2, 1);
        evo_error err = {0};
        evo_status s = tg_infer(g, n, &err);
        CHECK_MSG(s == bad[i].want && strstr(err.msg, bad[i].msg), "case %zu: %s", i, err.msg);
    }
    int dyn = tg_value(g, "dyn", EVO_DTYPE_INT64, 1, (int64_t[]){2}, NULL);
    int ins[2] = {in, dyn};
    int n = tg_node(g, "Reshape", ins, 2, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "constant"));
    int ins2[2] = {in, tg_i64(g, "z", 2, (int64_t[]){0, -1})};
    n = tg_node(g, "Reshape", ins2, 2, 1);
    tg_attr_int(g, n, "allowzero", 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "allowzero"));
    evo_graph_free(g);
}

static void test_dropout_mask(void)
{
    evo_graph *g = tg_new(13);
    int64_t dims[2] = {3, 5};
    float x[15];
    for (int i = 0; i < 15; i++)
        x[i] = (float)i - 7;
    int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 2, dims, x);
    int n = tg_node(g, "Dropout", &in, 1, 2);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    CHECK(tg_out(g, n, 1)->dtype == EVO_DTYPE_BOOL && tg_dims_eq(tg_out(g, n, 1), 2, dims));
    float *y = tg_run(g, n, 3, 0);
    uint8_t *mask = tg_run(g, n, 3, 1);
    CHECK(memcmp(y, x, sizeof(x)) == 0);
    int ones = 0;
    for (int i = 0; i < 15; i++)
        ones += mask[i] == 1;
    CHECK(ones == 15);
    free(y);
    free(mask);
    uint8_t yes = 1;
    int ins[3] = {in, -1, tg_value(g, "t", EVO_DTYPE_BOOL, 0, NULL, &yes)};
    n = tg_node(g, "Dropout", ins, 3, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "training"));
    evo_graph_free(g);
}

static void test_shape_size(void)
{
    // test_shape_*: x [3,4,5], (start, end) -> expected dims
    struct {
        bool has_start, has_end;
        int64_t start, end;
        int n;
        int64_t want[3];
    } cases[] = {
        {false, false, 0, 0, 3, {3, 4, 5}}, {true, false, 1, 0, 2, {4, 5}},  {false, true, 0, 1, 1, {3}},
        {false, true, 0, -1, 2, {3, 4}},    {true, true, 1, 2, 1, {4}},      {true, true, 1, -1, 1, {4}},
        {true, false, -1, 0, 1, {5}},       {true, false, -10, 0, 3, {3, 4, 5}}, {false, true, 0, 10, 3, {3, 4, 5}},
        {true, true, 2, 1, 0, {0}},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++) {
        evo_graph *g = tg_new(15);
        int64_t dims[3] = {3, 4, 5};
        int in = tg_value(g, "x", EVO_DTYPE_FLOAT, 3, dims, NULL); // not constant: Shape still folds
        int n = tg_node(g, "Shape", &in, 1, 1);
        if (cases[i].has_start)
            tg_attr_int(g, n, "start", cases[i].start);
        if (cases[i].has_end)
            tg_attr_int(g, n, "end", cases[i].end);
        evo_error err = {0};
        CHECK(tg_infer(g, n, &err) == EVO_OK);
        const evo_value *y = tg_out(g, n, 0);
        CHECK_MSG(y->data && y->dtype == EVO_DTYPE_INT64 && y->rank == 1 && y->dims[0] == cases[i].n, "case %zu", i);
        if (y->data && y->dims[0] == cases[i].n)
            CHECK(memcmp(y->data, cases[i].want, sizeof(int64_t) * (size_t)cases[i].n) == 0);
        // the kernel agrees with the folded value
        evo_tensor tin, tout;
        int64_t buf[3] = {-9, -9, -9};
        tg_tensor(&g->values[in], &tin, NULL);
        tg_tensor(y, &tout, buf);
        evo_kernel_args args = {.node = &g->nodes[n], .in = &tin, .n_in = 1, .out = &tout, .n_out = 1};
        evo_kernel_ref(EVO_OP_SHAPE)->run(&args, 0, 1);
        CHECK(memcmp(buf, cases[i].want, sizeof(int64_t) * (size_t)cases[i].n) == 0);
        n = tg_node(g, "Size", &in, 1, 1);
        CHECK(tg_infer(g, n, &err) == EVO_OK);
        y = tg_out(g, n, 0);
        CHECK(y->data && y->rank == 0 && *(const int64_t *)y->data == 60);
        evo_graph_free(g);
    }
}

static void test_constant_forms(void)
{
    evo_graph *g = tg_new(13);
    float t[6] = {1, 2, 3, 4, 5, 6};
    int64_t dims[2] = {2, 3};
    int tv = tg_value(g, "t", EVO_DTYPE_FLOAT, 2, dims, t);
    int n = tg_node(g, "Constant", NULL, 0, 1);
    tg_attr_tensor(g, n, "value", tv);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    const evo_value *y = tg_out(g, n, 0);
    CHECK(y->data && tg_dims_eq(y, 2, dims) && memcmp(y->data, t, sizeof(t)) == 0);
    float *ky = tg_run(g, n, 2, 0); // the kernel copies the same bytes
    CHECK(memcmp(ky, t, sizeof(t)) == 0);
    free(ky);
    n = tg_node(g, "Constant", NULL, 0, 1);
    tg_attr_ints(g, n, "value_ints", 3, (int64_t[]){7, -8, 9});
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    y = tg_out(g, n, 0);
    CHECK(y->dtype == EVO_DTYPE_INT64 && y->dims[0] == 3 && ((const int64_t *)y->data)[1] == -8);
    n = tg_node(g, "Constant", NULL, 0, 1);
    tg_attr_float(g, n, "value_float", 2.5f);
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    y = tg_out(g, n, 0);
    CHECK(y->dtype == EVO_DTYPE_FLOAT && y->rank == 0 && *(const float *)y->data == 2.5f);
    n = tg_node(g, "Constant", NULL, 0, 1);
    tg_attr_str(g, n, "value_string", "hi");
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "value_string"));
    evo_graph_free(g);
}

static void test_constant_of_shape(void)
{
    evo_graph *g = tg_new(9);
    int32_t seven = 7;
    int one = tg_value(g, "v", EVO_DTYPE_INT32, 1, (int64_t[]){1}, &seven);
    int shape = tg_i64(g, "s", 3, (int64_t[]){2, 3, 5});
    int n = tg_node(g, "ConstantOfShape", &shape, 1, 1);
    tg_attr_tensor(g, n, "value", one);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    const evo_value *y = tg_out(g, n, 0);
    CHECK(y->dtype == EVO_DTYPE_INT32 && tg_dims_eq(y, 3, (int64_t[]){2, 3, 5}));
    int32_t *out = tg_run(g, n, 3, 0);
    int ok = 0;
    for (int i = 0; i < 30; i++)
        ok += out[i] == 7;
    CHECK(ok == 30);
    free(out);
    // default value: float 0; an empty shape gives a scalar; [0] gives an empty tensor
    int empty = tg_value(g, "e", EVO_DTYPE_INT64, 1, (int64_t[]){0}, (int64_t[]){0});
    n = tg_node(g, "ConstantOfShape", &empty, 1, 1);
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_out(g, n, 0)->rank == 0 && tg_out(g, n, 0)->dtype == EVO_DTYPE_FLOAT);
    int zero = tg_i64(g, "z", 1, (int64_t[]){0});
    n = tg_node(g, "ConstantOfShape", &zero, 1, 1);
    CHECK(tg_infer(g, n, &err) == EVO_OK && tg_out(g, n, 0)->dims[0] == 0);
    int neg = tg_i64(g, "neg", 1, (int64_t[]){-1});
    n = tg_node(g, "ConstantOfShape", &neg, 1, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_reshape_cases), CHECK_TEST(test_reshape_attr_forms), CHECK_TEST(test_reshape_errors),
           CHECK_TEST(test_dropout_mask), CHECK_TEST(test_shape_size), CHECK_TEST(test_constant_forms),
           CHECK_TEST(test_constant_of_shape))
