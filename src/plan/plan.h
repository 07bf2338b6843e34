/*
 * plan.h - the lowered form a session executes: a flat list of kernel calls
 * and one arena layout. Every non-constant value lives at a fixed offset in
 * the arena, assigned by liveness so values that are never alive at the same
 * time share bytes. Constants are used in place from the graph.
 */
#ifndef EVO_PLAN_H
#define EVO_PLAN_H

#include "kernels/kernel.h"

typedef struct evo_step {
    int node;                  /* node id in the graph */
    const evo_kernel_def *kernel;
    size_t scratch_bytes;      /* for the plan's n_tasks */
    bool skip;                 /* a view: its outputs already alias its inputs' bytes */
    bool fused;                /* run by the next step's kernel (a fused pair): output never stored,
                                  unless that kernel keeps_prev_output */
    int n_tasks;               /* tasks it is split into: 1 (the calling thread only) or the plan's n_tasks */
} evo_step;

typedef struct evo_plan {
    evo_step *steps;
    int n_steps;
    int64_t *offsets;          /* per value id: arena offset, -1 when constant or unused */
    size_t arena_bytes;        /* values */
    size_t scratch_bytes;      /* largest step scratch, placed after the values */
    size_t naive_bytes;        /* sum of all value sizes: what no sharing would take */
    int n_tasks;               /* tasks the scratch was sized for (threads x tasks per thread) */
} evo_plan;

/* Builds the plan for a compiled graph. max_isa caps kernel selection. */
evo_status evo_plan_build(const evo_graph *g, evo_isa max_isa, int n_tasks, evo_plan *out,
                          evo_error *err);
/*
 * The same plan without fused pairs: every node's outputs are stored, so a
 * step observer (evo_session_run_observed) sees each of them.
 */
evo_status evo_plan_build_unfused(const evo_graph *g, evo_isa max_isa, int n_tasks, evo_plan *out,
                                  evo_error *err);
void evo_plan_free(evo_plan *p);

/*
 * Marks view steps and fills parent/rel (per value: parent value or -1,
 * byte offset in it); last[v] is the last step reading v (past the last
 * step for graph outputs).
 */
void evo_plan_views(const evo_graph *g, evo_plan *p, const int *last, int *parent, int64_t *rel);
/* The root of v's view chain and v's byte offset in it. */
int evo_view_root(const int *parent, const int64_t *rel, int v, int64_t *offset);

#endif /* EVO_PLAN_H */
