/*
 * test_conv_fast.c - every SIMD Conv variant the host supports against the
 * reference Conv kernel: random 2-D shapes with odd and prime channel
 * counts and sizes, strides 1-3, asymmetric pads, dilation, K past one
 * packed block, column tails, batch 2, with and without bias, every fused
 * activation, a fused residual, and 1/2/3 tasks; plus what supports()
 * must refuse.
 */
#include "nn_util.h"
#include "core/cpu.h"
#include "kernels/conv_fast.h"

typedef struct fast_case fast_case;

typedef struct variant {
    const evo_kernel_def *def;
    bool (*host_ok)(const evo_cpu_info *c);
    bool general; /* takes every 2-D group-1 Conv with constant weights */
    /*
     * Not general: the cases it computes correctly, run whether or not
     * supports() (a speed choice) takes them; supports() must imply it.
     */
    bool (*correct_for)(const fast_case *tc);
    /* error bound relative to the output's scale (plus one) */
    double tol;
} variant;

static bool has_avx512(const evo_cpu_info *c)
{
    return c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq && c->fma;
}
static bool has_avx2(const evo_cpu_info *c)
{
    return c->avx2 && c->fma;
}
#if defined(__aarch64__)
static bool has_neon(const evo_cpu_info *c)
{
    return c->neon;
}
#endif

static bool wino_correct_for(const fast_case *tc);
static bool winos2_correct_for(const fast_case *tc);
static bool bcast_correct_for(const fast_case *tc);

static const variant variants[] = {
    /* F(4x4, 3x3) interpolates at +-2 and divides by 24: about one digit less */
    {&evo_kernel_conv_wino4_avx512, has_avx512, false, wino_correct_for, 1e-4},
    {&evo_kernel_conv_wino_avx512, has_avx512, false, wino_correct_for, 1e-5},
    {&evo_kernel_conv_winos2_avx512, has_avx512, false, winos2_correct_for, 1e-5},
    {&evo_kernel_conv_bcast_avx512, has_avx512, false, bcast_correct_for, 1e-5},
    {&evo_kernel_conv_avx512, has_avx512, true, NULL, 1e-5},
    {&evo_kernel_conv_avx2, has_avx2, true, NULL, 1e-5},
#if defined(__aarch64__)
    {&evo_kernel_conv_wino4_neon, has_neon, false, wino_correct_for, 1e-4},
    {&evo_kernel_conv_wino_neon, has_neon, false, wino_correct_for, 1e-5},
    {&evo_kernel_conv_winos2_neon, has_neon, false, winos2_correct_for, 1e-5},
    {&evo_kernel_conv_neon, has_neon, true, NULL, 1e-5},
#endif
};

struct fast_case {
    int64_t batch, c_in, c_out, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    int has_bias, has_residual;
    evo_act act;
    int n_tasks;
    bool residual_after_act; /* with has_residual: added after the activation */
    int64_t out_groups;      /* > 0: output [N, G, H, W, C / G] (no residual) */
};

static bool wino_correct_for(const fast_case *tc)
{
    return !tc->out_groups && tc->kh == 3 && tc->kw == 3 && tc->sh == 1 && tc->sw == 1 && tc->dh == 1 && tc->dw == 1;
}

static bool winos2_correct_for(const fast_case *tc)
{
    return !tc->out_groups && tc->kh == 3 && tc->kw == 3 && tc->sh == 2 && tc->sw == 2 && tc->dh == 1 && tc->dw == 1;
}

/* any kernel size, strides 1 and 2 across, no dilation */
static bool bcast_correct_for(const fast_case *tc)
{
    return !tc->out_groups && tc->dh == 1 && tc->dw == 1 && tc->sw <= 2;
}

static const char *act_name(evo_act a)
{
    static const char *names[] = {"none",        "relu",      "leaky", "sigmoid", "silu",
                                  "hardsigmoid", "hardswish", "clip",  "tanh"};
    return (unsigned)a < EVO_ARRAY_LEN(names) ? names[a] : "?";
}

