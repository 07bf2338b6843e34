/*
 * evo_file.c - writing and reading compiled models (.evo; layout in
 * evo_file.h).
 *
 * Typed attributes are serialised field by field from per-family tables
 * (offsetof + kind), never as raw struct bytes, so the file does not depend
 * on padding, and pointer fields (Split sizes, Constant data) go out as
 * data. The op -> family map is generated from ops.def: a new family
 * without an entry here fails to compile.
 *
 * The reader trusts nothing: it checks sizes and offsets against the file,
 * ids against counts, dtypes, ranks, constant byte sizes, enum and bool
 * fields and node order (every input produced earlier, one producer per
 * value); evo_file_check_nodes (evo_file_check.c) then checks the op
 * semantics the planner and kernels index with. A 64-bit checksum over the
 * whole file rejects corruption. Every allocation is bounded by the file
 * size.
 */
#include "plan/evo_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SEC_META = 1, SEC_STRINGS, SEC_VALUES, SEC_NODES, SEC_IO, SEC_DATA, SEC_LAST = SEC_DATA };

#define HEADER_BYTES 64
#define SECTION_BYTES 24
#define META_BYTES 40
#define VALUE_BYTES 96
#define NODE_FIXED_BYTES 28
#define TRAILER_BYTES 8
#define MAX_SECTIONS 64
#define ENDIAN_TAG 0x01020304u
#define FLAG_INPUT 1u
#define FLAG_OUTPUT 2u
#define FLAG_CONST 4u
#define NO_DATA UINT64_MAX
#define ALIGN64(x) (((x) + 63) & ~(uint64_t)63)

/* ---- typed attribute tables ---------------------------------------------- */

typedef enum field_kind { FK_I32, FK_I64, FK_F32, FK_F64, FK_BOOL, FK_U32, FK_U8 } field_kind;
#define KS_I32 4
#define KS_I64 8
#define KS_F32 4
#define KS_F64 8
#define KS_BOOL 1
#define KS_U32 4
#define KS_U8 1
static const uint8_t kind_bytes[] = {4, 8, 4, 8, 1, 4, 1};

_Static_assert(sizeof(int) == 4 && sizeof(float) == 4 && sizeof(double) == 8, "field sizes");
_Static_assert(sizeof(bool) == 1, "bool fields are written as one byte");
_Static_assert(sizeof(evo_act) == 4 && sizeof(evo_auto_pad) == 4 && sizeof(evo_dtype) == 4 &&
                   sizeof(evo_pad_mode) == 4 && sizeof(evo_resize_mode) == 4 &&
                   sizeof(evo_coord_mode) == 4 && sizeof(evo_nearest_mode) == 4,
               "enum fields are written as int32");

typedef struct field {
    const char *name;
    uint16_t offset;
    uint8_t kind;
    uint8_t count;
    int32_t max; /* FK_I32: valid range [0, max]; -1: any value */
} field;

#define FLD(T, m, k, mx) {#m, (uint16_t)offsetof(T, m), FK_##k, (uint8_t)(sizeof(((T *)0)->m) / KS_##k), mx}

