/*
 * test_qconv_fast.c - every SIMD int8 Conv variant the host supports,
 * bit-exact against the reference QLinearConv kernel through the kernel
 * contract (supports, packed_bytes, pack, scratch_bytes, run on 1-2
 * tasks): random 2-D shapes with odd channel counts and sizes, 1x1 to 5x5,
 * strides 1-2, pads (end pads too that differ from the begin ones), dilation, grouped and depthwise, batch 2, per-tensor
 * and per-channel weight scales, uint8 and int8 activations and outputs,
 * both requantization modes (with accumulators that saturate FIXED's left
 * shift), every fused activation; the QLinearMatMul variants likewise
 * (A of rank 1-3, per-tensor and per-column B scales); plus what
 * supports() must refuse; on AArch64 the NEON, dotprod and i8mm variants
 * (one ctest entry per tier). Where the host has AVX512-VBMI, each run is
 * repeated with the activation table looked up by gathers instead of byte
 * permutes.
 */
#include "qtest_util.h"
#include "core/cpu.h"
#include "kernels/qconv_fast.h"

typedef struct qcase {
    evo_qconv_shape s;
    evo_qconv_consts q;
    int n_tasks;
    int8_t w_zp; /* non-zero: the fast variants must refuse the node */
    int64_t ph_end, pw_end; /* end pads past the begin pads s.ph, s.pw (ONNX pads may differ) */
} qcase;

static const char *act_name(evo_act a)
{
    static const char *names[] = {"none",        "relu",      "leaky", "sigmoid", "silu",
                                  "hardsigmoid", "hardswish", "clip",  "tanh"};
    return (unsigned)a < EVO_ARRAY_LEN(names) ? names[a] : "?";
}

static void describe(const qcase *tc, char *buf, size_t n)
{
    const evo_qconv_shape *s = &tc->s;
    const evo_qconv_consts *q = &tc->q;
    snprintf(buf, n,
             "N=%lld Cin=%lld Cout=%lld G=%lld HxW=%lldx%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld p=%lld,%lld "
             "x:%s zp %d y:%s zp %d per_channel=%d bias=%d requant=%s act=%s tasks=%d",
             (long long)s->batch, (long long)s->c_in, (long long)s->c_out, (long long)s->group,
             (long long)s->ih, (long long)s->iw, (long long)s->kh, (long long)s->kw, (long long)s->sh,
             (long long)s->sw, (long long)s->dh, (long long)s->dw, (long long)s->ph, (long long)s->pw,
             q->x_signed ? "s8" : "u8", q->x_zp, q->y_signed ? "s8" : "u8", q->y_zp, q->w_per_channel,
             q->bias != NULL, q->requant == EVO_REQUANT_FIXED ? "fixed" : "float", act_name(q->act),
             tc->n_tasks);
}

static bool has_vnni(const evo_cpu_info *c)
{
    return c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq && c->avx512vnni;
}
static bool has_vnni_vbmi(const evo_cpu_info *c)
{
    return has_vnni(c) && c->avx512vbmi;
}
static bool has_avx512(const evo_cpu_info *c)
{
    return c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq;
}
static bool has_avx2(const evo_cpu_info *c)
{
    return c->avx2 && c->fma;
}
static bool has_avxvnni(const evo_cpu_info *c)
{
    return c->avx2 && c->fma && c->avx_vnni;
}

#if defined(__aarch64__)
static bool has_neon(const evo_cpu_info *c)
{
    return c->neon;
}
static bool has_dotprod(const evo_cpu_info *c)
{
    return c->neon && c->dotprod;
}
static bool has_i8mm(const evo_cpu_info *c)
{
    return has_dotprod(c) && c->i8mm;
}
#endif

typedef struct qvariant {
    const evo_kernel_def *def;
    bool (*host_ok)(const evo_cpu_info *c);
    bool dw; /* depthwise only (stride across 1-2); else every case here */
} qvariant;

