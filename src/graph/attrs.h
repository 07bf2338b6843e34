/*
 * attrs.h - typed attributes, one struct per op family, in one tagged union
 * (the tag is evo_node.op). Import functions fill them from the raw ONNX
 * attributes; shape inference completes the fields marked "resolved" from
 * constant inputs and the input shapes, so kernels never look at raw
 * attributes or re-derive anything.
 */
#ifndef EVO_ATTRS_H
#define EVO_ATTRS_H

#include <stdbool.h>
#include <stdint.h>

#include "evo.h"

#define EVO_MAX_SPATIAL 3

typedef enum evo_auto_pad {
    EVO_AUTO_PAD_NOTSET = 0,
    EVO_AUTO_PAD_SAME_UPPER,
    EVO_AUTO_PAD_SAME_LOWER,
    EVO_AUTO_PAD_VALID,
} evo_auto_pad;

/* Activation fused into a producer's epilogue (set by passes; NONE after import). */
typedef enum evo_act {
    EVO_ACT_NONE = 0,
    EVO_ACT_RELU,
    EVO_ACT_LEAKY_RELU, /* alpha */
    EVO_ACT_SIGMOID,
    EVO_ACT_SILU,
    EVO_ACT_HARD_SIGMOID, /* alpha, beta */
    EVO_ACT_HARD_SWISH,
    EVO_ACT_CLIP, /* alpha = min, beta = max */
    EVO_ACT_TANH,
} evo_act;

/*
 * Requantization of an int32 accumulator to a uint8/int8 output
 * (docs/int8.md): FLOAT is ONNX Runtime's float32 multiply and
 * round-half-even (what imported QLinear ops use), FIXED the TFLite/gemmlowp
 * fixed-point multiplier (what evo quantize emits).
 */
typedef enum evo_requant {
    EVO_REQUANT_FLOAT = 0,
    EVO_REQUANT_FIXED,
} evo_requant;

/*
 * How the 256 entries of a fused table activation are computed
 * (docs/int8.md): FLOAT rounds f(x) once, computed in double; TFLITE
 * computes what TFLite's int8 ops make of the activation as evo's TFLite
 * export writes it (LOGISTIC's table, then MUL; HARD_SWISH's and
 * LEAKY_RELU's fixed point...), which an NPU running TFLite semantics
 * reproduces bit for bit.
 */
typedef enum evo_act_table {
    EVO_ACT_TABLE_FLOAT = 0,
    EVO_ACT_TABLE_TFLITE,
} evo_act_table;

/* Conv, ConvTranspose, QLinearConv, ConvInteger. Spatial arrays are indexed 0..n_spatial-1. */
typedef struct evo_conv_attrs {
    int n_spatial;
    int64_t group;
    int64_t kernel[EVO_MAX_SPATIAL];   /* resolved from W when the attribute is absent */
    int64_t stride[EVO_MAX_SPATIAL];
    int64_t dilation[EVO_MAX_SPATIAL];
    int64_t pad_begin[EVO_MAX_SPATIAL]; /* resolved, auto_pad applied */
    int64_t pad_end[EVO_MAX_SPATIAL];
    int64_t output_padding[EVO_MAX_SPATIAL]; /* ConvTranspose */
    int64_t output_shape[EVO_MAX_SPATIAL];   /* ConvTranspose, when has_output_shape */
    bool has_output_shape;
    evo_auto_pad auto_pad;
    evo_act act; /* fused activation */
    float act_alpha, act_beta;
    bool has_residual;       /* fused Add: input 3 is added before the activation, */
    bool residual_after_act; /* or after it (YOLO bottlenecks: x + SiLU(conv)) */
    /*
     * Conv, 2-D, no residual: 0 writes Y as [N, C, H, W]; G > 0 writes it
     * as [N, G, H, W, C / G] (pass fuse_layout: YOLOv5's head Reshape +
     * Transpose).
     */
    int64_t out_groups;
    /*
     * QLinearConv: the requantization mode, and for a fused table
     * activation (LeakyRelu, Sigmoid, SiLU, HardSigmoid, HardSwish, Tanh)
     * the pre-activation's scale and zero point (docs/int8.md).
     */
    evo_requant requant;
    float act_scale;
    int32_t act_zp;
    evo_act_table act_table;
} evo_conv_attrs;

/* MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, QLinear(Global)AveragePool. */
typedef struct evo_pool_attrs {
    int n_spatial;
    int64_t kernel[EVO_MAX_SPATIAL]; /* resolved to the full spatial extent for Global* */
    int64_t stride[EVO_MAX_SPATIAL];
    int64_t dilation[EVO_MAX_SPATIAL];
    int64_t pad_begin[EVO_MAX_SPATIAL]; /* resolved */
    int64_t pad_end[EVO_MAX_SPATIAL];
    evo_auto_pad auto_pad;
    bool ceil_mode;
    bool count_include_pad;
    int64_t storage_order;
    bool channels_last; /* com.microsoft QLinear pools: X and Y are [N, spatial..., C] */
    /* QLinearGlobalAveragePool: FLOAT ONNX Runtime's float rescale of the sum (an import), FIXED TFLite's
     * int8 MEAN (an NPU simulation; kernels/qpool_ref.c) */
    evo_requant requant;
} evo_pool_attrs;

typedef struct evo_bn_attrs {
    float epsilon;
} evo_bn_attrs;

/*
 * Elementwise unary ops and activations: LeakyRelu (alpha), HardSigmoid
 * (alpha, beta), Clip (min, max resolved from attributes or constant inputs),
 * Cast (to), Elu/Selu style alpha/gamma if added later.
 */
typedef struct evo_unary_attrs {
    float alpha, beta;
    float min, max; /* Clip, resolved; -inf/+inf when absent */
    evo_dtype to;   /* Cast */
    evo_act_table table; /* QLinearSigmoid, QLinearLeakyRelu: ONNX Runtime's float table, or TFLite's (NPU) */
} evo_unary_attrs;

/* Add, Sub, Mul, Div, Pow, Min, Max, Equal, Less, Greater, PRelu, Where, ... */
typedef struct evo_binary_attrs {
    bool fmod;          /* Mod: C fmod semantics (sign of the dividend) */
    bool prelu_channel; /* PRelu: legacy 1-D slope [C] applied along axis 1 */
} evo_binary_attrs;

/*
 * Concat, Gather, Flatten, Softmax, LogSoftmax, Shape (start/end), ...
 * com.microsoft QLinearConcat: requant is how an input whose scale or zero
 * point differs from Y's is requantized (FLOAT: ONNX Runtime's float table,
 * what an import gives; FIXED: TFLite's int8 QUANTIZE, docs/int8.md).
 */
typedef struct evo_axis_attrs {
    int64_t axis;      /* resolved: normalised to 0..rank-1 (Flatten: 0..rank) */
    bool legacy;       /* Softmax/LogSoftmax before opset 13: coerce to 2-D at axis */
    int64_t start, end; /* Shape (opset 15), resolved */
    evo_requant requant; /* QLinearConcat only */
} evo_axis_attrs;

/*
 * Split; also evo.UpdateSlices, where n_splits = inputs - 1 and sizes[i] is
 * where update input i + 1 starts along axis.
 */
typedef struct evo_split_attrs {
    int64_t axis;  /* resolved */
    int n_splits;  /* = number of outputs */
    int64_t *sizes; /* resolved, n_splits entries, in graph memory */
} evo_split_attrs;

/* Slice: resolved per axis of the input (axes not sliced: start 0, step 1). */
typedef struct evo_slice_attrs {
    int64_t start[EVO_MAX_RANK];
    int64_t step[EVO_MAX_RANK];
} evo_slice_attrs;

typedef enum evo_pad_mode {
    EVO_PAD_CONSTANT = 0,
    EVO_PAD_REFLECT,
    EVO_PAD_EDGE,
    EVO_PAD_WRAP,
} evo_pad_mode;

typedef struct evo_pad_attrs {
    evo_pad_mode mode;
    int64_t pad_begin[EVO_MAX_RANK]; /* resolved; may be negative (crop) */
    int64_t pad_end[EVO_MAX_RANK];
    double value; /* resolved constant value */
} evo_pad_attrs;

typedef enum evo_resize_mode {
    EVO_RESIZE_NEAREST = 0,
    EVO_RESIZE_LINEAR,
    EVO_RESIZE_CUBIC,
} evo_resize_mode;

typedef enum evo_coord_mode {
    EVO_COORD_HALF_PIXEL = 0,
    EVO_COORD_HALF_PIXEL_SYMMETRIC,
    EVO_COORD_PYTORCH_HALF_PIXEL,
    EVO_COORD_ALIGN_CORNERS,
    EVO_COORD_ASYMMETRIC,
    EVO_COORD_TF_HALF_PIXEL_FOR_NN,
    EVO_COORD_TF_CROP_AND_RESIZE,
} evo_coord_mode;

typedef enum evo_nearest_mode {
    EVO_NEAREST_ROUND_PREFER_FLOOR = 0,
    EVO_NEAREST_ROUND_PREFER_CEIL,
    EVO_NEAREST_FLOOR,
    EVO_NEAREST_CEIL,
} evo_nearest_mode;

