/*
 * pb.h - a protobuf wire-format reader, just enough for ONNX.
 *
 * A reader walks the fields of one message in a byte range without copying
 * or allocating: LEN fields are returned as (pointer, length) into the
 * input, and nested messages are read by opening a sub-reader on them.
 * Nothing is recursive, so the caller decides how deep to go. Every read is
 * bounds-checked; on malformed input the reader stops and records a static
 * reason plus the byte offset from the start of the whole buffer.
 */
#ifndef EVO_PB_H
#define EVO_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum evo_pb_wire {
    EVO_PB_VARINT = 0,
    EVO_PB_I64 = 1,
    EVO_PB_LEN = 2,
    EVO_PB_I32 = 5,
} evo_pb_wire;

typedef struct evo_pb {
    const uint8_t *p, *end;
    const uint8_t *base; /* start of the whole buffer, for offsets in messages */
    const char *error;   /* static reason once a read failed, else NULL */
    size_t error_offset;
} evo_pb;

typedef struct evo_pb_field {
    uint32_t number;
    evo_pb_wire wire;
    uint64_t u64;         /* VARINT value, or the raw bits of I64 / I32 */
    const uint8_t *data;  /* LEN payload */
    size_t len;
    size_t offset;        /* of the field's tag, from base */
} evo_pb_field;

/* A reader over a whole buffer. */
evo_pb evo_pb_init(const void *data, size_t size_bytes);
/* A reader over the payload of a LEN field read by parent (shares its base). */
evo_pb evo_pb_sub(const evo_pb *parent, const evo_pb_field *f);

/*
 * Reads the next field. Returns false at the end of the message or on
 * malformed input; then r->error is NULL (clean end) or says why.
 * Groups (wire types 3, 4), unknown wire types, field number 0 and varints
 * longer than 10 bytes are errors.
 */
bool evo_pb_next(evo_pb *r, evo_pb_field *f);

/* Decodes one varint from *p (< end), advancing *p. False when truncated or too long. */
bool evo_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Element encodings of repeated scalar fields. */
typedef enum evo_pb_scalar {
    EVO_PB_SCALAR_VARINT, /* int32, int64, uint64, bool, enum */
    EVO_PB_SCALAR_FIXED32, /* float */
    EVO_PB_SCALAR_FIXED64, /* double */
} evo_pb_scalar;

/*
 * Iterates the elements of repeated scalar field `number` of a message, in
 * both packed (LEN) and unpacked encodings, mixed in any order. Other fields
 * are skipped. A field of the right number with a wire type that does not
 * fit the scalar kind is an error.
 */
typedef struct evo_pb_iter {
    evo_pb msg;
    evo_pb packed;   /* current packed run; empty when none */
    uint32_t number;
    evo_pb_scalar kind;
    const char *error;
    size_t error_offset;
} evo_pb_iter;

evo_pb_iter evo_pb_iter_init(const evo_pb *msg, uint32_t number, evo_pb_scalar kind);
/* Writes the next element (raw bits for fixed kinds); false at the end or on error. */
bool evo_pb_iter_next(evo_pb_iter *it, uint64_t *out);
/* Counts the elements; false on malformed input (it->error says why). */
bool evo_pb_count(const evo_pb *msg, uint32_t number, evo_pb_scalar kind, size_t *n_out,
                  const char **error, size_t *error_offset);

/* Reinterpretations of fixed-width bits. */
float evo_pb_f32(uint64_t bits);
double evo_pb_f64(uint64_t bits);

#endif /* EVO_PB_H */
