/*
 * equalize.c - cross-layer equalization (Nagel et al. 2019, "Data-Free
 * Quantization Through Weight Equalization and Bias Correction"), driven by
 * the calibrated activation ranges rather than the producer's weights.
 *
 * int8 weights are per output channel here, so the producer's weights do
 * not care how its output channels are scaled; what suffers is the one
 * per-tensor scale of the activation between two Convs when its channels
 * differ by orders of magnitude (a depthwise output, a BN-folded stem).
 * Dividing channel c by s_c and multiplying the consumers' weights that
 * read it by s_c is exact through any op f with f(x / s) = f(x) / s for
 * s > 0 (identity, ReLU, LeakyReLU, MaxPool, nearest Resize), not through
 * SiLU or HardSwish, which are left alone. s_c = sqrt(a_c / w_c) balances
 * the channel's activation range a_c against w_c, the largest share of a
 * consumer's weight range its column takes, as the geometric mean of
 * Nagel's method does with two weight ranges.
 */
#include "quant/equalize.h"

#include "exec/session.h"
#include "passes/rewrite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_CHAIN = 4, MAX_CONSUMERS = 8 };

void evo_chan_ranges_free(evo_chan_ranges *r)
{
    if (!r)
        return;
    for (int v = 0; r->lo && v < r->n_values; v++) {
        free(r->lo[v]);
        free(r->hi[v]);
    }
    free(r->lo);
    free(r->hi);
    free(r->n_ch);
    free(r);
}

typedef struct observe_ctx {
    evo_chan_ranges *r;
    bool nomem;
} observe_ctx;

static void observe_tensor(observe_ctx *c, int v, const evo_tensor *t)
{
    evo_chan_ranges *r = c->r;
    if (v < 0 || v >= r->n_values || !t->data || t->dtype != EVO_DTYPE_FLOAT || t->rank != 4 ||
        t->dims[0] != 1 || t->dims[1] < 1 || t->dims[1] > (1 << 20))
        return;
    int n_ch = (int)t->dims[1];
    int64_t plane = t->dims[2] * t->dims[3];
    if (!r->lo[v]) {
        r->lo[v] = malloc(sizeof(float) * (size_t)n_ch);
        r->hi[v] = malloc(sizeof(float) * (size_t)n_ch);
        if (!r->lo[v] || !r->hi[v]) {
            c->nomem = true;
            return;
        }
        r->n_ch[v] = n_ch;
        for (int k = 0; k < n_ch; k++) {
            r->lo[v][k] = INFINITY;
            r->hi[v][k] = -INFINITY;
        }
    }
    if (r->n_ch[v] != n_ch)
        return;
    const float *x = t->data;
    for (int k = 0; k < n_ch; k++) {
        float lo = r->lo[v][k], hi = r->hi[v][k];
        for (int64_t i = 0; i < plane; i++) {
            float e = x[k * plane + i];
            lo = e < lo ? e : lo; /* NaN compares false: skipped */
            hi = e > hi ? e : hi;
        }
        r->lo[v][k] = lo;
        r->hi[v][k] = hi;
    }
}

static void observe_step(void *user, const evo_node *n, const evo_tensor *outs, int n_out)
{
    for (int k = 0; k < n_out; k++)
        observe_tensor(user, n->out[k], &outs[k]);
}

evo_status evo_chan_ranges_collect(evo_session *sess, const evo_model *model, const evo_graph *g,
                                   const float *const *inputs, int n, evo_chan_ranges **out, evo_error *err)
{
    evo_tensor_desc d;
    evo_status s = evo_model_input_desc(model, 0, &d);
    if (s)
        return evo_errorf(err, s, "equalization: the model has no input");
    evo_chan_ranges *r = calloc(1, sizeof(*r));
    if (r) {
        r->n_values = g->n_values;
        r->n_ch = calloc((size_t)g->n_values + 1, sizeof(int));
        r->lo = calloc((size_t)g->n_values + 1, sizeof(float *));
        r->hi = calloc((size_t)g->n_values + 1, sizeof(float *));
    }
    if (!r || !r->n_ch || !r->lo || !r->hi) {
        evo_chan_ranges_free(r);
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory for per-channel ranges");
    }
    observe_ctx c = {r, false};
    for (int i = 0; i < n && !s; i++) {
        memcpy(evo_session_input_data(sess, 0), inputs[i], d.size_bytes);
        s = evo_session_run_observed(sess, observe_step, &c, err);
        if (!s && c.nomem)
            s = evo_errorf(err, EVO_ERR_NOMEM, "out of memory for per-channel ranges");
    }
    if (s) {
        evo_chan_ranges_free(r);
        return s;
    }
    *out = r;
    return EVO_OK;
}

/* A constant float tensor of rank read by node id alone (so rescaling it changes nothing else). */
static bool own_const(const evo_graph *g, int v, int rank, int id)
{
    int users[2];
    return v >= 0 && g->values[v].data && g->values[v].dtype == EVO_DTYPE_FLOAT &&
           g->values[v].rank == rank && evo_consumers(g, v, users, 2) == 1 && users[0] == id;
}

