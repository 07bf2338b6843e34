/*
 * test_quant_hist.c - calibration statistics and range methods on
 * synthetic data with known answers: exact min/max, exact growth of the
 * histogram, percentile within one bin, KL and MSE thresholds of a
 * Gaussian with an outlier where the theory puts them, and qparams of
 * degenerate ranges (finite, positive scales).
 */
#include "check.h"
#include "quant/hist.h"
#include "quant/qparams.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hist_total(const evo_hist *h)
{
    uint64_t t = 0;
    for (int i = 0; i < EVO_HIST_BINS; i++)
        t += h->count[i];
    return t;
}

/* Standard normal samples by Box-Muller from the seeded generator. */
static void gaussian(check_rng *r, float *x, int n)
{
    for (int i = 0; i < n; i += 2) {
        double u1 = (check_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
        double u2 = (check_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
        double rad = sqrt(-2 * log(u1));
        x[i] = (float)(rad * cos(6.283185307179586 * u2));
        if (i + 1 < n)
            x[i + 1] = (float)(rad * sin(6.283185307179586 * u2));
    }
}

static void test_minmax_and_growth(void)
{
    evo_hist h;
    evo_hist_init(&h);
    float a[] = {0.25f, -0.5f, 0.0f, 1.0f};
    evo_hist_add(&h, a, 4);
    double r0 = h.r;
    float b[] = {-3.0f, 5.0f, NAN, INFINITY};
    evo_hist_add(&h, b, 4);
    CHECK(h.r >= 5.0 && h.r > r0);
    CHECK(h.n == 6 && h.n_nonfinite == 2);
    CHECK(hist_total(&h) == 6);
    double lo, hi;
    evo_hist_range(&h, EVO_CALIB_MINMAX, 99.99, 256, &lo, &hi);
    CHECK(lo == -3.0 && hi == 5.0);
    /* every value sits in the bin that covers it after the merges */
    float all[] = {0.25f, -0.5f, 0.0f, 1.0f, -3.0f, 5.0f};
    for (int k = 0; k < 6; k++) {
        int i = (int)((all[k] + h.r) * (EVO_HIST_BINS / (2 * h.r)));
        CHECK_MSG(h.count[i] >= 1, "value %g not in bin %d", all[k], i);
    }
}

static void test_zeros_first(void)
{
    evo_hist h;
    evo_hist_init(&h);
    float z[8] = {0};
    evo_hist_add(&h, z, 8);
    CHECK(h.r == 0 && h.n == 8);
    double lo, hi;
    evo_hist_range(&h, EVO_CALIB_ENTROPY, 99.99, 256, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    float one = 2.0f;
    evo_hist_add(&h, &one, 1);
    CHECK(hist_total(&h) == 9 && h.count[EVO_HIST_BINS / 2] == 8);
}

static void test_percentile(void)
{
    evo_hist h;
    evo_hist_init(&h);
    /* 0.00 .. 9.99 in steps of 0.01, each 10 times: the 99th percentile is 9.9 */
    for (int i = 0; i < 1000; i++)
        evo_hist_add_repeated(&h, i * 0.01, 10);
    double lo, hi, w = evo_hist_bin_width(&h);
    evo_hist_range(&h, EVO_CALIB_PERCENTILE, 99.0, 256, &lo, &hi);
    /* 1 % lies above 9.89 and 1 % below 0.1: the range ends there, to a bin */
    CHECK_MSG(hi >= 9.89 - w && hi <= 9.9 + w, "hi %g, bin %g", hi, w);
    CHECK_MSG(lo >= 0.09 - w && lo <= 0.1 + w, "lo %g", lo);
    evo_hist_range(&h, EVO_CALIB_PERCENTILE, 100.0, 256, &lo, &hi);
    CHECK(lo == 0.0 && fabs(hi - 9.99) < 1e-12);
}

static void test_kl_mse_gaussian_outlier(void)
{
    enum { N = 1 << 20 };
    float *x = malloc(sizeof(float) * N);
    CHECK(x != NULL);
    if (!x)
        return;
    check_rng r = {0x9e3779b97f4a7c15ull};
    gaussian(&r, x, N);
    x[0] = 20.0f; /* one outlier at 20 sigma */
    evo_hist h;
    evo_hist_init(&h);
    evo_hist_add(&h, x, N);
    double lo, hi;
    evo_hist_range(&h, EVO_CALIB_MINMAX, 99.99, 256, &lo, &hi);
    CHECK(hi == 20.0);
    /* KL with 128 levels a side clips a unit Gaussian at a few sigma, far below the outlier */
    evo_hist_range(&h, EVO_CALIB_ENTROPY, 99.99, 256, &lo, &hi);
    printf("entropy: [%g, %g]\n", lo, hi);
    CHECK_MSG(hi > 2.5 && hi < 8.0 && lo < -2.5 && lo > -8.0, "entropy range [%g, %g]", lo, hi);
    /* MSE at 8 bits: rounding noise (2t/255)^2/12 against Gaussian tail clipping, optimum near 4 sigma */
    evo_hist_range(&h, EVO_CALIB_MSE, 99.99, 256, &lo, &hi);
    printf("mse: [%g, %g]\n", lo, hi);
    CHECK_MSG(hi > 3.0 && hi < 6.0, "mse range [%g, %g]", lo, hi);
    /* the 99.99th percentile of a unit Gaussian is 3.72 */
    evo_hist_range(&h, EVO_CALIB_PERCENTILE, 99.99, 256, &lo, &hi);
    CHECK_MSG(fabs(hi - 3.72) < 0.1 && fabs(lo + 3.72) < 0.1, "percentile range [%g, %g]", lo, hi);
    /* one-signed data (a ReLU output) uses all 256 levels on its side */
    evo_hist hr;
    evo_hist_init(&hr);
    for (int i = 0; i < N; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
    evo_hist_add(&hr, x, N);
    evo_hist_range(&hr, EVO_CALIB_ENTROPY, 99.99, 256, &lo, &hi);
    CHECK_MSG(lo == 0 && hi > 2.5 && hi < 8.0, "relu entropy range [%g, %g]", lo, hi);
    free(x);
}

static void test_kl_threshold_exact(void)
{
    /* all mass in the first 100 bins and nothing else: no clipping is best */
    uint64_t c[1024] = {0};
    for (int i = 0; i < 100; i++)
        c[i] = 1000 + (uint64_t)i;
    CHECK(evo_hist_kl_threshold(c, 1024, 0.5, 128) == 50.0);
    /*
     * a half-Gaussian over the first ~250 bins (sigma 60) and one count at
     * 900: wide quantization bins would blur the curve, so the threshold
     * stays within a few sigma
     */
    for (int i = 0; i < 1024; i++)
        c[i] = (uint64_t)(1e6 * exp(-0.5 * (i / 60.0) * (i / 60.0)));
    c[900] = 1;
    double t = evo_hist_kl_threshold(c, 1024, 1.0, 128);
    CHECK_MSG(t >= 150 && t < 400, "threshold %g", t);
}

/*
 * The plain definition evo_hist_add must equal: the extremes of all of x
 * first, the range grown (doubling, bin pairs merged) to cover them, then
 * each finite value counted in the bin of (x + r) * BINS / 2r.
 */
static void ref_add(evo_hist *h, const float *x, size_t n)
{
    float lo = INFINITY, hi = -INFINITY;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            bad++;
            continue;
        }
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    h->n_nonfinite += bad;
    if (bad == n)
        return;
    h->n += n - bad;
    h->min = lo < h->min ? lo : h->min;
    h->max = hi > h->max ? hi : h->max;
    double amax = fmax(fabs((double)lo), fabs((double)hi));
    if (amax == 0 && h->r == 0) {
        h->zeros_before_r += n - bad;
        return;
    }
    if (h->r == 0) {
        h->r = amax * (1 + 1e-6);
        h->count[EVO_HIST_BINS / 2] += h->zeros_before_r;
        h->zeros_before_r = 0;
    }
    while (amax >= h->r) {
        static uint64_t merged[EVO_HIST_BINS];
        memset(merged, 0, sizeof(merged));
        for (int i = 0; i < EVO_HIST_BINS; i++)
            merged[EVO_HIST_BINS / 4 + i / 2] += h->count[i];
        memcpy(h->count, merged, sizeof(merged));
        h->r *= 2;
    }
    double k = EVO_HIST_BINS / (2.0 * h->r);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        int b = (int)(((double)x[i] + h->r) * k);
        h->count[b < 0 ? 0 : b >= EVO_HIST_BINS ? EVO_HIST_BINS - 1 : b]++;
    }
}

/*
 * The fast adding (chunks, vectorized extremes, interleaved counts) against
 * the plain definition on a sequence of tensors: zeros first, odd sizes
 * around the chunk and sub-histogram thresholds, ranges that grow within
 * one tensor, NaN, infinities and negative zeros. Every field must match.
 */
static void test_fast_equals_plain(void)
{
    static const size_t sizes[] = {8, 1, 4095, 4097, 16383, 16385, 100003, 7, 65536 + 13, 250001};
    static evo_hist fast, plain;
    evo_hist_init(&fast);
    evo_hist_init(&plain);
    check_rng r = {12345};
    float *x = malloc(sizeof(float) * 250001);
    CHECK(x != NULL);
    for (size_t t = 0; x && t < sizeof(sizes) / sizeof(sizes[0]); t++) {
        size_t n = sizes[t];
        gaussian(&r, x, (int)n);
        for (size_t i = 0; i < n; i++) {
            if (t == 0)
                x[i] = i % 2 ? -0.0f : 0.0f; /* zeros before any range */
            else if (t >= 4)
                x[i] *= (float)(1 + 40.0 * (double)i / (double)n * (double)t); /* grows along the tensor */
            uint64_t u = check_rng_u64(&r) % 5000;
            if (t >= 5 && u == 0)
                x[i] = NAN;
            else if (t >= 5 && u == 1)
                x[i] = i % 2 ? INFINITY : -INFINITY;
            else if (u == 2)
                x[i] = -0.0f;
        }
        evo_hist_add(&fast, x, n);
        ref_add(&plain, x, n);
        CHECK_MSG(fast.n == plain.n && fast.n_nonfinite == plain.n_nonfinite, "tensor %zu: n %llu/%llu", t,
                  (unsigned long long)fast.n, (unsigned long long)plain.n);
        CHECK_MSG(fast.min == plain.min && fast.max == plain.max && fast.r == plain.r, "tensor %zu: range", t);
        CHECK(fast.zeros_before_r == plain.zeros_before_r);
        CHECK_MSG(memcmp(fast.count, plain.count, sizeof(fast.count)) == 0, "tensor %zu: counts differ", t);
    }
    free(x);
}

static void test_qparams(void)
{
    evo_qparams q;
    CHECK(evo_qparams_from_range(-1.0, 3.0, EVO_DTYPE_UINT8, false, &q));
    CHECK_NEAR(q.scale, 4.0 / 255, 1e-7);
    CHECK(q.zp == 64);
    CHECK(evo_qparams_from_range(0.5, 2.0, EVO_DTYPE_UINT8, false, &q)); /* widened to include 0 */
    CHECK(q.zp == 0);
    CHECK_NEAR(q.scale, 2.0 / 255, 1e-7);
    CHECK(evo_qparams_from_range(-1.0, 3.0, EVO_DTYPE_INT8, true, &q));
    CHECK(q.zp == 0);
    CHECK_NEAR(q.scale, 3.0 / 127, 1e-7);
    CHECK(evo_qparams_from_range(-1.0, 3.0, EVO_DTYPE_INT8, false, &q));
    CHECK(q.zp == -64);
    /* degenerate: a constant zero activation, or nothing seen */
    CHECK(!evo_qparams_from_range(0, 0, EVO_DTYPE_UINT8, false, &q));
    CHECK(q.scale > 0 && isfinite(q.scale) && q.zp >= 0 && q.zp <= 255);
    CHECK(!evo_qparams_from_range(NAN, NAN, EVO_DTYPE_INT8, true, &q));
    CHECK(q.scale > 0 && isfinite(q.scale));
    /* a constant non-zero activation is a fine range once 0 is included */
    CHECK(evo_qparams_from_range(7.0, 7.0, EVO_DTYPE_UINT8, false, &q));
    CHECK_NEAR(q.scale, 7.0 / 255, 1e-7);
    float w[4] = {0.5f, -1.27f, 0.0f, 1.0f}, zw[3] = {0};
    CHECK_NEAR(evo_qparams_weight_scale(w, 4), 0.01, 1e-7);
    CHECK(evo_qparams_weight_scale(zw, 3) > 0);
}

CHECK_MAIN({"minmax_and_growth", test_minmax_and_growth}, {"zeros_first", test_zeros_first},
           {"percentile", test_percentile}, {"kl_mse_gaussian_outlier", test_kl_mse_gaussian_outlier},
           {"kl_threshold_exact", test_kl_threshold_exact}, {"fast_equals_plain", test_fast_equals_plain},
           {"qparams", test_qparams})
