/*
 * hist.c - calibration statistics (running min/max + a growing symmetric
 * histogram) and the four range methods: minmax, percentile, entropy (KL
 * divergence between the clipped distribution and its quantization, the
 * threshold search TensorRT's entropy calibrator describes) and mse (the
 * range minimising expected rounding plus clipping error).
 */
#include "quant/hist.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {"minmax", "percentile", "entropy", "mse"};

const char *evo_calib_method_name(evo_calib_method m)
{
    return (unsigned)m < 4 ? method_names[m] : "?";
}

bool evo_calib_method_parse(const char *s, evo_calib_method *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, method_names[i]) == 0) {
            *out = (evo_calib_method)i;
            return true;
        }
    return false;
}

void evo_hist_init(evo_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = INFINITY;
    h->max = -INFINITY;
}

double evo_hist_bin_width(const evo_hist *h)
{
    return 2.0 * h->r / EVO_HIST_BINS;
}

double evo_hist_bin_lo(const evo_hist *h, int i)
{
    return -h->r + (double)i * evo_hist_bin_width(h);
}

/* Doubles r: bin i of [-r, r) lands in bin BINS/4 + i/2 of [-2r, 2r), exactly. */
static void grow(evo_hist *h)
{
    uint64_t merged[EVO_HIST_BINS];
    memset(merged, 0, sizeof(merged));
    for (int i = 0; i < EVO_HIST_BINS; i++)
        merged[EVO_HIST_BINS / 4 + i / 2] += h->count[i];
    memcpy(h->count, merged, sizeof(merged));
    h->r *= 2;
}

/* Makes the bins cover amax (> 0). */
static void cover(evo_hist *h, double amax)
{
    if (h->r == 0) {
        h->r = amax * (1 + 1e-6);
        h->count[EVO_HIST_BINS / 2] += h->zeros_before_r;
        h->zeros_before_r = 0;
    }
    while (amax >= h->r)
        grow(h);
}

static int bin_of(const evo_hist *h, double x)
{
    double pos = (x + h->r) * (EVO_HIST_BINS / (2.0 * h->r));
    int i = (int)pos;
    return i < 0 ? 0 : i >= EVO_HIST_BINS ? EVO_HIST_BINS - 1 : i;
}

/*
 * Running extremes of x[0..n) and how many values are not finite, in
 * integer arithmetic the compiler vectorizes (a float compare-and-select
 * it may not, for NaN's sake): a float's bits,
 * with the magnitude bits flipped when negative, order as the float does
 * (-0 just below +0). With a non-zero return *lo / *hi include the
 * non-finite values, and callers take the careful path.
 */
static float from_ordered(int32_t i)
{
    float v;
    i ^= (i >> 31) & INT32_MAX;
    memcpy(&v, &i, sizeof v);
    return v == 0 ? 0.0f : v; /* one zero, as the comparisons of the careful path see it */
}

static size_t extremes(const float *x, size_t n, float *lo, float *hi)
{
    int32_t l = INT32_MAX, u = INT32_MIN;
    size_t n_bad = 0;
    for (size_t i = 0; i < n;) {
        size_t end = n - i > (1u << 30) ? i + (1u << 30) : n;
        int32_t bad = 0; /* 32-bit lanes: at most 2^30 values at a time */
        for (; i < end; i++) {
            int32_t b;
            memcpy(&b, &x[i], sizeof b);
            bad += (b & 0x7f800000) == 0x7f800000;
            b ^= (b >> 31) & INT32_MAX;
            l = b < l ? b : l;
            u = b > u ? b : u;
        }
        n_bad += (size_t)bad;
    }
    *lo = from_ordered(l);
    *hi = from_ordered(u);
    return n_bad;
}

/* The extremes of the finite values of x (some are not finite); returns how many are not. */
static size_t extremes_finite(const float *x, size_t n, float *lo, float *hi)
{
    size_t bad = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) {
            bad++;
            continue;
        }
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
    return bad;
}

/*
 * Adding runs over chunks that stay in the first-level cache: each chunk's
 * extremes, the range grown to cover them (growing is exact, so binning
 * a chunk before a later one grows the range gives the histogram binning
 * after would), then its bins, with the bin of (x + r) * BINS / 2r
 * computed as bin_of does. Counts go through SUBS interleaved 32-bit
 * histograms: a run of values in one bin (most activations crowd a few
 * bins near 0) would otherwise make every increment wait for the
 * previous one's store.
 */
enum { SUBS = 4, BLOCK = 256, CHUNK = 4096, SUB_MIN = 1 << 14, SUB_FLUSH = 1 << 30 };

typedef struct sub_counts {
    uint32_t c[SUBS][EVO_HIST_BINS];
    size_t pending; /* values counted since the last flush */
} sub_counts;

static void flush(evo_hist *h, sub_counts *sc)
{
    if (!sc || !sc->pending)
        return;
    for (int b = 0; b < EVO_HIST_BINS; b++)
        h->count[b] += (uint64_t)sc->c[0][b] + sc->c[1][b] + sc->c[2][b] + sc->c[3][b];
    memset(sc->c, 0, sizeof(sc->c));
    sc->pending = 0;
}

