/*
 * test_pad.c - Pad: every mode with random positive and negative pads
 * against a naive numpy-style pad (crop first, then pad with reflect /
 * edge / wrap written as explicit index walks), the attribute form
 * (opset < 11), axes (opset 18), constant values in several dtypes, the
 * ONNX test_constant_pad case, and bad inputs.
 */
#include "tensor_test_util.h"

/* Source index of output o in a 1-D pad, by walking (independent of pad_map). */
static int64_t naive_index(int64_t o, int64_t b, int64_t e, int64_t in, int mode)
{
    int64_t lo = b < 0 ? -b : 0, hi = in - (e < 0 ? -e : 0); // kept [lo, hi)
    int64_t len = hi - lo, j = o - (b > 0 ? b : 0);
    if (j >= 0 && j < len)
        return lo + j;
    if (mode == 0)
        return -1;
    if (mode == 2)
        return lo + (j < 0 ? 0 : len - 1);
    if (mode == 3) {
        while (j < 0)
            j += len;
        return lo + j % len;
    }
    // reflect: bounce between the ends without repeating them
    int64_t pos = 0, dir = j < 0 ? -1 : 1, steps = j < 0 ? -j : j - (len - 1);
    pos = j < 0 ? 0 : len - 1;
    while (steps-- > 0) {
        if (len == 1)
            break;
        if (pos + dir < 0 || pos + dir >= len)
            dir = -dir;
        pos += dir;
    }
    return lo + pos;
}

static void test_pad_random(void)
{
    check_rng r = {31};
    static const char *const modes[] = {"constant", "reflect", "edge", "wrap"};
    for (int iter = 0; iter < 200; iter++) {
        int rank = check_rng_int(&r, 1, 4), mode = iter % 4;
        int64_t dims[4], count = 1, pads[8], odims[4], ocount = 1;
        for (int d = 0; d < rank; d++)
            count *= dims[d] = check_rng_int(&r, 1, 6);
        for (int d = 0; d < rank; d++) {
            int64_t lo = mode == 0 ? -dims[d] / 2 : -(dims[d] - 1) / 2;
            int64_t hi = mode == 1 ? dims[d] + 3 : 4;
            pads[d] = check_rng_int(&r, (int)lo, (int)hi);
            pads[d + rank] = check_rng_int(&r, (int)lo, (int)hi);
            if (mode != 0 && dims[d] + EVO_MIN(pads[d], 0) + EVO_MIN(pads[d + rank], 0) < 1)
                pads[d] = pads[d + rank] = 0;
            ocount *= odims[d] = dims[d] + pads[d] + pads[d + rank];
        }
        float *x = malloc(sizeof(float) * (size_t)count);
        for (int64_t i = 0; i < count; i++)
            x[i] = (float)(i + 1);
        evo_graph *g = tg_new(19);
        float value = 0.5f;
        int ins[3] = {tg_value(g, "x", EVO_DTYPE_FLOAT, rank, dims, x), tg_i64(g, "pads", 2 * rank, pads),
                      tg_value(g, "v", EVO_DTYPE_FLOAT, 0, NULL, &value)};
        int n = tg_node(g, "Pad", ins, 3, 1);
        tg_attr_str(g, n, "mode", modes[mode]);
        evo_error err = {0};
        CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
        CHECK(tg_dims_eq(tg_out(g, n, 0), rank, odims));
        for (int tasks = 1; tasks <= 3; tasks += 2) {
            float *y = tg_run(g, n, tasks, 0);
            int bad = 0;
            for (int64_t e = 0; e < ocount; e++) {
                int64_t rem = e, off = 0, mul = 1;
                bool is_const = false;
                for (int d = rank - 1; d >= 0; d--) {
                    int64_t i = naive_index(rem % odims[d], pads[d], pads[d + rank], dims[d], mode);
                    rem /= odims[d];
                    is_const |= i < 0;
                    off += i * mul;
                    mul *= dims[d];
                }
                bad += y[e] != (is_const ? value : x[off]);
            }
            CHECK_MSG(bad == 0, "iter %d mode %s rank %d tasks %d: %d wrong", iter, modes[mode], rank, tasks, bad);
            free(y);
        }
        free(x);
        evo_graph_free(g);
    }
}