static const field conv_fields[] = {
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
};
static const field pool_fields[] = {
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
};
static const field bn_fields[] = {FLD(evo_bn_attrs, epsilon, F32, -1)};
static const field unary_fields[] = {
    FLD(evo_unary_attrs, alpha, F32, -1), FLD(evo_unary_attrs, beta, F32, -1),
    FLD(evo_unary_attrs, min, F32, -1),   FLD(evo_unary_attrs, max, F32, -1),
    FLD(evo_unary_attrs, to, I32, EVO_DTYPE_BFLOAT16),
};
static const field binary_fields[] = {
    FLD(evo_binary_attrs, fmod, BOOL, -1),
    FLD(evo_binary_attrs, prelu_channel, BOOL, -1),
};
static const field axis_fields[] = {
    FLD(evo_axis_attrs, axis, I64, -1), FLD(evo_axis_attrs, legacy, BOOL, -1),
    FLD(evo_axis_attrs, start, I64, -1), FLD(evo_axis_attrs, end, I64, -1),
};
/* + n_splits int64 sizes */
static const field split_fields[] = {
    FLD(evo_split_attrs, axis, I64, -1),
    FLD(evo_split_attrs, n_splits, I32, -1),
};
static const field slice_fields[] = {
    FLD(evo_slice_attrs, start, I64, -1),
    FLD(evo_slice_attrs, step, I64, -1),
};
static const field pad_fields[] = {
    FLD(evo_pad_attrs, mode, I32, EVO_PAD_WRAP),   FLD(evo_pad_attrs, pad_begin, I64, -1),
    FLD(evo_pad_attrs, pad_end, I64, -1),          FLD(evo_pad_attrs, value, F64, -1),
};
static const field resize_fields[] = {
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
static const field transpose_fields[] = {FLD(evo_transpose_attrs, perm, I32, EVO_MAX_RANK - 1)};
static const field reshape_fields[] = {FLD(evo_reshape_attrs, allowzero, BOOL, -1)};
static const field reduce_fields[] = {
    FLD(evo_reduce_attrs, axes_mask, U32, -1),
    FLD(evo_reduce_attrs, keepdims, BOOL, -1),
    FLD(evo_reduce_attrs, noop_with_empty_axes, BOOL, -1),
};
static const field arg_fields[] = {
    FLD(evo_arg_attrs, axis, I64, -1),
    FLD(evo_arg_attrs, keepdims, BOOL, -1),
    FLD(evo_arg_attrs, select_last_index, BOOL, -1),
};
static const field topk_fields[] = {
    FLD(evo_topk_attrs, axis, I64, -1), FLD(evo_topk_attrs, k, I64, -1),
    FLD(evo_topk_attrs, largest, BOOL, -1), FLD(evo_topk_attrs, sorted, BOOL, -1),
};
static const field gemm_fields[] = {
    FLD(evo_gemm_attrs, alpha, F32, -1),   FLD(evo_gemm_attrs, beta, F32, -1),
    FLD(evo_gemm_attrs, trans_a, BOOL, -1), FLD(evo_gemm_attrs, trans_b, BOOL, -1),
    FLD(evo_gemm_attrs, act, I32, EVO_ACT_TANH), FLD(evo_gemm_attrs, act_alpha, F32, -1),
    FLD(evo_gemm_attrs, act_beta, F32, -1),
};
static const field d2s_fields[] = {
    FLD(evo_d2s_attrs, blocksize, I64, -1),
    FLD(evo_d2s_attrs, crd, BOOL, -1),
};
/* + Constant data as a DATA reference {u64 offset, u64 bytes} */
static const field fill_fields[] = {
    FLD(evo_fill_attrs, dtype, I32, EVO_DTYPE_BFLOAT16),
    FLD(evo_fill_attrs, value, U8, -1),
};

#define FAMILY(id, f) [id] = {#id, f, (int)EVO_ARRAY_LEN(f)}
static const struct family {
    const char *name;
    const field *fields;
    int n_fields;
} families[EVO_AK_COUNT] = {
    [EVO_AK_NONE] = {"EVO_AK_NONE", NULL, 0},
    FAMILY(EVO_AK_CONV, conv_fields),       FAMILY(EVO_AK_POOL, pool_fields),
    FAMILY(EVO_AK_BN, bn_fields),           FAMILY(EVO_AK_UNARY, unary_fields),
    FAMILY(EVO_AK_BINARY, binary_fields),   FAMILY(EVO_AK_AXIS, axis_fields),
    FAMILY(EVO_AK_SPLIT, split_fields),     FAMILY(EVO_AK_SLICE, slice_fields),
    FAMILY(EVO_AK_PAD, pad_fields),         FAMILY(EVO_AK_RESIZE, resize_fields),
    FAMILY(EVO_AK_TRANSPOSE, transpose_fields), FAMILY(EVO_AK_RESHAPE, reshape_fields),
    FAMILY(EVO_AK_REDUCE, reduce_fields),   FAMILY(EVO_AK_ARG, arg_fields),
    FAMILY(EVO_AK_TOPK, topk_fields),       FAMILY(EVO_AK_GEMM, gemm_fields),
    FAMILY(EVO_AK_D2S, d2s_fields),         FAMILY(EVO_AK_FILL, fill_fields),
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
    const struct family *fam = &families[ak];
    for (int i = 0; i < fam->n_fields; i++) {
        const field *fd = &fam->fields[i];
        size_t bytes = (size_t)fd->count * kind_bytes[fd->kind];
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
        h = fnv1a(h, families[f].name, strlen(families[f].name) + 1);
        for (int i = 0; i < families[f].n_fields; i++) {
            const field *fd = &families[f].fields[i];
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

typedef struct hasher {
    uint64_t lane[4];
    uint8_t tail[32];
    size_t n_tail;
    uint64_t total;
} hasher;

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static void hash_init(hasher *h)
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

static void hash_update(hasher *h, const void *data, size_t n)
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

static uint64_t hash_final(hasher *h)
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
    hasher h;
    hash_init(&h);
    hash_update(&h, data, size_bytes);
    return hash_final(&h);
}

/* ---- writer --------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (data)
        memcpy(b->p + b->n, data, n);
    else
        memset(b->p + b->n, 0, n);
    b->n += n;
}

static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i32(buf *b, int32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_i64(buf *b, int64_t v) { put(b, &v, 8); }

typedef struct blob {
    const void *data;
    uint64_t offset, bytes;
} blob;

typedef struct writer {
    const evo_graph *g;
    buf strings, values, nodes, io;
    blob *blobs;
    int n_blobs, cap_blobs;
    uint64_t data_bytes;
    int *remap; /* old value id -> new id, -1 when dropped */
    bool oom;
} writer;

static uint32_t add_string(writer *w, const char *s)
{
    if (!s || !s[0])
        return 0; /* offset 0 holds "" */
    uint32_t at = (uint32_t)w->strings.n;
    put(&w->strings, s, strlen(s) + 1);
    return at;
}

/* Places a blob in the DATA section; returns its offset. */
static uint64_t add_blob(writer *w, const void *data, uint64_t bytes)
{
    if (w->n_blobs == w->cap_blobs) {
        int cap = w->cap_blobs ? w->cap_blobs * 2 : 256;
        blob *b = realloc(w->blobs, sizeof(*b) * (size_t)cap);
        if (!b) {
            w->oom = true;
            return 0;
        }
        w->blobs = b;
        w->cap_blobs = cap;
    }
    uint64_t at = ALIGN64(w->data_bytes);
    w->blobs[w->n_blobs++] = (blob){data, at, bytes};
    w->data_bytes = at + bytes;
    return at;
}

static void write_attrs(writer *w, buf *b, const evo_node *n)
{
    evo_attr_kind ak = evo_file_attr_kind(n->op);
    const struct family *fam = &families[ak];
    const uint8_t *base = (const uint8_t *)&n->a;
    for (int i = 0; i < fam->n_fields; i++) {
        const field *fd = &fam->fields[i];
        if (fd->kind == FK_BOOL) {
            for (int c = 0; c < fd->count; c++) {
                uint8_t v = ((const bool *)(base + fd->offset))[c] ? 1 : 0;
                put(b, &v, 1);
            }
        } else {
            put(b, base + fd->offset, (size_t)fd->count * kind_bytes[fd->kind]);
        }
    }
    if (ak == EVO_AK_SPLIT) {
        for (int i = 0; i < n->a.split.n_splits; i++)
            put_i64(b, n->a.split.sizes[i]);
    } else if (ak == EVO_AK_FILL) {
        const evo_value *y = n->n_out > 0 && n->out[0] >= 0 ? &w->g->values[n->out[0]] : NULL;
        if (n->a.fill.data && y) {
            uint64_t bytes = (uint64_t)evo_value_count(y) * evo_dtype_size(y->dtype);
            put_u64(b, add_blob(w, n->a.fill.data, bytes));
            put_u64(b, bytes);
        } else {
            put_u64(b, NO_DATA);
            put_u64(b, 0);
        }
    }
}

static evo_status write_values(writer *w, evo_error *err)
{
    const evo_graph *g = w->g;
    for (int id = 0; id < g->n_values; id++) {
        if (w->remap[id] < 0)
            continue;
        const evo_value *v = &g->values[id];
        int64_t count;
        if (evo_dtype_size(v->dtype) == 0 || v->rank < 0 || v->rank > EVO_MAX_RANK ||
            !evo_dims_count(v->dims, v->rank, EVO_MAX_ELEMENTS, &count))
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "%s: value \"%s\": type or shape not known; compile the graph first",
                              g->file, v->name);
        uint64_t bytes = (uint64_t)count * evo_dtype_size(v->dtype);
        uint32_t flags = (v->is_input ? FLAG_INPUT : 0) | (v->is_output ? FLAG_OUTPUT : 0) |
                         (v->data ? FLAG_CONST : 0);
        if (v->data && v->size_bytes != bytes)
            return evo_errorf(err, EVO_ERR_INTERNAL, "%s: constant \"%s\": %zu bytes, shape says %llu",
                              g->file, v->name, v->size_bytes, (unsigned long long)bytes);
        put_u32(&w->values, add_string(w, v->name));
        put_i32(&w->values, (int32_t)v->dtype);
        put_i32(&w->values, v->rank);
        put_u32(&w->values, flags);
        for (int d = 0; d < EVO_MAX_RANK; d++)
            put_i64(&w->values, d < v->rank ? v->dims[d] : 0);
        put_u64(&w->values, v->data ? add_blob(w, v->data, bytes) : 0);
        put_u64(&w->values, v->data ? bytes : 0);
    }
    return EVO_OK;
}

static int live_nodes_and_values(writer *w)
{
    const evo_graph *g = w->g;
    int n_live = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        n_live++;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                w->remap[n->in[k]] = 0;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                w->remap[n->out[k]] = 0;
    }
    for (int k = 0; k < g->n_inputs; k++)
        w->remap[g->inputs[k]] = 0;
    for (int k = 0; k < g->n_outputs; k++)
        w->remap[g->outputs[k]] = 0;
    int next = 0;
    for (int v = 0; v < g->n_values; v++)
        if (w->remap[v] == 0)
            w->remap[v] = next++;
    return n_live;
}