/* A one-node Conv graph for tc with constant weights w and bias b; returns the node. */
static int build_conv(evo_graph *g, const fast_case *tc, const float *w, const float *b)
{
    int64_t xd[4] = {tc->batch, tc->c_in, tc->h, tc->w};
    int64_t wd[4] = {tc->c_out, tc->c_in, tc->kh, tc->kw}, bd[1] = {tc->c_out};
    int ins[3] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd), nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd),
                  tc->has_bias ? nn_value(g, "B", EVO_DTYPE_FLOAT, 1, bd) : -1};
    g->values[ins[1]].data = w;
    if (tc->has_bias)
        g->values[ins[2]].data = b;
    int node = nn_node(g, "Conv", tc->has_bias ? 3 : 2, ins, 1);
    int64_t strides[2] = {tc->sh, tc->sw}, dil[2] = {tc->dh, tc->dw};
    int64_t pads[4] = {tc->pt, tc->pl, tc->pb, tc->pr};
    nn_attr_ints(g, node, "strides", strides, 2);
    nn_attr_ints(g, node, "dilations", dil, 2);
    nn_attr_ints(g, node, "pads", pads, 4);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s", err.msg);
    if (s)
        return -1;
    evo_node *n = &g->nodes[node];
    n->a.conv.act = tc->act;
    n->a.conv.act_alpha = tc->act == EVO_ACT_CLIP ? -0.5f : (tc->act == EVO_ACT_LEAKY_RELU ? 0.1f : 0.2f);
    n->a.conv.act_beta = tc->act == EVO_ACT_CLIP ? 0.7f : 0.5f;
    if (tc->has_residual) {
        /* the fused Add's addend becomes input 3 (bias slot may stay empty) */
        int *in4 = evo_mem_alloc(&g->mem, sizeof(int) * 4);
        in4[0] = n->in[0], in4[1] = n->in[1], in4[2] = n->n_in > 2 ? n->in[2] : -1;
        in4[3] = nn_value(g, "R", EVO_DTYPE_FLOAT, 4, g->values[n->out[0]].dims);
        n->in = in4;
        n->n_in = 4;
        n->a.conv.has_residual = true;
        n->a.conv.residual_after_act = tc->residual_after_act;
    }
    return node;
}

/* Runs kernel k on node as n_tasks tasks (reverse order), with its packed weights. */
static void run_kernel(const evo_kernel_def *k, evo_graph *g, int node, void *const *in_data, float *out,
                       int n_tasks)
{
    evo_node *n = &g->nodes[node];
    evo_tensor in[4], y;
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] >= 0)
            nn_tensor(&g->values[n->in[i]], in_data[i], &in[i]);
        else
            memset(&in[i], 0, sizeof(in[i]));
    }
    nn_tensor(&g->values[n->out[0]], out, &y);
    size_t sb = k->scratch_bytes ? k->scratch_bytes(g, n, n_tasks) : 0;
    size_t pb = k->packed_bytes ? k->packed_bytes(g, n) : 0;
    void *scratch = sb ? evo_aligned_alloc(sb) : NULL;
    void *packed = pb ? evo_aligned_alloc(pb) : NULL;
    if (pb)
        k->pack(g, n, packed);
    evo_kernel_args args = {n, in, n->n_in, &y, 1, scratch, sb, packed};
    for (int t = n_tasks - 1; t >= 0; t--)
        k->run(&args, t, n_tasks);
    evo_aligned_free(scratch);
    evo_aligned_free(packed);
}

