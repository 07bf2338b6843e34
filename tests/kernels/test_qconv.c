/*
 * test_qconv.c - QLinearConv and ConvInteger against a naive loop written
 * here: random 1-D/2-D/3-D shapes with odd sizes, strides, pads, dilations,
 * groups and depthwise, uint8/int8 data and weights, per-tensor and
 * per-channel weight scales and zero points, FLOAT and FIXED
 * requantization, every fused activation; 1 and 3 tasks; the reference
 * kernel and the one the registry picks on this host must both be exact.
 * Plus hand-computed cases, the requantization helpers, and bad inputs.
 */
#include "qtest_util.h"
#include "kernels/quant_common.h"

typedef struct qc_case {
    int ns;                 /* spatial dims */
    int64_t n, c, m, group; /* c and m divisible by group */
    int64_t in[3], k[3];
    int64_t stride, pad, dil;
    evo_dtype xt, wt, yt;
    bool per_channel, has_bias, integer; /* integer: ConvInteger */
    qt_requant rq;
    int n_tasks;
} qc_case;

typedef struct qc_data {
    void *x, *w, *xzp, *wzp, *yzp;
    float xs, *ws, ys;
    int32_t *bias;
} qc_data;

/* The oracle: acc per output by direct loops, then qt_out. */
static void qc_oracle(const qc_case *tc, const qc_data *d, const int64_t *out, int32_t *want)
{
    int64_t cg = tc->c / tc->group, mg = tc->m / tc->group, in_plane = 1, out_plane = 1, kprod = 1;
    for (int i = 0; i < tc->ns; i++) {
        in_plane *= tc->in[i];
        out_plane *= out[i];
        kprod *= tc->k[i];
    }
    int32_t xzp = d->xzp ? qt_load(d->xzp, tc->xt, 0) : 0;
    for (int64_t b = 0; b < tc->n; b++)
        for (int64_t m = 0; m < tc->m; m++)
            for (int64_t o = 0; o < out_plane; o++) {
                int64_t pos[3], rem = o;
                for (int i = tc->ns - 1; i >= 0; i--) {
                    pos[i] = rem % out[i];
                    rem /= out[i];
                }
                int32_t wzp = d->wzp ? qt_load(d->wzp, tc->wt, tc->per_channel ? m : 0) : 0;
                int64_t acc = d->bias ? d->bias[m] : 0;
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t kk = 0; kk < kprod; kk++) {
                        int64_t kidx[3], kr = kk, xi = 0;
                        bool inside = true;
                        for (int i = tc->ns - 1; i >= 0; i--) {
                            kidx[i] = kr % tc->k[i];
                            kr /= tc->k[i];
                        }
                        for (int i = 0; i < tc->ns; i++) {
                            int64_t p = pos[i] * tc->stride - tc->pad + kidx[i] * tc->dil;
                            inside = inside && p >= 0 && p < tc->in[i];
                            xi = xi * tc->in[i] + p;
                        }
                        if (!inside)
                            continue;
                        int64_t ci = (m / mg) * cg + c;
                        int32_t xv = qt_load(d->x, tc->xt, (b * tc->c + ci) * in_plane + xi) - xzp;
                        int32_t wv = qt_load(d->w, tc->wt, (m * cg + c) * kprod + kk) - wzp;
                        acc += xv * wv;
                    }
                int64_t oi = (b * tc->m + m) * out_plane + o;
                if (tc->integer) {
                    want[oi] = (int32_t)acc;
                    continue;
                }
                int32_t yzp = qt_load(d->yzp, tc->yt, 0);
                want[oi] = qt_out(&tc->rq, (int32_t)acc, d->xs, d->ws[tc->per_channel ? m : 0], d->ys, yzp);
            }
}

