/*
 * evo_file_format.h - the on-disk layout shared by the .evo writer
 * (evo_file_write.c) and reader (evo_file_read.c): section ids, record
 * sizes, value flags, the per-family typed-attribute field tables and the
 * streaming checksum. Defined in evo_file_format.c; internal to src/plan.
 *
 * Both halves serialise attributes from the same tables, so a field added
 * to a table changes writer, reader and schema fingerprint together.
 */
#ifndef EVO_FILE_FORMAT_H
#define EVO_FILE_FORMAT_H

#include "plan/evo_file.h"

/* SEC_DATA is the last required section; optional ones follow (SEC_MAX). */
enum { SEC_META = 1, SEC_STRINGS, SEC_VALUES, SEC_NODES, SEC_IO, SEC_DATA, SEC_LAST = SEC_DATA, SEC_NPU, SEC_MAX = SEC_NPU };

#define NPU_SECTION_VERSION 1u
#define NPU_FIXED_BYTES 16

#define HEADER_BYTES 64
#define SECTION_BYTES 24
#define META_BYTES 40
#define VALUE_BYTES 96
#define NODE_FIXED_BYTES 28
#define TRAILER_BYTES 8
#define MAX_SECTIONS 64
#define ENDIAN_TAG 0x01020304u
#define FLAG_INPUT 1u
#define FLAG_OUTPUT 2u
#define FLAG_CONST 4u
#define NO_DATA UINT64_MAX
#define ALIGN64(x) (((x) + 63) & ~(uint64_t)63)

/* ---- typed attribute tables ---------------------------------------------- */

typedef enum evo_file_field_kind {
    FK_I32,
    FK_I64,
    FK_F32,
    FK_F64,
    FK_BOOL,
    FK_U32,
    FK_U8
} evo_file_field_kind;

/* Bytes of one element of each evo_file_field_kind, as stored in the file. */
extern const uint8_t evo_file_kind_bytes[];

/* One typed-attribute field: count elements of kind at offset in evo_attrs. */
typedef struct evo_file_field {
    const char *name;
    uint16_t offset;
    uint8_t kind;
    uint8_t count;
    int32_t max; /* FK_I32: valid range [0, max]; -1: any value */
} evo_file_field;

/* The fields of one evo_attr_kind, in file order. */
typedef struct evo_file_family {
    const char *name;
    const evo_file_field *fields;
    int n_fields;
} evo_file_family;

extern const evo_file_family evo_file_families[EVO_AK_COUNT];

/* ---- checksum: four 64-bit multiply-rotate lanes over 32-byte blocks ------ */

typedef struct evo_file_hasher {
    uint64_t lane[4];
    uint8_t tail[32];
    size_t n_tail;
    uint64_t total;
} evo_file_hasher;

void evo_file_hash_init(evo_file_hasher *h);
void evo_file_hash_update(evo_file_hasher *h, const void *data, size_t n);
/* The checksum of everything passed to evo_file_hash_update (the same as evo_file_checksum). */
uint64_t evo_file_hash_final(evo_file_hasher *h);

#endif /* EVO_FILE_FORMAT_H */
