/*
 * reduce_ref.c - reference ReduceSum/Mean/Prod/Max/Min over any set of axes.
 *
 * Axes are collapsed first: size-1 axes vanish and runs of neighbouring
 * axes of the same kind (reduced or kept) merge, so "reduce the last axes"
 * becomes one contiguous run per output element. Tasks split the output
 * elements. Float types accumulate in double, integers in 64 bits (wrapping
 * like the ONNX integer ops). An empty axes_mask means the identity
 * (noop_with_empty_axes); shape inference has already turned "no axes"
 * into "all axes" otherwise.
 */
#include "kernels/elem_ref.h"

#include <math.h>
#include <string.h>

typedef struct rgroup {
    int64_t dim, stride;
} rgroup;

typedef struct rview {
    rgroup kept[EVO_MAX_RANK], red[EVO_MAX_RANK];
    int n_kept, n_red;
    int64_t red_count; /* elements reduced into each output */
} rview;

static void rview_init(rview *v, const evo_tensor *x, uint32_t mask)
{
    int64_t stride[EVO_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= x->dims[d];
    }
    v->n_kept = v->n_red = 0;
    v->red_count = 1;
    int last_kind = -1;
    for (int d = 0; d < x->rank; d++) {
        int is_red = (mask >> d) & 1;
        if (is_red)
            v->red_count *= x->dims[d];
        if (x->dims[d] == 1)
            continue;
        rgroup *gs = is_red ? v->red : v->kept;
        int *ng = is_red ? &v->n_red : &v->n_kept;
        if (last_kind == is_red) {
            gs[*ng - 1].dim *= x->dims[d];
            gs[*ng - 1].stride = stride[d];
        } else {
            gs[*ng].dim = x->dims[d];
            gs[*ng].stride = stride[d];
            (*ng)++;
        }
        last_kind = is_red;
    }
}

typedef struct racc {
    double f;
    uint64_t u; /* integer accumulator: wraps; signedness applied at the end */
    bool is_nan;
} racc;

static void racc_init(racc *acc, evo_op op, evo_dtype t)
{
    acc->is_nan = false;
    switch (op) {
    case EVO_OP_REDUCE_PROD: acc->f = 1, acc->u = 1; break;
    case EVO_OP_REDUCE_MAX:
        acc->f = -INFINITY;
        acc->u = elem_is_unsigned_int(t) ? 0 : (uint64_t)INT64_MIN;
        break;
    case EVO_OP_REDUCE_MIN:
        acc->f = INFINITY;
        acc->u = elem_is_unsigned_int(t) ? UINT64_MAX : (uint64_t)INT64_MAX;
        break;
    default: acc->f = 0, acc->u = 0; break;
    }
}

/* Accumulates len elements of float32 x starting at x[0], `stride` apart. */
static void run_f32(racc *acc, evo_op op, const float *x, int64_t stride, int64_t len)
{
    double f = acc->f;
    switch (op) {
    case EVO_OP_REDUCE_PROD:
        for (int64_t i = 0; i < len; i++)
            f *= x[i * stride];
        break;
    case EVO_OP_REDUCE_MAX:
        for (int64_t i = 0; i < len; i++) {
            float v = x[i * stride];
            f = v > f ? v : f;
            acc->is_nan |= v != v;
        }
        break;
    case EVO_OP_REDUCE_MIN:
        for (int64_t i = 0; i < len; i++) {
            float v = x[i * stride];
            f = v < f ? v : f;
            acc->is_nan |= v != v;
        }
        break;
    default:
        for (int64_t i = 0; i < len; i++)
            f += x[i * stride];
        break;
    }
    acc->f = f;
}

/* Any other type, through the generic element loads. */
static void run_any(racc *acc, evo_op op, const evo_tensor *x, int64_t off, int64_t stride,
                    int64_t len)
{
    evo_dtype t = x->dtype;
    bool is_float = elem_is_float(t), is_unsigned = elem_is_unsigned_int(t);
    for (int64_t i = 0; i < len; i++) {
        int64_t at = off + i * stride;
        if (is_float) {
            double v = elem_load_f64(x->data, t, at);
            switch (op) {
            case EVO_OP_REDUCE_PROD: acc->f *= v; break;
            case EVO_OP_REDUCE_MAX: acc->f = v > acc->f ? v : acc->f; break;
            case EVO_OP_REDUCE_MIN: acc->f = v < acc->f ? v : acc->f; break;
            default: acc->f += v; break;
            }
            acc->is_nan |= v != v;
            continue;
        }
        uint64_t u = (uint64_t)elem_load_i64(x->data, t, at);
        bool greater = is_unsigned ? u > acc->u : (int64_t)u > (int64_t)acc->u;
        bool less = is_unsigned ? u < acc->u : (int64_t)u < (int64_t)acc->u;
        switch (op) {
        case EVO_OP_REDUCE_PROD: acc->u *= u; break;
        case EVO_OP_REDUCE_MAX: acc->u = greater ? u : acc->u; break;
        case EVO_OP_REDUCE_MIN: acc->u = less ? u : acc->u; break;
        default: acc->u += u; break;
        }
    }
}

static void racc_store(const racc *acc, evo_op op, const evo_tensor *y, int64_t at, int64_t count)
{
    evo_dtype t = y->dtype;
    if (elem_is_float(t)) {
        double f = acc->is_nan ? NAN : acc->f;
        if (op == EVO_OP_REDUCE_MEAN)
            f /= (double)count;
        if (t == EVO_DTYPE_FLOAT)
            ((float *)y->data)[at] = (float)f;
        else
            elem_store_f64(y->data, t, at, f);
        return;
    }
    uint64_t u = acc->u;
    if (op == EVO_OP_REDUCE_MEAN && count > 0) {
        if (elem_is_unsigned_int(t))
            u /= (uint64_t)count;
        else
            u = (uint64_t)((int64_t)u / count);
    }
    elem_store_i64(y->data, t, at, (int64_t)u);
}

static void reduce_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0], *y = &a->out[0];
    evo_op op = a->node->op;
    int64_t b, e;
    evo_task_range(evo_tensor_count(y), task, n_tasks, &b, &e);
    rview v;
    rview_init(&v, x, a->node->a.reduce.axes_mask);
    bool fast = x->dtype == EVO_DTYPE_FLOAT;
    for (int64_t o = b; o < e; o++) {
        int64_t base = 0, rem = o;
        for (int g = v.n_kept - 1; g >= 0; g--) {
            base += (rem % v.kept[g].dim) * v.kept[g].stride;
            rem /= v.kept[g].dim;
        }
        racc acc;
        racc_init(&acc, op, x->dtype);
        // odometer over the reduced groups; the last one is walked as a run
        int64_t idx[EVO_MAX_RANK] = {0};
        int last = v.n_red - 1;
        int64_t len = v.n_red ? v.red[last].dim : 1, stride = v.n_red ? v.red[last].stride : 0;
        for (bool more = v.red_count > 0; more;) {
            int64_t off = base;
            for (int g = 0; g < last; g++)
                off += idx[g] * v.red[g].stride;
            if (fast)
                run_f32(&acc, op, (const float *)x->data + off, stride, len);
            else
                run_any(&acc, op, x, off, stride, len);
            more = false;
            for (int g = last - 1; g >= 0 && !more; g--) {
                if (++idx[g] < v.red[g].dim)
                    more = true;
                else
                    idx[g] = 0;
            }
        }
        racc_store(&acc, op, y, o, v.red_count);
    }
}

const evo_kernel_def evo_kernel_reduce_ref = {"ref", EVO_ISA_REF, NULL, NULL, reduce_run};
