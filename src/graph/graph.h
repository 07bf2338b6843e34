/*
 * graph.h - evo's IR: values and nodes in flat arrays, referenced by index.
 *
 * A value is a tensor: dtype, static dims, and data when it is constant
 * (an initializer, a Constant node, or the result of folding). A node is one
 * operator with value ids for inputs (-1 marks an empty optional input) and
 * outputs, the raw ONNX attributes, and the typed attributes its op's import
 * function derived from them. Indices rather than pointers keep the IR
 * trivially copyable and serialisable. All memory is owned by g->mem.
 */
#ifndef EVO_GRAPH_H
#define EVO_GRAPH_H

#include "core/core.h"
#include "graph/attrs.h"

typedef enum evo_op {
#define X(e, name, family) EVO_OP_##e,
#include "graph/ops.def"
#undef X
    EVO_OP_COUNT,
    EVO_OP_UNKNOWN = EVO_OP_COUNT
} evo_op;

/* ONNX AttributeProto types, numbered as in onnx.proto. */
typedef enum evo_attr_type {
    EVO_ATTR_UNDEFINED = 0,
    EVO_ATTR_FLOAT = 1,
    EVO_ATTR_INT = 2,
    EVO_ATTR_STRING = 3,
    EVO_ATTR_TENSOR = 4,
    EVO_ATTR_GRAPH = 5,
    EVO_ATTR_FLOATS = 6,
    EVO_ATTR_INTS = 7,
    EVO_ATTR_STRINGS = 8,
    EVO_ATTR_TENSORS = 9,
    EVO_ATTR_GRAPHS = 10,
    EVO_ATTR_SPARSE_TENSOR = 11,
    EVO_ATTR_SPARSE_TENSORS = 12,
    EVO_ATTR_TYPE_PROTO = 13,
    EVO_ATTR_TYPE_PROTOS = 14,
} evo_attr_type;

/* A raw ONNX attribute as imported. Arrays live in the graph's evo_mem. */
typedef struct evo_attr {
    const char *name;
    evo_attr_type type;
    int64_t i;          /* INT */
    float f;            /* FLOAT */
    const char *s;      /* STRING (NUL-terminated copy); s_len excludes the NUL */
    size_t s_len;
    const int64_t *ints; /* INTS */
    const float *floats; /* FLOATS */
    int n;               /* element count of INTS / FLOATS / STRINGS / TENSORS / GRAPHS */
    int tensor;          /* TENSOR: id of a constant value holding it; -1 otherwise */
} evo_attr;

typedef struct evo_value {
    const char *name;
    evo_dtype dtype;     /* EVO_DTYPE_UNDEFINED until known */
    int rank;            /* -1 until known */
    int64_t dims[EVO_MAX_RANK]; /* -1 for an unknown dim */
    const void *data;    /* non-NULL: a constant, rank/dims known, contiguous row-major */
    size_t size_bytes;   /* of data, when constant */
    int producer;        /* node id, or -1 for graph inputs and constants */
    bool is_input;       /* a graph input the caller feeds */
    bool is_output;      /* a graph output */
} evo_value;

typedef struct evo_node {
    evo_op op;
    const char *name;    /* never NULL: generated "<op_type>_<index>" when the file has none */
    const char *op_type; /* as written in the file */
    const char *domain;  /* "" for the default ONNX domain */
    int n_in, n_out;
    int *in;             /* value ids; -1 = empty optional input */
    int *out;
    int n_attrs;
    evo_attr *attrs;
    evo_attrs a;         /* typed attributes, filled by the op's import function */
    bool is_dead;        /* removed by a pass; kept so ids stay stable */
} evo_node;

/* A file mapping owned by the graph (the model file, external data files). */
typedef struct evo_mapping {
    void *addr;
    size_t size_bytes;
} evo_mapping;

typedef struct evo_graph {
    evo_mem mem;
    const char *file;    /* for messages: the model path or buffer name */
    int64_t ir_version;
    int64_t opset;       /* opset of the default domain */
    int64_t opset_ms;    /* opset of the com.microsoft domain; 0 when the model imports none */
    const char *producer_name;

    evo_value *values;
    int n_values, cap_values;
    evo_node *nodes;
    int n_nodes, cap_nodes;

    int *inputs;          /* value ids of the caller-fed inputs, in file order */
    int n_inputs;
    int *outputs;         /* value ids of the graph outputs, in file order */
    int n_outputs;

    evo_mapping *maps;
    int n_maps, cap_maps;

    /*
     * NPU placement recorded by `evo compile --target` (src/npu/): the
     * target name and one byte per node (1: NPU, 0: CPU); NULL when none.
     * Both live in mem.
     */
    const char *npu_target;
    uint8_t *npu_place;

    /* name -> value id hash, open addressing; owned by mem-independent heap */
    int *hash;
    int hash_cap;
} evo_graph;

