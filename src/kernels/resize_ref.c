/*
 * resize_ref.c - reference Resize/Upsample. Per axis, an output index maps
 * to a source coordinate (coordinate_transformation_mode, computed in
 * double like the ONNX reference) and then to taps: 1 (nearest), 2 (linear)
 * or 4 (cubic) clamped source indices with weights; n-linear/n-cubic is the
 * product over axes. An integral coordinate collapses to one tap, so
 * axes that are not resized cost nothing. tf_crop_and_resize writes the
 * extrapolation value where any axis falls outside the input.
 *
 * Fast path: nearest on the last two axes with integer factors where the
 * mapping is plain replication (YOLO's 2x upsample: asymmetric + floor, or
 * any mode that rounds to the same indices) builds each output row once and
 * copies it; it is checked against the general mapping, not assumed.
 */
#include "kernels/resize.h"

#include <math.h>
#include <string.h>

typedef evo_resize_taps taps;

static double src_coord(const evo_resize_attrs *ra, int d, int64_t x, int64_t in, int64_t out,
                        double scale)
{
    double out_w = scale * (double)in, xr = (double)x;
    switch (ra->coord) {
    case EVO_COORD_HALF_PIXEL_SYMMETRIC: {
        double adjustment = (double)out / out_w, center = (double)in / 2;
        return center * (1 - adjustment) + (xr + 0.5) / scale - 0.5;
    }
    case EVO_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
    case EVO_COORD_ALIGN_CORNERS: return out_w == 1 ? 0.0 : xr * (double)(in - 1) / (out_w - 1);
    case EVO_COORD_ASYMMETRIC: return xr / scale;
    case EVO_COORD_TF_HALF_PIXEL_FOR_NN: return (xr + 0.5) / scale;
    case EVO_COORD_TF_CROP_AND_RESIZE: {
        double r0 = ra->roi_start[d], r1 = ra->roi_end[d];
        double xo = out_w == 1 ? (r1 - r0) * (double)(in - 1) / 2
                               : xr * (r1 - r0) * (double)(in - 1) / (out_w - 1);
        return xo + r0 * (double)(in - 1);
    }
    default: return (xr + 0.5) / scale - 0.5;
    }
}

static int64_t clamp_idx(int64_t i, int64_t in)
{
    return i < 0 ? 0 : i >= in ? in - 1 : i;
}

static void cubic_weights(double t, double A, double *w)
{
    double s = t + 1, u = 1 - t, v = 2 - t;
    w[0] = ((A * s - 5 * A) * s + 8 * A) * s - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
    w[3] = ((A * v - 5 * A) * v + 8 * A) * v - 4 * A;
}

void evo_resize_axis_taps(const evo_resize_attrs *ra, int d, int64_t x, int64_t in, int64_t out, taps *t)
{
    double scale = ra->scale_is_ratio ? (double)out / (double)in : (double)ra->scale[d];
    double xo = src_coord(ra, d, x, in, out, scale);
    t->outside = ra->coord == EVO_COORD_TF_CROP_AND_RESIZE && (xo < 0 || xo > (double)(in - 1));
    double x0 = floor(xo), frac = xo - x0;
    int64_t i0 = (int64_t)x0;
    if (ra->mode == EVO_RESIZE_NEAREST || frac == 0) {
        int64_t i = i0;
        if (frac != 0) {
            switch (ra->nearest) {
            case EVO_NEAREST_ROUND_PREFER_FLOOR: i = frac <= 0.5 ? i0 : i0 + 1; break;
            case EVO_NEAREST_ROUND_PREFER_CEIL: i = frac < 0.5 ? i0 : i0 + 1; break;
            case EVO_NEAREST_FLOOR: i = i0; break;
            case EVO_NEAREST_CEIL: i = i0 + 1; break;
            }
        }
        t->n = 1;
        t->idx[0] = clamp_idx(i, in);
        t->w[0] = 1;
        return;
    }
    if (ra->mode == EVO_RESIZE_LINEAR) {
        t->n = 2;
        t->idx[0] = clamp_idx(i0, in);
        t->idx[1] = clamp_idx(i0 + 1, in);
        t->w[0] = 1 - frac;
        t->w[1] = frac;
        return;
    }
    t->n = 4;
    cubic_weights(frac, ra->cubic_coeff_a, t->w);
    double sum = 0;
    for (int k = 0; k < 4; k++) {
        int64_t i = i0 - 1 + k;
        if (ra->exclude_outside && (i < 0 || i >= in))
            t->w[k] = 0;
        sum += t->w[k];
        t->idx[k] = clamp_idx(i, in);
    }
    if (ra->exclude_outside && sum != 0) {
        for (int k = 0; k < 4; k++)
            t->w[k] /= sum;
    }
}

