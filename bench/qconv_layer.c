/*
 * qconv_layer.c - times one int8 Conv layer per fast int8 variant the host
 * has, on one thread, for tuning (not part of the tests):
 *
 *     build/evo_qconv_layer C_IN C_OUT H W K STRIDE [--dw] [--runs R] [--s8] [--fixed] [--act A] [--only
 * NAME]
 *
 * Conv(K x K, stride, "same" padding) with per-channel weight scales,
 * uint8 activations (int8 with --s8), FLOAT requantization (FIXED with
 * --fixed) and an optional fused activation (relu, silu); prints the
 * median time and GOP/s (2 ops per multiply-add), and the best time: on
 * a busy machine the median includes time slices of other processes
 * (perf stat's task-clock then stays near best x runs), the best does not. Compare with
 * build/evo_conv_layer on the same arguments for the fp32 conv.
 */
#include "core/core.h"
#include "core/cpu.h"
#include "kernels/qconv_fast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct variant {
    const char *name;
    evo_isa isa;
    bool dw;
    int mr, nr;
    evo_qk_wlayout layout;
    void (*gemm)(const evo_qconv_plan *, const void *, const void *, void *, void *, int, int);
    void (*dwk)(const evo_qconv_shape *, const void *, const void *, void *, int, int);
    void (*direct)(const evo_qconv_shape *, const void *, const void *, void *, void *, int, int);
} variant;

static const variant variants[] = {
    {"qconv_direct_vnni", EVO_ISA_VNNI, false, EVO_QCONV_VNNI_MR, 0, EVO_QK_W_DIRECT, NULL, NULL,
     evo_qconv_direct_vnni},
    {"qconv_vnni", EVO_ISA_VNNI, false, EVO_QCONV_VNNI_MR, EVO_QCONV_VNNI_NR, EVO_QK_W_DPBUSD,
     evo_qconv_gemm_vnni, NULL},
    {"qconv_avxvnni", EVO_ISA_AVX2, false, EVO_QCONV_AVXVNNI_MR, EVO_QCONV_AVXVNNI_NR, EVO_QK_W_DPBUSD,
     evo_qconv_gemm_avxvnni, NULL},
    {"qconv_avx2", EVO_ISA_AVX2, false, EVO_QCONV_AVX2_MR, EVO_QCONV_AVX2_NR, EVO_QK_W_MADD,
     evo_qconv_gemm_avx2, NULL},
    {"qconv_dw_vnni", EVO_ISA_VNNI, true, 1, 0, EVO_QK_W_DW4, NULL, evo_qconv_dw_vnni},
    {"qconv_dw_avx512", EVO_ISA_AVX512, true, 1, 0, EVO_QK_W_DW, NULL, evo_qconv_dw_avx512},
    {"qconv_dw_avx2", EVO_ISA_AVX2, true, 1, 0, EVO_QK_W_DW, NULL, evo_qconv_dw_avx2},
};

