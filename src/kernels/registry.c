/*
 * registry.c - kernel variants per op, in preference order. The plan builder
 * takes the first variant that the CPU (capped by --isa) and the node allow,
 * passing over those $EVO_SKIP_KERNELS names (comma-separated, e.g.
 * "wino4_avx512,bcast_avx512"): a tuning aid that times the next variant in
 * line on the same layers.
 * Reference kernels come from ops.def; fast variants are listed in
 * fast_kernels[] ahead of them.
 */
#include "kernels/kernel.h"
#include "core/cpu.h"
#include "kernels/fastops.h"
#include "kernels/conv_fast.h"
#include "kernels/qconv_fast.h"
#include "kernels/qfastops.h"

#include <stdlib.h>

#define X(e, name, family) extern const evo_kernel_def evo_kernel_##family##_ref;
#include "graph/ops.def"
#undef X

const evo_kernel_def *evo_kernel_ref(evo_op op)
{
    switch (op) {
#define X(e, name, family)                                                                                   \
    case EVO_OP_##e:                                                                                         \
        return &evo_kernel_##family##_ref;
#include "graph/ops.def"
#undef X
    default: return NULL;
    }
}

typedef struct fast_kernel {
    evo_op op;
    const evo_kernel_def *def;
} fast_kernel;

/*
 * Fast variants, best first within an op. Each family's variants are
 * declared in its own header and listed in its own block below.
 */
static const fast_kernel fast_kernels[] = {
#if defined(__aarch64__)
    /* AArch64 (src/kernels/arm/): the Arm tiers lie below every x86 one */
    {EVO_OP_CONV, &evo_kernel_conv_wino4_neon},
    {EVO_OP_CONV, &evo_kernel_conv_wino_neon},
    {EVO_OP_CONV, &evo_kernel_conv_winos2_neon},
    {EVO_OP_CONV, &evo_kernel_conv_neon},
    {EVO_OP_CONV, &evo_kernel_conv_dw_neon},
    {EVO_OP_MAX_POOL, &evo_kernel_pool_neon},
    {EVO_OP_AVERAGE_POOL, &evo_kernel_pool_neon},
    {EVO_OP_GLOBAL_AVERAGE_POOL, &evo_kernel_global_pool_neon},
    {EVO_OP_GLOBAL_MAX_POOL, &evo_kernel_global_pool_neon},
    {EVO_OP_ADD, &evo_kernel_binary_neon},
    {EVO_OP_SUB, &evo_kernel_binary_neon},
    {EVO_OP_MUL, &evo_kernel_binary_neon},
    {EVO_OP_DIV, &evo_kernel_binary_neon},
    {EVO_OP_RELU, &evo_kernel_unary_neon},
    {EVO_OP_LEAKY_RELU, &evo_kernel_unary_neon},
    {EVO_OP_SIGMOID, &evo_kernel_unary_neon},
    {EVO_OP_EXP, &evo_kernel_unary_neon},
    {EVO_OP_CLIP, &evo_kernel_unary_neon},
    {EVO_OP_HARD_SIGMOID, &evo_kernel_unary_neon},
    {EVO_OP_HARD_SWISH, &evo_kernel_unary_neon},
    {EVO_OP_NEG, &evo_kernel_unary_neon},
    {EVO_OP_ABS, &evo_kernel_unary_neon},
    {EVO_OP_SQRT, &evo_kernel_unary_neon},
    {EVO_OP_RECIPROCAL, &evo_kernel_unary_neon},
    {EVO_OP_SOFTMAX, &evo_kernel_softmax_neon},
    {EVO_OP_TRANSPOSE, &evo_kernel_transpose_neon},
    {EVO_OP_CONCAT, &evo_kernel_concat_neon},
    {EVO_OP_SPLIT, &evo_kernel_split_neon},
    {EVO_OP_UPDATE_SLICES, &evo_kernel_update_neon},
    {EVO_OP_RESIZE, &evo_kernel_resize_neon},
    {EVO_OP_UPSAMPLE, &evo_kernel_resize_neon},
    {EVO_OP_SLICE, &evo_kernel_slice_neon},
    {EVO_OP_SPACE_TO_DEPTH, &evo_kernel_s2d_neon},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_dw_neon},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_i8mm},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_dotprod},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_neon},
    {EVO_OP_QLINEAR_MATMUL, &evo_kernel_qmatmul_dotprod},
    {EVO_OP_QLINEAR_MATMUL, &evo_kernel_qmatmul_neon},
