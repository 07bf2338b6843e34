/*
 * check.c - the first pass: makes the imported graph well-formed or says
 * why it is not. Each value gets exactly one producer; nodes are put in
 * topological order (stable with respect to file order, so dumps follow the
 * file) and a cycle is reported with a node on it; every node input, graph
 * output and op is checked to exist; unknown input dims are fixed from the
 * options or rejected with the flag that fixes them.
 */
#include "graph/op.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

static evo_status assign_producers(evo_graph *g, evo_error *err)
{
    for (int v = 0; v < g->n_values; v++)
        g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        for (int o = 0; o < n->n_out; o++) {
            if (n->out[o] < 0)
                continue;
            evo_value *v = &g->values[n->out[o]];
            if (v->producer >= 0 || v->is_input)
                return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "output \"%s\" is already produced by %s",
                                       v->name, v->is_input ? "a graph input" : g->nodes[v->producer].name);
            if (v->data)
                return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                       "output \"%s\" has the same name as an initializer", v->name);
            v->producer = i;
        }
    }
    return EVO_OK;
}

static evo_status check_inputs(evo_graph *g, evo_error *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] < 0)
                continue;
            const evo_value *v = &g->values[n->in[k]];
            if (v->producer < 0 && !v->is_input && !v->data)
                return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                       "input %d \"%s\" is not a graph input, an initializer or the "
                                       "output of any node",
                                       k, v->name);
        }
    }
    for (int k = 0; k < g->n_outputs; k++) {
        const evo_value *v = &g->values[g->outputs[k]];
        if (v->producer < 0 && !v->is_input && !v->data)
            return evo_errorf(err, EVO_ERR_PARSE, "%s: graph output \"%s\" is not produced by any node",
                              g->file, v->name);
    }
    return EVO_OK;
}

/* Kahn's algorithm, taking the lowest ready node id first to keep file order. */
static evo_status topo_sort(evo_graph *g, evo_error *err)
{
    int nn = g->n_nodes;
    evo_status s = EVO_OK;
    int *indeg = calloc((size_t)nn + 1, sizeof(int));
    int *order = malloc(sizeof(int) * ((size_t)nn + 1));
    int *heap = malloc(sizeof(int) * ((size_t)nn + 1));
    /* consumers as CSR */
    int *cons_start = calloc((size_t)nn + 2, sizeof(int));
    int *cons = NULL;
    evo_node *sorted = NULL;
    if (!indeg || !order || !heap || !cons_start) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory sorting nodes", g->file);
        goto done;
    }
    int64_t n_edges = 0;
    for (int i = 0; i < nn; i++) {
        const evo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] >= 0 && g->values[n->in[k]].producer >= 0) {
                cons_start[g->values[n->in[k]].producer + 1]++;
                indeg[i]++;
                n_edges++;
            }
        }
    }
    for (int i = 0; i < nn; i++)
        cons_start[i + 1] += cons_start[i];
    cons = malloc(sizeof(int) * (size_t)(n_edges + 1));
    if (!cons) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory sorting nodes", g->file);
        goto done;
    }
    {
        int *fill = calloc((size_t)nn + 1, sizeof(int));
        if (!fill) {
            s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory sorting nodes", g->file);
            goto done;
        }
        for (int i = 0; i < nn; i++) {
            const evo_node *n = &g->nodes[i];
            for (int k = 0; k < n->n_in; k++) {
                if (n->in[k] >= 0 && g->values[n->in[k]].producer >= 0) {
                    int p = g->values[n->in[k]].producer;
                    cons[cons_start[p] + fill[p]++] = i;
                }
            }
        }
        free(fill);
    }
    /* min-heap of ready node ids */
    int hn = 0, n_order = 0;
    for (int i = 0; i < nn; i++) {
        if (indeg[i] == 0)
            heap[hn++] = i; /* ascending insertion keeps the heap property */
    }
    while (hn > 0) {
        int top = heap[0];
        heap[0] = heap[--hn];
        for (int i = 0;;) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < hn && heap[l] < heap[m])
                m = l;
            if (r < hn && heap[r] < heap[m])
                m = r;
            if (m == i)
                break;
            int t = heap[i];
            heap[i] = heap[m];
            heap[m] = t;
            i = m;
        }
        order[n_order++] = top;
        for (int c = cons_start[top]; c < cons_start[top + 1]; c++) {
            int id = cons[c];
            if (--indeg[id] == 0) {
                int i = hn++;
                heap[i] = id;
                while (i > 0 && heap[(i - 1) / 2] > heap[i]) {
                    int t = heap[i];
                    heap[i] = heap[(i - 1) / 2];
                    heap[(i - 1) / 2] = t;
                    i = (i - 1) / 2;
                }
            }
        }
    }
    if (n_order < nn) {
        for (int i = 0; i < nn; i++) {
            if (indeg[i] > 0) {
                s = evo_node_errorf(err, g, &g->nodes[i], EVO_ERR_PARSE,
                                    "the graph has a cycle through this node");
                goto done;
            }
        }
    }
    sorted = malloc(sizeof(evo_node) * ((size_t)nn + 1));
    if (!sorted) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory sorting nodes", g->file);
        goto done;
    }
    for (int i = 0; i < nn; i++)
        sorted[i] = g->nodes[order[i]];
    memcpy(g->nodes, sorted, sizeof(evo_node) * (size_t)nn);
    s = assign_producers(g, err);
