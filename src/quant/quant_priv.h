/*
 * quant_priv.h - the state the quantize pass shares between selection
 * (select.c), grouping and rewriting (quantize.c) and the weight
 * conversion (qweights.c). Indexed by the node and value ids of the graph
 * being quantized.
 */
#ifndef EVO_QUANT_PRIV_H
#define EVO_QUANT_PRIV_H

#include "quant/quantize.h"

/* Outputs of one int8 layout node (a Split with more stays float). */
#define QUANT_MAX_OUTS 64

typedef struct quant_state {
    evo_graph *g;
    const evo_calib *cal;
    const evo_quant_options *o;
    int n_nodes, n_values; /* of the graph before the rewrite */
    bool *int8;            /* per node: runs quantized */
    bool *absorbed;        /* per node: an activation folded into its producer */
    int *act_out;          /* per node (compute, Add/Mul): the value it writes after fusion */
    evo_act *act;          /* per node (compute, Add/Mul): fused activation */
    float *act_alpha, *act_beta;
    evo_keep_reason *keep; /* per node (compute, Add/Mul) */
    bool *quantized;       /* per value: has an int8 version (produced int8, or a twin) */
    bool *produced_int8;   /* per value: written by an int8 node (its int8 version is the value) */
    int *parent;           /* per value: union-find of values sharing qparams */
    evo_qparams *qp;       /* per value (group root): qparams */
    int *qval;             /* per value: id of its int8 version after the rewrite */
} quant_state;

/* Is node n a compute node the pass may quantize (Conv, MatMul, Gemm)? */
bool quant_is_compute(const evo_node *n);
/* Is node n an Add or Mul of two float activations (not constants), the pass's int8 Add/Mul candidates? */
bool quant_is_binary(const evo_graph *g, const evo_node *n);
/* The ONNX activation node n computes, or EVO_ACT_NONE. */
evo_act quant_node_act(const evo_node *n, float *alpha, float *beta);

/* A layout-only node's inputs that carry its data bytes (0: not such a node, or not in int8). */
int quant_layout_data_inputs(const evo_node *n);

/* Chooses q->int8, absorbed, act_*, keep and quantized (select.c). */
evo_status quant_select(quant_state *q, evo_error *err);

/* Union-find over values. */
int quant_find(quant_state *q, int v);
void quant_union(quant_state *q, int a, int b);

/*
 * Builds the QLinearConv / QLinearMatMul inputs of compute node id from its
 * float weights (qweights.c): rewrites node id in place, reading x_q and
 * writing y_q. Returns an error naming the node on failure.
 */
evo_status quant_convert_compute(quant_state *q, int id, int x_q, int y_q, evo_error *err);

/* A scalar constant: float scale, or a uint8/int8 zero point. Returns its id or -1. */
int quant_const_scalar(evo_graph *g, const char *base, const char *what, evo_dtype dtype, double v);

#endif /* EVO_QUANT_PRIV_H */
