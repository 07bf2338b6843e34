/*
 * softmax_ref.c - reference Softmax and LogSoftmax over one axis.
 *
 * The input is viewed as [outer, n, inner]: n is the softmax axis (or, in
 * the pre-opset-13 "coerce to 2-D" form, the product of all axes from axis
 * on, with inner = 1). Tasks split the outer * inner columns; a task walks
 * its columns in blocks of up to COL_BLOCK neighbours that share `outer`,
 * so every pass over n reads contiguous memory even when inner > 1 (as in
 * YOLOv8's DFL softmax over axis 1). Max subtraction keeps exp finite.
 */
#include "kernels/kernel.h"

#include <math.h>

#define COL_BLOCK 64

static void softmax_view(const evo_kernel_args *a, int64_t *outer, int64_t *n, int64_t *inner)
{
    const evo_tensor *x = &a->in[0];
    const evo_axis_attrs *at = &a->node->a.axis;
    int64_t o = 1, m = 1, in = 1;
    for (int d = 0; d < x->rank; d++) {
        if (d < at->axis)
            o *= x->dims[d];
        else if (d == at->axis || at->legacy)
            m *= x->dims[d];
        else
            in *= x->dims[d];
    }
    *outer = o;
    *n = m;
    *inner = in;
}

#define SOFTMAX_COLS(T, EXP, LOG)                                                           \
    static void softmax_cols_##T(const T *x, T *y, int64_t n, int64_t inner, int64_t cols,  \
                                 bool is_log)                                               \
    {                                                                                       \
        T mx[COL_BLOCK], sum[COL_BLOCK];                                                    \
        for (int64_t c = 0; c < cols; c++) {                                                \
            mx[c] = -INFINITY;                                                              \
            sum[c] = 0;                                                                     \
        }                                                                                   \
        for (int64_t k = 0; k < n; k++) {                                                   \
            const T *xr = x + k * inner;                                                    \
            for (int64_t c = 0; c < cols; c++)                                              \
                mx[c] = xr[c] > mx[c] ? xr[c] : mx[c];                                      \
        }                                                                                   \
        for (int64_t k = 0; k < n; k++) {                                                   \
            const T *xr = x + k * inner;                                                    \
            T *yr = y + k * inner;                                                          \
            for (int64_t c = 0; c < cols; c++) {                                            \
                T v = xr[c] - mx[c];                                                        \
                T ev = EXP(v);                                                              \
                sum[c] += ev;                                                               \
                yr[c] = is_log ? v : ev;                                                    \
            }                                                                               \
        }                                                                                   \
        for (int64_t c = 0; c < cols; c++)                                                  \
            sum[c] = is_log ? LOG(sum[c]) : 1 / sum[c];                                     \
        for (int64_t k = 0; k < n; k++) {                                                   \
            T *yr = y + k * inner;                                                          \
            if (is_log) {                                                                   \
                for (int64_t c = 0; c < cols; c++)                                          \
                    yr[c] -= sum[c];                                                        \
            } else {                                                                        \
                for (int64_t c = 0; c < cols; c++)                                          \
                    yr[c] *= sum[c];                                                        \
            }                                                                               \
        }                                                                                   \
    }

SOFTMAX_COLS(float, expf, logf)
SOFTMAX_COLS(double, exp, log)

static void softmax_run(const evo_kernel_args *a, int task, int n_tasks)
{
    int64_t outer, n, inner, b, e;
    softmax_view(a, &outer, &n, &inner);
    evo_task_range(outer * inner, task, n_tasks, &b, &e);
    bool is_log = a->node->op == EVO_OP_LOG_SOFTMAX;
    bool is_double = a->in[0].dtype == EVO_DTYPE_DOUBLE;
    for (int64_t col = b; col < e;) {
        int64_t o = col / inner, i = col % inner;
        int64_t cols = EVO_MIN(EVO_MIN((int64_t)COL_BLOCK, inner - i), e - col);
        int64_t base = o * n * inner + i;
        if (is_double)
            softmax_cols_double((const double *)a->in[0].data + base,
                                (double *)a->out[0].data + base, n, inner, cols, is_log);
        else
            softmax_cols_float((const float *)a->in[0].data + base,
                               (float *)a->out[0].data + base, n, inner, cols, is_log);
        col += cols;
    }
}

const evo_kernel_def evo_kernel_softmax_ref = {"ref", EVO_ISA_REF, NULL, NULL, softmax_run};