static void test_pad_forms(void)
{
    // opset 2 attribute form, int64 data, value 7
    evo_graph *g = tg_new(2);
    int64_t dims[1] = {3}, x[3] = {1, 2, 3}, pads[2] = {2, 1};
    int in = tg_value(g, "x", EVO_DTYPE_INT64, 1, dims, x);
    int n = tg_node(g, "Pad", &in, 1, 1);
    tg_attr_ints(g, n, "pads", 2, pads);
    tg_attr_float(g, n, "value", 7);
    evo_error err = {0};
    CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
    int64_t *y = tg_run(g, n, 1, 0);
    static const int64_t want[6] = {7, 7, 1, 2, 3, 7};
    CHECK(memcmp(y, want, sizeof(want)) == 0);
    free(y);
    evo_graph_free(g);
    // opset 18 axes input: pad only axis -1 of a [2,2] float16 tensor with 1.0 (0x3c00)
    g = tg_new(18);
    int64_t d2[2] = {2, 2}, p2[2] = {1, 0}, axes[1] = {-1};
    uint16_t h[4] = {1, 2, 3, 4}, one = 0x3c00;
    int ins[4] = {tg_value(g, "h", EVO_DTYPE_FLOAT16, 2, d2, h), tg_i64(g, "p", 2, p2),
                  tg_value(g, "v", EVO_DTYPE_FLOAT16, 0, NULL, &one), tg_i64(g, "a", 1, axes)};
    n = tg_node(g, "Pad", ins, 4, 1);
    CHECK_MSG(tg_infer(g, n, &err) == EVO_OK, "%s", err.msg);
    int64_t want_dims[2] = {2, 3};
    CHECK(tg_dims_eq(tg_out(g, n, 0), 2, want_dims));
    uint16_t *hy = tg_run(g, n, 3, 0);
    static const uint16_t hwant[6] = {0x3c00, 1, 2, 0x3c00, 3, 4};
    CHECK(memcmp(hy, hwant, sizeof(hwant)) == 0);
    free(hy);
    evo_graph_free(g);
}

/* ONNX test_constant_pad: x[1,3,4,5], pads [0,0,1,3,0,0,2,4], value 1.2. */
static void test_pad_onnx_constant(void)
{
    evo_graph *g = tg_new(13);
    int64_t dims[4] = {1, 3, 4, 5}, pads[8] = {0, 0, 1, 3, 0, 0, 2, 4};
    float x[60], v = 1.2f;
    for (int i = 0; i < 60; i++)
        x[i] = (float)i;
    int ins[3] = {tg_value(g, "x", EVO_DTYPE_FLOAT, 4, dims, x), tg_i64(g, "p", 8, pads),
                  tg_value(g, "v", EVO_DTYPE_FLOAT, 0, NULL, &v)};
    int n = tg_node(g, "Pad", ins, 3, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_OK);
    int64_t want[4] = {1, 3, 7, 12};
    CHECK(tg_dims_eq(tg_out(g, n, 0), 4, want));
    float *y = tg_run(g, n, 1, 0);
    CHECK(y[0] == 1.2f && y[12 + 3] == 0 && y[12 + 7] == 4 && y[12 + 8] == 1.2f && y[5 * 12 + 3] == 1.2f);
    free(y);
    evo_graph_free(g);
}

static void test_pad_errors(void)
{
    evo_graph *g = tg_new(13);
    float buf[4] = {0};
    int64_t dims[1] = {2}, crop[2] = {-2, -1}, three[3] = {1, 1, 1};
    int x = tg_value(g, "x", EVO_DTYPE_FLOAT, 1, dims, buf);
    int ins[2] = {x, tg_i64(g, "p", 2, crop)};
    int n = tg_node(g, "Pad", ins, 2, 1);
    evo_error err = {0};
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "negative"));
    int ins2[2] = {x, tg_i64(g, "q", 3, three)};
    n = tg_node(g, "Pad", ins2, 2, 1);
    CHECK(tg_infer(g, n, &err) == EVO_ERR_SHAPE && strstr(err.msg, "pads"));
    n = tg_node(g, "Pad", ins2, 2, 1);
    tg_attr_str(g, n, "mode", "symmetric");
    CHECK(tg_infer(g, n, &err) == EVO_ERR_UNSUPPORTED && strstr(err.msg, "symmetric"));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_pad_random), CHECK_TEST(test_pad_forms), CHECK_TEST(test_pad_onnx_constant),
           CHECK_TEST(test_pad_errors))
