/*
 * test_equalize.c - cross-layer equalization (quant/equalize.c) on small
 * random models whose channels differ by orders of magnitude: the float
 * model computes the same outputs after equalization (to ~1e-5 relative),
 * the pairs through LeakyRelu, Relu + MaxPool, a depthwise Conv and a
 * fan-out of two Convs are rescaled, a chain through SiLU (Sigmoid + Mul)
 * is not, and the channel ranges of an equalized tensor come closer.
 */
#include "check.h"
#include "exec/model.h"
#include "exec/session.h"
#include "graph/builder.h"
#include "passes/passes.h"
#include "quant/equalize.h"
#include "quant/quantize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N_INPUTS = 3, C_IN = 3, H = 17, W = 13 };

/* A constant whose output channel c (dim 0) is drawn in [-1, 1) times 10^(spread * (c % 5 - 2)). */
static void spread_weight(evo_builder *b, check_rng *r, const char *name, int rank, const int64_t *dims,
                          double spread)
{
    int64_t count = 1, per;
    for (int d = 0; d < rank; d++)
        count *= dims[d];
    per = count / dims[0];
    float *w = malloc(sizeof(float) * (size_t)count);
    for (int64_t i = 0; i < count; i++)
        w[i] = check_rng_float(r, -1, 1) * (float)pow(10.0, spread * (double)((i / per) % 5 - 2));
    evo_build_const(b, name, EVO_DTYPE_FLOAT, rank, dims, w);
    free(w);
}

/*
 * x -> Conv A (8) -> LeakyRelu -> Conv B (depthwise 8) -> Conv C (6) -> Relu -> MaxPool
 *   -> Conv D (5, 3x3) and Conv E (4, 1x1, bias)       [outputs d, e]
 * x -> Conv F (4) -> Sigmoid * itself (SiLU) -> Conv G (3)  [output gout]
 */
static void build(evo_builder *b)
{
    check_rng r = {777};
    evo_build_input(b, "x", 4, (int64_t[]){1, C_IN, H, W});
    spread_weight(b, &r, "wa", 4, (int64_t[]){8, C_IN, 3, 3}, 1.0);
    spread_weight(b, &r, "ba", 1, (int64_t[]){8}, 1.0);
    spread_weight(b, &r, "wb", 4, (int64_t[]){8, 1, 3, 3}, 0.5);
    spread_weight(b, &r, "bb", 1, (int64_t[]){8}, 0.5);
    spread_weight(b, &r, "wc", 4, (int64_t[]){6, 8, 1, 1}, 1.0);
    spread_weight(b, &r, "wd", 4, (int64_t[]){5, 6, 3, 3}, 0.3);
    spread_weight(b, &r, "bd", 1, (int64_t[]){5}, 0.3);
    spread_weight(b, &r, "we", 4, (int64_t[]){4, 6, 1, 1}, 0.3);
    spread_weight(b, &r, "be", 1, (int64_t[]){4}, 0.3);
    spread_weight(b, &r, "wf", 4, (int64_t[]){4, C_IN, 3, 3}, 1.0);
    spread_weight(b, &r, "wg", 4, (int64_t[]){3, 4, 1, 1}, 0.3);
    evo_build_node(b, "Conv", "x wa ba", "a", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "LeakyRelu", "a", "a_act", "alpha:0.1");
    evo_build_node(b, "Conv", "a_act wb bb", "bo", "kernel_shape=3,3 pads=1,1,1,1 group=8");
    evo_build_node(b, "Conv", "bo wc", "c", "kernel_shape=1,1");
    evo_build_node(b, "Relu", "c", "c_act", "");
    evo_build_node(b, "MaxPool", "c_act", "c_pool", "kernel_shape=2,2 strides=2,2");
    evo_build_node(b, "Conv", "c_pool wd bd", "d", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Conv", "c_pool we be", "e", "kernel_shape=1,1");
    evo_build_node(b, "Conv", "x wf", "f", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Sigmoid", "f", "f_sig", "");
    evo_build_node(b, "Mul", "f f_sig", "f_act", "");
    evo_build_node(b, "Conv", "f_act wg", "gout", "kernel_shape=1,1");
    evo_build_output(b, "d");
    evo_build_output(b, "e");
    evo_build_output(b, "gout");
}

static evo_graph *compiled_graph(void)
{
    evo_builder b;
    evo_error err = {0};
    CHECK(evo_builder_init(&b, "equalize", 3) == EVO_OK);
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = EVO_QUANT_UNFUSED_PASSES;
    evo_pass_ctx ctx = {&co, &err};
    if (evo_passes_run(b.g, &ctx) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        evo_graph_free(b.g);
        return NULL;
    }
    return b.g;
}

/* Outputs of model m on the inputs, concatenated into out (cap floats); returns the count. */
static int64_t run_outputs(evo_model *m, float **inputs, float *out, int64_t cap)
{
    evo_session *s = NULL;
    evo_error err = {0};
    evo_tensor_desc d;
    int64_t n = 0;
    CHECK_MSG(evo_session_create(m, NULL, &s, &err) == EVO_OK, "%s", err.msg);
    evo_model_input_desc(m, 0, &d);
    for (int i = 0; s && i < N_INPUTS; i++) {
        memcpy(evo_session_input_data(s, 0), inputs[i], d.size_bytes);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        for (int o = 0; o < evo_model_n_outputs(m); o++) {
            evo_tensor_desc od;
            evo_model_output_desc(m, o, &od);
            int64_t k = (int64_t)(od.size_bytes / sizeof(float));
            CHECK(n + k <= cap);
            if (n + k <= cap)
                memcpy(out + n, evo_session_output_data(s, o), od.size_bytes);
            n += k;
        }
    }
    evo_session_free(s);
    return n;
}

/* max over channels / min over channels of the per-channel absolute range of value v. */
static double channel_spread(const evo_chan_ranges *r, int v)
{
    double lo = INFINITY, hi = 0;
    for (int c = 0; c < r->n_ch[v]; c++) {
        double a = fmax(fabs(r->lo[v][c]), fabs(r->hi[v][c]));
        lo = fmin(lo, a);
        hi = fmax(hi, a);
    }
    return lo > 0 ? hi / lo : INFINITY;
}

static int value_named(const evo_graph *g, const char *name)
{
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].name && !strcmp(g->values[v].name, name))
            return v;
    return -1;
}

