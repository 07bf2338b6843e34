/*
 * tflite.h - TensorFlow Lite flatbuffers (schema version 3): evo's int8
 * graphs exported for the runtimes and NPU compilers that read .tflite,
 * and a reader of such files for checks (round trips, the fuzzer).
 *
 * Both sides go through tfl_model, a plain description of one subgraph:
 * tensors (shape, type, buffer, quantization), operators (builtin code,
 * inputs, outputs, the scalar fields of their options) and buffers. The
 * exporter (tflite_export*.c) fills one from an evo_graph, laying rank-4
 * activations out NHWC (docs/tflite.md); tflite_write.c serialises it
 * with fb_build; tflite_read.c parses a file back into one, checking every
 * offset, length and index against the bytes it was given.
 */
#ifndef EVO_TFLITE_H
#define EVO_TFLITE_H

#include "graph/graph.h"
#include "tflite/tflite_schema.h"

typedef struct tfl_quant {
    int n;              /* number of scales (0: not quantized); 1 per tensor, else per channel */
    float *scale;
    int64_t *zero_point; /* n entries */
    int32_t dim;        /* quantized_dimension */
} tfl_quant;

typedef struct tfl_tensor {
    int rank;
    int32_t shape[EVO_MAX_RANK];
    int type;           /* TFL_FLOAT32, TFL_INT8, ... */
    uint32_t buffer;    /* 0: no data */
    const char *name;
    tfl_quant q;
} tfl_tensor;

/* The scalar fields of an options table; kinds per tfl_options_fields(type). */
typedef struct tfl_options {
    int type;           /* TFL_OPT_*; TFL_OPT_NONE: no table */
    int32_t i[TFL_MAX_OPT_FIELDS]; /* 'b' and 'i' fields */
    float f[TFL_MAX_OPT_FIELDS];   /* 'f' fields */
} tfl_options;

typedef struct tfl_operator {
    uint32_t opcode_index;
    int n_in, n_out;
    int32_t *in, *out;  /* tensor indices; -1 = an absent optional input */
    tfl_options opt;
} tfl_operator;

typedef struct tfl_opcode {
    int32_t builtin;
    int32_t version;
} tfl_opcode;

typedef struct tfl_buffer {
    const uint8_t *data; /* NULL when empty */
    size_t size_bytes;
} tfl_buffer;

typedef struct tfl_model {
    evo_mem mem;        /* everything below, except what the reader points into */
    uint32_t version;
    const char *description;
    tfl_opcode *opcodes;
    int n_opcodes, cap_opcodes;
    tfl_tensor *tensors;
    int n_tensors, cap_tensors;
    tfl_operator *ops;
    int n_ops, cap_ops;
    tfl_buffer *buffers; /* buffers[0] is the empty sentinel */
    int n_buffers, cap_buffers;
    int32_t *inputs, *outputs;
    int n_inputs, n_outputs;
    const char *subgraph_name;
} tfl_model;

void tfl_model_free(tfl_model *m);

/*
 * Exports the quantized (int8 or uint8 activations) or float graph g as a
 * TFLite model. g is not
 * changed. On failure *out is untouched and err names the node, its op and
 * why it has no TFLite form. On success the caller frees *out with
 * tfl_model_free and free().
 */
evo_status evo_tflite_export(evo_graph *g, tfl_model **out, evo_error *err);

/* Serialises m: *out is malloc'd (the caller frees it), *size_bytes its length. */
evo_status evo_tflite_serialize(const tfl_model *m, uint8_t **out, size_t *size_bytes,
                                evo_error *err);

/* evo_tflite_export then evo_tflite_serialize into path (replaced). */
evo_status evo_tflite_write_file(evo_graph *g, const char *path, size_t *bytes_out,
                                 evo_error *err);

/*
 * Parses a .tflite image (untrusted bytes; name is for messages). Buffers
 * of *out point into data, which must outlive it. Only the first subgraph
 * is read. On failure *out is untouched and err says what is wrong where.
 */
evo_status evo_tflite_read(const uint8_t *data, size_t size_bytes, const char *name,
                           tfl_model **out, evo_error *err);

#endif /* EVO_TFLITE_H */
