/*
 * hist.h - the bounded statistics calibration keeps per observed value: the
 * running min/max and a histogram of EVO_HIST_BINS bins over [-R, R], and
 * the range methods that choose a clipping range [lo, hi] from them.
 *
 * The histogram is symmetric around 0 so that it folds exactly into a
 * histogram of |x| (what the entropy method works on) and so that growing
 * it is exact: when a value past R arrives, R doubles and adjacent bin
 * pairs merge (no re-binning error, no stored activations).
 */
#ifndef EVO_QUANT_HIST_H
#define EVO_QUANT_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVO_HIST_BINS 4096

typedef struct evo_hist {
    double min, max;      /* running extremes of the finite values seen */
    double r;             /* bins cover [-r, r); 0 until the first non-zero value */
    uint64_t n;           /* finite values seen */
    uint64_t n_nonfinite; /* NaN and infinities (skipped) */
    uint64_t zeros_before_r; /* exact zeros seen while r was 0 (then placed in the centre bins) */
    uint64_t count[EVO_HIST_BINS];
} evo_hist;

typedef enum evo_calib_method {
    EVO_CALIB_MINMAX = 0,
    EVO_CALIB_PERCENTILE,
    EVO_CALIB_ENTROPY,
    EVO_CALIB_MSE,
} evo_calib_method;

/* "minmax", "percentile", "entropy", "mse". */
const char *evo_calib_method_name(evo_calib_method m);
bool evo_calib_method_parse(const char *s, evo_calib_method *out);

void evo_hist_init(evo_hist *h);
/* Adds n float values (NaN/inf counted apart); grows the range as needed. */
void evo_hist_add(evo_hist *h, const float *x, size_t n);
/* Adds count values that all equal x (tests and synthetic histograms). */
void evo_hist_add_repeated(evo_hist *h, double x, uint64_t count);
/* The lower edge of bin i and the bin width. */
double evo_hist_bin_lo(const evo_hist *h, int i);
double evo_hist_bin_width(const evo_hist *h);

/*
 * The clipping range [*lo, *hi] method m chooses for h, within [min, max].
 * percentile (e.g. 99.99) is the share kept by EVO_CALIB_PERCENTILE on each
 * side; levels is the number of quantization levels the range will be
 * split into (256 for 8 bits), used by ENTROPY and MSE. A histogram that
 * saw nothing gives [0, 0]; callers turn degenerate ranges into safe
 * scales (evo_quant_params).
 */
void evo_hist_range(const evo_hist *h, evo_calib_method m, double percentile, int levels, double *lo,
                    double *hi);

/*
 * The entropy (KL) threshold of a histogram of |x| over n_bins bins of
 * width bin_width: the t minimising KL(P || Q) between the distribution
 * clipped at t (outliers added to the last bin) and its quantization to
 * levels levels, as TensorRT's entropy calibrator computes it.
 */
double evo_hist_kl_threshold(const uint64_t *abs_count, int n_bins, double bin_width, int levels);

#endif /* EVO_QUANT_HIST_H */
