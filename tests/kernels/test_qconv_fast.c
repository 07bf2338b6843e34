/*
 * test_qconv_fast.c - every SIMD int8 Conv variant the host supports,
 * bit-exact against a plain loop over docs/int8.md's arithmetic: random
 * 2-D shapes with odd channel counts and sizes, 1x1 to 5x5, strides 1-2,
 * pads, dilation, grouped and depthwise, batch 2, per-tensor and
 * per-channel weight scales, uint8 and int8 activations and outputs, both
 * requantization modes, every fused activation, 1-2 tasks.
 */
#include "check.h"
#include "core/cpu.h"
#include "core/core.h"
#include "kernels/qconv_fast.h"

#include <math.h>
#include <stdlib.h>

typedef struct qcase {
    evo_qconv_shape s;
    evo_qconv_consts q;
    int n_tasks;
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
             (long long)s->batch, (long long)s->c_in, (long long)s->c_out, (long long)s->group, (long long)s->ih,
             (long long)s->iw, (long long)s->kh, (long long)s->kw, (long long)s->sh, (long long)s->sw,
             (long long)s->dh, (long long)s->dw, (long long)s->ph, (long long)s->pw, q->x_signed ? "s8" : "u8",
             q->x_zp, q->y_signed ? "s8" : "u8", q->y_zp, q->w_per_channel, q->bias != NULL,
             q->requant == EVO_QK_REQUANT_FIXED ? "fixed" : "float", act_name(q->act), tc->n_tasks);
}

/* f of the table activations, as docs/int8.md defines them */
static double act_f(const evo_qconv_consts *q, double v)
{
    switch (q->act) {
    case EVO_ACT_LEAKY_RELU: return v < 0 ? q->act_alpha * v : v;
    case EVO_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case EVO_ACT_SILU: return v / (1.0 + exp(-v));
    case EVO_ACT_HARD_SIGMOID: return fmax(0.0, fmin(1.0, q->act_alpha * v + q->act_beta));
    case EVO_ACT_HARD_SWISH: return v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5));
    case EVO_ACT_TANH: return tanh(v);
    default: return v;
    }
}

/* The output byte of accumulator acc (bias included) of channel c. */
static int32_t out_of(const evo_qconv_consts *q, int64_t c, int32_t acc)
{
    int32_t qmin = q->y_signed ? -128 : 0, qmax = q->y_signed ? 127 : 255, lo = qmin, hi = qmax;
    bool table = q->act != EVO_ACT_NONE && q->act != EVO_ACT_RELU && q->act != EVO_ACT_CLIP;
    float target = table ? q->act_scale : q->y_scale;
    int32_t zp = table ? q->act_zp : q->y_zp;
    float ws = q->w_scale[q->w_per_channel ? c : 0];
    if (q->act == EVO_ACT_RELU)
        lo = EVO_MAX(qmin, q->y_zp);
    if (q->act == EVO_ACT_CLIP) {
        lo = EVO_MAX(qmin, q->y_zp + (int32_t)roundf(q->act_alpha / q->y_scale));
        hi = EVO_MIN(qmax, q->y_zp + (int32_t)roundf(q->act_beta / q->y_scale));
    }
    int64_t v;
    if (q->requant == EVO_QK_REQUANT_FLOAT) {
        float m = (q->x_scale * ws) / target;
        v = (int64_t)nearbyintf((float)acc * m) + zp;
    } else {
        int32_t qm, sh;
        evo_qk_quantize_multiplier((double)q->x_scale * ws / target, &qm, &sh);
        v = (int64_t)evo_qk_requant_fixed(acc, qm, sh) + zp;
    }
    v = v < lo ? lo : v > hi ? hi : v;
    if (table) {
        double r = nearbyint(act_f(q, q->act_scale * (double)(v - q->act_zp)) / q->y_scale) + q->y_zp;
        v = (int64_t)fmin(fmax(r, qmin), qmax);
    }
    return (int32_t)v;
}

static int32_t byte_val(const uint8_t *p, bool is_signed)
{
    return is_signed ? (int32_t)(int8_t)*p : (int32_t)*p;
}

