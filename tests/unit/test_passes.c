/*
 * test_passes.c - every optimisation pass is checked for equivalence: the
 * same graph compiled with and without the passes must give the same
 * outputs on random inputs, and the passes must actually have fired
 * (fewer steps). Graphs are the patterns real exports contain: Conv+BN,
 * Conv+BN+SiLU (x*Sigmoid(x)), ResNet's Relu(Conv + identity), YOLO's
 * bottleneck x + SiLU(Conv(SiLU(Conv(x)))), Conv +
 * HardSwish/Clip/LeakyRelu, an activation behind layout-only ops, YOLOv5's
 * head (Conv -> Reshape -> Transpose -> Sigmoid: one Conv writing the
 * transposed layout with the Sigmoid fused), its box decoding (Split ->
 * Concat with the scores passing through: an in-place evo.UpdateSlices),
 * a Focus block (four pixel-phase Slices, Concat, 3x3 Conv: one 6x6
 * stride-2 Conv), and cases that must not fuse
 * (a pre-activation value read twice, a residual produced after the conv,
 * a layout op's output read elsewhere).
 */
#include "check.h"
#include "graph_run.h"
#include "plan/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const all_opt = "simplify,fuse_hard,fold_bn,fuse_residual,fuse_layout,fuse_act,fuse_residual_act,fuse_update";

/* The opset graphs are built at (Slice takes steps from 10 on). */
static int build_opset = 7;

/* Builds with build(), compiles with passes disabled or not, runs on a seeded input. */
static int compile_run(void (*build)(evo_builder *), const char *disable, float *out, size_t cap_floats,
                       size_t *n_out)
{
    evo_builder b;
    evo_error err = {0};
    evo_model *m = NULL;
    evo_session *s = NULL;
    int steps = -1;
    CHECK(evo_builder_init(&b, "passes", build_opset) == EVO_OK);
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = disable;
    evo_pass_ctx ctx = {&co, &err};
    if (evo_passes_run(b.g, &ctx) != EVO_OK || evo_model_from_graph(b.g, &m, &err) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        evo_graph_free(b.g);
        return -1;
    }
    CHECK_MSG(evo_session_create(m, NULL, &s, &err) == EVO_OK, "%s", err.msg);
    evo_tensor_desc d;
    for (int i = 0; s && i < evo_model_n_inputs(m); i++) {
        evo_model_input_desc(m, i, &d);
        float *p = evo_session_input_data(s, i);
        uint64_t seed = 1234 + (uint64_t)i;
        for (size_t k = 0; k < d.size_bytes / 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            p[k] = (float)((seed >> 40) & 0xffff) / 16384.0f - 2.0f;
        }
    }
    if (s && evo_session_run(s, &err) == EVO_OK) {
        evo_model_output_desc(m, 0, &d);
        *n_out = d.size_bytes / 4;
        CHECK(*n_out <= cap_floats);
        memcpy(out, evo_session_output_data(s, 0), EVO_MIN(d.size_bytes, cap_floats * 4));
        steps = evo_session_n_steps(s);
    }
    evo_session_free(s);
    evo_model_free(m);
    return steps;
}

/*
 * Runs build's graph compiled with every pass and with the passes in
 * disable turned off: the outputs must agree within tol of their largest
 * magnitude (which must not be tiny). *steps and *plain get the two step
 * counts.
 */
static void check_pass_case(void (*build)(evo_builder *), const char *disable, double tol, const char *what,
                            int *steps, int *plain)
{
    static float a[1 << 16], b[1 << 16];
    size_t na = 0, nb = 0;
    *steps = compile_run(build, NULL, a, 1 << 16, &na);
    *plain = compile_run(build, disable, b, 1 << 16, &nb);
    CHECK(na == nb && na > 0);
    double scale = 0, max_err = graph_max_diff(a, b, EVO_MIN(na, nb), &scale);
    CHECK_MSG(scale > 0.1 && max_err <= tol * scale, "%s: max err %g, scale %g", what, max_err, scale);
}