static void write_nodes(writer *w)
{
    const evo_graph *g = w->g;
    buf attrs = {0};
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        attrs.n = 0;
        write_attrs(w, &attrs, n);
        put_u32(&w->nodes, add_string(w, evo_op_name(n->op)));
        put_u32(&w->nodes, add_string(w, n->name));
        put_u32(&w->nodes, add_string(w, n->op_type));
        put_u32(&w->nodes, add_string(w, n->domain));
        put_u32(&w->nodes, (uint32_t)n->n_in);
        put_u32(&w->nodes, (uint32_t)n->n_out);
        put_u32(&w->nodes, (uint32_t)attrs.n);
        for (int k = 0; k < n->n_in; k++)
            put_i32(&w->nodes, n->in[k] >= 0 ? w->remap[n->in[k]] : -1);
        for (int k = 0; k < n->n_out; k++)
            put_i32(&w->nodes, n->out[k] >= 0 ? w->remap[n->out[k]] : -1);
        put(&w->nodes, attrs.p, attrs.n);
        w->oom |= attrs.oom;
    }
    free(attrs.p);
}

/* Header, section table and metadata sections; DATA follows at data_offset. */
static void write_head(writer *w, buf *head, int n_values, int n_nodes, uint64_t *data_offset)
{
    const evo_graph *g = w->g;
    buf meta = {0};
    put_u32(&meta, add_string(w, g->producer_name));
    put_u32(&meta, add_string(w, "evo " EVO_VERSION_STRING));
    put_i64(&meta, g->ir_version);
    put_i64(&meta, g->opset);
    put_u32(&meta, (uint32_t)n_values);
    put_u32(&meta, (uint32_t)n_nodes);
    put_u32(&meta, (uint32_t)g->n_inputs);
    put_u32(&meta, (uint32_t)g->n_outputs);
    const buf *secs[] = {&meta, &w->strings, &w->values, &w->nodes, &w->io};
    uint64_t offsets[SEC_LAST + 1];
    uint64_t at = HEADER_BYTES + SECTION_BYTES * SEC_LAST;
    for (int s = 0; s < SEC_LAST - 1; s++) {
        offsets[s] = at;
        at = (at + secs[s]->n + 7) & ~(uint64_t)7;
    }
    *data_offset = ALIGN64(at);
    uint64_t file_bytes = *data_offset + w->data_bytes + TRAILER_BYTES;
    put(head, EVO_FILE_MAGIC, 8);
    put_u32(head, EVO_FILE_VERSION);
    put_u32(head, ENDIAN_TAG);
    put_u32(head, HEADER_BYTES);
    put_u32(head, SEC_LAST);
    put_u64(head, file_bytes);
    put_u64(head, evo_file_schema());
    put_u64(head, HEADER_BYTES);
    put_u64(head, 0);
    put_u64(head, 0);
    for (int s = 0; s < SEC_LAST; s++) {
        put_u32(head, (uint32_t)(s + 1));
        put_u32(head, 0);
        put_u64(head, s < SEC_LAST - 1 ? offsets[s] : *data_offset);
        put_u64(head, s < SEC_LAST - 1 ? secs[s]->n : w->data_bytes);
    }
    for (int s = 0; s < SEC_LAST - 1; s++) {
        put(head, NULL, offsets[s] - head->n);
        put(head, secs[s]->p, secs[s]->n);
    }
    put(head, NULL, *data_offset - head->n);
    w->oom |= meta.oom;
    free(meta.p);
}