static void test_equalize_preserves_outputs(void)
{
    evo_error err = {0};
    check_rng r = {4242};
    float *inputs[N_INPUTS];
    for (int i = 0; i < N_INPUTS; i++) {
        inputs[i] = malloc(sizeof(float) * C_IN * H * W);
        for (int k = 0; k < C_IN * H * W; k++)
            inputs[i][k] = check_rng_float(&r, -2, 2);
    }
    evo_graph *g0 = compiled_graph(), *g1 = compiled_graph();
    evo_model *m0 = NULL, *m1 = NULL;
    evo_session *obs = NULL;
    evo_chan_ranges *ranges = NULL, *after = NULL;
    if (!g0 || !g1 || evo_model_from_graph(g0, &m0, &err) ||
        evo_session_create_observable(m0, NULL, &obs, &err) ||
        evo_chan_ranges_collect(obs, m0, m0->g, (const float *const *)inputs, N_INPUTS, &ranges, &err)) {
        CHECK_MSG(false, "%s", err.msg);
        goto done;
    }
    int pairs = 0;
    CHECK_MSG(evo_equalize_graph(g1, ranges, &pairs, &err) == EVO_OK, "%s", err.msg);
    CHECK_MSG(pairs == 3, "equalized %d pairs, expected 3 (A-B, B-C, C-D/E; not F through SiLU)", pairs);
    int v_a = value_named(g1, "a_act"), v_bo = value_named(g1, "bo");
    double spread_a = channel_spread(ranges, v_a), spread_bo = channel_spread(ranges, v_bo);
    if (evo_model_from_graph(g1, &m1, &err)) {
        CHECK_MSG(false, "%s", err.msg);
        goto done;
    }
    g1 = NULL;
    enum { CAP = 3 * N_INPUTS * (5 + 4) * H * W };
    float *y0 = malloc(sizeof(float) * CAP), *y1 = malloc(sizeof(float) * CAP);
    int64_t n0 = run_outputs(m0, inputs, y0, CAP), n1 = run_outputs(m1, inputs, y1, CAP);
    CHECK(n0 == n1 && n0 > 0);
    double ymax = 0, dmax = 0;
    for (int64_t i = 0; i < n0 && n0 == n1; i++) {
        ymax = fmax(ymax, fabs(y0[i]));
        dmax = fmax(dmax, fabs((double)y0[i] - y1[i]));
    }
    CHECK_MSG(dmax <= 1e-5 * ymax, "equalized outputs differ by %g (output range %g)", dmax, ymax);
    /* the equalized model's own ranges: the tensors between pairs are flatter across channels */
    evo_session_free(obs);
    obs = NULL;
    if (evo_session_create_observable(m1, NULL, &obs, &err) ||
        evo_chan_ranges_collect(obs, m1, m1->g, (const float *const *)inputs, N_INPUTS, &after, &err)) {
        CHECK_MSG(false, "%s", err.msg);
    } else {
        CHECK_MSG(channel_spread(after, v_a) < spread_a / 10, "a_act spread %g -> %g", spread_a,
                  channel_spread(after, v_a));
        CHECK_MSG(channel_spread(after, v_bo) < spread_bo, "bo spread %g -> %g", spread_bo,
                  channel_spread(after, v_bo));
    }
    /* ranges of another graph are refused */
    evo_graph *small = compiled_graph();
    if (small) {
        evo_chan_ranges wrong = *ranges;
        wrong.n_values = ranges->n_values + 1;
        CHECK(evo_equalize_graph(small, &wrong, &pairs, &err) == EVO_ERR_INTERNAL);
        evo_graph_free(small);
    }
    free(y0);
    free(y1);
done:
    evo_chan_ranges_free(after);
    evo_chan_ranges_free(ranges);
    evo_session_free(obs);
    evo_model_free(m0);
    evo_model_free(m1);
    evo_graph_free(g1);
    for (int i = 0; i < N_INPUTS; i++)
        free(inputs[i]);
}

CHECK_MAIN({"preserves_outputs", test_equalize_preserves_outputs})
