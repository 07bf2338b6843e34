/*
 * actrange.c - the pre-activation range of a table activation, chosen for
 * the error after the activation rather than before it.
 *
 * A QLinearConv with a table activation requantizes its accumulator to the
 * pre-activation's own per-tensor scale, then maps that byte through the
 * activation. Much of a pre-activation's range can be flat after the
 * activation (SiLU below about -8, HardSwish below -3, Sigmoid beyond +-8,
 * the negative side of LeakyReLU shrunk by alpha): spending levels there
 * makes the step of the part that matters coarser. So the range is
 * narrowed, side by side, to the candidate that minimises the expected
 * squared error of act(dequant(quant(x))) against act(x) over the
 * calibration histogram (bins merged to keep the search cheap: it runs for
 * every table layer each time a model is quantized).
 */
#include "quant/actrange.h"

#include "kernels/sgemm.h"

#include <math.h>
#include <string.h>

enum { MERGED_BINS = 512, N_CANDIDATES = 32 };

typedef struct act_fn {
    evo_act act;
    float alpha, beta;
} act_fn;

static double act_eval(const act_fn *f, double x)
{
    return evo_act_apply((float)x, f->act, f->alpha, f->beta);
}

/* Expected squared error after the activation of quantizing the merged bins to levels over [lo, hi]. */
static double act_error(const act_fn *f, const double *x, const double *c, const double *fx, int n, double lo,
                        double hi, int levels)
{
    double step = (hi - lo) / (levels - 1), err = 0;
    for (int i = 0; i < n; i++) {
        double v = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
        double q = lo + nearbyint((v - lo) / step) * step;
        double d = act_eval(f, q) - fx[i];
        err += c[i] * d * d;
    }
    return err;
}

/*
 * The large positive pre-activations of a non-saturating activation are the
 * rare strong responses the percentile range was chosen to keep: only the
 * side where the activation flattens shrinks.
 */
static bool saturates_above(evo_act act)
{
    return act == EVO_ACT_SIGMOID || act == EVO_ACT_HARD_SIGMOID || act == EVO_ACT_TANH;
}

void quant_act_input_range(const evo_hist *h, evo_act act, float alpha, float beta, int levels, double *lo,
                           double *hi)
{
    if (h->n == 0 || h->r == 0 || !(*hi > *lo) || act == EVO_ACT_NONE || act == EVO_ACT_RELU ||
        act == EVO_ACT_CLIP)
        return;
    act_fn f = {act, alpha, beta};
    double x[MERGED_BINS], c[MERGED_BINS], fx[MERGED_BINS];
    int n = 0, per = EVO_HIST_BINS / MERGED_BINS;
    double w = evo_hist_bin_width(h);
    for (int b = 0; b < EVO_HIST_BINS; b += per) { /* merged bins: count-weighted centres */
        double cnt = 0, sum = 0;
        for (int k = 0; k < per; k++) {
            cnt += (double)h->count[b + k];
            sum += (double)h->count[b + k] * (evo_hist_bin_lo(h, b + k) + 0.5 * w);
        }
        if (cnt == 0)
            continue;
        x[n] = fmin(fmax(sum / cnt, h->min), h->max);
        c[n] = cnt;
        fx[n] = act_eval(&f, x[n]);
        n++;
    }
    double best = act_error(&f, x, c, fx, n, *lo, *hi, levels);
    for (int side = 0; side < 2; side++) {
        double end = side ? *hi : *lo, keep = end;
        if ((side == 0 && end >= 0) || (side == 1 && (end <= 0 || !saturates_above(act))))
            continue; /* the range always includes 0: only a side away from it shrinks */
        for (int k = 1; k < N_CANDIDATES; k++) {
            double t = end * pow(0.02, (double)k / (N_CANDIDATES - 1)); /* down to 2 % of the side */
            double e = side ? act_error(&f, x, c, fx, n, *lo, t, levels)
                            : act_error(&f, x, c, fx, n, t, *hi, levels);
            if (e < best) {
                best = e;
                keep = t;
            }
        }
        if (side)
            *hi = keep;
        else
            *lo = keep;
    }
}