static const qvariant qvariants[] = {
    {&evo_kernel_qconv_direct_vnni, has_vnni_vbmi, false},
    {&evo_kernel_qconv_vnni, has_vnni, false},
    {&evo_kernel_qconv_dw_vnni, has_vnni_vbmi, true},
    {&evo_kernel_qconv_dw_avx512, has_avx512, true},
    {&evo_kernel_qconv_avxvnni, has_avxvnni, false},
    {&evo_kernel_qconv_avx2, has_avx2, false},
    {&evo_kernel_qconv_dw_avx2, has_avx2, true},
#if defined(__aarch64__)
    {&evo_kernel_qconv_i8mm, has_i8mm, false},
    {&evo_kernel_qconv_dotprod, has_dotprod, false},
    {&evo_kernel_qconv_neon, has_neon, false},
    {&evo_kernel_qconv_dw_neon, has_neon, true},
#endif
};

static bool is_dw(const qcase *tc)
{
    return tc->s.group == tc->s.c_in && tc->s.group == tc->s.c_out;
}

/* The QLinearConv node of tc (constant weights, scales, zero points, bias); -1 on failure. */
static int build(evo_graph *g, const qcase *tc, void *x)
{
    const evo_qconv_shape *s = &tc->s;
    const evo_qconv_consts *q = &tc->q;
    evo_dtype xt = q->x_signed ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8,
              yt = q->y_signed ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    int64_t xd[4] = {s->batch, s->c_in, s->ih, s->iw}, wd[4] = {s->c_out, s->c_in / s->group, s->kh, s->kw};
    int64_t bd[1] = {s->c_out}, nws = q->w_per_channel ? s->c_out : 1;
    static int8_t wzp[256];
    memset(wzp, 0, sizeof(wzp));
    wzp[nws - 1] = tc->w_zp;
    int8_t xzp = (int8_t)q->x_zp, yzp = (int8_t)q->y_zp;
    int ins[9] = {qt_value(g, "x", xt, 4, xd, NULL),
                  qt_param(g, "xs", EVO_DTYPE_FLOAT, 1, &q->x_scale),
                  qt_param(g, "xzp", xt, 1, &xzp),
                  qt_value(g, "w", EVO_DTYPE_INT8, 4, wd, q->w),
                  qt_param(g, "ws", EVO_DTYPE_FLOAT, nws, q->w_scale),
                  qt_param(g, "wzp", EVO_DTYPE_INT8, nws, wzp),
                  qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &q->y_scale),
                  qt_param(g, "yzp", yt, 1, &yzp),
                  q->bias ? qt_value(g, "B", EVO_DTYPE_INT32, 1, bd, q->bias) : -1};
    (void)x;
    int node = nn_node(g, "QLinearConv", q->bias ? 9 : 8, ins, 1);
    int64_t st[2] = {s->sh, s->sw}, dil[2] = {s->dh, s->dw}, pads[4] = {s->ph, s->pw, s->ph + tc->ph_end,
                                                                                 s->pw + tc->pw_end};
    nn_attr_ints(g, node, "strides", st, 2);
    nn_attr_ints(g, node, "dilations", dil, 2);
    nn_attr_ints(g, node, "pads", pads, 4);
    nn_attr_int(g, node, "group", s->group);
    evo_error err = {0};
    evo_status st_ = nn_infer(g, node, &err);
    evo_node *n = &g->nodes[node];
    if (st_ == EVO_OK) {
        n->a.conv.requant = q->requant;
        n->a.conv.act = q->act;
        n->a.conv.act_alpha = q->act_alpha;
        n->a.conv.act_beta = q->act_beta;
        n->a.conv.act_scale = q->act_scale;
        n->a.conv.act_zp = q->act_zp;
        st_ = evo_op_get(n->op)->infer(g, n, &err);
    }
    CHECK_MSG(st_ == EVO_OK, "%s", err.msg);
    return st_ == EVO_OK ? node : -1;
}

/* Every variant here packs an evo_qconv_packed head: its table lookups then take the 32-bit gathers. */
static void no_lut_vbmi(void *packed)
{
    ((evo_qconv_packed *)packed)->lut_vbmi = false;
}

/*
 * Runs the reference kernel on node, then each variant in vs the host has
 * (supports() must equal takes(variant)) on n_tasks tasks: every output
 * byte must match. Returns the variants run.
 */
