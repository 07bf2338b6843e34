/*
 * tflite_schema.h - the numbers of TensorFlow Lite's model format (schema
 * version 3, file identifier "TFL3") that evo writes and reads: tensor
 * types, builtin operator codes, the BuiltinOptions union tags, and the
 * field ids (vtable slots) of each table, as schema.fbs declares them.
 * Only the subset evo uses is listed.
 */
#ifndef EVO_TFLITE_SCHEMA_H
#define EVO_TFLITE_SCHEMA_H

#define TFL_SCHEMA_VERSION 3
#define TFL_FILE_IDENTIFIER "TFL3"

/* TensorType */
enum {
    TFL_FLOAT32 = 0,
    TFL_INT32 = 2,
    TFL_UINT8 = 3,
    TFL_INT64 = 4,
    TFL_INT8 = 9,
};

/* BuiltinOperator */
enum {
    TFL_OP_ADD = 0,
    TFL_OP_AVERAGE_POOL_2D = 1,
    TFL_OP_CONCATENATION = 2,
    TFL_OP_CONV_2D = 3,
    TFL_OP_DEPTHWISE_CONV_2D = 4,
    TFL_OP_DEPTH_TO_SPACE = 5,
    TFL_OP_DEQUANTIZE = 6,
    TFL_OP_FULLY_CONNECTED = 9,
    TFL_OP_LOGISTIC = 14,
    TFL_OP_MAX_POOL_2D = 17,
    TFL_OP_MUL = 18,
    TFL_OP_RELU = 19,
    TFL_OP_RELU6 = 21,
    TFL_OP_RESHAPE = 22,
    TFL_OP_RESIZE_BILINEAR = 23,
    TFL_OP_SOFTMAX = 25,
    TFL_OP_SPACE_TO_DEPTH = 26,
    TFL_OP_TANH = 28,
    TFL_OP_PAD = 34,
    TFL_OP_TRANSPOSE = 39,
    TFL_OP_MEAN = 40,
    TFL_OP_SUB = 41,
    TFL_OP_DIV = 42,
    TFL_OP_STRIDED_SLICE = 45,
    TFL_OP_PADV2 = 60,
    TFL_OP_RESIZE_NEAREST_NEIGHBOR = 97,
    TFL_OP_LEAKY_RELU = 98,
    TFL_OP_QUANTIZE = 114,
    TFL_OP_HARD_SWISH = 117,
};

/* BuiltinOptions union tags */
enum {
    TFL_OPT_NONE = 0,
    TFL_OPT_CONV_2D = 1,
    TFL_OPT_DEPTHWISE_CONV_2D = 2,
    TFL_OPT_POOL_2D = 5,
    TFL_OPT_FULLY_CONNECTED = 8,
    TFL_OPT_SOFTMAX = 9,
    TFL_OPT_CONCATENATION = 10,
    TFL_OPT_ADD = 11,
    TFL_OPT_RESIZE_BILINEAR = 15,
    TFL_OPT_RESHAPE = 17,
    TFL_OPT_SPACE_TO_DEPTH = 19,
    TFL_OPT_MUL = 21,
    TFL_OPT_PAD = 22,
    TFL_OPT_TRANSPOSE = 26,
    TFL_OPT_REDUCER = 27,
    TFL_OPT_SUB = 28,
    TFL_OPT_DIV = 29,
    TFL_OPT_STRIDED_SLICE = 32,
    TFL_OPT_DEQUANTIZE = 38,
    TFL_OPT_PADV2 = 43,
    TFL_OPT_RESIZE_NEAREST_NEIGHBOR = 74,
    TFL_OPT_LEAKY_RELU = 75,
    TFL_OPT_QUANTIZE = 89,
    TFL_OPT_HARD_SWISH = 91,
    TFL_OPT_DEPTH_TO_SPACE = 94,
};

/* Padding, ActivationFunctionType */
enum { TFL_PAD_SAME = 0, TFL_PAD_VALID = 1 };
enum { TFL_ACT_NONE = 0, TFL_ACT_RELU = 1, TFL_ACT_RELU_N1_TO_1 = 2, TFL_ACT_RELU6 = 3 };

/* Field ids (vtable slots). */
enum { TFL_MODEL_VERSION = 0, TFL_MODEL_OPCODES = 1, TFL_MODEL_SUBGRAPHS = 2,
       TFL_MODEL_DESCRIPTION = 3, TFL_MODEL_BUFFERS = 4 };
enum { TFL_SUBGRAPH_TENSORS = 0, TFL_SUBGRAPH_INPUTS = 1, TFL_SUBGRAPH_OUTPUTS = 2,
       TFL_SUBGRAPH_OPERATORS = 3, TFL_SUBGRAPH_NAME = 4 };
enum { TFL_BUFFER_DATA = 0 };
enum { TFL_OPCODE_DEPRECATED_BUILTIN = 0, TFL_OPCODE_CUSTOM = 1, TFL_OPCODE_VERSION = 2,
       TFL_OPCODE_BUILTIN = 3 };
enum { TFL_OPERATOR_OPCODE_INDEX = 0, TFL_OPERATOR_INPUTS = 1, TFL_OPERATOR_OUTPUTS = 2,
       TFL_OPERATOR_OPTIONS_TYPE = 3, TFL_OPERATOR_OPTIONS = 4 };
enum { TFL_TENSOR_SHAPE = 0, TFL_TENSOR_TYPE = 1, TFL_TENSOR_BUFFER = 2, TFL_TENSOR_NAME = 3,
       TFL_TENSOR_QUANTIZATION = 4 };
enum { TFL_QUANT_MIN = 0, TFL_QUANT_MAX = 1, TFL_QUANT_SCALE = 2, TFL_QUANT_ZERO_POINT = 3,
       TFL_QUANT_DETAILS_TYPE = 4, TFL_QUANT_DETAILS = 5, TFL_QUANT_DIMENSION = 6 };

/*
 * The scalar fields of each options table evo uses, slot by slot: 'b' a
 * byte or bool, 'i' an int32, 'f' a float32, '-' a field evo neither
 * writes nor reads (a vector). Shared by the writer and the reader.
 */
#define TFL_MAX_OPT_FIELDS 8
const char *tfl_options_fields(int options_type);
const char *tfl_op_name(int builtin_code);

#endif /* EVO_TFLITE_SCHEMA_H */