/* A float 2-D Conv with its own constant weights (and bias) and nothing fused. */
static bool plain_conv(const evo_graph *g, int id)
{
    const evo_node *n = &g->nodes[id];
    const evo_conv_attrs *c = &n->a.conv;
    return n->op == EVO_OP_CONV && !n->is_dead && n->n_out == 1 && c->n_spatial == 2 &&
           c->act == EVO_ACT_NONE && !c->has_residual && !c->out_groups && c->group >= 1 && n->n_in >= 2 &&
           own_const(g, n->in[1], 4, id) && (n->n_in < 3 || n->in[2] < 0 || own_const(g, n->in[2], 1, id));
}

/* Does node u map x to f(x) with f(x / s) = f(x) / s for every s > 0, per channel? */
static bool scale_commutes(const evo_node *u, int v)
{
    if (u->n_in < 1 || u->in[0] != v || u->n_out != 1)
        return false;
    switch (u->op) {
    case EVO_OP_RELU:
    case EVO_OP_LEAKY_RELU:
    case EVO_OP_MAX_POOL: return true;
    case EVO_OP_RESIZE:
    case EVO_OP_UPSAMPLE: return u->a.resize.mode == EVO_RESIZE_NEAREST;
    default: return false;
    }
}

/*
 * The Convs that read producer p's output through commuting ops, into
 * cons (at most MAX_CONSUMERS); *end is the value they read. Returns
 * their number, 0 when p's output goes anywhere else.
 */
static int find_consumers(const evo_graph *g, int p, int *cons, int *end)
{
    int v = g->nodes[p].out[0];
    for (int depth = 0; depth <= MAX_CHAIN; depth++) {
        int users[MAX_CONSUMERS + 1];
        int n = evo_consumers(g, v, users, MAX_CONSUMERS + 1);
        if (n < 1 || n > MAX_CONSUMERS || g->values[v].is_output)
            return 0;
        if (n == 1 && users[0] >= 0 && scale_commutes(&g->nodes[users[0]], v)) {
            v = g->nodes[users[0]].out[0];
            continue;
        }
        for (int k = 0; k < n; k++) {
            if (users[k] < 0 || !plain_conv(g, users[k]) || g->nodes[users[k]].in[0] != v)
                return 0;
            cons[k] = users[k];
        }
        *end = v;
        return n;
    }
    return 0;
}

/* A writable copy of constant v set back into the graph; NULL when out of memory. */
static float *writable(evo_graph *g, int v, evo_error *err)
{
    evo_value *val = &g->values[v];
    int64_t count = evo_value_count(val);
    float *copy = malloc(sizeof(float) * (size_t)(count ? count : 1));
    if (!copy)
        return NULL;
    memcpy(copy, val->data, sizeof(float) * (size_t)count);
    evo_status s = evo_value_set_const(g, val, EVO_DTYPE_FLOAT, val->rank, val->dims, copy, err);
    free(copy);
    return s ? NULL : (float *)g->values[v].data;
}

/*
 * For each consumer weight [M, C / group, kh, kw] reading channel c of C:
 * calls fn on every element of the slice that reads channel c.
 */
typedef struct col_ref {
    int64_t m0, m1, l, k; /* output channels [m0, m1), input index l, kh * kw */
    int64_t per_m;        /* C / group * kh * kw */
} col_ref;

static col_ref column(const evo_graph *g, int id, int64_t c, int64_t n_ch)
{
    const evo_node *n = &g->nodes[id];
    const evo_value *w = &g->values[n->in[1]];
    int64_t group = n->a.conv.group, in_per = n_ch / group, out_per = w->dims[0] / group;
    int64_t gi = c / in_per;
    col_ref r = {gi * out_per, (gi + 1) * out_per, c % in_per, w->dims[2] * w->dims[3], 0};
    r.per_m = w->dims[1] * r.k;
    return r;
}

/* w_c: the largest share of any non-depthwise consumer's weight range that channel c's column takes. */
static void column_shares(const evo_graph *g, const int *cons, int n_cons, int64_t n_ch, double *share)
{
    for (int64_t c = 0; c < n_ch; c++)
        share[c] = 0;
    for (int j = 0; j < n_cons; j++) {
        const evo_value *w = &g->values[g->nodes[cons[j]].in[1]];
        if (w->dims[1] == 1)
            continue; /* one input channel per group: per-output-channel weight scales absorb s_c */
        const float *wf = w->data;
        double wmax = 0;
        for (int64_t i = 0; i < evo_value_count(w); i++)
            wmax = fmax(wmax, fabs(wf[i]));
        for (int64_t c = 0; c < n_ch && wmax > 0; c++) {
            col_ref r = column(g, cons[j], c, n_ch);
            double m = 0;
            for (int64_t o = r.m0; o < r.m1; o++)
                for (int64_t t = 0; t < r.k; t++)
                    m = fmax(m, fabs(wf[o * r.per_m + r.l * r.k + t]));
            share[c] = fmax(share[c], m / wmax);
        }
    }
}

