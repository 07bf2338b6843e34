/*
 * argmax_ref.c - reference ArgMax/ArgMin along one axis, int64 indices.
 *
 * The input is viewed as [outer, n, inner]; tasks split the outer * inner
 * output elements. Ties go to the first index, or the last with
 * select_last_index. A NaN wins over every number (as numpy's argmax),
 * the first NaN unless select_last_index.
 */
#include "kernels/elem_ref.h"

#define ARG_LOOP(T)                                                                         \
    static int64_t arg_##T(const T *x, int64_t n, int64_t inner, bool is_max, bool last)    \
    {                                                                                       \
        int64_t best = 0;                                                                   \
        T bv = x[0];                                                                        \
        for (int64_t k = 1; k < n; k++) {                                                   \
            T v = x[k * inner];                                                             \
            bool better;                                                                    \
            if (bv != bv)                                                                   \
                better = last && v != v;                                                    \
            else if (v != v)                                                                \
                better = true;                                                              \
            else                                                                            \
                better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);   \
            if (better) {                                                                   \
                best = k;                                                                   \
                bv = v;                                                                     \
            }                                                                               \
        }                                                                                   \
        return best;                                                                        \
    }

typedef uint8_t u8;
typedef int8_t i8;
typedef uint16_t u16;
typedef int16_t i16;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint64_t u64;
typedef int64_t i64;

ARG_LOOP(float)
ARG_LOOP(double)
ARG_LOOP(u8)
ARG_LOOP(i8)
ARG_LOOP(u16)
ARG_LOOP(i16)
ARG_LOOP(u32)
ARG_LOOP(i32)
ARG_LOOP(u64)
ARG_LOOP(i64)

/* float16/bfloat16: the same rules on converted values. */
static int64_t arg_any(const evo_tensor *x, int64_t off, int64_t n, int64_t inner, bool is_max,
                       bool last)
{
    int64_t best = 0;
    double bv = elem_load_f64(x->data, x->dtype, off);
    for (int64_t k = 1; k < n; k++) {
        double v = elem_load_f64(x->data, x->dtype, off + k * inner);
        bool better;
        if (bv != bv)
            better = last && v != v;
        else if (v != v)
            better = true;
        else
            better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
        if (better) {
            best = k;
            bv = v;
        }
    }
    return best;
}

static void argmax_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0];
    const evo_arg_attrs *at = &a->node->a.arg;
    int64_t outer = 1, inner = 1, n = x->dims[at->axis];
    for (int d = 0; d < x->rank; d++) {
        if (d < at->axis)
            outer *= x->dims[d];
        else if (d > at->axis)
            inner *= x->dims[d];
    }
    bool is_max = a->node->op == EVO_OP_ARG_MAX, last = at->select_last_index;
    int64_t *y = a->out[0].data, b, e;
    evo_task_range(outer * inner, task, n_tasks, &b, &e);
    for (int64_t c = b; c < e; c++) {
        int64_t off = (c / inner) * n * inner + c % inner;
        switch (x->dtype) {
#define CASE(DT, T)                                                                         \
    case DT: y[c] = arg_##T((const T *)x->data + off, n, inner, is_max, last); break;
            CASE(EVO_DTYPE_FLOAT, float)
            CASE(EVO_DTYPE_DOUBLE, double)
            CASE(EVO_DTYPE_UINT8, u8)
            CASE(EVO_DTYPE_INT8, i8)
            CASE(EVO_DTYPE_UINT16, u16)
            CASE(EVO_DTYPE_INT16, i16)
            CASE(EVO_DTYPE_UINT32, u32)
            CASE(EVO_DTYPE_INT32, i32)
            CASE(EVO_DTYPE_UINT64, u64)
            CASE(EVO_DTYPE_INT64, i64)
#undef CASE
        default: y[c] = arg_any(x, off, n, inner, is_max, last); break;
        }
    }
}

const evo_kernel_def evo_kernel_argmax_ref = {"ref", EVO_ISA_REF, NULL, NULL, argmax_run};
