/*
 * nn_util.h - helpers for the neural-network op tests: build a one-node
 * graph with raw ONNX attributes, run the op's import + shape inference,
 * and run its reference kernel as n_tasks tasks (one after another, each
 * with its own scratch slice), as the executor would.
 */
#ifndef EVO_NN_UTIL_H
#define EVO_NN_UTIL_H

#include "check.h"
#include "graph/op.h"
#include "kernels/kernel.h"

#include <stdlib.h>

/* Adds a float value of the given shape (no data). */
static inline int nn_value(evo_graph *g, const char *name, evo_dtype dtype, int rank, const int64_t *dims)
{
    int id = evo_graph_add_value(g, name);
    evo_value *v = &g->values[id];
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    return id;
}

/* Adds a node; ins[i] < 0 leaves input i empty. Outputs get fresh values "y0", "y1", ... */
static inline int nn_node(evo_graph *g, const char *op_type, int n_in, const int *ins, int n_out)
{
    int id = evo_graph_add_node(g, op_type, "node0", n_in, n_out);
    for (int i = 0; i < n_in; i++)
        g->nodes[id].in[i] = ins[i];
    for (int i = 0; i < n_out; i++) {
        char name[16];
        snprintf(name, sizeof(name), "y%d", i);
        int v = evo_graph_add_value(g, name);
        g->nodes[id].out[i] = v;
        g->values[v].producer = id;
    }
    return id;
}

static inline evo_attr *nn_attr_add(evo_graph *g, int node, const char *name, evo_attr_type t)
{
    evo_node *n = &g->nodes[node];
    evo_attr *attrs = evo_mem_alloc(&g->mem, sizeof(evo_attr) * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(attrs, n->attrs, sizeof(evo_attr) * (size_t)n->n_attrs);
    n->attrs = attrs;
    evo_attr *a = &attrs[n->n_attrs++];
    memset(a, 0, sizeof(*a));
    a->name = evo_mem_strdup(&g->mem, name);
    a->type = t;
    a->tensor = -1;
    return a;
}

static inline void nn_attr_ints(evo_graph *g, int node, const char *name, const int64_t *v, int n)
{
    evo_attr *a = nn_attr_add(g, node, name, EVO_ATTR_INTS);
    int64_t *copy = evo_mem_alloc(&g->mem, sizeof(int64_t) * (size_t)(n ? n : 1));
    memcpy(copy, v, sizeof(int64_t) * (size_t)n);
    a->ints = copy;
    a->n = n;
}

static inline void nn_attr_int(evo_graph *g, int node, const char *name, int64_t v)
{
    nn_attr_add(g, node, name, EVO_ATTR_INT)->i = v;
}

static inline void nn_attr_float(evo_graph *g, int node, const char *name, float v)
{
    nn_attr_add(g, node, name, EVO_ATTR_FLOAT)->f = v;
}

static inline void nn_attr_string(evo_graph *g, int node, const char *name, const char *s)
{
    evo_attr *a = nn_attr_add(g, node, name, EVO_ATTR_STRING);
    a->s = evo_mem_strdup(&g->mem, s);
    a->s_len = strlen(s);
}

/* "pads" = pb[0..ns) then pe[0..ns) (begins, then ends), ns <= 3. */
static inline void nn_attr_pads(evo_graph *g, int node, const int64_t *pb, const int64_t *pe, int ns)
{
    int64_t pads[6];
    for (int i = 0; i < ns; i++) {
        pads[i] = pb[i];
        pads[ns + i] = pe[i];
    }
    nn_attr_ints(g, node, "pads", pads, 2 * ns);
}

/* Runs the op's import and shape inference on node. */
static inline evo_status nn_infer(evo_graph *g, int node, evo_error *err)
{
    evo_node *n = &g->nodes[node];
    const evo_op_def *def = evo_op_get(n->op);
    if (!def)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED, "op not built");
    evo_status s = def->import ? def->import(g, n, err) : EVO_OK;
    if (s)
        return s;
    return def->infer(g, n, err);
}

static inline void nn_tensor(const evo_value *v, void *data, evo_tensor *t)
{
    t->dtype = v->dtype;
    t->rank = v->rank;
    for (int i = 0; i < EVO_MAX_RANK; i++)
        t->dims[i] = i < v->rank ? v->dims[i] : 0;
    t->data = data;
}

/*
 * Runs kernel k on node as n_tasks tasks over in_data/out_data (by input/output); after_pack, when
 * given, may change the packed constants before the run (a test's way to a kernel's other path).
 */
static inline void nn_run_kernel_ex(const evo_kernel_def *k, evo_graph *g, int node, void *const *in_data,
                                    void *const *out_data, int n_tasks, void (*after_pack)(void *packed))
{
    evo_node *n = &g->nodes[node];
    CHECK(k && k->run);
    if (!k || !k->run)
        return;
    evo_tensor in[12], out[4];
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] >= 0)
            nn_tensor(&g->values[n->in[i]], in_data[i], &in[i]);
        else
            memset(&in[i], 0, sizeof(in[i]));
    }
    for (int i = 0; i < n->n_out; i++)
        nn_tensor(&g->values[n->out[i]], out_data[i], &out[i]);
    size_t bytes = k->scratch_bytes ? k->scratch_bytes(g, n, n_tasks) : 0;
    void *scratch = bytes ? evo_aligned_alloc(bytes) : NULL;
    size_t packed_bytes = k->packed_bytes ? k->packed_bytes(g, n) : 0;
    void *packed = packed_bytes ? evo_aligned_alloc(packed_bytes) : NULL;
    if (packed)
        k->pack(g, n, packed);
    if (packed && after_pack)
        after_pack(packed);
    evo_kernel_args args = {n, in, n->n_in, out, n->n_out, scratch, bytes, packed};
    /* Reverse order: a task must not depend on another having run first. */
    for (int t = n_tasks - 1; t >= 0; t--)
        k->run(&args, t, n_tasks);
    evo_aligned_free(scratch);
    evo_aligned_free(packed);
}

static inline void nn_run_kernel(const evo_kernel_def *k, evo_graph *g, int node, void *const *in_data,
                                 void *const *out_data, int n_tasks)
{
    nn_run_kernel_ex(k, g, node, in_data, out_data, n_tasks, NULL);
}

/* Runs the reference kernel of node as n_tasks tasks over in_data/out_data (by input/output). */
static inline void nn_run(evo_graph *g, int node, void *const *in_data, void *const *out_data, int n_tasks)
{
    nn_run_kernel(evo_kernel_ref(g->nodes[node].op), g, node, in_data, out_data, n_tasks);
}

static inline float *nn_random(check_rng *r, int64_t n)
{
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        x[i] = check_rng_float(r, -1.0f, 1.0f);
    return x;
}

/* Compares got vs want with relative tolerance tol * (1 + |want|); prints the first misses. */
static inline int nn_compare(const float *got, const double *want, int64_t n, double tol, const char *what)
{
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])))) {
            if (bad < 3)
                fprintf(stderr, "%s: element %lld = %.7g, want %.7g\n", what, (long long)i, got[i], want[i]);
            bad++;
        }
    }
    return bad;
}

/* Node error messages name the node. */
static inline int nn_names_node(const evo_error *err)
{
    return strstr(err->msg, "node0") != NULL;
}

#endif /* EVO_NN_UTIL_H */
