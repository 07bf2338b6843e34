/*
 * pb.c - protobuf wire-format reader (see pb.h).
 *
 * Invariant: r->p <= r->end always, and every pointer handed out lies inside
 * [p, end). Lengths are compared against the bytes left before any pointer
 * arithmetic, so a hostile 64-bit length can never wrap a pointer.
 */
#include "onnx/pb.h"

#include <string.h>

/* Field numbers are 29 bits (protobuf language guide). */
#define EVO_PB_MAX_FIELD ((1u << 29) - 1)

evo_pb evo_pb_init(const void *data, size_t size_bytes)
{
    evo_pb r;
    memset(&r, 0, sizeof(r));
    r.base = data;
    r.p = data;
    r.end = r.p ? r.p + size_bytes : r.p;
    return r;
}

evo_pb evo_pb_sub(const evo_pb *parent, const evo_pb_field *f)
{
    evo_pb r;
    memset(&r, 0, sizeof(r));
    r.base = parent->base;
    r.p = f->data;
    r.end = f->data ? f->data + f->len : f->data;
    return r;
}

bool evo_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (q >= end)
            return false;
        uint8_t b = *q++;
        // The 10th byte may only carry the top bit of a 64-bit value.
        if (i == 9 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return true;
        }
    }
    return false;
}

static bool pb_fail(evo_pb *r, const uint8_t *at, const char *why)
{
    r->error = why;
    r->error_offset = (size_t)(at - r->base);
    r->p = r->end;
    return false;
}

bool evo_pb_next(evo_pb *r, evo_pb_field *f)
{
    if (r->error || r->p >= r->end)
        return false;
    const uint8_t *start = r->p;
    uint64_t tag;
    if (!evo_pb_varint(&r->p, r->end, &tag))
        return pb_fail(r, start, "truncated or overlong field tag");
    if ((tag >> 3) == 0 || (tag >> 3) > EVO_PB_MAX_FIELD)
        return pb_fail(r, start, "invalid field number");
    memset(f, 0, sizeof(*f));
    f->number = (uint32_t)(tag >> 3);
    f->offset = (size_t)(start - r->base);
    size_t left;
    switch (tag & 7) {
    case EVO_PB_VARINT:
        f->wire = EVO_PB_VARINT;
        if (!evo_pb_varint(&r->p, r->end, &f->u64))
            return pb_fail(r, start, "truncated or overlong varint");
        return true;
    case EVO_PB_I64:
        f->wire = EVO_PB_I64;
        if (r->end - r->p < 8)
            return pb_fail(r, start, "truncated fixed64");
        for (int i = 7; i >= 0; i--)
            f->u64 = (f->u64 << 8) | r->p[i];
        r->p += 8;
        return true;
    case EVO_PB_I32:
        f->wire = EVO_PB_I32;
        if (r->end - r->p < 4)
            return pb_fail(r, start, "truncated fixed32");
        for (int i = 3; i >= 0; i--)
            f->u64 = (f->u64 << 8) | r->p[i];
        r->p += 4;
        return true;
    case EVO_PB_LEN: {
        uint64_t len;
        f->wire = EVO_PB_LEN;
        if (!evo_pb_varint(&r->p, r->end, &len))
            return pb_fail(r, start, "truncated or overlong length");
        left = (size_t)(r->end - r->p);
        if (len > left)
            return pb_fail(r, start, "length runs past the end of the message");
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return true;
    }
    case 3:
    case 4:
        return pb_fail(r, start, "groups (wire types 3, 4) are not supported");
    default:
        return pb_fail(r, start, "unknown wire type");
    }
}

evo_pb_iter evo_pb_iter_init(const evo_pb *msg, uint32_t number, evo_pb_scalar kind)
{
    evo_pb_iter it;
    memset(&it, 0, sizeof(it));
    it.msg = *msg;
    it.msg.error = NULL;
    it.packed = evo_pb_init(NULL, 0);
    it.number = number;
    it.kind = kind;
    return it;
}

static bool iter_fail(evo_pb_iter *it, size_t offset, const char *why)
{
    it->error = why;
    it->error_offset = offset;
    it->msg.p = it->msg.end;
    it->packed.p = it->packed.end;
    return false;
}

/* Reads one element of a packed run. */
static bool iter_packed(evo_pb_iter *it, uint64_t *out)
{
    evo_pb *pk = &it->packed;
    size_t offset = (size_t)(pk->p - it->msg.base);
    size_t width;
    switch (it->kind) {
    case EVO_PB_SCALAR_VARINT:
        if (!evo_pb_varint(&pk->p, pk->end, out))
            return iter_fail(it, offset, "truncated or overlong varint in packed field");
        return true;
    case EVO_PB_SCALAR_FIXED32:
        width = 4;
        break;
    default:
        width = 8;
        break;
    }
    if ((size_t)(pk->end - pk->p) < width)
        return iter_fail(it, offset, "packed field length is not a multiple of the element size");
    uint64_t v = 0;
    for (size_t i = width; i-- > 0;)
        v = (v << 8) | pk->p[i];
    pk->p += width;
    *out = v;
    return true;
}

bool evo_pb_iter_next(evo_pb_iter *it, uint64_t *out)
{
    if (it->error)
        return false;
    if (it->packed.p < it->packed.end)
        return iter_packed(it, out);
    evo_pb_field f;
    while (evo_pb_next(&it->msg, &f)) {
        if (f.number != it->number)
            continue;
        if (f.wire == EVO_PB_LEN) {
            it->packed = evo_pb_sub(&it->msg, &f);
            if (it->packed.p < it->packed.end)
                return iter_packed(it, out);
            continue;
        }
        bool fits = (it->kind == EVO_PB_SCALAR_VARINT && f.wire == EVO_PB_VARINT) ||
                    (it->kind == EVO_PB_SCALAR_FIXED32 && f.wire == EVO_PB_I32) ||
                    (it->kind == EVO_PB_SCALAR_FIXED64 && f.wire == EVO_PB_I64);
        if (!fits)
            return iter_fail(it, f.offset, "wrong wire type for a repeated scalar field");
        *out = f.u64;
        return true;
    }
    if (it->msg.error)
        return iter_fail(it, it->msg.error_offset, it->msg.error);
    return false;
}

bool evo_pb_count(const evo_pb *msg, uint32_t number, evo_pb_scalar kind, size_t *n_out,
                  const char **error, size_t *error_offset)
{
    evo_pb_iter it = evo_pb_iter_init(msg, number, kind);
    size_t n = 0;
    uint64_t v;
    while (evo_pb_iter_next(&it, &v))
        n++;
    if (it.error) {
        *error = it.error;
        *error_offset = it.error_offset;
        return false;
    }
    *n_out = n;
    return true;
}

float evo_pb_f32(uint64_t bits)
{
    uint32_t b = (uint32_t)bits;
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

double evo_pb_f64(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}
