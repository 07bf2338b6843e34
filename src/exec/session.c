/*
 * session.c - evo_session: the mutable half of inference. A session owns
 * one arena (activations at planned offsets, then scratch), the thread pool
 * and the per-step kernel arguments, all built at create time so that
 * evo_session_run is only a loop of kernel calls.
 */
#include "core/cpu.h"
#include "exec/adapt.h"
#include "exec/model.h"
#include "exec/pool.h"
#include "exec/session.h"
#include "exec/tasks.h"
#include "plan/plan.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct step_call {
    const evo_kernel_def *kernel;
    evo_kernel_args args;
    _Atomic int64_t *cpu_ns; /* profiling: the step's task times, summed over the threads; else NULL */
} step_call;

struct evo_session {
    const evo_model *model;
    evo_plan plan;
    evo_pool *pool;
    uint8_t *arena;
    step_call *calls;
    evo_tensor *tensors; /* all steps' in/out descriptors, pointed to by calls[].args */
    void **out_data;     /* per graph output */
    void **in_data;      /* per graph input */
    uint8_t *packed;     /* all steps' packed weights */
    size_t packed_bytes;
    uint8_t *state;      /* all steps' run states (evo_kernel_def.state_bytes) */
    bool profile;
    int64_t *step_ns;
    _Atomic int64_t *step_cpu_ns; /* profiling: time the step's tasks ran, summed over the threads */
    int64_t dispatch_ns; /* the pool's measured fork/join cost */
    int n_serial;        /* steps run on the calling thread alone */
    bool adaptive;       /* runs choose between the threads and the calling thread alone (adapt.c) */
    evo_adapt adapt;
};

evo_session_options evo_session_options_default(void)
{
    evo_session_options o;
    memset(&o, 0, sizeof(o));
    o.n_threads = 1;
    return o;
}

static void *value_ptr(const evo_graph *g, const evo_plan *p, uint8_t *arena, int v)
{
    if (v < 0)
        return NULL;
    if (g->values[v].data)
        return (void *)g->values[v].data;
    return p->offsets[v] >= 0 ? arena + p->offsets[v] : NULL;
}

static void fill_tensor(const evo_graph *g, const evo_plan *p, uint8_t *arena, int v, evo_tensor *t)
{
    memset(t, 0, sizeof(*t));
    if (v < 0)
        return;
    const evo_value *val = &g->values[v];
    t->dtype = val->dtype;
    t->rank = val->rank;
    for (int d = 0; d < val->rank; d++)
        t->dims[d] = val->dims[d];
    t->data = value_ptr(g, p, arena, v);
}

static evo_status resolve_isa(const evo_session_options *o, evo_isa *out, evo_error *err)
{
    const char *name = o->isa ? o->isa : getenv("EVO_ISA");
    *out = EVO_ISA_AMX;
    if (!name || !name[0])
        return EVO_OK;
    if (!evo_isa_parse(name, out) || !evo_isa_native(*out))
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s ISA \"%s\" (expected %s)",
                          evo_isa_parse(name, out) ? "this CPU architecture has no" : "unknown", name,
                          evo_isa_choices());
    return EVO_OK;
}

