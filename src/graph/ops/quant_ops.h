/*
 * quant_ops.h - checks shared by the quantized op families (quant.c,
 * qconv.c, qmatmul.c): the dtype and length of a scale or zero-point
 * input, with errors naming the node, the input and what was expected.
 * Defined in quant.c.
 */
#ifndef EVO_QUANT_OPS_H
#define EVO_QUANT_OPS_H

#include "graph/op.h"

/*
 * Checks input i (called name in errors), when present: dtype want
 * (EVO_DTYPE_UNDEFINED: uint8 or int8), and either one element (rank 0 or
 * 1) or, when per_len > 0, a 1-D tensor of per_len elements (per_what
 * names that length, e.g. "output channels M"). *count_out gets its
 * element count (0 when the input is absent; may be NULL).
 */
evo_status evo_quant_check_param(const evo_graph *g, const evo_node *n, int i, const char *name, evo_dtype want,
                                 int64_t per_len, const char *per_what, int64_t *count_out, evo_error *err);

/* Checks input i (name) is present, uint8 or int8, with rank in [rank_min, rank_max]. */
evo_status evo_quant_check_data(const evo_graph *g, const evo_node *n, int i, const char *name, int rank_min,
                                int rank_max, evo_error *err);

#endif /* EVO_QUANT_OPS_H */
