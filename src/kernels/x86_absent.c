/*
 * x86_absent.c - on other architectures, where the x86 kernel files are
 * not built, the x86 variants as names only: every x86 tier lies above the
 * best tier of a non-x86 CPU (kernel.h), so the registry never picks them
 * and the kernel tests, which name them and run only what the host allows,
 * link and pass them over. They support no node and have no run function;
 * the int8 conv entry points (for bench/qconv_layer.c, which also runs only
 * the host's tiers) trap if ever called.
 */
#include "kernels/conv_fast.h"
#include "kernels/fastops.h"
#include "kernels/qconv_fast.h"
#include "kernels/qfastops.h"

#if !defined(__x86_64__) && !defined(__i386__)

static bool absent_supports(const evo_graph *g, const evo_node *n)
{
    return false;
}

#define ABSENT(sym, isa_) const evo_kernel_def evo_kernel_##sym = {#sym, isa_, absent_supports, NULL, NULL};

#define ABSENT_FASTOPS(isa, ISA)                                                                             \
    ABSENT(pool_##isa, ISA)                                                                                  \
    ABSENT(global_pool_##isa, ISA)                                                                           \
    ABSENT(binary_##isa, ISA)                                                                                \
    ABSENT(unary_##isa, ISA)                                                                                 \
    ABSENT(softmax_##isa, ISA)                                                                               \
    ABSENT(transpose_##isa, ISA)                                                                             \
    ABSENT(concat_##isa, ISA)                                                                                \
    ABSENT(split_##isa, ISA)                                                                                 \
    ABSENT(update_##isa, ISA)                                                                                \
    ABSENT(resize_##isa, ISA)                                                                                \
    ABSENT(slice_##isa, ISA)                                                                                 \
    ABSENT(s2d_##isa, ISA)                                                                                   \
    ABSENT(qpool_##isa, ISA)                                                                                 \
    ABSENT(qconvert_##isa, ISA)                                                                              \
    ABSENT(qresize_##isa, ISA)                                                                               \
    ABSENT(qbinary_##isa, ISA)

ABSENT_FASTOPS(avx2, EVO_ISA_AVX2)
ABSENT_FASTOPS(avx512, EVO_ISA_AVX512)
ABSENT(gemm_avx512, EVO_ISA_AVX512)
ABSENT(conv_wino4_avx512, EVO_ISA_AVX512)
ABSENT(conv_wino_avx512, EVO_ISA_AVX512)
ABSENT(conv_winos2_avx512, EVO_ISA_AVX512)
ABSENT(conv_bcast_avx512, EVO_ISA_AVX512)
ABSENT(conv_bcast_pair_avx512, EVO_ISA_AVX512)
ABSENT(conv_avx512, EVO_ISA_AVX512)
ABSENT(conv_avx2, EVO_ISA_AVX2)
ABSENT(conv_dw_avx512, EVO_ISA_AVX512)
ABSENT(conv_dwc_avx512, EVO_ISA_AVX512)
ABSENT(conv_pwdwc_avx512, EVO_ISA_AVX512)
ABSENT(conv_bcdwc_avx512, EVO_ISA_AVX512)
ABSENT(conv_pwdwc_gap_avx512, EVO_ISA_AVX512)
ABSENT(conv_bcdwc_gap_avx512, EVO_ISA_AVX512)
ABSENT(conv_dwpw_avx512, EVO_ISA_AVX512)
ABSENT(conv_scaled_avx512, EVO_ISA_AVX512)
ABSENT(conv_scaled_avx2, EVO_ISA_AVX2)
ABSENT(qconv_direct_vnni, EVO_ISA_VNNI)
ABSENT(qconv_vnni, EVO_ISA_VNNI)
ABSENT(qconv_dw_avx512, EVO_ISA_AVX512)
ABSENT(qconv_dw_vnni, EVO_ISA_VNNI)
ABSENT(qconv_avxvnni, EVO_ISA_AVX2)
ABSENT(qconv_avx2, EVO_ISA_AVX2)
ABSENT(qconv_dw_avx2, EVO_ISA_AVX2)
ABSENT(qmatmul_vnni, EVO_ISA_VNNI)
ABSENT(qmatmul_avxvnni, EVO_ISA_AVX2)
ABSENT(qmatmul_avx2, EVO_ISA_AVX2)

#define ABSENT_QGEMM(isa)                                                                                    \
    void evo_qconv_gemm_##isa(const evo_qconv_plan *p, const void *packed, const void *x, void *y,         \
                              void *scratch, int task, int n_tasks)                                        \
    {                                                                                                        \
        __builtin_trap();                                                                                    \
    }
ABSENT_QGEMM(vnni)
ABSENT_QGEMM(avxvnni)
ABSENT_QGEMM(avx2)

bool evo_qconv_direct_shape_ok(const evo_qconv_shape *s)
{
    return false;
}

size_t evo_qconv_direct_scratch(const evo_qconv_shape *s, int n_tasks)
{
    return 0;
}

void evo_qconv_direct_vnni(const evo_qconv_shape *s, const void *packed, const void *x, void *y, void *scratch,
                           int task, int n_tasks)
{
    __builtin_trap();
}

#define ABSENT_QDW(isa)                                                                                      \
    void evo_qconv_dw_##isa(const evo_qconv_shape *s, const void *packed, const void *x, void *y, int task, \
                            int n_tasks)                                                                     \
    {                                                                                                        \
        __builtin_trap();                                                                                    \
    }
ABSENT_QDW(avx512)
ABSENT_QDW(avx2)
ABSENT_QDW(vnni)

bool evo_qconv_dw_vnni_shape_ok(const evo_qconv_shape *s)
{
    return false;
}

#endif
