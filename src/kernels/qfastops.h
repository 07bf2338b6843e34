/*
 * qfastops.h - vectorised int8 data movement and conversion, one variant
 * per ISA (qdata_body.inc): MaxPool on uint8/int8 and QuantizeLinear /
 * DequantizeLinear between float32 and uint8/int8, nearest Resize of
 * uint8/int8 by integer factors; QLinearAdd and QLinearMul in FIXED
 * requantization (qbinary_body.inc). Each equals its
 * reference kernel bit for bit on what its supports() accepts; the rest
 * falls through to the reference.
 */
#ifndef EVO_KERNELS_QFASTOPS_H
#define EVO_KERNELS_QFASTOPS_H

#include "kernels/kernel.h"

extern const evo_kernel_def evo_kernel_qpool_avx512, evo_kernel_qpool_avx2;
extern const evo_kernel_def evo_kernel_qconvert_avx512, evo_kernel_qconvert_avx2;
extern const evo_kernel_def evo_kernel_qresize_avx512, evo_kernel_qresize_avx2;
extern const evo_kernel_def evo_kernel_qbinary_avx512, evo_kernel_qbinary_avx2;

#endif /* EVO_KERNELS_QFASTOPS_H */