/* Compares fused and unfused; returns steps (fused, unfused). */
static void check_equivalent(void (*build)(evo_builder *), const char *name, int *fused, int *unfused)
{
    check_pass_case(build, all_opt, 1e-5, name, fused, unfused);
}

static void bn(evo_builder *b, const char *x, const char *y, int c)
{
    char names[400];
    int64_t dims[1] = {c};
    const char *parts[4] = {"gamma", "beta", "mean", "var"};
    char full[4][64];
    for (int i = 0; i < 4; i++) {
        snprintf(full[i], sizeof(full[i]), "%s_%s", y, parts[i]);
        evo_build_weight(b, full[i], 1, dims, 0.5f);
    }
    /* variance must be positive */
    float *var = (float *)b->g->values[evo_graph_find_value(b->g, full[3])].data;
    for (int i = 0; i < c; i++)
        var[i] = fabsf(var[i]) + 0.5f;
    snprintf(names, sizeof(names), "%s %s %s %s %s", x, full[0], full[1], full[2], full[3]);
    evo_build_node(b, "BatchNormalization", names, y, "epsilon:0.001");
}

static void build_conv_bn_silu(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 6, 11, 13});
    evo_build_weight(b, "w", 4, (int64_t[]){10, 6, 3, 3}, 0.3f);
    evo_build_node(b, "Conv", "x w", "c", "kernel_shape=3,3 pads=1,1,1,1");
    bn(b, "c", "n", 10);
    evo_build_node(b, "Sigmoid", "n", "s", NULL);
    evo_build_node(b, "Mul", "s n", "y", NULL);
    evo_build_output(b, "y");
}

static void test_conv_bn_silu(void)
{
    int f, u;
    check_equivalent(build_conv_bn_silu, "conv+bn+silu", &f, &u);
    CHECK_MSG(f == 1 && u == 4, "steps fused %d, unfused %d", f, u);
}

static void build_resnet_block(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 8, 9, 9});
    evo_build_weight(b, "w1", 4, (int64_t[]){8, 8, 3, 3}, 0.3f);
    evo_build_weight(b, "w2", 4, (int64_t[]){8, 8, 3, 3}, 0.3f);
    evo_build_node(b, "Conv", "x w1", "c1", "kernel_shape=3,3 pads=1,1,1,1");
    bn(b, "c1", "n1", 8);
    evo_build_node(b, "Relu", "n1", "r1", NULL);
    evo_build_node(b, "Conv", "r1 w2", "c2", "kernel_shape=3,3 pads=1,1,1,1");
    bn(b, "c2", "n2", 8);
    evo_build_node(b, "Add", "n2 x", "a", NULL);
    evo_build_node(b, "Relu", "a", "y", NULL);
    evo_build_output(b, "y");
}

static void test_resnet_block(void)
{
    int f, u;
    check_equivalent(build_resnet_block, "resnet block", &f, &u);
    CHECK_MSG(f == 2 && u == 7, "steps fused %d, unfused %d", f, u);
}

static void silu(evo_builder *b, const char *x, const char *y)
{
    char s[64], ins[140];
    snprintf(s, sizeof(s), "%s_sig", y);
    evo_build_node(b, "Sigmoid", x, s, NULL);
    snprintf(ins, sizeof(ins), "%s %s", x, s);
    evo_build_node(b, "Mul", ins, y, NULL);
}

static void build_yolo_bottleneck(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 8, 10, 7});
    evo_build_weight(b, "w1", 4, (int64_t[]){8, 8, 1, 1}, 0.4f);
    evo_build_weight(b, "w2", 4, (int64_t[]){8, 8, 3, 3}, 0.3f);
    evo_build_node(b, "Conv", "x w1", "c1", NULL);
    bn(b, "c1", "n1", 8);
    silu(b, "n1", "s1");
    evo_build_node(b, "Conv", "s1 w2", "c2", "kernel_shape=3,3 pads=1,1,1,1");
    bn(b, "c2", "n2", 8);
    silu(b, "n2", "s2");
    evo_build_node(b, "Add", "x s2", "y", NULL);
    evo_build_output(b, "y");
}

