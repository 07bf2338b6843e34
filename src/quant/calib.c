/*
 * calib.c - the calibration engine (calib.h): one evo_hist per observed
 * value, filled from an observable session after every step.
 */
#include "quant/calib.h"
#include "exec/session.h"
#include "passes/rewrite.h"

#include <stdlib.h>

/*
 * The Sigmoid of SiLU's x * Sigmoid(x), read only by that Mul: the
 * quantizer takes the pair as one activation (fused into its Conv, or
 * fp32 with it) and never reads this value's range, so it is not observed
 * (a third of a SiLU network's activations).
 */
static bool silu_inner(const evo_graph *g, int v)
{
    const evo_value *val = &g->values[v];
    if (val->producer < 0 || val->is_output || g->nodes[val->producer].op != EVO_OP_SIGMOID)
        return false;
    int x = g->nodes[val->producer].in[0], users[2];
    if (evo_consumers(g, v, users, 2) != 1 || users[0] < 0)
        return false;
    const evo_node *m = &g->nodes[users[0]];
    return m->op == EVO_OP_MUL && m->n_in == 2 &&
           ((m->in[0] == x && m->in[1] == v) || (m->in[1] == x && m->in[0] == v));
}

static bool observed_value(const evo_graph *g, int v)
{
    const evo_value *val = &g->values[v];
    return !val->data && val->dtype == EVO_DTYPE_FLOAT && (val->producer >= 0 || val->is_input) &&
           !silu_inner(g, v);
}

evo_status evo_calib_create(const evo_graph *g, evo_calib **out, evo_error *err)
{
    evo_calib *c = calloc(1, sizeof(*c));
    if (!c)
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory for calibration statistics");
    c->g = g;
    c->n_values = g->n_values;
    c->hist = calloc((size_t)g->n_values + 1, sizeof(evo_hist *));
    if (!c->hist)
        goto nomem;
    for (int v = 0; v < g->n_values; v++) {
        if (!observed_value(g, v))
            continue;
        if (!(c->hist[v] = malloc(sizeof(evo_hist))))
            goto nomem;
        evo_hist_init(c->hist[v]);
        c->n_observed++;
    }
    *out = c;
    return EVO_OK;
nomem:
    evo_calib_free(c);
    return evo_errorf(err, EVO_ERR_NOMEM, "out of memory for calibration statistics of %d values",
                      g->n_values);
}

void evo_calib_free(evo_calib *c)
{
    if (!c)
        return;
    for (int v = 0; c->hist && v < c->n_values; v++)
        free(c->hist[v]);
    free(c->hist);
    free(c);
}

static void add_tensor(evo_calib *c, int v, const evo_tensor *t)
{
    if (v < 0 || v >= c->n_values || !c->hist[v] || !t->data || t->dtype != EVO_DTYPE_FLOAT)
        return;
    int64_t count = 1;
    for (int d = 0; d < t->rank; d++)
        count *= t->dims[d];
    evo_hist_add(c->hist[v], t->data, (size_t)count);
}

static void observe_step(void *user, const evo_node *n, const evo_tensor *outs, int n_out)
{
    evo_calib *c = user;
    for (int k = 0; k < n_out; k++)
        add_tensor(c, n->out[k], &outs[k]);
}

evo_status evo_calib_observe(evo_calib *c, evo_session *sess, evo_error *err)
{
    const evo_graph *g = c->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const evo_value *v = &g->values[g->inputs[i]];
        evo_tensor t = {.dtype = v->dtype, .rank = v->rank, .data = evo_session_input_data(sess, i)};
        for (int d = 0; d < v->rank; d++)
            t.dims[d] = v->dims[d];
        add_tensor(c, g->inputs[i], &t);
    }
    evo_status s = evo_session_run_observed(sess, observe_step, c, err);
    if (!s)
        c->n_runs++;
    return s;
}

const evo_hist *evo_calib_hist(const evo_calib *c, int v)
{
    if (!c || v < 0 || v >= c->n_values || !c->hist[v] || c->hist[v]->n == 0)
        return NULL;
    return c->hist[v];
}
