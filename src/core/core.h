/*
 * core.h - internal helpers shared by every stage: error text, checked
 * arithmetic, and the bump allocator that owns a graph's memory.
 *
 * Errors are written into the caller's evo_error (which may be NULL) and the
 * status is returned, so a failing call reads `return evo_errorf(...)`.
 */
#ifndef EVO_CORE_H
#define EVO_CORE_H

#include "evo.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define EVO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EVO_PRINTF(a, b)
#endif

/* Writes a formatted message into err (if not NULL) and returns code. */
evo_status evo_errorf(evo_error *err, evo_status code, const char *fmt, ...) EVO_PRINTF(3, 4);
evo_status evo_verrorf(evo_error *err, evo_status code, const char *fmt, va_list ap);
/* Prefixes an existing message: "prefix: old message". Returns err->code. */
evo_status evo_error_prefix(evo_error *err, const char *fmt, ...) EVO_PRINTF(2, 3);

/* Broken internal invariant: never for bad input. */
void evo_assert_fail(const char *expr, const char *file, int line);
#define EVO_ASSERT(x) ((x) ? (void)0 : evo_assert_fail(#x, __FILE__, __LINE__))

#define EVO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EVO_MAX(a, b) ((a) > (b) ? (a) : (b))
#define EVO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Checked arithmetic: return false on overflow or negative operands. */
bool evo_mul_i64(int64_t a, int64_t b, int64_t *out);
bool evo_add_i64(int64_t a, int64_t b, int64_t *out);
/* Product of dims; false if any is negative or the product exceeds limit. */
bool evo_dims_count(const int64_t *dims, int rank, int64_t limit, int64_t *out);

/* Largest element count of one tensor that evo accepts (2^31 elements). */
#define EVO_MAX_ELEMENTS ((int64_t)1 << 31)

/*
 * evo_mem: a bump allocator. Blocks are chained; everything is released at
 * once by evo_mem_free. Allocations are 64-byte aligned and zeroed.
 */
typedef struct evo_mem_block evo_mem_block;
typedef struct evo_mem {
    evo_mem_block *head;
    size_t total_bytes;
} evo_mem;

void *evo_mem_alloc(evo_mem *m, size_t size_bytes);
char *evo_mem_strdup(evo_mem *m, const char *s);
char *evo_mem_strndup(evo_mem *m, const char *s, size_t n);
void evo_mem_free(evo_mem *m);

/* 64-byte aligned heap allocation for arenas and packed weights. */
void *evo_aligned_alloc(size_t size_bytes);
/*
 * A large buffer (session arena, packed weights) on 2 MB boundaries, with
 * transparent huge pages asked for: the kernels walk NCHW planes with
 * strides of whole rows, and 4 KB pages cost a TLB miss per row. Freed
 * with evo_aligned_free.
 */
#define EVO_HUGE_PAGE ((size_t)2 << 20)
void *evo_large_alloc(size_t size_bytes);

/* Writes s to fp as a JSON string: quoted, with quotes, backslashes and control characters escaped. */
void evo_json_put_string(FILE *fp, const char *s);

/* Whether name is one of the comma-separated entries of list (NULL: none). */
bool evo_name_listed(const char *list, const char *name);
void evo_aligned_free(void *p);

/* Monotonic clock in nanoseconds. */
int64_t evo_now_ns(void);

#endif /* EVO_CORE_H */
