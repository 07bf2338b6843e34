/*
 * onnx_fields.h - the protobuf field numbers of onnx.proto that the
 * importer (onnx_import.c, onnx_node.c, onnx_tensor.c) reads and the writer
 * (onnx_write*.c) writes: one table, so the two cannot drift.
 */
#ifndef EVO_ONNX_FIELDS_H
#define EVO_ONNX_FIELDS_H

enum {
    /* ModelProto */
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER_NAME = 2,
    MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8,
    /* OperatorSetIdProto */
    OPSET_DOMAIN = 1,
    OPSET_VERSION = 2,
    /* GraphProto */
    GRAPH_NODE = 1,
    GRAPH_NAME = 2,
    GRAPH_INITIALIZER = 5,
    GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    GRAPH_SPARSE_INITIALIZER = 15,
    /* NodeProto */
    NODE_INPUT = 1,
    NODE_OUTPUT = 2,
    NODE_NAME = 3,
    NODE_OP_TYPE = 4,
    NODE_ATTRIBUTE = 5,
    NODE_DOMAIN = 7,
    /* AttributeProto */
    ATTR_NAME = 1,
    ATTR_F = 2,
    ATTR_I = 3,
    ATTR_S = 4,
    ATTR_T = 5,
    ATTR_G = 6,
    ATTR_FLOATS = 7,
    ATTR_INTS = 8,
    ATTR_STRINGS = 9,
    ATTR_TENSORS = 10,
    ATTR_GRAPHS = 11,
    ATTR_TP = 14,
    ATTR_TYPE_PROTOS = 15,
    ATTR_TYPE = 20,
    ATTR_SPARSE_TENSOR = 22,
    ATTR_SPARSE_TENSORS = 23,
    /* TensorProto */
    TP_DIMS = 1,
    TP_DATA_TYPE = 2,
    TP_SEGMENT = 3,
    TP_FLOAT_DATA = 4,
    TP_INT32_DATA = 5,
    TP_STRING_DATA = 6,
    TP_INT64_DATA = 7,
    TP_NAME = 8,
    TP_RAW_DATA = 9,
    TP_DOUBLE_DATA = 10,
    TP_UINT64_DATA = 11,
    TP_EXTERNAL_DATA = 13,
    TP_DATA_LOCATION = 14,
    /* ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto(.Dimension) */
    VI_NAME = 1,
    VI_TYPE = 2,
    TYPE_TENSOR = 1,
    TENSOR_TYPE_ELEM = 1,
    TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2,
};

#endif /* EVO_ONNX_FIELDS_H */
