/*
 * onnx_tensor.c - TensorProto decoding: dims, element type, and the data
 * from raw_data, the typed repeated fields, or an external file.
 *
 * Every declared size is checked against the bytes actually present before
 * anything is allocated: raw_data must hold exactly count * element size
 * bytes, a typed field exactly count elements (each takes at least one byte
 * of input), an external range must lie inside its file. So an allocation is
 * never larger than a small multiple of the input that justifies it.
 * The host is little-endian, so raw bytes are the in-memory layout.
 */
#include "onnx/onnx_fields.h"
#include "onnx/onnx_priv.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX importer assumes a little-endian host"
#endif


#define TP_LOCATION_EXTERNAL 1
#define ONNX_MAX_PATH 4096

const char *onnx_dtype_unsupported_name(uint64_t code)
{
    static const char *const names[] = {"float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz",
                                        "uint4",        "int4",           "float4e2m1"};
    return code >= 17 && code <= 23 ? names[code - 17] : "unknown";
}

bool onnx_dtype_known(uint64_t code)
{
    switch (code) {
    case EVO_DTYPE_FLOAT:
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_INT8:
    case EVO_DTYPE_UINT16:
    case EVO_DTYPE_INT16:
    case EVO_DTYPE_INT32:
    case EVO_DTYPE_INT64:
    case EVO_DTYPE_STRING:
    case EVO_DTYPE_BOOL:
    case EVO_DTYPE_FLOAT16:
    case EVO_DTYPE_DOUBLE:
    case EVO_DTYPE_UINT32:
    case EVO_DTYPE_UINT64:
    case EVO_DTYPE_BFLOAT16:
        return true;
    default:
        return false;
    }
}

/* The typed field that holds dtype per onnx.proto, and its element encoding. */
static void typed_field(evo_dtype dtype, uint32_t *number, evo_pb_scalar *kind)
{
    switch (dtype) {
    case EVO_DTYPE_FLOAT:
        *number = TP_FLOAT_DATA;
        *kind = EVO_PB_SCALAR_FIXED32;
        return;
    case EVO_DTYPE_INT64:
        *number = TP_INT64_DATA;
        *kind = EVO_PB_SCALAR_VARINT;
        return;
    case EVO_DTYPE_DOUBLE:
        *number = TP_DOUBLE_DATA;
        *kind = EVO_PB_SCALAR_FIXED64;
        return;
    case EVO_DTYPE_UINT32:
    case EVO_DTYPE_UINT64:
        *number = TP_UINT64_DATA;
        *kind = EVO_PB_SCALAR_VARINT;
        return;
    default: /* int32, int16, int8, uint16, uint8, bool, float16, bfloat16 */
        *number = TP_INT32_DATA;
        *kind = EVO_PB_SCALAR_VARINT;
        return;
    }
}

/* Uses bytes in place when aligned to the element size, else copies them. */
static evo_status place_data(onnx_loader *L, const char *what, const uint8_t *src, size_t n_bytes,
                             size_t esize, onnx_tensor *t)
{
    if (n_bytes > 0 && (uintptr_t)src % esize == 0) {
        t->data = src;
    } else {
        void *p = evo_mem_alloc(&L->g->mem, n_bytes);
        if (!p)
            return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory (%zu bytes)", n_bytes);
        if (n_bytes)
            memcpy(p, src, n_bytes);
        t->data = p;
    }
    t->size_bytes = n_bytes;
    return EVO_OK;
}

static evo_status read_typed(onnx_loader *L, const evo_pb *msg, const char *what, int64_t count,
                             size_t esize, onnx_tensor *t)
{
    uint32_t number;
    evo_pb_scalar kind;
    typed_field(t->dtype, &number, &kind);
    size_t n;
    const char *why;
    size_t offset;
    if (!evo_pb_count(msg, number, kind, &n, &why, &offset))
        return onnx_fail_pb(L, what, why, offset);
    if ((uint64_t)n != (uint64_t)count)
        return onnx_fail(L, EVO_ERR_PARSE, what,
                         "typed data field %u holds %zu elements, expected %lld (%s dims)",
                         number, n, (long long)count, evo_dtype_name(t->dtype));
    // n elements were each read from at least one input byte, so this is bounded by the input.
    size_t n_bytes = n * esize;
    uint8_t *p = evo_mem_alloc(&L->g->mem, n_bytes);
    if (!p)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory (%zu bytes)", n_bytes);
    evo_pb_iter it = evo_pb_iter_init(msg, number, kind);
    uint64_t v;
    // Little-endian: the low esize bytes of v are the element (int32_data holds
    // narrower types and float16 bits in its low bits, per onnx.proto).
    for (size_t i = 0; i < n && evo_pb_iter_next(&it, &v); i++)
        memcpy(p + i * esize, &v, esize);
    t->data = p;
    t->size_bytes = n_bytes;
    return EVO_OK;
}

