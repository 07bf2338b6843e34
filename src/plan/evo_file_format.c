/*
 * evo_file_format.c - the parts of the .evo format (layout in evo_file.h)
 * that the writer and the reader share: the typed-attribute field tables,
 * the op -> family map, the schema fingerprint and the checksum.
 *
 * Typed attributes are serialised field by field from per-family tables
 * (offsetof + kind), never as raw struct bytes, so the file does not depend
 * on padding, and pointer fields (Split sizes, Constant data) go out as
 * data. The op -> family map is generated from ops.def: a new family
 * without an entry here fails to compile.
 */
#include "plan/evo_file_format.h"

#include <stddef.h>
#include <string.h>

/* ---- typed attribute tables ---------------------------------------------- */

#define KS_I32 4
#define KS_I64 8
#define KS_F32 4
#define KS_F64 8
#define KS_BOOL 1
#define KS_U32 4
#define KS_U8 1
const uint8_t evo_file_kind_bytes[] = {4, 8, 4, 8, 1, 4, 1};

_Static_assert(sizeof(int) == 4 && sizeof(float) == 4 && sizeof(double) == 8, "field sizes");
_Static_assert(sizeof(bool) == 1, "bool fields are written as one byte");
_Static_assert(sizeof(evo_act) == 4 && sizeof(evo_auto_pad) == 4 && sizeof(evo_dtype) == 4 &&
                   sizeof(evo_pad_mode) == 4 && sizeof(evo_resize_mode) == 4 && sizeof(evo_coord_mode) == 4 &&
                   sizeof(evo_nearest_mode) == 4 && sizeof(evo_requant) == 4 && sizeof(evo_act_table) == 4,
               "enum fields are written as int32");

// clang-format off
#define FLD(T, m, k, mx) {#m, (uint16_t)offsetof(T, m), FK_##k, (uint8_t)(sizeof(((T *)0)->m) / KS_##k), mx}
// clang-format on