#endif
    /* convolution and matrix products (conv_*.c, sgemm_*.c) */
    {EVO_OP_CONV, &evo_kernel_conv_wino4_avx512},
    {EVO_OP_CONV, &evo_kernel_conv_wino_avx512},
    {EVO_OP_CONV, &evo_kernel_conv_winos2_avx512},
    {EVO_OP_CONV, &evo_kernel_conv_bcast_avx512},
    {EVO_OP_CONV, &evo_kernel_conv_avx512},
    {EVO_OP_CONV, &evo_kernel_conv_avx2},
    {EVO_OP_CONV, &evo_kernel_conv_dwc_avx512},
    {EVO_OP_CONV, &evo_kernel_conv_dw_avx512},
    {EVO_OP_GEMM, &evo_kernel_gemm_avx512},
    /* int8 convolution and matrix product (qconv_*.c, qmatmul_*.c) */
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_dw_vnni},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_dw_avx512},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_direct_vnni},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_vnni},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_dw_avx2},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_avxvnni},
    {EVO_OP_QLINEAR_CONV, &evo_kernel_qconv_avx2},
    {EVO_OP_QLINEAR_MATMUL, &evo_kernel_qmatmul_vnni},
    {EVO_OP_QLINEAR_MATMUL, &evo_kernel_qmatmul_avxvnni},
    {EVO_OP_QLINEAR_MATMUL, &evo_kernel_qmatmul_avx2},
    /* int8 pooling, float <-> int8 conversion (qdata_*.c), int8 Add and Mul (qbinary_*.c) */
    {EVO_OP_MAX_POOL, &evo_kernel_qpool_avx512},
    {EVO_OP_MAX_POOL, &evo_kernel_qpool_avx2},
    {EVO_OP_QUANTIZE_LINEAR, &evo_kernel_qconvert_avx512},
    {EVO_OP_QUANTIZE_LINEAR, &evo_kernel_qconvert_avx2},
    {EVO_OP_DEQUANTIZE_LINEAR, &evo_kernel_qconvert_avx512},
    {EVO_OP_DEQUANTIZE_LINEAR, &evo_kernel_qconvert_avx2},
    {EVO_OP_RESIZE, &evo_kernel_qresize_avx512},
    {EVO_OP_RESIZE, &evo_kernel_qresize_avx2},
    {EVO_OP_UPSAMPLE, &evo_kernel_qresize_avx512},
    {EVO_OP_UPSAMPLE, &evo_kernel_qresize_avx2},
    {EVO_OP_QLINEAR_ADD, &evo_kernel_qbinary_avx512},
    {EVO_OP_QLINEAR_ADD, &evo_kernel_qbinary_avx2},
    {EVO_OP_QLINEAR_MUL, &evo_kernel_qbinary_avx512},
    {EVO_OP_QLINEAR_MUL, &evo_kernel_qbinary_avx2},
    /* pooling, elementwise, resize and other data movement (fastops.h) */
    EVO_FASTOPS_ENTRIES(MAX_POOL, pool),
    EVO_FASTOPS_ENTRIES(AVERAGE_POOL, pool),
    EVO_FASTOPS_ENTRIES(GLOBAL_AVERAGE_POOL, global_pool),
    EVO_FASTOPS_ENTRIES(GLOBAL_MAX_POOL, global_pool),
    EVO_FASTOPS_ENTRIES(ADD, binary),
    EVO_FASTOPS_ENTRIES(SUB, binary),
    EVO_FASTOPS_ENTRIES(MUL, binary),
    EVO_FASTOPS_ENTRIES(DIV, binary),
    EVO_FASTOPS_ENTRIES(RELU, unary),
    EVO_FASTOPS_ENTRIES(LEAKY_RELU, unary),
    EVO_FASTOPS_ENTRIES(SIGMOID, unary),
    EVO_FASTOPS_ENTRIES(EXP, unary),
    EVO_FASTOPS_ENTRIES(CLIP, unary),
    EVO_FASTOPS_ENTRIES(HARD_SIGMOID, unary),
    EVO_FASTOPS_ENTRIES(HARD_SWISH, unary),
    EVO_FASTOPS_ENTRIES(NEG, unary),
    EVO_FASTOPS_ENTRIES(ABS, unary),
    EVO_FASTOPS_ENTRIES(SQRT, unary),
    EVO_FASTOPS_ENTRIES(RECIPROCAL, unary),
    EVO_FASTOPS_ENTRIES(SOFTMAX, softmax),
    EVO_FASTOPS_ENTRIES(TRANSPOSE, transpose),
    EVO_FASTOPS_ENTRIES(CONCAT, concat),
    EVO_FASTOPS_ENTRIES(SPLIT, split),
    EVO_FASTOPS_ENTRIES(UPDATE_SLICES, update),
    EVO_FASTOPS_ENTRIES(RESIZE, resize),
    EVO_FASTOPS_ENTRIES(SLICE, slice),
    EVO_FASTOPS_ENTRIES(SPACE_TO_DEPTH, s2d),
    EVO_FASTOPS_ENTRIES(UPSAMPLE, resize),
    {EVO_OP_COUNT, NULL}, /* sentinel */
};

