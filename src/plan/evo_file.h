/*
 * evo_file.h - the compiled model file (.evo): the graph after every pass
 * (folded constants, fused attributes, static shapes, dead nodes dropped),
 * loaded by mmap with the weights used in place.
 *
 * Layout (little-endian on the writing host; a reader on a host of the
 * other byte order rejects the file through the endian tag):
 *
 *   header, 64 bytes
 *     0  char magic[8] = "EVOMODEL"
 *     8  u32 format version (EVO_FILE_VERSION)
 *    12  u32 endian tag 0x01020304 as written by the host
 *    16  u32 header bytes (64)
 *    20  u32 section count
 *    24  u64 file bytes
 *    32  u64 attribute schema fingerprint (hash of the typed-attribute
 *            field tables in evo_file_format.c and of the op -> family map)
 *    40  u64 section table offset
 *    48  u64 reserved (0), 56 u64 reserved (0)
 *   section table: per section {u32 id, u32 reserved, u64 offset, u64 bytes}
 *   META     u32 producer, u32 evo version (string refs), i64 ir_version,
 *            i64 opset, u32 n_values, n_nodes, n_inputs, n_outputs
 *   STRINGS  NUL-terminated strings; a string ref is a byte offset in it
 *   VALUES   per value 96 bytes: u32 name, i32 dtype, i32 rank, u32 flags
 *            (1 input, 2 output, 4 constant), i64 dims[8], u64 data offset,
 *            u64 data bytes (offsets are relative to the DATA section)
 *   NODES    per node: u32 op (ops.def name, so renumbering ops.def keeps
 *            files valid), u32 name, u32 op_type, u32 domain, u32 n_in,
 *            u32 n_out, u32 attr bytes, i32 in[n_in], i32 out[n_out], then
 *            the typed attributes of the op's family field by field (arrays
 *            inline; Split sizes inline; Constant data as a DATA reference)
 *   IO       i32 inputs[n_inputs], i32 outputs[n_outputs]
 *   DATA     constant bytes, each blob 64-byte aligned; the section starts
 *            64-byte aligned, so a mapped file gives aligned weights
 *   NPU      optional (evo compile --target): u32 section version (1),
 *            u32 target name (string ref), u32 n_nodes, u32 reserved, then
 *            u8 place[n_nodes] (1: the node runs on the NPU, 0: the CPU); a
 *            reader checks the target is known and every NPU node passes
 *            the target's constraint table (src/npu/)
 *   trailer  u64 checksum over bytes [0, file bytes - 8)
 *
 * Unknown section ids are skipped, so sections can be added without a
 * version bump; any change to existing layouts bumps EVO_FILE_VERSION, and
 * any change to a typed-attribute struct changes the schema fingerprint.
 * Raw ONNX attributes are not stored: kernels and the planner read only
 * typed attributes.
 */
#ifndef EVO_FILE_H
#define EVO_FILE_H

#include "graph/graph.h"

#define EVO_FILE_MAGIC "EVOMODEL"
#define EVO_FILE_MAGIC_BYTES 8
#define EVO_FILE_VERSION 1u

/* Reader flags. */
enum {
    /* Skip the checksum (fuzzing the structural checks only; never in production). */
    EVO_FILE_NO_CHECKSUM = 1,
};

/* Does the buffer start with the .evo magic? */
bool evo_file_has_magic(const void *data, size_t size_bytes);
/* Does the file at path start with the .evo magic? false when it cannot be read. */
bool evo_file_path_has_magic(const char *path);

/*
 * Writes the compiled graph g (after evo_passes_run) to path. Live nodes
 * are written in order; values that no live node, input or output uses are
 * dropped and the rest renumbered. *bytes_out (may be NULL) receives the
 * file size.
 */
evo_status evo_file_write(const evo_graph *g, const char *path, size_t *bytes_out, evo_error *err);

/*
 * Maps path read-only and reads it. The graph owns the mapping; constants
 * point into it. On success *out is runnable as is (evo_plan_build, a
 * session); on failure *out is untouched and err says "file: what: reason".
 */
evo_status evo_file_load(const char *path, evo_graph **out, evo_error *err);

/*
 * Reads a .evo image from memory; data must outlive the graph (constants
 * point into it when it is 64-byte aligned, else they are copied). name is
 * used in messages (NULL: "<memory>"). flags: EVO_FILE_* reader flags.
 */
evo_status evo_file_load_buffer(const void *data, size_t size_bytes, const char *name, unsigned flags,
                                evo_graph **out, evo_error *err);

/*
 * Checks compile options against a loaded .evo graph: input shapes must
 * match what it was compiled for, and constant inputs cannot be bound any
 * more. Passes to disable are ignored (they already ran).
 */
evo_status evo_file_check_options(const evo_graph *g, const evo_compile_options *opts, evo_error *err);

/* ---- internal: shared with evo_file_check.c and the tests ---- */

/* Which member of evo_attrs an op's family uses. */
typedef enum evo_attr_kind {
    EVO_AK_NONE = 0,
    EVO_AK_CONV,
    EVO_AK_POOL,
    EVO_AK_BN,
    EVO_AK_UNARY,
    EVO_AK_BINARY,
    EVO_AK_AXIS,
    EVO_AK_SPLIT,
    EVO_AK_SLICE,
    EVO_AK_PAD,
    EVO_AK_RESIZE,
    EVO_AK_TRANSPOSE,
    EVO_AK_RESHAPE,
    EVO_AK_REDUCE,
    EVO_AK_ARG,
    EVO_AK_TOPK,
    EVO_AK_GEMM,
    EVO_AK_D2S,
    EVO_AK_FILL,
    EVO_AK_QUANT,
    EVO_AK_QBINARY,
    EVO_AK_COUNT
} evo_attr_kind;

evo_attr_kind evo_file_attr_kind(evo_op op);
/* Fingerprint of the attribute field tables and the op -> family map. */
uint64_t evo_file_schema(void);
/* The file checksum over size_bytes bytes. */
uint64_t evo_file_checksum(const void *data, size_t size_bytes);

/*
 * Checks the op semantics of a graph read from a file that the planner and
 * kernels rely on without checking: arity, axes, permutations, split and
 * slice extents, window parameters, and the output shapes of the ops that
 * index with them. Errors name the node.
 */
evo_status evo_file_check_nodes(evo_graph *g, evo_error *err);
/* Are the typed attributes of op equal field by field (Split sizes by content)? */
bool evo_file_attrs_equal(evo_op op, const evo_attrs *a, const evo_attrs *b);

#endif /* EVO_FILE_H */
