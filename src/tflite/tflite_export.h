/*
 * tflite_export.h - shared state of the exporter: the model being built,
 * the TFLite tensor of each graph value, and the layout helpers the op
 * handlers (tflite_export_ops.c) use.
 *
 * Layout: every rank-4 value is an NCHW tensor in evo and an NHWC tensor in
 * TFLite ("natural" layout); other ranks keep their axes. An op that needs
 * a rank-4 value in its NCHW order (a Reshape that flattens channels, a
 * MatMul over the last axis) gets it through a TRANSPOSE (tx_plain), and an
 * op producing a rank-4 value in NCHW order hands it to tx_bind_plain,
 * which transposes it back. A transpose that only moves axes of extent 1
 * is written as a RESHAPE.
 */
#ifndef EVO_TFLITE_EXPORT_H
#define EVO_TFLITE_EXPORT_H

#include "tflite/tflite.h"

/* Quantization of one activation tensor. */
typedef struct tx_q {
    bool on;
    float scale;
    int32_t zp;
} tx_q;

typedef struct tx {
    evo_graph *g;
    tfl_model *m;
    evo_error *err;
    int *natural; /* per value: its tensor in natural layout, -1 */
    int *plain;   /* per value of rank 4: its NCHW tensor, -1 */
    const evo_node *node; /* the node being exported, for messages */
} tx;

/* NCHW axis a of a rank-4 value is NHWC axis tx_nhwc_axis[a]. */
extern const int tx_nhwc_axis[4];

/* Error naming the node being exported; returns code. */
evo_status tx_fail(tx *c, evo_status code, const char *fmt, ...) EVO_PRINTF(3, 4);

/* A new tensor; dims in TFLite order. Returns its index or -1 (err set). */
int tx_tensor(tx *c, const char *name, int type, int rank, const int64_t *dims, tx_q q);
/* A constant tensor with a copy of data (bytes) as its buffer. */
int tx_const(tx *c, const char *name, int type, int rank, const int64_t *dims, const void *data,
             size_t bytes);
/* A 1-D int32 constant (shapes, axes, permutations). */
int tx_const_i32(tx *c, const char *name, const int32_t *v, int n);
/* Sets per-channel quantization on tensor t. */
evo_status tx_set_channel_q(tx *c, int t, const float *scale, int n, int dim);
/* Adds an operator; opt may be NULL (no options table). Returns EVO_OK or an error. */
evo_status tx_op(tx *c, int code, const int *in, int n_in, const int *out, int n_out,
                 const tfl_options *opt);

/*
 * TFLite type of an evo dtype; -1 for types the export does not take.
 * uint8 activations become int8 with the zero point 128 lower (the same
 * real values: q - zp is unchanged), constants with each byte shifted.
 */
int tx_type(evo_dtype d);
static inline bool tx_is_q8(evo_dtype d)
{
    return d == EVO_DTYPE_INT8 || d == EVO_DTYPE_UINT8;
}
/* What a byte of dtype d becomes in TFLite's int8 (-128 for uint8). */
static inline int32_t tx_byte_shift(evo_dtype d)
{
    return d == EVO_DTYPE_UINT8 ? -128 : 0;
}
/* The quantization of value v's tensor (from the tensor already made for it). */
tx_q tx_value_q(tx *c, int v);
/* Dims of value v in natural layout (rank-4 NCHW -> NHWC) into dims; returns the rank. */
int tx_natural_dims(const evo_value *v, int64_t *dims);

/* The tensor of value v in natural layout; constants are made on first use. -1 on error. */
int tx_in(tx *c, int v);
/* The tensor of value v in its evo axis order (NCHW for rank 4). */
int tx_plain(tx *c, int v);
/* Makes the natural tensor of output value v with quantization q. */
int tx_out(tx *c, int v, tx_q q);
/* A new tensor holding value v in its evo (NCHW) order, to be bound with tx_bind_plain. */
int tx_out_plain(tx *c, int v, tx_q q);
/* Transposes the NCHW tensor t of rank-4 value v into v's natural tensor (a no-op otherwise). */
evo_status tx_bind_plain(tx *c, int v, int t);
/* Tensor t reshaped or transposed: out_dims (rank) by perm (NULL: a reshape). */
evo_status tx_transpose(tx *c, int from, int to, const int *perm, int rank);

/* Reads the scalar scale and zero point of node inputs (scale_in, zp_in; zp_in may be absent). */
evo_status tx_scalar_q(tx *c, int scale_in, int zp_in, tx_q *q);
/* Fails unless tensor of value v carries q (the graph's qparams on the edge must agree). */
evo_status tx_check_q(tx *c, int v, tx_q q);

/* The op handlers (tflite_export_ops.c, tflite_export_nn.c). */
evo_status tx_export_node(tx *c, const evo_node *n);
/* A fused ReLU/Clip (act, min lo, max hi) of an op writing yq as TFLite's fused function in *fused. */
evo_status tx_clamp_act(tx *c, int act, float lo, float hi, tx_q yq, int *fused);
evo_status tx_export_qconv(tx *c, const evo_node *n);
evo_status tx_export_qmatmul(tx *c, const evo_node *n);
evo_status tx_export_pool(tx *c, const evo_node *n);
evo_status tx_export_fc_float(tx *c, const evo_node *n);
evo_status tx_export_act(tx *c, int in, tx_q in_q, int act, float alpha, float beta, int out,
                         tx_q out_q);

#endif /* EVO_TFLITE_EXPORT_H */
