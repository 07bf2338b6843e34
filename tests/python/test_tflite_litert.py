"""evo export --tflite: LiteRT (ai-edge-litert) runs the export of evo's int8 graphs
and agrees with `evo run` on the same .evo.

Small float ONNX models (conv+relu, depthwise, residual add (int8 ADD, with a
fused ReLU), squeeze-excite (int8 MUL by a per-channel gate), concat,
maxpool, nearest resize, fully connected, and table activations) are
built with the onnx package, quantized by `evo quantize --act-dtype int8`
on random-noise calibration images, exported with `evo export M.evo
--tflite M.tflite`, and run on the same random input by `evo run` (NCHW)
and by LiteRT (NHWC, transposed) with three kernel sets: the reference
kernels (BUILTIN_REF), the optimized builtin kernels
(BUILTIN_WITHOUT_DEFAULT_DELEGATES) and the default (XNNPACK delegate).
Outputs are float (DEQUANTIZE at the border), so differences are counted
in steps of the output's scale: integer-only cases must be bit-exact with
the reference kernels and within MAX_STEPS with the others (input values
on a rounding tie are nudged first: TFLite's QUANTIZE rounds them away
from zero, evo's QuantizeLinear to even); the table activations (evo: one
256-entry table; TFLite: LOGISTIC then MUL, each rounding) are measured
and held to TABLE_MAX_STEPS. A model with an op outside the export's table
must be refused with the node's name and a non-zero exit. Imported models
(evo's QDQ export read back, and QOperator models with com.microsoft
QLinearAdd, QLinearMul and QLinearConcat) keep ONNX Runtime's arithmetic on
the CPU and must be bit-exact with the reference kernels simulated on an
NPU (`evo run --target`).

With MODELS_DIR (models/out), whole networks go the same way instead (see
check_real_models): ResNet18, MobileNetV2 and ShuffleNetV2 must be
bit-exact with the reference kernels (up to their float tail); the
float exports of FLOAT_MODELS must match PyTorch's saved outputs within
FLOAT_REL of the output range, and so must YOLOv5n's exported from a
.evo compiled with default passes (its stem as SPACE_TO_DEPTH).

With SHARED_DIR (../shared/data) too, YOLOX-nano, PicoDet-S and NanoDet-m quantized for
an NPU target must be bit-exact with the reference kernels as well (NanoDet-m's bilinear
Resizes stay float, RESIZE_BILINEAR between DEQUANTIZE and QUANTIZE), and NanoDet-m's float
export must agree with
`evo run` within FLOAT_REL.

usage: test_tflite_litert.py [--part local|shared] EVO WORK_DIR [MODELS_DIR [SHARED_DIR]]
Exit 77 (skipped) when ai-edge-litert is not installed, and for --part shared
(only the pretrained detectors; parts_util.py) without SHARED_DIR.
"""
import os
import subprocess
import sys

import numpy as np

try:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
except ImportError:
    print("SKIP: ai-edge-litert is not installed (pip install -r requirements.txt)")
    sys.exit(77)
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parts_util as pu  # noqa: E402

# LiteRT's optimized and XNNPACK kernels round some products differently from the reference
# (which must match exactly): one step per rounding, two where a step-off conv output feeds an
# ADD whose own rescale rounds the other way too.
MAX_STEPS = 2
TABLE_MAX_STEPS = 3
NPU_TARGET = "ethos-u55-256"
FLOAT_REL = 1e-4  # float exports: float rounding, relative to the output's range
H = W = 16
# (model, bit-exact with the reference kernels): EfficientNet's SiLU and MobileNetV3's
# HardSwish and HardSigmoid tables are not
REAL_MODELS = [("resnet18", True), ("mobilenet_v2", True), ("shufflenet_v2_x1_0", True),
               ("efficientnet_b0", False), ("mobilenet_v3_large", False), ("yolov5n", False), ("yolov8n", False)]
REAL_EXACT_REL = 1e-5
# quantized again for an NPU target (--target): TFLite's tables on the NPU nodes make them exact too
NPU_REAL_MODELS = ["efficientnet_b0", "mobilenet_v3_large", "yolov5s", "yolov8n"]
# ../shared/data's detectors (name, preset, input range): random input of the preprocessed range
SHARED_DETECTORS = [("yolox_nano", "yolox", 0.0, 255.0), ("picodet_s_416_coco", "picodet", -2.0, 2.0),
                    ("nanodet_m_416", "nanodet", -2.0, 2.0)]
