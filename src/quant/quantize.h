/*
 * quantize.h - the quantize pass: a float graph plus calibrated statistics
 * become the int8 graph of docs/int8.md.
 *
 * The float graph is compiled without the fusions that hide values
 * (residual, layout, activation, slice-update fusion: EVO_QUANT_UNFUSED_PASSES),
 * so calibration sees every pre-activation, and with a Focus left as it is
 * (the NPU rewrites fold it and report it). The pass then:
 *   - selects the nodes that run int8 (quant/select.c): every 2-D Conv,
 *     MatMul with a constant 2-D B and bias-free Gemm, each with the
 *     activation its output alone feeds (ReLU/Clip as a clamp, the others
 *     as a table from the pre-activation's range), an Add or Mul of two
 *     activations one of which is int8 (with its ReLU/Clip), and the layout
 *     ops whose data input is int8; by default the detector head's decode (the nodes
 *     after the last compute node) stays fp32;
 *   - gives each group of values that must share bytes one range
 *     (a layout op's input and outputs, a Concat's inputs and output);
 *   - rewrites: QLinearConv/QLinearMatMul in FIXED requantization with
 *     per-output-channel int8 weights and int32 bias, QuantizeLinear where
 *     float meets int8, DequantizeLinear where int8 meets float;
 *   - runs the float fusions on what stayed float.
 * A residual Add or a squeeze-excite Mul becomes QLinearAdd/QLinearMul in
 * FIXED requantization (TFLite's int8 ADD and MUL), each operand and the
 * output with its own range.
 */
#ifndef EVO_QUANT_QUANTIZE_H
#define EVO_QUANT_QUANTIZE_H

#include "quant/calib.h"
#include "quant/qparams.h"

/* Passes the float graph is compiled without, for calibration and quantization. */
#define EVO_QUANT_UNFUSED_PASSES "fold_focus,s2d_conv,fuse_residual,fuse_layout,fuse_act,fuse_residual_act,fuse_update"

/*
 * evo quantize's default mixed precision: the layers that hurt the model
 * output most (each quantized alone) stay fp32, the fewest that bring the
 * output SQNR against fp32 to this target (docs/int8.md).
 */
#define EVO_QUANT_DEFAULT_TARGET_SQNR_DB 18.0

typedef struct evo_quant_options {
    evo_calib_method method;
    double percentile;          /* EVO_CALIB_PERCENTILE: share kept, e.g. 99.99 */
    evo_dtype act_dtype;        /* EVO_DTYPE_UINT8 (default) or EVO_DTYPE_INT8 */
    bool act_symmetric;         /* zero point 0 (int8) */
    const char *keep_fp;        /* comma-separated node names kept fp32 */
    const char *keep_target;    /* the same, chosen by --target-sqnr */
    const char *keep_output;    /* the same: the layers that write the model outputs (default policy) */
    bool int8_all;              /* quantize the head decode too */
    const char *only;           /* when set, the one compute node quantized (layer-by-layer ranking) */
    const char *disable_passes; /* float fusions not to run afterwards */
    evo_act_table act_table;    /* how fused activation tables are computed (EVO_ACT_TABLE_FLOAT) */
} evo_quant_options;

evo_quant_options evo_quant_options_default(void);

/* Why a compute node stayed fp32 (EVO_KEEP_NONE: it runs int8). */
typedef enum evo_keep_reason {
    EVO_KEEP_NONE = 0,
    EVO_KEEP_ASKED,       /* --keep-fp */
    EVO_KEEP_TARGET,      /* among the worst layers, for the target SQNR (default or --target-sqnr) */
    EVO_KEEP_OUTPUT,      /* writes a model output (through the head decode): default policy */
    EVO_KEEP_UNSUPPORTED, /* a shape or attribute the int8 ops do not take */
    EVO_KEEP_NO_RANGE,    /* calibration never saw its values */
    EVO_KEEP_FLOAT_INPUTS, /* an Add/Mul whose inputs both stayed fp32 */
} evo_keep_reason;

const char *evo_keep_reason_name(evo_keep_reason r);

typedef struct evo_quant_kept {
    const char *node; /* graph-owned */
    const char *op;
    evo_keep_reason reason;
} evo_quant_kept;

typedef struct evo_quant_result {
    int n_int8;                   /* nodes that run int8 (compute and layout) */
    int n_compute_int8;           /* Conv/MatMul/Gemm turned QLinear */
    int n_compute_fp;             /* Conv/MatMul/Gemm kept fp32 */
    int n_binary_int8;            /* Add/Mul turned QLinearAdd/QLinearMul */
    int n_binary_fp;              /* Add/Mul of two activations kept fp32 (not counting the head decode) */
    int n_quantize, n_dequantize; /* border nodes added */
    int n_degenerate;             /* ranges that got a safe default scale */
    evo_quant_kept *kept;         /* compute and Add/Mul nodes kept fp32, in graph order (malloc'd) */
    int n_kept;
} evo_quant_result;

void evo_quant_result_free(evo_quant_result *r);

/*
 * Quantizes g in place. cal holds the statistics of a graph loaded from the
 * same file with the same options (value ids and names match g's). res
 * lists the compute nodes kept fp32 and why (free with
 * evo_quant_result_free, also after a failure). Errors: a --keep-fp name that names no node,
 * a graph that does not match the statistics, out of memory.
 */
evo_status evo_quantize_graph(evo_graph *g, const evo_calib *cal, const evo_quant_options *o,
                              evo_quant_result *res, evo_error *err);

/*
 * The compute nodes (Conv, MatMul, Gemm) from which a graph output is
 * reachable without passing another compute node (a detector's last
 * class and box layers), comma-separated into buf; false when they do not
 * fit in cap bytes.
 */
bool evo_quant_output_layers(const evo_graph *g, char *buf, size_t cap);

/* Is g already quantized (any QuantizeLinear, DequantizeLinear or quantized compute op)? */
bool evo_graph_is_quantized(const evo_graph *g);

#endif /* EVO_QUANT_QUANTIZE_H */
