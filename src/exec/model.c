/*
 * model.c - evo_model_load: import (ONNX), run the pass pipeline, and cache
 * the input/output descriptions. The returned model owns the graph and
 * through it the file mapping and every weight.
 */
#include "exec/model.h"
#include "npu/npu.h"
#include "onnx/onnx.h"
#include "passes/passes.h"
#include "plan/evo_file.h"

#include <stdlib.h>
#include <string.h>

evo_compile_options evo_compile_options_default(void)
{
    evo_compile_options o;
    memset(&o, 0, sizeof(o));
    o.default_batch = 1;
    return o;
}

/* opts->npu_target: g's nodes on that NPU get its integer semantics; the summary goes to opts->log. */
static evo_status simulate_target(evo_graph *g, const evo_compile_options *opts, evo_error *err)
{
    const evo_npu_target *t = evo_npu_target_find(opts->npu_target);
    if (!t) {
        char list[512];
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: unknown NPU target \"%s\" (known: %s)", g->file,
                          opts->npu_target, evo_npu_target_list(list, sizeof(list)));
    }
    if (t->table && !evo_npu_graph_is_int8(g))
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "%s: simulating %s needs an int8 model: evo quantize MODEL --calib DIR -o MODEL_int8.evo",
                          g->file, t->name);
    evo_npu_sim sim;
    evo_status s = evo_npu_simulate(g, t, &sim, err);
    if (!s && opts->log) {
        char msg[1024];
        opts->log(opts->log_user, 1, evo_npu_sim_summary(&sim, t->name, msg, sizeof(msg)));
    }
    return s;
}

evo_status evo_graph_load_compiled(const char *path, const void *data, size_t size_bytes,
                                   const evo_compile_options *opts, evo_graph **out,
                                   evo_error *err)
{
    evo_compile_options defaults = evo_compile_options_default();
    evo_graph *g = NULL;
    if (data ? evo_file_has_magic(data, size_bytes) : evo_file_path_has_magic(path)) {
        /* a compiled .evo file: already through every pass */
        evo_status s = data ? evo_file_load_buffer(data, size_bytes, path, 0, &g, err)
                            : evo_file_load(path, &g, err);
        if (!s && ((s = evo_file_check_options(g, opts, err)) ||
                   (opts && opts->npu_target && (s = simulate_target(g, opts, err)))))
            evo_graph_free(g);
        if (!s)
            *out = g;
        return s;
    }
    evo_status s = data ? evo_onnx_load_buffer(data, size_bytes, path, &g, err)
                        : evo_onnx_load_file(path, &g, err);
    if (s)
        return s;
    evo_pass_ctx ctx = {opts ? opts : &defaults, err};
    s = evo_passes_run(g, &ctx);
    if (!s && opts && opts->npu_target)
        s = simulate_target(g, opts, err);
    if (s) {
        evo_graph_free(g);
        return s;
    }
    *out = g;
    return EVO_OK;
}

static void fill_desc(const evo_value *v, evo_tensor_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->name = v->name;
    d->dtype = v->dtype;
    d->rank = v->rank;
    for (int i = 0; i < v->rank && i < EVO_MAX_RANK; i++)
        d->dims[i] = v->dims[i];
    d->size_bytes = (size_t)evo_value_count(v) * evo_dtype_size(v->dtype);
}