static bool write_all(FILE *f, hasher *h, const void *data, size_t n)
{
    static const uint8_t zeros[64];
    if (!data) {
        while (n) {
            size_t k = EVO_MIN(n, sizeof(zeros));
            if (fwrite(zeros, 1, k, f) != k)
                return false;
            hash_update(h, zeros, k);
            n -= k;
        }
        return true;
    }
    hash_update(h, data, n);
    return fwrite(data, 1, n, f) == n;
}

static evo_status write_file(writer *w, const buf *head, const char *path, size_t *bytes_out,
                             evo_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    hasher h;
    hash_init(&h);
    bool ok = write_all(f, &h, head->p, head->n);
    uint64_t at = 0;
    for (int i = 0; ok && i < w->n_blobs; i++) {
        ok = write_all(f, &h, NULL, w->blobs[i].offset - at) &&
             write_all(f, &h, w->blobs[i].data, w->blobs[i].bytes);
        at = w->blobs[i].offset + w->blobs[i].bytes;
    }
    uint64_t sum = hash_final(&h);
    ok = ok && fwrite(&sum, 1, 8, f) == 8;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    if (bytes_out)
        *bytes_out = head->n + w->data_bytes + TRAILER_BYTES;
    return EVO_OK;
}

evo_status evo_file_write(const evo_graph *g, const char *path, size_t *bytes_out,
                          evo_error *err)
{
    if (!g || !path)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_file_write: graph and path are required");
    writer w = {.g = g};
    buf head = {0};
    evo_status s = EVO_OK;
    w.remap = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    if (!w.remap) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int v = 0; v < g->n_values; v++)
        w.remap[v] = -1;
    put(&w.strings, "", 1);
    int n_nodes = live_nodes_and_values(&w);
    int n_values = 0;
    for (int v = 0; v < g->n_values; v++)
        n_values += w.remap[v] >= 0;
    if ((s = write_values(&w, err)))
        goto done;
    write_nodes(&w);
    for (int k = 0; k < g->n_inputs; k++)
        put_i32(&w.io, w.remap[g->inputs[k]]);
    for (int k = 0; k < g->n_outputs; k++)
        put_i32(&w.io, w.remap[g->outputs[k]]);
    uint64_t data_offset;
    write_head(&w, &head, n_values, n_nodes, &data_offset);
    if (w.oom || head.oom || w.strings.oom || w.values.oom || w.nodes.oom || w.io.oom ||
        w.strings.n > UINT32_MAX) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory writing the model", path);
        goto done;
    }
    s = write_file(&w, &head, path, bytes_out, err);
done:
    free(w.remap);
    free(w.blobs);
    free(w.strings.p);
    free(w.values.p);
    free(w.nodes.p);
    free(w.io.p);
    free(head.p);
    return s;
}

/* ---- reader ----------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *base;
    size_t size;
    const char *file;
    evo_error *err;
    const uint8_t *sec[SEC_LAST + 1];
    uint64_t sec_bytes[SEC_LAST + 1];
    bool copy_data; /* the image is not 64-byte aligned: copy constants */
    evo_graph *g;
} reader;

static evo_status fail(reader *r, const char *what, const char *fmt, ...) EVO_PRINTF(3, 4);
static evo_status fail(reader *r, const char *what, const char *fmt, ...)
{
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return evo_errorf(r->err, EVO_ERR_PARSE, "%s: %s: %s", r->file, what, reason);
}

typedef struct cursor {
    const uint8_t *p;
    uint64_t left;
} cursor;

