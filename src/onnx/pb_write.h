/*
 * pb_write.h - a protobuf wire-format writer, the counterpart of pb.h.
 *
 * A writer appends fields to one growable buffer. A nested message is
 * written by a callback run twice: once on a counting writer, which only
 * adds up lengths, to learn the length prefix, then for real. Large
 * payloads (raw tensor data) are counted in O(1), so nesting costs little
 * and every byte is copied once. Errors (out of memory, the 2 GB protobuf
 * limit) are sticky: later calls do nothing and the caller checks
 * w->failed once at the end.
 */
#ifndef EVO_PB_WRITE_H
#define EVO_PB_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx/pb.h"

typedef struct evo_pbw {
    uint8_t *buf; /* heap, owned; NULL while counting */
    size_t len, cap;
    bool counting; /* only len advances */
    bool failed;
    const char *error; /* static reason once failed */
} evo_pbw;

/* Fields of a nested message are written by fn(w, ctx). */
typedef void (*evo_pbw_msg_fn)(evo_pbw *w, const void *ctx);

/* Releases the buffer; the writer may be reused after evo_pbw_free. */
void evo_pbw_free(evo_pbw *w);

void evo_pbw_raw(evo_pbw *w, const void *data, size_t len);
void evo_pbw_varint(evo_pbw *w, uint64_t v);
void evo_pbw_tag(evo_pbw *w, uint32_t number, evo_pb_wire wire);

/* One field each. Signed ints are written as two's-complement varints (int64 fields). */
void evo_pbw_int(evo_pbw *w, uint32_t number, int64_t v);
void evo_pbw_float(evo_pbw *w, uint32_t number, float v);
void evo_pbw_bytes(evo_pbw *w, uint32_t number, const void *data, size_t len);
void evo_pbw_string(evo_pbw *w, uint32_t number, const char *s);
/* Packed repeated int64 / float fields (nothing written for n == 0). */
void evo_pbw_packed_ints(evo_pbw *w, uint32_t number, const int64_t *v, size_t n);
void evo_pbw_packed_floats(evo_pbw *w, uint32_t number, const float *v, size_t n);
/* A nested message: tag, length (from a counting run of fn), then fn's fields. */
void evo_pbw_message(evo_pbw *w, uint32_t number, evo_pbw_msg_fn fn, const void *ctx);

#endif /* EVO_PB_WRITE_H */
