/*
 * session.h - what other stages may use of a session beyond the public API.
 */
#ifndef EVO_SESSION_H
#define EVO_SESSION_H

#include "exec/pool.h"

/* The session's thread pool (the detection pipeline runs its preprocess on it). */
evo_pool *evo_session_pool(evo_session *sess);

#endif /* EVO_SESSION_H */