static const evo_file_field conv_fields[] = {
    FLD(evo_conv_attrs, n_spatial, I32, EVO_MAX_SPATIAL),
    FLD(evo_conv_attrs, group, I64, -1),
    FLD(evo_conv_attrs, kernel, I64, -1),
    FLD(evo_conv_attrs, stride, I64, -1),
    FLD(evo_conv_attrs, dilation, I64, -1),
    FLD(evo_conv_attrs, pad_begin, I64, -1),
    FLD(evo_conv_attrs, pad_end, I64, -1),
    FLD(evo_conv_attrs, output_padding, I64, -1),
    FLD(evo_conv_attrs, output_shape, I64, -1),
    FLD(evo_conv_attrs, has_output_shape, BOOL, -1),
    FLD(evo_conv_attrs, auto_pad, I32, EVO_AUTO_PAD_VALID),
    FLD(evo_conv_attrs, act, I32, EVO_ACT_TANH),
    FLD(evo_conv_attrs, act_alpha, F32, -1),
    FLD(evo_conv_attrs, act_beta, F32, -1),
    FLD(evo_conv_attrs, has_residual, BOOL, -1),
    FLD(evo_conv_attrs, residual_after_act, BOOL, -1),
    FLD(evo_conv_attrs, out_groups, I64, -1),
    FLD(evo_conv_attrs, requant, I32, EVO_REQUANT_FIXED),
    FLD(evo_conv_attrs, act_scale, F32, -1),
    FLD(evo_conv_attrs, act_zp, I32, -1),
    FLD(evo_conv_attrs, act_table, I32, EVO_ACT_TABLE_TFLITE),
};
static const evo_file_field pool_fields[] = {
    FLD(evo_pool_attrs, n_spatial, I32, EVO_MAX_SPATIAL),
    FLD(evo_pool_attrs, kernel, I64, -1),
    FLD(evo_pool_attrs, stride, I64, -1),
    FLD(evo_pool_attrs, dilation, I64, -1),
    FLD(evo_pool_attrs, pad_begin, I64, -1),
    FLD(evo_pool_attrs, pad_end, I64, -1),
    FLD(evo_pool_attrs, auto_pad, I32, EVO_AUTO_PAD_VALID),
    FLD(evo_pool_attrs, ceil_mode, BOOL, -1),
    FLD(evo_pool_attrs, count_include_pad, BOOL, -1),
    FLD(evo_pool_attrs, storage_order, I64, -1),
    FLD(evo_pool_attrs, channels_last, BOOL, -1),
    FLD(evo_pool_attrs, requant, I32, EVO_REQUANT_FIXED),
};
static const evo_file_field bn_fields[] = {FLD(evo_bn_attrs, epsilon, F32, -1)};
static const evo_file_field unary_fields[] = {
    FLD(evo_unary_attrs, alpha, F32, -1),
    FLD(evo_unary_attrs, beta, F32, -1),
    FLD(evo_unary_attrs, min, F32, -1),
    FLD(evo_unary_attrs, max, F32, -1),
    FLD(evo_unary_attrs, to, I32, EVO_DTYPE_BFLOAT16),
    FLD(evo_unary_attrs, table, I32, EVO_ACT_TABLE_TFLITE),
};
static const evo_file_field binary_fields[] = {
    FLD(evo_binary_attrs, fmod, BOOL, -1),
    FLD(evo_binary_attrs, prelu_channel, BOOL, -1),
};
static const evo_file_field axis_fields[] = {
    FLD(evo_axis_attrs, axis, I64, -1),
    FLD(evo_axis_attrs, legacy, BOOL, -1),
    FLD(evo_axis_attrs, start, I64, -1),
    FLD(evo_axis_attrs, end, I64, -1),
    FLD(evo_axis_attrs, requant, I32, EVO_REQUANT_FIXED),
};
/* + n_splits int64 sizes */
static const evo_file_field split_fields[] = {
    FLD(evo_split_attrs, axis, I64, -1),
    FLD(evo_split_attrs, n_splits, I32, -1),
};
static const evo_file_field slice_fields[] = {
    FLD(evo_slice_attrs, start, I64, -1),
    FLD(evo_slice_attrs, step, I64, -1),
};
static const evo_file_field pad_fields[] = {
    FLD(evo_pad_attrs, mode, I32, EVO_PAD_WRAP),
    FLD(evo_pad_attrs, pad_begin, I64, -1),
    FLD(evo_pad_attrs, pad_end, I64, -1),
    FLD(evo_pad_attrs, value, F64, -1),
};
static const evo_file_field resize_fields[] = {
    FLD(evo_resize_attrs, mode, I32, EVO_RESIZE_CUBIC),
    FLD(evo_resize_attrs, coord, I32, EVO_COORD_TF_CROP_AND_RESIZE),
    FLD(evo_resize_attrs, nearest, I32, EVO_NEAREST_CEIL),
    FLD(evo_resize_attrs, cubic_coeff_a, F32, -1),
    FLD(evo_resize_attrs, exclude_outside, BOOL, -1),
    FLD(evo_resize_attrs, extrapolation_value, F32, -1),
    FLD(evo_resize_attrs, scale, F32, -1),
    FLD(evo_resize_attrs, roi_start, F32, -1),
    FLD(evo_resize_attrs, roi_end, F32, -1),
    FLD(evo_resize_attrs, scale_is_ratio, BOOL, -1),
};
static const evo_file_field transpose_fields[] = {FLD(evo_transpose_attrs, perm, I32, EVO_MAX_RANK - 1)};
static const evo_file_field reshape_fields[] = {FLD(evo_reshape_attrs, allowzero, BOOL, -1)};
static const evo_file_field reduce_fields[] = {
    FLD(evo_reduce_attrs, axes_mask, U32, -1),
    FLD(evo_reduce_attrs, keepdims, BOOL, -1),
    FLD(evo_reduce_attrs, noop_with_empty_axes, BOOL, -1),
};
static const evo_file_field arg_fields[] = {
    FLD(evo_arg_attrs, axis, I64, -1),
    FLD(evo_arg_attrs, keepdims, BOOL, -1),
    FLD(evo_arg_attrs, select_last_index, BOOL, -1),
};
static const evo_file_field topk_fields[] = {
    FLD(evo_topk_attrs, axis, I64, -1),
    FLD(evo_topk_attrs, k, I64, -1),
    FLD(evo_topk_attrs, largest, BOOL, -1),
    FLD(evo_topk_attrs, sorted, BOOL, -1),
};
static const evo_file_field gemm_fields[] = {
    FLD(evo_gemm_attrs, alpha, F32, -1),         FLD(evo_gemm_attrs, beta, F32, -1),
    FLD(evo_gemm_attrs, trans_a, BOOL, -1),      FLD(evo_gemm_attrs, trans_b, BOOL, -1),
    FLD(evo_gemm_attrs, act, I32, EVO_ACT_TANH), FLD(evo_gemm_attrs, act_alpha, F32, -1),
    FLD(evo_gemm_attrs, act_beta, F32, -1),
    FLD(evo_gemm_attrs, requant, I32, EVO_REQUANT_FIXED),
    FLD(evo_gemm_attrs, act_scale, F32, -1),
    FLD(evo_gemm_attrs, act_zp, I32, -1),
    FLD(evo_gemm_attrs, act_table, I32, EVO_ACT_TABLE_TFLITE),
};
static const evo_file_field d2s_fields[] = {
    FLD(evo_d2s_attrs, blocksize, I64, -1),
    FLD(evo_d2s_attrs, crd, BOOL, -1),
};
/* + Constant data as a DATA reference {u64 offset, u64 bytes} */
static const evo_file_field fill_fields[] = {
    FLD(evo_fill_attrs, dtype, I32, EVO_DTYPE_BFLOAT16),
    FLD(evo_fill_attrs, value, U8, -1),
};
static const evo_file_field quant_fields[] = {
    FLD(evo_quant_attrs, axis, I64, -1),
    FLD(evo_quant_attrs, output_dtype, I32, EVO_DTYPE_BFLOAT16),
};