/* True when nearest on axis d is out index o -> o / factor for an integer factor. */
static bool is_replication(const evo_resize_attrs *ra, int d, int64_t in, int64_t out)
{
    if (in == 0 || out % in != 0 || ra->coord == EVO_COORD_TF_CROP_AND_RESIZE)
        return false;
    int64_t f = out / in;
    for (int64_t o = 0; o < out; o++) {
        taps t;
        evo_resize_axis_taps(ra, d, o, in, out, &t);
        if (t.idx[0] != o / f)
            return false;
    }
    return true;
}

bool evo_resize_is_replication(const evo_resize_attrs *ra, int rank, const int64_t *in_dims,
                               const int64_t *out_dims)
{
    if (ra->mode != EVO_RESIZE_NEAREST || rank < 2)
        return false;
    for (int d = 0; d < rank; d++) {
        if (d < rank - 2 && in_dims[d] != out_dims[d])
            return false;
        if (!is_replication(ra, d, in_dims[d], out_dims[d]))
            return false;
    }
    return true;
}

/* Nearest with integer replication on the last two axes: each output row is built once. */
static bool resize_replicate(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    const evo_resize_attrs *ra = &a->node->a.resize;
    int r = in->rank;
    if (!evo_resize_is_replication(ra, r, in->dims, out->dims))
        return false;
    size_t esize = evo_dtype_size(in->dtype);
    int64_t ih = in->dims[r - 2], iw = in->dims[r - 1], fh = out->dims[r - 2] / ih, fw = out->dims[r - 1] / iw;
    int64_t ow = iw * fw, rows = evo_tensor_count(in) / iw;
    size_t row_bytes = (size_t)ow * esize;
    int64_t r0, r1;
    evo_task_range(rows, task, n_tasks, &r0, &r1);
    for (int64_t row = r0; row < r1; row++) {
        const char *src = (const char *)in->data + (size_t)(row * iw) * esize;
        char *dst = (char *)out->data + (size_t)(row * fh) * row_bytes;
        if (esize == 4 && fw == 2) {
            const uint32_t *s = (const uint32_t *)src;
            uint32_t *o = (uint32_t *)dst;
            for (int64_t x = 0; x < iw; x++)
                o[2 * x] = o[2 * x + 1] = s[x];
        } else {
            for (int64_t x = 0; x < iw; x++)
                for (int64_t k = 0; k < fw; k++)
                    memcpy(dst + (size_t)(x * fw + k) * esize, src + (size_t)x * esize, esize);
        }
        for (int64_t k = 1; k < fh; k++)
            memcpy(dst + (size_t)k * row_bytes, dst, row_bytes);
    }
    return true;
}

static void resize_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    if (resize_replicate(a, task, n_tasks))
        return;
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    const evo_resize_attrs *ra = &a->node->a.resize;
    int rank = out->rank;
    size_t esize = evo_dtype_size(in->dtype);
    int64_t total = evo_tensor_count(out);
    if (total == 0)
        return;
    int64_t in_strides[EVO_MAX_RANK], stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
        in_strides[d] = stride;
        stride *= in->dims[d];
    }
    int64_t e0, e1;
    evo_task_range(total, task, n_tasks, &e0, &e1);
    taps t[EVO_MAX_RANK];
    for (int64_t e = e0; e < e1; e++) {
        int64_t rem = e;
        bool outside = false;
        for (int d = rank - 1; d >= 0; d--) {
            evo_resize_axis_taps(ra, d, rem % out->dims[d], in->dims[d], out->dims[d], &t[d]);
            rem /= out->dims[d];
            outside |= t[d].outside;
        }
        if (ra->mode == EVO_RESIZE_NEAREST && !outside) {
            int64_t off = 0;
            for (int d = 0; d < rank; d++)
                off += t[d].idx[0] * in_strides[d];
            memcpy((char *)out->data + (size_t)e * esize, (const char *)in->data + (size_t)off * esize, esize);
            continue;
        }
        if (outside) {
            if (in->dtype == EVO_DTYPE_FLOAT)
                ((float *)out->data)[e] = ra->extrapolation_value;
            else
                memset((char *)out->data + (size_t)e * esize, 0, esize);
            continue;
        }
        // sum over the product of every axis's taps (an odometer over tap indices)
        int k[EVO_MAX_RANK] = {0};
        double acc = 0;
        const float *x = in->data;
        for (;;) {
            double w = 1;
            int64_t off = 0;
            for (int d = 0; d < rank; d++) {
                w *= t[d].w[k[d]];
                off += t[d].idx[k[d]] * in_strides[d];
            }
            acc += w * (double)x[off];
            int d = rank - 1;
            while (d >= 0 && ++k[d] == t[d].n)
                k[d--] = 0;
            if (d < 0)
                break;
        }
        ((float *)out->data)[e] = (float)acc;
    }
}

const evo_kernel_def evo_kernel_resize_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = resize_ref};
