/* qbinary_avx2.c - qbinary_body.inc compiled for AVX2. */
#include "kernels/simd/i32_avx2.h"

#define FAST_NAME(x) x##_avx2
#define FAST_ISA EVO_ISA_AVX2
#define FAST_ISA_NAME "avx2"
#include "kernels/qbinary_body.inc"