/* the Add comes after the activation: fused as a residual added after it */
static void test_yolo_bottleneck(void)
{
    int f, u;
    check_equivalent(build_yolo_bottleneck, "yolo bottleneck", &f, &u);
    CHECK_MSG(f == 2 && u == 9, "steps fused %d, unfused %d", f, u);
}

/* Pow(x, 2) becomes Mul(x, x) (bit-identical); Pow(x, 3) stays. */
static void build_pow(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 5, 17});
    evo_build_weight(b, "two", 0, (int64_t[]){1}, 1.0f);
    evo_build_weight(b, "three", 1, (int64_t[]){1}, 1.0f);
    *(float *)b->g->values[evo_graph_find_value(b->g, "two")].data = 2.0f;
    *(float *)b->g->values[evo_graph_find_value(b->g, "three")].data = 3.0f;
    evo_build_node(b, "Pow", "x two", "sq", NULL);
    evo_build_node(b, "Pow", "sq three", "y", NULL);
    evo_build_output(b, "y");
}

static void test_pow(void)
{
    int f, u;
    check_equivalent(build_pow, "pow", &f, &u);
    CHECK_MSG(f == 2 && u == 2, "steps fused %d, unfused %d", f, u);
    evo_builder b;
    evo_error err = {0};
    CHECK(evo_builder_init(&b, "pow", 7) == EVO_OK);
    build_pow(&b);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK(b.ok && evo_passes_run(b.g, &ctx) == EVO_OK);
    int muls = 0, pows = 0;
    for (int i = 0; i < b.g->n_nodes; i++) {
        muls += !b.g->nodes[i].is_dead && b.g->nodes[i].op == EVO_OP_MUL;
        pows += !b.g->nodes[i].is_dead && b.g->nodes[i].op == EVO_OP_POW;
    }
    CHECK_MSG(muls == 1 && pows == 1, "Mul %d, Pow %d", muls, pows);
    evo_graph_free(b.g);
}

static void build_acts(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 4, 7, 5});
    evo_build_weight(b, "w", 4, (int64_t[]){5, 4, 1, 1}, 1.0f);
    evo_build_weight(b, "w2", 4, (int64_t[]){5, 5, 1, 1}, 1.0f);
    evo_build_weight(b, "w3", 4, (int64_t[]){5, 5, 1, 1}, 1.0f);
    evo_build_node(b, "Conv", "x w", "c1", NULL);
    evo_build_node(b, "HardSwish", "c1", "h", NULL);
    evo_build_node(b, "Conv", "h w2", "c2", NULL);
    evo_build_node(b, "LeakyRelu", "c2", "l", "alpha:0.2");
    evo_build_node(b, "Conv", "l w3", "c3", NULL);
    evo_build_node(b, "Clip", "c3", "y", "min:-0.5 max:0.75");
    evo_build_output(b, "y");
}

static void test_activations(void)
{
    int f, u;
    check_equivalent(build_acts, "activations", &f, &u);
    CHECK_MSG(f == 3 && u == 6, "steps fused %d, unfused %d", f, u);
}

/*
 * c is also a graph output, so its Relu must stay separate; Add(r, late)
 * fuses into the later conv only (for it, r exists already).
 */
static void build_no_fuse(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 6, 6});
    evo_build_weight(b, "w", 4, (int64_t[]){3, 3, 1, 1}, 1.0f);
    evo_build_weight(b, "w2", 4, (int64_t[]){3, 3, 1, 1}, 1.0f);
    evo_build_node(b, "Conv", "x w", "c", NULL);
    evo_build_node(b, "Relu", "c", "r", NULL);
    evo_build_node(b, "Conv", "x w2", "late", NULL);
    evo_build_node(b, "Add", "r late", "y", NULL);
    evo_build_output(b, "y");
    evo_build_output(b, "c");
}

/*
 * Hard-swish and hard-sigmoid as exporters spell them out: x * Clip(x + 3,
 * 0, 6) / 6 after one conv, (3 + x) -> Clip -> * (1/6) -> * x after another,
 * Clip(x + 3, 0, 6) / 6 (hard-sigmoid) on a third; each folds into its
 * conv. A fourth chain whose Clip is also a graph output must stay.
 */