static int check_variants(evo_graph *g, int node, const qvariant *vs, size_t n_vs,
                          bool (*takes)(const qvariant *, const void *), const void *ctx, void *const *ins,
                          int64_t ny, int n_tasks, const char *desc)
{
    uint8_t *want = malloc((size_t)ny), *got = malloc((size_t)ny);
    void *outs[1] = {want};
    const evo_node *n = &g->nodes[node];
    nn_run_kernel(evo_kernel_ref(n->op), g, node, ins, outs, 1);
    int ran = 0;
    for (size_t v = 0; v < n_vs; v++) {
        const qvariant *qv = &vs[v];
        if (!qv->host_ok(evo_cpu_get())) {
            CHECK_SKIP_ONCE("kernel %s not run: this CPU lacks its features", qv->def->name);
            continue;
        }
        bool supported = qv->def->supports(g, n);
        CHECK_MSG(supported == takes(qv, ctx), "%s: %s: supports() = %d", qv->def->name, desc, supported);
        if (!supported)
            continue;
        /* the second pass looks tables up without byte permutes, where the host has them */
        for (int pass = 0; pass < (evo_cpu_get()->avx512vbmi ? 2 : 1); pass++) {
            memset(got, 0xA5, (size_t)ny);
            outs[0] = got;
            nn_run_kernel_ex(qv->def, g, node, ins, outs, n_tasks, pass ? no_lut_vbmi : NULL);
            int bad = 0;
            for (int64_t i = 0; i < ny && bad < 3; i++)
                if (got[i] != want[i]) {
                    fprintf(stderr, "%s%s: %s: y[%lld] = %d, ref %d\n", qv->def->name, pass ? " (gather)" : "",
                            desc, (long long)i, got[i], want[i]);
                    bad++;
                }
            CHECK_MSG(bad == 0, "%s%s: %s", qv->def->name, pass ? " (gather)" : "", desc);
        }
        ran++;
    }
    free(want);
    free(got);
    return ran;
}

/* Whether conv variant v takes case ctx. */
static bool conv_takes(const qvariant *v, const void *ctx)
{
    const qcase *tc = ctx;
    const evo_qconv_shape *s = &tc->s;
    if (v->def == &evo_kernel_qconv_direct_vnni) { /* its grid drops at most a quarter of its columns */
        int64_t wp = EVO_MAX((s->ow - 1) * s->sw + (s->kw - 1) * s->dw + 1, s->iw + s->pw);
        int64_t wq = (wp + s->sw - 1) / s->sw, taps = s->kh * s->kw;
        return tc->w_zp == 0 && s->group == 1 && taps >= 2 && taps <= 64 && s->sh == s->sw && s->sw <= 2 &&
               s->dh <= 4 && s->dw <= 4 && (wq - s->ow) * 4 <= wq;
    }
    if (v->def == &evo_kernel_qconv_dw_vnni && /* one 64-byte load per vector of 16 */
        (s->kw > 8 || s->kh > 7 || 15 * s->sw + (s->kw - 1) * s->dw > 63))
        return false;
    return tc->w_zp == 0 && (!v->dw || (is_dw(tc) && tc->s.sw <= 2));
}