static evo_status build_calls(evo_session *s, evo_error *err)
{
    const evo_graph *g = s->model->g;
    const evo_plan *p = &s->plan;
    size_t n_tensors = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const evo_node *n = &g->nodes[p->steps[i].node];
        n_tensors += (size_t)(n->n_in + n->n_out);
    }
    s->calls = calloc((size_t)p->n_steps + 1, sizeof(step_call));
    s->tensors = calloc(n_tensors + 1, sizeof(evo_tensor));
    s->step_ns = calloc((size_t)p->n_steps + 1, sizeof(int64_t));
    s->step_cpu_ns = calloc((size_t)p->n_steps + 1, sizeof(*s->step_cpu_ns));
    if (!s->calls || !s->tensors || !s->step_ns || !s->step_cpu_ns)
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the session");
    size_t packed_total = 0, state_total = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const evo_kernel_def *k = p->steps[i].kernel;
        if (k->pack && k->packed_bytes)
            packed_total += (k->packed_bytes(g, &g->nodes[p->steps[i].node]) + 63) & ~(size_t)63;
        if (k->state_bytes)
            state_total += (k->state_bytes(g, &g->nodes[p->steps[i].node]) + 63) & ~(size_t)63;
    }
    if (state_total && !(s->state = evo_aligned_alloc(state_total)))
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory: %zu bytes of run state", state_total);
    if (state_total)
        memset(s->state, 0, state_total);
    if (packed_total) {
        s->packed = evo_large_alloc(packed_total);
        if (!s->packed)
            return evo_errorf(err, EVO_ERR_NOMEM, "out of memory: %zu bytes of packed weights", packed_total);
        s->packed_bytes = packed_total;
    }
    size_t packed_at = 0, state_at = 0;
    evo_tensor *t = s->tensors;
    uint8_t *scratch = s->arena + p->arena_bytes;
    for (int i = 0; i < p->n_steps; i++) {
        const evo_node *n = &g->nodes[p->steps[i].node];
        step_call *c = &s->calls[i];
        c->kernel = p->steps[i].kernel;
        c->cpu_ns = s->profile ? &s->step_cpu_ns[i] : NULL;
        c->args.node = n;
        c->args.in = t;
        c->args.n_in = n->n_in;
        for (int k = 0; k < n->n_in; k++)
            fill_tensor(g, p, s->arena, n->in[k], t++);
        c->args.out = t;
        c->args.n_out = n->n_out;
        for (int k = 0; k < n->n_out; k++)
            fill_tensor(g, p, s->arena, n->out[k], t++);
        c->args.fused_prev = i > 0 && p->steps[i - 1].fused ? &s->calls[i - 1].args : NULL;
        c->args.scratch = p->steps[i].scratch_bytes ? scratch : NULL;
        c->args.scratch_bytes = p->steps[i].scratch_bytes;
        size_t bytes = c->kernel->pack && c->kernel->packed_bytes ? c->kernel->packed_bytes(g, n) : 0;
        if (bytes) { /* 0: nothing packed for this node, the kernel reads its constants */
            c->kernel->pack(g, n, s->packed + packed_at);
            c->args.packed = s->packed + packed_at;
            packed_at += (bytes + 63) & ~(size_t)63;
        }
        size_t state = c->kernel->state_bytes ? c->kernel->state_bytes(g, n) : 0;
        if (state) {
            c->args.state = s->state + state_at;
            state_at += (state + 63) & ~(size_t)63;
        }
    }
    return EVO_OK;
}

static evo_status session_create(const evo_model *model, const evo_session_options *opts, bool observable,
                                 evo_session **out, evo_error *err)
{
    if (!model || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_session_create: model and out are required");
    evo_session_options defaults = evo_session_options_default();
    if (!opts)
        opts = &defaults;
    evo_isa isa;
    evo_status st = resolve_isa(opts, &isa, err);
    if (st)
        return st;
    int n_threads = opts->n_threads < 1 ? 1 : opts->n_threads;
    int n_tasks = n_threads > 1 ? n_threads * evo_tasks_per_thread() : 1;
    evo_session *s = calloc(1, sizeof(*s));
    if (!s)
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the session");
    s->model = model;
    s->profile = opts->profile != 0;
    const evo_graph *g = model->g;
    st = observable ? evo_plan_build_unfused(g, isa, n_tasks, &s->plan, err)
                    : evo_plan_build(g, isa, n_tasks, &s->plan, err);
    if (st)
        goto fail;
    size_t arena_bytes = s->plan.arena_bytes + s->plan.scratch_bytes;
    s->arena = evo_large_alloc(arena_bytes);
    if (!s->arena) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "out of memory: arena of %zu bytes", arena_bytes);
        goto fail;
    }
    memset(s->arena, 0, arena_bytes);
    st = evo_pool_create(n_threads, &s->pool, err);
    if (st)
        goto fail;
    s->dispatch_ns = evo_pool_dispatch_ns(s->pool);
    s->n_serial = evo_plan_assign_tasks(g, &s->plan, s->dispatch_ns);
    s->adaptive = n_threads > 1 && !s->profile && !opts->fixed_threads && !observable;
    st = build_calls(s, err);
    if (st)
        goto fail;
    s->in_data = calloc((size_t)g->n_inputs + 1, sizeof(void *));
    s->out_data = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    if (!s->in_data || !s->out_data) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "out of memory creating the session");
        goto fail;
    }
    for (int i = 0; i < g->n_inputs; i++)
        s->in_data[i] = value_ptr(g, &s->plan, s->arena, g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        s->out_data[i] = value_ptr(g, &s->plan, s->arena, g->outputs[i]);
    *out = s;
    return EVO_OK;
fail:
    evo_session_free(s);
    return st;
}