/* The median time of runs runs; *best gets the fastest (steadier on a busy machine). */
static double time_variant(const variant *v, const evo_qconv_shape *s, const evo_qconv_consts *q,
                           const uint8_t *x, uint8_t *y, int runs, double *best)
{
    void *packed = evo_aligned_alloc(evo_qconv_packed_bytes(s, v->mr, v->layout));
    evo_qconv_pack(s, q, v->mr, v->layout, packed);
    evo_qconv_plan p;
    evo_qconv_plan_make(&p, s, v->mr, v->nr ? v->nr : 16, 1);
    void *scratch = v->dw ? NULL : evo_aligned_alloc(v->direct ? evo_qconv_direct_scratch(s, 1) : p.slice_bytes);
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int r = -3; r < runs; r++) {
        double t0 = now_ms();
        if (v->direct)
            v->direct(s, packed, x, y, scratch, 0, 1);
        else if (v->dw)
            v->dwk(s, packed, x, y, 0, 1);
        else
            v->gemm(&p, packed, x, y, scratch, 0, 1);
        if (r >= 0)
            t[r] = now_ms() - t0;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    double med = t[runs / 2];
    *best = t[0];
    free(t);
    evo_aligned_free(scratch);
    evo_aligned_free(packed);
    return med;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr,
                "usage: %s C_IN C_OUT H W K STRIDE [--dw] [--runs R] [--s8] [--fixed] [--act relu|silu] "
                "[--only VARIANT]\n",
                argv[0]);
        return 2;
    }
    evo_qconv_shape s = {1, atoll(argv[1]), atoll(argv[2]), 1, atoll(argv[3]), atoll(argv[4])};
    int64_t k = atoll(argv[5]), st = atoll(argv[6]);
    int runs = 50;
    const char *only = NULL;
    evo_qconv_consts q = {0};
    for (int i = 7; i < argc; i++) {
        if (!strcmp(argv[i], "--dw"))
            s.group = s.c_in;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--s8"))
            q.x_signed = q.y_signed = true;
        else if (!strcmp(argv[i], "--fixed"))
            q.requant = EVO_REQUANT_FIXED;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--act") && i + 1 < argc)
            q.act = !strcmp(argv[++i], "relu") ? EVO_ACT_RELU : EVO_ACT_SILU;
    }
    if (s.c_in < 1 || s.c_out < 1 || s.ih < 1 || s.iw < 1 || k < 1 || st < 1 || runs < 1 || runs > 100000 ||
        (s.group > 1 && s.c_in != s.c_out)) {
        fprintf(stderr, "qconv_layer: sizes must be positive (and C_IN = C_OUT with --dw)\n");
        return 2;
    }
    s.kh = s.kw = k, s.sh = s.sw = st, s.dh = s.dw = 1, s.ph = s.pw = (k - 1) / 2;
    s.oh = (s.ih - 1) / st + 1; /* pads (k - 1) / 2 and k / 2 */
    s.ow = (s.iw - 1) / st + 1;
    int64_t nw = s.c_out * (s.c_in / s.group) * k * k, nx = s.c_in * s.ih * s.iw, ny = s.c_out * s.oh * s.ow;
    int8_t *w = malloc((size_t)nw);
    float *ws = malloc(sizeof(float) * (size_t)s.c_out);
    uint8_t *x = evo_aligned_alloc((size_t)nx), *y = evo_aligned_alloc((size_t)ny);
    for (int64_t i = 0; i < nw; i++)
        w[i] = (int8_t)((i * 7919) % 255 - 127);
    for (int64_t i = 0; i < s.c_out; i++)
        ws[i] = 0.001f * (float)(1 + i % 7);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (uint8_t)((i * 104729) % 251);
    q.w = w, q.w_scale = ws, q.w_per_channel = true;
    q.x_scale = 0.02f, q.y_scale = 0.5f, q.act_scale = 0.4f, q.x_zp = 3, q.y_zp = 5, q.act_zp = 7;
    double gop = 2.0 * (double)nw * (double)(s.oh * s.ow) * 1e-9;
    evo_isa cpu = evo_cpu_best_isa();
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        const variant *v = &variants[i];
        if (v->isa > cpu || v->dw != (s.group > 1) || (v->dw && st > 2) || (only && strcmp(only, v->name)) ||
            (v->gemm == evo_qconv_gemm_avxvnni && !evo_cpu_get()->avx_vnni) ||
            (v->direct && (!evo_cpu_get()->avx512vbmi || !evo_qconv_direct_shape_ok(&s))) ||
            (v->dwk == evo_qconv_dw_vnni && (!evo_cpu_get()->avx512vbmi || !evo_qconv_dw_vnni_shape_ok(&s))))
            continue;
        double best, ms = time_variant(v, &s, &q, x, y, runs, &best);
        printf(
            "qconv %lldx%lld %lld->%lld s%lld%s out %lldx%lld  %-16s %8.3f ms  %7.1f GOP/s  (best %.3f ms)\n",
            (long long)k, (long long)k, (long long)s.c_in, (long long)s.c_out, (long long)st,
            s.group > 1 ? " dw" : "", (long long)s.oh, (long long)s.ow, v->name, ms, gop / ms * 1e3, best);
    }
    free(w);
    free(ws);
    evo_aligned_free(x);
    evo_aligned_free(y);
    return 0;
}