static void run_case(check_rng *r, const fast_case *tc)
{
    char desc[300];
    snprintf(desc, sizeof(desc),
             "N=%lld Cin=%lld Cout=%lld HxW=%lldx%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld "
             "pads=%lld,%lld,%lld,%lld bias=%d res=%d%s act=%s tasks=%d",
             (long long)tc->batch, (long long)tc->c_in, (long long)tc->c_out, (long long)tc->h,
             (long long)tc->w, (long long)tc->kh, (long long)tc->kw, (long long)tc->sh, (long long)tc->sw,
             (long long)tc->dh, (long long)tc->dw, (long long)tc->pt, (long long)tc->pl, (long long)tc->pb,
             (long long)tc->pr, tc->has_bias, tc->has_residual, tc->residual_after_act ? " (after act)" : "",
             act_name(tc->act), tc->n_tasks);
    float *w = nn_random(r, tc->c_out * tc->c_in * tc->kh * tc->kw);
    float *b = nn_random(r, tc->c_out);
    evo_graph *g = evo_graph_new("test");
    int node = build_conv(g, tc, w, b);
    if (node < 0)
        goto done;
    const evo_node *n = &g->nodes[node];
    int64_t x_count = tc->batch * tc->c_in * tc->h * tc->w;
    int64_t y_count = 1, yd[4];
    for (int i = 0; i < 4; i++)
        y_count *= yd[i] = g->values[n->out[0]].dims[i];
    float *x = nn_random(r, x_count), *res = nn_random(r, y_count);
    float *want = nn_random(r, y_count), *got = malloc(sizeof(float) * (size_t)y_count);
    void *in_data[4] = {x, w, tc->has_bias ? b : NULL, res};
    run_kernel(evo_kernel_ref(EVO_OP_CONV), g, node, in_data, want, 1);
    if (tc->out_groups) {
        /* want, computed as NCHW, moved to [N, G, H, W, C / G] here; then every kernel, the reference too, writes that */
        int64_t cg = tc->c_out / tc->out_groups, hw = yd[2] * yd[3];
        float *nchw = malloc(sizeof(float) * (size_t)y_count);
        memcpy(nchw, want, sizeof(float) * (size_t)y_count);
        for (int64_t bi = 0; bi < yd[0]; bi++)
            for (int64_t co = 0; co < yd[1]; co++)
                for (int64_t p = 0; p < hw; p++)
                    want[((bi * tc->out_groups + co / cg) * hw + p) * cg + co % cg] = nchw[(bi * yd[1] + co) * hw + p];
        free(nchw);
        g->nodes[node].a.conv.out_groups = tc->out_groups;
        evo_error err = {0}; /* shape inference only: import would reset the attributes */
        CHECK_MSG(evo_op_get(EVO_OP_CONV)->infer(g, &g->nodes[node], &err) == EVO_OK, "%s", err.msg);
        CHECK(g->values[n->out[0]].rank == 5 && g->values[n->out[0]].dims[4] == cg);
        run_kernel(evo_kernel_ref(EVO_OP_CONV), g, node, in_data, got, tc->n_tasks);
        for (int64_t i = 0; i < y_count; i++)
            CHECK_MSG(got[i] == want[i], "ref: %s out_groups %lld: y[%lld] = %g, NCHW result %g", desc,
                      (long long)tc->out_groups, (long long)i, got[i], want[i]);
    }
    double scale = 0.0;
    for (int64_t i = 0; i < y_count; i++)
        scale = fmax(scale, fabs(want[i]));
    const evo_cpu_info *cpu = evo_cpu_get();
    for (size_t v = 0; v < EVO_ARRAY_LEN(variants); v++) {
        const evo_kernel_def *k = variants[v].def;
        if (!variants[v].host_ok(cpu)) {
            CHECK_SKIP_ONCE("kernel %s not run: this CPU lacks its features", k->name);
            continue;
        }
        bool supported = k->supports(g, n);
        if (variants[v].general)
            CHECK_MSG(supported, "%s: %s: not supported", k->name, desc);
        if (variants[v].correct_for) {
            CHECK_MSG(!supported || variants[v].correct_for(tc), "%s: %s: supported", k->name, desc);
            supported = variants[v].correct_for(tc);
        }
        if (!supported)
            continue;
        for (int64_t i = 0; i < y_count; i++)
            got[i] = NAN; /* every element must be written */
        run_kernel(k, g, node, in_data, got, tc->n_tasks);
        int bad = 0;
        for (int64_t i = 0; i < y_count && bad < 3; i++) {
            if (!(fabs(got[i] - want[i]) <= variants[v].tol * (scale + 1.0))) {
                fprintf(stderr, "%s: %s: y[%lld] = %.9g, ref %.9g\n", k->name, desc, (long long)i, got[i],
                        want[i]);
                bad++;
            }
        }
        CHECK_MSG(bad == 0, "%s: %s", k->name, desc);
    }
    free(x);
    free(res);
    free(want);
    free(got);
done:
    evo_graph_free(g);
    free(w);
    free(b);
}