evo_status evo_session_create(const evo_model *model, const evo_session_options *opts,
                              evo_session **out, evo_error *err)
{
    return session_create(model, opts, false, out, err);
}

evo_status evo_session_create_observable(const evo_model *model, const evo_session_options *opts,
                                         evo_session **out, evo_error *err)
{
    return session_create(model, opts, true, out, err);
}

void evo_session_free(evo_session *s)
{
    if (!s)
        return;
    evo_pool_free(s->pool);
    evo_plan_free(&s->plan);
    evo_aligned_free(s->arena);
    evo_aligned_free(s->packed);
    evo_aligned_free(s->state);
    free(s->calls);
    free(s->tensors);
    free(s->step_ns);
    free(s->step_cpu_ns);
    free(s->in_data);
    free(s->out_data);
    free(s);
}

void *evo_session_input_data(evo_session *s, int i)
{
    if (!s || i < 0 || i >= s->model->n_inputs)
        return NULL;
    return s->in_data[i];
}

const void *evo_session_output_data(const evo_session *s, int i)
{
    if (!s || i < 0 || i >= s->model->n_outputs)
        return NULL;
    return s->out_data[i];
}

static void run_call(void *ctx, int task, int n_tasks)
{
    const step_call *c = ctx;
    if (!c->cpu_ns) {
        c->kernel->run(&c->args, task, n_tasks);
        return;
    }
    int64_t t0 = evo_now_ns();
    c->kernel->run(&c->args, task, n_tasks);
    atomic_fetch_add_explicit(c->cpu_ns, evo_now_ns() - t0, memory_order_relaxed);
}

evo_status evo_session_run(evo_session *s, evo_error *err)
{
    if (!s)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_session_run: no session");
    evo_run_way way = s->adaptive ? evo_adapt_next(&s->adapt) : EVO_RUN_THREADS;
    int64_t run_t0 = s->adaptive ? evo_now_ns() : 0;
    for (int i = 0; i < s->plan.n_steps; i++) {
        if (s->plan.steps[i].skip || s->plan.steps[i].fused)
            continue;
        int64_t t0 = s->profile ? evo_now_ns() : 0;
        if (s->profile)
            atomic_store_explicit(&s->step_cpu_ns[i], 0, memory_order_relaxed);
        if (s->plan.steps[i].n_tasks == 1 || way == EVO_RUN_SERIAL)
            run_call(&s->calls[i], 0, 1);
        else
            evo_pool_run_tasks(s->pool, run_call, &s->calls[i], s->plan.steps[i].n_tasks);
        if (s->profile)
            s->step_ns[i] = evo_now_ns() - t0;
    }
    if (s->adaptive)
        evo_adapt_record(&s->adapt, way, evo_now_ns() - run_t0);
    return EVO_OK;
}

evo_status evo_session_run_observed(evo_session *s, evo_step_observer fn, void *user, evo_error *err)
{
    if (!s || !fn)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_session_run_observed: no session or observer");
    for (int i = 0; i < s->plan.n_steps; i++) {
        const step_call *c = &s->calls[i];
        if (s->plan.steps[i].fused)
            return evo_errorf(err, EVO_ERR_INTERNAL, "evo_session_run_observed: the session runs fused pairs");
        atomic_store_explicit(&s->step_cpu_ns[i], 0, memory_order_relaxed);
        if (!s->plan.steps[i].skip)
            evo_pool_run_tasks(s->pool, run_call, &s->calls[i], s->plan.steps[i].n_tasks);
        /* a view's bytes are complete here: its producers ran in the steps before */
        fn(user, c->args.node, c->args.out, c->args.n_out);
    }
    return EVO_OK;
}

