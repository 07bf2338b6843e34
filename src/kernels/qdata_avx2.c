/* qdata_avx2.c - qdata_body.inc compiled for AVX2. */
#include "kernels/simd/bytes_avx2.h"
#include "kernels/simd/vec_avx2.h"

#define FAST_NAME(x) x##_avx2
#define FAST_ISA EVO_ISA_AVX2
#define FAST_ISA_NAME "avx2"
#include "kernels/qdata_body.inc"