static const evo_file_field qbinary_fields[] = {
    FLD(evo_qbinary_attrs, requant, I32, EVO_REQUANT_FIXED),
    FLD(evo_qbinary_attrs, act, I32, EVO_ACT_TANH),
    FLD(evo_qbinary_attrs, act_alpha, F32, -1),
    FLD(evo_qbinary_attrs, act_beta, F32, -1),
};

#define FAMILY(id, f) [id] = {#id, f, (int)EVO_ARRAY_LEN(f)}
const evo_file_family evo_file_families[EVO_AK_COUNT] = {
    [EVO_AK_NONE] = {"EVO_AK_NONE", NULL, 0}, FAMILY(EVO_AK_CONV, conv_fields),
    FAMILY(EVO_AK_POOL, pool_fields),         FAMILY(EVO_AK_BN, bn_fields),
    FAMILY(EVO_AK_UNARY, unary_fields),       FAMILY(EVO_AK_BINARY, binary_fields),
    FAMILY(EVO_AK_AXIS, axis_fields),         FAMILY(EVO_AK_SPLIT, split_fields),
    FAMILY(EVO_AK_SLICE, slice_fields),       FAMILY(EVO_AK_PAD, pad_fields),
    FAMILY(EVO_AK_RESIZE, resize_fields),     FAMILY(EVO_AK_TRANSPOSE, transpose_fields),
    FAMILY(EVO_AK_RESHAPE, reshape_fields),   FAMILY(EVO_AK_REDUCE, reduce_fields),
    FAMILY(EVO_AK_ARG, arg_fields),           FAMILY(EVO_AK_TOPK, topk_fields),
    FAMILY(EVO_AK_GEMM, gemm_fields),         FAMILY(EVO_AK_D2S, d2s_fields),
    FAMILY(EVO_AK_FILL, fill_fields),         FAMILY(EVO_AK_QUANT, quant_fields),
    FAMILY(EVO_AK_QBINARY, qbinary_fields),
};

/* ops.def family -> union member */
#define AK_OF_unary EVO_AK_UNARY
#define AK_OF_binary EVO_AK_BINARY
#define AK_OF_softmax EVO_AK_AXIS
#define AK_OF_reduce EVO_AK_REDUCE
#define AK_OF_argmax EVO_AK_ARG
#define AK_OF_topk EVO_AK_TOPK
#define AK_OF_conv EVO_AK_CONV
#define AK_OF_conv_transpose EVO_AK_CONV
#define AK_OF_batchnorm EVO_AK_BN
#define AK_OF_pool EVO_AK_POOL
#define AK_OF_global_pool EVO_AK_POOL
#define AK_OF_matmul EVO_AK_GEMM
#define AK_OF_gemm EVO_AK_GEMM
#define AK_OF_concat EVO_AK_AXIS
#define AK_OF_split EVO_AK_SPLIT
#define AK_OF_slice EVO_AK_SLICE
#define AK_OF_pad EVO_AK_PAD
#define AK_OF_resize EVO_AK_RESIZE
#define AK_OF_reshape EVO_AK_RESHAPE
#define AK_OF_transpose EVO_AK_TRANSPOSE
#define AK_OF_gather EVO_AK_AXIS
#define AK_OF_shape EVO_AK_AXIS
#define AK_OF_constant EVO_AK_FILL
#define AK_OF_expand EVO_AK_NONE
#define AK_OF_range EVO_AK_NONE
#define AK_OF_d2s EVO_AK_D2S
#define AK_OF_update EVO_AK_SPLIT
#define AK_OF_qbinary EVO_AK_QBINARY
#define AK_OF_qlut EVO_AK_UNARY
#define AK_OF_qconcat EVO_AK_AXIS
#define AK_OF_qpool EVO_AK_POOL
#define AK_OF_qgemm EVO_AK_GEMM
#define AK_OF_quant EVO_AK_QUANT
#define AK_OF_qconv EVO_AK_CONV
#define AK_OF_qmatmul EVO_AK_GEMM