# networks with a node evo cannot write as TFLite: the export must refuse them by name (a listed
# network that exports is a failure too, so the list stays true)
NO_TFLITE_FORM = {}
FLOAT_MODELS = ["resnet18", "mobilenet_v2", "mobilenet_v3_large", "yolov5n", "yolov8n"]  # the fp32 tail (pooling, classifier) in float arithmetic
# float exports of a .evo compiled with default passes: YOLOv5n's 6x6 stem is a SpaceToDepth and a
# 3x3 conv there (s2d_conv), which must export as SPACE_TO_DEPTH and agree as well
FLOAT_COMPILED = ["yolov5n"]
# shared detectors exported as float and run by LiteRT against evo run (NanoDet-m: RESIZE_BILINEAR)
FLOAT_SHARED = ["nanodet_m_416"]
RESOLVERS = [("ref", OpResolverType.BUILTIN_REF),
             ("optimized", OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
             ("xnnpack", OpResolverType.AUTO)]


class Net:
    """A float ONNX graph under construction, NCHW input 'x' [1, 3, H, W]."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}{self.count}"

    def const(self, arr):
        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), n))
        return n

    def const_i64(self, arr):
        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.int64), n))
        return n

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k=3, stride=1, pad=1, group=1):
        w = self.rng.normal(0, (2.0 / (cin // group * k * k)) ** 0.5, (cout, cin // group, k, k))
        b = self.rng.normal(0, 0.1, cout)
        return self.op("Conv", [x, self.const(w), self.const(b)], kernel_shape=[k, k],
                       strides=[stride, stride], pads=[pad] * 4, group=group)

    def model(self, y, out_shape, path):
        g = helper.make_graph(self.nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, H, W])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.save(m, path)


def build_models(work):
    models = {}

    def add(name, fn, table=False, args=()):
        n = Net(len(models))
        y, shape = fn(n)
        path = os.path.join(work, name + ".onnx")
        n.model(y, shape, path)
        models[name] = (path, table, list(args) or ["--act-dtype", "int8"])

    def conv_relu(n):
        a = n.op("Relu", [n.conv("x", 3, 8)])
        return n.op("Relu", [n.conv(a, 8, 8, stride=2)]), [1, 8, H // 2, W // 2]

    def depthwise(n):
        a = n.op("Relu", [n.conv("x", 3, 16, k=1, pad=0)])
        b = n.op("Clip", [n.conv(a, 16, 16, group=16), n.const(0.0), n.const(6.0)])
        c = n.conv(b, 16, 32, k=3, stride=2, group=16)  # depth multiplier 2, explicit pad
        return n.conv(c, 32, 8, k=1, pad=0), [1, 8, H // 2, W // 2]

    def residual(n):
        a = n.op("Relu", [n.conv("x", 3, 8)])
        b = n.conv(n.op("Relu", [n.conv(a, 8, 8)]), 8, 8)
        return n.conv(n.op("Add", [a, b]), 8, 4, k=1, pad=0), [1, 4, H, W]

    def residual_relu(n):
        """ResNet's Relu(block(a) + a): an int8 ADD with the ReLU fused."""
        a = n.op("Relu", [n.conv("x", 3, 8)])
        b = n.conv(n.op("Relu", [n.conv(a, 8, 8)]), 8, 8)
        return n.conv(n.op("Relu", [n.op("Add", [b, a])]), 8, 4, k=1, pad=0), [1, 4, H, W]

    def se_mul(n, gate="Relu"):
        """Squeeze-excite: a * gate(conv(relu(conv(GlobalAveragePool(a))))), an int8 MUL by [1, 8, 1, 1]."""
        a = n.op("Relu", [n.conv("x", 3, 8)])
        p = n.op("GlobalAveragePool", [a])
        s = n.op(gate, [n.conv(n.op("Relu", [n.conv(p, 8, 4, k=1, pad=0)]), 4, 8, k=1, pad=0)])
        return n.conv(n.op("Mul", [a, s]), 8, 8), [1, 8, H, W]

    def concat(n):
        a = n.op("Relu", [n.conv("x", 3, 8)])
        b = n.op("Relu", [n.conv("x", 3, 4, k=1, pad=0)])
        return n.conv(n.op("Concat", [a, b], axis=1), 12, 6), [1, 6, H, W]

    def maxpool(n):
        a = n.op("Relu", [n.conv("x", 3, 8)])
        b = n.op("MaxPool", [a], kernel_shape=[2, 2], strides=[2, 2])
        c = n.op("MaxPool", [b], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
        return n.conv(c, 8, 8), [1, 8, H // 2, W // 2]

    def resize(n):
        a = n.op("Relu", [n.conv("x", 3, 8, stride=2)])
        b = n.op("Resize", [a, "", n.const([1, 1, 2, 2])], mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return n.conv(n.op("Concat", [b, n.op("Relu", [n.conv("x", 3, 8)])], axis=1), 16, 8), [1, 8, H, W]

    def fc(n):
        a = n.op("Relu", [n.conv("x", 3, 8, stride=2)])
        f = n.op("Flatten", [a], axis=1)
        k = 8 * (H // 2) * (W // 2)
        b = n.op("Relu", [n.op("MatMul", [f, n.const(n.rng.normal(0, (2.0 / k) ** 0.5, (k, 32)))])])
        return n.op("MatMul", [b, n.const(n.rng.normal(0, 0.25, (32, 10)))]), [1, 10]

    def shuffle(n):
        """ShuffleNet's channel shuffle and split: Concat, Reshape to 5-D, Transpose, Reshape, Slice."""
        a = n.op("Relu", [n.conv("x", 3, 8)])
        b = n.op("Relu", [n.conv("x", 3, 8, k=1, pad=0)])
        c = n.op("Concat", [a, b], axis=1)
        r = n.op("Reshape", [c, n.const_i64([1, 2, 8, H, W])])
        t = n.op("Transpose", [r], perm=[0, 2, 1, 3, 4])
        f = n.op("Reshape", [t, n.const_i64([1, 16, H, W])])
        lo = n.op("Slice", [f, n.const_i64([0]), n.const_i64([8]), n.const_i64([1])])
        hi = n.op("Slice", [f, n.const_i64([8]), n.const_i64([16]), n.const_i64([1])])
        d = n.op("Relu", [n.conv(hi, 8, 8, group=8)])
        return n.conv(n.op("Concat", [lo, d], axis=1), 16, 8), [1, 8, H, W]

    def silu(n):
        a = n.conv("x", 3, 8)
        return n.conv(n.op("Mul", [a, n.op("Sigmoid", [a])]), 8, 8), [1, 8, H, W]

    def hardswish(n):
        a = n.op("HardSwish", [n.conv("x", 3, 8)])
        b = n.op("LeakyRelu", [n.conv(a, 8, 8)], alpha=0.1)
        return n.conv(b, 8, 8), [1, 8, H, W]

    def sigmoid_tanh(n):
        a = n.op("Sigmoid", [n.conv("x", 3, 8)])
        return n.conv(n.op("Tanh", [n.conv(a, 8, 8)]), 8, 8), [1, 8, H, W]

    for name, fn in [("conv_relu", conv_relu), ("depthwise", depthwise), ("residual", residual),
                     ("residual_relu", residual_relu), ("se_mul", se_mul), ("concat", concat), ("maxpool", maxpool), ("resize", resize), ("fc", fc), ("shuffle", shuffle)]:
        add(name, fn)
    for name, fn in [("silu", silu), ("hardswish_leaky", hardswish), ("sigmoid_tanh", sigmoid_tanh),
                     ("se_mul_sigmoid", lambda n: se_mul(n, "Sigmoid"))]:
        add(name, fn, table=True)
    # one table activation as the int8 output itself (--int8-all): the difference at the activation
    for name, act in [("silu_at_output", "silu"), ("hardswish_at_output", "HardSwish"),
                      ("leaky_at_output", "LeakyRelu"), ("sigmoid_at_output", "Sigmoid"), ("tanh_at_output", "Tanh"),
                      ("hardsigmoid_at_output", "HardSigmoid")]:
        def at_output(n, act=act):
            a = n.conv("x", 3, 8)
            if act == "silu":
                return n.op("Mul", [a, n.op("Sigmoid", [a])]), [1, 8, H, W]
            attrs = {"LeakyRelu": {"alpha": 0.1}, "HardSigmoid": {"alpha": 1.0 / 6}}.get(act, {})
            return n.op(act, [a], **attrs), [1, 8, H, W]
        add(name, at_output, table=True, args=["--act-dtype", "int8", "--int8-all"])
    # evo quantize's default uint8 activations: int8 tensors with the zero point 128 lower, as exact
    for name, fn in [("conv_relu_uint8", conv_relu), ("depthwise_uint8", depthwise), ("shuffle_uint8", shuffle),
                     ("resize_uint8", resize), ("fc_uint8", fc), ("residual_relu_uint8", residual_relu),
                     ("se_mul_uint8", se_mul)]:
        add(name, fn, args=["--act-dtype", "uint8"])
    add("silu_uint8", silu, table=True, args=["--act-dtype", "uint8"])
    add("hardswish_leaky_uint8", hardswish, table=True, args=["--act-dtype", "uint8"])
    # every table case again quantized for an NPU target (evo quantize --target): the NPU nodes get
    # TFLite's tables, so they are bit-exact with the reference kernels like the integer-only cases
    for name in [k for k, v in models.items() if v[1]]:
        path, _, args = models[name]
        models[name + "_npu"] = (path, False, args + ["--target", NPU_TARGET])
    return models


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r.stderr


def output_scale(interp):
    """The scale of the int8 tensor the float output is dequantized from (through float ops after
    it); None for a model without one."""
    producer = {o: op for op in interp._get_ops_details() for o in op["outputs"]}
    scales = {t["index"]: t["quantization_parameters"]["scales"] for t in interp.get_tensor_details()}
    t = interp.get_output_details()[0]["index"]
    while t in producer:
        op = producer[t]
        if op["op_name"] == "DEQUANTIZE":
            return float(scales[op["inputs"][0]][0])
        t = op["inputs"][0]
    return None  # a float model


def litert_run(path, x, resolver):
    interp = Interpreter(model_path=path, experimental_op_resolver_type=resolver)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    xin = x.transpose(0, 2, 3, 1) if x.ndim == 4 else x
    if tuple(inp["shape"]) != xin.shape:
        raise RuntimeError(f"input shape {tuple(inp['shape'])}, expected {xin.shape}")
    interp.set_tensor(inp["index"], np.ascontiguousarray(xin))
    interp.invoke()
    y = interp.get_tensor(interp.get_output_details()[0]["index"])
    scale = output_scale(interp) if resolver == OpResolverType.BUILTIN_REF else None
    return (y.transpose(0, 3, 1, 2) if y.ndim == 4 else y), scale


def float_agreement(tfl_path, x, y_ref, label):
    """Failures of the float export tfl_path on input x under each kernel set: LiteRT's output more
    than FLOAT_REL of y_ref's range from y_ref."""
    failures = 0
    y_ref = np.asarray(y_ref, dtype=np.float64)
    for rname, resolver in RESOLVERS:
        y_tfl, _ = litert_run(tfl_path, x, resolver)
        rel = float(np.abs(y_tfl.reshape(y_ref.shape) - y_ref).max() / (y_ref.max() - y_ref.min()))
        ok = rel <= FLOAT_REL
        failures += not ok
        print(f"{label}: {rname:9s} {'ok  ' if ok else 'FAIL'} max|diff| {rel:.2e} of the range")
    return failures


def input_scale(path):
    interp = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]["index"]
    scales = {t["index"]: t["quantization_parameters"]["scales"] for t in interp.get_tensor_details()}
    quantizes = [op for op in interp._get_ops_details() if op["op_name"] == "QUANTIZE"]
    for op in quantizes:
        if op["inputs"][0] == inp:
            return np.float32(scales[op["outputs"][0]][0])
    if quantizes:  # layout ops first (YOLOX's space-to-depth slices): the first QUANTIZE reads the same values
        return np.float32(scales[quantizes[0]["outputs"][0]][0])
    raise RuntimeError("the input is not quantized by a QUANTIZE")


def check_float_small(evo, work, rng):
    """Float Conv with fused activations and residuals (ResNet's Relu(conv + r), YOLO's
    r + SiLU(conv)), exported from the ONNX file itself, against evo run: within FLOAT_REL."""
    n = Net(77)
    a = n.op("Relu", [n.conv("x", 3, 8)])
    b = n.op("Relu", [n.op("Add", [n.conv(a, 8, 8), a])])
    c = n.conv(b, 8, 8)
    d = n.op("Add", [b, n.op("Mul", [c, n.op("Sigmoid", [c])])])
    path = os.path.join(work, "fp32_residual.onnx")
    n.model(n.conv(d, 8, 4, k=1, pad=0), [1, 4, H, W], path)
    tfl_path = path[:-5] + ".tflite"
    summary = run([evo, "export", path, "--tflite", tfl_path]).strip().splitlines()[-1]
    x = rng.uniform(0, 1, (1, 3, H, W)).astype(np.float32)
    x_path, y_path = path[:-5] + ".x.npy", path[:-5] + ".y.npy"
    np.save(x_path, x)
    run([evo, "run", path, "--input", x_path, "--output", y_path])
    print(f"fp32_residual: {summary.split(': ', 1)[1]}")
    return float_agreement(tfl_path, x, np.load(y_path), "  fp32_residual vs evo run")


def nudge_ties(x, scale):
    """x with every value whose x / scale is a rounding tie moved one float step away from 0:
    TFLite's QUANTIZE rounds ties away from zero, ONNX's QuantizeLinear (evo) to even."""
    x = x.copy()
    q = x / scale
    tie = (q - np.floor(q)) == 0.5
    x[tie] = np.nextafter(x[tie], np.where(x[tie] > 0, np.inf, -np.inf).astype(np.float32))
    return x


def real_cases(models_dir, shared_dir, rng, part=None):
    """(name, onnx, input, quantize args, bit-exact with the reference kernels, kernel sets) of the
    whole networks: models/out's, then each table-activation network quantized for an NPU target
    (evo quantize --target: its NPU nodes get TFLite's tables) and the shared detectors likewise
    (the local and the shared part of parts_util.py)."""
    cases = []
    shared_cases = []
    for name, preset, lo, hi in SHARED_DETECTORS:
        src = os.path.join(shared_dir or "", "models", name + ".onnx")
        x = rng.uniform(lo, hi, (1, 3, 416, 416)).astype(np.float32)
        shared_cases.append((name + "_npu", src, x, ["--preset", preset, "--target", NPU_TARGET], True, RESOLVERS[:2]))
    if not pu.runs(part, "local"):
        return shared_cases
    for name, exact in REAL_MODELS:
        src = os.path.join(models_dir, name + "_op17.onnx")
        cases.append((name, src, os.path.join(models_dir, name + ".input.npy"), [], exact, RESOLVERS))
    for name in NPU_REAL_MODELS:
        src = os.path.join(models_dir, name + "_op17.onnx")
        cases.append((name + "_npu", src, os.path.join(models_dir, name + ".input.npy"),
                      ["--target", NPU_TARGET], True, RESOLVERS[:2]))
    return cases + (shared_cases if pu.runs(part, "shared") else [])


def inner_ties(path, x):
    """Rounding ties at the float -> int8 QUANTIZE ops past the input's (the float residual Adds'
    requantization), where TFLite rounds half away from zero and evo's QuantizeLinear to even."""
    interp = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], x.transpose(0, 2, 3, 1).copy() if x.ndim == 4 else x)
    interp.invoke()
    det = {t["index"]: t for t in interp.get_tensor_details()}
    ties = 0
    for op in interp._get_ops_details():
        i, o = op["inputs"][0] if op["inputs"].size else -1, op["outputs"][0]
        if op["op_name"] == "QUANTIZE" and i >= 0 and det[i]["dtype"] == np.float32 and i != inp["index"]:
            q = interp.get_tensor(i) / np.float32(det[o]["quantization_parameters"]["scales"][0])
            ties += int(((q - np.floor(q)) == 0.5).sum())
    return ties


def check_imported(evo, work, calib, small, rng):
    """An imported QDQ model (evo quantize --qdq, read back: QLinearConv with ONNX Runtime's float
    requantization, QLinearSigmoid/QLinearLeakyRelu with its float tables) is a step off TFLite on
    the CPU, and bit-exact simulated on an NPU (evo run --target: the NPU convs requantize in fixed
    point, the activations take TFLite's tables, as TFLite's kernels do)."""
    failures = 0
    # every node on the NPU (depthwise's multiplier-2 conv is not); the activations read back as
    # com.microsoft QLinearSigmoid and QLinearLeakyRelu (ONNX Runtime's float tables on the CPU), the
    # residual Add and squeeze-excite Mul as QLinearAdd and QLinearMul (its float arithmetic on the CPU)
    for name in ["conv_relu", "resize", "fc", "sigmoid_at_output", "leaky_at_output", "residual", "se_mul"]:
        onnx_path, _, args = small[name]
        qdq = os.path.join(work, name + "_qdq.onnx")
        tfl = os.path.join(work, name + "_qdq.tflite")
        run([evo, "quantize", onnx_path, "--calib", calib, "--int8-all", "-o", os.path.join(work, name + "_q.evo"),
             "--qdq", qdq] + args)
        run([evo, "export", qdq, "--tflite", tfl])
        x = nudge_ties(rng.uniform(0, 1, (1, 3, H, W)).astype(np.float32), input_scale(tfl))
        x_path = os.path.join(work, name + "_qdq.x.npy")
        np.save(x_path, x)
        y_tfl, scale = litert_run(tfl, x, OpResolverType.BUILTIN_REF)
        worst = {}
        for mode, extra in [("cpu", []), ("npu", ["--target", NPU_TARGET])]:
            y_path = os.path.join(work, f"{name}_qdq.{mode}.npy")
            run([evo, "run", qdq, "--input", x_path, "--output", y_path] + extra)
            worst[mode] = int(np.rint(np.abs(y_tfl.astype(np.float64) - np.load(y_path)) / scale).max())
        ok = worst["npu"] == 0 and worst["cpu"] <= (TABLE_MAX_STEPS if small[name][1] else MAX_STEPS)
        failures += not ok
        print(f"{name} imported QDQ: {'ok  ' if ok else 'FAIL'} CPU (ONNX Runtime's arithmetic) max {worst['cpu']} steps, "
              f"--target {NPU_TARGET} max {worst['npu']} steps from the reference kernels")
    return failures


def qoperator_model(path, op, scales, zps, extra=None, channels=8):
    """x (float [1, C, H, W]) -> a = QuantizeLinear(x), b = QuantizeLinear(x * c) (c per channel, of both
    signs) -> com.microsoft op(a, b) (a pool: op(a)) -> DequantizeLinear: an imported QOperator model,
    int8, with the scales chosen so that many results are rounding ties (ratios of powers of two and
    three)."""
    c = np.resize(np.array([1.0, -0.75, 0.5, -1.25, 1.5, -0.5, 0.875, -1.0], np.float32), channels)
    c = c.reshape(1, channels, 1, 1)
    inits = [numpy_helper.from_array(c, "c")]
    for k, (s, z) in enumerate(zip(scales, zps)):
        inits += [numpy_helper.from_array(np.array(s, np.float32), f"s{k}"),
                  numpy_helper.from_array(np.array(z, np.int8), f"z{k}")]
    nodes = [helper.make_node("Mul", ["x", "c"], ["xc"]),
             helper.make_node("QuantizeLinear", ["x", "s0", "z0"], ["a"]),
             helper.make_node("QuantizeLinear", ["xc", "s1", "z1"], ["b"])]
    if op == "QLinearConcat":
        ins, out_shape = ["s2", "z2", "a", "s0", "z0", "b", "s1", "z1"], [1, 2 * channels, H, W]
    elif op == "QLinearGlobalAveragePool":
        ins, out_shape = ["a", "s0", "z0", "s2", "z2"], [1, channels, 1, 1]
    else:
        ins, out_shape = ["a", "s0", "z0", "b", "s1", "z1", "s2", "z2"], [1, channels, H, W]
    nodes += [helper.make_node(op, ins, ["y8"], domain="com.microsoft", **(extra or {})),
              helper.make_node("DequantizeLinear", ["y8", "s2", "z2"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, H, W])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    onnx.save(m, path)


def check_qoperator(evo, work, rng):
    """Imported com.microsoft QLinearAdd, QLinearMul, QLinearConcat of inputs with other parameters and
    QLinearGlobalAveragePool (ONNX Runtime's float arithmetic: round half to even of the float result)
    differ from TFLite's fixed-point ADD, MUL, QUANTIZE (the export's requantization of a
    concatenation's inputs) and MEAN on rounding ties; simulated on an NPU (evo run --target) they compute TFLite's and must be bit-exact
    with the reference kernels, and the CPU run must differ somewhere (else the case would not show
    the switch)."""
    failures = 0
    for op, scales, zps in [("QLinearAdd", [1 / 16, 3 / 32, 1 / 8], [3, -5, 1]),
                            ("QLinearMul", [1 / 16, 3 / 32, 3 / 128], [3, -5, 1]),
                            ("QLinearConcat", [1 / 16, 3 / 32, 1 / 8], [3, -5, 1]),
                            ("QLinearGlobalAveragePool", [1 / 16, 1, 1 / 16], [3, 0, 1])]:
        name = op.lower() + "_qop"
        path, tfl = os.path.join(work, name + ".onnx"), os.path.join(work, name + ".tflite")
        pool = op == "QLinearGlobalAveragePool"  # a mean of 256 bytes: few ties, so many channels
        qoperator_model(path, op, scales, zps, {"axis": 1} if op == "QLinearConcat" else None, 4096 if pool else 8)
        run([evo, "export", path, "--tflite", tfl])
        x = nudge_ties(rng.uniform(-8, 8, (1, 4096 if pool else 8, H, W)).astype(np.float32), np.float32(scales[0]))
        x_path = os.path.join(work, name + ".x.npy")
        np.save(x_path, x)
        y_tfl, scale = litert_run(tfl, x, OpResolverType.BUILTIN_REF)
        steps, lines = {}, {}
        for mode, extra in [("cpu", []), ("npu", ["--target", NPU_TARGET])]:
            y_path = os.path.join(work, f"{name}.{mode}.npy")
            lines[mode] = run([evo, "run", path, "--input", x_path, "--output", y_path] + extra)
            d = np.rint(np.abs(y_tfl.astype(np.float64) - np.load(y_path)) / scale)
            steps[mode] = (int(d.max()), int((d > 0).sum()))
        claimed = "1 imported nodes requantized in fixed point" in lines["npu"] and "not TFLite" not in lines["npu"]
        ok = steps["npu"][0] == 0 and steps["cpu"][1] > 0 and claimed
        failures += not ok
        print(f"{name} imported: {'ok  ' if ok else 'FAIL'} CPU (ONNX Runtime's arithmetic) {steps['cpu'][1]} of "
              f"{y_tfl.size} outputs differ (max {steps['cpu'][0]} steps); --target {NPU_TARGET} "
              f"{steps['npu'][1]} differ ({next((l for l in lines['npu'].splitlines() if NPU_TARGET in l), '')})")
    return failures


def check_real_models(evo, work, calib, models_dir, shared_dir=None, part=None):
    """Whole int8 networks (fp32 tail): bit-exact with LiteRT's reference kernels when no input is
    a rounding tie (TFLite's QUANTIZE rounds half away from zero, ONNX's QuantizeLinear half to
    even), so ties are nudged one float step away first; the other kernel sets are reported."""
    failures = 0
    for name, src, ref_in, qargs, exact, resolvers in real_cases(models_dir, shared_dir, np.random.default_rng(7),
                                                                              part):
        if not (os.path.exists(src) and (not isinstance(ref_in, str) or os.path.exists(ref_in))):
            print(f"{name}: SKIP ({src} is absent: make models, or ../shared/data)")
            continue
        evo_path, tfl_path = os.path.join(work, name + ".evo"), os.path.join(work, name + ".tflite")
        q = subprocess.run([evo, "quantize", src, "--calib", calib, "--act-dtype", "int8", "--int8-all",
                            "-o", evo_path] + qargs, capture_output=True, text=True)
        if q.returncode:
            sys.exit(f"evo quantize {name} failed: {q.stderr}")
        npu = [l[5:] for l in q.stderr.splitlines() if l.startswith("evo: " + NPU_TARGET)]
        ex = subprocess.run([evo, "export", evo_path, "--tflite", tfl_path], capture_output=True, text=True)
        if ex.returncode or name in NO_TFLITE_FORM:
            known = bool(ex.returncode) and f'"{NO_TFLITE_FORM.get(name)}"' in ex.stderr
            failures += not known
            print(f"{name}: {'refused as listed' if known else 'FAIL'} in NO_TFLITE_FORM: "
                  f"{ex.stderr.strip() if ex.returncode else 'exported: remove it from the list'}")
            continue
        summary = ex.stderr.strip().splitlines()[-1]
        x = (np.load(ref_in) if isinstance(ref_in, str) else ref_in).astype(np.float32)
        n_ties = int((np.abs(x / input_scale(tfl_path) % 1.0) == 0.5).sum())
        x = nudge_ties(x, input_scale(tfl_path))
        # a tie inside the network (a float residual Add's QUANTIZE, a CPU op): perturb the input
        perturbed = 0
        while exact and inner_ties(tfl_path, x) and perturbed < 4:
            perturbed += 1
            x = nudge_ties(x * np.float32(1 + 1e-6 * perturbed), input_scale(tfl_path))
        x_path, y_path = os.path.join(work, name + ".x.npy"), os.path.join(work, name + ".y.npy")
        np.save(x_path, x)
        run([evo, "run", evo_path, "--input", x_path, "--output", y_path])
        y_evo = np.load(y_path).astype(np.float64)
        span = y_evo.max() - y_evo.min()
        print(f"{name}: {summary.split(': ', 1)[1]} ({n_ties} input ties nudged"
              f"{f', input scaled {perturbed}x by 1e-6 to avoid a tie inside' if perturbed else ''})")
        if npu:
            print(f"  {npu[0]}")
        for rname, resolver in resolvers:
            y_tfl, _ = litert_run(tfl_path, x, resolver)
            rel = float(np.abs(y_tfl - y_evo).max() / span)
            mean = float(np.abs(y_tfl - y_evo).mean() / span)
            top1 = "same" if y_tfl.argmax() == y_evo.argmax() else "differs"
            ok = rname != "ref" or not exact or rel <= REAL_EXACT_REL
            failures += not ok
            print(f"  {rname:9s} {'ok  ' if ok else 'FAIL'} max|diff| {rel:.2e} of the output range "
                  f"(mean {mean:.1e}), top-1 {top1}")
    # float exports (no quantization) against the PyTorch outputs models/export.py saved
    for name in FLOAT_MODELS if pu.runs(part, "local") else ():
        src = os.path.join(models_dir, name + "_op17.onnx")
        if not os.path.exists(src):
            continue
        x = np.load(os.path.join(models_dir, name + ".input.npy")).astype(np.float32)
        y_ref = np.load(os.path.join(models_dir, name + ".output.npy")).astype(np.float64)
        sources = [("", src)]
        if name in FLOAT_COMPILED:
            evo_path = os.path.join(work, name + "_fp32.evo")
            run([evo, "compile", src, "-o", evo_path])
            sources.append((" (compiled .evo)", evo_path))
        for how, path in sources:
            tfl_path = os.path.join(work, name + "_fp32.tflite")
            summary = run([evo, "export", path, "--tflite", tfl_path]).strip().splitlines()[-1]
            if how and "SPACE_TO_DEPTH 1" not in summary:
                failures += 1
                print(f"{name}{how}: FAIL no SPACE_TO_DEPTH stem in the export: {summary}")
            failures += float_agreement(tfl_path, x, y_ref, f"{name}{how} fp32 vs PyTorch")
    # the float export of NanoDet-m (its FPN's bilinear Resizes as RESIZE_BILINEAR) against evo run
    for name, preset, lo, hi in SHARED_DETECTORS if shared_dir and pu.runs(part, "shared") else ():
        if name not in FLOAT_SHARED:
            continue
        src = os.path.join(shared_dir, "models", name + ".onnx")
        tfl_path = os.path.join(work, name + "_fp32.tflite")
        summary = run([evo, "export", src, "--tflite", tfl_path]).strip().splitlines()[-1]
        if "RESIZE_BILINEAR" not in summary:
            failures += 1
            print(f"{name} fp32: FAIL no RESIZE_BILINEAR in the export: {summary}")
        x = np.random.default_rng(11).uniform(lo, hi, (1, 3, 416, 416)).astype(np.float32)
        x_path, y_path = os.path.join(work, name + "_fp32.x.npy"), os.path.join(work, name + "_fp32.y.npy")
        np.save(x_path, x)
        run([evo, "run", src, "--input", x_path, "--output", y_path])
        failures += float_agreement(tfl_path, x, np.load(y_path), f"{name} fp32 vs evo run")
    return failures


def main():
    part = pu.take_part(sys.argv)
    evo, work = sys.argv[1], sys.argv[2]
    models_dir = sys.argv[3] if len(sys.argv) > 3 else None
    shared_dir = sys.argv[4] if len(sys.argv) > 4 and os.path.isdir(sys.argv[4]) else None
    os.makedirs(work, exist_ok=True)
    calib = os.path.join(work, "calib")
    os.makedirs(calib, exist_ok=True)
    import cv2
    rng = np.random.default_rng(1)
    for i in range(4):
        cv2.imwrite(os.path.join(calib, f"{i}.png"), rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    failures = 0
    small = {} if models_dir else build_models(work)
    for name, (onnx_path, table, args) in small.items():
        evo_path = os.path.join(work, name + ".evo")
        tfl_path = os.path.join(work, name + ".tflite")
        run([evo, "quantize", onnx_path, "--calib", calib, "--int8-all", "-o", evo_path] + args)
        summary = run([evo, "export", evo_path, "--tflite", tfl_path]).strip().splitlines()[-1]
        x = rng.uniform(0, 1, (1, 3, H, W)).astype(np.float32)
        y_path = os.path.join(work, name + ".y.npy")
        x = nudge_ties(x, input_scale(tfl_path))
        np.save(os.path.join(work, name + ".x.npy"), x)
        run([evo, "run", evo_path, "--input", os.path.join(work, name + ".x.npy"), "--output", y_path])
        y_evo = np.load(y_path)
        print(f"{name}: {summary.split(': ', 1)[1]}")
        for rname, resolver in RESOLVERS:
            y_tfl, s = litert_run(tfl_path, x, resolver)
            scale = s or scale  # the reference run comes first; a delegate hides the ops
            steps = np.rint(np.abs(y_tfl.astype(np.float64) - y_evo) / scale).astype(np.int64)
            hist = {int(k): int(v) for k, v in zip(*np.unique(steps, return_counts=True))}
            worst = int(steps.max())
            # integer-only cases: bit-exact with the reference kernels, 1 step with the others
            bound = TABLE_MAX_STEPS if table else (0 if resolver == OpResolverType.BUILTIN_REF else MAX_STEPS)
            ok = worst <= bound
            failures += not ok
            print(f"  {rname:9s} {'ok  ' if ok else 'FAIL'} {steps.size} outputs, max {worst} steps, "
                  f"{(steps > 0).sum()} differ ({100.0 * (steps > 0).mean():.2f} %), steps:count {hist}")
            if table and resolver == OpResolverType.BUILTIN_REF:
                # the same CPU-quantized model simulated on the NPU (evo run --target): TFLite's tables
                sim_path = os.path.join(work, name + ".sim.npy")
                sim = subprocess.run([evo, "run", evo_path, "--target", NPU_TARGET, "--input",
                                      os.path.join(work, name + ".x.npy"), "--output", sim_path],
                                     capture_output=True, text=True)
                d = np.rint(np.abs(y_tfl.astype(np.float64) - np.load(sim_path)) / scale).max() \
                    if sim.returncode == 0 else -1
                ok = d == 0 and f"evo: {NPU_TARGET}: " in sim.stderr
                failures += not ok
                line = next((l for l in sim.stderr.splitlines() if NPU_TARGET in l), sim.stderr.strip())
                print(f"  run --target: {'ok  ' if ok else 'FAIL'} max {d:.0f} steps from the reference kernels ({line})")
    if part == "shared" and not (shared_dir and os.path.isdir(os.path.join(shared_dir, "models"))):
        print(f"SKIP: the pretrained detectors (no {sys.argv[4] if len(sys.argv) > 4 else 'SHARED_DATA'})")
        return pu.SKIP
    if models_dir:
        failures += check_real_models(evo, work, calib, models_dir, shared_dir, part)
        print(f"tflite vs evo: {failures} failures")
        return 1 if failures else 0
    failures += check_imported(evo, work, calib, small, rng)
    failures += check_qoperator(evo, work, rng)
    # float graphs (no quantization): fused residuals before and after the activation
    failures += check_float_small(evo, work, rng)
    # a node without a TFLite form: refused by name, non-zero exit
    n = Net(99)
    n.model(n.op("Relu", [n.op("Exp", [n.conv("x", 3, 4)])]), [1, 4, H, W], os.path.join(work, "exp.onnx"))
    run([evo, "quantize", os.path.join(work, "exp.onnx"), "--calib", calib, "--act-dtype", "int8",
         "-o", os.path.join(work, "exp.evo")])
    bad = subprocess.run([evo, "export", os.path.join(work, "exp.evo"), "--tflite",
                          os.path.join(work, "exp.tflite")], capture_output=True, text=True)
    refused = bad.returncode != 0 and '(Exp): no TFLite form' in bad.stderr
    print(f"refusal: exit {bad.returncode}, {bad.stderr.strip()}")
    failures += not refused
    print(f"tflite vs evo: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
