/* transpose_neon.c - transpose_body.inc compiled for AArch64 Advanced SIMD. */
#include "kernels/simd/vec_neon.h"

#define FAST_NAME(x) x##_neon
#define FAST_ISA EVO_ISA_NEON
#define FAST_ISA_NAME "neon"
#include "kernels/transpose_body.inc"
