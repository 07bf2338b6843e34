#!/usr/bin/python3
"""Writes the ONNX fuzz seed corpus into a directory (the build runs it:
tests/fuzz/CMakeLists.txt; the seeds are generated, never kept in the tree).

Copies a few small models from Debian's libonnx-testdata, builds a few more
with the onnx package (ops YOLO and ResNet exports use), and writes some
malformed variants. Output is deterministic; run with /usr/bin/python3:

    /usr/bin/python3 tests/fuzz/make_onnx_seeds.py OUT_DIR
"""
import os
import shutil
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = None  # set by main()
TESTDATA = "/usr/share/libonnx-testdata/data"
COPIES = [
    "node/test_conv_with_strides_padding",
    "node/test_constant",
    "node/test_maxpool_2d_pads",
    "node/test_concat_2d_axis_0",
    "node/test_reshape_reordered_all_dims",
    "node/test_resize_upsample_scales_nearest",
    "node/test_slice",
    "node/test_transpose_default",
    "node/test_gemm_default_scalar_bias",
    "node/test_split_equal_parts_1d",
    "node/test_softmax_axis_1",
    "pytorch-converted/test_Conv2d",
    "pytorch-converted/test_PReLU_2d_multiparam",
    "pytorch-converted/test_Linear",
    "node/test_qlinearconv",
    "node/test_qlinearmatmul_3D",
    "node/test_convinteger_with_padding",
    "node/test_matmulinteger",
    "node/test_quantizelinear_axis",
    "node/test_dequantizelinear_axis",
    "node/test_dynamicquantizelinear",
]


def rng_tensor(name, shape, seed):
    r = np.random.default_rng(seed)
    return numpy_helper.from_array(r.standard_normal(shape).astype(np.float32), name)


def save(model, name):
    data = model.SerializeToString()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return data


def mini_cnn():
    w = rng_tensor("W", (4, 3, 3, 3), 1)
    b = helper.make_tensor("B", TensorProto.FLOAT, [4], [0.1, -0.2, 0.3, 0.0])  # float_data
    shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
    fc = rng_tensor("FC", (4 * 4 * 4, 5), 2)
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv0", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "FC"], ["m"]),
        helper.make_node("Softmax", ["m"], ["y"], axis=1),
    ]
    g = helper.make_graph(nodes, "mini_cnn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [w, b, shape, fc])
    return helper.make_model(g, producer_name="evo-seeds", opset_imports=[helper.make_opsetid("", 13)])


def yolo_like():
    w = rng_tensor("W", (2, 2, 1, 1), 3)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    starts = numpy_helper.from_array(np.array([0], dtype=np.int64), "starts")
    ends = numpy_helper.from_array(np.array([2], dtype=np.int64), "ends")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    split = numpy_helper.from_array(np.array([2, 2], dtype=np.int64), "split")
    nodes = [
        helper.make_node("Conv", ["images", "W"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Mul", ["c", "s"], ["silu"]),
        helper.make_node("Resize", ["silu", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("MaxPool", ["up"], ["down"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Concat", ["down", "silu"], ["cat"], axis=1),
        helper.make_node("Split", ["cat", "split"], ["a", "b"], axis=1, name=""),
        helper.make_node("Slice", ["a", "starts", "ends", "axes"], ["sl"]),
        helper.make_node("Transpose", ["sl"], ["443"], perm=[0, 2, 3, 1]),
    ]
    g = helper.make_graph(nodes, "yolo_like",
                          [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                         ["batch", 2, 4, 4])],
                          [helper.make_tensor_value_info("443", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("b", TensorProto.FLOAT, None)],
                          [w, scales, starts, ends, axes, split])
    return helper.make_model(g, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 17)])


def yolo_head():
    """YOLOv5's detect head: Conv -> Reshape -> Transpose -> Sigmoid (passes fuse_layout, fuse_act),
    then the box decoding: Split -> Mul on xy and wh -> Concat (pass fuse_update)."""
    w = rng_tensor("W", (15, 8, 1, 1), 5)
    b = rng_tensor("B", (15,), 6)
    shape = numpy_helper.from_array(np.array([1, 3, 5, 4, 4], dtype=np.int64), "shape")
    sizes = numpy_helper.from_array(np.array([2, 2, 1], dtype=np.int64), "sizes")
    k = numpy_helper.from_array(np.array([2.0, 3.0], dtype=np.float32), "k")
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Reshape", ["c", "shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 1, 3, 4, 2]),
        helper.make_node("Sigmoid", ["t"], ["s"]),
        helper.make_node("Split", ["s", "sizes"], ["xy", "wh", "conf"], axis=4),
        helper.make_node("Mul", ["xy", "k"], ["xy2"]),
        helper.make_node("Mul", ["wh", "wh"], ["wh2"]),
        helper.make_node("Concat", ["xy2", "wh2", "conf"], ["y"], axis=4),
    ]
    g = helper.make_graph(nodes, "yolo_head",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, b, shape, sizes, k])
    return helper.make_model(g, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 17)])


