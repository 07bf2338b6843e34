/*
 * fb_build.h - a small FlatBuffers builder: tables, vectors, strings.
 *
 * The buffer is built back to front, as the format wants: an object is
 * written before the objects that refer to it, and references (uoffset)
 * always point forward, to higher addresses. Positions are therefore
 * counted from the end of the buffer (fb_ref = bytes written when the
 * object was complete), and become addresses only at fb_finish. A table is
 * opened, given fields by slot (field id), and closed, which writes its
 * vtable just before it; vtables are not shared (the models are small in
 * tables next to their weights). Any allocation failure or size overflow
 * is remembered and reported once by fb_finish.
 */
#ifndef EVO_FB_BUILD_H
#define EVO_FB_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_MAX_SLOTS 32

typedef uint32_t fb_ref; /* an object's position: bytes from the end of the buffer; 0 = none */

typedef struct fb_builder {
    uint8_t *buf;  /* data occupies buf[cap - used, cap) */
    size_t cap, used;
    size_t min_align; /* largest alignment asked for */
    bool failed;      /* out of memory or over 2 GB */
    /* the table being built */
    bool in_table;
    size_t table_start;
    uint32_t slot_pos[FB_MAX_SLOTS]; /* used after the field was written; 0 = absent */
    int n_slots;
} fb_builder;

void fb_init(fb_builder *b);
void fb_free(fb_builder *b);

/* Vectors of elem_bytes-sized little-endian scalars (data may be NULL: zeros), aligned to align. */
fb_ref fb_vector(fb_builder *b, const void *data, size_t count, size_t elem_bytes, size_t align);
fb_ref fb_vector_i32(fb_builder *b, const int32_t *v, size_t count);
fb_ref fb_vector_i64(fb_builder *b, const int64_t *v, size_t count);
fb_ref fb_vector_f32(fb_builder *b, const float *v, size_t count);
/* A vector of references to tables. */
fb_ref fb_vector_refs(fb_builder *b, const fb_ref *refs, size_t count);
fb_ref fb_string(fb_builder *b, const char *s);

void fb_table_start(fb_builder *b);
/* Scalar fields; written even when equal to the schema default. */
void fb_add_u8(fb_builder *b, int slot, uint8_t v);
void fb_add_i32(fb_builder *b, int slot, int32_t v);
void fb_add_f32(fb_builder *b, int slot, float v);
/* A reference field; ref 0 leaves the field absent. */
void fb_add_ref(fb_builder *b, int slot, fb_ref ref);
fb_ref fb_table_end(fb_builder *b);

/*
 * Writes the root reference and the 4-byte file identifier and hands the
 * buffer over: *out (malloc'd, the caller frees) and *size_bytes. false
 * when the builder failed (out of memory, over 2 GB); b is freed either way.
 */
bool fb_finish(fb_builder *b, fb_ref root, const char identifier[4], uint8_t **out,
               size_t *size_bytes);

#endif /* EVO_FB_BUILD_H */
