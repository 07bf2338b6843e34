/*
 * unary_ref.c - reference kernels of the elementwise unary family
 * (activations, math functions, Not, Cast).
 *
 * Work is split by element range. float32 has one tight loop per op so the
 * compiler can vectorise it; double, float16 and bfloat16 go through a
 * scalar double function; integer types support the ops ONNX defines for
 * them (Relu, Neg, Abs, Clip). Clip reads its bounds from the min/max
 * inputs when they are present (in the input's own type, so integer clips
 * are exact), else from the resolved attributes.
 */
#include "kernels/elem_ref.h"

#include <math.h>
#include <string.h>

static double unary_scalar(evo_op op, const evo_unary_attrs *at, double x, double lo, double hi)
{
    switch (op) {
    case EVO_OP_RELU: return x < 0 ? 0 : x;
    case EVO_OP_LEAKY_RELU: return x < 0 ? at->alpha * x : x;
    case EVO_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case EVO_OP_HARD_SIGMOID: return fmax(0.0, fmin(1.0, at->alpha * x + at->beta));
    case EVO_OP_HARD_SWISH: return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    case EVO_OP_TANH: return tanh(x);
    case EVO_OP_CLIP: return x < lo ? lo : (x > hi ? hi : x);
    case EVO_OP_EXP: return exp(x);
    case EVO_OP_LOG: return log(x);
    case EVO_OP_SQRT: return sqrt(x);
    case EVO_OP_NEG: return -x;
    case EVO_OP_ABS: return fabs(x);
    case EVO_OP_FLOOR: return floor(x);
    case EVO_OP_CEIL: return ceil(x);
    case EVO_OP_ROUND: return nearbyint(x); // ONNX: half to even
    case EVO_OP_RECIPROCAL: return 1.0 / x;
    case EVO_OP_ERF: return erf(x);
    case EVO_OP_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case EVO_OP_ELU: return x < 0 ? at->alpha * expm1(x) : x;
    default: return x;
    }
}

/* One loop per op over contiguous float32 data. */
static void unary_f32(evo_op op, const evo_unary_attrs *at, const float *x, float *y, int64_t n,
                      float lo, float hi)
{
    const float alpha = at->alpha, beta = at->beta;
    switch (op) {
    case EVO_OP_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? 0.0f : x[i];
        break;
    case EVO_OP_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? alpha * x[i] : x[i];
        break;
    case EVO_OP_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case EVO_OP_HARD_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = fmaxf(0.0f, fminf(1.0f, alpha * x[i] + beta));
        break;
    case EVO_OP_HARD_SWISH:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * fmaxf(0.0f, fminf(1.0f, x[i] * (1.0f / 6.0f) + 0.5f));
        break;
    case EVO_OP_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    case EVO_OP_CLIP:
        // comparisons rather than fminf/fmaxf so that NaN passes through
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] < lo ? lo : x[i];
            y[i] = v > hi ? hi : v;
        }
        break;
    case EVO_OP_EXP:
        for (int64_t i = 0; i < n; i++)
            y[i] = expf(x[i]);
        break;
    case EVO_OP_LOG:
        for (int64_t i = 0; i < n; i++)
            y[i] = logf(x[i]);
        break;
    case EVO_OP_SQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = sqrtf(x[i]);
        break;
    case EVO_OP_NEG:
        for (int64_t i = 0; i < n; i++)
            y[i] = -x[i];
        break;
    case EVO_OP_ABS:
        for (int64_t i = 0; i < n; i++)
            y[i] = fabsf(x[i]);
        break;
    case EVO_OP_FLOOR:
        for (int64_t i = 0; i < n; i++)
            y[i] = floorf(x[i]);
        break;
    case EVO_OP_CEIL:
        for (int64_t i = 0; i < n; i++)
            y[i] = ceilf(x[i]);
        break;
    case EVO_OP_ROUND:
        for (int64_t i = 0; i < n; i++)
            y[i] = nearbyintf(x[i]);
        break;
    case EVO_OP_RECIPROCAL:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / x[i];
        break;
    case EVO_OP_ERF:
        for (int64_t i = 0; i < n; i++)
            y[i] = erff(x[i]);
        break;
    case EVO_OP_SOFTPLUS:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] + log1pf(expf(-x[i])) : log1pf(expf(x[i]));
        break;
    case EVO_OP_ELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? alpha * expm1f(x[i]) : x[i];
        break;
    default:
        if (x != y)
            memmove(y, x, (size_t)n * sizeof(float));
        break;
    }
}

/*
 * Integer Relu/Neg/Abs/Clip. Neg and Abs wrap (-INT_MIN == INT_MIN) by
 * computing in the unsigned type; lo/hi are the Clip bounds.
 */
#define UNARY_INT(sfx, T, U, IS_SIGNED)                                                 \
    static void unary_##sfx(evo_op op, const T *x, T *y, int64_t n, T lo, T hi)        \
    {                                                                                  \
        for (int64_t i = 0; i < n; i++) {                                              \
            T v = x[i];                                                                \
            switch (op) {                                                              \
            case EVO_OP_RELU: v = (IS_SIGNED && v <= (T)0) ? (T)0 : v; break;          \
            case EVO_OP_NEG: v = (T)(U)(0u - (U)v); break;                             \
            case EVO_OP_ABS: v = (IS_SIGNED && v <= (T)0) ? (T)(U)(0u - (U)v) : v; break; \
            case EVO_OP_CLIP: v = v < lo ? lo : (v > hi ? hi : v); break;              \
            default: break;                                                            \
            }                                                                          \
            y[i] = v;                                                                  \
        }                                                                              \
    }