static void qc_fill(check_rng *r, const qc_case *tc, qc_data *d, int64_t x_count, int64_t w_count)
{
    int64_t nwp = tc->per_channel ? tc->m : 1;
    d->x = qt_bytes(r, x_count, tc->xt);
    d->w = qt_bytes(r, w_count, tc->wt);
    d->xzp = qt_bytes(r, 1, tc->xt);
    d->wzp = qt_bytes(r, nwp, tc->wt);
    d->yzp = qt_bytes(r, 1, tc->yt);
    d->xs = check_rng_float(r, 0.002f, 0.05f);
    d->ys = check_rng_float(r, 0.05f, 0.5f);
    d->ws = malloc(sizeof(float) * (size_t)nwp);
    for (int64_t i = 0; i < nwp; i++)
        d->ws[i] = check_rng_float(r, 0.001f, 0.02f);
    d->bias = NULL;
    if (tc->has_bias) {
        d->bias = malloc(sizeof(int32_t) * (size_t)tc->m);
        for (int64_t i = 0; i < tc->m; i++)
            d->bias[i] = check_rng_int(r, -20000, 20000);
    }
}

static void qc_free(qc_data *d)
{
    free(d->x), free(d->w), free(d->xzp), free(d->wzp), free(d->yzp), free(d->ws), free(d->bias);
}

/* Builds the node (weights, scales and zero points constant) and returns its id. */
static int qc_build(evo_graph *g, const qc_case *tc, const qc_data *d)
{
    int64_t xd[5] = {tc->n, tc->c}, wd[5] = {tc->m, tc->c / tc->group};
    for (int i = 0; i < tc->ns; i++) {
        xd[2 + i] = tc->in[i];
        wd[2 + i] = tc->k[i];
    }
    int64_t nwp = tc->per_channel ? tc->m : 1, bd[1] = {tc->m};
    int x = qt_value(g, "x", tc->xt, 2 + tc->ns, xd, NULL), w = qt_value(g, "w", tc->wt, 2 + tc->ns, wd, d->w);
    int node;
    if (tc->integer) {
        int ins[4] = {x, w, qt_param(g, "xzp", tc->xt, 1, d->xzp), qt_param(g, "wzp", tc->wt, nwp, d->wzp)};
        node = nn_node(g, "ConvInteger", 4, ins, 1);
    } else {
        int ins[9] = {x,
                      qt_param(g, "xs", EVO_DTYPE_FLOAT, 1, &d->xs),
                      qt_param(g, "xzp", tc->xt, 1, d->xzp),
                      w,
                      qt_param(g, "ws", EVO_DTYPE_FLOAT, nwp, d->ws),
                      qt_param(g, "wzp", tc->wt, nwp, d->wzp),
                      qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &d->ys),
                      qt_param(g, "yzp", tc->yt, 1, d->yzp),
                      tc->has_bias ? qt_value(g, "B", EVO_DTYPE_INT32, 1, bd, d->bias) : -1};
        node = nn_node(g, "QLinearConv", tc->has_bias ? 9 : 8, ins, 1);
    }
    int64_t v[3];
    for (int i = 0; i < tc->ns; i++)
        v[i] = tc->stride;
    nn_attr_ints(g, node, "strides", v, tc->ns);
    for (int i = 0; i < tc->ns; i++)
        v[i] = tc->dil;
    nn_attr_ints(g, node, "dilations", v, tc->ns);
    int64_t pads[6];
    for (int i = 0; i < 2 * tc->ns; i++)
        pads[i] = tc->pad;
    nn_attr_ints(g, node, "pads", pads, 2 * tc->ns);
    nn_attr_int(g, node, "group", tc->group);
    return node;
}

