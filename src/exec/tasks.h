/*
 * tasks.h - the per-step thread count of a plan (tasks.c).
 */
#ifndef EVO_TASKS_H
#define EVO_TASKS_H

#include "plan/plan.h"

/*
 * Tasks per thread a parallel step is split into: $EVO_TASKS_PER_THREAD
 * (1..16) or the default.
 */
int evo_tasks_per_thread(void);
/* A step's estimated single-thread time in nanoseconds, from its FLOPs and bytes. */
double evo_step_estimate_ns(const evo_graph *g, const evo_node *n);
/*
 * Sets each step's n_tasks: 1 when its estimated time is below a few
 * dispatches (dispatch_ns, the pool's measured fork/join cost), else the
 * plan's n_tasks. Returns the number of real steps made serial.
 */
int evo_plan_assign_tasks(const evo_graph *g, evo_plan *p, int64_t dispatch_ns);

#endif /* EVO_TASKS_H */
