/*
 * rewrite.h - helpers for passes that rewrite the graph: who consumes a
 * value, replacing a chain of nodes by its first node, and a conv's
 * weights of any dtype.
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

/* The one live node reading value v (and v no graph output), or -1. */
int evo_sole_reader(const evo_graph *g, int v);

/* Conv or QLinearConv, 2-D, with no fused residual or output layout. */
bool evo_conv_like(const evo_node *n);
/* The weight input of a Conv (1) or QLinearConv (3). */
int evo_conv_weight_input(const evo_node *n);
/* The weight zero point of output channel o: a QLinearConv's, else 0. */
double evo_conv_weight_zp(const evo_graph *g, const evo_node *n, int64_t o);
/* Element i of a weight buffer of dtype t (float, int8, uint8), read and written as a double. */
double evo_weight_get(const void *buf, evo_dtype t, int64_t i);
void evo_weight_put(void *buf, evo_dtype t, int64_t i, double v);

#endif /* EVO_REWRITE_H */