static bool take(cursor *c, void *out, uint64_t n)
{
    if (c->left < n)
        return false;
    memcpy(out, c->p, (size_t)n);
    c->p += n;
    c->left -= n;
    return true;
}

static uint32_t ld_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t ld_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static evo_status read_header(reader *r, unsigned flags)
{
    const uint8_t *b = r->base;
    if (r->size < HEADER_BYTES + TRAILER_BYTES || memcmp(b, EVO_FILE_MAGIC, 8) != 0)
        return fail(r, "header", "not an .evo file (%zu bytes, no \"%s\" magic)", r->size, EVO_FILE_MAGIC);
    uint32_t version = ld_u32(b + 8);
    if (ld_u32(b + 12) != ENDIAN_TAG)
        return fail(r, "header", "written on a host of the other byte order; recompile the model here");
    if (version != EVO_FILE_VERSION)
        return fail(r, "header", "format version %u, this evo reads version %u; recompile the model with evo compile",
                    version, EVO_FILE_VERSION);
    if (ld_u32(b + 16) != HEADER_BYTES)
        return fail(r, "header", "header size %u, expected %d", ld_u32(b + 16), HEADER_BYTES);
    if (ld_u64(b + 24) != r->size)
        return fail(r, "header", "file is %zu bytes but the header says %llu: truncated or padded", r->size,
                    (unsigned long long)ld_u64(b + 24));
    if (!(flags & EVO_FILE_NO_CHECKSUM)) {
        uint64_t want = ld_u64(b + r->size - TRAILER_BYTES);
        if (evo_file_checksum(b, r->size - TRAILER_BYTES) != want)
            return fail(r, "checksum", "mismatch: the file is corrupt or was modified");
    }
    if (ld_u64(b + 32) != evo_file_schema())
        return fail(r, "header", "compiled by an evo with different operator attributes (%s); recompile the model",
                    "schema fingerprint differs");
    uint32_t n_sec = ld_u32(b + 20);
    uint64_t table = ld_u64(b + 40), end = r->size - TRAILER_BYTES;
    if (n_sec > MAX_SECTIONS || table < HEADER_BYTES || table > end ||
        (end - table) / SECTION_BYTES < n_sec)
        return fail(r, "section table", "%u sections at offset %llu do not fit in the file", n_sec,
                    (unsigned long long)table);
    for (uint32_t s = 0; s < n_sec; s++) {
        const uint8_t *e = b + table + (uint64_t)s * SECTION_BYTES;
        uint32_t id = ld_u32(e);
        uint64_t off = ld_u64(e + 8), bytes = ld_u64(e + 16);
        if (off < HEADER_BYTES || off > end || bytes > end - off)
            return fail(r, "section table", "section %u (%llu bytes at %llu) lies outside the file", id,
                        (unsigned long long)bytes, (unsigned long long)off);
        if (id < 1 || id > SEC_LAST)
            continue; /* added by a later minor revision */
        if (r->sec[id])
            return fail(r, "section table", "section %u appears twice", id);
        if (id == SEC_DATA && off % 64)
            return fail(r, "section table", "data section at offset %llu is not 64-byte aligned",
                        (unsigned long long)off);
        r->sec[id] = b + off;
        r->sec_bytes[id] = bytes;
    }
    static const char *names[] = {"", "meta", "strings", "values", "nodes", "io", "data"};
    for (int id = 1; id <= SEC_LAST; id++)
        if (!r->sec[id])
            return fail(r, "section table", "the %s section is missing", names[id]);
    return EVO_OK;
}

/* A string reference: offset into the strings section, which ends in NUL. */
static bool get_string(reader *r, uint32_t ref, const char **out)
{
    if (ref >= r->sec_bytes[SEC_STRINGS])
        return false;
    *out = (const char *)r->sec[SEC_STRINGS] + ref;
    return true;
}

