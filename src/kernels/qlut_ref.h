/*
 * qlut_ref.h - the table of a quantized elementwise function (qlut_ref.c),
 * shared with tests and passes that need the same bytes.
 */
#ifndef EVO_KERNELS_QLUT_REF_H
#define EVO_KERNELS_QLUT_REF_H

#include "kernels/qlinear_ref.h"

/*
 * Fills table[q] (indexed by the byte of q, so int8 -1 is entry 255) for
 * op QLINEAR_SIGMOID or QLINEAR_LEAKY_RELU (alpha) from x's and y's
 * parameters, for tensors of type t.
 */
void evo_qlut_build(evo_op op, float alpha, evo_qparam qx, evo_qparam qy, evo_dtype t, uint8_t table[256]);

#endif /* EVO_KERNELS_QLUT_REF_H */
