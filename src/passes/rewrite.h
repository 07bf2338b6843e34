/*
 * rewrite.h - helpers for passes that rewrite the graph: who consumes a
 * value, and replacing a chain of nodes by its first node.
 */
#ifndef EVO_REWRITE_H
#define EVO_REWRITE_H

#include "graph/graph.h"

/*
 * Live nodes that read value v, written to out[max] (each node once);
 * returns the count (may exceed max). Graph outputs count as one extra
 * consumer each, reported as -1 in out.
 */
int evo_consumers(const evo_graph *g, int v, int *out, int max);

/* Makes node keep write to value `v` (the output of a node being removed). */
void evo_redirect_output(evo_graph *g, int keep, int v);

/* A new constant of dtype named after base, with dims and data (copied; NULL: zeros); returns its id or -1. */
int evo_new_const(evo_graph *g, const char *base, evo_dtype dtype, int rank, const int64_t *dims, const void *data);

/* A new constant float value named after base, with dims; returns its id or -1. */
int evo_new_const_f32(evo_graph *g, const char *base, int rank, const int64_t *dims,
                      const float *data);

#endif /* EVO_REWRITE_H */
