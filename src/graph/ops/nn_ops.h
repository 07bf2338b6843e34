/*
 * nn_ops.h - helpers shared by the sliding-window op families (Conv,
 * ConvTranspose, MaxPool, AveragePool): import of kernel_shape, strides,
 * dilations, pads and auto_pad, pad resolution and the ONNX output-size
 * rules. Defined in conv.c unless marked otherwise.
 */
#ifndef EVO_NN_OPS_H
#define EVO_NN_OPS_H

#include "graph/op.h"

/* The window attributes as imported; n_spatial is 0 when no attribute fixed it. */
typedef struct evo_window {
    int n_spatial;
    bool has_kernel;
    int64_t kernel[EVO_MAX_SPATIAL];
    int64_t stride[EVO_MAX_SPATIAL];
    int64_t dilation[EVO_MAX_SPATIAL];
    int64_t pad_begin[EVO_MAX_SPATIAL];
    int64_t pad_end[EVO_MAX_SPATIAL];
    evo_auto_pad auto_pad;
} evo_window;

/* Reads and validates the window attributes of n (strides/dilations default to 1, pads to 0). */
evo_status evo_window_import(evo_graph *g, evo_node *n, evo_window *w, evo_error *err);

/*
 * Resolves w for an input with spatial extents in[0..n_spatial): checks the
 * attribute lengths against n_spatial, resolves auto_pad into the pads and
 * writes the output extents (Conv/pool rules; ceil_mode for pools). The
 * kernel must be known. Errors name n, e.g. a kernel bigger than the padded input.
 */
evo_status evo_window_resolve(const evo_graph *g, const evo_node *n, evo_window *w, int n_spatial,
                              const int64_t *in, bool ceil_mode, int64_t *out, evo_error *err);

/* Is auto_pad SAME_UPPER or SAME_LOWER (pads derived from the output size)? */
static inline bool evo_auto_pad_is_same(evo_auto_pad auto_pad)
{
    return auto_pad == EVO_AUTO_PAD_SAME_UPPER || auto_pad == EVO_AUTO_PAD_SAME_LOWER;
}

/*
 * Resolves the pads of one spatial dim. With from_total (auto_pad SAME_*,
 * or a ConvTranspose output_shape) they split total, the padding the output
 * size needs: SAME_UPPER puts the smaller half first, any other auto_pad the
 * larger half (ONNX). Otherwise VALID clears them and NOTSET keeps the
 * explicit pads.
 */
void evo_pads_resolve(evo_auto_pad auto_pad, bool from_total, int64_t total, int64_t *pad_begin,
                      int64_t *pad_end);

/* Checks input i is present and a float32 tensor of known rank (rank_min..rank_max, -1: any). */
evo_status evo_nn_float_input(evo_graph *g, const evo_node *n, int i, int rank_min, int rank_max,
                              evo_error *err);

/* Sets the window of pool attributes p (MaxPool, AveragePool, QLinearAveragePool) from w. pool.c. */
void evo_pool_set_window(evo_pool_attrs *p, const evo_window *w, bool ceil_mode, bool count_include_pad);

/*
 * The output extents out_sp of n's pool window (n->a.pool) over in_sp
 * (n_spatial dims), its pads resolved into n->a.pool. pool.c.
 */
evo_status evo_pool_resolve(evo_graph *g, evo_node *n, const int64_t *in_sp, int n_spatial, int64_t *out_sp,
                            evo_error *err);

/* Conv's attribute import (conv.c), shared by QLinearConv and ConvInteger. */
evo_status evo_conv_import(evo_graph *g, evo_node *n, evo_error *err);

/* Sets the window of Conv/ConvTranspose attributes c from w (not n_spatial), with no fused activation. */
void evo_conv_set_window(evo_conv_attrs *c, const evo_window *w);

/*
 * Conv's and ConvTranspose's input rules: 2 or 3 inputs (4 with a fused
 * residual), X float of rank 3 to 2 + EVO_MAX_SPATIAL, W float, the
 * optional bias float of rank 1. conv.c.
 */
evo_status evo_conv_float_inputs(evo_graph *g, const evo_node *n, evo_error *err);

/*
 * Conv's shape rules for X and W = [M, C/group, k...] (any dtypes, X of
 * rank >= 3): checks W and the optional bias at input bias_input (-1: none)
 * against X, resolves kernel and pads into n->a.conv, and writes the output
 * dims [N, M, spatial...] (rank of X). conv.c.
 */
evo_status evo_conv_geometry(evo_graph *g, evo_node *n, const evo_value *x, const evo_value *wv, int bias_input,
                              int64_t *dims, evo_error *err);

/*
 * MatMul's numpy shape rules for A and B (any dtypes, rank >= 1): checks the
 * inner dims and broadcasts the batch dims into dims / *rank. matmul.c.
 */
evo_status evo_matmul_dims(const evo_graph *g, const evo_node *n, const evo_value *av, const evo_value *bv,
                           int64_t *dims, int *rank, evo_error *err);

#endif /* EVO_NN_OPS_H */
