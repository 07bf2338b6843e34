/*
 * binary_ref.c - reference kernels of the broadcasting elementwise family:
 * arithmetic, Min/Max/Sum/Mean (variadic), comparisons, logic, Mod, Pow,
 * PRelu and Where.
 *
 * Broadcasting is numpy's, for any rank. The output shape is collapsed
 * first: size-1 axes are dropped and neighbouring axes merged whenever
 * every input is contiguous (or broadcast) across both, so "same shape",
 * "tensor op scalar" and "[N,C,H,W] op [1,C,1,1]" all become loops over
 * long rows in which each input has stride 1 or 0. A task owns a range of
 * output elements and walks it row by row.
 *
 * Integer arithmetic wraps (computed in uint64) and division or modulo by
 * zero gives 0 instead of trapping; integer Div truncates toward zero and
 * Mod follows the divisor's sign unless fmod=1, as in the ONNX spec.
 * float16/bfloat16 and mixed-type Pow use a scalar path through double.
 */
#include "kernels/elem_ref.h"

#include <math.h>
#include <string.h>

#define BC_MAX_IN 3

/* A collapsed broadcast of up to 3 inputs onto a contiguous output. */
typedef struct bcast {
    int rank, n_in;
    int64_t dims[EVO_MAX_RANK];
    int64_t stride[BC_MAX_IN][EVO_MAX_RANK]; /* in elements; 0 where broadcast */
} bcast;

typedef struct bcast_iter {
    int64_t pos, end;
    int64_t idx[EVO_MAX_RANK];
    int64_t off[BC_MAX_IN];
} bcast_iter;

static void bcast_init(bcast *bc, const evo_tensor *out, const evo_tensor *const *in, int n_in)
{
    int64_t full[BC_MAX_IN][EVO_MAX_RANK];
    int r = out->rank;
    for (int k = 0; k < n_in; k++) {
        int lead = r - in[k]->rank;
        int64_t s = 1;
        for (int d = r - 1; d >= 0; d--) {
            int64_t dim = d >= lead ? in[k]->dims[d - lead] : 1;
            full[k][d] = dim == 1 ? 0 : s;
            s *= dim;
        }
    }
    bc->n_in = n_in;
    bc->rank = 0;
    for (int d = 0; d < r; d++) {
        int64_t od = out->dims[d];
        if (od == 1)
            continue;
        bool merge = bc->rank > 0;
        for (int k = 0; k < n_in && merge; k++)
            merge = bc->stride[k][bc->rank - 1] == full[k][d] * od;
        if (!merge) {
            bc->dims[bc->rank] = od;
            bc->rank++;
        } else {
            bc->dims[bc->rank - 1] *= od;
        }
        for (int k = 0; k < n_in; k++)
            bc->stride[k][bc->rank - 1] = full[k][d];
    }
    if (bc->rank == 0) {
        bc->rank = 1;
        bc->dims[0] = 1;
        for (int k = 0; k < n_in; k++)
            bc->stride[k][0] = 0;
    }
}

static void bcast_seek(const bcast *bc, bcast_iter *it, int64_t begin, int64_t end)
{
    it->pos = begin;
    it->end = end;
    for (int k = 0; k < bc->n_in; k++)
        it->off[k] = 0;
    int64_t rem = begin;
    for (int d = bc->rank - 1; d >= 0; d--) {
        it->idx[d] = rem % bc->dims[d];
        rem /= bc->dims[d];
        for (int k = 0; k < bc->n_in; k++)
            it->off[k] += it->idx[d] * bc->stride[k][d];
    }
}

/*
 * The next row: writes the output position and input offsets of its first
 * element and returns its length (0 when the range is done). Along a row,
 * input k advances by bc->stride[k][rank - 1].
 */
static int64_t bcast_row(const bcast *bc, bcast_iter *it, int64_t *pos, int64_t *off)
{
    if (it->pos >= it->end)
        return 0;
    int last = bc->rank - 1;
    int64_t count = EVO_MIN(bc->dims[last] - it->idx[last], it->end - it->pos);
    *pos = it->pos;
    for (int k = 0; k < bc->n_in; k++) {
        off[k] = it->off[k];
        it->off[k] += count * bc->stride[k][last];
    }
    it->pos += count;
    it->idx[last] += count;
    for (int d = last; d > 0 && it->idx[d] == bc->dims[d]; d--) {
        it->idx[d] = 0;
        it->idx[d - 1]++;
        for (int k = 0; k < bc->n_in; k++)
            it->off[k] += bc->stride[k][d - 1] - bc->dims[d] * bc->stride[k][d];
    }
    return count;
}