static void test_random_shapes(void)
{
    check_rng r = {0xc0f7a57};
    for (int it = 0; it < 300; it++) {
        fast_case tc = {0};
        tc.batch = check_rng_int(&r, 1, 4) == 1 ? 2 : 1;
        tc.c_in = check_rng_int(&r, 1, 23);
        tc.c_out = check_rng_int(&r, 1, 41);
        tc.h = check_rng_int(&r, 1, 29);
        tc.w = check_rng_int(&r, 1, 29);
        /* every fourth: rows of 64+ outputs, where im2col packs by copying runs rather than gathering */
        if (it % 4 == 3) {
            tc.h = check_rng_int(&r, 1, 6);
            tc.w = check_rng_int(&r, 130, 200);
        }
        tc.kh = check_rng_int(&r, 1, 5);
        tc.kw = check_rng_int(&r, 1, 5);
        tc.sh = check_rng_int(&r, 1, 3);
        tc.sw = check_rng_int(&r, 1, 3);
        tc.dh = check_rng_int(&r, 1, 4) == 1 ? 2 : 1;
        tc.dw = check_rng_int(&r, 1, 4) == 1 ? 2 : 1;
        tc.pt = check_rng_int(&r, 0, 3);
        tc.pl = check_rng_int(&r, 0, 3);
        tc.pb = check_rng_int(&r, 0, 3);
        tc.pr = check_rng_int(&r, 0, 3);
        /* keep the output non-empty */
        if (tc.h + tc.pt + tc.pb < (tc.kh - 1) * tc.dh + 1)
            tc.h = (tc.kh - 1) * tc.dh + 1;
        if (tc.w + tc.pl + tc.pr < (tc.kw - 1) * tc.dw + 1)
            tc.w = (tc.kw - 1) * tc.dw + 1;
        tc.has_bias = check_rng_int(&r, 0, 1);
        tc.has_residual = check_rng_int(&r, 0, 3) == 0;
        tc.residual_after_act = tc.has_residual && check_rng_int(&r, 0, 1);
        tc.act = (evo_act)check_rng_int(&r, 0, EVO_ACT_TANH);
        tc.n_tasks = check_rng_int(&r, 1, 3);
        run_case(&r, &tc);
    }
}

/*
 * Shapes of the real models: 1x1, 3x3 s1/s2, the 6x6 and 7x7 stems, K past
 * one block, column and channel splits across tasks.
 */
/*
 * out_groups (the [N, G, H, W, C / G] output of fused Reshape + Transpose):
 * group sizes below, at and past the 8-channel panels, panels that cross
 * groups, column tails, 1-3 tasks.
 */
static void test_out_groups(void)
{
    check_rng r = {0x9a0c};
    for (int it = 0; it < 80; it++) {
        fast_case tc = {0};
        tc.batch = check_rng_int(&r, 1, 4) == 1 ? 2 : 1;
        tc.out_groups = check_rng_int(&r, 1, 4);
        tc.c_out = tc.out_groups * check_rng_int(&r, 1, 40);
        tc.c_in = check_rng_int(&r, 1, 70);
        tc.h = check_rng_int(&r, 1, 20);
        tc.w = check_rng_int(&r, 1, 60);
        tc.kh = tc.kw = check_rng_int(&r, 0, 2) ? 1 : 3;
        tc.sh = tc.sw = check_rng_int(&r, 1, 2);
        tc.dh = tc.dw = 1;
        tc.pt = tc.pl = tc.pb = tc.pr = tc.kh / 2;
        tc.has_bias = check_rng_int(&r, 0, 1);
        tc.act = (evo_act)check_rng_int(&r, 0, EVO_ACT_TANH);
        tc.n_tasks = check_rng_int(&r, 1, 3);
        run_case(&r, &tc);
    }
    /* YOLOv5's head: 3 groups of 85 from 128 channels on 20x20 (K 128 in one block; 49 = 48 + 1 columns below) */
    fast_case head = {1, 128, 255, 20, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, EVO_ACT_SIGMOID, 2, false, 3};
    run_case(&r, &head);
    fast_case col49 = {1, 64, 24, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, EVO_ACT_SILU, 1, false, 3};
    run_case(&r, &col49);
}

