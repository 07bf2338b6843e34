/*
 * actrange.h - the pre-activation range of a table activation (SiLU,
 * Sigmoid, LeakyReLU, HardSwish, HardSigmoid, Tanh), narrowed to what
 * matters after the activation (quant/actrange.c).
 */
#ifndef EVO_QUANT_ACTRANGE_H
#define EVO_QUANT_ACTRANGE_H

#include "graph/attrs.h"
#include "quant/hist.h"

/*
 * [*lo, *hi] (a calibrated range of the pre-activation histogram h, with
 * lo <= 0 <= hi) becomes the sub-range, each side shrunk towards 0 or
 * kept, minimising the expected squared error of act(x) when x is
 * quantized to levels levels over it. ReLU, Clip and no activation leave
 * it as it is (they run as clamps, not tables).
 */
void quant_act_input_range(const evo_hist *h, evo_act act, float alpha, float beta, int levels, double *lo,
                           double *hi);

#endif /* EVO_QUANT_ACTRANGE_H */