/* Runs every variant the host has that takes tc against the reference; returns the variants run. */
static int run_case(check_rng *r, qcase *tc)
{
    evo_qconv_shape *s = &tc->s;
    evo_qconv_consts *q = &tc->q;
    s->oh = (s->ih + 2 * s->ph + tc->ph_end - (s->kh - 1) * s->dh - 1) / s->sh + 1;
    s->ow = (s->iw + 2 * s->pw + tc->pw_end - (s->kw - 1) * s->dw - 1) / s->sw + 1;
    int64_t nx = s->batch * s->c_in * s->ih * s->iw, ny = s->batch * s->c_out * s->oh * s->ow;
    int64_t nw = s->c_out * (s->c_in / s->group) * s->kh * s->kw;
    uint8_t *x = malloc((size_t)nx);
    int8_t *w = malloc((size_t)nw);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)s->c_out);
    float *ws = malloc(sizeof(float) * (size_t)s->c_out);
    bool extreme = check_rng_int(r, 0, 7) == 0; /* accumulators near 2^31, multipliers above 1 */
    for (int64_t i = 0; i < nx; i++)
        x[i] = (uint8_t)check_rng_int(r, 0, 255);
    for (int64_t i = 0; i < nw; i++)
        w[i] = (int8_t)check_rng_int(r, -128, 127);
    for (int64_t i = 0; i < s->c_out; i++) {
        bias[i] = extreme ? check_rng_int(r, -(1 << 29), (1 << 29) - 1) * 4 : check_rng_int(r, -20000, 20000);
        ws[i] = check_rng_float(r, 0.002f, 0.02f);
    }
    q->w = w;
    q->w_scale = ws;
    q->bias = check_rng_int(r, 0, 3) > 0 || extreme ? bias : NULL;
    /* the output scale makes the accumulators span about the output range */
    double k = (double)(s->c_in / s->group * s->kh * s->kw);
    q->x_scale = check_rng_float(r, 0.01f, 0.05f);
    q->y_scale = (float)(q->x_scale * 0.01 * 128.0 * 60.0 * sqrt(k) / 100.0);
    if (extreme)
        q->y_scale = q->x_scale * 0.02f / check_rng_float(r, 1.0f, 9.0f);
    q->act_scale = q->y_scale * check_rng_float(r, 0.5f, 1.5f);
    char desc[512];
    describe(tc, desc, sizeof(desc));
    int ran = 0;
    evo_graph *g = evo_graph_new("test");
    int node = build(g, tc, x);
    if (node < 0)
        goto done;
    int8_t xzp = (int8_t)q->x_zp, yzp = (int8_t)q->y_zp, wzp[256] = {0};
    wzp[(q->w_per_channel ? s->c_out : 1) - 1] = tc->w_zp;
    void *ins[9] = {x, &q->x_scale, &xzp, w, ws, wzp, &q->y_scale, &yzp, q->bias ? bias : NULL};
    ran = check_variants(g, node, qvariants, EVO_ARRAY_LEN(qvariants), conv_takes, tc, ins, ny, tc->n_tasks,
                         desc);
done:
    evo_graph_free(g);
    free(x);
    free(w);
    free(bias);
    free(ws);
    return ran;
}

/* Random quantization parameters and activation of tc. */
static void random_quant(check_rng *r, qcase *tc)
{
    evo_qconv_consts *q = &tc->q;
    memset(q, 0, sizeof(*q));
    q->x_signed = check_rng_int(r, 0, 1);
    q->y_signed = check_rng_int(r, 0, 1);
    q->x_zp = q->x_signed ? check_rng_int(r, -128, 127) : check_rng_int(r, 0, 255);
    q->y_zp = q->y_signed ? check_rng_int(r, -100, 100) : check_rng_int(r, 0, 255);
    q->act_zp = q->y_signed ? check_rng_int(r, -100, 100) : check_rng_int(r, 0, 255);
    q->w_per_channel = check_rng_int(r, 0, 1);
    q->requant = check_rng_int(r, 0, 1) ? EVO_REQUANT_FIXED : EVO_REQUANT_FLOAT;
    q->act = (evo_act)check_rng_int(r, 0, EVO_ACT_TANH);
    q->act_alpha = q->act == EVO_ACT_CLIP ? -0.5f : (q->act == EVO_ACT_LEAKY_RELU ? 0.1f : 0.2f);
    q->act_beta = q->act == EVO_ACT_CLIP ? 0.7f : 0.5f;
    tc->n_tasks = check_rng_int(r, 1, 2);
}

