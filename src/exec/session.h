/*
 * session.h - what other stages may use of a session beyond the public API.
 */
#ifndef EVO_SESSION_H
#define EVO_SESSION_H

#include "exec/pool.h"
#include "kernels/kernel.h"

/* The session's thread pool (the detection pipeline runs its preprocess on it). */
evo_pool *evo_session_pool(evo_session *sess);
/* The pool's fork/join cost measured at create time, in nanoseconds (0: one thread). */
int64_t evo_session_dispatch_ns(const evo_session *sess);
/* How many steps run on the calling thread alone because they are too small to split. */
int evo_session_serial_steps(const evo_session *sess);
/*
 * Runs of an adaptive session (more than one thread, not profiling, not
 * fixed_threads; else 0) and, at serial_runs if non-NULL, how many of them
 * went on the calling thread alone (adapt.c).
 */
int64_t evo_session_runs(const evo_session *sess, int64_t *serial_runs);
/* The threads step i runs on. */
int evo_session_step_tasks(const evo_session *sess, int i);
/* The graph node step i runs (the model's graph), or -1 when i is out of range. */
int evo_session_step_node(const evo_session *sess, int i);

/*
 * Called after each step of an observed run with the step's node and its
 * output tensors; the bytes are valid until the next step runs.
 */
typedef void (*evo_step_observer)(void *user, const evo_node *n, const evo_tensor *outs, int n_out);

/*
 * evo_session_create with a plan that runs no fused pairs, so that every
 * node's outputs are stored and evo_session_run_observed can show them.
 */
evo_status evo_session_create_observable(const evo_model *model, const evo_session_options *opts,
                                         evo_session **out, evo_error *err);
/* One inference calling fn after every step (views included, in plan order). */
evo_status evo_session_run_observed(evo_session *s, evo_step_observer fn, void *user, evo_error *err);

#endif /* EVO_SESSION_H */