static void build_hard_chains(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 4, 7, 9});
    evo_build_weight(b, "w", 4, (int64_t[]){4, 4, 3, 3}, 1.0f);
    evo_build_const(b, "three", EVO_DTYPE_FLOAT, 0, NULL, (float[]){3.0f});
    evo_build_const(b, "six", EVO_DTYPE_FLOAT, 0, NULL, (float[]){6.0f});
    evo_build_const(b, "sixth", EVO_DTYPE_FLOAT, 0, NULL, (float[]){1.0f / 6.0f});
    evo_build_const(b, "zero", EVO_DTYPE_FLOAT, 0, NULL, (float[]){0.0f});
    evo_build_node(b, "Conv", "x w", "c1", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Add", "c1 three", "a1", NULL);
    evo_build_node(b, "Clip", "a1 zero six", "k1", NULL);
    evo_build_node(b, "Mul", "c1 k1", "m1", NULL);
    evo_build_node(b, "Div", "m1 six", "h1", NULL);
    evo_build_node(b, "Conv", "h1 w", "c2", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Add", "three c2", "a2", NULL);
    evo_build_node(b, "Clip", "a2 zero six", "k2", NULL);
    evo_build_node(b, "Mul", "k2 sixth", "d2", NULL);
    evo_build_node(b, "Mul", "d2 c2", "h2", NULL);
    evo_build_node(b, "Conv", "h2 w", "c3", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Add", "c3 three", "a3", NULL);
    evo_build_node(b, "Clip", "a3 zero six", "k3", NULL);
    evo_build_node(b, "Div", "k3 six", "h3", NULL);
    evo_build_node(b, "Conv", "h3 w", "c4", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Add", "c4 three", "a4", NULL);
    evo_build_node(b, "Clip", "a4 zero six", "k4", NULL);
    evo_build_node(b, "Mul", "c4 k4", "m4", NULL);
    evo_build_node(b, "Div", "m4 six", "y", NULL);
    evo_build_output(b, "y");
    evo_build_output(b, "k4");
}

static void test_hard_chains(void)
{
    int f, u;
    check_equivalent(build_hard_chains, "hard-swish/sigmoid chains", &f, &u);
    /* unfused: 4 convs + 4 + 4 + 3 + 4 elementwise steps; fused: the 4 convs and the last chain's 4 */
    CHECK_MSG(u == 19 && f == 8, "steps fused %d, unfused %d", f, u);
}

static void test_no_fuse(void)
{
    int f, u;
    check_equivalent(build_no_fuse, "no fuse", &f, &u);
    CHECK_MSG(f == 3 && u == 4, "steps fused %d, unfused %d", f, u);
}

/* Conv -> Flatten -> Transpose -> Sigmoid: the Sigmoid moves into the conv; with_output: Flatten's output is also a graph output, so it must stay. */
static void build_head(evo_builder *b, bool with_output)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 4, 5, 6});
    evo_build_weight(b, "w", 4, (int64_t[]){6, 4, 1, 1}, 1.0f);
    evo_build_node(b, "Conv", "x w", "c", NULL);
    evo_build_node(b, "Flatten", "c", "f", "axis=2");
    evo_build_node(b, "Transpose", "f", "t", "perm=1,0");
    evo_build_node(b, "Sigmoid", "t", "y", NULL);
    evo_build_output(b, "y");
    if (with_output)
        evo_build_output(b, "f");
}

static void build_head_fused(evo_builder *b)
{
    build_head(b, false);
}

static void build_head_kept(evo_builder *b)
{
    build_head(b, true);
}

static void test_act_behind_layout(void)
{
    int f, u;
    check_equivalent(build_head_fused, "act behind layout ops", &f, &u);
    CHECK_MSG(f == 3 && u == 4, "steps fused %d, unfused %d", f, u);
    check_equivalent(build_head_kept, "layout output read elsewhere", &f, &u);
    CHECK_MSG(f == 4 && u == 4, "steps fused %d, unfused %d", f, u);
}

