/*
 * test_qfastops.c - the int8 data movement and conversion variants
 * (kernels/qfastops.h) against the reference kernels, bit for bit, for
 * every variant this CPU can run with 1, 2 and 3 tasks: MaxPool on uint8
 * and int8 (YOLOX SPP and stride-2 shapes, then random shapes with odd
 * sizes, pads, strides 1-4 and ceil_mode), QuantizeLinear and
 * DequantizeLinear per tensor and per axis with and without zero points
 * (with ties, NaN, infinities and saturating values), nearest Resize by
 * integer factors (YOLOX's 2x, random shapes, factors 1-4). Outputs carry
 * a guard zone that must stay untouched. Also: supports() refuses float
 * MaxPool, Indices, dilation, int32 DequantizeLinear, downscaling and
 * fractional Resize.
 */
#include "qtest_util.h"

#include "core/cpu.h"
#include "kernels/qfastops.h"

#include <float.h>
#include <stdlib.h>

#define GUARD 67
#define CANARY 0xa5

typedef struct variant {
    const evo_kernel_def *def;
    const char *what;
} variant;

static int host_variants(const evo_kernel_def *avx512, const evo_kernel_def *avx2, variant *out)
{
    int n = 0;
    if (check_host_runs(avx512))
        out[n++] = (variant){avx512, "avx512"};
    if (check_host_runs(avx2))
        out[n++] = (variant){avx2, "avx2"};
    return n;
}

static size_t value_bytes(const evo_graph *g, int id)
{
    int64_t n = 1;
    for (int i = 0; i < g->values[id].rank; i++)
        n *= g->values[id].dims[i];
    return (size_t)n * (g->values[id].dtype == EVO_DTYPE_FLOAT ? 4 : 1);
}

static uint8_t *alloc_out(size_t n)
{
    uint8_t *p = malloc(n + GUARD);
    memset(p, CANARY, n + GUARD);
    return p;
}

/* The reference, then each host variant with 1/2/3 tasks: output 0 byte for byte, guard intact. */
static void compare_variants(evo_graph *g, int node, void *const *in_data, const evo_kernel_def *avx512,
                             const evo_kernel_def *avx2, const char *what)
{
    size_t n = value_bytes(g, g->nodes[node].out[0]);
    uint8_t *want = alloc_out(n);
    void *want_out[1] = {want};
    nn_run(g, node, in_data, want_out, 1);
    variant vs[2];
    int nv = host_variants(avx512, avx2, vs);
    for (int v = 0; v < nv; v++) {
        bool sup = vs[v].def->supports(g, &g->nodes[node]);
        CHECK_MSG(sup, "%s %s: not supported", what, vs[v].what);
        for (int t = 1; sup && t <= 3; t++) {
            uint8_t *got = alloc_out(n);
            void *got_out[1] = {got};
            nn_run_kernel(vs[v].def, g, node, in_data, got_out, t);
            size_t bad = n;
            for (size_t i = 0; i < n + GUARD && bad == n; i++)
                if (got[i] != (i < n ? want[i] : CANARY))
                    bad = i;
            CHECK_MSG(bad == n, "%s %s tasks=%d: byte %zu of %zu = 0x%02x want 0x%02x", what, vs[v].what, t, bad, n,
                      bad < n + GUARD ? got[bad] : 0, bad < n ? want[bad] : CANARY);
            free(got);
        }
    }
    free(want);
}

/* ---- MaxPool ---- */

typedef struct qpool_case {
    int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr;
    int ceil_mode;
} qpool_case;

