/*
 * session.h - what other stages may use of a session beyond the public API.
 */
#ifndef EVO_SESSION_H
#define EVO_SESSION_H

#include "exec/pool.h"

/* The session's thread pool (the detection pipeline runs its preprocess on it). */
evo_pool *evo_session_pool(evo_session *sess);
/* The pool's fork/join cost measured at create time, in nanoseconds (0: one thread). */
int64_t evo_session_dispatch_ns(const evo_session *sess);
/* How many steps run on the calling thread alone because they are too small to split. */
int evo_session_serial_steps(const evo_session *sess);
/* The threads step i runs on. */
int evo_session_step_tasks(const evo_session *sess, int i);
/* The graph node step i runs (the model's graph), or -1 when i is out of range. */
int evo_session_step_node(const evo_session *sess, int i);

#endif /* EVO_SESSION_H */
