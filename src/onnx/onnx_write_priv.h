/*
 * onnx_write_priv.h - the writer's output model: the nodes and
 * initializers about to be serialised, with value names as strings, so
 * expansions (a fused Conv into Conv + activation, a QLinearConv into its
 * QDQ form) can add nodes and constants without touching the graph.
 * Everything lives in m->mem and dies with the model.
 */
#ifndef EVO_ONNX_WRITE_PRIV_H
#define EVO_ONNX_WRITE_PRIV_H

#include "onnx/onnx_write.h"

typedef struct ow_node {
    const char *op_type, *domain, *name;
    int n_in, n_out;
    const char **in, **out; /* "" for an absent optional input */
    int n_attrs;
    evo_attr *attrs; /* TENSOR attributes refer to graph values */
} ow_node;

typedef struct ow_init {
    const char *name;
    evo_dtype dtype;
    int rank;
    int64_t dims[EVO_MAX_RANK];
    const void *data;
    size_t size_bytes;
} ow_init;

typedef struct ow_model {
    const evo_graph *g;
    const evo_onnx_write_options *opts;
    evo_error *err;
    evo_mem mem;
    ow_node *nodes;
    int n_nodes, cap_nodes;
    ow_init *inits;
    int n_inits, cap_inits;
    bool *used;                /* per graph value: a written node reads it */
    const char ***split_parts; /* per node: names given to a Split's dropped outputs */
    int64_t opset;             /* of the default domain, as written */
    int64_t n_fresh;           /* counter behind generated names */
} ow_model;

/* Name of graph value v, marked as read ("" for -1). */
const char *ow_value(ow_model *m, int v);
/* A name no graph value and no earlier generated name has, made from base and tag. */
const char *ow_fresh(ow_model *m, const char *base, const char *tag);
/*
 * The name of output o of Split node s, which fuse_update dropped (-1):
 * the same name each call, so evo.UpdateSlices can read the part again.
 */
const char *ow_split_part(ow_model *m, const evo_node *s, int o);
/* Appends a node with n_in inputs and n_out outputs (all ""); NULL when out of memory. */
ow_node *ow_add(ow_model *m, const char *op_type, const char *name, int n_in, int n_out);
/* Gives node room for n attributes; false when out of memory. */
bool ow_attrs(ow_model *m, ow_node *node, int n);
void ow_attr_int(evo_attr *a, const char *name, int64_t v);
void ow_attr_float(evo_attr *a, const char *name, float v);
void ow_attr_string(evo_attr *a, const char *name, const char *s);
/* INTS, values copied into m->mem; false when out of memory. */
bool ow_attr_ints(ow_model *m, evo_attr *a, const char *name, const int64_t *v, int n);
/*
 * A new initializer (data copied) named after base; returns its name or
 * NULL when out of memory.
 */
const char *ow_const(ow_model *m, const char *base, evo_dtype dtype, int rank, const int64_t *dims,
                     const void *data);
/* A 1-D int64 initializer. */
const char *ow_const_ints(ow_model *m, const char *base, const int64_t *v, int n);
/* "out of memory writing node ..." */
evo_status ow_nomem(ow_model *m, const evo_node *n);

/* Conv attributes (group, kernel_shape, strides, dilations, pads) from typed ones. */
bool ow_conv_attrs(ow_model *m, ow_node *o, const evo_conv_attrs *c);
/* Stages a Conv's fused epilogue adds after it (residual, activation, layout). */
int ow_conv_stages(const evo_conv_attrs *c);

/* Is n a QLinearConv/QLinearMatMul to be written in QDQ form (onnx_write_qdq.c)? */
bool ow_qdq_wanted(const ow_model *m, const evo_node *n);
/* Appends n's QDQ form. */
evo_status ow_emit_qdq(ow_model *m, const evo_node *n);
/* Is n a com.microsoft quantized op with a QDQ form (onnx_write_qdq_ms.c)? */
bool ow_is_qdq_ms(const evo_node *n);
/* Appends the QDQ form of such an op. */
evo_status ow_emit_qdq_ms(ow_model *m, const evo_node *n);

/*
 * The default-domain opset to write (onnx_write_upgrade.c): the graph's,
 * or 13 when a per-channel QDQ weight needs it and the graph is at 11 or 12.
 */
int64_t ow_target_opset(const ow_model *m);
/* Appends n written at opset 13 though imported at 11 or 12 (signature changes applied). */
evo_status ow_emit_upgraded(ow_model *m, const evo_node *n);
/* Appends a copy of n: op type, domain, raw attributes (onnx_write_nodes.c). */
evo_status ow_emit_copy(ow_model *m, const evo_node *n);

/* Appends the nodes that compute graph node n (onnx_write_nodes.c). */
evo_status ow_emit_node(ow_model *m, const evo_node *n);

/*
 * The fused activation act (alpha, beta as in evo_conv_attrs) from value
 * x to value y, named after base (onnx_write_nodes.c).
 */
evo_status ow_emit_act(ow_model *m, const evo_node *n, evo_act act, float alpha, float beta, const char *x,
                       const char *y);

#endif /* EVO_ONNX_WRITE_PRIV_H */