/*
 * YOLOv5's detect head on a small map: Conv (3 groups of 7 channels) ->
 * Reshape [1, 3, 7, 5, 6] -> Transpose [0, 1, 3, 4, 2] -> Sigmoid becomes
 * one Conv step (out_groups, Sigmoid fused) plus the Reshape view.
 */
static void build_yolo_head(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 16, 5, 6});
    evo_build_weight(b, "w", 4, (int64_t[]){21, 16, 1, 1}, 0.5f);
    evo_build_weight(b, "bias", 1, (int64_t[]){21}, 0.5f);
    evo_build_ints(b, "shape", 5, (int64_t[]){1, 3, 7, 5, 6});
    evo_build_node(b, "Conv", "x w bias", "c", NULL);
    evo_build_node(b, "Reshape", "c shape", "r", NULL);
    evo_build_node(b, "Transpose", "r", "t", "perm=0,1,3,4,2");
    evo_build_node(b, "Sigmoid", "t", "y", NULL);
    evo_build_output(b, "y");
}

static void test_yolo_head(void)
{
    int f, u;
    check_equivalent(build_yolo_head, "yolo head", &f, &u);
    CHECK_MSG(f == 1 && u == 4, "steps fused %d, unfused %d", f, u);
}

/*
 * YOLOv5's box decoding on a small map: Split [2, 2, 5] along the last
 * axis, xy and wh scaled, Concat back. The scores pass through, so the
 * Concat becomes evo.UpdateSlices writing into the Split's input; which
 * says: 0 as is, 1 the Split's input is also a graph output (no writing
 * over it), 2 the scores are also a graph output (nothing passes through
 * unread: no rewrite), 3 xy and wh joined in swapped order.
 */
static int decode_which;

static void build_decode(evo_builder *b)
{
    evo_build_input(b, "x", 5, (int64_t[]){1, 3, 4, 5, 9});
    evo_build_ints(b, "sizes", 3, (int64_t[]){2, 2, 5});
    evo_build_weight(b, "k", 1, (int64_t[]){2}, 2.0f);
    evo_build_node(b, "Sigmoid", "x", "s", NULL);
    evo_build_node(b, "Split", "s sizes", "xy wh scores", "axis=4");
    evo_build_node(b, "Mul", "xy k", "xy2", NULL);
    evo_build_node(b, "Mul", "wh wh", "wh2", NULL);
    evo_build_node(b, "Concat", decode_which == 3 ? "wh2 xy2 scores" : "xy2 wh2 scores", "y", "axis=4");
    evo_build_output(b, "y");
    if (decode_which == 1)
        evo_build_output(b, "s");
    if (decode_which == 2)
        evo_build_output(b, "scores");
}

/* After the passes: is there an evo.UpdateSlices, and does the plan put its output on its input 0? */
static void decode_plan(bool *fused, bool *in_place)
{
    evo_builder b;
    evo_error err = {0};
    *fused = *in_place = false;
    CHECK(evo_builder_init(&b, "passes", 7) == EVO_OK);
    build_decode(&b);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    for (int i = 0; i < b.g->n_nodes; i++) {
        const evo_node *n = &b.g->nodes[i];
        if (n->is_dead || n->op != EVO_OP_UPDATE_SLICES)
            continue;
        *fused = true;
        evo_plan p;
        CHECK_MSG(evo_plan_build(b.g, EVO_ISA_REF, 1, &p, &err) == EVO_OK, "%s", err.msg);
        *in_place = p.offsets[n->in[0]] == p.offsets[n->out[0]];
        evo_plan_free(&p);
    }
    evo_graph_free(b.g);
}

/* A Split part joined twice (Concat(a, b, a)): a stays a Split output, only b passes through. */
static void build_decode_dup(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 2, 3, 6});
    evo_build_ints(b, "sizes", 3, (int64_t[]){2, 2, 2});
    evo_build_node(b, "Sigmoid", "x", "s", NULL);
    evo_build_node(b, "Split", "s sizes", "a b c", "axis=3");
    evo_build_node(b, "Concat", "a b a", "y", "axis=3");
    evo_build_output(b, "y");
}