/* Scalar ops per type. Integers compute in uint64 so that overflow wraps. */
#define FLOAT_OPS(sfx, T, FMOD)                                                             \
    static inline T add_##sfx(T p, T q) { return p + q; }                                   \
    static inline T sub_##sfx(T p, T q) { return p - q; }                                   \
    static inline T mul_##sfx(T p, T q) { return p * q; }                                   \
    static inline T div_##sfx(T p, T q) { return p / q; }                                   \
    static inline T min_##sfx(T p, T q) { return (p < q || p != p) ? p : q; }               \
    static inline T max_##sfx(T p, T q) { return (p > q || p != p) ? p : q; }               \
    static inline T fmod_##sfx(T p, T q) { return FMOD(p, q); }                             \
    static inline T mod_##sfx(T p, T q)                                                     \
    {                                                                                       \
        T r = FMOD(p, q);                                                                   \
        return (r != 0 && ((r < 0) != (q < 0))) ? r + q : r;                                \
    }                                                                                       \
    static inline T prelu_##sfx(T p, T q) { return p < 0 ? p * q : p; }

#define INT_COMMON_OPS(sfx, T)                                                              \
    static inline T add_##sfx(T p, T q) { return (T)((uint64_t)p + (uint64_t)q); }          \
    static inline T sub_##sfx(T p, T q) { return (T)((uint64_t)p - (uint64_t)q); }          \
    static inline T mul_##sfx(T p, T q) { return (T)((uint64_t)p * (uint64_t)q); }          \
    static inline T min_##sfx(T p, T q) { return p < q ? p : q; }                           \
    static inline T max_##sfx(T p, T q) { return p > q ? p : q; }

#define SINT_OPS(sfx, T)                                                                    \
    INT_COMMON_OPS(sfx, T)                                                                  \
    static inline T div_##sfx(T p, T q)                                                     \
    {                                                                                       \
        return q == 0 ? (T)0 : q == -1 ? (T)(0 - (uint64_t)p) : (T)(p / q);                 \
    }                                                                                       \
    static inline T fmod_##sfx(T p, T q) { return (q == 0 || q == -1) ? (T)0 : (T)(p % q); } \
    static inline T mod_##sfx(T p, T q)                                                     \
    {                                                                                       \
        T r = fmod_##sfx(p, q);                                                             \
        return (r != 0 && ((r < 0) != (q < 0))) ? (T)(r + q) : r;                           \
    }                                                                                       \
    static inline T prelu_##sfx(T p, T q) { return p < 0 ? mul_##sfx(p, q) : p; }

#define UINT_OPS(sfx, T)                                                                    \
    INT_COMMON_OPS(sfx, T)                                                                  \
    static inline T div_##sfx(T p, T q) { return q == 0 ? (T)0 : (T)(p / q); }              \
    static inline T fmod_##sfx(T p, T q) { return q == 0 ? (T)0 : (T)(p % q); }             \
    static inline T mod_##sfx(T p, T q) { return fmod_##sfx(p, q); }                        \
    static inline T prelu_##sfx(T p, T q) { return p; }

FLOAT_OPS(f32, float, fmodf)
FLOAT_OPS(f64, double, fmod)
SINT_OPS(i8, int8_t)
SINT_OPS(i16, int16_t)
SINT_OPS(i32, int32_t)
SINT_OPS(i64, int64_t)
UINT_OPS(u8, uint8_t)
UINT_OPS(u16, uint16_t)
UINT_OPS(u32, uint32_t)
UINT_OPS(u64, uint64_t)

/* A row: o[i] = f(a[i*sa], b[i*sb]) with sa, sb in {0, 1} after collapsing. */
typedef void (*row_fn)(void *o, const void *a, const void *b, int64_t sa, int64_t sb, int64_t n);

