/*
 * builder.h - small graphs built in code (for `evo verify` and tests).
 *
 *     evo_builder b;
 *     evo_builder_init(&b, "check", 42);
 *     evo_build_input(&b, "x", 4, (int64_t[]){1, 8, 16, 16});
 *     evo_build_weight(&b, "w", 4, (int64_t[]){8, 8, 3, 3}, 0.1f);
 *     evo_build_node(&b, "Conv", "x w", "y", "kernel_shape=3,3 pads=1,1,1,1");
 *     evo_build_output(&b, "y");
 *     // then evo_passes_run(b.g, ...) and evo_model_from_graph(b.g, ...)
 */
#ifndef EVO_BUILDER_H
#define EVO_BUILDER_H

#include "graph/graph.h"

#define EVO_BUILDER_MAX_IO 8
/* The most inputs (or outputs) of one node: QLinearConv has 9. */
#define EVO_BUILDER_MAX_NODE_IO 12

typedef struct evo_builder {
    evo_graph *g;
    uint64_t seed;
    bool ok; /* false once anything failed */
} evo_builder;

/* A new empty graph (opset 17) named name; weights drawn from seed. */
evo_status evo_builder_init(evo_builder *b, const char *name, uint64_t seed);
/* The value named name, created when new. */
int evo_build_value(evo_builder *b, const char *name);
/* A float32 graph input. */
void evo_build_input(evo_builder *b, const char *name, int rank, const int64_t *dims);
/* A float32 constant with uniform values in [-scale, scale). */
void evo_build_weight(evo_builder *b, const char *name, int rank, const int64_t *dims, float scale);
/* A graph input of any dtype. */
void evo_build_input_typed(evo_builder *b, const char *name, evo_dtype dtype, int rank, const int64_t *dims);
/* A constant of any dtype holding data (copied); rank 0 is a scalar. */
void evo_build_const(evo_builder *b, const char *name, evo_dtype dtype, int rank, const int64_t *dims,
                     const void *data);
/* An int8 constant with uniform values in [-127, 127] (quantized weights). */
void evo_build_qweight(evo_builder *b, const char *name, int rank, const int64_t *dims);
/* A 1-D int64 constant holding values[0, count) (a Reshape shape, say). */
void evo_build_ints(evo_builder *b, const char *name, int count, const int64_t *values);
/*
 * A node: inputs and outputs are value names separated by spaces ("_" is an
 * empty optional input); attrs are "name=i,j,k" (ints; group, axis,
 * transA/transB, ceil_mode and blocksize are single ints), "name:f" (a
 * float) or "name=word" (a string: the value starts with a letter),
 * separated by spaces.
 */
void evo_build_node(evo_builder *b, const char *op, const char *ins, const char *outs, const char *attrs);
void evo_build_output(evo_builder *b, const char *name);

#endif /* EVO_BUILDER_H */