static void test_yolo_decode(void)
{
    int f, u;
    check_equivalent(build_decode_dup, "split part joined twice", &f, &u);
    CHECK_MSG(f == u && f == 3, "steps fused %d, unfused %d", f, u);
    static const bool want_fused[4] = {true, true, false, true}, want_in_place[4] = {true, false, false, true};
    for (decode_which = 0; decode_which < 4; decode_which++) {
        bool fused, in_place;
        check_equivalent(build_decode, "yolo decode", &f, &u);
        CHECK_MSG(f == u && f == 5, "case %d: steps fused %d, unfused %d", decode_which, f, u);
        decode_plan(&fused, &in_place);
        CHECK_MSG(fused == want_fused[decode_which] && in_place == want_in_place[decode_which],
                  "case %d: fused %d, in place %d", decode_which, fused, in_place);
    }
}

/*
 * Focus: x [1, 3, 14, W] into its phases (00 and 11 by one Slice over
 * both axes, 10 and 01 by two, in either order), concatenated as YOLOX
 * does (00, 10, 01, 11), then a 3x3 conv with bias. focus_case 1: a
 * phase taken twice (folds too: its taps' weights add up); 2: the conv
 * has stride 2 (does not fold).
 */
static int focus_case;

static void phase(evo_builder *b, const char *out, int64_t dy, int64_t dx, int how)
{
    char n[4][48], ins[400], mid[64];
    static const int64_t big = INT64_MAX;
    const char *parts[4] = {"st", "en", "ax", "sp"};
    for (int i = 0; i < 4; i++)
        snprintf(n[i], sizeof(n[i]), "%s_%s", out, parts[i]);
    if (how == 0) { /* one Slice, both axes */
        evo_build_const(b, n[0], EVO_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){dy, dx});
        evo_build_const(b, n[1], EVO_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){big, big});
        evo_build_const(b, n[2], EVO_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){2, 3});
        evo_build_const(b, n[3], EVO_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){2, 2});
        snprintf(ins, sizeof(ins), "x %s %s %s %s", n[0], n[1], n[2], n[3]);
        evo_build_node(b, "Slice", ins, out, NULL);
        return;
    }
    /* two Slices: rows then columns (how 1) or columns then rows (how 2) */
    int64_t first = how == 1 ? 2 : 3, second = how == 1 ? 3 : 2;
    snprintf(mid, sizeof(mid), "%s_mid", out);
    for (int k = 0; k < 2; k++) {
        char m[4][72];
        int64_t axis = k ? second : first, st = axis == 2 ? dy : dx;
        for (int i = 0; i < 4; i++)
            snprintf(m[i], sizeof(m[i]), "%.40s%d", n[i], k);
        evo_build_const(b, m[0], EVO_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){st});
        evo_build_const(b, m[1], EVO_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){big});
        evo_build_const(b, m[2], EVO_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){axis});
        evo_build_const(b, m[3], EVO_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){2});
        snprintf(ins, sizeof(ins), "%s %s %s %s %s", k ? mid : "x", m[0], m[1], m[2], m[3]);
        evo_build_node(b, "Slice", ins, k ? out : mid, NULL);
    }
}

static void build_focus(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 14, 18});
    evo_build_weight(b, "w", 4, (int64_t[]){8, 12, 3, 3}, 0.3f);
    evo_build_weight(b, "bias", 1, (int64_t[]){8}, 0.2f);
    phase(b, "p00", 0, 0, 0);
    phase(b, "p10", 1, 0, 1);
    phase(b, "p01", 0, 1, 2);
    phase(b, "p11", focus_case == 1 ? 0 : 1, focus_case == 1 ? 0 : 1, 0);
    evo_build_node(b, "Concat", "p00 p10 p01 p11", "cat", "axis=1");
    evo_build_node(b, "Conv", "cat w bias", "y",
                   focus_case == 2 ? "kernel_shape=3,3 pads=1,1,1,1 strides=2,2" : "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_output(b, "y");
}