static evo_status read_values(reader *r, uint32_t n_values)
{
    evo_graph *g = r->g;
    if (r->sec_bytes[SEC_VALUES] != (uint64_t)n_values * VALUE_BYTES)
        return fail(r, "values", "section is %llu bytes, expected %u values of %d bytes",
                    (unsigned long long)r->sec_bytes[SEC_VALUES], n_values, VALUE_BYTES);
    for (uint32_t i = 0; i < n_values; i++) {
        const uint8_t *rec = r->sec[SEC_VALUES] + (uint64_t)i * VALUE_BYTES;
        const char *name;
        int32_t dtype, rank;
        uint32_t flags = ld_u32(rec + 12);
        memcpy(&dtype, rec + 4, 4);
        memcpy(&rank, rec + 8, 4);
        if (!get_string(r, ld_u32(rec), &name))
            return fail(r, "values", "value %u: name reference out of range", i);
        size_t esize = dtype > 0 && dtype <= EVO_DTYPE_BFLOAT16 ? evo_dtype_size((evo_dtype)dtype) : 0;
        if (esize == 0)
            return fail(r, "values", "value %u \"%s\": unsupported dtype code %d", i, name, dtype);
        if (rank < 0 || rank > EVO_MAX_RANK)
            return fail(r, "values", "value %u \"%s\": rank %d, expected 0..%d", i, name, rank, EVO_MAX_RANK);
        if (flags > 7 || ((flags & FLAG_INPUT) && (flags & FLAG_CONST)))
            return fail(r, "values", "value %u \"%s\": bad flags 0x%x", i, name, flags);
        int64_t dims[EVO_MAX_RANK], count;
        memcpy(dims, rec + 16, sizeof(dims));
        if (!evo_dims_count(dims, rank, EVO_MAX_ELEMENTS, &count))
            return fail(r, "values", "value %u \"%s\": negative dim or more than 2^31 elements", i, name);
        uint64_t off = ld_u64(rec + 80), bytes = ld_u64(rec + 88);
        int id = evo_graph_add_value(g, name);
        if (id < 0)
            return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
        evo_value *v = &g->values[id];
        v->dtype = (evo_dtype)dtype;
        v->rank = rank;
        for (int d = 0; d < rank; d++)
            v->dims[d] = dims[d];
        v->is_input = flags & FLAG_INPUT;
        v->is_output = flags & FLAG_OUTPUT;
        if (!(flags & FLAG_CONST)) {
            if (off || bytes)
                return fail(r, "values", "value %u \"%s\": data on a non-constant", i, name);
            continue;
        }
        if (bytes != (uint64_t)count * esize)
            return fail(r, "values", "constant \"%s\": %llu bytes, but %lld elements of %s need %llu", name,
                        (unsigned long long)bytes, (long long)count, evo_dtype_name(v->dtype),
                        (unsigned long long)count * esize);
        if (off % 64 || off > r->sec_bytes[SEC_DATA] || bytes > r->sec_bytes[SEC_DATA] - off)
            return fail(r, "values", "constant \"%s\": data at %llu (+%llu bytes) is unaligned or outside the data section",
                        name, (unsigned long long)off, (unsigned long long)bytes);
        const uint8_t *src = r->sec[SEC_DATA] + off;
        if (r->copy_data) {
            void *p = evo_mem_alloc(&g->mem, (size_t)bytes);
            if (!p)
                return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
            memcpy(p, src, (size_t)bytes);
            src = p;
        }
        v->data = src;
        v->size_bytes = (size_t)bytes;
    }
    return EVO_OK;
}

static evo_status read_attrs(reader *r, evo_node *n, cursor *c)
{
    evo_attr_kind ak = evo_file_attr_kind(n->op);
    const struct family *fam = &families[ak];
    uint8_t *base = (uint8_t *)&n->a;
    memset(&n->a, 0, sizeof(n->a));
    for (int i = 0; i < fam->n_fields; i++) {
        const field *fd = &fam->fields[i];
        for (int k = 0; k < fd->count; k++) {
            uint8_t raw[8];
            uint8_t *dst = base + fd->offset + (size_t)k * kind_bytes[fd->kind];
            if (!take(c, raw, kind_bytes[fd->kind]))
                return fail(r, "nodes", "node \"%s\": attributes end early at %s", n->name, fd->name);
            if (fd->kind == FK_BOOL && raw[0] > 1)
                return fail(r, "nodes", "node \"%s\": attribute %s: bool byte %u", n->name, fd->name, raw[0]);
            if (fd->kind == FK_I32 && fd->max >= 0) {
                int32_t v;
                memcpy(&v, raw, 4);
                if (v < 0 || v > fd->max)
                    return fail(r, "nodes", "node \"%s\": attribute %s: %d is out of range 0..%d", n->name,
                                fd->name, v, fd->max);
            }
            if (fd->kind == FK_BOOL)
                *(bool *)dst = raw[0] != 0;
            else
                memcpy(dst, raw, kind_bytes[fd->kind]);
        }
    }
    if (ak == EVO_AK_SPLIT) {
        int ns = n->a.split.n_splits;
        if (ns != n->n_out)
            return fail(r, "nodes", "node \"%s\": %d split sizes for %d outputs", n->name, ns, n->n_out);
        int64_t *sizes = evo_mem_alloc(&r->g->mem, sizeof(int64_t) * (size_t)(ns ? ns : 1));
        if (!sizes)
            return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
        if (c->left < (uint64_t)ns * 8 || !take(c, sizes, (uint64_t)ns * 8))
            return fail(r, "nodes", "node \"%s\": split sizes end early", n->name);
        n->a.split.sizes = sizes;
    } else if (ak == EVO_AK_FILL) {
        uint64_t ref[2];
        if (!take(c, ref, 16))
            return fail(r, "nodes", "node \"%s\": constant data reference missing", n->name);
        if (ref[0] != NO_DATA) {
            const evo_value *y = n->n_out > 0 && n->out[0] >= 0 ? &r->g->values[n->out[0]] : NULL;
            if (!y || ref[1] != (uint64_t)evo_value_count(y) * evo_dtype_size(y->dtype) ||
                ref[0] > r->sec_bytes[SEC_DATA] || ref[1] > r->sec_bytes[SEC_DATA] - ref[0])
                return fail(r, "nodes", "node \"%s\": constant data does not match its output or the data section",
                            n->name);
            n->a.fill.data = r->sec[SEC_DATA] + ref[0];
        }
    }
    if (c->left)
        return fail(r, "nodes", "node \"%s\": %llu attribute bytes left over", n->name, (unsigned long long)c->left);
    return EVO_OK;
}

/* Reads ids, checking range; stores them into ids. */
static bool read_ids(cursor *c, int *ids, uint32_t count, int n_values)
{
    for (uint32_t k = 0; k < count; k++) {
        int32_t v;
        if (!take(c, &v, 4) || v < -1 || v >= n_values)
            return false;
        ids[k] = v;
    }
    return true;
}

