/*
 * conv_dw_neon.c - depthwise 2-D Conv, AArch64 Advanced SIMD:
 * conv_dw_body.inc (the scheme is described there) with 4-lane vectors; 8
 * accumulator vectors per block leave most of the 32 registers for the
 * tap loads. Stride 2 splits a row into even and odd columns with uzp1/uzp2.
 */
#include "kernels/conv_fast.h"
#include "kernels/simd/vec_neon.h"

#include <string.h>

#define VL 4
#define DW_NV 8 /* vectors of outputs accumulated across the taps */

typedef evo_conv_epilogue epilogue;

/* Lanes [lo, hi) of 4: only prefixes (lo = 0) are asked for here. */
static inline vmask range_mask(int64_t lo, int64_t hi)
{
    return v_mask_n(hi);
}

#include "kernels/conv_act.inc"

static inline void dw_split_even_odd(float32x4_t lo, float32x4_t hi, float *even, float *odd)
{
    vst1q_f32(even, vuzp1q_f32(lo, hi));
    vst1q_f32(odd, vuzp2q_f32(lo, hi));
}

#define DW_NAME "dw_neon"
#define DW_ISA EVO_ISA_NEON
#define DW_DEF evo_kernel_conv_dw_neon
#include "kernels/conv_dw_body.inc"
