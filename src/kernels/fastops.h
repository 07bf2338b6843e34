/*
 * fastops.h - vectorised variants of the non-convolution ops (pooling,
 * elementwise, softmax, transpose, concat/split), one per ISA. (Nearest 2x
 * Resize is left to the reference: its replication path is already bound
 * by memory bandwidth.)
 *
 * Each family's body is written once in <family>_body.inc against the
 * per-ISA helpers of simd/vec_<isa>.h and compiled by <family>_<isa>.c.
 * The variants handle float32 (Transpose/Concat/Split: any 4-byte dtype)
 * and the shapes and attributes their supports() accepts; everything else
 * falls through to the reference kernel. Results equal the reference
 * exactly, except sums (average pooling, softmax) that add in another order
 * and exp-based ops, which are within a few ulp.
 */
#ifndef EVO_KERNELS_FASTOPS_H
#define EVO_KERNELS_FASTOPS_H

#include "kernels/kernel.h"

#define EVO_FASTOPS_DECLARE(isa)                            \
    extern const evo_kernel_def evo_kernel_pool_##isa;      \
    extern const evo_kernel_def evo_kernel_global_pool_##isa; \
    extern const evo_kernel_def evo_kernel_binary_##isa;    \
    extern const evo_kernel_def evo_kernel_unary_##isa;     \
    extern const evo_kernel_def evo_kernel_softmax_##isa;   \
    extern const evo_kernel_def evo_kernel_transpose_##isa; \
    extern const evo_kernel_def evo_kernel_concat_##isa;    \
    extern const evo_kernel_def evo_kernel_split_##isa;     \
    extern const evo_kernel_def evo_kernel_update_##isa;    \
    extern const evo_kernel_def evo_kernel_resize_##isa;    \
    extern const evo_kernel_def evo_kernel_slice_##isa;     \
    extern const evo_kernel_def evo_kernel_s2d_##isa;

EVO_FASTOPS_DECLARE(avx512)
EVO_FASTOPS_DECLARE(avx2)

/* AArch64 (src/kernels/arm/): the elementwise, pooling, softmax, transpose, concat/split, resize and slice families */
extern const evo_kernel_def evo_kernel_pool_neon, evo_kernel_global_pool_neon, evo_kernel_binary_neon,
    evo_kernel_unary_neon, evo_kernel_softmax_neon, evo_kernel_transpose_neon, evo_kernel_concat_neon,
    evo_kernel_split_neon, evo_kernel_update_neon, evo_kernel_resize_neon, evo_kernel_slice_neon, evo_kernel_s2d_neon;

#undef EVO_FASTOPS_DECLARE

/* Gemm with at most 16 rows of A, as in classifier heads (gemm_avx512.c). */
extern const evo_kernel_def evo_kernel_gemm_avx512;

/* registry.c entries for op: the family's AVX-512 variant, then its AVX2 one. */
#define EVO_FASTOPS_ENTRIES(op, family) \
    {EVO_OP_##op, &evo_kernel_##family##_avx512}, {EVO_OP_##op, &evo_kernel_##family##_avx2}

#endif /* EVO_KERNELS_FASTOPS_H */
