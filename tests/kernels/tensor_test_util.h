/*
 * tensor_test_util.h - a tiny graph builder for the tensor-op tests: make
 * values (typed inputs or constants), one node with raw attributes, run the
 * op's import + shape inference, then its reference kernel with n_tasks
 * tasks run one after another (tasks are independent, so this is exactly
 * what a pool would compute). Not part of the library.
 */
#ifndef TENSOR_TEST_UTIL_H
#define TENSOR_TEST_UTIL_H

#include "check.h"
#include "graph/op.h"
#include "kernels/kernel.h"

#include <stdlib.h>
#include <string.h>

static inline evo_graph *tg_new(int64_t opset)
{
    evo_graph *g = evo_graph_new("test.onnx");
    g->opset = opset;
    return g;
}

/* A value of known type and dims; a constant when data is not NULL. */
static inline int tg_value(evo_graph *g, const char *name, evo_dtype t, int rank, const int64_t *dims,
                           const void *data)
{
    int id = evo_graph_add_value(g, name);
    evo_value *v = &g->values[id];
    if (data) {
        evo_status s = evo_value_set_const(g, v, t, rank, dims, data, NULL);
        CHECK(s == EVO_OK);
        return id;
    }
    v->dtype = t;
    v->rank = rank;
    for (int d = 0; d < EVO_MAX_RANK; d++)
        v->dims[d] = d < rank ? dims[d] : -1;
    v->is_input = true;
    return id;
}

static inline int tg_i64(evo_graph *g, const char *name, int n, const int64_t *vals)
{
    int64_t dims[1] = {n};
    return tg_value(g, name, EVO_DTYPE_INT64, 1, dims, vals);
}

static inline int tg_f32(evo_graph *g, const char *name, int n, const float *vals)
{
    int64_t dims[1] = {n};
    return tg_value(g, name, EVO_DTYPE_FLOAT, 1, dims, vals);
}

/* A node; ins[i] = -1 for an empty optional input. Outputs are new values. */
static inline int tg_node(evo_graph *g, const char *op_type, const int *ins, int n_in, int n_out)
{
    int id = evo_graph_add_node(g, op_type, NULL, n_in, n_out);
    for (int i = 0; i < n_in; i++)
        g->nodes[id].in[i] = ins[i];
    for (int o = 0; o < n_out; o++) {
        char name[64];
        snprintf(name, sizeof(name), "n%d_out%d", id, o);
        int v = evo_graph_add_value(g, name);
        g->nodes[id].out[o] = v;
        g->values[v].producer = id;
    }
    return id;
}

static inline evo_attr *tg_attr(evo_graph *g, int node, const char *name, evo_attr_type t)
{
    evo_node *n = &g->nodes[node];
    evo_attr *a = evo_mem_alloc(&g->mem, sizeof(evo_attr) * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof(evo_attr) * (size_t)n->n_attrs);
    n->attrs = a;
    evo_attr *at = &a[n->n_attrs++];
    memset(at, 0, sizeof(*at));
    at->name = evo_mem_strdup(&g->mem, name);
    at->type = t;
    at->tensor = -1;
    return at;
}

static inline void tg_attr_int(evo_graph *g, int node, const char *name, int64_t v)
{
    tg_attr(g, node, name, EVO_ATTR_INT)->i = v;
}

static inline void tg_attr_float(evo_graph *g, int node, const char *name, float v)
{
    tg_attr(g, node, name, EVO_ATTR_FLOAT)->f = v;
}

static inline void tg_attr_str(evo_graph *g, int node, const char *name, const char *s)
{
    evo_attr *at = tg_attr(g, node, name, EVO_ATTR_STRING);
    at->s = evo_mem_strdup(&g->mem, s);
    at->s_len = strlen(s);
}

static inline void tg_attr_ints(evo_graph *g, int node, const char *name, int n, const int64_t *v)
{
    int64_t *copy = evo_mem_alloc(&g->mem, sizeof(int64_t) * (size_t)(n ? n : 1));
    memcpy(copy, v, sizeof(int64_t) * (size_t)n);
    evo_attr *at = tg_attr(g, node, name, EVO_ATTR_INTS);
    at->ints = copy;
    at->n = n;
}

static inline void tg_attr_floats(evo_graph *g, int node, const char *name, int n, const float *v)
{
    float *copy = evo_mem_alloc(&g->mem, sizeof(float) * (size_t)(n ? n : 1));
    memcpy(copy, v, sizeof(float) * (size_t)n);
    evo_attr *at = tg_attr(g, node, name, EVO_ATTR_FLOATS);
    at->floats = copy;
    at->n = n;
}

static inline void tg_attr_tensor(evo_graph *g, int node, const char *name, int value_id)
{
    tg_attr(g, node, name, EVO_ATTR_TENSOR)->tensor = value_id;
}