static void bin_block(const evo_hist *h, const float *x, int n, int *bin)
{
    double r = h->r, k = EVO_HIST_BINS / (2.0 * h->r);
    for (int i = 0; i < n; i++) {
        int b = (int)(((double)x[i] + r) * k);
        bin[i] = b < 0 ? 0 : b >= EVO_HIST_BINS ? EVO_HIST_BINS - 1 : b;
    }
}

/* Counts n finite values (h->r covers them) into sc, or straight into h->count without sc. */
static void count_finite(evo_hist *h, sub_counts *sc, const float *x, size_t n)
{
    int bin[BLOCK];
    for (size_t i = 0; i < n; i += BLOCK) {
        int m = n - i < BLOCK ? (int)(n - i) : BLOCK, j = 0;
        bin_block(h, x + i, m, bin);
        if (!sc) {
            for (; j < m; j++)
                h->count[bin[j]]++;
            continue;
        }
        if (sc->pending > SUB_FLUSH) /* a 32-bit count never wraps */
            flush(h, sc);
        sc->pending += (size_t)m;
        for (; j + SUBS <= m; j += SUBS)
            for (int s = 0; s < SUBS; s++)
                sc->c[s][bin[j + s]]++;
        for (; j < m; j++)
            sc->c[0][bin[j]]++;
    }
}

/* Adds n values to h, whose range is set (r > 0). */
static void add_chunk(evo_hist *h, sub_counts *sc, const float *x, size_t n)
{
    float lo = INFINITY, hi = -INFINITY;
    size_t bad = extremes(x, n, &lo, &hi);
    if (bad)
        extremes_finite(x, n, &lo, &hi);
    h->n_nonfinite += bad;
    if (bad == n)
        return;
    h->n += n - bad;
    h->min = lo < h->min ? lo : h->min;
    h->max = hi > h->max ? hi : h->max;
    double amax = fmax(fabs((double)lo), fabs((double)hi));
    if (amax >= h->r) {
        flush(h, sc);
        cover(h, amax);
    }
    if (!bad) {
        count_finite(h, sc, x, n);
        return;
    }
    flush(h, sc);
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            h->count[bin_of(h, x[i])]++;
}

void evo_hist_add(evo_hist *h, const float *x, size_t n)
{
    if (h->r == 0) { /* the first non-zero values set the range: the extremes of all of x */
        float lo = INFINITY, hi = -INFINITY;
        size_t bad = extremes(x, n, &lo, &hi);
        if (bad)
            extremes_finite(x, n, &lo, &hi);
        double amax = bad == n ? 0 : fmax(fabs((double)lo), fabs((double)hi));
        if (amax == 0) {
            h->n_nonfinite += bad;
            h->n += n - bad;
            if (bad < n) {
                h->min = lo < h->min ? lo : h->min;
                h->max = hi > h->max ? hi : h->max;
            }
            h->zeros_before_r += n - bad;
            return;
        }
        cover(h, amax);
    }
    sub_counts *sc = n >= SUB_MIN ? malloc(sizeof(*sc)) : NULL; /* without it counting is slower, not wrong */
    if (sc) {
        memset(sc->c, 0, sizeof(sc->c));
        sc->pending = 0;
    }
    for (size_t i = 0; i < n; i += CHUNK)
        add_chunk(h, sc, x + i, n - i < CHUNK ? n - i : CHUNK);
    flush(h, sc);
    free(sc);
}

void evo_hist_add_repeated(evo_hist *h, double x, uint64_t count)
{
    if (!count)
        return;
    if (!isfinite(x)) {
        h->n_nonfinite += count;
        return;
    }
    h->n += count;
    h->min = fmin(h->min, x);
    h->max = fmax(h->max, x);
    if (x == 0 && h->r == 0) {
        h->zeros_before_r += count;
        return;
    }
    cover(h, fabs(x));
    h->count[bin_of(h, x)] += count;
}

/* Share p (e.g. 99.99) kept on each side: the bin edges holding the central mass. */
static void percentile_range(const evo_hist *h, double percentile, double *lo, double *hi)
{
    double tail = (double)h->n * (1.0 - percentile / 100.0);
    double w = evo_hist_bin_width(h), seen = 0;
    *lo = h->min;
    *hi = h->max;
    for (int i = 0; i < EVO_HIST_BINS; i++) {
        seen += (double)h->count[i];
        if (seen > tail) {
            *lo = fmax(h->min, evo_hist_bin_lo(h, i));
            break;
        }
    }
    seen = 0;
    for (int i = EVO_HIST_BINS - 1; i >= 0; i--) {
        seen += (double)h->count[i];
        if (seen > tail) {
            *hi = fmin(h->max, evo_hist_bin_lo(h, i) + w);
            break;
        }
    }
}

