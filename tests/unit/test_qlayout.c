/*
 * test_qlayout.c - uint8 and int8 tensors through the whole pipeline
 * (shape inference, passes, planner with its views, registry-selected
 * kernels, executor): every layout op that docs/int8.md says runs on the
 * bytes (MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
 * Split, Slice, nearest Resize, Pad, DepthToSpace, Identity) gives exactly
 * the float result on the same values, for both byte types.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

static evo_dtype cur; /* the dtype the build functions use */

static void in_x(evo_builder *b, const int64_t *dims)
{
    evo_build_input_typed(b, "x", cur, 4, dims);
}

static void b_maxpool(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 3, 7, 9});
    evo_build_node(b, "MaxPool", "x", "y", "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
    evo_build_output(b, "y");
}

static void b_maxpool_ceil(evo_builder *b)
{
    in_x(b, (int64_t[]){2, 5, 7, 6});
    evo_build_node(b, "MaxPool", "x", "y", "kernel_shape=2,2 strides=2,2 ceil_mode=1");
    evo_build_output(b, "y");
}

static void b_reshape_chain(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 3, 5, 4});
    evo_build_ints(b, "shape", 2, (int64_t[]){3, -1});
    evo_build_ints(b, "axes", 1, (int64_t[]){0});
    evo_build_node(b, "Transpose", "x", "t", "perm=0,2,3,1");
    evo_build_node(b, "Reshape", "t shape", "r", NULL);
    evo_build_node(b, "Unsqueeze", "r axes", "u", NULL);
    evo_build_node(b, "Squeeze", "u axes", "s", NULL);
    evo_build_node(b, "Identity", "s", "y", NULL);
    evo_build_output(b, "y");
}

static void b_reshape(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 3, 5, 4});
    evo_build_ints(b, "shape", 2, (int64_t[]){3, -1});
    evo_build_node(b, "Reshape", "x shape", "r", NULL);
    evo_build_node(b, "Flatten", "x", "f", "axis=2");
    evo_build_output(b, "r");
    evo_build_output(b, "f");
}

static void b_concat_split(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 3, 5, 4});
    evo_build_input_typed(b, "x2", cur, 4, (int64_t[]){1, 2, 5, 4});
    evo_build_ints(b, "parts", 2, (int64_t[]){1, 4});
    evo_build_node(b, "Concat", "x x2", "c", "axis=1");
    evo_build_node(b, "Split", "c parts", "s0 s1", "axis=1");
    evo_build_node(b, "Concat", "s1 s1", "y", "axis=3");
    evo_build_output(b, "s0");
    evo_build_output(b, "y");
}

static void b_slice(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 4, 9, 10});
    evo_build_ints(b, "st", 3, (int64_t[]){1, 1, -1});
    evo_build_ints(b, "en", 3, (int64_t[]){4, 8, 0});
    evo_build_ints(b, "ax", 3, (int64_t[]){1, 2, 3});
    evo_build_ints(b, "sp", 3, (int64_t[]){2, 3, -2});
    evo_build_node(b, "Slice", "x st en ax sp", "y", NULL);
    evo_build_output(b, "y");
}

static void b_resize(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 2, 3, 5});
    float sc[4] = {1, 1, 2, 3};
    evo_build_const(b, "scales", EVO_DTYPE_FLOAT, 1, (int64_t[]){4}, sc);
    evo_build_node(b, "Resize", "x _ scales", "y", NULL);
    evo_build_output(b, "y");
}

static void b_pad(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 2, 3, 5});
    evo_build_ints(b, "pads", 8, (int64_t[]){0, 0, 1, 2, 0, 1, 2, 1});
    uint8_t v8 = 7;
    float vf = 7.0f;
    evo_build_const(b, "v", cur, 0, NULL, cur == EVO_DTYPE_FLOAT ? (const void *)&vf : (const void *)&v8);
    evo_build_node(b, "Pad", "x pads v", "y", NULL);
    evo_build_node(b, "Pad", "x pads", "y2", NULL);
    evo_build_output(b, "y");
    evo_build_output(b, "y2");
}

static void b_d2s(evo_builder *b)
{
    in_x(b, (int64_t[]){1, 8, 3, 2});
    evo_build_node(b, "DepthToSpace", "x", "y", "blocksize=2");
    evo_build_output(b, "y");
}

/*
 * Compiles build() for dtype t, runs it on bytes 0..255 from seed (as
 * values of t), and returns every output as float in out.
 */