static evo_status read_node(reader *r, cursor *c, uint32_t index)
{
    evo_graph *g = r->g;
    uint32_t f[7];
    const char *op_name, *name, *op_type, *domain;
    if (!take(c, f, sizeof(f)))
        return fail(r, "nodes", "node %u: record ends early", index);
    if (!get_string(r, f[0], &op_name) || !get_string(r, f[1], &name) || !get_string(r, f[2], &op_type) ||
        !get_string(r, f[3], &domain))
        return fail(r, "nodes", "node %u: string reference out of range", index);
    evo_op op = evo_op_from_name("", op_name);
    if (op == EVO_OP_UNKNOWN)
        return fail(r, "nodes", "node %u \"%s\": unknown op \"%s\" (the file is newer than this evo?)", index, name,
                    op_name);
    uint64_t need = ((uint64_t)f[4] + f[5]) * 4 + f[6];
    if (need > c->left || f[4] > INT32_MAX / 8 || f[5] > INT32_MAX / 8)
        return fail(r, "nodes", "node %u \"%s\": %u inputs, %u outputs and %u attribute bytes overrun the section",
                    index, name, f[4], f[5], f[6]);
    int id = evo_graph_add_node(g, op_type, name, (int)f[4], (int)f[5]);
    if (id < 0)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    evo_node *n = &g->nodes[id];
    n->op = op;
    n->domain = domain[0] ? evo_mem_strdup(&g->mem, domain) : "";
    if (!n->domain)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    if (!read_ids(c, n->in, f[4], g->n_values) || !read_ids(c, n->out, f[5], g->n_values))
        return fail(r, "nodes", "node \"%s\": value id out of range", n->name);
    cursor ac = {c->p, f[6]};
    c->p += f[6];
    c->left -= f[6];
    return read_attrs(r, n, &ac);
}

/* Every input is a constant, a graph input or produced by an earlier node; one producer per value. */
static evo_status check_order(reader *r)
{
    evo_graph *g = r->g;
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            const evo_value *v = n->in[k] >= 0 ? &g->values[n->in[k]] : NULL;
            if (v && !v->data && !v->is_input && v->producer < 0)
                return fail(r, "nodes", "node \"%s\": input \"%s\" is read before any node produces it", n->name,
                            v->name);
        }
        for (int k = 0; k < n->n_out; k++) {
            evo_value *v = n->out[k] >= 0 ? &g->values[n->out[k]] : NULL;
            if (!v)
                continue;
            if (v->data || v->is_input || v->producer >= 0)
                return fail(r, "nodes", "node \"%s\": output \"%s\" is a constant, a graph input or produced twice",
                            n->name, v->name);
            v->producer = i;
        }
    }
    return EVO_OK;
}

static evo_status read_io(reader *r, uint32_t n_inputs, uint32_t n_outputs)
{
    evo_graph *g = r->g;
    if (r->sec_bytes[SEC_IO] != ((uint64_t)n_inputs + n_outputs) * 4)
        return fail(r, "io", "section is %llu bytes for %u inputs and %u outputs",
                    (unsigned long long)r->sec_bytes[SEC_IO], n_inputs, n_outputs);
    g->inputs = evo_mem_alloc(&g->mem, sizeof(int) * ((size_t)n_inputs + 1));
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int) * ((size_t)n_outputs + 1));
    if (!g->inputs || !g->outputs)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    cursor c = {r->sec[SEC_IO], r->sec_bytes[SEC_IO]};
    if (!read_ids(&c, g->inputs, n_inputs, g->n_values) || !read_ids(&c, g->outputs, n_outputs, g->n_values))
        return fail(r, "io", "value id out of range");
    g->n_inputs = (int)n_inputs;
    g->n_outputs = (int)n_outputs;
    int flagged_in = 0, flagged_out = 0;
    for (int v = 0; v < g->n_values; v++) {
        flagged_in += g->values[v].is_input;
        flagged_out += g->values[v].is_output;
    }
    for (uint32_t k = 0; k < n_inputs; k++) {
        int v = g->inputs[k];
        if (v < 0 || !g->values[v].is_input)
            return fail(r, "io", "input %u is not a value flagged as input", k);
        for (uint32_t j = 0; j < k; j++)
            if (g->inputs[j] == v)
                return fail(r, "io", "input \"%s\" is listed twice", g->values[v].name);
    }
    int distinct_out = 0;
    for (uint32_t k = 0; k < n_outputs; k++) {
        int v = g->outputs[k];
        if (v < 0 || !g->values[v].is_output)
            return fail(r, "io", "output %u is not a value flagged as output", k);
        const evo_value *ov = &g->values[v];
        if (!ov->data && !ov->is_input && ov->producer < 0)
            return fail(r, "io", "output \"%s\" is not produced by any node", ov->name);
        bool dup = false;
        for (uint32_t j = 0; j < k; j++)
            dup |= g->outputs[j] == v;
        distinct_out += !dup;
    }
    if (flagged_in != (int)n_inputs || flagged_out != distinct_out)
        return fail(r, "io", "input/output flags disagree with the input and output lists");
    return EVO_OK;
}