done:
    free(indeg);
    free(order);
    free(heap);
    free(cons_start);
    free(cons);
    free(sorted);
    return s;
}

static evo_status check_ops(evo_graph *g, evo_error *err)
{
    int n_unsupported = 0, first = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->op == EVO_OP_UNKNOWN || !evo_op_get(n->op) || !evo_op_get(n->op)->infer) {
            if (first < 0)
                first = i;
            n_unsupported++;
        }
    }
    if (first < 0)
        return EVO_OK;
    const evo_node *n = &g->nodes[first];
    if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "unsupported op in domain \"%s\" (%d unsupported nodes in all; "
                               "`evo info` lists them)",
                               n->domain, n_unsupported);
    return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                           "unsupported op (%d unsupported nodes in all; `evo info` lists them)",
                           n_unsupported);
}

/* Turns the inputs named in opts->const_inputs into constants and drops them from g->inputs. */
static evo_status freeze_inputs(evo_graph *g, const evo_compile_options *opts, evo_error *err)
{
    for (int k = 0; opts && k < opts->n_const_inputs; k++) {
        const evo_const_input *ci = &opts->const_inputs[k];
        int id = evo_graph_find_value(g, ci->name);
        if (id < 0 || !g->values[id].is_input)
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: constant input \"%s\" is not a graph input",
                              g->file, ci->name ? ci->name : "");
        evo_value *v = &g->values[id];
        if (v->dtype != ci->dtype)
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: input \"%s\" is %s, the constant given is %s",
                              g->file, v->name, evo_dtype_name(v->dtype), evo_dtype_name(ci->dtype));
        evo_status s = evo_value_set_const(g, v, ci->dtype, ci->rank, ci->dims, ci->data, err);
        if (s)
            return s;
        v->is_input = false;
        int w = 0;
        for (int i = 0; i < g->n_inputs; i++) {
            if (g->inputs[i] != id)
                g->inputs[w++] = g->inputs[i];
        }
        g->n_inputs = w;
    }
    return EVO_OK;
}

static evo_status fix_input_shapes(evo_graph *g, const evo_compile_options *opts, evo_error *err)
{
    for (int k = 0; opts && k < opts->n_input_shapes; k++) {
        const evo_input_shape *is = &opts->input_shapes[k];
        int id = evo_graph_find_value(g, is->name);
        if (id < 0 || !g->values[id].is_input)
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "%s: --input-shape names \"%s\", which is not a graph input", g->file,
                              is->name);
        evo_value *v = &g->values[id];
        if (v->rank >= 0 && v->rank != is->rank)
            return evo_errorf(err, EVO_ERR_SHAPE, "%s: input \"%s\" has rank %d, --input-shape gives rank %d",
                              g->file, v->name, v->rank, is->rank);
        for (int d = 0; d < is->rank; d++) {
            if (v->rank >= 0 && v->dims[d] >= 0 && v->dims[d] != is->dims[d])
                return evo_errorf(err, EVO_ERR_SHAPE,
                                  "%s: input \"%s\" dim %d is fixed to %lld in the model, "
                                  "--input-shape gives %lld",
                                  g->file, v->name, d, (long long)v->dims[d], (long long)is->dims[d]);
            v->dims[d] = is->dims[d];
        }
        v->rank = is->rank;
    }
    for (int k = 0; k < g->n_inputs; k++) {
        evo_value *v = &g->values[g->inputs[k]];
        if (v->rank < 0)
            return evo_errorf(err, EVO_ERR_SHAPE,
                              "%s: input \"%s\" has no shape; give one with --input-shape %s=1x3x640x640",
                              g->file, v->name, v->name);
        if (evo_dtype_size(v->dtype) == 0)
            return evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: input \"%s\" has unsupported type %s", g->file,
                              v->name, evo_dtype_name(v->dtype));
        for (int d = 0; d < v->rank; d++) {
            if (v->dims[d] >= 0)
                continue;
            if (d == 0 && opts && opts->default_batch > 0) {
                v->dims[0] = opts->default_batch;
                continue;
            }
            return evo_errorf(err, EVO_ERR_SHAPE,
                              "%s: input \"%s\" dim %d is not fixed; give it with --input-shape %s=...",
                              g->file, v->name, d, v->name);
        }
        int64_t count;
        if (!evo_dims_count(v->dims, v->rank, EVO_MAX_ELEMENTS, &count))
            return evo_errorf(err, EVO_ERR_LIMIT, "%s: input \"%s\" is too large", g->file, v->name);
    }
    return EVO_OK;
}

evo_status evo_graph_sort(evo_graph *g, evo_error *err)
{
    return topo_sort(g, err);
}

evo_status evo_pass_check(evo_graph *g, evo_pass_ctx *ctx)
{
    evo_status s = freeze_inputs(g, ctx->opts, ctx->err);
    if (!s)
        s = assign_producers(g, ctx->err);
    if (!s)
        s = check_inputs(g, ctx->err);
    if (!s)
        s = topo_sort(g, ctx->err);
    if (!s)
        s = check_ops(g, ctx->err);
    if (!s)
        s = fix_input_shapes(g, ctx->opts, ctx->err);
    return s;
}