static void qc_run_case(check_rng *r, const qc_case *tc)
{
    char desc[256];
    snprintf(desc, sizeof(desc),
             "%s ns %d n %lld c %lld m %lld g %lld in %lldx%lldx%lld k %lldx%lldx%lld s %lld p %lld d %lld "
             "x %s w %s y %s perch %d bias %d mode %d act %d tasks %d",
             tc->integer ? "ConvInteger" : "QLinearConv", tc->ns, (long long)tc->n, (long long)tc->c,
             (long long)tc->m, (long long)tc->group, (long long)tc->in[0], (long long)tc->in[1],
             (long long)tc->in[2], (long long)tc->k[0], (long long)tc->k[1], (long long)tc->k[2],
             (long long)tc->stride, (long long)tc->pad, (long long)tc->dil, evo_dtype_name(tc->xt),
             evo_dtype_name(tc->wt), evo_dtype_name(tc->yt), tc->per_channel, tc->has_bias, tc->rq.mode, tc->rq.act,
             tc->n_tasks);
    int64_t x_count = tc->n * tc->c, w_count = tc->m * (tc->c / tc->group), out[3], y_count = tc->n * tc->m;
    for (int i = 0; i < tc->ns; i++) {
        x_count *= tc->in[i];
        w_count *= tc->k[i];
        out[i] = (tc->in[i] + 2 * tc->pad - ((tc->k[i] - 1) * tc->dil + 1)) / tc->stride + 1;
        y_count *= out[i];
    }
    qc_data d;
    qc_fill(r, tc, &d, x_count, w_count);
    evo_graph *g = evo_graph_new("test");
    int node = qc_build(g, tc, &d);
    evo_node *n = &g->nodes[node];
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    if (s == EVO_OK && !tc->integer) {
        n->a.conv.requant = tc->rq.mode ? EVO_REQUANT_FIXED : EVO_REQUANT_FLOAT;
        n->a.conv.act = tc->rq.act;
        n->a.conv.act_alpha = tc->rq.alpha;
        n->a.conv.act_beta = tc->rq.beta;
        n->a.conv.act_scale = tc->rq.act_scale;
        n->a.conv.act_zp = tc->rq.act_zp;
        s = evo_op_get(n->op)->infer(g, n, &err);
    }
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    const evo_value *yv = &g->values[n->out[0]];
    CHECK_MSG(s || yv->dtype == (tc->integer ? EVO_DTYPE_INT32 : tc->yt), "%s: output dtype", desc);
    for (int i = 0; s == EVO_OK && i < tc->ns; i++)
        CHECK_MSG(yv->dims[2 + i] == out[i], "%s: dim %d = %lld want %lld", desc, i, (long long)yv->dims[2 + i],
                  (long long)out[i]);
    int32_t *want = malloc(sizeof(int32_t) * (size_t)y_count);
    qc_oracle(tc, &d, out, want);
    size_t y_bytes = (size_t)y_count * (tc->integer ? 4 : 1);
    void *got = malloc(y_bytes);
    const evo_kernel_def *ks[2] = {evo_kernel_ref(n->op), s ? NULL : evo_kernel_select(g, n, EVO_ISA_AMX)};
    for (int v = 0; v < 2 && s == EVO_OK; v++) {
        if (v == 1 && ks[1] == ks[0])
            break;
        memset(got, 0xa5, y_bytes);
        void *ins[9] = {d.x, &d.xs, d.xzp, d.w, d.ws, d.wzp, &d.ys, d.yzp, d.bias};
        void *ins_int[4] = {d.x, d.w, d.xzp, d.wzp};
        void *outs[1] = {got};
        nn_run_kernel(ks[v], g, node, tc->integer ? ins_int : ins, outs, tc->n_tasks);
        int bad = 0;
        for (int64_t i = 0; i < y_count; i++) {
            int32_t gv = tc->integer ? ((int32_t *)got)[i] : qt_load(got, tc->yt, i);
            if (gv != want[i] && bad++ < 3)
                fprintf(stderr, "%s: %s: element %lld = %d, want %d\n", desc, ks[v]->name, (long long)i, gv,
                        want[i]);
        }
        CHECK_MSG(bad == 0, "%s: kernel %s: %d mismatches", desc, ks[v]->name, bad);
    }
    free(want);
    free(got);
    qc_free(&d);
    evo_graph_free(g);
}

static evo_dtype rand_byte_type(check_rng *r)
{
    return check_rng_int(r, 0, 1) ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
}

