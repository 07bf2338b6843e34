/*
 * model.h - the compiled model behind the public evo_model handle: the
 * graph after all passes plus cached input/output descriptions. Immutable
 * after load, so sessions on several threads may share it.
 */
#ifndef EVO_MODEL_H
#define EVO_MODEL_H

#include "graph/graph.h"

struct evo_model {
    evo_graph *g;
    evo_tensor_desc *inputs;
    evo_tensor_desc *outputs;
    int n_inputs, n_outputs;
};

/* Imports and compiles; *out is a graph that passed every pass. */
evo_status evo_graph_load_compiled(const char *path, const void *data, size_t size_bytes,
                                   const evo_compile_options *opts, evo_graph **out,
                                   evo_error *err);

/* Wraps a compiled graph (ownership passes to the model on success). */
evo_status evo_model_from_graph(evo_graph *g, evo_model **out, evo_error *err);

/* Arithmetic operations of one node (2 per multiply-add, float or integer), 0 for ops not counted. */
double evo_node_flops(const evo_graph *g, const evo_node *n);

#endif /* EVO_MODEL_H */