/* Runs import + infer; returns the status (err.msg holds the message). */
static inline evo_status tg_infer(evo_graph *g, int node, evo_error *err)
{
    evo_node *n = &g->nodes[node];
    const evo_op_def *def = evo_op_get(n->op);
    if (!def)
        return EVO_ERR_UNSUPPORTED;
    evo_status s = def->import ? def->import(g, n, err) : EVO_OK;
    if (s)
        return s;
    return def->infer(g, &g->nodes[node], err);
}

static inline void tg_tensor(const evo_value *v, evo_tensor *t, void *data)
{
    memset(t, 0, sizeof(*t));
    t->dtype = v->dtype;
    t->rank = v->rank;
    for (int d = 0; d < v->rank; d++)
        t->dims[d] = v->dims[d];
    t->data = data;
}

/*
 * Runs kernel k (NULL: the reference) with n_tasks tasks. Inputs must be
 * constants. Returns the malloc'd buffer of output `which` (caller frees);
 * other outputs are freed. Buffers are pre-filled with 0xA5 to catch
 * unwritten bytes.
 */
static inline void *tg_run_kernel(evo_graph *g, int node, const evo_kernel_def *k, int n_tasks, int which)
{
    const evo_node *n = &g->nodes[node];
    if (!k)
        k = evo_kernel_ref(n->op);
    evo_tensor in[16], out[16];
    void *bufs[16] = {0};
    CHECK(k && k->run && n->n_in <= 16 && n->n_out <= 16);
    if (!k || !k->run)
        return NULL;
    for (int i = 0; i < n->n_in; i++) {
        const evo_value *v = n->in[i] >= 0 ? &g->values[n->in[i]] : NULL;
        if (v)
            tg_tensor(v, &in[i], (void *)v->data);
        else
            memset(&in[i], 0, sizeof(in[i]));
    }
    for (int o = 0; o < n->n_out; o++) {
        const evo_value *v = &g->values[n->out[o]];
        size_t bytes = (size_t)evo_value_count(v) * evo_dtype_size(v->dtype);
        bufs[o] = malloc(bytes + 1);
        memset(bufs[o], 0xA5, bytes + 1);
        tg_tensor(v, &out[o], bufs[o]);
    }
    size_t scratch_bytes = k->scratch_bytes ? k->scratch_bytes(g, n, n_tasks) : 0;
    void *scratch = scratch_bytes ? malloc(scratch_bytes) : NULL;
    evo_kernel_args args = {.node = n, .in = in, .n_in = n->n_in, .out = out, .n_out = n->n_out,
                            .scratch = scratch, .scratch_bytes = scratch_bytes};
    for (int t = 0; t < n_tasks; t++)
        k->run(&args, t, n_tasks);
    free(scratch);
    for (int o = 0; o < n->n_out; o++) {
        if (o != which)
            free(bufs[o]);
    }
    return bufs[which];
}

/* tg_run_kernel with the reference kernel. */
static inline void *tg_run(evo_graph *g, int node, int n_tasks, int which)
{
    return tg_run_kernel(g, node, NULL, n_tasks, which);
}

/*
 * Each variant the host runs: its supports() must say want_support for
 * node; where it does, its output 0 on 1-3 tasks must equal want (bytes)
 * bit for bit. what and iter name the case. Returns the runs made.
 */
static inline int tg_check_variants(evo_graph *g, int node, const evo_kernel_def *const *variants, size_t n_variants,
                                    bool want_support, const void *want, size_t bytes, const char *what, int iter)
{
    int runs = 0;
    for (size_t v = 0; v < n_variants; v++) {
        const evo_kernel_def *k = variants[v];
        if (!check_host_runs(k))
            continue;
        bool sup = k->supports(g, &g->nodes[node]);
        CHECK_MSG(sup == want_support, "%s %s iter %d: supports() = %d", k->name, what, iter, sup);
        for (int tasks = 1; sup && tasks <= 3; tasks++) {
            void *got = tg_run_kernel(g, node, k, tasks, 0);
            CHECK_MSG(got && memcmp(got, want, bytes) == 0, "%s %s iter %d: %d tasks differ from the reference",
                      k->name, what, iter, tasks);
            runs++;
            free(got);
        }
    }
    return runs;
}

static inline const evo_value *tg_out(evo_graph *g, int node, int o)
{
    return &g->values[g->nodes[node].out[o]];
}

/* True when value v has exactly the given dims. */
static inline bool tg_dims_eq(const evo_value *v, int rank, const int64_t *dims)
{
    if (v->rank != rank)
        return false;
    for (int d = 0; d < rank; d++) {
        if (v->dims[d] != dims[d])
            return false;
    }
    return true;
}

static inline void tg_fill_f32(check_rng *r, float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = check_rng_float(r, -10.0f, 10.0f);
}

#endif /* TENSOR_TEST_UTIL_H */
