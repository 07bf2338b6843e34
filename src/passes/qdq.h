/*
 * qdq.h - what the QDQ folding passes (fold_qdq.c, fold_qdq_ms.c) read
 * from a DequantizeLinear or QuantizeLinear node: where its quantized value,
 * scale and zero point live, their elements, and an int32 bias that was
 * dequantized at exactly the scale a folded op needs.
 */
#ifndef EVO_PASSES_QDQ_H
#define EVO_PASSES_QDQ_H

#include "graph/graph.h"

/* Where one quantization's parameters live. */
typedef struct evo_qparam {
    int node;        /* the DequantizeLinear or QuantizeLinear */
    int data;        /* the quantized value: DQ input 0, or Q output 0 */
    int scale, zp;   /* value ids; zp is -1 when absent */
    evo_dtype dtype; /* of data */
    int64_t count;   /* scale elements */
} evo_qparam;

/* True when value v exists and holds constant data. */
bool evo_qdq_is_const(const evo_graph *g, int v);

/* The single live reader of v (v not a graph output), or -1. */
int evo_qdq_single_reader(const evo_graph *g, int v);

/*
 * Fills q from quantization node id (DQ or Q); NULL, or the reason its
 * parameters are unusable (scale or zero point not constant).
 */
const char *evo_qparam_of(const evo_graph *g, int id, evo_qparam *q);

/* The DequantizeLinear producing v (live, or dead when v was folded to a constant), or -1. */
int evo_qdq_dq_node(const evo_graph *g, int v);

/* Scale element i (element 0 when per tensor). */
float evo_qparam_scale(const evo_graph *g, const evo_qparam *q, int64_t i);

/* Zero point element i (0 when absent). */
int32_t evo_qparam_zp(const evo_graph *g, const evo_qparam *q, int64_t i);

/* A zero point value for q: its own, or a new zero constant of its dtype named after base; -1 on failure. */
int evo_qparam_zp_value(evo_graph *g, const evo_qparam *q, const char *base);

/*
 * The int32 values of bias (a constant [n]) when it is a DequantizeLinear
 * of int32 with zero point 0 at exactly scale x_scale * w_scale[i] for
 * each of its n elements; else NULL.
 */
const int32_t *evo_qdq_int32_bias(const evo_graph *g, int bias, const evo_qparam *x, const evo_qparam *w,
                                  int64_t n);

/*
 * Marks dead the live DequantizeLinear nodes nothing reads any more (their
 * readers folded); run by the folding passes themselves, since dead_code
 * would revive the nodes they removed.
 */
void evo_qdq_drop_unread_dq(evo_graph *g);

#endif /* EVO_PASSES_QDQ_H */
