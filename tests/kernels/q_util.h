/*
 * q_util.h - helpers for the quantized op tests: uint8/int8 values with
 * random bytes, constant scales and zero points, the float quantization
 * step the ops share (written out here, so tests do not reuse the kernels'
 * helpers), and a runner for nodes with many inputs (QLinearConcat).
 */
#ifndef EVO_Q_UTIL_H
#define EVO_Q_UTIL_H

#include "nn_util.h"

#include <math.h>

#define Q_MAX_IN 32

/* A constant value: scalar float scale or a zero point of type t. */
static inline int q_scale(evo_graph *g, const char *name, float s)
{
    int id = evo_graph_add_value(g, name);
    evo_value_set_const(g, &g->values[id], EVO_DTYPE_FLOAT, 0, NULL, &s, NULL);
    return id;
}

static inline int q_zp(evo_graph *g, const char *name, evo_dtype t, int zp)
{
    int id = evo_graph_add_value(g, name);
    uint8_t b = (uint8_t)zp;
    evo_value_set_const(g, &g->values[id], t, 0, NULL, &b, NULL);
    return id;
}

static inline int q_zp_rand(check_rng *r, evo_dtype t)
{
    return t == EVO_DTYPE_INT8 ? check_rng_int(r, -50, 50) : check_rng_int(r, 70, 180);
}

static inline uint8_t *q_bytes(check_rng *r, int64_t n)
{
    uint8_t *p = malloc((size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        p[i] = (uint8_t)check_rng_int(r, 0, 255);
    return p;
}

/* The integer value of byte b in type t. */
static inline int q_val(uint8_t b, evo_dtype t)
{
    return t == EVO_DTYPE_INT8 ? (int)(int8_t)b : (int)b;
}

/* clamp(nearbyintf(v) + zp) as a byte of type t (round half to even). */
static inline uint8_t q_quant(float v, int zp, evo_dtype t)
{
    long q = lrintf(v) + zp;
    int lo = t == EVO_DTYPE_INT8 ? -128 : 0, hi = t == EVO_DTYPE_INT8 ? 127 : 255;
    q = q < lo ? lo : q > hi ? hi : q;
    return (uint8_t)q;
}

/* Runs the reference kernel of node; data of constant inputs comes from the graph. */
static inline void q_run(evo_graph *g, int node, void *const *in_data, void *out_data, int n_tasks)
{
    evo_node *n = &g->nodes[node];
    evo_tensor in[Q_MAX_IN], out;
    CHECK(n->n_in <= Q_MAX_IN);
    for (int i = 0; i < n->n_in && i < Q_MAX_IN; i++) {
        memset(&in[i], 0, sizeof(in[i]));
        if (n->in[i] >= 0) {
            const evo_value *v = &g->values[n->in[i]];
            nn_tensor(v, v->data ? (void *)v->data : in_data[i], &in[i]);
        }
    }
    nn_tensor(&g->values[n->out[0]], out_data, &out);
    const evo_kernel_def *k = evo_kernel_ref(n->op);
    evo_kernel_args args = {n, in, n->n_in, &out, 1, NULL, 0, NULL, NULL};
    for (int t = n_tasks - 1; t >= 0; t--)
        k->run(&args, t, n_tasks);
}

/* Counts bytes of got that differ from want; prints the first ones with what. */
static inline int q_compare(const uint8_t *got, const uint8_t *want, int64_t n, evo_dtype t, const char *what)
{
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (got[i] != want[i] && bad++ < 3)
            fprintf(stderr, "%s: element %lld = %d, want %d\n", what, (long long)i, q_val(got[i], t),
                    q_val(want[i], t));
    }
    return bad;
}

#endif /* EVO_Q_UTIL_H */