evo_graph *evo_graph_new(const char *file);
void evo_graph_free(evo_graph *g);

/* Adds a value with the given name (copied); returns its id or -1 on OOM. */
int evo_graph_add_value(evo_graph *g, const char *name);
/* Returns the id of the value named name, or -1. */
int evo_graph_find_value(const evo_graph *g, const char *name);
/* Adds a node with room for n_in inputs and n_out outputs (set to -1). Returns id or -1. */
int evo_graph_add_node(evo_graph *g, const char *op_type, const char *name, int n_in, int n_out);
/* Records a mapping for release by evo_graph_free. */
evo_status evo_graph_add_mapping(evo_graph *g, void *addr, size_t size_bytes, evo_error *err);

/* Element count of a value with known dims. */
int64_t evo_value_count(const evo_value *v);
/* Makes v a constant: dims as given, data copied into g->mem (data may be NULL for zeros). */
evo_status evo_value_set_const(evo_graph *g, evo_value *v, evo_dtype dtype, int rank,
                               const int64_t *dims, const void *data, evo_error *err);

/*
 * The op enum for an op type in a domain ("" or "ai.onnx" for the default
 * domain, "com.microsoft", ...); EVO_OP_UNKNOWN otherwise. Internal ops
 * (domain "evo", evo_op_is_internal) are found too: the ONNX importer turns
 * them away.
 */
evo_op evo_op_from_name(const char *domain, const char *op_type);
/* The op whose table name (evo_op_name: "Conv", "com.microsoft.QLinearAdd") is name, or EVO_OP_UNKNOWN. */
evo_op evo_op_from_table_name(const char *name);
/* Is op one that passes make ("evo." names), never read from an ONNX file? */
bool evo_op_is_internal(evo_op op);
/* Does op belong to domain ("" and "ai.onnx" name the default domain)? */
bool evo_op_in_domain(evo_op op, const char *domain);
/* The op's table name: its ONNX op type, prefixed "<domain>." outside the default domain. */
const char *evo_op_name(evo_op op);
/* The op's ONNX op type without its domain ("QLinearAdd"). */
const char *evo_op_type(evo_op op);

/* Writes "file: node "name" (Op): " style errors. Returns code. */
evo_status evo_node_errorf(evo_error *err, const evo_graph *g, const evo_node *n, evo_status code,
                           const char *fmt, ...) EVO_PRINTF(5, 6);

/* Input value i of n, or NULL when absent (i >= n_in or an empty name). */
static inline evo_value *evo_node_input(evo_graph *g, const evo_node *n, int i)
{
    return (i < n->n_in && n->in[i] >= 0) ? &g->values[n->in[i]] : NULL;
}
static inline evo_value *evo_node_output(evo_graph *g, const evo_node *n, int i)
{
    return (i < n->n_out && n->out[i] >= 0) ? &g->values[n->out[i]] : NULL;
}

/*
 * Raw attribute getters for op import functions. Each returns EVO_OK and
 * writes *out (the default when the attribute is absent), or a clear error
 * naming the node and attribute when the type is wrong.
 */
const evo_attr *evo_attr_find(const evo_node *n, const char *name);
evo_status evo_attr_int(const evo_graph *g, const evo_node *n, const char *name, int64_t def,
                        int64_t *out, evo_error *err);
evo_status evo_attr_float(const evo_graph *g, const evo_node *n, const char *name, float def,
                          float *out, evo_error *err);
/* Returns the string or def; *out points into the graph. */
evo_status evo_attr_string(const evo_graph *g, const evo_node *n, const char *name,
                           const char *def, const char **out, evo_error *err);
/* INTS: writes up to max values, *n_out = count (0 when absent); error if more than max. */
evo_status evo_attr_ints(const evo_graph *g, const evo_node *n, const char *name, int64_t *out,
                         int max, int *n_out, evo_error *err);
evo_status evo_attr_floats(const evo_graph *g, const evo_node *n, const char *name, float *out,
                           int max, int *n_out, evo_error *err);

/*
 * Reads a constant integer tensor input (int32 or int64, rank 0 or 1) into
 * out[max]; errors name the node and input when it is not constant.
 */
evo_status evo_const_ints(evo_graph *g, const evo_node *n, int input, int64_t *out, int max,
                          int *n_out, evo_error *err);
/* Reads a constant float tensor input (float32/float64/float16, rank 0 or 1) into out[max]. */
evo_status evo_const_floats(evo_graph *g, const evo_node *n, int input, float *out, int max,
                            int *n_out, evo_error *err);
/* Reads element 0 of a constant scalar-like input as double. */
evo_status evo_const_scalar(evo_graph *g, const evo_node *n, int input, double *out,
                            evo_error *err);

/* Writes "[1,3,640,640]" into buf. Returns buf. */
char *evo_dims_str(const int64_t *dims, int rank, char *buf, size_t cap);

#endif /* EVO_GRAPH_H */
