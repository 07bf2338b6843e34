/* qdata_avx512.c - qdata_body.inc compiled for AVX-512BW. */
#include "kernels/simd/bytes_avx512.h"
#include "kernels/simd/vec_avx512.h"

#define FAST_NAME(x) x##_avx512
#define FAST_ISA EVO_ISA_AVX512
#define FAST_ISA_NAME "avx512"
#include "kernels/qdata_body.inc"
