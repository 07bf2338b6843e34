/*
 * plan.c - lowering a compiled graph to steps, and the memory planner.
 *
 * The planner walks steps in order: a value is born at its producer's step
 * and dies after its last consumer (graph inputs live from the start, graph
 * outputs to the end). Each value takes the lowest offset that overlaps no
 * live value (first fit over the live set sorted by offset), 64-byte
 * aligned. Optimal packing is NP-hard; first fit in execution order is
 * within a few percent of the lower bound on CNNs.
 */
#include "plan/plan.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

typedef struct live_range {
    int value;
    int first, last; /* step indices, inclusive */
    size_t bytes;
} live_range;

static size_t value_bytes(const evo_value *v)
{
    return (size_t)evo_value_count(v) * evo_dtype_size(v->dtype);
}

static int cmp_offset(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static int cmp_first(const void *a, const void *b)
{
    const live_range *x = a, *y = b;
    if (x->first != y->first)
        return (x->first > y->first) - (x->first < y->first);
    return (x->value > y->value) - (x->value < y->value);
}

/* Assigns offsets; live[] must be sorted by first. */
static evo_status assign_offsets(live_range *lr, int n, int64_t *offsets, size_t *total,
                                 evo_error *err)
{
    int64_t(*active)[2] = malloc(sizeof(*active) * (size_t)(n + 1)); /* {offset, index} */
    if (!active)
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory planning memory");
    int n_active = 0;
    size_t top = 0;
    for (int i = 0; i < n; i++) {
        /* drop ranges that ended before this one starts */
        int w = 0;
        for (int a = 0; a < n_active; a++) {
            if (lr[active[a][1]].last >= lr[i].first) {
                active[w][0] = active[a][0];
                active[w][1] = active[a][1];
                w++;
            }
        }
        n_active = w;
        qsort(active, (size_t)n_active, sizeof(*active), cmp_offset);
        size_t need = ALIGN64(lr[i].bytes), at = 0;
        for (int a = 0; a < n_active; a++) {
            size_t off = (size_t)active[a][0];
            if (off >= at + need)
                break;
            size_t end = off + ALIGN64(lr[active[a][1]].bytes);
            if (end > at)
                at = end;
        }
        offsets[lr[i].value] = (int64_t)at;
        if (at + need > top)
            top = at + need;
        active[n_active][0] = (int64_t)at;
        active[n_active][1] = i;
        n_active++;
    }
    free(active);
    *total = top;
    return EVO_OK;
}

static evo_status plan_build(const evo_graph *g, evo_isa max_isa, int n_tasks, bool fuse_pairs, evo_plan *out,
                             evo_error *err)
{
    evo_plan p;
    memset(&p, 0, sizeof(p));
    p.n_tasks = n_tasks < 1 ? 1 : n_tasks;
    evo_status s = EVO_OK;
    int *first = NULL, *last = NULL, *parent = NULL;
    int64_t *rel = NULL;
    live_range *lr = NULL;
    p.steps = malloc(sizeof(evo_step) * ((size_t)g->n_nodes + 1));
    p.offsets = malloc(sizeof(int64_t) * ((size_t)g->n_values + 1));
    first = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    last = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    lr = malloc(sizeof(live_range) * ((size_t)g->n_values + 1));
    if (!p.steps || !p.offsets || !first || !last || !lr) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory building the plan", g->file);
        goto fail;
    }
    for (int v = 0; v < g->n_values; v++) {
        p.offsets[v] = -1;
        first[v] = last[v] = -1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        const evo_kernel_def *k = evo_kernel_select(g, n, max_isa);
        if (!k) {
            s = evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "no kernel for this op");
            goto fail;
        }
        int step = p.n_steps++;
        if (fuse_pairs && step > 0 && !p.steps[step - 1].fused) { /* the step before may run inside this one */
            const evo_kernel_def *f = evo_kernel_fused(g, &g->nodes[p.steps[step - 1].node], p.steps[step - 1].kernel, n, k);
            if (f) {
                p.steps[step - 1].fused = true;
                k = f;
            }
        }
        p.steps[step].node = i;
        p.steps[step].kernel = k;
        p.steps[step].fused = false;
        p.steps[step].n_tasks = p.n_tasks;
        p.steps[step].scratch_bytes = k->scratch_bytes ? k->scratch_bytes(g, n, p.n_tasks) : 0;
        if (p.steps[step].scratch_bytes > p.scratch_bytes)
            p.scratch_bytes = p.steps[step].scratch_bytes;
        for (int k2 = 0; k2 < n->n_in; k2++) {
            int v = n->in[k2];
            if (v >= 0 && !g->values[v].data)
                last[v] = step;
        }
        for (int o = 0; o < n->n_out; o++) {
            int v = n->out[o];
            if (v >= 0 && !g->values[v].data) {
                first[v] = step;
                if (last[v] < step)
                    last[v] = step;
            }
        }
    }
    for (int s2 = 0; s2 < p.n_steps; s2++) {
        /*
         * a fused pair's middle value is never stored (unless the second
         * kernel keeps it), and the first node's inputs are read in the
         * second step
         */
        const evo_node *n = &g->nodes[p.steps[s2].node];
        if (!p.steps[s2].fused)
            continue;
        if (!p.steps[s2 + 1].kernel->keeps_prev_output)
            first[n->out[0]] = last[n->out[0]] = -1;
        else if (last[n->out[0]] < s2 + 1)
            last[n->out[0]] = s2 + 1;
        for (int k2 = 0; k2 < n->n_in; k2++)
            if (n->in[k2] >= 0 && !g->values[n->in[k2]].data && last[n->in[k2]] < s2 + 1)
                last[n->in[k2]] = s2 + 1;
    }
    for (int k = 0; k < g->n_inputs; k++) {
        int v = g->inputs[k];
        first[v] = 0;
        if (last[v] < 0)
            last[v] = 0;
    }
    for (int k = 0; k < g->n_outputs; k++) {
        int v = g->outputs[k];
        if (!g->values[v].data) {
            if (first[v] < 0)
                first[v] = 0;
            last[v] = p.n_steps;
        }
    }
    /* views: every member of a view tree keeps its root alive */
    parent = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    rel = malloc(sizeof(int64_t) * ((size_t)g->n_values + 1));
    if (!parent || !rel) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory building the plan", g->file);
        goto fail;
    }
    evo_plan_views(g, &p, last, parent, rel);
    for (int v = 0; v < g->n_values; v++) {
        int64_t off;
        int r = evo_view_root(parent, rel, v, &off);
        if (r == v || first[v] < 0)
            continue;
        if (first[r] < 0 || first[v] < first[r])
            first[r] = first[v];
        if (last[v] > last[r])
            last[r] = last[v];
    }
    int n_lr = 0;
    for (int v = 0; v < g->n_values; v++) {
        if (first[v] < 0 || parent[v] >= 0)
            continue;
        lr[n_lr].value = v;
        lr[n_lr].first = first[v];
        lr[n_lr].last = last[v];
        lr[n_lr].bytes = value_bytes(&g->values[v]);
        p.naive_bytes += ALIGN64(lr[n_lr].bytes);
        n_lr++;
    }
    qsort(lr, (size_t)n_lr, sizeof(*lr), cmp_first);
    s = assign_offsets(lr, n_lr, p.offsets, &p.arena_bytes, err);
    if (s)
        goto fail;
    for (int v = 0; v < g->n_values; v++) {
        int64_t off;
        int r = evo_view_root(parent, rel, v, &off);
        if (r != v && first[v] >= 0)
            p.offsets[v] = p.offsets[r] + off;
    }
    free(parent);
    free(rel);
    free(first);
    free(last);
    free(lr);
    *out = p;
    return EVO_OK;
fail:
    free(parent);
    free(rel);
    free(first);
    free(last);
    free(lr);
    evo_plan_free(&p);
    return s;
}

evo_status evo_plan_build(const evo_graph *g, evo_isa max_isa, int n_tasks, evo_plan *out,
                          evo_error *err)
{
    return plan_build(g, max_isa, n_tasks, true, out, err);
}

evo_status evo_plan_build_unfused(const evo_graph *g, evo_isa max_isa, int n_tasks, evo_plan *out,
                                  evo_error *err)
{
    return plan_build(g, max_isa, n_tasks, false, out, err);
}

void evo_plan_free(evo_plan *p)
{
    free(p->steps);
    free(p->offsets);
    memset(p, 0, sizeof(*p));
}