/* Applies s to producer p (divide) and the consumers (multiply). */
static evo_status apply_scales(evo_graph *g, int p, const int *cons, int n_cons, const double *s,
                               int64_t n_ch, evo_error *err)
{
    const evo_node *pn = &g->nodes[p];
    int w1 = pn->in[1], b1 = pn->n_in > 2 ? pn->in[2] : -1;
    int64_t per = evo_value_count(&g->values[w1]) / n_ch;
    float *w = writable(g, w1, err), *b = b1 >= 0 ? writable(g, b1, err) : NULL;
    if (!w || (b1 >= 0 && !b))
        return evo_node_errorf(err, g, &g->nodes[p], EVO_ERR_NOMEM, "out of memory equalizing");
    for (int64_t c = 0; c < n_ch; c++) {
        for (int64_t i = 0; i < per; i++)
            w[c * per + i] = (float)(w[c * per + i] / s[c]);
        if (b)
            b[c] = (float)(b[c] / s[c]);
    }
    for (int j = 0; j < n_cons; j++) {
        float *w2 = writable(g, g->nodes[cons[j]].in[1], err);
        if (!w2)
            return evo_node_errorf(err, g, &g->nodes[cons[j]], EVO_ERR_NOMEM, "out of memory equalizing");
        for (int64_t c = 0; c < n_ch; c++) {
            col_ref r = column(g, cons[j], c, n_ch);
            for (int64_t o = r.m0; o < r.m1; o++)
                for (int64_t t = 0; t < r.k; t++)
                    w2[o * r.per_m + r.l * r.k + t] = (float)(w2[o * r.per_m + r.l * r.k + t] * s[c]);
        }
    }
    return EVO_OK;
}

/* The per-channel range a_c of the values between p's output and end (they scale together). */
static bool channel_ranges(const evo_graph *g, const evo_chan_ranges *r, int p, int end, int64_t n_ch,
                           double *a)
{
    for (int64_t c = 0; c < n_ch; c++)
        a[c] = 0;
    for (int v = g->nodes[p].out[0];;) {
        if (v >= r->n_values || r->n_ch[v] != n_ch)
            return false;
        for (int64_t c = 0; c < n_ch; c++)
            a[c] = fmax(a[c], fmax(fabs(r->lo[v][c]), fabs(r->hi[v][c])));
        if (v == end)
            return true;
        int users[1];
        if (evo_consumers(g, v, users, 1) != 1 || users[0] < 0)
            return false;
        v = g->nodes[users[0]].out[0];
    }
}

/* The scales of one pair: s_c = sqrt(a_c / w_c), normalised so that the largest channel keeps its range. */
static bool pair_scales(const double *a, const double *share, int64_t n_ch, double *s)
{
    double amax = 0;
    for (int64_t c = 0; c < n_ch; c++)
        amax = fmax(amax, a[c]);
    if (!(amax > 0) || !isfinite(amax))
        return false;
    double top = 0;
    for (int64_t c = 0; c < n_ch; c++) {
        double ac = fmax(a[c], amax * 1e-3); /* a near-dead channel grows at most 1000 times */
        s[c] = share[c] > 0 ? sqrt(ac / share[c]) : ac;
        top = fmax(top, ac / s[c]);
    }
    for (int64_t c = 0; c < n_ch; c++) {
        s[c] *= top / amax; /* after scaling, the widest channel's range is amax again */
        if (!(s[c] > 0) || !isfinite(s[c]))
            return false;
    }
    return true;
}

evo_status evo_equalize_graph(evo_graph *g, const evo_chan_ranges *r, int *n_pairs, evo_error *err)
{
    *n_pairs = 0;
    if (r->n_values != g->n_values)
        return evo_errorf(err, EVO_ERR_INTERNAL, "%s: per-channel ranges of %d values for a graph of %d",
                          g->file, r->n_values, g->n_values);
    evo_status s = EVO_OK;
    for (int p = 0; p < g->n_nodes && !s; p++) {
        int cons[MAX_CONSUMERS], end = -1;
        if (!plain_conv(g, p))
            continue;
        int n_cons = find_consumers(g, p, cons, &end);
        int64_t n_ch = g->values[g->nodes[p].in[1]].dims[0];
        if (!n_cons || n_ch < 2)
            continue;
        double *a = malloc(sizeof(double) * 3 * (size_t)n_ch);
        if (!a)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory equalizing", g->file);
        double *share = a + n_ch, *sc = a + 2 * n_ch;
        if (channel_ranges(g, r, p, end, n_ch, a)) {
            column_shares(g, cons, n_cons, n_ch, share);
            if (pair_scales(a, share, n_ch, sc)) {
                s = apply_scales(g, p, cons, n_cons, sc, n_ch, err);
                *n_pairs += !s;
            }
        }
        free(a);
    }
    return s;
}

int evo_equalize_n_candidates(const evo_graph *g)
{
    int n = 0;
    for (int p = 0; p < g->n_nodes; p++) {
        int cons[MAX_CONSUMERS], end = -1;
        n += plain_conv(g, p) && g->values[g->nodes[p].in[1]].dims[0] >= 2 && find_consumers(g, p, cons, &end);
    }
    return n;
}