static void test_qconv_random(void)
{
    check_rng r = {0x5eed1234u};
    static const evo_act acts[] = {EVO_ACT_NONE,    EVO_ACT_RELU,         EVO_ACT_CLIP,       EVO_ACT_LEAKY_RELU,
                                   EVO_ACT_SIGMOID, EVO_ACT_SILU,         EVO_ACT_HARD_SIGMOID, EVO_ACT_HARD_SWISH,
                                   EVO_ACT_TANH};
    for (int it = 0; it < 120; it++) {
        qc_case tc;
        memset(&tc, 0, sizeof(tc));
        tc.ns = it % 10 == 0 ? 1 : it % 10 == 1 ? 3 : 2;
        int form = check_rng_int(&r, 0, 2); /* 0 plain, 1 grouped, 2 depthwise */
        tc.group = form == 0 ? 1 : form == 1 ? check_rng_int(&r, 2, 3) : check_rng_int(&r, 1, 7);
        tc.c = tc.group * (form == 2 ? 1 : check_rng_int(&r, 1, 5));
        tc.m = tc.group * (form == 2 ? check_rng_int(&r, 1, 2) : check_rng_int(&r, 1, 5));
        tc.n = check_rng_int(&r, 1, 2);
        tc.stride = check_rng_int(&r, 1, 3);
        tc.dil = check_rng_int(&r, 1, 2);
        for (int i = 0; i < tc.ns; i++) {
            tc.k[i] = check_rng_int(&r, 1, tc.ns == 3 ? 2 : 3);
            tc.in[i] = check_rng_int(&r, tc.ns == 3 ? 2 : 3, tc.ns == 3 ? 5 : 11);
        }
        tc.pad = check_rng_int(&r, 0, 2);
        bool fits = true;
        for (int i = 0; i < tc.ns; i++)
            fits = fits && tc.in[i] + 2 * tc.pad >= (tc.k[i] - 1) * tc.dil + 1;
        if (!fits)
            tc.pad = 2, tc.dil = 1;
        for (int i = tc.ns; i < 3; i++)
            tc.in[i] = tc.k[i] = 1;
        tc.xt = rand_byte_type(&r);
        tc.wt = rand_byte_type(&r);
        tc.yt = rand_byte_type(&r);
        tc.per_channel = check_rng_int(&r, 0, 1);
        tc.has_bias = check_rng_int(&r, 0, 1);
        tc.integer = it % 6 == 5;
        tc.has_bias = tc.has_bias && !tc.integer;
        tc.rq.mode = check_rng_int(&r, 0, 1);
        tc.rq.act = acts[it % 9];
        tc.rq.alpha = tc.rq.act == EVO_ACT_CLIP ? -1.0f : tc.rq.act == EVO_ACT_HARD_SIGMOID ? 0.2f : 0.1f;
        tc.rq.beta = tc.rq.act == EVO_ACT_CLIP ? 6.0f : 0.5f;
        tc.rq.act_scale = check_rng_float(&r, 0.02f, 0.2f);
        tc.rq.act_zp = tc.yt == EVO_DTYPE_INT8 ? check_rng_int(&r, -20, 20) : check_rng_int(&r, 100, 150);
        tc.rq.yt = tc.yt;
        tc.n_tasks = it % 2 ? 3 : 1;
        qc_run_case(&r, &tc);
    }
}

/* One 3x3 uint8 image, a 2x2 kernel, per-tensor: every number checked by hand. */
static void test_qconv_hand(void)
{
    evo_graph *g = evo_graph_new("test");
    uint8_t xb[9] = {10, 20, 30, 40, 50, 60, 70, 80, 90}, wb[4] = {1, 2, 3, 4}, xzp = 10, wzp = 0, yzp = 5;
    int32_t bias[1] = {100};
    float xs = 0.5f, ws = 0.25f, ys = 2.0f;
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, bd[1] = {1};
    int ins[9] = {qt_value(g, "x", EVO_DTYPE_UINT8, 4, xd, NULL),
                  qt_param(g, "xs", EVO_DTYPE_FLOAT, 1, &xs),
                  qt_param(g, "xzp", EVO_DTYPE_UINT8, 1, &xzp),
                  qt_value(g, "w", EVO_DTYPE_UINT8, 4, wd, wb),
                  qt_param(g, "ws", EVO_DTYPE_FLOAT, 1, &ws),
                  qt_param(g, "wzp", EVO_DTYPE_UINT8, 1, &wzp),
                  qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &ys),
                  qt_param(g, "yzp", EVO_DTYPE_UINT8, 1, &yzp),
                  qt_value(g, "B", EVO_DTYPE_INT32, 1, bd, bias)};
    int node = nn_node(g, "QLinearConv", 9, ins, 1);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    /*
     * x - 10 = [0 10 20; 30 40 50; 60 70 80]. acc(0,0) = 0*1 + 10*2 + 30*3 + 40*4 + 100 = 370;
     * (0,1) = 10 + 40 + 120 + 200 + 100 = 470; (1,0) = 30 + 80 + 180 + 280 + 100 = 670;
     * (1,1) = 40 + 100 + 210 + 320 + 100 = 770. m = 0.5 * 0.25 / 2 = 0.0625:
     * 23.125 -> 23, 29.375 -> 29, 41.875 -> 42, 48.125 -> 48; + 5.
     */
    uint8_t y[4] = {0}, want[4] = {28, 34, 47, 53};
    void *in_data[9] = {xb, &xs, &xzp, wb, &ws, &wzp, &ys, &yzp, bias}, *out_data[1] = {y};
    nn_run(g, node, in_data, out_data, 1);
    for (int i = 0; i < 4; i++)
        CHECK_MSG(y[i] == want[i], "y[%d] = %d, want %d", i, y[i], want[i]);
    /* Fused ReLU with y_zp 5: nothing below 5 here; Clip(0, 60): hi = 5 + round(60 / 2) = 35. */
    g->nodes[node].a.conv.act = EVO_ACT_CLIP;
    g->nodes[node].a.conv.act_alpha = 0.0f;
    g->nodes[node].a.conv.act_beta = 60.0f;
    nn_run(g, node, in_data, out_data, 2);
    uint8_t want_clip[4] = {28, 34, 35, 35};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(y[i] == want_clip[i], "clip y[%d] = %d, want %d", i, y[i], want_clip[i]);
    evo_graph_free(g);
}

