/*
 * tflite_schema.c - the per-table field kinds and the operator names of
 * tflite_schema.h (the subset evo writes and reads).
 */
#include "tflite/tflite_schema.h"

#include <stddef.h>

const char *tfl_options_fields(int options_type)
{
    switch (options_type) {
    case TFL_OPT_CONV_2D: return "biibii";          /* padding, stride w/h, act, dilation w/h */
    case TFL_OPT_DEPTHWISE_CONV_2D: return "biiibii"; /* ... depth_multiplier before act */
    case TFL_OPT_POOL_2D: return "biiiib";          /* padding, stride w/h, filter w/h, act */
    case TFL_OPT_FULLY_CONNECTED: return "bbbb";    /* act, weights_format, keep_num_dims, asymmetric */
    case TFL_OPT_CONCATENATION: return "ib";        /* axis, act */
    case TFL_OPT_ADD:
    case TFL_OPT_SUB:
    case TFL_OPT_DIV:
    case TFL_OPT_MUL: return "b";                   /* act */
    case TFL_OPT_SOFTMAX: return "f";               /* beta */
    case TFL_OPT_REDUCER: return "b";               /* keep_dims */
    case TFL_OPT_STRIDED_SLICE: return "iiiii";     /* begin, end, ellipsis, new_axis, shrink masks */
    case TFL_OPT_RESIZE_NEAREST_NEIGHBOR: return "bb"; /* align_corners, half_pixel_centers */
    case TFL_OPT_RESIZE_BILINEAR: return "iibb";  /* new_height, new_width (deprecated), as above */
    case TFL_OPT_LEAKY_RELU: return "f";            /* alpha */
    case TFL_OPT_SPACE_TO_DEPTH:
    case TFL_OPT_DEPTH_TO_SPACE: return "i";       /* block_size */
    case TFL_OPT_RESHAPE:                           /* new_shape (a vector; the shape input says it) */
    case TFL_OPT_PAD:
    case TFL_OPT_PADV2:
    case TFL_OPT_TRANSPOSE:
    case TFL_OPT_DEQUANTIZE:
    case TFL_OPT_QUANTIZE:
    case TFL_OPT_HARD_SWISH: return "";
    default: return NULL;
    }
}

const char *tfl_op_name(int builtin_code)
{
    switch (builtin_code) {
    case TFL_OP_ADD: return "ADD";
    case TFL_OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case TFL_OP_CONCATENATION: return "CONCATENATION";
    case TFL_OP_CONV_2D: return "CONV_2D";
    case TFL_OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case TFL_OP_DEPTH_TO_SPACE: return "DEPTH_TO_SPACE";
    case TFL_OP_DEQUANTIZE: return "DEQUANTIZE";
    case TFL_OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case TFL_OP_LOGISTIC: return "LOGISTIC";
    case TFL_OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case TFL_OP_MUL: return "MUL";
    case TFL_OP_RELU: return "RELU";
    case TFL_OP_RELU6: return "RELU6";
    case TFL_OP_RESHAPE: return "RESHAPE";
    case TFL_OP_RESIZE_BILINEAR: return "RESIZE_BILINEAR";
    case TFL_OP_SOFTMAX: return "SOFTMAX";
    case TFL_OP_SPACE_TO_DEPTH: return "SPACE_TO_DEPTH";
    case TFL_OP_DIV: return "DIV";
    case TFL_OP_TANH: return "TANH";
    case TFL_OP_PAD: return "PAD";
    case TFL_OP_TRANSPOSE: return "TRANSPOSE";
    case TFL_OP_MEAN: return "MEAN";
    case TFL_OP_SUB: return "SUB";
    case TFL_OP_STRIDED_SLICE: return "STRIDED_SLICE";
    case TFL_OP_PADV2: return "PADV2";
    case TFL_OP_RESIZE_NEAREST_NEIGHBOR: return "RESIZE_NEAREST_NEIGHBOR";
    case TFL_OP_LEAKY_RELU: return "LEAKY_RELU";
    case TFL_OP_QUANTIZE: return "QUANTIZE";
    case TFL_OP_HARD_SWISH: return "HARD_SWISH";
    default: return "?";
    }
}