evo_status evo_model_from_graph(evo_graph *g, evo_model **out, evo_error *err)
{
    evo_model *m = calloc(1, sizeof(*m));
    if (!m)
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory");
    m->g = g;
    m->n_inputs = g->n_inputs;
    m->n_outputs = g->n_outputs;
    m->inputs = calloc((size_t)g->n_inputs + 1, sizeof(evo_tensor_desc));
    m->outputs = calloc((size_t)g->n_outputs + 1, sizeof(evo_tensor_desc));
    if (!m->inputs || !m->outputs) {
        free(m->inputs);
        free(m->outputs);
        free(m);
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_inputs; i++)
        fill_desc(&g->values[g->inputs[i]], &m->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        fill_desc(&g->values[g->outputs[i]], &m->outputs[i]);
    *out = m;
    return EVO_OK;
}

evo_status evo_model_load(const char *path, const evo_compile_options *opts, evo_model **out,
                          evo_error *err)
{
    if (!path || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_model_load: path and out are required");
    evo_graph *g;
    evo_status s = evo_graph_load_compiled(path, NULL, 0, opts, &g, err);
    if (s)
        return s;
    s = evo_model_from_graph(g, out, err);
    if (s)
        evo_graph_free(g);
    return s;
}

evo_status evo_model_load_buffer(const void *data, size_t size_bytes, const char *name,
                                 const evo_compile_options *opts, evo_model **out, evo_error *err)
{
    if (!data || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_model_load_buffer: data and out are required");
    evo_graph *g;
    evo_status s = evo_graph_load_compiled(name ? name : "<memory>", data, size_bytes, opts, &g, err);
    if (s)
        return s;
    s = evo_model_from_graph(g, out, err);
    if (s)
        evo_graph_free(g);
    return s;
}

void evo_model_free(evo_model *m)
{
    if (!m)
        return;
    evo_graph_free(m->g);
    free(m->inputs);
    free(m->outputs);
    free(m);
}

int evo_model_n_inputs(const evo_model *m)
{
    return m ? m->n_inputs : 0;
}

int evo_model_n_outputs(const evo_model *m)
{
    return m ? m->n_outputs : 0;
}

evo_status evo_model_input_desc(const evo_model *m, int i, evo_tensor_desc *out)
{
    if (!m || i < 0 || i >= m->n_inputs || !out)
        return EVO_ERR_INVALID_ARG;
    *out = m->inputs[i];
    return EVO_OK;
}

evo_status evo_model_output_desc(const evo_model *m, int i, evo_tensor_desc *out)
{
    if (!m || i < 0 || i >= m->n_outputs || !out)
        return EVO_ERR_INVALID_ARG;
    *out = m->outputs[i];
    return EVO_OK;
}

double evo_node_flops(const evo_graph *g, const evo_node *n)
{
    const evo_value *out = n->n_out > 0 && n->out[0] >= 0 ? &g->values[n->out[0]] : NULL;
    if (!out)
        return 0;
    double out_count = (double)evo_value_count(out);
    switch (n->op) {
    case EVO_OP_CONV:
    case EVO_OP_CONV_INTEGER:
    case EVO_OP_QLINEAR_CONV: {
        int wi = n->op == EVO_OP_QLINEAR_CONV ? 3 : 1;
        const evo_value *w = n->n_in > wi && n->in[wi] >= 0 ? &g->values[n->in[wi]] : NULL;
        if (!w || w->rank < 2)
            return 0;
        double per = 1; /* C/group * kernel volume */
        for (int d = 1; d < w->rank; d++)
            per *= (double)w->dims[d];
        return 2.0 * out_count * per;
    }
    case EVO_OP_CONV_TRANSPOSE: {
        const evo_value *x = &g->values[n->in[0]];
        const evo_value *w = n->n_in > 1 && n->in[1] >= 0 ? &g->values[n->in[1]] : NULL;
        if (!w || w->rank < 2)
            return 0;
        double per = 1; /* M/group * kernel volume per input element */
        for (int d = 1; d < w->rank; d++)
            per *= (double)w->dims[d];
        return 2.0 * (double)evo_value_count(x) * per;
    }
    case EVO_OP_MATMUL:
    case EVO_OP_MATMUL_INTEGER:
    case EVO_OP_QLINEAR_MATMUL:
    case EVO_OP_GEMM: {
        const evo_value *a = &g->values[n->in[0]];
        if (a->rank < 1)
            return 0;
        double k = (double)a->dims[a->rank - 1];
        if (n->op == EVO_OP_GEMM && n->a.gemm.trans_a && a->rank == 2)
            k = (double)a->dims[0];
        return 2.0 * out_count * k;
    }
    default:
        return 0;
    }
}