static void test_random_shapes(void)
{
    check_rng r = {0x9c0f7a57};
    int ran = 0;
    for (int it = 0; it < 400; it++) {
        qcase tc;
        memset(&tc, 0, sizeof(tc));
        random_quant(&r, &tc);
        evo_qconv_shape *s = &tc.s;
        s->batch = check_rng_int(&r, 1, 4) == 1 ? 2 : 1;
        int kind = check_rng_int(&r, 0, 3); /* group 1, grouped, depthwise x 2 */
        static const int64_t ks[] = {1, 1, 3, 3, 5};
        s->kh = s->kw = ks[check_rng_int(&r, 0, 4)];
        if (check_rng_int(&r, 0, 5) == 0)
            s->kw = check_rng_int(&r, 1, 4);
        s->sh = s->sw = check_rng_int(&r, 1, 2);
        s->dh = s->dw = check_rng_int(&r, 0, 5) == 0 ? 2 : 1;
        s->ph = check_rng_int(&r, 0, (int)s->kh / 2 + 1);
        s->pw = check_rng_int(&r, 0, (int)s->kw / 2 + 1);
        s->ih = check_rng_int(&r, 1, 23);
        s->iw = check_rng_int(&r, 1, it % 5 == 4 ? 120 : 37);
        if (kind >= 2) {
            s->group = s->c_in = s->c_out = check_rng_int(&r, 1, 19);
        } else {
            s->group = kind == 1 ? check_rng_int(&r, 2, 3) : 1;
            s->c_in = s->group * check_rng_int(&r, 1, 21);
            s->c_out = s->group * check_rng_int(&r, 1, 29);
        }
        if (check_rng_int(&r, 0, 4) == 0) { /* end pads other than the begin pads */
            tc.ph_end = check_rng_int(&r, -(int)s->ph, 2);
            tc.pw_end = check_rng_int(&r, -(int)s->pw, 2);
        }
        if (s->ih + 2 * s->ph + tc.ph_end < (s->kh - 1) * s->dh + 1)
            s->ih = (s->kh - 1) * s->dh + 1;
        if (s->iw + 2 * s->pw + tc.pw_end < (s->kw - 1) * s->dw + 1)
            s->iw = (s->kw - 1) * s->dw + 1;
        ran += run_case(&r, &tc);
    }
    printf("random_shapes: %d variant runs\n", ran);
    CHECK(ran > 100 || !has_avx2(evo_cpu_get()));
}

/*
 * Big K and many channels: the K loop over thousands of steps, several
 * channel panels and column chunks, tasks splitting the channels (200 on 5x5).
 */
static void test_large(void)
{
    check_rng r = {0x5eed1};
    static const int64_t shapes[][6] = {/* c_in, c_out, h, w, k, stride */
                                        {64, 64, 20, 20, 1, 1}, {96, 40, 13, 17, 3, 1},
                                        {300, 17, 9, 9, 3, 2},  {33, 130, 31, 29, 3, 2},
                                        {512, 24, 6, 5, 3, 1},  {16, 24, 80, 80, 3, 1}, {64, 200, 5, 5, 3, 1}};
    for (size_t i = 0; i < EVO_ARRAY_LEN(shapes); i++)
        for (int t = 1; t <= 2; t++) {
            qcase tc;
            memset(&tc, 0, sizeof(tc));
            random_quant(&r, &tc);
            tc.n_tasks = t;
            evo_qconv_shape *s = &tc.s;
            s->batch = 1, s->group = 1, s->c_in = shapes[i][0], s->c_out = shapes[i][1];
            s->ih = shapes[i][2], s->iw = shapes[i][3], s->kh = s->kw = shapes[i][4];
            s->sh = s->sw = shapes[i][5], s->dh = s->dw = 1, s->ph = s->pw = s->kh / 2;
            run_case(&r, &tc);
        }
}

/* Depthwise rows too wide for the padded-row copies (over 1024 bytes): the masked edge loads. */
static void test_dw_wide(void)
{
    check_rng r = {0xd3e};
    for (int it = 0; it < 8; it++) {
        qcase tc;
        memset(&tc, 0, sizeof(tc));
        random_quant(&r, &tc);
        evo_qconv_shape *s = &tc.s;
        s->batch = 1, s->group = s->c_in = s->c_out = check_rng_int(&r, 1, 5);
        s->ih = check_rng_int(&r, 2, 6), s->iw = check_rng_int(&r, 1030, 1100);
        s->kh = s->kw = it & 1 ? 5 : 3, s->sh = s->sw = it & 2 ? 2 : 1;
        s->dh = s->dw = it & 4 ? 2 : 1, s->ph = s->pw = check_rng_int(&r, 0, 2);
        if (s->ih + 2 * s->ph < (s->kh - 1) * s->dh + 1)
            s->ih = (s->kh - 1) * s->dh + 1;
        CHECK(run_case(&r, &tc) >= (has_avx2(evo_cpu_get()) ? 2 : 0) + (has_vnni_vbmi(evo_cpu_get()) ? 1 : 0));
    }
}