def shape_chain():
    idx = numpy_helper.from_array(np.array(0, dtype=np.int64), "idx")
    nodes = [
        helper.make_node("Constant", [], ["k"], value=helper.make_tensor(
            "k", TensorProto.INT64, [1], [-1])),
        helper.make_node("Constant", [], ["h"], value=helper.make_tensor(
            "h", TensorProto.FLOAT16, [2], np.array([1.0, 2.0], dtype=np.float16).view(np.uint16))),
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Gather", ["shp", "idx"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "k"], ["newshape"], axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["flat"]),
        helper.make_node("Reshape", ["zeros3", "newshape"], ["zeros"]),
        helper.make_node("ConstantOfShape", ["shp"], ["zeros3"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])),
        helper.make_node("Add", ["flat", "zeros"], ["y"]),
        helper.make_node("Cast", ["h"], ["hf"], to=TensorProto.FLOAT),
    ]
    axes0 = numpy_helper.from_array(np.array([0], dtype=np.int64), "axes0")
    g = helper.make_graph(nodes, "shape_chain",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("hf", TensorProto.FLOAT, None)],
                          [idx, axes0])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def old_style():
    # PyTorch 0.3 style: IR 3, opset 6, initializers also listed as inputs.
    w = rng_tensor("1", (3, 2), 4)
    nodes = [helper.make_node("Gemm", ["0", "1"], ["2"], transB=0, alpha=1.0, beta=1.0),
             helper.make_node("LeakyRelu", ["2"], ["3"], alpha=0.1)]
    g = helper.make_graph(nodes, "torch-jit-export",
                          [helper.make_tensor_value_info("0", TensorProto.FLOAT, [4, 3]),
                           helper.make_tensor_value_info("1", TensorProto.FLOAT, [3, 2])],
                          [helper.make_tensor_value_info("3", TensorProto.FLOAT, [4, 2])], [w])
    m = helper.make_model(g, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 6)])
    m.ir_version = 3
    return m