UNARY_INT(i8, int8_t, uint8_t, 1)
UNARY_INT(u8, uint8_t, uint8_t, 0)
UNARY_INT(i16, int16_t, uint16_t, 1)
UNARY_INT(u16, uint16_t, uint16_t, 0)
UNARY_INT(i32, int32_t, uint32_t, 1)
UNARY_INT(u32, uint32_t, uint32_t, 0)
UNARY_INT(i64, int64_t, uint64_t, 1)
UNARY_INT(u64, uint64_t, uint64_t, 0)

/* Clip bound from optional input k as an integer, or def when absent. */
static int64_t clip_bound_i64(const evo_kernel_args *a, int k, int64_t def)
{
    if (k < a->n_in && a->in[k].data)
        return elem_load_i64(a->in[k].data, a->in[k].dtype, 0);
    return def;
}

static double clip_bound_f64(const evo_kernel_args *a, int k, double def)
{
    if (k < a->n_in && a->in[k].data)
        return elem_load_f64(a->in[k].data, a->in[k].dtype, 0);
    return def;
}

static void unary_int(const evo_kernel_args *a, int64_t b, int64_t e)
{
    evo_op op = a->node->op;
    const evo_tensor *x = &a->in[0], *y = &a->out[0];
    int64_t n = e - b;
    switch (x->dtype) {
#define CASE_INT(DT, sfx, T, MINV, MAXV)                                                     \
    case DT:                                                                                 \
        unary_##sfx(op, (const T *)x->data + b, (T *)y->data + b, n,                         \
                    (T)clip_bound_i64(a, 1, (int64_t)(MINV)), (T)clip_bound_i64(a, 2, (int64_t)(MAXV))); \
        break;
        CASE_INT(EVO_DTYPE_INT8, i8, int8_t, INT8_MIN, INT8_MAX)
        CASE_INT(EVO_DTYPE_UINT8, u8, uint8_t, 0, UINT8_MAX)
        CASE_INT(EVO_DTYPE_INT16, i16, int16_t, INT16_MIN, INT16_MAX)
        CASE_INT(EVO_DTYPE_UINT16, u16, uint16_t, 0, UINT16_MAX)
        CASE_INT(EVO_DTYPE_INT32, i32, int32_t, INT32_MIN, INT32_MAX)
        CASE_INT(EVO_DTYPE_UINT32, u32, uint32_t, 0, UINT32_MAX)
        CASE_INT(EVO_DTYPE_INT64, i64, int64_t, INT64_MIN, INT64_MAX)
        CASE_INT(EVO_DTYPE_UINT64, u64, uint64_t, 0, UINT64_MAX)
#undef CASE_INT
    default: break;
    }
}

/* Cast of elements [b, e): exact between integer types, C truncation float -> int. */
static void cast_range(const evo_tensor *x, const evo_tensor *y, int64_t b, int64_t e)
{
    if (x->dtype == y->dtype) {
        size_t es = evo_dtype_size(x->dtype);
        memmove((char *)y->data + b * es, (const char *)x->data + b * es, (size_t)(e - b) * es);
        return;
    }
    if (x->dtype == EVO_DTYPE_FLOAT && y->dtype == EVO_DTYPE_FLOAT16) {
        const float *src = x->data;
        uint16_t *dst = y->data;
        for (int64_t i = b; i < e; i++)
            dst[i] = elem_f32_to_f16(src[i]);
        return;
    }
    bool src_float = elem_is_float(x->dtype);
    bool src_unsigned = x->dtype == EVO_DTYPE_UINT64;
    for (int64_t i = b; i < e; i++) {
        if (src_float) {
            elem_store_f64(y->data, y->dtype, i, elem_load_f64(x->data, x->dtype, i));
        } else if (elem_is_float(y->dtype)) {
            int64_t v = elem_load_i64(x->data, x->dtype, i);
            double d = src_unsigned ? (double)(uint64_t)v : (double)v;
            if (y->dtype == EVO_DTYPE_FLOAT)
                ((float *)y->data)[i] = src_unsigned ? (float)(uint64_t)v : (float)v;
            else
                elem_store_f64(y->data, y->dtype, i, d);
        } else {
            elem_store_i64(y->data, y->dtype, i, elem_load_i64(x->data, x->dtype, i));
        }
    }
}

static void unary_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_node *node = a->node;
    const evo_unary_attrs *at = &node->a.unary;
    const evo_tensor *x = &a->in[0], *y = &a->out[0];
    int64_t b, e;
    evo_task_range(evo_tensor_count(y), task, n_tasks, &b, &e);
    if (b >= e)
        return;
    if (node->op == EVO_OP_CAST) {
        cast_range(x, y, b, e);
        return;
    }
    if (node->op == EVO_OP_NOT) {
        const uint8_t *src = x->data;
        uint8_t *dst = y->data;
        for (int64_t i = b; i < e; i++)
            dst[i] = !src[i];
        return;
    }
    double lo = clip_bound_f64(a, 1, at->min), hi = clip_bound_f64(a, 2, at->max);
    if (x->dtype == EVO_DTYPE_FLOAT) {
        unary_f32(node->op, at, (const float *)x->data + b, (float *)y->data + b, e - b,
                  (float)lo, (float)hi);
    } else if (elem_is_float(x->dtype)) {
        for (int64_t i = b; i < e; i++) {
            double v = elem_load_f64(x->data, x->dtype, i);
            elem_store_f64(y->data, y->dtype, i, unary_scalar(node->op, at, v, lo, hi));
        }
    } else {
        unary_int(a, b, e);
    }
}

const evo_kernel_def evo_kernel_unary_ref = {"ref", EVO_ISA_REF, NULL, NULL, unary_run};
