/*
 * pad_ref.c - reference Pad for any fixed-size dtype. Each output index maps
 * per axis to a source index or to "constant": negative pads crop first
 * (the kept range is [max(-begin, 0), in + min(end, 0))), then the index
 * falls inside that range, or outside where the mode decides: constant,
 * edge (clamp), reflect (mirror without repeating the edge, periodic for
 * pads longer than the axis) or wrap. Tasks split the output rows; the
 * inside part of each row is one memcpy.
 */
#include "kernels/kernel.h"

#include <math.h>
#include <string.h>

/* Source index for output index o on one axis, or -1 for the constant. */
static int64_t pad_map(int64_t o, int64_t begin, int64_t end, int64_t in, evo_pad_mode mode)
{
    int64_t crop = begin < 0 ? -begin : 0;
    int64_t kept = in + EVO_MIN(begin, 0) + EVO_MIN(end, 0);
    int64_t j = o - EVO_MAX(begin, 0);
    if (j >= 0 && j < kept)
        return j + crop;
    switch (mode) {
    case EVO_PAD_EDGE: j = j < 0 ? 0 : kept - 1; break;
    case EVO_PAD_WRAP: j = ((j % kept) + kept) % kept; break;
    case EVO_PAD_REFLECT:
        if (kept == 1) {
            j = 0;
        } else {
            int64_t period = 2 * (kept - 1);
            j = ((j % period) + period) % period;
            if (j >= kept)
                j = period - j;
        }
        break;
    default: return -1;
    }
    return j + crop;
}

static uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, mant = x & 0x7fffff;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e), half = mant >> shift, rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
        half++; // may carry into the exponent, which is the correct rounding
    return (uint16_t)(sign | half);
}

/* The pad value as one element of dtype t. */
static void pad_value_bytes(evo_dtype t, double v, uint8_t *out)
{
    float f = (float)v;
    uint32_t fb;
    switch (t) {
    case EVO_DTYPE_FLOAT: memcpy(out, &f, 4); break;
    case EVO_DTYPE_DOUBLE: memcpy(out, &v, 8); break;
    case EVO_DTYPE_FLOAT16: { uint16_t h = float_to_half(f); memcpy(out, &h, 2); break; }
    case EVO_DTYPE_BFLOAT16: {
        memcpy(&fb, &f, 4);
        uint16_t h = (uint16_t)((fb + 0x7fff + ((fb >> 16) & 1)) >> 16);
        memcpy(out, &h, 2);
        break;
    }
    case EVO_DTYPE_BOOL: out[0] = v != 0; break;
    case EVO_DTYPE_INT8: { int8_t i = (int8_t)v; memcpy(out, &i, 1); break; }
    case EVO_DTYPE_UINT8: { uint8_t i = (uint8_t)v; memcpy(out, &i, 1); break; }
    case EVO_DTYPE_INT16: { int16_t i = (int16_t)v; memcpy(out, &i, 2); break; }
    case EVO_DTYPE_UINT16: { uint16_t i = (uint16_t)v; memcpy(out, &i, 2); break; }
    case EVO_DTYPE_INT32: { int32_t i = (int32_t)v; memcpy(out, &i, 4); break; }
    case EVO_DTYPE_UINT32: { uint32_t i = (uint32_t)v; memcpy(out, &i, 4); break; }
    case EVO_DTYPE_INT64: { int64_t i = (int64_t)v; memcpy(out, &i, 8); break; }
    case EVO_DTYPE_UINT64: { uint64_t i = (uint64_t)v; memcpy(out, &i, 8); break; }
    default: memset(out, 0, 8); break;
    }
}

static void pad_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    const evo_pad_attrs *pa = &a->node->a.pad;
    size_t esize = evo_dtype_size(in->dtype);
    uint8_t value[8];
    pad_value_bytes(in->dtype, pa->value, value);
    if (out->rank == 0) {
        if (task == 0)
            memcpy(out->data, in->data, esize);
        return;
    }
    int last = out->rank - 1;
    int64_t width = out->dims[last], rows = evo_tensor_count(out) / (width ? width : 1);
    if (width == 0)
        return;
    int64_t in_strides[EVO_MAX_RANK], stride = 1;
    for (int d = in->rank - 1; d >= 0; d--) {
        in_strides[d] = stride;
        stride *= in->dims[d];
    }
    // the inside span of the last axis: output [x0, x1) reads input from x0 + shift
    int64_t b = pa->pad_begin[last], kept = in->dims[last] + EVO_MIN(b, 0) + EVO_MIN(pa->pad_end[last], 0);
    int64_t x0 = EVO_MAX(b, 0), x1 = x0 + kept;
    int64_t r0, r1;
    evo_task_range(rows, task, n_tasks, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        char *dst = (char *)out->data + (size_t)(r * width) * esize;
        int64_t rem = r, off = 0;
        bool is_const = false;
        for (int d = last - 1; d >= 0; d--) {
            int64_t o = rem % out->dims[d];
            rem /= out->dims[d];
            int64_t i = pad_map(o, pa->pad_begin[d], pa->pad_end[d], in->dims[d], pa->mode);
            if (i < 0)
                is_const = true;
            off += i * in_strides[d];
        }
        if (is_const) {
            for (int64_t x = 0; x < width; x++)
                memcpy(dst + (size_t)x * esize, value, esize);
            continue;
        }
        const char *src = (const char *)in->data + (size_t)off * esize;
        for (int64_t x = 0; x < width; x++) {
            if (x == x0 && x1 > x0) {
                memcpy(dst + (size_t)x * esize, src + (size_t)(x0 - b) * esize, (size_t)kept * esize);
                x = x1 - 1;
                continue;
            }
            int64_t i = pad_map(x, b, pa->pad_end[last], in->dims[last], pa->mode);
            memcpy(dst + (size_t)x * esize, i < 0 ? (const char *)value : src + (size_t)i * esize, esize);
        }
    }
}

const evo_kernel_def evo_kernel_pad_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = pad_ref};