static void test_focus(void)
{
    build_opset = 13;
    for (focus_case = 0; focus_case < 3; focus_case++) {
        char what[32];
        snprintf(what, sizeof(what), "focus case %d", focus_case);
        int folded, plain;
        check_pass_case(build_focus, "fold_focus", 1e-5, what, &folded, &plain);
        /* folded: the conv alone; else 6 Slices, the Concat (a view) and the conv */
        CHECK_MSG(folded == (focus_case == 2 ? plain : 1) && plain == 8, "%s: steps folded %d, plain %d", what,
                  folded, plain);
    }
    build_opset = 7;
}

/*
 * s2d_conv: a 6x6 stride-2 conv with SiLU (YOLOv5's stem) becomes
 * SpaceToDepth and a 3x3 (two steps; Winograd where the CPU has it),
 * computing what the 6x6 does; left alone with 8 channels out, odd pads
 * at the start, an odd input size, stride 1, or end pads past what the
 * 3x3 can take.
 */
static const struct {
    int64_t n, c_out, h, w, pb, pe, stride;
    bool rewritten;
} s2d_cases[] = {
    {1, 16, 40, 44, 2, 2, 2, true}, {2, 24, 38, 46, 2, 3, 2, true}, {1, 16, 34, 30, 0, 0, 2, true},
    {1, 8, 40, 44, 2, 2, 2, false}, {1, 16, 40, 44, 1, 1, 2, false}, {1, 16, 41, 44, 2, 2, 2, false},
    {1, 16, 20, 20, 2, 2, 1, false}, {1, 16, 40, 40, 4, 4, 2, true}, {1, 16, 40, 40, 0, 5, 2, true},
    {1, 16, 40, 40, 0, 6, 2, false},
};
static int s2d_case;

static void build_s2d(evo_builder *b)
{
    char attrs[128];
    evo_build_input(b, "x", 4, (int64_t[]){s2d_cases[s2d_case].n, 3, s2d_cases[s2d_case].h, s2d_cases[s2d_case].w});
    evo_build_weight(b, "w", 4, (int64_t[]){s2d_cases[s2d_case].c_out, 3, 6, 6}, 0.3f);
    evo_build_weight(b, "bias", 1, (int64_t[]){s2d_cases[s2d_case].c_out}, 0.2f);
    int64_t pb = s2d_cases[s2d_case].pb, pe = s2d_cases[s2d_case].pe, st = s2d_cases[s2d_case].stride;
    snprintf(attrs, sizeof(attrs), "kernel_shape=6,6 strides=%lld,%lld pads=%lld,%lld,%lld,%lld", (long long)st,
             (long long)st, (long long)pb, (long long)pb, (long long)pe, (long long)pe);
    evo_build_node(b, "Conv", "x w bias", "c", attrs);
    evo_build_node(b, "Sigmoid", "c", "cs", NULL);
    evo_build_node(b, "Mul", "c cs", "y", NULL);
    evo_build_output(b, "y");
}

static void test_s2d_conv(void)
{
    for (s2d_case = 0; s2d_case < (int)EVO_ARRAY_LEN(s2d_cases); s2d_case++) {
        char what[32];
        snprintf(what, sizeof(what), "s2d case %d", s2d_case);
        int steps, plain;
        check_pass_case(build_s2d, "s2d_conv", 2e-5, what, &steps, &plain);
        CHECK_MSG(steps == (s2d_cases[s2d_case].rewritten ? 2 : 1) && plain == 1, "%s: steps %d, plain %d", what,
                  steps, plain);
    }
}

CHECK_MAIN(CHECK_TEST(test_conv_bn_silu), CHECK_TEST(test_hard_chains), CHECK_TEST(test_resnet_block), CHECK_TEST(test_yolo_bottleneck),
           CHECK_TEST(test_activations), CHECK_TEST(test_pow), CHECK_TEST(test_no_fuse),
           CHECK_TEST(test_act_behind_layout), CHECK_TEST(test_yolo_head), CHECK_TEST(test_yolo_decode),
           CHECK_TEST(test_focus), CHECK_TEST(test_s2d_conv))