/* Fused pairs: the kernels chosen for the two nodes, and the one step running both. */
static const struct {
    const evo_kernel_def *prev, *next, *fused;
} fused_kernels[] = {
    {&evo_kernel_conv_bcast_avx512, &evo_kernel_conv_bcast_avx512, &evo_kernel_conv_bcast_pair_avx512},
    {&evo_kernel_conv_avx512, &evo_kernel_conv_dwc_avx512, &evo_kernel_conv_pwdwc_avx512},
    {&evo_kernel_conv_avx512, &evo_kernel_conv_dw_avx512, &evo_kernel_conv_pwdwc_avx512},
    {&evo_kernel_conv_bcast_avx512, &evo_kernel_conv_dwc_avx512, &evo_kernel_conv_bcdwc_avx512},
    {&evo_kernel_conv_bcast_avx512, &evo_kernel_conv_dw_avx512, &evo_kernel_conv_bcdwc_avx512},
    {&evo_kernel_conv_dw_avx512, &evo_kernel_conv_avx512, &evo_kernel_conv_dwpw_avx512},
    {&evo_kernel_conv_pwdwc_avx512, &evo_kernel_global_pool_avx512, &evo_kernel_conv_pwdwc_gap_avx512},
    {&evo_kernel_conv_bcdwc_avx512, &evo_kernel_global_pool_avx512, &evo_kernel_conv_bcdwc_gap_avx512},
    {&evo_kernel_binary_avx512, &evo_kernel_conv_avx512, &evo_kernel_conv_scaled_avx512},
    {&evo_kernel_binary_avx2, &evo_kernel_conv_avx2, &evo_kernel_conv_scaled_avx2},
};

const evo_kernel_def *evo_kernel_fused(const evo_graph *g, const evo_node *prev, const evo_kernel_def *kp,
                                       const evo_node *n, const evo_kernel_def *kn)
{
    for (size_t i = 0; i < sizeof(fused_kernels) / sizeof(fused_kernels[0]); i++) {
        const evo_kernel_def *f = fused_kernels[i].fused;
        if (fused_kernels[i].prev == kp && fused_kernels[i].next == kn &&
            !evo_name_listed(getenv("EVO_SKIP_KERNELS"), f->name) && f->fuses(g, prev, n))
            return f;
    }
    return NULL;
}

const evo_kernel_def *evo_kernel_select(const evo_graph *g, const evo_node *n, evo_isa max_isa)
{
    evo_isa cpu = evo_cpu_best_isa();
    for (size_t i = 0; fast_kernels[i].def; i++) {
        const evo_kernel_def *k = fast_kernels[i].def;
        if (fast_kernels[i].op != n->op || k->isa > max_isa || k->isa > cpu ||
            evo_name_listed(getenv("EVO_SKIP_KERNELS"), k->name))
            continue;
        if (!k->supports || k->supports(g, n))
            return k;
    }
    const evo_kernel_def *ref = evo_kernel_ref(n->op);
    if (ref && ref->run && (!ref->supports || ref->supports(g, n)))
        return ref;
    return NULL;
}
