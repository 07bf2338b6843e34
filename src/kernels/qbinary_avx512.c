/* qbinary_avx512.c - qbinary_body.inc compiled for AVX-512. */
#include "kernels/simd/i32_avx512.h"

#define FAST_NAME(x) x##_avx512
#define FAST_ISA EVO_ISA_AVX512
#define FAST_ISA_NAME "avx512"
#include "kernels/qbinary_body.inc"