/*
 * Depthwise kernels of 2-8 columns and 1-8 rows, dilation 1-3 down and 1-6
 * across, stride 1-2 (two 4-tap groups per row; 8 rows, more than the
 * vnni variant takes; wide dilations out of its 64-byte reach; taps
 * spanning more rows than the copying path's ring holds): the generic paths
 * of the depthwise variants.
 */
static void test_dw_kernels(void)
{
    check_rng r = {0xd3e7};
    int ran = 0;
    for (int it = 0; it < 60; it++) {
        qcase tc;
        memset(&tc, 0, sizeof(tc));
        random_quant(&r, &tc);
        evo_qconv_shape *s = &tc.s;
        s->batch = 1, s->group = s->c_in = s->c_out = check_rng_int(&r, 1, 6);
        s->kh = check_rng_int(&r, 1, 8), s->kw = check_rng_int(&r, 2, 8);
        s->sh = check_rng_int(&r, 1, 2), s->sw = check_rng_int(&r, 1, 2);
        s->dh = check_rng_int(&r, 1, 3), s->dw = check_rng_int(&r, 1, 6);
        s->ph = check_rng_int(&r, 0, (int)s->kh), s->pw = check_rng_int(&r, 0, (int)s->kw);
        s->ih = check_rng_int(&r, 1, 30), s->iw = check_rng_int(&r, 1, 90);
        if (s->ih + 2 * s->ph < (s->kh - 1) * s->dh + 1)
            s->ih = (s->kh - 1) * s->dh + 1;
        if (s->iw + 2 * s->pw < (s->kw - 1) * s->dw + 1)
            s->iw = (s->kw - 1) * s->dw + 1;
        ran += run_case(&r, &tc);
    }
    printf("dw_kernels: %d variant runs\n", ran);
    CHECK(ran >= 60 || !has_avx2(evo_cpu_get()));
}

/* Weights with a non-zero zero point take the reference: no fast variant supports them. */
static void test_refused(void)
{
    check_rng r = {0x7e5};
    for (int it = 0; it < 4; it++) {
        qcase tc;
        memset(&tc, 0, sizeof(tc));
        random_quant(&r, &tc);
        tc.w_zp = (int8_t)(it + 1);
        tc.q.w_per_channel = it & 1;
        evo_qconv_shape *s = &tc.s;
        s->batch = 1, s->group = it < 2 ? 1 : 4, s->c_in = 4, s->c_out = 4, s->ih = s->iw = 7;
        s->kh = s->kw = 3, s->sh = s->sw = 1, s->dh = s->dw = 1, s->ph = s->pw = 1;
        CHECK(run_case(&r, &tc) == 0);
    }
}

/* QLinearMatMul variants. */
static const qvariant mm_variants[] = {
    {&evo_kernel_qmatmul_vnni, has_vnni, false},
    {&evo_kernel_qmatmul_avxvnni, has_avxvnni, false},
    {&evo_kernel_qmatmul_avx2, has_avx2, false},
#if defined(__aarch64__)
    {&evo_kernel_qmatmul_dotprod, has_dotprod, false},
    {&evo_kernel_qmatmul_neon, has_neon, false},
#endif
};

/* Matmul variants take every case but a non-zero B zero point (*ctx). */
static bool mm_takes(const qvariant *v, const void *ctx)
{
    (void)v;
    return *(const int8_t *)ctx == 0;
}

/*
 * One QLinearMatMul case: A of rank ra ([2, 3, M, K] tail), B [K, N]
 * constant (zero point bzp: non-zero must be refused), every variant the
 * host has against the reference; returns the variants run.
 */
