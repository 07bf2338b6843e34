/*
 * onnx_priv.h - state shared by the ONNX importer's files: the loader
 * context, error helpers and the TensorProto decoder.
 *
 * The importer reads a fixed nesting (Model > Graph > Node > Attribute >
 * Tensor, ValueInfo > TypeProto.Tensor > Shape > Dim) and never recurses
 * into nested graphs or sequence/map types, so input nesting depth cannot
 * exhaust the stack.
 */
#ifndef EVO_ONNX_PRIV_H
#define EVO_ONNX_PRIV_H

#include "graph/graph.h"
#include "onnx/pb.h"

/* An external data file mapped once per load. Lives in g->mem. */
typedef struct onnx_ext_file {
    struct onnx_ext_file *next;
    const char *location;
    const uint8_t *data;
    size_t size_bytes;
} onnx_ext_file;

typedef struct onnx_loader {
    evo_graph *g;
    evo_error *err;
    const char *dir;        /* model directory for external data; NULL for buffers */
    onnx_ext_file *ext;
} onnx_loader;

/* A decoded TensorProto. data is NULL for string tensors (unsupported). */
typedef struct onnx_tensor {
    const char *name;       /* "" when absent */
    evo_dtype dtype;
    int rank;
    int64_t dims[EVO_MAX_RANK];
    const void *data;
    size_t size_bytes;
} onnx_tensor;

/* "file: what: message" into L->err; returns code. */
evo_status onnx_fail(onnx_loader *L, evo_status code, const char *what, const char *fmt, ...)
    EVO_PRINTF(4, 5);
/* A wire-format error reported by a reader or iterator. */
evo_status onnx_fail_pb(onnx_loader *L, const char *what, const char *why, size_t offset);
/* Checks f has wire type want; otherwise a parse error naming field f->number. */
evo_status onnx_want_wire(onnx_loader *L, const char *what, const evo_pb_field *f,
                          evo_pb_wire want);
/* Copies a string field into g->mem (NUL bytes rejected). */
evo_status onnx_string(onnx_loader *L, const char *what, const evo_pb_field *f, const char **out);

/*
 * Decodes the TensorProto in msg. Raw data is used in place when aligned,
 * otherwise copied once into g->mem. what names the tensor in messages.
 */
evo_status onnx_read_tensor(onnx_loader *L, const evo_pb *msg, const char *what, onnx_tensor *t);

/* True for element type codes evo knows (including STRING, which has no data). */
bool onnx_dtype_known(uint64_t code);
/* The name of an ONNX element type evo does not support (float8, int4, ...), or "unknown". */
const char *onnx_dtype_unsupported_name(uint64_t code);

/* The value named name, added when new; -1 when out of memory. */
int onnx_find_or_add(onnx_loader *L, const char *name);
/* Makes value id the constant t. */
evo_status onnx_set_const(onnx_loader *L, int id, const onnx_tensor *t);
/* True for an initializer's value (a STRING one has no data but is still constant). */
bool onnx_is_constant(const evo_value *v);

/* The domains whose opset_import the nodes need. */
typedef struct onnx_domain_use {
    bool default_domain, ms_domain;
} onnx_domain_use;

/* Adds the NodeProto in msg (the graph's index-th) with its attributes; notes its domain in uses. */
evo_status onnx_load_node(onnx_loader *L, const evo_pb *msg, int index, onnx_domain_use *uses);

#endif /* EVO_ONNX_PRIV_H */