int evo_session_n_steps(const evo_session *s)
{
    return s ? s->plan.n_steps : 0;
}

static double value_bytes(const evo_graph *g, int v)
{
    return v < 0 ? 0 : (double)evo_value_count(&g->values[v]) * (double)evo_dtype_size(g->values[v].dtype);
}

/* Bytes of n's inputs (constants included) and, with outputs, its outputs. */
static double io_bytes(const evo_graph *g, const evo_node *n, bool outputs)
{
    double b = 0;
    for (int k = 0; k < n->n_in; k++)
        b += value_bytes(g, n->in[k]);
    for (int k = 0; outputs && k < n->n_out; k++)
        b += value_bytes(g, n->out[k]);
    return b;
}

evo_status evo_session_profile(const evo_session *s, int i, evo_step_profile *out)
{
    if (!s || i < 0 || i >= s->plan.n_steps || !out)
        return EVO_ERR_INVALID_ARG;
    const evo_graph *g = s->model->g;
    const evo_node *n = &g->nodes[s->plan.steps[i].node];
    out->node = n->name;
    out->op = n->op_type;
    out->kernel = s->plan.steps[i].skip ? "view" : s->plan.steps[i].fused ? "fused" : s->plan.steps[i].kernel->name;
    out->time_ms = (double)s->step_ns[i] / 1e6;
    out->cpu_ms = (double)atomic_load_explicit(&s->step_cpu_ns[i], memory_order_relaxed) / 1e6;
    /* a fused pair's second step does the first's work too (a chain of pairs: all before it) */
    out->flops = s->plan.steps[i].fused ? 0 : evo_node_flops(g, n);
    out->output = n->n_out > 0 && n->out[0] >= 0 && g->values[n->out[0]].name ? g->values[n->out[0]].name : "";
    out->bytes = s->plan.steps[i].fused || s->plan.steps[i].skip ? 0 : io_bytes(g, n, true);
    for (int j = i - 1; !s->plan.steps[i].fused && j >= 0 && s->plan.steps[j].fused; j--) {
        const evo_node *f = &g->nodes[s->plan.steps[j].node];
        out->flops += evo_node_flops(g, f);
        /* the first of a pair: its inputs; its output never stored unless the next kernel keeps it */
        out->bytes += io_bytes(g, f, s->plan.steps[j + 1].kernel->keeps_prev_output);
        if (j > 0 && s->plan.steps[j - 1].fused) /* its input from the pair before, never stored */
            out->bytes -= value_bytes(g, f->in[0]);
    }
    out->n_tasks = s->plan.steps[i].n_tasks;
    out->is_reference = !s->plan.steps[i].skip && s->plan.steps[i].kernel == evo_kernel_ref(n->op);
    return EVO_OK;
}

size_t evo_session_arena_bytes(const evo_session *s)
{
    return s ? s->plan.arena_bytes + s->plan.scratch_bytes : 0;
}

evo_pool *evo_session_pool(evo_session *s)
{
    return s->pool;
}

int64_t evo_session_dispatch_ns(const evo_session *s)
{
    return s->dispatch_ns;
}

int64_t evo_session_runs(const evo_session *s, int64_t *serial_runs)
{
    if (serial_runs)
        *serial_runs = s && s->adaptive ? s->adapt.serial_runs : 0;
    return s && s->adaptive ? s->adapt.runs : 0;
}

int evo_session_serial_steps(const evo_session *s)
{
    return s->n_serial;
}

int evo_session_step_node(const evo_session *s, int i)
{
    return i >= 0 && i < s->plan.n_steps ? s->plan.steps[i].node : -1;
}

int evo_session_step_tasks(const evo_session *s, int i)
{
    return i >= 0 && i < s->plan.n_steps ? s->plan.steps[i].n_tasks : 0;
}
