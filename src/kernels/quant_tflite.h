/*
 * quant_tflite.h - fused activation tables in TFLite's int8 semantics
 * (quant_tflite.c; EVO_ACT_TABLE_TFLITE in docs/int8.md).
 */
#ifndef EVO_QUANT_TFLITE_H
#define EVO_QUANT_TFLITE_H

#include "kernels/quant_common.h"

/*
 * The table of a fused table activation as LiteRT's reference kernels
 * compute the ops evo's TFLite export writes for it (SiLU: LOGISTIC then
 * MUL; Sigmoid: LOGISTIC, then QUANTIZE to y unless y is LOGISTIC's
 * 1/256, -128; Tanh: TANH, QUANTIZE unless 1/128, 0; HardSwish:
 * HARD_SWISH; LeakyReLU: LEAKY_RELU; HardSigmoid (alpha 1/6): ADD with
 * RELU6, then MUL), indexed like evo_quant_act_table's.
 */
void evo_quant_act_table_tflite(evo_act act, float alpha, float beta, float act_scale, int32_t act_zp,
                                float y_scale, int32_t y_zp, evo_dtype t, uint8_t table[256]);

#endif /* EVO_QUANT_TFLITE_H */
