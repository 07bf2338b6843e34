/*
 * onnx.h - ONNX model import: protobuf bytes -> evo_graph.
 *
 * The importer fills values (initializers as constants, graph inputs and
 * outputs), nodes with their raw attributes, ir_version, the default-domain
 * opset and the producer. It checks everything that can be checked per
 * message (wire format, types, dims, byte lengths against shapes, duplicate
 * producers) and leaves graph-level checks (cycles, missing producers) and
 * shape inference to the passes.
 *
 * Opset: the default domain ("" or "ai.onnx") takes its version from
 * opset_import. A model with no opset_import at all (IR version < 3) is read
 * with opset 1; a model that imports other domains only, yet has nodes in the
 * default domain, is an error.
 */
#ifndef EVO_ONNX_H
#define EVO_ONNX_H

#include "graph/graph.h"

/*
 * Maps path read-only and imports it. Weights are used in place from the
 * mapping when aligned; the graph owns the mapping (and those of external
 * data files, which must lie under the model's directory). On success *out
 * owns everything (free with evo_graph_free); on failure *out is untouched
 * and err says "file: where: what".
 */
evo_status evo_onnx_load_file(const char *path, evo_graph **out, evo_error *err);

/*
 * Imports a model from memory; data must outlive the graph because aligned
 * weights point into it. name is used in messages (NULL: "<memory>").
 * External data is rejected: there is no directory to resolve it against.
 */
evo_status evo_onnx_load_buffer(const void *data, size_t size_bytes, const char *name,
                                evo_graph **out, evo_error *err);

#endif /* EVO_ONNX_H */
