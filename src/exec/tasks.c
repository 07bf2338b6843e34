/*
 * tasks.c - how many threads each step of a plan gets.
 *
 * Forking a step onto the pool and joining it again costs a few
 * microseconds (measured per session: evo_pool_dispatch_ns). A step whose
 * work is a small multiple of that gains nothing from a second thread and
 * often loses (the split halves are too small to amortise the join, and
 * caches are shared), so it runs on the calling thread alone. The work is
 * estimated from the step's nominal FLOPs and the bytes it reads and
 * writes, at rates a single core reaches on such small steps; the decision
 * needs the order of magnitude, not the exact time.
 */
#include "exec/model.h"
#include "exec/tasks.h"

#include <stdlib.h>

/* One core's rates on small steps: FLOPs and bytes per nanosecond. */
#define STEP_FLOPS_PER_NS 40.0
#define STEP_BYTES_PER_NS 15.0
/* A step runs in parallel when its estimated single-thread time passes this many dispatches. */
#define STEP_DISPATCH_FACTOR 4.0
/*
 * ... and at least this long: a hand-off measures under a microsecond
 * while the workers spin, but two halves of a step also share the caches
 * and wait for the slower one.
 */
#define STEP_MIN_PARALLEL_NS 8000.0
/*
 * ... but at most this: a dispatch measured while other processes load the
 * machine can reach milliseconds, and it must not turn a whole model serial
 * for the session's life.
 */
#define STEP_MAX_PARALLEL_NS 100000.0

/*
 * Tasks per thread of a parallel step. More tasks than threads let the
 * threads that are running take over the share of one that another
 * process keeps off its core (the pool hands tasks out one at a time);
 * each extra task costs a claim and a smaller tile.
 */
#define TASKS_PER_THREAD 2

int evo_tasks_per_thread(void)
{
    const char *v = getenv("EVO_TASKS_PER_THREAD");
    int n = v && *v ? atoi(v) : TASKS_PER_THREAD;
    return n < 1 ? 1 : n > 16 ? 16 : n;
}

static double value_bytes(const evo_graph *g, int v)
{
    if (v < 0)
        return 0;
    const evo_value *val = &g->values[v];
    return (double)evo_value_count(val) * (double)evo_dtype_size(val->dtype);
}

double evo_step_estimate_ns(const evo_graph *g, const evo_node *n)
{
    double bytes = 0;
    for (int i = 0; i < n->n_in; i++)
        bytes += value_bytes(g, n->in[i]);
    for (int i = 0; i < n->n_out; i++)
        bytes += value_bytes(g, n->out[i]);
    return evo_node_flops(g, n) / STEP_FLOPS_PER_NS + bytes / STEP_BYTES_PER_NS;
}

int evo_plan_assign_tasks(const evo_graph *g, evo_plan *p, int64_t dispatch_ns)
{
    double threshold = STEP_DISPATCH_FACTOR * (double)dispatch_ns;
    if (threshold < STEP_MIN_PARALLEL_NS)
        threshold = STEP_MIN_PARALLEL_NS;
    if (threshold > STEP_MAX_PARALLEL_NS)
        threshold = STEP_MAX_PARALLEL_NS;
    int serial = 0;
    for (int i = 0; i < p->n_steps; i++) {
        evo_step *s = &p->steps[i];
        double est = evo_step_estimate_ns(g, &g->nodes[s->node]);
        /* a fused pair's second step runs the first one's work too (and a chain of pairs all before) */
        for (int j = i - 1; j >= 0 && p->steps[j].fused; j--)
            est += evo_step_estimate_ns(g, &g->nodes[p->steps[j].node]);
        s->n_tasks = p->n_tasks > 1 && est < threshold ? 1 : p->n_tasks;
        serial += p->n_tasks > 1 && s->n_tasks == 1 && !s->skip && !s->fused;
    }
    return serial;
}