/* MaxPool of random bytes; low: only the dtype's two smallest values, so padding taken for data shows. */
static void check_qpool(check_rng *r, const qpool_case *pc, evo_dtype t, bool low)
{
    evo_graph *g = evo_graph_new("test");
    int64_t xd[4] = {pc->n, pc->c, pc->h, pc->w};
    int x = nn_value(g, "X", t, 4, xd);
    int node = nn_node(g, "MaxPool", 1, &x, 1);
    int64_t k[2] = {pc->kh, pc->kw}, s[2] = {pc->sh, pc->sw}, pads[4] = {pc->pt, pc->pl, pc->pb, pc->pr};
    nn_attr_ints(g, node, "kernel_shape", k, 2);
    nn_attr_ints(g, node, "strides", s, 2);
    nn_attr_ints(g, node, "pads", pads, 4);
    nn_attr_int(g, node, "ceil_mode", pc->ceil_mode);
    evo_error err;
    if (nn_infer(g, node, &err) == EVO_OK) {
        int64_t count = pc->n * pc->c * pc->h * pc->w;
        uint8_t *xs = qt_bytes(r, count, t);
        for (int64_t i = 0; low && i < count; i++)
            xs[i] = (uint8_t)((t == EVO_DTYPE_INT8 ? 0x80 : 0) + (xs[i] & 1));
        void *ins[1] = {xs};
        char what[200];
        snprintf(what, sizeof(what), "MaxPool %s%s %lldx%lldx%lldx%lld k%lldx%lld s%lldx%lld p%lld,%lld,%lld,%lld ceil%d",
                 t == EVO_DTYPE_INT8 ? "int8" : "uint8", low ? " low" : "", (long long)pc->n, (long long)pc->c, (long long)pc->h,
                 (long long)pc->w, (long long)pc->kh, (long long)pc->kw, (long long)pc->sh, (long long)pc->sw,
                 (long long)pc->pt, (long long)pc->pl, (long long)pc->pb, (long long)pc->pr, pc->ceil_mode);
        compare_variants(g, node, ins, &evo_kernel_qpool_avx512, &evo_kernel_qpool_avx2, what);
        free(xs);
    }
    evo_graph_free(g);
}

static void test_qpool_model_shapes(void)
{
    check_rng r = {3};
    static const qpool_case cases[] = {
        {1, 64, 13, 13, 5, 5, 1, 1, 2, 2, 2, 2, 0},     // YOLOX SPP
        {1, 64, 13, 13, 9, 9, 1, 1, 4, 4, 4, 4, 0},
        {1, 64, 13, 13, 13, 13, 1, 1, 6, 6, 6, 6, 0},
        {1, 7, 20, 20, 5, 5, 1, 1, 2, 2, 2, 2, 0},      // SPPF
        {1, 5, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 0},    // ResNet stem
        {2, 3, 17, 133, 2, 2, 2, 2, 0, 0, 0, 0, 0},
        {1, 3, 9, 9, 3, 3, 2, 2, 0, 0, 0, 0, 1},
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
        {1, 2, 3, 3, 3, 3, 1, 1, 2, 2, 2, 2, 0},        // windows of padding only
    };
    for (int dt = 0; dt < 4; dt++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            check_qpool(&r, &cases[i], dt % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8, dt >= 2);
}

static void test_qpool_random(void)
{
    check_rng r = {0xb17e};
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 63, 65, 70, 129};
    for (int it = 0; it < 300; it++) {
        qpool_case pc;
        pc.n = check_rng_int(&r, 1, 2);
        pc.c = check_rng_int(&r, 1, 4);
        pc.h = sizes[check_rng_int(&r, 0, 9)];
        pc.w = sizes[check_rng_int(&r, 0, 13)];
        pc.kh = check_rng_int(&r, 1, 6);
        pc.kw = check_rng_int(&r, 1, 6);
        pc.sh = check_rng_int(&r, 1, 4);
        pc.sw = check_rng_int(&r, 1, 4);
        pc.pt = check_rng_int(&r, 0, (int)pc.kh - 1);
        pc.pb = check_rng_int(&r, 0, (int)pc.kh - 1);
        pc.pl = check_rng_int(&r, 0, (int)pc.kw - 1);
        pc.pr = check_rng_int(&r, 0, (int)pc.kw - 1);
        pc.ceil_mode = check_rng_int(&r, 0, 1);
        if (pc.kh > pc.h + pc.pt + pc.pb || pc.kw > pc.w + pc.pl + pc.pr)
            continue;
        check_qpool(&r, &pc, it % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8, it % 4 >= 2);
    }
}

