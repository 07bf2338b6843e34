/*
 * pb_write.c - protobuf wire-format writer (see pb_write.h). Floats are
 * written little-endian whatever the host, as the wire format requires.
 */
#include "onnx/pb_write.h"

#include <stdlib.h>
#include <string.h>

/* protobuf's limit for one serialized message */
#define PBW_MAX_BYTES ((size_t)INT32_MAX)

static void fail(evo_pbw *w, const char *why)
{
    if (!w->failed) {
        w->failed = true;
        w->error = why;
    }
}

void evo_pbw_free(evo_pbw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static bool reserve(evo_pbw *w, size_t len)
{
    if (w->failed)
        return false;
    if (len > PBW_MAX_BYTES - w->len) {
        fail(w, "the model exceeds protobuf's 2 GB message limit");
        return false;
    }
    if (w->counting || w->len + len <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + len)
        cap = cap > PBW_MAX_BYTES / 2 ? PBW_MAX_BYTES + 1 : cap * 2;
    uint8_t *p = realloc(w->buf, cap);
    if (!p) {
        fail(w, "out of memory");
        return false;
    }
    w->buf = p;
    w->cap = cap;
    return true;
}

void evo_pbw_raw(evo_pbw *w, const void *data, size_t len)
{
    if (!reserve(w, len))
        return;
    if (!w->counting && len)
        memcpy(w->buf + w->len, data, len);
    w->len += len;
}

void evo_pbw_varint(evo_pbw *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    evo_pbw_raw(w, tmp, n);
}

void evo_pbw_tag(evo_pbw *w, uint32_t number, evo_pb_wire wire)
{
    evo_pbw_varint(w, ((uint64_t)number << 3) | (uint64_t)wire);
}

void evo_pbw_int(evo_pbw *w, uint32_t number, int64_t v)
{
    evo_pbw_tag(w, number, EVO_PB_VARINT);
    evo_pbw_varint(w, (uint64_t)v);
}

static void put_f32(uint8_t *p, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(bits >> (8 * i));
}

void evo_pbw_float(evo_pbw *w, uint32_t number, float v)
{
    uint8_t b[4];
    put_f32(b, v);
    evo_pbw_tag(w, number, EVO_PB_I32);
    evo_pbw_raw(w, b, 4);
}

void evo_pbw_bytes(evo_pbw *w, uint32_t number, const void *data, size_t len)
{
    evo_pbw_tag(w, number, EVO_PB_LEN);
    evo_pbw_varint(w, len);
    evo_pbw_raw(w, data, len);
}

void evo_pbw_string(evo_pbw *w, uint32_t number, const char *s)
{
    evo_pbw_bytes(w, number, s, strlen(s));
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f) {
        v >>= 7;
        n++;
    }
    return n;
}

void evo_pbw_packed_ints(evo_pbw *w, uint32_t number, const int64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += varint_len((uint64_t)v[i]);
    evo_pbw_tag(w, number, EVO_PB_LEN);
    evo_pbw_varint(w, len);
    for (size_t i = 0; i < n && !w->failed; i++)
        evo_pbw_varint(w, (uint64_t)v[i]);
}

void evo_pbw_packed_floats(evo_pbw *w, uint32_t number, const float *v, size_t n)
{
    if (n == 0)
        return;
    evo_pbw_tag(w, number, EVO_PB_LEN);
    evo_pbw_varint(w, 4 * (uint64_t)n);
    for (size_t i = 0; i < n && !w->failed; i++) {
        uint8_t b[4];
        put_f32(b, v[i]);
        evo_pbw_raw(w, b, 4);
    }
}

void evo_pbw_message(evo_pbw *w, uint32_t number, evo_pbw_msg_fn fn, const void *ctx)
{
    if (w->failed)
        return;
    evo_pbw counter = {.counting = true};
    fn(&counter, ctx);
    if (counter.failed) {
        fail(w, counter.error);
        return;
    }
    evo_pbw_tag(w, number, EVO_PB_LEN);
    evo_pbw_varint(w, counter.len);
    size_t start = w->len;
    fn(w, ctx);
    if (!w->failed && w->len - start != counter.len)
        fail(w, "a nested message changed length between its two runs");
}
