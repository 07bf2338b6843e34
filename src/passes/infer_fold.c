/*
 * infer_fold.c - typed attribute import, static shape inference and
 * constant folding in one walk over the topologically sorted nodes.
 *
 * Folding is generic: once a node's shapes are inferred and all its inputs
 * are constant, its reference kernel runs now and the outputs become
 * constants. This is what resolves the shape subgraphs exporters emit
 * (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) before the next node's
 * inference needs them.
 */
#include "graph/op.h"
#include "kernels/kernel.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

/* Outputs larger than this are left to run time rather than stored folded. */
#define FOLD_MAX_BYTES ((size_t)64 << 20)

static void value_to_tensor(const evo_value *v, evo_tensor *t, void *data)
{
    t->dtype = v->dtype;
    t->rank = v->rank;
    for (int d = 0; d < EVO_MAX_RANK; d++)
        t->dims[d] = d < v->rank ? v->dims[d] : 0;
    t->data = data;
}

static evo_status fold_node(evo_graph *g, evo_node *n, evo_error *err)
{
    const evo_kernel_def *k = evo_kernel_ref(n->op);
    if (!k || !k->run || (k->supports && !k->supports(g, n)))
        return EVO_OK; /* left for run time, which reports the missing kernel */
    size_t out_bytes = 0;
    for (int o = 0; o < n->n_out; o++) {
        const evo_value *v = evo_node_output(g, n, o);
        if (v)
            out_bytes += (size_t)evo_value_count(v) * evo_dtype_size(v->dtype);
    }
    if (out_bytes > FOLD_MAX_BYTES)
        return EVO_OK;
    evo_tensor in[64], out[64];
    if (n->n_in > 64 || n->n_out > 64)
        return EVO_OK;
    for (int i = 0; i < n->n_in; i++) {
        const evo_value *v = evo_node_input(g, n, i);
        if (v)
            value_to_tensor(v, &in[i], (void *)v->data);
        else
            memset(&in[i], 0, sizeof(in[i]));
    }
    for (int o = 0; o < n->n_out; o++) {
        evo_value *v = evo_node_output(g, n, o);
        if (!v) {
            memset(&out[o], 0, sizeof(out[o]));
            continue;
        }
        evo_status s = evo_value_set_const(g, v, v->dtype, v->rank, v->dims, NULL, err);
        if (s)
            return evo_error_prefix(err, "node \"%s\" (%s): folding", n->name, n->op_type);
        value_to_tensor(v, &out[o], (void *)v->data);
    }
    size_t scratch_bytes = k->scratch_bytes ? k->scratch_bytes(g, n, 1) : 0;
    void *scratch = scratch_bytes ? evo_aligned_alloc(scratch_bytes) : NULL;
    if (scratch_bytes && !scratch)
        return evo_node_errorf(err, g, n, EVO_ERR_NOMEM, "out of memory folding (%zu bytes)", scratch_bytes);
    evo_kernel_args args = {n, in, n->n_in, out, n->n_out, scratch, scratch_bytes};
    k->run(&args, 0, 1);
    evo_aligned_free(scratch);
    return EVO_OK;
}

static evo_status infer_node(evo_graph *g, int id, evo_error *err)
{
    evo_node *n = &g->nodes[id];
    const evo_op_def *def = evo_op_get(n->op);
    if (!def || !def->infer)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "unsupported op");
    bool all_const = true;
    for (int i = 0; i < n->n_in; i++) {
        const evo_value *v = evo_node_input(g, n, i);
        if (!v)
            continue;
        if (v->rank < 0 || v->dtype == EVO_DTYPE_UNDEFINED)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d \"%s\" has no known shape", i,
                                   v->name);
        if (!v->data)
            all_const = false;
    }
    evo_status s = def->import ? def->import(g, n, err) : EVO_OK;
    if (s)
        return s;
    s = def->infer(g, n, err);
    if (s)
        return s;
    n = &g->nodes[id]; /* infer may add values; node storage is stable but be safe */
    bool outputs_const = true;
    for (int o = 0; o < n->n_out; o++) {
        evo_value *v = evo_node_output(g, n, o);
        if (!v)
            continue;
        int64_t count;
        if (v->rank < 0 || v->dtype == EVO_DTYPE_UNDEFINED)
            return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL, "output %d \"%s\" was not inferred", o,
                                   v->name);
        if (!evo_dims_count(v->dims, v->rank, EVO_MAX_ELEMENTS, &count))
            return evo_node_errorf(err, g, n, EVO_ERR_LIMIT,
                                   "output \"%s\" is too large or has a negative dim", v->name);
        if (!v->data)
            outputs_const = false;
    }
    if (all_const && !outputs_const)
        return fold_node(g, n, err);
    return EVO_OK;
}

evo_status evo_pass_infer_fold(evo_graph *g, evo_pass_ctx *ctx)
{
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].is_dead)
            continue;
        evo_status s = infer_node(g, i, ctx->err);
        if (s)
            return s;
    }
    return EVO_OK;
}

/* Marks nodes dead whose outputs are all constant or never reach a graph output. */
evo_status evo_pass_dead_code(evo_graph *g, evo_pass_ctx *ctx)
{
    bool *needed = calloc((size_t)g->n_values + 1, sizeof(bool));
    if (!needed)
        return evo_errorf(ctx->err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
    for (int k = 0; k < g->n_outputs; k++)
        needed[g->outputs[k]] = true;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        evo_node *n = &g->nodes[i];
        bool live = false;
        for (int o = 0; o < n->n_out; o++) {
            int v = n->out[o];
            if (v >= 0 && needed[v] && !g->values[v].data)
                live = true;
        }
        n->is_dead = !live;
        if (!live)
            continue;
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] >= 0)
                needed[n->in[k]] = true;
        }
    }
    free(needed);
    return EVO_OK;
}