static int run_mm_case(check_rng *r, int ra, int64_t m, int64_t k, int64_t n, int8_t bzp_last, int n_tasks)
{
    evo_qconv_consts q;
    qcase tc;
    memset(&tc, 0, sizeof(tc));
    random_quant(r, &tc);
    q = tc.q;
    evo_dtype at = q.x_signed ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8,
              yt = q.y_signed ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    int64_t ad[4] = {3, 2, m, k}, *adims = ad + 4 - ra, bd[2] = {k, n},
            rows = ra == 1 ? 1 : m * (ra > 2 ? 2 : 1);
    if (ra == 1)
        adims = ad + 3;
    int64_t na = rows * k, ny = rows * n, nbs = q.w_per_channel ? n : 1;
    uint8_t *a = malloc((size_t)na);
    int8_t *b = malloc((size_t)(k * n)), *bzp = calloc((size_t)n, 1);
    float *bs = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < na; i++)
        a[i] = (uint8_t)check_rng_int(r, 0, 255);
    for (int64_t i = 0; i < k * n; i++)
        b[i] = (int8_t)check_rng_int(r, -128, 127);
    for (int64_t i = 0; i < n; i++)
        bs[i] = check_rng_float(r, 0.002f, 0.02f);
    bzp[nbs - 1] = bzp_last;
    float as = check_rng_float(r, 0.01f, 0.05f);
    float ys = (float)(as * 0.01 * 128.0 * 60.0 * sqrt((double)k) / 100.0),
          acts = ys * check_rng_float(r, 0.5f, 1.5f);
    int8_t azp = (int8_t)q.x_zp, yzp = (int8_t)q.y_zp;
    evo_graph *g = evo_graph_new("test");
    int ins[8] = {qt_value(g, "a", at, ra, adims, NULL),
                  qt_param(g, "as", EVO_DTYPE_FLOAT, 1, &as),
                  qt_param(g, "azp", at, 1, &azp),
                  qt_value(g, "b", EVO_DTYPE_INT8, 2, bd, b),
                  qt_param(g, "bs", EVO_DTYPE_FLOAT, nbs, bs),
                  qt_param(g, "bzp", EVO_DTYPE_INT8, nbs, bzp),
                  qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &ys),
                  qt_param(g, "yzp", yt, 1, &yzp)};
    int node = nn_node(g, "QLinearMatMul", 8, ins, 1);
    evo_error err = {0};
    evo_status st = nn_infer(g, node, &err);
    evo_node *nd = &g->nodes[node];
    if (st == EVO_OK) {
        nd->a.gemm.requant = q.requant;
        nd->a.gemm.act = q.act;
        nd->a.gemm.act_alpha = q.act_alpha;
        nd->a.gemm.act_beta = q.act_beta;
        nd->a.gemm.act_scale = acts;
        nd->a.gemm.act_zp = q.act_zp;
        st = evo_op_get(nd->op)->infer(g, nd, &err);
    }
    CHECK_MSG(st == EVO_OK, "%s", err.msg);
    int ran = 0;
    char desc[256];
    snprintf(desc, sizeof(desc),
             "QLinearMatMul rank %d M=%lld K=%lld N=%lld a:%s y:%s per_column=%d %s act=%s tasks=%d", ra,
             (long long)m, (long long)k, (long long)n, q.x_signed ? "s8" : "u8", q.y_signed ? "s8" : "u8",
             q.w_per_channel, q.requant == EVO_REQUANT_FIXED ? "fixed" : "float", act_name(q.act), n_tasks);
    void *in_data[8] = {a, &as, &azp, b, bs, bzp, &ys, &yzp};
    if (st == EVO_OK)
        ran = check_variants(g, node, mm_variants, EVO_ARRAY_LEN(mm_variants), mm_takes, &bzp_last, in_data,
                             ny, n_tasks, desc);
    evo_graph_free(g);
    free(a), free(b), free(bzp), free(bs);
    return ran;
}

static void test_matmul(void)
{
    check_rng r = {0x3a7a1};
    int ran = 0;
    for (int it = 0; it < 150; it++) {
        int ra = check_rng_int(&r, 1, 3);
        int64_t m = check_rng_int(&r, 1, 20), k = check_rng_int(&r, 1, 70), n = check_rng_int(&r, 1, 100);
        if (it % 10 == 0)
            k = check_rng_int(&r, 200, 700);
        ran += run_mm_case(&r, ra, m, k, n, 0, check_rng_int(&r, 1, 2));
    }
    CHECK(ran >= 150 || !has_avx2(evo_cpu_get()));
    printf("matmul: %d variant runs\n", ran);
    CHECK(run_mm_case(&r, 2, 5, 16, 16, 3, 1) == 0);
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"refused", test_refused}, {"dw_wide", test_dw_wide},
        {"matmul", test_matmul},   {"random_shapes", test_random_shapes},
        {"large", test_large},     {"dw_kernels", test_dw_kernels},
    };
    return check_run(tests, (int)EVO_ARRAY_LEN(tests), argc, argv);
}