/* KL(P || Q) of the clipped reference and its quantization at threshold bin i. */
static double kl_at(const uint64_t *c, int i, double outliers, int levels)
{
    double p_sum = outliers, kl = 0;
    for (int k = 0; k < i; k++)
        p_sum += (double)c[k];
    if (p_sum <= 0)
        return 0;
    double per = (double)i / levels, q_sum = p_sum - outliers; /* Q: the unclipped first i bins */
    for (int j = 0; j < levels; j++) {
        int start = (int)(j * per), end = j + 1 == levels ? i : (int)((j + 1) * per);
        double sum = 0;
        int nz = 0;
        for (int k = start; k < end; k++) {
            sum += (double)c[k];
            nz += c[k] != 0;
        }
        for (int k = start; k < end; k++) {
            double p = (double)c[k] + (k == i - 1 ? outliers : 0);
            if (p <= 0)
                continue;
            double q = c[k] && q_sum > 0 ? sum / nz / q_sum : 0;
            p /= p_sum;
            kl += p * log(p / (q > 0 ? q : 1e-12));
        }
    }
    return kl;
}

double evo_hist_kl_threshold(const uint64_t *abs_count, int n_bins, double bin_width, int levels)
{
    int last = n_bins; /* past the last non-empty bin */
    while (last > 0 && !abs_count[last - 1])
        last--;
    if (last <= levels)
        return last * bin_width;
    double outliers = 0, best_kl = INFINITY;
    int best = last;
    for (int k = levels; k < last; k++)
        outliers += (double)abs_count[k];
    for (int i = levels; i <= last; i++) {
        double kl = kl_at(abs_count, i, outliers, levels);
        if (kl < best_kl) {
            best_kl = kl;
            best = i;
        }
        if (i < last)
            outliers -= (double)abs_count[i];
    }
    return best * bin_width;
}

/*
 * MSE: for thresholds t at every |x| bin edge, the range [max(min, -t),
 * min(max, t)] split into levels - 1 steps; expected error = rounding noise
 * step^2 / 12 for each value inside plus (x - end)^2 for each value
 * clipped, from prefix sums of count, count * x and count * x^2 over bin
 * centres, so each candidate costs O(1).
 */
static void mse_range(const evo_hist *h, int levels, double *lo, double *hi)
{
    enum { B = EVO_HIST_BINS };
    static const int half = B / 2;
    double w = evo_hist_bin_width(h), best = INFINITY;
    double s0[B + 1], s1[B + 1], s2[B + 1]; /* prefix sums over signed bins */
    s0[0] = s1[0] = s2[0] = 0;
    for (int i = 0; i < B; i++) {
        double c = (double)h->count[i], x = evo_hist_bin_lo(h, i) + 0.5 * w;
        x = fmin(fmax(x, h->min), h->max);
        s0[i + 1] = s0[i] + c;
        s1[i + 1] = s1[i] + c * x;
        s2[i + 1] = s2[i] + c * x * x;
    }
    for (int k = 1; k <= half; k++) {
        double t = k * w, a = fmax(h->min, -t), b = fmin(h->max, t);
        if (!(b > a))
            continue;
        int ia = half - k, ib = half + k; /* bins [0, ia) lie below -t, [ib, B) above t */
        double step = (b - a) / (levels - 1), err = 0;
        if (a == -t)
            err += s2[ia] - 2 * a * s1[ia] + a * a * s0[ia];
        else
            ia = 0;
        if (b == t)
            err += (s2[B] - s2[ib]) - 2 * b * (s1[B] - s1[ib]) + b * b * (s0[B] - s0[ib]);
        else
            ib = B;
        err += (s0[ib] - s0[ia]) * step * step / 12;
        if (err < best) {
            best = err;
            *lo = a;
            *hi = b;
        }
    }
}

void evo_hist_range(const evo_hist *h, evo_calib_method m, double percentile, int levels, double *lo,
                    double *hi)
{
    if (h->n == 0) {
        *lo = *hi = 0;
        return;
    }
    *lo = h->min;
    *hi = h->max;
    if (h->r == 0 || m == EVO_CALIB_MINMAX)
        return;
    if (m == EVO_CALIB_PERCENTILE) {
        percentile_range(h, percentile, lo, hi);
    } else if (m == EVO_CALIB_ENTROPY) {
        uint64_t fold[EVO_HIST_BINS / 2];
        for (int k = 0; k < EVO_HIST_BINS / 2; k++)
            fold[k] = h->count[EVO_HIST_BINS / 2 + k] + h->count[EVO_HIST_BINS / 2 - 1 - k];
        /* one-signed data uses every level on its side; two-signed data half of them per side */
        int lv = h->min >= 0 || h->max <= 0 ? levels : levels / 2;
        double t = evo_hist_kl_threshold(fold, EVO_HIST_BINS / 2, evo_hist_bin_width(h), lv);
        *lo = fmax(h->min, -t);
        *hi = fmin(h->max, t);
    } else {
        mse_range(h, levels, lo, hi);
    }
}