static evo_status read_graph(reader *r)
{
    evo_graph *g = r->g;
    const uint8_t *m = r->sec[SEC_META];
    if (r->sec_bytes[SEC_META] < META_BYTES)
        return fail(r, "meta", "section is %llu bytes, expected %d", (unsigned long long)r->sec_bytes[SEC_META],
                    META_BYTES);
    if (r->sec_bytes[SEC_STRINGS] == 0 || r->sec[SEC_STRINGS][r->sec_bytes[SEC_STRINGS] - 1] != 0)
        return fail(r, "strings", "section does not end with a NUL");
    const char *producer, *version;
    if (!get_string(r, ld_u32(m), &producer) || !get_string(r, ld_u32(m + 4), &version))
        return fail(r, "meta", "string reference out of range");
    memcpy(&g->ir_version, m + 8, 8);
    memcpy(&g->opset, m + 16, 8);
    g->producer_name = evo_mem_strdup(&g->mem, producer);
    uint32_t n_values = ld_u32(m + 24), n_nodes = ld_u32(m + 28);
    uint32_t n_inputs = ld_u32(m + 32), n_outputs = ld_u32(m + 36);
    if (!g->producer_name)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    if (n_values > INT32_MAX / 2 || n_nodes > r->sec_bytes[SEC_NODES] / NODE_FIXED_BYTES)
        return fail(r, "meta", "%u values and %u nodes do not fit in their sections", n_values, n_nodes);
    evo_status s = read_values(r, n_values);
    if (s)
        return s;
    cursor c = {r->sec[SEC_NODES], r->sec_bytes[SEC_NODES]};
    for (uint32_t i = 0; i < n_nodes; i++)
        if ((s = read_node(r, &c, i)))
            return s;
    if (c.left)
        return fail(r, "nodes", "%llu bytes left after %u nodes", (unsigned long long)c.left, n_nodes);
    if ((s = check_order(r)) || (s = read_io(r, n_inputs, n_outputs)))
        return s;
    return evo_file_check_nodes(g, r->err);
}

evo_status evo_file_load_buffer(const void *data, size_t size_bytes, const char *name,
                                unsigned flags, evo_graph **out, evo_error *err)
{
    if (!data || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_file_load_buffer: data and out are required");
    reader r = {.base = data, .size = size_bytes, .file = name ? name : "<memory>", .err = err};
    r.copy_data = ((uintptr_t)data % 64) != 0;
    evo_status s = read_header(&r, flags);
    if (s)
        return s;
    r.g = evo_graph_new(r.file);
    if (!r.g)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", r.file);
    r.file = r.g->file;
    if ((s = read_graph(&r))) {
        evo_graph_free(r.g);
        return s;
    }
    *out = r.g;
    return EVO_OK;
}

evo_status evo_file_load(const char *path, evo_graph **out, evo_error *err)
{
    if (!path || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_file_load: path and out are required");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return evo_errorf(err, EVO_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size < HEADER_BYTES + TRAILER_BYTES) {
        close(fd);
        return evo_errorf(err, EVO_ERR_PARSE, "%s: header: file is %zu bytes, too short for an .evo file", path,
                          size);
    }
    void *addr = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (addr == MAP_FAILED)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    evo_graph *g = NULL;
    evo_status s = evo_file_load_buffer(addr, size, path, 0, &g, err);
    if (!s && (s = evo_graph_add_mapping(g, addr, size, err))) {
        evo_graph_free(g);
        g = NULL;
    }
    if (s) {
        munmap(addr, size);
        return s;
    }
    *out = g;
    return EVO_OK;
}

bool evo_file_has_magic(const void *data, size_t size_bytes)
{
    return data && size_bytes >= EVO_FILE_MAGIC_BYTES && memcmp(data, EVO_FILE_MAGIC, EVO_FILE_MAGIC_BYTES) == 0;
}

bool evo_file_path_has_magic(const char *path)
{
    char magic[EVO_FILE_MAGIC_BYTES];
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return false;
    size_t got = fread(magic, 1, sizeof(magic), f);
    fclose(f);
    return evo_file_has_magic(magic, got);
}

evo_status evo_file_check_options(const evo_graph *g, const evo_compile_options *opts,
                                  evo_error *err)
{
    if (!opts)
        return EVO_OK;
    if (opts->n_const_inputs > 0)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                          "%s: constant inputs cannot be bound to a compiled model; bind them when compiling",
                          g->file);
    for (int i = 0; i < opts->n_input_shapes; i++) {
        const evo_input_shape *is = &opts->input_shapes[i];
        const evo_value *v = NULL;
        for (int k = 0; k < g->n_inputs && !v; k++)
            if (is->name && strcmp(g->values[g->inputs[k]].name, is->name) == 0)
                v = &g->values[g->inputs[k]];
        if (!v)
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: --input-shape: no input named \"%s\"", g->file,
                              is->name ? is->name : "");
        bool same = v->rank == is->rank;
        for (int d = 0; same && d < v->rank; d++)
            same = v->dims[d] == is->dims[d];
        if (!same) {
            char have[128], want[128];
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "%s: input \"%s\": compiled for %s, asked for %s; recompile with evo compile --input-shape",
                              g->file, v->name, evo_dims_str(v->dims, v->rank, have, sizeof(have)),
                              evo_dims_str(is->dims, is->rank, want, sizeof(want)));
        }
    }
    return EVO_OK;
}
