/*
 * fb_build.c - the back-to-front FlatBuffers builder of fb_build.h.
 *
 * Alignment is kept relative to the end of the buffer; fb_finish pads the
 * front so the total size is a multiple of the largest alignment, which
 * makes every relative alignment an absolute one once the buffer starts on
 * a malloc boundary.
 */
#include "tflite/fb_build.h"

#include <stdlib.h>
#include <string.h>

#define FB_MAX_BYTES ((size_t)1 << 31)

void fb_init(fb_builder *b)
{
    memset(b, 0, sizeof(*b));
    b->min_align = 1;
}

void fb_free(fb_builder *b)
{
    free(b->buf);
    b->buf = NULL;
    b->cap = b->used = 0;
}

/* Makes room for n more bytes in front of the data; false after a failure. */
static bool fb_reserve(fb_builder *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > FB_MAX_BYTES || b->used + n > FB_MAX_BYTES) {
        b->failed = true;
        return false;
    }
    if (b->used + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->used + n)
        cap *= 2;
    uint8_t *p = malloc(cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    if (b->used)
        memcpy(p + cap - b->used, b->buf + b->cap - b->used, b->used);
    free(b->buf);
    b->buf = p;
    b->cap = cap;
    return true;
}

/* Front of the data (valid after fb_reserve). */
static uint8_t *fb_front(fb_builder *b)
{
    return b->buf + b->cap - b->used;
}

static void fb_pad(fb_builder *b, size_t n)
{
    if (!n || !fb_reserve(b, n))
        return;
    b->used += n;
    memset(fb_front(b), 0, n);
}

/* Pads so that after writing `extra` more bytes, used is a multiple of align. */
static void fb_prep(fb_builder *b, size_t align, size_t extra)
{
    if (align > b->min_align)
        b->min_align = align;
    size_t pad = (align - ((b->used + extra) % align)) % align;
    fb_pad(b, pad);
}

static void fb_push(fb_builder *b, const void *data, size_t n)
{
    if (!n || !fb_reserve(b, n))
        return;
    b->used += n;
    if (data)
        memcpy(fb_front(b), data, n);
    else
        memset(fb_front(b), 0, n);
}

static void fb_push_u32(fb_builder *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fb_push(b, le, 4);
}

static void fb_push_u16(fb_builder *b, uint16_t v)
{
    uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    fb_push(b, le, 2);
}

/* The current position as a reference (0 after a failure). */
static fb_ref fb_here(const fb_builder *b)
{
    return b->failed ? 0 : (fb_ref)b->used;
}

fb_ref fb_vector(fb_builder *b, const void *data, size_t count, size_t elem_bytes, size_t align)
{
    if (count > FB_MAX_BYTES / (elem_bytes ? elem_bytes : 1)) {
        b->failed = true;
        return 0;
    }
    size_t n = count * elem_bytes;
    fb_prep(b, 4, n);
    fb_prep(b, align < 4 ? 4 : align, n);
    fb_push(b, data, n);
    fb_push_u32(b, (uint32_t)count);
    return fb_here(b);
}

/* The hosts evo builds on are little-endian (evo_file.h's endian tag says the same). */
fb_ref fb_vector_i32(fb_builder *b, const int32_t *v, size_t count)
{
    return fb_vector(b, v, count, 4, 4);
}

fb_ref fb_vector_i64(fb_builder *b, const int64_t *v, size_t count)
{
    return fb_vector(b, v, count, 8, 8);
}

fb_ref fb_vector_f32(fb_builder *b, const float *v, size_t count)
{
    return fb_vector(b, v, count, 4, 4);
}

fb_ref fb_vector_refs(fb_builder *b, const fb_ref *refs, size_t count)
{
    if (count > FB_MAX_BYTES / 4) {
        b->failed = true;
        return 0;
    }
    fb_prep(b, 4, count * 4);
    /* element i is written last-first; each offset is relative to its own slot */
    for (size_t i = count; i-- > 0;) {
        fb_push_u32(b, 0);
        if (!b->failed)
            memcpy(fb_front(b), &(uint32_t){(uint32_t)b->used - refs[i]}, 4);
    }
    fb_push_u32(b, (uint32_t)count);
    return fb_here(b);
}

fb_ref fb_string(fb_builder *b, const char *s)
{
    size_t n = strlen(s);
    fb_prep(b, 4, n + 1);
    fb_push(b, NULL, 1);
    fb_push(b, s, n);
    fb_push_u32(b, (uint32_t)n);
    return fb_here(b);
}

void fb_table_start(fb_builder *b)
{
    b->in_table = true;
    b->table_start = b->used;
    b->n_slots = 0;
    memset(b->slot_pos, 0, sizeof(b->slot_pos));
}

static void fb_mark(fb_builder *b, int slot)
{
    if (slot < 0 || slot >= FB_MAX_SLOTS || !b->in_table) {
        b->failed = true;
        return;
    }
    b->slot_pos[slot] = (uint32_t)b->used;
    if (slot + 1 > b->n_slots)
        b->n_slots = slot + 1;
}

void fb_add_u8(fb_builder *b, int slot, uint8_t v)
{
    fb_prep(b, 1, 1);
    fb_push(b, &v, 1);
    fb_mark(b, slot);
}

void fb_add_i32(fb_builder *b, int slot, int32_t v)
{
    fb_prep(b, 4, 4);
    fb_push_u32(b, (uint32_t)v);
    fb_mark(b, slot);
}

void fb_add_f32(fb_builder *b, int slot, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    fb_prep(b, 4, 4);
    fb_push_u32(b, u);
    fb_mark(b, slot);
}

void fb_add_ref(fb_builder *b, int slot, fb_ref ref)
{
    if (!ref)
        return;
    fb_prep(b, 4, 4);
    fb_push_u32(b, 0);
    if (!b->failed)
        memcpy(fb_front(b), &(uint32_t){(uint32_t)b->used - ref}, 4);
    fb_mark(b, slot);
}

fb_ref fb_table_end(fb_builder *b)
{
    /* the table starts with the signed offset back to its vtable */
    fb_prep(b, 4, 4);
    fb_push_u32(b, 0);
    size_t table = b->used;
    size_t table_bytes = table - b->table_start;
    if (table_bytes > 0xffff)
        b->failed = true;
    for (int s = b->n_slots; s-- > 0;)
        fb_push_u16(b, b->slot_pos[s] ? (uint16_t)(table - b->slot_pos[s]) : 0);
    fb_push_u16(b, (uint16_t)table_bytes);
    fb_push_u16(b, (uint16_t)(4 + 2 * b->n_slots));
    b->in_table = false;
    if (b->failed)
        return 0;
    /* the vtable sits just before the table: table - vtable = used now - table */
    int32_t soff = (int32_t)(b->used - table);
    memcpy(b->buf + b->cap - table, &soff, 4);
    return (fb_ref)table;
}

bool fb_finish(fb_builder *b, fb_ref root, const char identifier[4], uint8_t **out,
               size_t *size_bytes)
{
    fb_prep(b, b->min_align > 8 ? b->min_align : 8, 8);
    fb_push(b, identifier, 4);
    fb_push_u32(b, 0);
    bool ok = !b->failed && root;
    if (ok) {
        memcpy(fb_front(b), &(uint32_t){(uint32_t)b->used - root}, 4);
        uint8_t *p = malloc(b->used);
        if (p) {
            memcpy(p, fb_front(b), b->used);
            *out = p;
            *size_bytes = b->used;
        }
        ok = p != NULL;
    }
    fb_free(b);
    return ok;
}