#define ROW(name, T, OT, EXPR)                                                              \
    static void name(void *o_, const void *a_, const void *b_, int64_t sa, int64_t sb,      \
                     int64_t n)                                                             \
    {                                                                                       \
        OT *o = o_;                                                                         \
        const T *x = a_, *y = b_;                                                           \
        if (sa == 1 && sb == 1) {                                                           \
            for (int64_t i = 0; i < n; i++) {                                               \
                T p = x[i], q = y[i];                                                       \
                o[i] = (OT)(EXPR);                                                          \
            }                                                                               \
        } else if (sa == 1 && sb == 0) {                                                    \
            const T q = y[0];                                                               \
            for (int64_t i = 0; i < n; i++) {                                               \
                T p = x[i];                                                                 \
                o[i] = (OT)(EXPR);                                                          \
            }                                                                               \
        } else if (sa == 0 && sb == 1) {                                                    \
            const T p = x[0];                                                               \
            for (int64_t i = 0; i < n; i++) {                                               \
                T q = y[i];                                                                 \
                o[i] = (OT)(EXPR);                                                          \
            }                                                                               \
        } else {                                                                            \
            for (int64_t i = 0; i < n; i++) {                                               \
                T p = x[i * sa], q = y[i * sb];                                             \
                o[i] = (OT)(EXPR);                                                          \
            }                                                                               \
        }                                                                                   \
    }

typedef struct row_table {
    row_fn add, sub, mul, div, min, max, mod, fmod, prelu, eq, lt, gt, le, ge;
} row_table;

