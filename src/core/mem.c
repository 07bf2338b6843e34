/*
 * mem.c - bump allocator (evo_mem), aligned heap blocks and the clock.
 * A graph allocates names, attributes and folded constants from one evo_mem
 * and releases them together, so import code never frees piecemeal.
 */
#include "core.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#define EVO_MEM_ALIGN 64
#define EVO_MEM_BLOCK_MIN (64 * 1024)

struct evo_mem_block {
    evo_mem_block *next;
    size_t used, cap;
    /* data follows, aligned */
};

static size_t header_size(void)
{
    return (sizeof(evo_mem_block) + EVO_MEM_ALIGN - 1) & ~(size_t)(EVO_MEM_ALIGN - 1);
}

void *evo_mem_alloc(evo_mem *m, size_t size_bytes)
{
    size_t need = (size_bytes + EVO_MEM_ALIGN - 1) & ~(size_t)(EVO_MEM_ALIGN - 1);
    if (need < size_bytes)
        return NULL;
    if (need == 0)
        need = EVO_MEM_ALIGN;
    evo_mem_block *b = m->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > EVO_MEM_BLOCK_MIN ? need : EVO_MEM_BLOCK_MIN;
        if (cap > SIZE_MAX - header_size())
            return NULL;
        b = evo_aligned_alloc(header_size() + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        /* A big one-off block goes behind the head so the head keeps its room. */
        if (m->head && need > EVO_MEM_BLOCK_MIN) {
            b->next = m->head->next;
            m->head->next = b;
        } else {
            b->next = m->head;
            m->head = b;
        }
        m->total_bytes += cap;
    }
    char *p = (char *)b + header_size() + b->used;
    b->used += need;
    memset(p, 0, size_bytes);
    return p;
}

char *evo_mem_strndup(evo_mem *m, const char *s, size_t n)
{
    char *p = evo_mem_alloc(m, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *evo_mem_strdup(evo_mem *m, const char *s)
{
    return evo_mem_strndup(m, s, strlen(s));
}

void evo_mem_free(evo_mem *m)
{
    evo_mem_block *b = m->head;
    while (b) {
        evo_mem_block *next = b->next;
        evo_aligned_free(b);
        b = next;
    }
    m->head = NULL;
    m->total_bytes = 0;
}

void *evo_aligned_alloc(size_t size_bytes)
{
    void *p = NULL;
    if (size_bytes == 0)
        size_bytes = EVO_MEM_ALIGN;
    if (posix_memalign(&p, EVO_MEM_ALIGN, size_bytes) != 0)
        return NULL;
    return p;
}

void evo_aligned_free(void *p)
{
    free(p);
}

void *evo_large_alloc(size_t size_bytes)
{
    /* below a huge page, the kernel could not use one anyway */
    if (size_bytes < EVO_HUGE_PAGE)
        return evo_aligned_alloc(size_bytes);
    void *p = NULL;
    size_t rounded = (size_bytes + EVO_HUGE_PAGE - 1) & ~(size_t)(EVO_HUGE_PAGE - 1);
    if (posix_memalign(&p, EVO_HUGE_PAGE, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: without it the pages are just small */
#endif
    return p;
}

int64_t evo_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool evo_name_listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}
