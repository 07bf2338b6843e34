/*
 * test_quant_policy.c - two parts of evo quantize's default choices:
 * the pre-activation range of a table activation (quant/actrange.c:
 * narrowed only where the activation flattens, never past 0, with less
 * error after the activation than the calibrated range; ReLU, Clip and no
 * activation untouched) and the layers that write model outputs
 * (quant/policy.c, on small built graphs).
 */
#include "check.h"
#include "graph/builder.h"
#include "kernels/sgemm.h"
#include "passes/passes.h"
#include "quant/actrange.h"
#include "quant/quantize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Samples uniform in [lo, hi) into h. */
static void fill_uniform(evo_hist *h, check_rng *r, double lo, double hi, int n)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++)
        x[i] = check_rng_float(r, (float)lo, (float)hi);
    evo_hist_add(h, x, (size_t)n);
    free(x);
}

/* Mean squared error after act of quantizing samples to 256 levels over [lo, hi]. */
static double act_mse(evo_act act, float alpha, float beta, double lo, double hi, const float *x, int n)
{
    double step = (hi - lo) / 255, err = 0;
    for (int i = 0; i < n; i++) {
        double v = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
        double q = lo + nearbyint((v - lo) / step) * step;
        double d = evo_act_apply((float)q, act, alpha, beta) - evo_act_apply(x[i], act, alpha, beta);
        err += d * d;
    }
    return err / n;
}

static void check_act(evo_act act, float alpha, float beta, double lo0, double hi0, bool lo_moves,
                      bool hi_moves)
{
    check_rng r = {99};
    evo_hist h;
    evo_hist_init(&h);
    enum { N = 200000 };
    float *x = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++)
        x[i] = check_rng_float(&r, (float)lo0, (float)hi0);
    evo_hist_add(&h, x, N);
    double lo = lo0, hi = hi0;
    quant_act_input_range(&h, act, alpha, beta, 256, &lo, &hi);
    CHECK_MSG(lo <= 0 && hi >= 0, "act %d: [%g, %g] lost 0", (int)act, lo, hi);
    CHECK_MSG(lo >= lo0 && hi <= hi0, "act %d: [%g, %g] grew past [%g, %g]", (int)act, lo, hi, lo0, hi0);
    CHECK_MSG(lo_moves ? lo > lo0 : lo == lo0, "act %d: lo %g from %g", (int)act, lo, lo0);
    CHECK_MSG(hi_moves ? hi < hi0 : hi == hi0, "act %d: hi %g from %g", (int)act, hi, hi0);
    double e0 = act_mse(act, alpha, beta, lo0, hi0, x, N), e1 = act_mse(act, alpha, beta, lo, hi, x, N);
    CHECK_MSG(e1 <= e0 * 1.0001, "act %d: error after the activation %g, calibrated range %g", (int)act, e1, e0);
    if (lo_moves || hi_moves)
        CHECK_MSG(e1 < 0.7 * e0, "act %d: narrowing gained too little (%g vs %g)", (int)act, e1, e0);
    free(x);
}

static void test_act_ranges(void)
{
    /* SiLU and HardSwish are flat (near 0) far below 0: the negative side shrinks, the linear side stays */
    check_act(EVO_ACT_SILU, 0, 0, -60, 20, true, false);
    check_act(EVO_ACT_HARD_SWISH, 0, 0, -60, 20, true, false);
    /* Sigmoid saturates on both sides */
    check_act(EVO_ACT_SIGMOID, 0, 0, -40, 40, true, true);
    /* clamps and no activation: untouched */
    check_act(EVO_ACT_RELU, 0, 0, -60, 20, false, false);
    check_act(EVO_ACT_NONE, 0, 0, -60, 20, false, false);
    check_act(EVO_ACT_CLIP, 0, 6, -60, 20, false, false);
    /* one-signed data keeps its only side (the range must include 0) */
    check_rng r = {5};
    evo_hist h;
    evo_hist_init(&h);
    fill_uniform(&h, &r, 0, 30, 10000);
    double lo = 0, hi = 30;
    quant_act_input_range(&h, EVO_ACT_SILU, 0, 0, 256, &lo, &hi);
    CHECK(lo == 0 && hi == 30);
    /* an empty histogram leaves the range alone */
    evo_hist_init(&h);
    lo = -1, hi = 1;
    quant_act_input_range(&h, EVO_ACT_SIGMOID, 0, 0, 256, &lo, &hi);
    CHECK(lo == -1 && hi == 1);
}

/*
 * x -> Conv a -> Relu -> Conv b -> Sigmoid -> Reshape -> output "scores"
 *                      \-> Conv c -> output "boxes"
 * x -> Conv d -> Concat(with Conv c's input) ... : d feeds the Concat that is output "both"
 */
static evo_graph *output_graph(void)
{
    evo_builder b;
    evo_error err = {0};
    CHECK(evo_builder_init(&b, "outputs", 7) == EVO_OK);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 3, 8, 8});
    evo_build_weight(&b, "wa", 4, (int64_t[]){4, 3, 3, 3}, 0.3f);
    evo_build_weight(&b, "wb", 4, (int64_t[]){2, 4, 1, 1}, 0.3f);
    evo_build_weight(&b, "wc", 4, (int64_t[]){4, 4, 1, 1}, 0.3f);
    evo_build_weight(&b, "wd", 4, (int64_t[]){4, 3, 1, 1}, 0.3f);
    evo_build_ints(&b, "shape", 3, (int64_t[]){1, 2, 64});
    evo_build_node(&b, "Conv", "x wa", "a", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(&b, "Relu", "a", "a_act", "");
    evo_build_node(&b, "Conv", "a_act wb", "bo", "kernel_shape=1,1");
    evo_build_node(&b, "Sigmoid", "bo", "b_sig", "");
    evo_build_node(&b, "Reshape", "b_sig shape", "scores", "");
    evo_build_node(&b, "Conv", "a_act wc", "boxes", "kernel_shape=1,1");
    evo_build_node(&b, "Conv", "x wd", "d", "kernel_shape=1,1");
    evo_build_node(&b, "Concat", "d boxes", "both", "axis=1");
    evo_build_output(&b, "scores");
    evo_build_output(&b, "boxes");
    evo_build_output(&b, "both");
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

static const char *conv_writing(const evo_graph *g, const char *value)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].is_dead && g->nodes[i].op == EVO_OP_CONV &&
            !strcmp(g->values[g->nodes[i].out[0]].name, value))
            return g->nodes[i].name;
    return "?";
}

static void test_output_layers(void)
{
    evo_graph *g = output_graph();
    if (!g)
        return;
    char list[512], want[512];
    CHECK(evo_quant_output_layers(g, list, sizeof list));
    /* b (through Sigmoid and Reshape), c (directly and through the Concat), d (through the Concat); not a */
    snprintf(want, sizeof want, "%s,%s,%s", conv_writing(g, "bo"), conv_writing(g, "boxes"), conv_writing(g, "d"));
    CHECK_MSG(!strcmp(list, want), "output layers \"%s\", expected \"%s\"", list, want);
    CHECK(!strstr(list, conv_writing(g, "a")));
    char tiny[4];
    CHECK(!evo_quant_output_layers(g, tiny, sizeof tiny)); /* does not fit */
    evo_graph_free(g);
}

CHECK_MAIN({"act_ranges", test_act_ranges}, {"output_layers", test_output_layers})