#define ROW_TABLE(sfx, T)                                                                   \
    ROW(add_row_##sfx, T, T, add_##sfx(p, q))                                               \
    ROW(sub_row_##sfx, T, T, sub_##sfx(p, q))                                               \
    ROW(mul_row_##sfx, T, T, mul_##sfx(p, q))                                               \
    ROW(div_row_##sfx, T, T, div_##sfx(p, q))                                               \
    ROW(min_row_##sfx, T, T, min_##sfx(p, q))                                               \
    ROW(max_row_##sfx, T, T, max_##sfx(p, q))                                               \
    ROW(mod_row_##sfx, T, T, mod_##sfx(p, q))                                               \
    ROW(fmod_row_##sfx, T, T, fmod_##sfx(p, q))                                             \
    ROW(prelu_row_##sfx, T, T, prelu_##sfx(p, q))                                           \
    ROW(eq_row_##sfx, T, uint8_t, p == q)                                                   \
    ROW(lt_row_##sfx, T, uint8_t, p < q)                                                    \
    ROW(gt_row_##sfx, T, uint8_t, p > q)                                                    \
    ROW(le_row_##sfx, T, uint8_t, p <= q)                                                   \
    ROW(ge_row_##sfx, T, uint8_t, p >= q)                                                   \
    static const row_table table_##sfx = {                                                  \
        add_row_##sfx, sub_row_##sfx, mul_row_##sfx, div_row_##sfx, min_row_##sfx,          \
        max_row_##sfx, mod_row_##sfx, fmod_row_##sfx, prelu_row_##sfx, eq_row_##sfx,        \
        lt_row_##sfx,  gt_row_##sfx,  le_row_##sfx,  ge_row_##sfx};

ROW_TABLE(f32, float)
ROW_TABLE(f64, double)
ROW_TABLE(i8, int8_t)
ROW_TABLE(i16, int16_t)
ROW_TABLE(i32, int32_t)
ROW_TABLE(i64, int64_t)
ROW_TABLE(u8, uint8_t)
ROW_TABLE(u16, uint16_t)
ROW_TABLE(u32, uint32_t)
ROW_TABLE(u64, uint64_t)

ROW(and_row_b, uint8_t, uint8_t, p && q)
ROW(or_row_b, uint8_t, uint8_t, p || q)
ROW(xor_row_b, uint8_t, uint8_t, (p != 0) != (q != 0))
ROW(eq_row_b, uint8_t, uint8_t, (p != 0) == (q != 0))
ROW(pow_row_f32, float, float, powf(p, q))

static const row_table *table_for(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return &table_f32;
    case EVO_DTYPE_DOUBLE: return &table_f64;
    case EVO_DTYPE_INT8: return &table_i8;
    case EVO_DTYPE_INT16: return &table_i16;
    case EVO_DTYPE_INT32: return &table_i32;
    case EVO_DTYPE_INT64: return &table_i64;
    case EVO_DTYPE_UINT8: return &table_u8;
    case EVO_DTYPE_UINT16: return &table_u16;
    case EVO_DTYPE_UINT32: return &table_u32;
    case EVO_DTYPE_UINT64: return &table_u64;
    default: return NULL;
    }
}

/* The row function for op on inputs of dtype a / b, or NULL for the scalar path. */
static row_fn row_for(evo_op op, bool use_fmod, evo_dtype ta, evo_dtype tb)
{
    if (ta == EVO_DTYPE_BOOL && tb == EVO_DTYPE_BOOL) {
        switch (op) {
        case EVO_OP_AND: return and_row_b;
        case EVO_OP_OR: return or_row_b;
        case EVO_OP_XOR: return xor_row_b;
        case EVO_OP_EQUAL: return eq_row_b;
        default: return NULL;
        }
    }
    if (op == EVO_OP_POW)
        return ta == EVO_DTYPE_FLOAT && tb == EVO_DTYPE_FLOAT ? pow_row_f32 : NULL;
    const row_table *t = ta == tb ? table_for(ta) : NULL;
    if (!t)
        return NULL;
    switch (op) {
    case EVO_OP_ADD:
    case EVO_OP_SUM:
    case EVO_OP_MEAN: return t->add;
    case EVO_OP_SUB: return t->sub;
    case EVO_OP_MUL: return t->mul;
    case EVO_OP_DIV: return t->div;
    case EVO_OP_MIN: return t->min;
    case EVO_OP_MAX: return t->max;
    case EVO_OP_MOD: return use_fmod ? t->fmod : t->mod;
    case EVO_OP_PRELU: return t->prelu;
    case EVO_OP_EQUAL: return t->eq;
    case EVO_OP_LESS: return t->lt;
    case EVO_OP_GREATER: return t->gt;
    case EVO_OP_LESS_OR_EQUAL: return t->le;
    case EVO_OP_GREATER_OR_EQUAL: return t->ge;
    default: return NULL;
    }
}

/* Integer power with wrap-around; negative exponents truncate toward zero. */
static int64_t ipow(int64_t p, int64_t q)
{
    if (q < 0)
        return p == 1 ? 1 : p == -1 ? ((q & 1) ? -1 : 1) : 0;
    uint64_t r = 1, base = (uint64_t)p;
    while (q) {
        if (q & 1)
            r *= base;
        base *= base;
        q >>= 1;
    }
    return (int64_t)r;
}

/* The scalar path in double: float16/bfloat16 and mixed-type Pow. */
static double scalar_op(evo_op op, bool use_fmod, double p, double q)
{
    switch (op) {
    case EVO_OP_ADD:
    case EVO_OP_SUM:
    case EVO_OP_MEAN: return p + q;
    case EVO_OP_SUB: return p - q;
    case EVO_OP_MUL: return p * q;
    case EVO_OP_DIV: return p / q;
    case EVO_OP_POW: return pow(p, q);
    case EVO_OP_MIN: return min_f64(p, q);
    case EVO_OP_MAX: return max_f64(p, q);
    case EVO_OP_MOD: return use_fmod ? fmod_f64(p, q) : mod_f64(p, q);
    case EVO_OP_PRELU: return prelu_f64(p, q);
    case EVO_OP_EQUAL: return p == q;
    case EVO_OP_LESS: return p < q;
    case EVO_OP_GREATER: return p > q;
    case EVO_OP_LESS_OR_EQUAL: return p <= q;
    case EVO_OP_GREATER_OR_EQUAL: return p >= q;
    case EVO_OP_AND: return p != 0 && q != 0;
    case EVO_OP_OR: return p != 0 || q != 0;
    case EVO_OP_XOR: return (p != 0) != (q != 0);
    default: return 0;
    }
}

/* out[b, e) = op(x, y) with broadcasting. out may alias x exactly (variadic ops). */
static void apply2(evo_op op, bool use_fmod, const evo_tensor *out, const evo_tensor *x,
                   const evo_tensor *y, int64_t b, int64_t e)
{
    const evo_tensor *ins[2] = {x, y};
    bcast bc;
    bcast_iter it;
    bcast_init(&bc, out, ins, 2);
    bcast_seek(&bc, &it, b, e);
    int64_t sx = bc.stride[0][bc.rank - 1], sy = bc.stride[1][bc.rank - 1];
    row_fn fn = row_for(op, use_fmod, x->dtype, y->dtype);
    size_t es_o = evo_dtype_size(out->dtype), es_x = evo_dtype_size(x->dtype);
    size_t es_y = evo_dtype_size(y->dtype);
    bool int_pow = op == EVO_OP_POW && !elem_is_float(x->dtype) && !elem_is_float(y->dtype);
    int64_t pos, off[BC_MAX_IN], n;
    while ((n = bcast_row(&bc, &it, &pos, off)) > 0) {
        if (fn) {
            fn((char *)out->data + pos * es_o, (const char *)x->data + off[0] * es_x,
               (const char *)y->data + off[1] * es_y, sx, sy, n);
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t ix = off[0] + i * sx, iy = off[1] + i * sy;
            if (int_pow) {
                int64_t v = ipow(elem_load_i64(x->data, x->dtype, ix),
                                 elem_load_i64(y->data, y->dtype, iy));
                elem_store_i64(out->data, out->dtype, pos + i, v);
            } else {
                double v = scalar_op(op, use_fmod, elem_load_f64(x->data, x->dtype, ix),
                                     elem_load_f64(y->data, y->dtype, iy));
                elem_store_f64(out->data, out->dtype, pos + i, v);
            }
        }
    }
}

#define WHERE_ROWS(T)                                                                       \
    do {                                                                                    \
        T *o = (T *)out->data + pos;                                                        \
        const T *x = (const T *)in[1].data + off[1], *y = (const T *)in[2].data + off[2];   \
        for (int64_t i = 0; i < n; i++)                                                     \
            o[i] = c[i * sc] ? x[i * sx] : y[i * sy];                                       \
    } while (0)

static void where_range(const evo_tensor *in, const evo_tensor *out, int64_t b, int64_t e)
{
    const evo_tensor *ins[3] = {&in[0], &in[1], &in[2]};
    bcast bc;
    bcast_iter it;
    bcast_init(&bc, out, ins, 3);
    bcast_seek(&bc, &it, b, e);
    int last = bc.rank - 1;
    int64_t sc = bc.stride[0][last], sx = bc.stride[1][last], sy = bc.stride[2][last];
    int64_t pos, off[BC_MAX_IN], n;
    while ((n = bcast_row(&bc, &it, &pos, off)) > 0) {
        const uint8_t *c = (const uint8_t *)in[0].data + off[0];
        switch (evo_dtype_size(out->dtype)) {
        case 1: WHERE_ROWS(uint8_t); break;
        case 2: WHERE_ROWS(uint16_t); break;
        case 4: WHERE_ROWS(uint32_t); break;
        default: WHERE_ROWS(uint64_t); break;
        }
    }
}

/* Mean: divides the summed range by the number of inputs. */
static void mean_finish(const evo_tensor *out, int n_in, int64_t b, int64_t e)
{
    if (out->dtype == EVO_DTYPE_FLOAT) {
        float *o = out->data;
        for (int64_t i = b; i < e; i++)
            o[i] /= (float)n_in;
        return;
    }
    for (int64_t i = b; i < e; i++) {
        if (elem_is_float(out->dtype)) {
            double v = elem_load_f64(out->data, out->dtype, i);
            elem_store_f64(out->data, out->dtype, i, v / n_in);
        } else {
            int64_t v = elem_load_i64(out->data, out->dtype, i);
            elem_store_i64(out->data, out->dtype, i, v / n_in);
        }
    }
}

static void binary_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_node *node = a->node;
    const evo_tensor *out = &a->out[0];
    int64_t b, e;
    evo_task_range(evo_tensor_count(out), task, n_tasks, &b, &e);
    if (b >= e)
        return;
    evo_op op = node->op;
    bool use_fmod = node->a.binary.fmod;
    if (op == EVO_OP_WHERE) {
        where_range(a->in, out, b, e);
        return;
    }
    if (op == EVO_OP_PRELU && node->a.binary.prelu_channel) {
        // legacy per-channel slope [C] applies along axis 1 of x
        evo_tensor slope = a->in[1];
        slope.rank = a->in[0].rank - 1;
        for (int d = 1; d < slope.rank; d++)
            slope.dims[d] = 1;
        slope.dims[0] = a->in[1].dims[0];
        apply2(op, false, out, &a->in[0], &slope, b, e);
        return;
    }
    if (a->n_in == 1) { // single-input Min/Max/Sum/Mean: a copy
        size_t es = evo_dtype_size(out->dtype);
        memmove((char *)out->data + b * es, (const char *)a->in[0].data + b * es,
                (size_t)(e - b) * es);
        return;
    }
    apply2(op, use_fmod, out, &a->in[0], &a->in[1], b, e);
    // further variadic inputs fold into the output; each element depends only on itself
    for (int k = 2; k < a->n_in; k++)
        apply2(op, use_fmod, out, out, &a->in[k], b, e);
    if (op == EVO_OP_MEAN)
        mean_finish(out, a->n_in, b, e);
}

const evo_kernel_def evo_kernel_binary_ref = {"ref", EVO_ISA_REF, NULL, NULL, binary_run};