/* Parses a non-negative decimal integer string without overflow. */
static bool parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t digit = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

/* Rejects absolute paths and any ".." component, so data stays under the model's directory. */
static bool location_safe(const char *loc)
{
    if (!loc[0] || loc[0] == '/' || strchr(loc, '\\') || strchr(loc, ':'))
        return false;
    for (const char *p = loc; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += len;
        if (*p == '/')
            p++;
    }
    return true;
}

static evo_status map_external(onnx_loader *L, const char *what, const char *location,
                               onnx_ext_file **out)
{
    for (onnx_ext_file *e = L->ext; e; e = e->next) {
        if (strcmp(e->location, location) == 0) {
            *out = e;
            return EVO_OK;
        }
    }
    char path[ONNX_MAX_PATH];
    int len = snprintf(path, sizeof(path), "%s/%s", L->dir, location);
    if (len < 0 || (size_t)len >= sizeof(path))
        return onnx_fail(L, EVO_ERR_LIMIT, what, "external data path too long");
    onnx_ext_file *e = evo_mem_alloc(&L->g->mem, sizeof(*e));
    if (!e || !(e->location = evo_mem_strdup(&L->g->mem, location)))
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return onnx_fail(L, EVO_ERR_IO, what, "cannot open external data \"%s\"", path);
    struct stat st;
    evo_status s = EVO_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = onnx_fail(L, EVO_ERR_IO, what, "external data \"%s\" is not a regular file", path);
        goto done;
    }
    e->size_bytes = (size_t)st.st_size;
    if (e->size_bytes > 0) {
        void *m = mmap(NULL, e->size_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            s = onnx_fail(L, EVO_ERR_IO, what, "cannot map external data \"%s\"", path);
            goto done;
        }
        s = evo_graph_add_mapping(L->g, m, e->size_bytes, L->err);
        if (s != EVO_OK) {
            munmap(m, e->size_bytes);
            goto done;
        }
        e->data = m;
    }
    e->next = L->ext;
    L->ext = e;
    *out = e;
done:
    close(fd);
    return s;
}

static evo_status read_external(onnx_loader *L, const evo_pb *msg, const char *what, size_t n_bytes,
                                size_t esize, onnx_tensor *t)
{
    const char *location = NULL;
    uint64_t offset = 0, length = n_bytes;
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number != TP_EXTERNAL_DATA)
            continue;
        evo_status s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
        const char *key = NULL, *value = NULL;
        evo_pb kv = evo_pb_sub(&r, &f);
        evo_pb_field e;
        while (s == EVO_OK && evo_pb_next(&kv, &e)) {
            if (e.number == 1)
                s = onnx_string(L, what, &e, &key);
            else if (e.number == 2)
                s = onnx_string(L, what, &e, &value);
        }
        if (s != EVO_OK)
            return s;
        if (kv.error)
            return onnx_fail_pb(L, what, kv.error, kv.error_offset);
        if (!key || !value)
            continue;
        if (strcmp(key, "location") == 0) {
            location = value;
        } else if (strcmp(key, "offset") == 0 && !parse_size(value, &offset)) {
            return onnx_fail(L, EVO_ERR_PARSE, what, "external data offset \"%s\" is not a number",
                             value);
        } else if (strcmp(key, "length") == 0 && !parse_size(value, &length)) {
            return onnx_fail(L, EVO_ERR_PARSE, what, "external data length \"%s\" is not a number",
                             value);
        }
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    if (!L->dir)
        return onnx_fail(L, EVO_ERR_UNSUPPORTED, what,
                         "external data needs the model loaded from a file");
    if (!location)
        return onnx_fail(L, EVO_ERR_PARSE, what, "external data without a location");
    if (!location_safe(location))
        return onnx_fail(L, EVO_ERR_PARSE, what,
                         "external data location \"%s\" must be a relative path without \"..\"",
                         location);
    if (length != n_bytes)
        return onnx_fail(L, EVO_ERR_PARSE, what,
                         "external data length %llu, expected %zu bytes for the dims and type",
                         (unsigned long long)length, n_bytes);
    onnx_ext_file *file;
    evo_status s = map_external(L, what, location, &file);
    if (s != EVO_OK)
        return s;
    if (offset > file->size_bytes || length > file->size_bytes - offset)
        return onnx_fail(L, EVO_ERR_PARSE, what,
                         "external data range [%llu, +%llu) is past the end of \"%s\" (%zu bytes)",
                         (unsigned long long)offset, (unsigned long long)length, location,
                         file->size_bytes);
    return place_data(L, what, file->data ? file->data + offset : (const uint8_t *)"", n_bytes,
                      esize, t);
}