/* The plain loop: acc = sum (x - x_zp) * w + bias, requantized. */
static void naive(const qcase *tc, const uint8_t *x, uint8_t *y)
{
    const evo_qconv_shape *s = &tc->s;
    const evo_qconv_consts *q = &tc->q;
    int64_t cin_g = s->c_in / s->group, m_g = s->c_out / s->group;
    for (int64_t b = 0; b < s->batch; b++)
        for (int64_t c = 0; c < s->c_out; c++)
            for (int64_t oh = 0; oh < s->oh; oh++)
                for (int64_t ow = 0; ow < s->ow; ow++) {
                    int64_t acc = q->bias ? q->bias[c] : 0;
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t ky = 0; ky < s->kh; ky++)
                            for (int64_t kx = 0; kx < s->kw; kx++) {
                                int64_t ih = oh * s->sh - s->ph + ky * s->dh, iw = ow * s->sw - s->pw + kx * s->dw;
                                if (ih < 0 || ih >= s->ih || iw < 0 || iw >= s->iw)
                                    continue;
                                int64_t cx = c / m_g * cin_g + ci;
                                int32_t xv = byte_val(x + ((b * s->c_in + cx) * s->ih + ih) * s->iw + iw, q->x_signed);
                                int32_t wv = q->w[((c * cin_g + ci) * s->kh + ky) * s->kw + kx];
                                acc += (int64_t)(xv - q->x_zp) * wv;
                            }
                    int32_t v = out_of(q, c, (int32_t)acc);
                    y[((b * s->c_out + c) * s->oh + oh) * s->ow + ow] = (uint8_t)v;
                }
}

typedef enum vkind { V_GEMM, V_DW } vkind;

typedef struct qvariant {
    const char *name;
    vkind kind;
    bool (*host_ok)(const evo_cpu_info *c);
    int mr, nr;
    evo_qk_wlayout layout;
    void (*gemm)(const evo_qconv_plan *, const void *, const void *, void *, void *, int, int);
    void (*dw)(const evo_qconv_shape *, const void *, const void *, void *, int, int);
} qvariant;

static bool has_vnni(const evo_cpu_info *c)
{
    return c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq && c->avx512vnni;
}
static bool has_avx512(const evo_cpu_info *c)
{
    return c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq;
}
static bool has_avx2(const evo_cpu_info *c)
{
    return c->avx2 && c->fma;
}

static const qvariant qvariants[] = {
    {"qconv_vnni", V_GEMM, has_vnni, EVO_QCONV_VNNI_MR, EVO_QCONV_VNNI_NR, EVO_QK_W_DPBUSD, evo_qconv_gemm_vnni, NULL},
    {"qconv_avx2", V_GEMM, has_avx2, EVO_QCONV_AVX2_MR, EVO_QCONV_AVX2_NR, EVO_QK_W_MADD, evo_qconv_gemm_avx2, NULL},
    {"qconv_dw_avx512", V_DW, has_avx512, 1, 0, EVO_QK_W_DW, NULL, evo_qconv_dw_avx512},
    {"qconv_dw_avx2", V_DW, has_avx2, 1, 0, EVO_QK_W_DW, NULL, evo_qconv_dw_avx2},
};

static bool is_dw(const qcase *tc)
{
    return tc->s.group == tc->s.c_in && tc->s.group == tc->s.c_out;
}

static void run_variant(const qvariant *v, const qcase *tc, const uint8_t *x, uint8_t *y)
{
    size_t pb = evo_qconv_packed_bytes(&tc->s, v->mr, v->layout);
    void *packed = evo_aligned_alloc(pb);
    evo_qconv_pack(&tc->s, &tc->q, v->mr, v->layout, packed);
    if (v->kind == V_GEMM) {
        evo_qconv_plan p;
        evo_qconv_plan_make(&p, &tc->s, v->mr, v->nr, tc->n_tasks);
        void *scratch = evo_aligned_alloc(p.slice_bytes * (size_t)tc->n_tasks);
        for (int t = tc->n_tasks - 1; t >= 0; t--)
            v->gemm(&p, packed, x, y, scratch, t, tc->n_tasks);
        evo_aligned_free(scratch);
    } else {
        for (int t = tc->n_tasks - 1; t >= 0; t--)
            v->dw(&tc->s, packed, x, y, t, tc->n_tasks);
    }
    evo_aligned_free(packed);
}