static bool run_as(void (*build)(evo_builder *), evo_dtype t, float *out, size_t cap, size_t *n_out)
{
    evo_builder b;
    evo_error err = {0};
    evo_model *m = NULL;
    evo_session *s = NULL;
    cur = t;
    CHECK(evo_builder_init(&b, "qlayout", 3) == EVO_OK);
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    bool ok = false;
    if (evo_passes_run(b.g, &ctx) != EVO_OK || evo_model_from_graph(b.g, &m, &err) != EVO_OK ||
        evo_session_create(m, NULL, &s, &err) != EVO_OK) {
        CHECK_MSG(false, "%s: %s", evo_dtype_name(t), err.msg);
        goto done;
    }
    check_rng rng = {42};
    for (int i = 0; i < evo_model_n_inputs(m); i++) {
        evo_tensor_desc d;
        evo_model_input_desc(m, i, &d);
        void *p = evo_session_input_data(s, i);
        size_t count = d.size_bytes / (t == EVO_DTYPE_FLOAT ? 4 : 1);
        for (size_t k = 0; k < count; k++) {
            int v = check_rng_int(&rng, 0, 255);
            if (t == EVO_DTYPE_FLOAT)
                ((float *)p)[k] = (float)(v - 128);
            else if (t == EVO_DTYPE_INT8)
                ((int8_t *)p)[k] = (int8_t)(v - 128);
            else
                ((uint8_t *)p)[k] = (uint8_t)v;
        }
    }
    if (evo_session_run(s, &err) != EVO_OK) {
        CHECK_MSG(false, "%s: %s", evo_dtype_name(t), err.msg);
        goto done;
    }
    *n_out = 0;
    for (int o = 0; o < evo_model_n_outputs(m); o++) {
        evo_tensor_desc d;
        evo_model_output_desc(m, o, &d);
        CHECK_MSG(d.dtype == t, "output %d is %s, want %s", o, evo_dtype_name(d.dtype), evo_dtype_name(t));
        const void *p = evo_session_output_data(s, o);
        size_t count = d.size_bytes / (t == EVO_DTYPE_FLOAT ? 4 : 1);
        for (size_t k = 0; k < count && *n_out < cap; k++)
            out[(*n_out)++] = t == EVO_DTYPE_FLOAT  ? ((const float *)p)[k]
                              : t == EVO_DTYPE_INT8 ? (float)((const int8_t *)p)[k] + 128.0f
                                                    : (float)((const uint8_t *)p)[k];
    }
    ok = true;
done:
    evo_session_free(s);
    evo_model_free(m);
    if (!m)
        evo_graph_free(b.g);
    return ok;
}

static void check_same(void (*build)(evo_builder *), const char *name)
{
    static float f[4096], q[4096];
    size_t nf = 0, nq = 0;
    /* float inputs are v - 128: uint8 (v) is offset by 128, int8 (v - 128) is not */
    bool okf = run_as(build, EVO_DTYPE_FLOAT, f, 4096, &nf);
    for (int t = 0; t < 2 && okf; t++) {
        evo_dtype dt = t ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        if (!run_as(build, dt, q, 4096, &nq))
            continue;
        int bad = 0;
        for (size_t i = 0; i < nf && i < nq; i++) {
            float want = f[i] + 128.0f;
            if (q[i] != want && bad++ < 3)
                fprintf(stderr, "%s %s: element %zu = %g want %g\n", name, evo_dtype_name(dt), i, q[i], want);
        }
        CHECK_MSG(nf == nq && nf > 0 && bad == 0, "%s %s: %zu vs %zu elements, %d wrong", name, evo_dtype_name(dt),
                  nq, nf, bad);
    }
}

#define CASE(fn) {#fn, fn}
static void test_layout_ops(void)
{
    static const struct {
        const char *name;
        void (*build)(evo_builder *);
    } cases[] = {CASE(b_maxpool), CASE(b_maxpool_ceil), CASE(b_reshape_chain), CASE(b_reshape), CASE(b_concat_split),
                 CASE(b_slice), CASE(b_resize), CASE(b_d2s)};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_same(cases[i].build, cases[i].name);
}

/* Pad: the constant value is a byte of the data's type; the default 0 is byte 0. */
static void test_pad_bytes(void)
{
    static float q[512];
    size_t nq = 0;
    for (int t = 0; t < 2; t++) {
        evo_dtype dt = t ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
        CHECK(run_as(b_pad, dt, q, 512, &nq));
        /* each output: [1, 2+1, 3+1+2, 5+2+1] = 144; element 0 is padding: 7, then the default 0 */
        CHECK_MSG(nq == 288, "%zu", nq);
        float off = t ? 128.0f : 0.0f;
        CHECK_MSG(q[0] == 7.0f + off && q[144] == 0.0f + off, "%s: %g %g", evo_dtype_name(dt), q[0], q[144]);
    }
}

CHECK_MAIN(CHECK_TEST(test_layout_ops), CHECK_TEST(test_pad_bytes))