/* MaxPool forms left to the reference: float, Indices, dilation, 3-D. */
static void test_qpool_refused(void)
{
    variant vs[2];
    int nv = host_variants(&evo_kernel_qpool_avx512, &evo_kernel_qpool_avx2, vs);
    for (int form = 0; form < 4; form++) {
        evo_graph *g = evo_graph_new("test");
        int64_t xd[5] = {1, 2, 6, 6, 6};
        int x = nn_value(g, "X", form == 0 ? EVO_DTYPE_FLOAT : EVO_DTYPE_UINT8, form == 3 ? 5 : 4, xd);
        int node = nn_node(g, "MaxPool", 1, &x, form == 1 ? 2 : 1);
        int64_t k[3] = {2, 2, 2}, d[2] = {2, 2};
        nn_attr_ints(g, node, "kernel_shape", k, form == 3 ? 3 : 2);
        if (form == 2)
            nn_attr_ints(g, node, "dilations", d, 2);
        evo_error err;
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "form %d: %s", form, err.msg);
        for (int v = 0; v < nv; v++)
            CHECK_MSG(!vs[v].def->supports(g, &g->nodes[node]), "form %d %s", form, vs[v].what);
        evo_graph_free(g);
    }
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

static const float special[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.0f, -0.0f, 127.5f, 128.5f, -128.5f,
                                254.5f, 255.5f, 1e9f, -1e9f, FLT_MAX, INFINITY, -INFINITY, NAN, 1e-30f};

/* A QuantizeLinear (deq false) or DequantizeLinear node over random data; compares the variants. */
static void check_qconvert(check_rng *r, bool deq, evo_dtype t, int rank, const int64_t *dims, int axis,
                           bool per_axis, bool with_zp)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= dims[i];
    int64_t nsc = per_axis ? dims[axis] : 1;
    float *sc = malloc(sizeof(float) * (size_t)nsc);
    uint8_t *zp = qt_bytes(r, nsc, t);
    for (int64_t i = 0; i < nsc; i++)
        sc[i] = i % 5 == 0 ? 1.0f : check_rng_float(r, 0.001f, 0.7f);
    int x = qt_value(g, "x", deq ? t : EVO_DTYPE_FLOAT, rank, dims, NULL);
    int ins[3] = {x, qt_param(g, "s", EVO_DTYPE_FLOAT, nsc, sc), with_zp ? qt_param(g, "z", t, nsc, zp) : -1};
    int node = nn_node(g, deq ? "DequantizeLinear" : "QuantizeLinear", with_zp ? 3 : 2, ins, 1);
    nn_attr_int(g, node, "axis", axis);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    void *xs;
    if (deq) {
        xs = qt_bytes(r, count, t);
    } else {
        float *f = malloc(sizeof(float) * (size_t)(count ? count : 1));
        for (int64_t i = 0; i < count; i++) {
            int k = check_rng_int(r, 0, 39);
            f[i] = k < 20 ? special[k] * (k < 13 ? sc[0] : 1.0f) : check_rng_float(r, -200.0f, 200.0f);
        }
        xs = f;
    }
    void *in[3] = {xs, sc, zp};
    char what[160];
    snprintf(what, sizeof(what), "%s %s rank %d count %lld axis %d per_axis %d zp %d", deq ? "Dequantize" : "Quantize",
             t == EVO_DTYPE_INT8 ? "int8" : "uint8", rank, (long long)count, axis, per_axis, with_zp);
    compare_variants(g, node, in, &evo_kernel_qconvert_avx512, &evo_kernel_qconvert_avx2, what);
    free(xs);
    free(sc);
    free(zp);
    evo_graph_free(g);
}

static void test_qconvert_random(void)
{
    check_rng r = {0xc0de};
    static const int64_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 52, 65};
    for (int it = 0; it < 400; it++) {
        int rank = check_rng_int(&r, 1, 4);
        int64_t dims[4];
        for (int i = 0; i < rank; i++)
            dims[i] = sizes[check_rng_int(&r, 0, 11)];
        int axis = check_rng_int(&r, 0, rank - 1);
        bool per_axis = it % 3 != 0 && dims[axis] > 1;
        check_qconvert(&r, it % 2, it % 4 < 2 ? EVO_DTYPE_UINT8 : EVO_DTYPE_INT8, rank, dims, axis, per_axis,
                       it % 5 != 0);
    }
    /* a model-sized map: 1x16x208x208 per tensor */
    int64_t big[4] = {1, 16, 208, 208};
    for (int deq = 0; deq < 2; deq++)
        check_qconvert(&r, deq, EVO_DTYPE_UINT8, 4, big, 1, false, true);
}