def ms_quantized():
    # ONNX Runtime's com.microsoft quantized ops in a chain, uint8 between Q and DQ.
    def qp(name, scale, zp):
        return [helper.make_tensor(name + "_s", TensorProto.FLOAT, [], [scale]),
                helper.make_tensor(name + "_z", TensorProto.UINT8, [], [zp])]

    def q(name):
        return [name + "_s", name + "_z"]

    ms = "com.microsoft"
    r = np.random.default_rng(11)
    inits = qp("a", 0.02, 128) + qp("b", 1 / 256, 0) + qp("c", 0.03, 100) + qp("d", 0.05, 120)
    inits += [helper.make_tensor("w", TensorProto.INT8, [3, 8], r.integers(-100, 100, 24).tolist()),
              helper.make_tensor("w_s", TensorProto.FLOAT, [3], [0.01, 0.02, 0.015]),
              helper.make_tensor("w_z", TensorProto.INT8, [3], [0, 0, 0]),
              helper.make_tensor("bias", TensorProto.INT32, [3], [100, -50, 7])]
    nodes = [
        helper.make_node("QuantizeLinear", ["x"] + q("a"), ["xq"]),
        helper.make_node("QLinearSigmoid", ["xq"] + q("a") + q("b"), ["s"], domain=ms),
        helper.make_node("QLinearLeakyRelu", ["xq"] + q("a") + q("c"), ["l"], domain=ms, alpha=0.1),
        helper.make_node("QLinearAdd", ["s"] + q("b") + ["l"] + q("c") + q("d"), ["ad"], domain=ms),
        helper.make_node("QLinearMul", ["ad"] + q("d") + ["xq"] + q("a") + q("c"), ["mu"], domain=ms),
        helper.make_node("QLinearConcat", q("d") + ["mu"] + q("c") + ["ad"] + q("d"), ["cat"], domain=ms, axis=1),
        helper.make_node("QLinearAveragePool", ["cat"] + q("d") + q("d"), ["ap"], domain=ms,
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("QLinearGlobalAveragePool", ["ap"] + q("d") + q("c"), ["gp"], domain=ms, channels_last=0),
        helper.make_node("Flatten", ["gp"], ["fl"]),
        helper.make_node("QGemm", ["fl"] + q("c") + ["w", "w_s", "w_z", "bias"] + q("a"), ["y8"], domain=ms,
                         transB=1),
        helper.make_node("DequantizeLinear", ["y8"] + q("a"), ["y"]),
    ]
    g = helper.make_graph(nodes, "ms_quantized", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(ms, 1)])
    m.ir_version = 8
    return m


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(num, wire, payload):
    tag = varint((num << 3) | wire)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def malformed(base):
    def wrap(graph):
        return field(1, 0, varint(8)) + field(8, 2, field(2, 0, varint(13))) + field(7, 2, graph)

    huge = field(5, 2, field(1, 0, varint(1 << 31)) + field(2, 0, varint(1)) + field(8, 2, b"w"))
    dup = (field(1, 2, field(1, 2, b"x") + field(2, 2, b"y") + field(4, 2, b"Relu")) +
           field(1, 2, field(1, 2, b"x") + field(2, 2, b"y") + field(4, 2, b"Sigmoid")))
    return {
        "bad_truncated.onnx": base[: len(base) * 2 // 3],
        "bad_wire_type.onnx": field(1, 2, b"8") + base,
        "bad_overlong_varint.onnx": b"\x08" + b"\xff" * 10 + b"\x01",
        "bad_huge_dims.onnx": wrap(huge),
        "bad_duplicate_producer.onnx": wrap(dup),
        "bad_group.onnx": b"\x08\x08\x0b\x0c" + base[:16],
    }


def qlinear_opset12():
    # An int8 graph at opset 12: per-channel QLinearConv, QLinearMatMul and a
    # Split with its split attribute (the QDQ export writes it at opset 13).
    r = np.random.default_rng(7)
    c = numpy_helper.from_array
    inits = [c(np.float32(0.02), "xs"), c(np.uint8(128), "xz"),
             c(r.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8), "w"),
             c(np.full(4, 0.01, np.float32), "ws"), c(np.zeros(4, np.int8), "wz"),
             c(np.float32(0.05), "ys"), c(np.uint8(120), "yz"), c(np.arange(4, dtype=np.int32), "b"),
             c(r.integers(-127, 128, (5, 3)).astype(np.int8), "m"), c(np.float32(0.01), "ms"),
             c(np.int8(0), "mz")]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["yq"],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Split", ["yq"], ["a", "bq"], axis=1, split=[1, 3]),
        helper.make_node("QLinearMatMul", ["bq", "ys", "yz", "m", "ms", "mz", "ys", "yz"], ["mq"]),
        helper.make_node("DequantizeLinear", ["mq", "ys", "yz"], ["y"]),
    ]
    g = helper.make_graph(nodes, "qlinear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)])


def main():
    global OUT
    if len(sys.argv) != 2:
        sys.exit("usage: make_onnx_seeds.py OUT_DIR")
    OUT = sys.argv[1]
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for rel in COPIES:
        src = os.path.join(TESTDATA, rel, "model.onnx")
        shutil.copyfile(src, os.path.join(OUT, rel.replace("/", "_") + ".onnx"))
    base = save(mini_cnn(), "gen_mini_cnn.onnx")
    save(yolo_like(), "gen_yolo_like.onnx")
    save(yolo_head(), "gen_yolo_head.onnx")
    save(shape_chain(), "gen_shape_chain.onnx")
    save(old_style(), "gen_old_style.onnx")
    save(ms_quantized(), "gen_ms_quantized.onnx")
    save(qlinear_opset12(), "gen_qlinear_opset12.onnx")
    for name, data in malformed(base).items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
