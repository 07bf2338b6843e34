/*
 * report.h - how far a quantized model is from its float original, over a
 * set of preprocessed inputs: the SQNR and cosine similarity of every
 * quantized layer's output (dequantized) against the same value of the
 * float graph, and the SQNR of the model outputs. Both models run in
 * observable sessions one input at a time; only the float values the
 * quantized layers are compared with are kept, for one input at a time.
 */
#ifndef EVO_QUANT_REPORT_H
#define EVO_QUANT_REPORT_H

#include "exec/model.h"
#include "quant/calib.h"

/* Running sums of one compared tensor pair. */
typedef struct evo_quant_err {
    double ref2, err2, dot, q2;
} evo_quant_err;

/* 10 log10(ref^2 / err^2), capped at 200 dB for exact matches. */
double evo_quant_sqnr_db(const evo_quant_err *e);
/* ref . q / (|ref| |q|); 1 when both are zero. */
double evo_quant_cosine(const evo_quant_err *e);
/* Adds n pairs. */
void evo_quant_err_add(evo_quant_err *e, const float *ref, const float *q, int64_t n);

typedef struct evo_quant_layer {
    const char *node;  /* the quantized node (graph-owned by the quantized model) */
    const char *op;
    const char *value; /* the float value it stands for */
    evo_quant_err err;
} evo_quant_layer;

typedef struct evo_quant_compare {
    evo_quant_layer *layers; /* QLinearConv / QLinearMatMul nodes, in graph order (malloc'd) */
    int n_layers;
    evo_quant_err output;    /* all graph outputs together */
} evo_quant_compare;

void evo_quant_compare_free(evo_quant_compare *c);

/*
 * Runs fp (observable session fp_sess, the unfused float model the
 * quantized one was made from: value names match) and q8 (session
 * q_sess, observable when layers is true) on each of the n inputs
 * (float tensors of input 0's size) and fills *out.
 */
evo_status evo_quant_compare_run(evo_session *fp_sess, const evo_model *fp, evo_session *q_sess,
                                 const evo_model *q8, const float *const *inputs, int n, bool layers,
                                 evo_quant_compare *out, evo_error *err);

#endif /* EVO_QUANT_REPORT_H */