/* DequantizeLinear of int32 and a uint8 -> float QuantizeLinear-shaped misuse go to the reference. */
static void test_qconvert_refused(void)
{
    variant vs[2];
    int nv = host_variants(&evo_kernel_qconvert_avx512, &evo_kernel_qconvert_avx2, vs);
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    int64_t d[1] = {5};
    float s = 0.5f;
    int32_t z = 3;
    int x = qt_value(g, "x", EVO_DTYPE_INT32, 1, d, NULL);
    int ins[3] = {x, qt_param(g, "s", EVO_DTYPE_FLOAT, 1, &s), qt_param(g, "z", EVO_DTYPE_INT32, 1, &z)};
    int node = nn_node(g, "DequantizeLinear", 3, ins, 1);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    for (int v = 0; v < nv; v++)
        CHECK_MSG(!vs[v].def->supports(g, &g->nodes[node]), "int32 dequantize %s", vs[v].what);
    evo_graph_free(g);
}

/* ---- nearest Resize ---- */

/* A nearest Resize of uint8/int8 by scales {1, 1, sh, sw}; compares the variants or checks the refusal. */
static void check_qresize(check_rng *r, evo_dtype t, const int64_t *dims, float sh, float sw, const char *mode,
                          bool expect)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 13;
    float scales[4] = {1.0f, 1.0f, sh, sw};
    int ins[3] = {qt_value(g, "x", t, 4, dims, NULL), -1, qt_param(g, "scales", EVO_DTYPE_FLOAT, 4, scales)};
    int node = nn_node(g, "Resize", 3, ins, 1);
    nn_attr_string(g, node, "mode", mode);
    nn_attr_string(g, node, "coordinate_transformation_mode", "asymmetric");
    nn_attr_string(g, node, "nearest_mode", "floor");
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    char what[160];
    snprintf(what, sizeof(what), "Resize %s %s %lldx%lldx%lldx%lld scales %g,%g", mode,
             t == EVO_DTYPE_INT8 ? "int8" : "uint8", (long long)dims[0], (long long)dims[1], (long long)dims[2],
             (long long)dims[3], sh, sw);
    if (expect) {
        void *xs = qt_bytes(r, dims[0] * dims[1] * dims[2] * dims[3], t);
        void *in[3] = {xs, NULL, scales};
        compare_variants(g, node, in, &evo_kernel_qresize_avx512, &evo_kernel_qresize_avx2, what);
        free(xs);
    } else {
        variant vs[2];
        int nv = host_variants(&evo_kernel_qresize_avx512, &evo_kernel_qresize_avx2, vs);
        for (int v = 0; v < nv; v++)
            CHECK_MSG(!vs[v].def->supports(g, &g->nodes[node]), "%s %s: supported", what, vs[v].what);
    }
    evo_graph_free(g);
}

static void test_qresize(void)
{
    check_rng r = {0x2e51};
    static const int64_t sizes[] = {1, 2, 3, 13, 26, 31, 32, 33, 52, 63, 65, 129};
    static const float factors[][2] = {{2, 2}, {1, 2}, {2, 1}, {3, 3}, {2, 3}, {4, 2}};
    int64_t yolox[4] = {1, 64, 26, 26};
    check_qresize(&r, EVO_DTYPE_UINT8, yolox, 2, 2, "nearest", true);
    for (int it = 0; it < 120; it++) {
        int64_t dims[4] = {check_rng_int(&r, 1, 2), check_rng_int(&r, 1, 5), sizes[check_rng_int(&r, 0, 11)],
                           sizes[check_rng_int(&r, 0, 11)]};
        const float *f = factors[check_rng_int(&r, 0, 5)];
        check_qresize(&r, it % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8, dims, f[0], f[1], "nearest", true);
    }
    int64_t small[4] = {1, 2, 6, 6};
    check_qresize(&r, EVO_DTYPE_UINT8, small, 0.5f, 0.5f, "nearest", false);
    check_qresize(&r, EVO_DTYPE_UINT8, small, 1.5f, 1.5f, "nearest", false);
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"qpool_model_shapes", test_qpool_model_shapes}, {"qpool_random", test_qpool_random},
        {"qpool_refused", test_qpool_refused},           {"qconvert_random", test_qconvert_random},
        {"qconvert_refused", test_qconvert_refused},     {"qresize", test_qresize},
    };
    return check_run(tests, (int)(sizeof(tests) / sizeof(tests[0])), argc, argv);
}