/* Runs every variant the host has that takes tc against the plain loop; returns the variants run. */
static int run_case(check_rng *r, qcase *tc)
{
    evo_qconv_shape *s = &tc->s;
    evo_qconv_consts *q = &tc->q;
    s->oh = (s->ih + 2 * s->ph - (s->kh - 1) * s->dh - 1) / s->sh + 1;
    s->ow = (s->iw + 2 * s->pw - (s->kw - 1) * s->dw - 1) / s->sw + 1;
    int64_t nx = s->batch * s->c_in * s->ih * s->iw, ny = s->batch * s->c_out * s->oh * s->ow;
    int64_t nw = s->c_out * (s->c_in / s->group) * s->kh * s->kw;
    uint8_t *x = malloc((size_t)nx), *want = malloc((size_t)ny), *got = malloc((size_t)ny);
    int8_t *w = malloc((size_t)nw);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)s->c_out);
    float *ws = malloc(sizeof(float) * (size_t)s->c_out);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (uint8_t)check_rng_int(r, 0, 255);
    for (int64_t i = 0; i < nw; i++)
        w[i] = (int8_t)check_rng_int(r, -127, 127);
    for (int64_t i = 0; i < s->c_out; i++) {
        bias[i] = check_rng_int(r, -20000, 20000);
        ws[i] = check_rng_float(r, 0.002f, 0.02f);
    }
    q->w = w;
    q->w_scale = ws;
    if (check_rng_int(r, 0, 3) > 0)
        q->bias = bias;
    /* the output scale makes the accumulators span about the output range */
    double k = (double)(s->c_in / s->group * s->kh * s->kw);
    q->x_scale = check_rng_float(r, 0.01f, 0.05f);
    q->y_scale = (float)(q->x_scale * 0.01 * 128.0 * 60.0 * sqrt(k) / 100.0);
    q->act_scale = q->y_scale * check_rng_float(r, 0.5f, 1.5f);
    char desc[512];
    describe(tc, desc, sizeof(desc));
    naive(tc, x, want);
    int ran = 0;
    const evo_cpu_info *cpu = evo_cpu_get();
    for (size_t v = 0; v < EVO_ARRAY_LEN(qvariants); v++) {
        const qvariant *qv = &qvariants[v];
        if (!qv->host_ok(cpu) || (qv->kind == V_DW && (!is_dw(tc) || s->sw > 2)))
            continue;
        memset(got, 0xA5, (size_t)ny);
        run_variant(qv, tc, x, got);
        int bad = 0;
        for (int64_t i = 0; i < ny && bad < 3; i++)
            if (got[i] != want[i]) {
                fprintf(stderr, "%s: %s: y[%lld] = %d, want %d\n", qv->name, desc, (long long)i, got[i], want[i]);
                bad++;
            }
        CHECK_MSG(bad == 0, "%s: %s", qv->name, desc);
        ran++;
    }
    free(x);
    free(want);
    free(got);
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
    q->requant = check_rng_int(r, 0, 1) ? EVO_QK_REQUANT_FIXED : EVO_QK_REQUANT_FLOAT;
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
        if (s->ih + 2 * s->ph < (s->kh - 1) * s->dh + 1)
            s->ih = (s->kh - 1) * s->dh + 1;
        if (s->iw + 2 * s->pw < (s->kw - 1) * s->dw + 1)
            s->iw = (s->kw - 1) * s->dw + 1;
        ran += run_case(&r, &tc);
    }
    printf("random_shapes: %d variant runs\n", ran);
    CHECK(ran > 100 || !has_avx2(evo_cpu_get()));
}

/* Big K and many channels: the K loop over thousands of steps, several channel panels and column chunks. */
static void test_large(void)
{
    check_rng r = {0x5eed1};
    static const int64_t shapes[][6] = {/* c_in, c_out, h, w, k, stride */
                                        {64, 64, 20, 20, 1, 1}, {96, 40, 13, 17, 3, 1},  {300, 17, 9, 9, 3, 2},
                                        {33, 130, 31, 29, 3, 2}, {512, 24, 6, 5, 3, 1}, {16, 24, 80, 80, 3, 1}};
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

/* The fixed-point helpers on hand-computed values. */
static void test_fixed_point(void)
{
    int32_t q, s;
    evo_qk_quantize_multiplier(0.5, &q, &s);
    CHECK(q == 1073741824 && s == 0);
    evo_qk_quantize_multiplier(0.75, &q, &s);
    CHECK(q == 1610612736 && s == 0);
    evo_qk_quantize_multiplier(0.125, &q, &s);
    CHECK(q == 1073741824 && s == -2);
    evo_qk_quantize_multiplier(3.0, &q, &s);
    CHECK(q == 1610612736 && s == 2);
    evo_qk_quantize_multiplier(1e-12, &q, &s);
    CHECK(q == 0 && s == 0);
    evo_qk_quantize_multiplier(0.125, &q, &s);
    CHECK(evo_qk_requant_fixed(100, q, s) == 13); /* 12.5 rounds away from zero */
    CHECK(evo_qk_requant_fixed(-100, q, s) == -13);
    CHECK(evo_qk_requant_fixed(99, q, s) == 13); /* 49.5 -> 50, then 12.5 -> 13: gemmlowp rounds twice */
    CHECK(evo_qk_requant_fixed(97, q, s) == 12);
    evo_qk_quantize_multiplier(3.0, &q, &s);
    CHECK(evo_qk_requant_fixed(-7, q, s) == -21);
    CHECK(evo_qk_requant_float(5, 0.5f, -128, 127) == 2); /* 2.5 to even */
    CHECK(evo_qk_requant_float(7, 0.5f, -128, 127) == 4);
    CHECK(evo_qk_requant_float(100000, 0.5f, -128, 127) == 127);
}

int main(int argc, char **argv)
{
    static const check_test tests[] = {
        {"fixed_point", test_fixed_point},
        {"random_shapes", test_random_shapes},
        {"large", test_large},
    };
    return check_run(tests, (int)EVO_ARRAY_LEN(tests), argc, argv);
}
