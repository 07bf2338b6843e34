/*
 * elem_ref.h - private helpers of the elementwise reference kernels:
 * float16/bfloat16 conversion and typed element access by dtype.
 *
 * The generic load/store functions are the slow but complete path for
 * rare types and mixed-type ops (Pow, Cast); hot float32 loops never use
 * them. Conversions to integers truncate toward zero like C, but saturate
 * instead of invoking undefined behaviour on out-of-range values.
 */
#ifndef EVO_ELEM_REF_H
#define EVO_ELEM_REF_H

#include "kernels/kernel.h"

#include <math.h>
#include <string.h>

/* IEEE half -> float, exact. */
static inline float elem_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t e = (h >> 10) & 31, m = h & 1023, bits;
    if (e == 31) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e != 0) {
        bits = sign | ((e + 112) << 23) | (m << 13);
    } else if (m == 0) {
        bits = sign;
    } else {
        float f = ldexpf((float)m, -24);
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* float -> IEEE half, round to nearest even; overflow gives inf, NaN stays NaN. */
static inline uint16_t elem_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)
        return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00 : 0x7c00));
    if (ax >= 0x477ff000u) /* >= 65520 rounds up past the largest half */
        return (uint16_t)(sign | 0x7c00);
    if (ax >= 0x38800000u) { /* normal half */
        uint32_t h = ((((ax >> 23) - 112) << 10) | ((ax >> 13) & 1023));
        uint32_t rem = ax & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t e = ax >> 23;
    if (e < 102) /* below half the smallest subnormal */
        return (uint16_t)sign;
    uint32_t mant = (ax & 0x7fffff) | 0x800000, shift = 126 - e;
    uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1)))
        h++;
    return (uint16_t)(sign | h);
}

/*
 * double -> IEEE half with a single rounding: round to float with the
 * round-to-odd rule first, so the final round to nearest even is exact.
 */
static inline uint16_t elem_f64_to_f16(double d)
{
    float f = (float)d;
    if (isfinite(f) && (double)f != d) {
        uint32_t bits;
        memcpy(&bits, &f, 4);
        if (fabs((double)f) > fabs(d))
            bits--; /* (float)d rounded away from zero: step back toward it */
        bits |= 1;
        memcpy(&f, &bits, 4);
    }
    return elem_f32_to_f16(f);
}

static inline float elem_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/*
 * float -> bfloat16 by truncation, which is what the ONNX Cast node tests
 * (onnx 1.12 test data) expect; NaN is kept a quiet NaN.
 */
static inline uint16_t elem_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)(((x >> 16) & 0x8000) | 0x7fc0);
    return (uint16_t)(x >> 16);
}

static inline bool elem_is_float(evo_dtype t)
{
    return t == EVO_DTYPE_FLOAT || t == EVO_DTYPE_DOUBLE || t == EVO_DTYPE_FLOAT16 ||
           t == EVO_DTYPE_BFLOAT16;
}

static inline bool elem_is_signed_int(evo_dtype t)
{
    return t == EVO_DTYPE_INT8 || t == EVO_DTYPE_INT16 || t == EVO_DTYPE_INT32 ||
           t == EVO_DTYPE_INT64;
}

static inline bool elem_is_unsigned_int(evo_dtype t)
{
    return t == EVO_DTYPE_UINT8 || t == EVO_DTYPE_UINT16 || t == EVO_DTYPE_UINT32 ||
           t == EVO_DTYPE_UINT64;
}

/* Element i of p as double (int64 beyond 2^53 loses precision). */
static inline double elem_load_f64(const void *p, evo_dtype t, int64_t i)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return ((const float *)p)[i];
    case EVO_DTYPE_DOUBLE: return ((const double *)p)[i];
    case EVO_DTYPE_FLOAT16: return elem_f16_to_f32(((const uint16_t *)p)[i]);
    case EVO_DTYPE_BFLOAT16: return elem_bf16_to_f32(((const uint16_t *)p)[i]);
    case EVO_DTYPE_INT8: return ((const int8_t *)p)[i];
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case EVO_DTYPE_INT16: return ((const int16_t *)p)[i];
    case EVO_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)p)[i];
    case EVO_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case EVO_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case EVO_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

/* Element i of an integer or bool tensor, exactly, as int64 (uint64 wraps). */
static inline int64_t elem_load_i64(const void *p, evo_dtype t, int64_t i)
{
    switch (t) {
    case EVO_DTYPE_INT8: return ((const int8_t *)p)[i];
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case EVO_DTYPE_INT16: return ((const int16_t *)p)[i];
    case EVO_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)p)[i];
    case EVO_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case EVO_DTYPE_INT64: return ((const int64_t *)p)[i];
    case EVO_DTYPE_UINT64: return (int64_t)((const uint64_t *)p)[i];
    default: return (int64_t)elem_load_f64(p, t, i);
    }
}

/* Stores an integer into element i of an integer/bool tensor, wrapping to its width. */
static inline void elem_store_i64(void *p, evo_dtype t, int64_t i, int64_t v)
{
    uint64_t u = (uint64_t)v;
    switch (t) {
    case EVO_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)u; break;
    case EVO_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)u; break;
    case EVO_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case EVO_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)u; break;
    case EVO_DTYPE_UINT16: ((uint16_t *)p)[i] = (uint16_t)u; break;
    case EVO_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)u; break;
    case EVO_DTYPE_UINT32: ((uint32_t *)p)[i] = (uint32_t)u; break;
    case EVO_DTYPE_INT64: ((int64_t *)p)[i] = v; break;
    case EVO_DTYPE_UINT64: ((uint64_t *)p)[i] = u; break;
    default: break;
    }
}

/* double -> int64 truncating toward zero; NaN gives 0, out of range saturates. */
static inline int64_t elem_f64_to_i64(double v)
{
    if (!(v == v))
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

/*
 * Stores v into element i of p. Float targets round; integer targets
 * truncate toward zero then wrap to their width (as numpy does on x86 for
 * in-range values); bool is v != 0.
 */
static inline void elem_store_f64(void *p, evo_dtype t, int64_t i, double v)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
    case EVO_DTYPE_DOUBLE: ((double *)p)[i] = v; break;
    case EVO_DTYPE_FLOAT16: ((uint16_t *)p)[i] = elem_f64_to_f16(v); break;
    case EVO_DTYPE_BFLOAT16: ((uint16_t *)p)[i] = elem_f32_to_bf16((float)v); break;
    case EVO_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case EVO_DTYPE_UINT64:
        if (v >= 9223372036854775808.0 && v < 18446744073709551616.0) {
            ((uint64_t *)p)[i] = (uint64_t)v;
            break;
        }
        elem_store_i64(p, t, i, elem_f64_to_i64(v));
        break;
    default: elem_store_i64(p, t, i, elem_f64_to_i64(v)); break;
    }
}

#endif /* EVO_ELEM_REF_H */