/* Resize and Upsample. */
typedef struct evo_resize_attrs {
    evo_resize_mode mode;
    evo_coord_mode coord;
    evo_nearest_mode nearest;
    float cubic_coeff_a;
    bool exclude_outside;
    float extrapolation_value;
    float scale[EVO_MAX_RANK];      /* resolved per axis (from scales, or out/in for sizes) */
    float roi_start[EVO_MAX_RANK];  /* resolved, tf_crop_and_resize only */
    float roi_end[EVO_MAX_RANK];
    bool scale_is_ratio; /* resolved: sizes were given, so scale is out/in, taken in double */
} evo_resize_attrs;

typedef struct evo_transpose_attrs {
    int perm[EVO_MAX_RANK]; /* resolved (default: reverse) */
} evo_transpose_attrs;

/* Reshape, Squeeze, Unsqueeze, Flatten, Expand, Identity, Dropout: output dims say all. */
typedef struct evo_reshape_attrs {
    bool allowzero;
} evo_reshape_attrs;

/* ReduceMean, ReduceMax, ReduceSum (+ ReduceMin/Prod/L2 if added). */
typedef struct evo_reduce_attrs {
    uint32_t axes_mask; /* resolved: bit i set when axis i is reduced */
    bool keepdims;
    bool noop_with_empty_axes;
} evo_reduce_attrs;

/* ArgMax, ArgMin. */
typedef struct evo_arg_attrs {
    int64_t axis; /* resolved */
    bool keepdims;
    bool select_last_index;
} evo_arg_attrs;

typedef struct evo_topk_attrs {
    int64_t axis; /* resolved */
    int64_t k;    /* resolved */
    bool largest;
    bool sorted;
} evo_topk_attrs;

/*
 * Gemm; MatMul, QLinearMatMul and MatMulInteger use the defaults (alpha 1,
 * beta 1, no transposes). QLinearMatMul: requant, act_scale and act_zp as
 * in evo_conv_attrs.
 */
typedef struct evo_gemm_attrs {
    float alpha, beta;
    bool trans_a, trans_b;
    evo_act act; /* fused activation */
    float act_alpha, act_beta;
    evo_requant requant;
    float act_scale;
    int32_t act_zp;
    evo_act_table act_table;
} evo_gemm_attrs;

/*
 * com.microsoft QLinearAdd and QLinearMul. requant FLOAT is ONNX Runtime's
 * arithmetic (what imported ops use), FIXED TFLite's int8 ADD and MUL
 * (what evo quantize emits; docs/int8.md). act: a fused ReLU or Clip
 * (act_alpha = min, act_beta = max) as a clamp of the output, or none.
 */
typedef struct evo_qbinary_attrs {
    evo_requant requant;
    evo_act act;
    float act_alpha, act_beta;
} evo_qbinary_attrs;

/*
 * QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear. A scale with one
 * element is per-tensor; otherwise per-axis along axis.
 */
typedef struct evo_quant_attrs {
    int64_t axis;           /* resolved: normalised to 0..rank-1 */
    evo_dtype output_dtype; /* QuantizeLinear: resolved (uint8 or int8) */
} evo_quant_attrs;

/* DepthToSpace, SpaceToDepth. */
typedef struct evo_d2s_attrs {
    int64_t blocksize;
    bool crd; /* DepthToSpace mode CRD (default DCR) */
} evo_d2s_attrs;

/* ConstantOfShape: the fill value as raw bytes of the output dtype. */
typedef struct evo_fill_attrs {
    evo_dtype dtype;
    uint8_t value[8];
    const void *data; /* Constant: the value's bytes (graph memory), resolved */
} evo_fill_attrs;

typedef union evo_attrs {
    evo_conv_attrs conv;
    evo_pool_attrs pool;
    evo_bn_attrs bn;
    evo_unary_attrs unary;
    evo_binary_attrs binary;
    evo_axis_attrs axis;
    evo_split_attrs split;
    evo_slice_attrs slice;
    evo_pad_attrs pad;
    evo_resize_attrs resize;
    evo_transpose_attrs transpose;
    evo_reshape_attrs reshape;
    evo_reduce_attrs reduce;
    evo_arg_attrs arg;
    evo_topk_attrs topk;
    evo_gemm_attrs gemm;
    evo_d2s_attrs d2s;
    evo_fill_attrs fill;
    evo_quant_attrs quant;
    evo_qbinary_attrs qbinary;
} evo_attrs;

#endif /* EVO_ATTRS_H */
