/*
 * status.c - status names, dtype names and sizes, and error text helpers.
 * Error text always goes into a caller-owned evo_error; nothing global.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *evo_status_name(evo_status s)
{
    switch (s) {
#define EVO_STATUS_CASE_(name, text) \
    case EVO_##name:                 \
        return text;
        EVO_STATUS_MAP(EVO_STATUS_CASE_)
#undef EVO_STATUS_CASE_
    default:
        return "unknown status";
    }
}

const char *evo_dtype_name(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return "float32";
    case EVO_DTYPE_UINT8: return "uint8";
    case EVO_DTYPE_INT8: return "int8";
    case EVO_DTYPE_UINT16: return "uint16";
    case EVO_DTYPE_INT16: return "int16";
    case EVO_DTYPE_INT32: return "int32";
    case EVO_DTYPE_INT64: return "int64";
    case EVO_DTYPE_STRING: return "string";
    case EVO_DTYPE_BOOL: return "bool";
    case EVO_DTYPE_FLOAT16: return "float16";
    case EVO_DTYPE_DOUBLE: return "float64";
    case EVO_DTYPE_UINT32: return "uint32";
    case EVO_DTYPE_UINT64: return "uint64";
    case EVO_DTYPE_BFLOAT16: return "bfloat16";
    default: return "undefined";
    }
}

size_t evo_dtype_size(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_INT8:
    case EVO_DTYPE_BOOL: return 1;
    case EVO_DTYPE_UINT16:
    case EVO_DTYPE_INT16:
    case EVO_DTYPE_FLOAT16:
    case EVO_DTYPE_BFLOAT16: return 2;
    case EVO_DTYPE_FLOAT:
    case EVO_DTYPE_INT32:
    case EVO_DTYPE_UINT32: return 4;
    case EVO_DTYPE_INT64:
    case EVO_DTYPE_DOUBLE:
    case EVO_DTYPE_UINT64: return 8;
    default: return 0;
    }
}

evo_status evo_verrorf(evo_error *err, evo_status code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    }
    return code;
}

evo_status evo_errorf(evo_error *err, evo_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    evo_verrorf(err, code, fmt, ap);
    va_end(ap);
    return code;
}

evo_status evo_error_prefix(evo_error *err, const char *fmt, ...)
{
    if (!err)
        return EVO_ERR_INTERNAL;
    char prefix[256], old[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    size_t n = (size_t)snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
    if (n < sizeof(err->msg))
        snprintf(err->msg + n, sizeof(err->msg) - n, "%.*s", (int)(sizeof(err->msg) - n - 1), old);
    return err->code;
}

void evo_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "evo: internal invariant broken: %s (%s:%d)\n", expr, file, line);
    abort();
}

bool evo_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0)
        return false;
    if (a != 0 && b > INT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

bool evo_add_i64(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0 || a > INT64_MAX - b)
        return false;
    *out = a + b;
    return true;
}

bool evo_dims_count(const int64_t *dims, int rank, int64_t limit, int64_t *out)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (!evo_mul_i64(n, dims[i], &n) || n > limit)
            return false;
    }
    *out = n;
    return true;
}