static void test_model_shapes(void)
{
    check_rng r = {0x5eed};
    static const fast_case cases[] = {
        {1, 64, 32, 24, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, EVO_ACT_SILU, 2},
        {1, 67, 37, 19, 23, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_SILU, 3},
        {1, 40, 24, 33, 31, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_RELU, 2},
        {1, 3, 16, 64, 62, 6, 6, 2, 2, 1, 1, 2, 2, 2, 2, 1, 0, EVO_ACT_SILU, 2},
        {1, 3, 16, 45, 47, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 0, EVO_ACT_RELU, 1},
        {1, 130, 72, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_RELU, 2},
        {1, 300, 255, 5, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, EVO_ACT_NONE, 2},
        {1, 8, 8, 130, 131, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, EVO_ACT_SIGMOID, 2},
        {2, 5, 9, 71, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_HARD_SWISH, 3},
        {1, 16, 16, 40, 40, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, EVO_ACT_NONE, 2},
        {1, 600, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, EVO_ACT_TANH, 3},
        /* 1x1 with K past one block on every variant (AVX-512: 1024, AVX2: 256), residual before the act */
        {1, 1100, 40, 6, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, EVO_ACT_SILU, 2},
        /* tasks split the channels (few columns), K in many blocks */
        {1, 300, 100, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 3},
        {1, 96, 200, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_LEAKY_RELU, 2},
        /* YOLO's residual, added after the SiLU, through every variant */
        {1, 64, 64, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 2, true},
        {1, 32, 32, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 3, true},
        {1, 16, 24, 70, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, EVO_ACT_SILU, 2, true},
        {1, 3, 32, 130, 130, 6, 6, 2, 2, 1, 1, 2, 2, 2, 2, 1, 1, EVO_ACT_SILU, 2, true},
        {1, 130, 72, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, EVO_ACT_RELU, 1, true},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_case(&r, &cases[i]);
}

/*
 * 1x1 convs on 1x1 maps (squeeze-excite), which the AVX-512 variant runs
 * as a matrix-vector product: K below, at and past a 16-row step and past
 * one K block (1024), odd; channels off a multiple of 8 and 16; residual
 * before and after the activation; 1-3 tasks (which split the channels
 * from 4 panels a task).
 */
static void test_one_column(void)
{
    check_rng r = {0x1c01};
    static const int64_t sizes[][2] = {{1, 1}, {15, 7}, {16, 8}, {17, 13}, {33, 64}, {240, 960},
                                       {960, 240}, {1025, 40}, {2001, 19}};
    for (size_t i = 0; i < EVO_ARRAY_LEN(sizes); i++) {
        fast_case tc = {0};
        tc.batch = i % 4 == 3 ? 2 : 1;
        tc.c_in = sizes[i][0], tc.c_out = sizes[i][1];
        tc.h = tc.w = tc.kh = tc.kw = tc.sh = tc.sw = tc.dh = tc.dw = 1;
        tc.has_bias = i % 5 != 4;
        tc.has_residual = i % 3 == 1;
        tc.residual_after_act = i % 2;
        tc.act = i % 2 ? EVO_ACT_HARD_SIGMOID : EVO_ACT_RELU;
        tc.n_tasks = 1 + (int)(i % 3);
        run_case(&r, &tc);
    }
}

/* Winograd F(2x2, 3x3) and F(4x4, 3x3): odd sizes, asymmetric pads, narrow maps, channel blocks and splits, fusions. */
static void test_winograd(void)
{
    check_rng r = {0x3a3};
    static const fast_case cases[] = {
        {1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_NONE, 1},
        {1, 17, 23, 15, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_SILU, 2},
        {2, 32, 19, 21, 30, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 0, 1, EVO_ACT_RELU, 3},
        {1, 300, 40, 12, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 2},
        {1, 40, 200, 13, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_SIGMOID, 2},
        {1, 64, 64, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 2},
        {1, 24, 48, 9, 41, 3, 3, 1, 1, 1, 1, 2, 0, 0, 2, 1, 0, EVO_ACT_HARD_SWISH, 3},
        /* runs of 16 tiles across tile rows: 1, 2, 5 tiles a row, residual before and after the activation */
        {1, 16, 16, 30, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 3},
        {2, 16, 20, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_RELU, 3, true},
        {1, 33, 17, 21, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SILU, 2},
        {1, 16, 16, 5, 70, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 1, 1, EVO_ACT_NONE, 2, true},
        /* stride 2 (F(2x2, 3x3) by parity): odd sizes, asymmetric pads, 1-2 tiles a row, residual */
        {1, 64, 128, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, EVO_ACT_SILU, 2},
        {1, 33, 20, 23, 29, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1, 1, 1, EVO_ACT_RELU, 3, true},
        {2, 16, 24, 9, 7, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, 1, 1, EVO_ACT_SILU, 3},
        {1, 20, 17, 61, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, EVO_ACT_NONE, 1},
        {1, 300, 40, 12, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, EVO_ACT_SIGMOID, 2},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++)
        run_case(&r, &cases[i]);
}

/*
 * Depthwise convs (group = channels) through the depthwise variants (x86:
 * dw_avx512, and dwc_avx512 on every shape, not only where it pays) against
 * the reference: odd widths past one vector row segment, channel counts
 * off a multiple of 16, kernels 1-7, strides 1-2, asymmetric pads, bias,
 * residual before and after the activation, 1-3 tasks; a channel
 * multiplier or stride 3 is refused.
 */
static void test_depthwise(void)
{
#if defined(__aarch64__)
    const evo_kernel_def *dw = has_neon(evo_cpu_get()) ? &evo_kernel_conv_dw_neon : NULL;
#else
    const evo_kernel_def *dw = has_avx512(evo_cpu_get()) ? &evo_kernel_conv_dw_avx512 : NULL;
#endif
#if defined(__x86_64__) || defined(_M_X64)
    const evo_kernel_def *dwc = dw ? &evo_kernel_conv_dwc_avx512 : NULL;
#else
    const evo_kernel_def *dwc = NULL;
#endif
    if (!dw) {
        CHECK_SKIP("depthwise: no depthwise kernel for this CPU (avx512, neon)");
        return;
    }
    check_rng r = {0xd3e};
    for (int it = 0; it < 120; it++) {
        int64_t ch = check_rng_int(&r, 2, 40), h = check_rng_int(&r, 1, 23), w = check_rng_int(&r, 1, 90);
        int64_t k = 1 + 2 * check_rng_int(&r, 0, 3), s = check_rng_int(&r, 1, it % 10 == 0 ? 3 : 2);
        int64_t pads[4] = {check_rng_int(&r, 0, 3), check_rng_int(&r, 0, 3), check_rng_int(&r, 0, 3),
                           check_rng_int(&r, 0, 3)};
        if (h + pads[0] + pads[2] < k)
            h = k;
        if (w + pads[1] + pads[3] < k)
            w = k;
        int batch = check_rng_int(&r, 1, 4) == 1 ? 2 : 1, n_tasks = check_rng_int(&r, 1, 3);
        bool has_res = check_rng_int(&r, 0, 2) == 0, after = check_rng_int(&r, 0, 1);
        evo_act act = (evo_act)check_rng_int(&r, 0, EVO_ACT_TANH);
        float *wt = nn_random(&r, ch * k * k), *b = nn_random(&r, ch);
        evo_graph *g = evo_graph_new("test");
        int64_t xd[4] = {batch, ch, h, w}, wd[4] = {ch, 1, k, k}, bd[1] = {ch};
        int ins[3] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd), nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd),
                      nn_value(g, "B", EVO_DTYPE_FLOAT, 1, bd)};
        g->values[ins[1]].data = wt;
        g->values[ins[2]].data = b;
        int node = nn_node(g, "Conv", 3, ins, 1);
        int64_t st[2] = {s, s};
        nn_attr_ints(g, node, "strides", st, 2);
        nn_attr_ints(g, node, "pads", pads, 4);
        nn_attr_int(g, node, "group", ch);
        evo_error err = {0};
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
        evo_node *n = &g->nodes[node];
        n->a.conv.act = act;
        n->a.conv.act_alpha = act == EVO_ACT_CLIP ? -0.5f : (act == EVO_ACT_LEAKY_RELU ? 0.1f : 0.2f);
        n->a.conv.act_beta = act == EVO_ACT_CLIP ? 0.7f : 0.5f;
        const int64_t *yd = g->values[n->out[0]].dims;
        int64_t y_count = yd[0] * yd[1] * yd[2] * yd[3];
        if (has_res) {
            int *in4 = evo_mem_alloc(&g->mem, sizeof(int) * 4);
            in4[0] = n->in[0], in4[1] = n->in[1], in4[2] = n->in[2];
            in4[3] = nn_value(g, "R", EVO_DTYPE_FLOAT, 4, yd);
            n->in = in4;
            n->n_in = 4;
            n->a.conv.has_residual = true;
            n->a.conv.residual_after_act = after;
        }
        bool supported = dw->supports(g, n);
        CHECK_MSG(supported == (s <= 2), "ch %lld k %lld s %lld: supports() = %d", (long long)ch,
                  (long long)k, (long long)s, supported);
        float *x = nn_random(&r, batch * ch * h * w), *res = nn_random(&r, y_count);
        float *want = malloc(sizeof(float) * (size_t)y_count), *got = malloc(sizeof(float) * (size_t)y_count);
        void *in_data[4] = {x, wt, b, res};
        run_kernel(evo_kernel_ref(EVO_OP_CONV), g, node, in_data, want, 1);
        if (supported) {
            for (int64_t i = 0; i < y_count; i++)
                got[i] = NAN;
            for (int v = 0; v < (dwc ? 2 : 1); v++) {
                /* dwc takes every shape dw does, wherever it pays (its own rule) or not */
                const evo_kernel_def *kd = v ? dwc : dw;
                for (int64_t i = 0; i < y_count; i++)
                    got[i] = NAN;
                run_kernel(kd, g, node, in_data, got, n_tasks);
                double scale = 0.0;
                for (int64_t i = 0; i < y_count; i++)
                    scale = fmax(scale, fabs(want[i]));
                int bad = 0;
                for (int64_t i = 0; i < y_count && bad < 3; i++)
                    if (!(fabs(got[i] - want[i]) <= 1e-5 * (scale + 1.0))) {
                        fprintf(stderr,
                                "%s: N=%d C=%lld %lldx%lld k=%lld s=%lld pads=%lld,%lld,%lld,%lld res=%d/%d "
                                "act=%s tasks=%d: y[%lld] = %g, ref %g\n",
                                kd->name, batch, (long long)ch, (long long)h, (long long)w, (long long)k,
                                (long long)s, (long long)pads[0], (long long)pads[1], (long long)pads[2],
                                (long long)pads[3], has_res, after, act_name(act), n_tasks, (long long)i, got[i],
                                want[i]);
                        bad++;
                    }
                CHECK(bad == 0);
            }
        }
        free(x);
        free(res);
        free(want);
        free(got);
        evo_graph_free(g);
        free(wt);
        free(b);
    }
}

