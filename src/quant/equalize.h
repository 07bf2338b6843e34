/*
 * equalize.h - cross-layer equalization before int8 quantization
 * (quant/equalize.c): per-channel ranges of the float activations, and the
 * exact rescaling of Conv pairs that makes the channels of the tensor
 * between them share one per-tensor activation scale better.
 */
#ifndef EVO_QUANT_EQUALIZE_H
#define EVO_QUANT_EQUALIZE_H

#include "exec/model.h"
#include "graph/graph.h"

/* Per-channel extremes of every observed [1, C, H, W] float value. */
typedef struct evo_chan_ranges {
    int n_values;
    int *n_ch;       /* per value id: channels observed (0: not observed) */
    float **lo, **hi; /* per value id: n_ch[v] extremes (malloc'd) */
} evo_chan_ranges;

/*
 * Runs the observable session sess of model (whose graph is g) on the n
 * float inputs (input 0's size) and records the per-channel extremes of
 * every rank-4 float node output. *out is freed with evo_chan_ranges_free.
 */
evo_status evo_chan_ranges_collect(evo_session *sess, const evo_model *model, const evo_graph *g,
                                   const float *const *inputs, int n, evo_chan_ranges **out, evo_error *err);
void evo_chan_ranges_free(evo_chan_ranges *r);

/*
 * Rescales, in place, every Conv P whose output reaches only Conv inputs
 * through ops that commute with a positive per-channel scale (nothing,
 * Relu, LeakyRelu, MaxPool, nearest Resize; each value read once on the
 * way, none a graph output): P's output channel c (weights and bias) is
 * divided by s_c and the consumers' weights reading channel c multiplied
 * by it, so the float model computes the same function. s_c balances the
 * channel's activation range (r, collected on a graph loaded the same way,
 * value ids matching) against its weight columns in the consumers (a
 * depthwise consumer has no columns to balance: its channel scale is
 * per output channel anyway). *n_pairs counts the producers rescaled.
 */
evo_status evo_equalize_graph(evo_graph *g, const evo_chan_ranges *r, int *n_pairs, evo_error *err);

/*
 * The Conv pairs of g evo_equalize_graph could rescale, whatever the
 * ranges (an upper bound on *n_pairs): 0 means equalization leaves g as
 * it is, so its ranges need not be collected (a SiLU network).
 */
int evo_equalize_n_candidates(const evo_graph *g);

#endif /* EVO_QUANT_EQUALIZE_H */
