/*
 * qparams.h - checks shared by the com.microsoft quantized ops (qbinary.c,
 * qlut.c, qconcat.c, qpool.c): a quantized tensor is uint8 or int8, its
 * scale a float32 scalar (rank 0 or [1]) and its zero point an optional
 * scalar of the tensor's own type. Errors name the node and the input.
 * Defined in qparams.c.
 */
#ifndef EVO_QPARAMS_H
#define EVO_QPARAMS_H

#include "graph/op.h"

/*
 * Checks n has min_in..max_in inputs (empty ones allowed: zero points are
 * optional anywhere; evo_q_check_data/params check the others) and an output.
 */
evo_status evo_q_check_arity(const evo_graph *g, const evo_node *n, int min_in, int max_in, evo_error *err);

/* Checks input i (named what) is present, uint8 or int8, of known rank. */
evo_status evo_q_check_data(evo_graph *g, const evo_node *n, int i, const char *what, evo_error *err);

/*
 * Checks the scale at input i_scale and the optional zero point at i_zp of
 * a tensor of type t (what names it: "A", "x", ...). A present scale must
 * be positive and finite when it is constant.
 */
evo_status evo_q_check_params(evo_graph *g, const evo_node *n, int i_scale, int i_zp, evo_dtype t,
                              const char *what, evo_error *err);

#endif /* EVO_QPARAMS_H */