static void test_refuses(void)
{
    check_rng r = {0x4ef};
    float *w = nn_random(&r, 8 * 4 * 3 * 3);
    const evo_cpu_info *cpu = evo_cpu_get();
    for (int form = 0; form < 3; form++) {
        evo_graph *g = evo_graph_new("test");
        int64_t xd2[4] = {1, 8, 9, 9}, wd2[4] = {8, 4, 3, 3};
        int64_t xd1[3] = {1, 4, 9}, wd1[3] = {8, 4, 3};
        int ins[2];
        if (form == 1) {
            ins[0] = nn_value(g, "X", EVO_DTYPE_FLOAT, 3, xd1);
            ins[1] = nn_value(g, "W", EVO_DTYPE_FLOAT, 3, wd1);
        } else {
            ins[0] = nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd2);
            ins[1] = nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd2);
        }
        if (form != 2) /* form 2: weights not constant */
            g->values[ins[1]].data = w;
        if (form == 2)
            xd2[1] = 4, g->values[ins[0]].dims[1] = 4;
        int node = nn_node(g, "Conv", 2, ins, 1);
        if (form == 0)
            nn_attr_int(g, node, "group", 2);
        evo_error err = {0};
        CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
        for (size_t v = 0; v < EVO_ARRAY_LEN(variants); v++)
            if (variants[v].host_ok(cpu))
                CHECK_MSG(!variants[v].def->supports(g, &g->nodes[node]), "%s form %d", variants[v].def->name,
                          form);
        evo_graph_free(g);
    }
    free(w);
}

