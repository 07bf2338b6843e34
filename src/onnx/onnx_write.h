/*
 * onnx_write.h - evo_graph -> ONNX ModelProto bytes.
 *
 * The writer keeps every node the way it was imported (op type, domain,
 * raw attributes) unless a pass changed it, and writes what the passes
 * made in standard ops: a Conv or Gemm with a fused activation becomes the
 * op followed by its activation node(s), a fused residual an Add, a Conv
 * writing the grouped layout a Reshape + Transpose, folded values
 * initializers, evo.UpdateSlices Slices + a Concat. With options.qdq the
 * quantized compute ops (QLinearConv, QLinearMatMul and the com.microsoft
 * QLinear ops) are written in QDQ form (DequantizeLinear on each input,
 * the float op, QuantizeLinear on the output), which every ONNX runtime
 * reads; a QLinearConv or QLinearMatMul whose fused activation or
 * fixed-point requantization has no QOperator form is written that way
 * even without it. The default domain keeps the graph's opset, so raw
 * attributes stay valid, except that a graph of opset 11 or 12 whose QDQ
 * form needs per-channel weights is written at opset 13 with the ops
 * whose signature changed rewritten (onnx_write_upgrade.c); what cannot
 * be written is refused with the node's name.
 */
#ifndef EVO_ONNX_WRITE_H
#define EVO_ONNX_WRITE_H

#include "graph/graph.h"

typedef struct evo_onnx_write_options {
    bool qdq;               /* quantized ops in QDQ form */
    const char *graph_name; /* NULL: "evo" */
} evo_onnx_write_options;

evo_onnx_write_options evo_onnx_write_options_default(void);

/*
 * Serialises g (live nodes only). On success *out is a malloc'd buffer of
 * *size_bytes bytes the caller frees with free(); on failure *out is
 * untouched and err names the node, op and reason. o may be NULL (defaults).
 */
evo_status evo_onnx_write_buffer(const evo_graph *g, const evo_onnx_write_options *o, uint8_t **out,
                                 size_t *size_bytes, evo_error *err);

/* Serialises g into the file at path (replaced). o may be NULL. */
evo_status evo_onnx_write_file(const evo_graph *g, const char *path, const evo_onnx_write_options *o,
                               evo_error *err);

#endif /* EVO_ONNX_WRITE_H */