/* First pass: scalar fields, with wire types checked. */
typedef struct tensor_fields {
    uint64_t data_type;
    uint64_t location;
    const evo_pb_field *raw;
    evo_pb_field raw_field;
} tensor_fields;

static evo_status scan_tensor(onnx_loader *L, const evo_pb *msg, const char *what, onnx_tensor *t,
                              tensor_fields *tf)
{
    evo_pb r = *msg;
    evo_pb_field f;
    evo_status s = EVO_OK;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        switch (f.number) {
        case TP_DATA_TYPE:
        case TP_DATA_LOCATION:
            s = onnx_want_wire(L, what, &f, EVO_PB_VARINT);
            if (f.number == TP_DATA_TYPE)
                tf->data_type = f.u64;
            else
                tf->location = f.u64;
            break;
        case TP_NAME:
            s = onnx_string(L, what, &f, &t->name);
            break;
        case TP_RAW_DATA:
            s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
            tf->raw_field = f;
            tf->raw = &tf->raw_field;
            break;
        case TP_SEGMENT:
            s = onnx_fail(L, EVO_ERR_UNSUPPORTED, what, "segmented tensors are not supported");
            break;
        default:
            break;
        }
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, what, r.error, r.error_offset);
    return s;
}

static evo_status read_dims(onnx_loader *L, const evo_pb *msg, const char *what, onnx_tensor *t)
{
    evo_pb_iter it = evo_pb_iter_init(msg, TP_DIMS, EVO_PB_SCALAR_VARINT);
    uint64_t v;
    t->rank = 0;
    while (evo_pb_iter_next(&it, &v)) {
        if (t->rank == EVO_MAX_RANK)
            return onnx_fail(L, EVO_ERR_LIMIT, what, "more than %d dims", EVO_MAX_RANK);
        if ((int64_t)v < 0)
            return onnx_fail(L, EVO_ERR_PARSE, what, "dim %d is negative (%lld)", t->rank,
                             (long long)(int64_t)v);
        t->dims[t->rank++] = (int64_t)v;
    }
    if (it.error)
        return onnx_fail_pb(L, what, it.error, it.error_offset);
    return EVO_OK;
}

evo_status onnx_read_tensor(onnx_loader *L, const evo_pb *msg, const char *what, onnx_tensor *t)
{
    memset(t, 0, sizeof(*t));
    t->name = "";
    tensor_fields tf;
    memset(&tf, 0, sizeof(tf));
    evo_status s = scan_tensor(L, msg, what, t, &tf);
    if (s == EVO_OK)
        s = read_dims(L, msg, what, t);
    if (s != EVO_OK)
        return s;
    for (int i = t->rank; i < EVO_MAX_RANK; i++)
        t->dims[i] = -1;
    if (!onnx_dtype_known(tf.data_type))
        return onnx_fail(L, EVO_ERR_UNSUPPORTED, what, "unsupported data type code %llu (%s)",
                         (unsigned long long)tf.data_type, onnx_dtype_unsupported_name(tf.data_type));
    t->dtype = (evo_dtype)tf.data_type;
    if (t->dtype == EVO_DTYPE_STRING)
        return EVO_OK; /* no numeric data: kept as an unsupported STRING value */
    int64_t count;
    char dims_buf[160];
    if (!evo_dims_count(t->dims, t->rank, EVO_MAX_ELEMENTS, &count))
        return onnx_fail(L, EVO_ERR_LIMIT, what, "dims %s exceed %lld elements",
                         evo_dims_str(t->dims, t->rank, dims_buf, sizeof(dims_buf)),
                         (long long)EVO_MAX_ELEMENTS);
    size_t esize = evo_dtype_size(t->dtype);
    size_t n_bytes = (size_t)count * esize;
    if (tf.location == TP_LOCATION_EXTERNAL)
        return read_external(L, msg, what, n_bytes, esize, t);
    if (tf.location != 0)
        return onnx_fail(L, EVO_ERR_PARSE, what, "unknown data_location %llu",
                         (unsigned long long)tf.location);
    if (!tf.raw)
        return read_typed(L, msg, what, count, esize, t);
    if (tf.raw->len != n_bytes)
        return onnx_fail(L, EVO_ERR_PARSE, what, "raw_data is %zu bytes, expected %zu for %s %s",
                         tf.raw->len, n_bytes, evo_dtype_name(t->dtype),
                         evo_dims_str(t->dims, t->rank, dims_buf, sizeof(dims_buf)));
    return place_data(L, what, tf.raw->data, n_bytes, esize, t);
}