static void test_variants_selected(void)
{
    /* the registry picks each variant when capped at its ISA (136 channels out: 128 or fewer go to bcast_avx512) */
    check_rng r = {0x5e1};
    float *w = nn_random(&r, 136 * 4 * 9);
    evo_graph *g = evo_graph_new("test");
    int64_t xd[4] = {1, 4, 9, 9}, wd[4] = {136, 4, 3, 3};
    int ins[2] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd), nn_value(g, "W", EVO_DTYPE_FLOAT, 4, wd)};
    g->values[ins[1]].data = w;
    int node = nn_node(g, "Conv", 2, ins, 1);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    const evo_cpu_info *cpu = evo_cpu_get();
    if (has_avx512(cpu))
        CHECK(evo_kernel_select(g, &g->nodes[node], EVO_ISA_AVX512) == &evo_kernel_conv_avx512);
    if (has_avx2(cpu))
        CHECK(evo_kernel_select(g, &g->nodes[node], EVO_ISA_AVX2) == &evo_kernel_conv_avx2);
    CHECK(evo_kernel_select(g, &g->nodes[node], EVO_ISA_REF) == evo_kernel_ref(EVO_OP_CONV));
    evo_graph_free(g);
    free(w);
}

/* The model layers each specialised variant is for pick it. */
static void test_layer_picks(void)
{
    if (!has_avx512(evo_cpu_get())) {
        CHECK_SKIP("layer_picks: the specialised variants need avx512");
        return;
    }
    evo_error err = {0};
    static const struct {
        int64_t c_in, c_out, hw, k, s;
        const evo_kernel_def *want;
    } picks[] = {
        {64, 64, 80, 3, 1, &evo_kernel_conv_wino4_avx512},   /* 3x3 stride 1, many tiles */
        {3, 32, 640, 6, 2, &evo_kernel_conv_bcast_avx512},   /* YOLOv5 stem */
        {3, 64, 224, 7, 2, &evo_kernel_conv_bcast_avx512},   /* ResNet stem */
        {64, 128, 160, 3, 2, &evo_kernel_conv_winos2_avx512}, /* 3x3 stride 2, 128 channels out */
        {32, 64, 320, 3, 2, &evo_kernel_conv_bcast_avx512},   /* 3x3 stride 2, few channels, wide rows */
        {128, 256, 80, 3, 2, &evo_kernel_conv_winos2_avx512}, /* 3x3 stride 2, weights past L2, 400 tiles */
        {64, 64, 80, 3, 2, &evo_kernel_conv_bcast_avx512},    /* 3x3 stride 2, 64 channels out */
        {256, 512, 40, 3, 2, &evo_kernel_conv_winos2_avx512}, /* 3x3 stride 2, 100 tiles */
        {512, 512, 7, 3, 1, &evo_kernel_conv_avx512},        /* 3x3 on 7x7: Winograd weights too big */
        {12, 16, 208, 3, 1, &evo_kernel_conv_wino4_avx512},   /* a 6x6/2 stem after s2d_conv (YOLOX-nano, YOLOv5) */
        {64, 16, 13, 5, 1, &evo_kernel_conv_bcast_avx512},    /* 16 channels out, 5x5 on a small map */
        {96, 96, 20, 5, 1, &evo_kernel_conv_bcast_avx512},    /* stride 1, up to 128 channels */
        {256, 256, 20, 5, 1, &evo_kernel_conv_avx512},        /* stride 1, more channels */
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(picks); i++) {
        evo_graph *g = evo_graph_new("test");
        int64_t px[4] = {1, picks[i].c_in, picks[i].hw, picks[i].hw};
        int64_t pw[4] = {picks[i].c_out, picks[i].c_in, picks[i].k, picks[i].k};
        int pins[2] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 4, px), nn_value(g, "W", EVO_DTYPE_FLOAT, 4, pw)};
        float *pwd = calloc((size_t)(pw[0] * pw[1] * pw[2] * pw[3]), sizeof(float));
        g->values[pins[1]].data = pwd;
        int pn = nn_node(g, "Conv", 2, pins, 1);
        int64_t st[2] = {picks[i].s, picks[i].s}, pad = (picks[i].k - 1) / 2, pe = picks[i].k / 2;
        int64_t pads[4] = {pad, pad, pe, pe};
        nn_attr_ints(g, pn, "strides", st, 2);
        nn_attr_ints(g, pn, "pads", pads, 4);
        CHECK(nn_infer(g, pn, &err) == EVO_OK);
        const evo_kernel_def *got = evo_kernel_select(g, &g->nodes[pn], EVO_ISA_AVX512);
        CHECK_MSG(got == picks[i].want, "case %zu: %s, want %s", i, got ? got->name : "none",
                  picks[i].want->name);
        evo_graph_free(g);
        free(pwd);
    }
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"random_shapes", test_random_shapes},
        {"model_shapes", test_model_shapes},
        {"winograd", test_winograd},
        {"refuses", test_refuses},
        {"variants_selected", test_variants_selected},
        {"layer_picks", test_layer_picks},
        {"depthwise", test_depthwise},
        {"out_groups", test_out_groups},
        {"one_column", test_one_column},
    };
    return check_run(tests, (int)EVO_ARRAY_LEN(tests), argc, argv);
}
