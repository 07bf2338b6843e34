/* slice_avx512.c - slice_body.inc compiled for AVX512. */
#include "kernels/simd/vec_avx512.h"

#define FAST_NAME(x) x##_avx512
#define FAST_ISA EVO_ISA_AVX512
#define FAST_ISA_NAME "avx512"
#include "kernels/slice_body.inc"
