/*
 * op.h - the contract of one op family on the graph side.
 *
 * import: validate the raw ONNX attributes of n and fill n->a (may be NULL
 *   when the family has no attributes). Runs once, before shapes are known.
 * infer: with every input's dtype and dims known (and data, when constant),
 *   check input count, dtypes and shapes, resolve attributes that depend on
 *   constant inputs or shapes into n->a, and set every output's dtype, rank
 *   and dims. Errors name the node via evo_node_errorf.
 * Constant folding is generic: when all inputs are constant, the pipeline
 * runs the reference kernel at compile time.
 */
#ifndef EVO_OP_H
#define EVO_OP_H

#include "graph/graph.h"

typedef struct evo_op_def {
    evo_status (*import)(evo_graph *g, evo_node *n, evo_error *err);
    evo_status (*infer)(evo_graph *g, evo_node *n, evo_error *err);
} evo_op_def;

/* The op definition for op, or NULL when its family is not built in. */
const evo_op_def *evo_op_get(evo_op op);

/* Sets output i of n to dtype/rank/dims. */
void evo_node_set_output(evo_graph *g, const evo_node *n, int i, evo_dtype dtype, int rank,
                         const int64_t *dims);

/*
 * Numpy-style broadcast of a and b into out (rank = max rank). Returns
 * EVO_ERR_SHAPE with a message naming n when they are incompatible.
 */
evo_status evo_broadcast_dims(const evo_graph *g, const evo_node *n, const int64_t *a, int rank_a,
                              const int64_t *b, int rank_b, int64_t *out, int *rank_out, evo_error *err);

/* Normalises axis in [-rank, rank) (or [-rank-1, rank] when inclusive_end). */
evo_status evo_norm_axis(const evo_graph *g, const evo_node *n, int64_t axis, int rank, bool inclusive_end,
                         int64_t *out, evo_error *err);

/*
 * Normalises *axis in place for an op working along one axis of an input
 * of rank rank, which must be at least 1 (what names that input in the
 * error, e.g. "input" or "data").
 */
evo_status evo_norm_input_axis(const evo_graph *g, const evo_node *n, const char *what, int rank,
                               int64_t *axis, evo_error *err);

/* Float element types: float, double, float16, bfloat16. */
bool evo_dtype_is_float(evo_dtype t);
/* Integer element types, signed and unsigned, 8 to 64 bits (not bool). */
bool evo_dtype_is_int(evo_dtype t);

/* Checks x has a numeric element type (not string, bool or undefined). */
evo_status evo_check_numeric_input(const evo_graph *g, const evo_node *n, const evo_value *x, evo_error *err);

/* Checks n has between min_in and max_in inputs, and at least min_out outputs. */
evo_status evo_check_arity(const evo_graph *g, const evo_node *n, int min_in, int max_in, int min_out,
                           evo_error *err);

#endif /* EVO_OP_H */
