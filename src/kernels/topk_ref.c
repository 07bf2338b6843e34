/*
 * topk_ref.c - reference TopK: the k largest (or smallest) elements along
 * one axis with their int64 indices, best first.
 *
 * The order is total: by value, then the lower index first among equal
 * values, and NaN counts as larger than every number. Selection keeps a
 * heap of the k best indices in the row's slots of the indices output
 * itself (strided by `inner`), so the kernel needs no scratch; heap-sorting
 * it at the end leaves them best first, O(n log k) per row. The values
 * output is then gathered by index. Tasks split the outer * inner rows.
 */
#include "kernels/elem_ref.h"

#include <string.h>

#define NO_NAN(v) 0
#define IS_NAN(v) ((v) != (v))
#define AS_IS(v) (v)

#define TOPK_FN(sfx, T, V, LOAD, ISNAN)                                                     \
    static bool better_##sfx(const T *x, int64_t inner, bool largest, int64_t i, int64_t j) \
    {                                                                                       \
        V a = LOAD(x[i * inner]), b = LOAD(x[j * inner]);                                   \
        bool a_lt_b = !ISNAN(a) && (ISNAN(b) || a < b);                                     \
        bool b_lt_a = !ISNAN(b) && (ISNAN(a) || b < a);                                     \
        if (largest)                                                                        \
            return b_lt_a || (!a_lt_b && i < j);                                            \
        return a_lt_b || (!b_lt_a && i < j);                                                \
    }                                                                                       \
    /* Heap with the worst element at the root; h[j * hs] is slot j. */                     \
    static void sift_##sfx(const T *x, int64_t inner, bool largest, int64_t *h, int64_t hs, \
                           int64_t pos, int64_t size)                                       \
    {                                                                                       \
        for (;;) {                                                                          \
            int64_t c = 2 * pos + 1;                                                        \
            if (c >= size)                                                                  \
                return;                                                                     \
            if (c + 1 < size && better_##sfx(x, inner, largest, h[c * hs], h[(c + 1) * hs])) \
                c++;                                                                        \
            if (!better_##sfx(x, inner, largest, h[pos * hs], h[c * hs]))                   \
                return;                                                                     \
            int64_t t = h[pos * hs];                                                        \
            h[pos * hs] = h[c * hs];                                                        \
            h[c * hs] = t;                                                                  \
            pos = c;                                                                        \
        }                                                                                   \
    }                                                                                       \
    static void topk_##sfx(const void *xv, int64_t n, int64_t inner, int64_t k, bool largest, \
                           int64_t *h)                                                      \
    {                                                                                       \
        const T *x = xv;                                                                    \
        for (int64_t j = 0; j < k; j++)                                                     \
            h[j * inner] = j;                                                               \
        for (int64_t j = k / 2 - 1; j >= 0; j--)                                            \
            sift_##sfx(x, inner, largest, h, inner, j, k);                                  \
        for (int64_t i = k; i < n; i++) {                                                   \
            if (better_##sfx(x, inner, largest, i, h[0])) {                                 \
                h[0] = i;                                                                   \
                sift_##sfx(x, inner, largest, h, inner, 0, k);                              \
            }                                                                               \
        }                                                                                   \
        for (int64_t end = k - 1; end > 0; end--) {                                         \
            int64_t t = h[0];                                                               \
            h[0] = h[end * inner];                                                          \
            h[end * inner] = t;                                                             \
            sift_##sfx(x, inner, largest, h, inner, 0, end);                                \
        }                                                                                   \
    }

TOPK_FN(f32, float, float, AS_IS, IS_NAN)
TOPK_FN(f64, double, double, AS_IS, IS_NAN)
TOPK_FN(f16, uint16_t, float, elem_f16_to_f32, IS_NAN)
TOPK_FN(bf16, uint16_t, float, elem_bf16_to_f32, IS_NAN)
TOPK_FN(i8, int8_t, int8_t, AS_IS, NO_NAN)
TOPK_FN(u8, uint8_t, uint8_t, AS_IS, NO_NAN)
TOPK_FN(i16, int16_t, int16_t, AS_IS, NO_NAN)
TOPK_FN(u16, uint16_t, uint16_t, AS_IS, NO_NAN)
TOPK_FN(i32, int32_t, int32_t, AS_IS, NO_NAN)
TOPK_FN(u32, uint32_t, uint32_t, AS_IS, NO_NAN)
TOPK_FN(i64, int64_t, int64_t, AS_IS, NO_NAN)
TOPK_FN(u64, uint64_t, uint64_t, AS_IS, NO_NAN)

typedef void (*topk_fn)(const void *x, int64_t n, int64_t inner, int64_t k, bool largest,
                        int64_t *h);

static topk_fn topk_for(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return topk_f32;
    case EVO_DTYPE_DOUBLE: return topk_f64;
    case EVO_DTYPE_FLOAT16: return topk_f16;
    case EVO_DTYPE_BFLOAT16: return topk_bf16;
    case EVO_DTYPE_INT8: return topk_i8;
    case EVO_DTYPE_UINT8: return topk_u8;
    case EVO_DTYPE_INT16: return topk_i16;
    case EVO_DTYPE_UINT16: return topk_u16;
    case EVO_DTYPE_INT32: return topk_i32;
    case EVO_DTYPE_UINT32: return topk_u32;
    case EVO_DTYPE_INT64: return topk_i64;
    case EVO_DTYPE_UINT64: return topk_u64;
    default: return NULL;
    }
}

static void topk_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0];
    const evo_topk_attrs *at = &a->node->a.topk;
    int64_t outer = 1, inner = 1, n = x->dims[at->axis], k = at->k;
    for (int d = 0; d < x->rank; d++) {
        if (d < at->axis)
            outer *= x->dims[d];
        else if (d > at->axis)
            inner *= x->dims[d];
    }
    topk_fn fn = topk_for(x->dtype);
    if (!fn || k <= 0)
        return;
    size_t es = evo_dtype_size(x->dtype);
    char *vals = a->out[0].data;
    int64_t *idx = a->out[1].data, b, e;
    evo_task_range(outer * inner, task, n_tasks, &b, &e);
    for (int64_t r = b; r < e; r++) {
        int64_t o = r / inner, i = r % inner;
        const char *xr = (const char *)x->data + (o * n * inner + i) * (int64_t)es;
        int64_t out_off = o * k * inner + i;
        fn(xr, n, inner, k, at->largest, idx + out_off);
        for (int64_t j = 0; j < k; j++) {
            int64_t src = idx[out_off + j * inner];
            memcpy(vals + (out_off + j * inner) * (int64_t)es, xr + src * inner * (int64_t)es, es);
        }
    }
}

const evo_kernel_def evo_kernel_topk_ref = {"ref", EVO_ISA_REF, NULL, NULL, topk_run};
