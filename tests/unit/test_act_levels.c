/*
 * test_act_levels.c - activation levels (src/passes/act_levels.c): the spec
 * parser (good specs, and bad ones named in the error), and the pass on
 * small graphs: x * Sigmoid(x) after a conv compiled with silu=relu (or
 * leaky:0.1, hardswish) computes the same as the graph written with that
 * activation; a Sigmoid that is not a SiLU's is left alone by silu=...
 */
#include "check.h"
#include "evo.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "passes/act_levels.h"
#include "passes/passes.h"

#include <stdlib.h>

static void test_parse(void)
{
    evo_act_levels lv;
    evo_error err = {0};
    CHECK(evo_act_levels_parse("silu=relu", &lv, &err) == EVO_OK && lv.set[EVO_ACT_LEVEL_SRC_SILU] &&
          lv.dst[EVO_ACT_LEVEL_SRC_SILU] == EVO_ACT_LEVEL_RELU && !lv.set[EVO_ACT_LEVEL_SRC_HARD_SWISH]);
    CHECK(evo_act_levels_parse("silu=leaky:0.125,hardswish=relu6", &lv, &err) == EVO_OK &&
          lv.dst[EVO_ACT_LEVEL_SRC_SILU] == EVO_ACT_LEVEL_LEAKY && lv.alpha[EVO_ACT_LEVEL_SRC_SILU] == 0.125f &&
          lv.dst[EVO_ACT_LEVEL_SRC_HARD_SWISH] == EVO_ACT_LEVEL_RELU6);
    CHECK(evo_act_levels_parse("", &lv, &err) == EVO_OK);
    static const struct {
        const char *spec, *says;
    } bad[] = {
        {"silu", "is not FROM=TO"},          {"gelu=relu", "unknown activation \"gelu\""},
        {"silu=tanh", "\"tanh\" is not a replacement"}, {"silu=leaky:1.5", "\"leaky:1.5\" is not a replacement"},
        {"silu=leaky:", "is not a replacement"}, {"hardswish=hardswish", "by itself"},
        {",silu=relu", "is not FROM=TO"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = 0;
        CHECK_MSG(evo_act_levels_parse(bad[i].spec, &lv, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, bad[i].says),
                  "\"%s\": %s", bad[i].spec, err.msg);
    }
}

/* conv -> activation `act` ("silu" as x * Sigmoid(x), or an op name) -> output. */
static void build(evo_builder *b, const char *act, const char *attrs)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 7, 9});
    evo_build_weight(b, "w", 4, (int64_t[]){5, 3, 3, 3}, 0.6f);
    evo_build_node(b, "Conv", "x w", "c", "kernel_shape=3,3 pads=1,1,1,1");
    if (strcmp(act, "silu") == 0) {
        evo_build_node(b, "Sigmoid", "c", "s", NULL);
        evo_build_node(b, "Mul", "c s", "y", NULL);
    } else if (strcmp(act, "sigmoid+add") == 0) { /* a Sigmoid that is no SiLU's */
        evo_build_node(b, "Sigmoid", "c", "s", NULL);
        evo_build_node(b, "Add", "c s", "y", NULL);
    } else {
        evo_build_node(b, act, "c", "y", attrs);
    }
    evo_build_output(b, "y");
}

/* Compiles and runs; the output (malloc'd) or NULL. counts: the pass' log said so. */
static float *run(const char *act, const char *attrs, const char *levels, size_t *n)
{
    evo_builder b;
    evo_error err = {0};
    evo_model *m = NULL;
    evo_session *s = NULL;
    float *out = NULL;
    CHECK(evo_builder_init(&b, "levels", 3) == EVO_OK);
    build(&b, act, attrs);
    evo_compile_options co = evo_compile_options_default();
    co.act_levels = levels;
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK && evo_model_from_graph(b.g, &m, &err) == EVO_OK, "%s", err.msg);
    evo_session_options so = evo_session_options_default();
    CHECK_MSG(m && evo_session_create(m, &so, &s, &err) == EVO_OK, "%s", err.msg);
    if (s) {
        evo_tensor_desc d;
        evo_model_input_desc(m, 0, &d);
        float *p = evo_session_input_data(s, 0);
        check_rng r = {77};
        for (size_t k = 0; k < d.size_bytes / 4; k++)
            p[k] = check_rng_float(&r, -2, 2);
        CHECK_MSG(evo_session_run(s, &err) == EVO_OK, "%s", err.msg);
        evo_model_output_desc(m, 0, &d);
        *n = d.size_bytes / 4;
        out = malloc(d.size_bytes);
        memcpy(out, evo_session_output_data(s, 0), d.size_bytes);
    }
    evo_session_free(s);
    evo_model_free(m);
    return out;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; a && b && i < n; i++)
        worst = fabs((double)a[i] - b[i]) > worst ? fabs((double)a[i] - b[i]) : worst;
    return a && b ? worst : 1e30;
}

static void test_replace(void)
{
    size_t n0 = 0, n1 = 0;
    static const struct {
        const char *from, *levels, *as, *attrs;
    } cases[] = {
        {"silu", "silu=relu", "Relu", NULL},
        {"silu", "silu=leaky:0.1", "LeakyRelu", "alpha:0.1"},
        {"silu", "silu=hardswish", "HardSwish", NULL},
        {"HardSwish", "hardswish=relu", "Relu", NULL},
        {"LeakyRelu", "leaky=relu", "Relu", "alpha:0.1"},
        {"Sigmoid", "sigmoid=relu6", "Relu", NULL}, /* relu6 on conv outputs in [-6, 6]: compared below */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        float *a = run(cases[i].from, strcmp(cases[i].from, "LeakyRelu") == 0 ? "alpha:0.1" : NULL, cases[i].levels,
                       &n0);
        float *b = run(cases[i].as, cases[i].attrs, NULL, &n1);
        if (strcmp(cases[i].levels, "sigmoid=relu6") == 0)
            for (size_t k = 0; b && k < n1; k++)
                b[k] = b[k] > 6 ? 6 : b[k];
        CHECK(n0 == n1 && n0 > 0);
        CHECK_MSG(max_diff(a, b, n0) < 1e-5, "%s with %s: max |diff| %g", cases[i].from, cases[i].levels,
                  max_diff(a, b, n0));
        /* and it did change the function */
        float *c = run(cases[i].from, strcmp(cases[i].from, "LeakyRelu") == 0 ? "alpha:0.1" : NULL, NULL, &n1);
        CHECK_MSG(max_diff(a, c, n0) > 1e-3, "%s: %s changed nothing", cases[i].from, cases[i].levels);
        free(a);
        free(b);
        free(c);
    }
    /* silu=relu leaves a Sigmoid that is not a SiLU's, and sigmoid=relu leaves a SiLU's Sigmoid */
    float *a = run("sigmoid+add", NULL, "silu=relu", &n0), *b = run("sigmoid+add", NULL, NULL, &n1);
    CHECK(max_diff(a, b, n0) == 0);
    free(a);
    free(b);
    a = run("silu", NULL, "sigmoid=relu", &n0);
    b = run("silu", NULL, NULL, &n1);
    CHECK(max_diff(a, b, n0) == 0);
    free(a);
    free(b);
}

CHECK_MAIN(CHECK_TEST(test_parse), CHECK_TEST(test_replace))