static const uint8_t op_family[EVO_OP_COUNT] = {
#define X(e, name, family) [EVO_OP_##e] = AK_OF_##family,
#include "graph/ops.def"
#undef X
};

evo_attr_kind evo_file_attr_kind(evo_op op)
{
    return op >= 0 && op < EVO_OP_COUNT ? (evo_attr_kind)op_family[op] : EVO_AK_NONE;
}

bool evo_file_attrs_equal(evo_op op, const evo_attrs *a, const evo_attrs *b)
{
    evo_attr_kind ak = evo_file_attr_kind(op);
    const evo_file_family *fam = &evo_file_families[ak];
    for (int i = 0; i < fam->n_fields; i++) {
        const evo_file_field *fd = &fam->fields[i];
        size_t bytes = (size_t)fd->count * evo_file_kind_bytes[fd->kind];
        if (memcmp((const uint8_t *)a + fd->offset, (const uint8_t *)b + fd->offset, bytes) != 0)
            return false;
    }
    if (ak == EVO_AK_SPLIT && a->split.n_splits > 0 &&
        memcmp(a->split.sizes, b->split.sizes, sizeof(int64_t) * (size_t)a->split.n_splits) != 0)
        return false;
    if (ak == EVO_AK_FILL && a->fill.data != b->fill.data)
        return false;
    return true;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

uint64_t evo_file_schema(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int f = 0; f < EVO_AK_COUNT; f++) {
        h = fnv1a(h, evo_file_families[f].name, strlen(evo_file_families[f].name) + 1);
        for (int i = 0; i < evo_file_families[f].n_fields; i++) {
            const evo_file_field *fd = &evo_file_families[f].fields[i];
            uint8_t shape[2] = {fd->kind, fd->count};
            h = fnv1a(h, fd->name, strlen(fd->name) + 1);
            h = fnv1a(h, shape, sizeof(shape));
        }
    }
    for (int op = 0; op < EVO_OP_COUNT; op++) {
        const char *name = evo_op_name((evo_op)op);
        h = fnv1a(h, name, strlen(name) + 1);
        h = fnv1a(h, &op_family[op], 1);
    }
    return h;
}

/* ---- checksum: four 64-bit multiply-rotate lanes over 32-byte blocks ------ */

#define HASH_PRIME 0x100000001b3ull

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

void evo_file_hash_init(evo_file_hasher *h)
{
    memset(h, 0, sizeof(*h));
    for (int k = 0; k < 4; k++)
        h->lane[k] = 0xcbf29ce484222325ull + 0x9e3779b97f4a7c15ull * (uint64_t)k;
}

static void hash_blocks(uint64_t *lane, const uint8_t *p, size_t n_blocks)
{
    uint64_t l0 = lane[0], l1 = lane[1], l2 = lane[2], l3 = lane[3];
    for (size_t b = 0; b < n_blocks; b++, p += 32) {
        uint64_t w[4];
        memcpy(w, p, 32);
        l0 = rotl64((l0 ^ w[0]) * HASH_PRIME, 29);
        l1 = rotl64((l1 ^ w[1]) * HASH_PRIME, 29);
        l2 = rotl64((l2 ^ w[2]) * HASH_PRIME, 29);
        l3 = rotl64((l3 ^ w[3]) * HASH_PRIME, 29);
    }
    lane[0] = l0, lane[1] = l1, lane[2] = l2, lane[3] = l3;
}

void evo_file_hash_update(evo_file_hasher *h, const void *data, size_t n)
{
    const uint8_t *p = data;
    h->total += n;
    if (h->n_tail) {
        size_t take = EVO_MIN(n, 32 - h->n_tail);
        memcpy(h->tail + h->n_tail, p, take);
        h->n_tail += take;
        p += take;
        n -= take;
        if (h->n_tail < 32)
            return;
        hash_blocks(h->lane, h->tail, 1);
        h->n_tail = 0;
    }
    hash_blocks(h->lane, p, n / 32);
    memcpy(h->tail, p + n / 32 * 32, n % 32);
    h->n_tail = n % 32;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

uint64_t evo_file_hash_final(evo_file_hasher *h)
{
    if (h->n_tail) {
        memset(h->tail + h->n_tail, 0, 32 - h->n_tail);
        hash_blocks(h->lane, h->tail, 1);
    }
    uint64_t x = mix64(h->total);
    for (int k = 0; k < 4; k++)
        x = mix64(x ^ h->lane[k]) + (uint64_t)k;
    return x;
}

uint64_t evo_file_checksum(const void *data, size_t size_bytes)
{
    evo_file_hasher h;
    evo_file_hash_init(&h);
    evo_file_hash_update(&h, data, size_bytes);
    return evo_file_hash_final(&h);
}