/* Ties round to even in FLOAT mode; FIXED mode rounds them away from zero (gemmlowp). */
static void test_requant_helpers(void)
{
    CHECK(evo_requant_float(5, 0.5f, 0, 0, 255) == 2);  /* 2.5 -> 2 */
    CHECK(evo_requant_float(7, 0.5f, 0, 0, 255) == 4);  /* 3.5 -> 4 */
    CHECK(evo_requant_float(-5, 0.5f, 0, -128, 127) == -2);
    CHECK(evo_requant_float(1000, 1.0f, 10, 0, 255) == 255);
    int32_t q;
    int shift;
    evo_quant_multiplier(0.5, &q, &shift);
    CHECK(q == 1073741824 && shift == 0);
    evo_quant_multiplier(0.75, &q, &shift);
    CHECK(q == 1610612736 && shift == 0);
    evo_quant_multiplier(3.0, &q, &shift);
    CHECK(q == 1610612736 && shift == 2);
    evo_quant_multiplier(1e-12, &q, &shift);
    CHECK(q == 0 && shift == 0);
    evo_quant_multiplier(0.0625, &q, &shift); /* 2^-4: q = 2^30, shift -3 */
    CHECK(q == 1073741824 && shift == -3);
    CHECK(evo_requant_fixed(5, 1073741824, 0) == 3);   /* 2.5 -> 3 */
    CHECK(evo_requant_fixed(-5, 1073741824, 0) == -2); /* -2.5: high mul ties up: -2 */
    CHECK(evo_requant_fixed(12, 1073741824, -3) == 1); /* 0.75 -> 1 */
    CHECK(evo_requant_fixed(-12, 1073741824, -3) == -1);
    CHECK(evo_requant_fixed(4, 1073741824, -3) == 0);   /* 0.25 -> 0 */
    CHECK(evo_requant_fixed(-8, 1073741824, -3) == -1); /* -0.5 -> -1 (away) */
    CHECK(evo_requant_fixed(100, 1610612736, 2) == 300);
    /* Random multipliers and accumulators against the oracle in qtest_util.h. */
    check_rng r = {77};
    for (int i = 0; i < 20000; i++) {
        double real = exp(check_rng_float(&r, -14.0f, 1.5f));
        int32_t acc = (int32_t)(check_rng_u64(&r) % 2000001) - 1000000;
        int32_t q2;
        int s2;
        evo_quant_multiplier(real, &q, &shift);
        qt_multiplier(real, &q2, &s2);
        CHECK_MSG(q == q2 && shift == s2, "multiplier of %.17g: %d,%d want %d,%d", real, q, shift, q2, s2);
        int64_t want = qt_fixed(acc, q2, s2);
        CHECK_MSG(evo_requant_fixed(acc, q, shift) == want, "acc %d real %.17g", acc, real);
        // two roundings: within one unit of the exact product
        CHECK_MSG(fabs((double)want - acc * real) <= 1.0, "acc %d real %g", acc, real);
    }
    /* Activation ranges: ReLU at zp 5 is [5, 255]; int8 Clip(-1, 1) at scale 0.1, zp -3 is [-13, 7]. */
    int32_t lo, hi;
    evo_quant_act_range(EVO_ACT_RELU, 0, 0, 0.1f, 5, EVO_DTYPE_UINT8, &lo, &hi);
    CHECK(lo == 5 && hi == 255);
    evo_quant_act_range(EVO_ACT_CLIP, -1.0f, 1.0f, 0.1f, -3, EVO_DTYPE_INT8, &lo, &hi);
    CHECK(lo == -13 && hi == 7);
    evo_quant_act_range(EVO_ACT_CLIP, -INFINITY, INFINITY, 0.1f, -3, EVO_DTYPE_INT8, &lo, &hi);
    CHECK(lo == -128 && hi == 127);
    /* Sigmoid table, uint8: T[act_zp] = nearbyint(0.5 / y_scale) + y_zp. */
    uint8_t table[256];
    evo_quant_act_table(EVO_ACT_TABLE_FLOAT, EVO_ACT_SIGMOID, 0, 0, 0.1f, 128, 1.0f / 256, 0, EVO_DTYPE_UINT8, table);
    CHECK(table[128] == 128);
    CHECK(table[0] == 0 && table[255] == 255); /* sigmoid(12.7) * 256 = 255.99 clamps */
}

static evo_status qc_infer_bad(int which, evo_error *err)
{
    evo_graph *g = evo_graph_new("test");
    uint8_t u = 0;
    int8_t i8 = 0;
    float f = 0.1f, f3[3] = {0.1f, 0.1f, 0.1f};
    int32_t b[4] = {0};
    int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {4, 2, 3, 3}, bd[1] = {which == 3 ? 3 : 4};
    int ins[9] = {qt_value(g, "x", EVO_DTYPE_UINT8, 4, xd, NULL),
                  qt_param(g, "xs", EVO_DTYPE_FLOAT, 1, &f),
                  which == 1 ? qt_param(g, "xzp", EVO_DTYPE_INT8, 1, &i8) : qt_param(g, "xzp", EVO_DTYPE_UINT8, 1, &u),
                  qt_value(g, "w", EVO_DTYPE_INT8, 4, wd, NULL),
                  which == 0 ? qt_param(g, "ws", EVO_DTYPE_FLOAT, 3, f3) : qt_param(g, "ws", EVO_DTYPE_FLOAT, 1, &f),
                  qt_param(g, "wzp", EVO_DTYPE_INT8, 1, &i8),
                  qt_param(g, "ys", EVO_DTYPE_FLOAT, 1, &f),
                  which == 2 ? qt_param(g, "yzp", EVO_DTYPE_FLOAT, 1, &f) : qt_param(g, "yzp", EVO_DTYPE_UINT8, 1, &u),
                  qt_value(g, "B", which == 4 ? EVO_DTYPE_FLOAT : EVO_DTYPE_INT32, 1, bd, b)};
    int node = nn_node(g, "QLinearConv", 9, ins, 1);
    evo_status s = nn_infer(g, node, err);
    evo_graph_free(g);
    return s;
}

static void test_qconv_bad_inputs(void)
{
    static const char *const want[] = {"w_scale", "x_zero_point", "y_zero_point", "B", "B"};
    for (int which = 0; which < 5; which++) {
        evo_error err = {0};
        evo_status s = qc_infer_bad(which, &err);
        CHECK_MSG(s != EVO_OK, "case %d accepted", which);
        CHECK_MSG(nn_names_node(&err) && strstr(err.msg, want[which]), "case %d: %s", which, err.msg);
    }
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"requant_helpers", test_requant_helpers},
        {"qconv_hand", test_qconv_hand},
        {"qconv_random", test_qconv_random},
        {"qconv_bad_inputs", test_qconv_bad_inputs},
    };
    return check_run(tests, (int)(sizeof(tests) / sizeof(tests[0])), argc, argv);
}
