"""The QDQ export of int8 graphs runs in ONNX Runtime and agrees with evo.

Int8 graphs come from two sources:
  - ONNX Runtime's quantize_static (QOperator format, Conv and MatMul
    quantized, uint8 activations, int8 weights per channel) of the tiny CNN
    and ResNet18 test models, calibrated on noisy copies of the saved input;
  - hand-built QLinearConv / QLinearMatMul chains with quantized outputs
    (uint8 and int8; per-channel and per-tensor weights; strides, pads,
    groups; per-column B), so outputs compare in quantization steps.
Each is imported by evo and written by `evo compile M --emit-onnx OUT.onnx`;
OUT.onnx must pass onnx.checker (full check), hold no QLinearConv,
QLinearMatMul or com.microsoft QLinear op (standard QDQ; ORT's QGemm, which
evo does not rewrite, stays), and ONNX Runtime's outputs on it must agree
with `evo run` on the int8 graph:
  - quantized outputs: every element within 1 quantization step, and
    at least 99 % exactly equal;
  - float outputs (the real models end in float ops): max|diff| <= 1e-4 of
    the output's range (max - min).
The numbers are printed for every case.

Third source: FIXED requantization and every fused activation exist only in
evo's own int8 graphs, so tests/unit/test_onnx_write_qdq.c (run here with
EVO_QDQ_DUMP_DIR) writes each case's QDQ export, input and evo's int8
output; ONNX Runtime on the export must give every output within 1 step of
evo's (a table activation: 1 step of its pre-activation, the bound the C
test writes, up to 2 output steps for HardSwish) and at least 97 % equal (FIXED rounding and the tables' double
precision differ from float arithmetic on a few outputs).

The pretrained detectors of SHARED_DATA (YOLOX-nano, NanoDet-m, PicoDet-S,
opset 11) go the same way as the test models, from evo's own float export
of each (ONNX Runtime's quantizer trips on PicoDet's initializers listed
as inputs, which evo's writer does not repeat); their per-channel QDQ
export is written at opset 13. Without SHARED_DATA they are skipped with
a line saying so; `--part local|shared` runs one of the two sources
(parts_util.py; shared exits 77 without the data).

usage: test_qdq_export_ort.py [--part local|shared] EVO MODELS_DIR WORK_DIR TEST_ONNX_WRITE_QDQ [SHARED_DATA]
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import parts_util as pu  # noqa: E402

FLOAT_REL_BOUND = 1e-4
MIN_EXACT = 0.99


class NoisyCopies(CalibrationDataReader):
    def __init__(self, name, x, n=4):
        rng = np.random.default_rng(0)
        self.batches = iter([{name: (x + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)}
                             for _ in range(n)])

    def get_next(self):
        return next(self.batches, None)


def quantize_model(src, x, out, op_types=("Conv", "MatMul")):
    """QOperator quantization of src; op_types None: every op ORT quantizes."""
    name = onnx.load(src).graph.input[0].name
    local = os.path.join(os.path.dirname(out), "src_" + os.path.basename(src))  # ORT writes MODEL-inferred.onnx beside it
    shutil.copyfile(src, local)
    quantize_static(local, out, NoisyCopies(name, x), quant_format=QuantFormat.QOperator,
                    op_types_to_quantize=list(op_types) if op_types else None, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


def qparams(rng, dtype, n=1):
    scale = rng.uniform(0.01, 0.05, n).astype(np.float32)
    zp = rng.integers(100, 156, n) if dtype == np.uint8 else rng.integers(-20, 20, n)
    return scale, zp.astype(dtype)


def const(inits, name, arr):
    inits.append(numpy_helper.from_array(np.asarray(arr), name))
    return name


def conv_chain(path, act_dtype, per_channel, seed):
    """x -> QLinearConv 3x3 s2 (pads) -> QLinearConv 1x1 grouped -> y, both quantized."""
    rng = np.random.default_rng(seed)
    elem = TensorProto.UINT8 if act_dtype == np.uint8 else TensorProto.INT8
    inits, nodes = [], []
    xs, xz = qparams(rng, act_dtype)
    const(inits, "xs", xs[0]), const(inits, "xz", xz[0])
    cur, cur_s, cur_z = "x", "xs", "xz"
    layers = [(4, 6, 3, dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 2, 1])),
              (6, 8, 1, dict(kernel_shape=[1, 1], group=2))]
    for k, (cin, cout, ks, attrs) in enumerate(layers):
        g = attrs.get("group", 1)
        w = rng.integers(-127, 128, (cout, cin // g, ks, ks)).astype(np.int8)
        ws = rng.uniform(0.002, 0.01, cout if per_channel else 1).astype(np.float32)
        wz = np.zeros(ws.shape, np.int8)
        b = rng.integers(-3000, 3000, cout).astype(np.int32)
        ys, yz = qparams(rng, act_dtype)
        p = f"l{k}_"
        const(inits, p + "w", w), const(inits, p + "b", b)
        const(inits, p + "ws", ws if per_channel else ws[0]), const(inits, p + "wz", wz if per_channel else wz[0])
        const(inits, p + "ys", ys[0]), const(inits, p + "yz", yz[0])
        out = "y" if k == len(layers) - 1 else p + "out"
        nodes.append(helper.make_node("QLinearConv", [cur, cur_s, cur_z, p + "w", p + "ws", p + "wz",
                                                      p + "ys", p + "yz", p + "b"], [out], name=p + "conv",
                                      **attrs))
        cur, cur_s, cur_z = out, p + "ys", p + "yz"
    graph = helper.make_graph(nodes, "qconv_chain",
                              [helper.make_tensor_value_info("x", elem, [1, 4, 9, 11])],
                              [helper.make_tensor_value_info("y", elem, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    lo, hi = (0, 256) if act_dtype == np.uint8 else (-128, 128)
    return rng.integers(lo, hi, (1, 4, 9, 11)).astype(act_dtype)


def matmul_model(path, act_dtype, per_column, seed):
    """a [3, 16] -> QLinearMatMul with B [16, 8] -> y [3, 8], quantized."""
    rng = np.random.default_rng(seed)
    elem = TensorProto.UINT8 if act_dtype == np.uint8 else TensorProto.INT8
    inits = []
    a_s, a_z = qparams(rng, act_dtype)
    y_s, y_z = qparams(rng, act_dtype)
    b = rng.integers(-127, 128, (16, 8)).astype(np.int8)
    bs = rng.uniform(0.002, 0.01, 8 if per_column else 1).astype(np.float32)
    bz = np.zeros(bs.shape, np.int8)
    for name, arr in (("as", a_s[0]), ("az", a_z[0]), ("b", b), ("bs", bs if per_column else bs[0]),
                      ("bz", bz if per_column else bz[0]), ("ys", y_s[0] * 4), ("yz", y_z[0])):
        const(inits, name, arr)
    node = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"], name="mm")
    graph = helper.make_graph([node], "qmatmul", [helper.make_tensor_value_info("a", elem, [3, 16])],
                              [helper.make_tensor_value_info("y", elem, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    lo, hi = (0, 256) if act_dtype == np.uint8 else (-128, 128)
    return rng.integers(lo, hi, (3, 16)).astype(act_dtype)


def opset12_model(path, seed):
    """An opset-12 graph around a per-channel QLinearConv, with the ops whose
    signature changed at opset 13 (Split, Squeeze, Unsqueeze, ReduceSum
    with attributes; a Softmax coercing to 2-D at axis 1; Dropout's ratio):
    its QDQ export must be written at opset 13."""
    rng = np.random.default_rng(seed)
    inits = []
    w = rng.integers(-127, 128, (6, 3, 3, 3)).astype(np.int8)
    for name, arr in (("xs", np.float32(0.02)), ("xz", np.uint8(128)), ("w", w),
                      ("ws", rng.uniform(0.002, 0.01, 6).astype(np.float32)), ("wz", np.zeros(6, np.int8)),
                      ("ys", np.float32(0.05)), ("yz", np.uint8(120)),
                      ("b", rng.integers(-500, 500, 6).astype(np.int32))):
        const(inits, name, arr)
    mk = helper.make_node
    nodes = [
        mk("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        mk("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["yq"], kernel_shape=[3, 3],
           pads=[1, 1, 1, 1]),
        mk("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
        mk("Split", ["y"], ["s0", "s1"], axis=1, split=[2, 4]),
        mk("Unsqueeze", ["s0"], ["u"], axes=[0]),
        mk("Squeeze", ["u"], ["sq"], axes=[0]),
        mk("Softmax", ["sq"], ["sm"], axis=1),
        mk("ReduceSum", ["s1"], ["rs"], axes=[1], keepdims=1),
        mk("Dropout", ["rs"], ["dr"]),
        mk("Mul", ["sm", "dr"], ["out"]),
    ]
    graph = helper.make_graph(nodes, "opset12", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 7])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)]), path)
    return rng.standard_normal((1, 3, 5, 7)).astype(np.float32)


def ms_chain(path, seed):
    """uint8 x -> com.microsoft QLinearAveragePool (3x3, stride 2, pads) -> QLinearLeakyRelu -> y."""
    rng = np.random.default_rng(seed)
    inits = []
    for name, arr in (("xs", np.float32(0.04)), ("xz", np.uint8(120)), ("ps", np.float32(0.03)),
                      ("pz", np.uint8(128)), ("ys", np.float32(0.025)), ("yz", np.uint8(40))):
        const(inits, name, arr)
    mk = helper.make_node
    nodes = [mk("QLinearAveragePool", ["x", "xs", "xz", "ps", "pz"], ["p"], domain="com.microsoft",
                kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0),
             mk("QLinearLeakyRelu", ["p", "ps", "pz", "ys", "yz"], ["y"], domain="com.microsoft", alpha=0.1)]
    graph = helper.make_graph(nodes, "ms_chain", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 9, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                      helper.make_opsetid("com.microsoft", 1)]), path)
    return rng.integers(0, 256, (1, 3, 9, 8)).astype(np.uint8)


def check_case(evo, name, int8_model, x, work):
    """Exports int8_model as QDQ, runs both, compares; returns the number of failures."""
    qdq = os.path.join(work, name + ".qdq.onnx")
    xin, yout = os.path.join(work, name + ".x.npy"), os.path.join(work, name + ".evo.npy")
    np.save(xin, x)
    subprocess.run([evo, "compile", int8_model, "--emit-onnx", qdq], check=True)
    subprocess.run([evo, "run", int8_model, "--input", xin, "--output", yout], check=True)
    onnx.checker.check_model(qdq, full_check=True)
    ops = {n.op_type for n in onnx.load(qdq).graph.node}
    failures = 0
    qlinear = {"QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu",
               "QLinearConcat", "QLinearGlobalAveragePool", "QLinearAveragePool"}
    if ops & qlinear or "DequantizeLinear" not in ops:
        print(f"{name}: not in QDQ form: {sorted(ops)}")
        failures += 1
    sess = ort.InferenceSession(qdq, providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    want = np.load(yout)
    if got.shape != want.shape or got.dtype != want.dtype:
        print(f"{name}: ORT gives {got.dtype} {got.shape}, evo {want.dtype} {want.shape}")
        return failures + 1
    if want.dtype in (np.uint8, np.int8):
        steps = np.abs(got.astype(np.int32) - want.astype(np.int32))
        within, exact = float(np.mean(steps <= 1)), float(np.mean(steps == 0))
        ok = within == 1.0 and exact >= MIN_EXACT
        print(f"{name}: {want.size} {want.dtype} outputs: {within:.4f} within 1 step, {exact:.4f} equal, "
              f"max {int(steps.max())} steps {'ok' if ok else 'FAIL'}")
    else:
        rng = float(want.max() - want.min()) or 1.0
        rel = float(np.abs(got - want).max()) / rng
        ok = rel <= FLOAT_REL_BOUND
        print(f"{name}: {want.size} float outputs: max|diff| / range {rel:.3g} "
              f"(bound {FLOAT_REL_BOUND}) {'ok' if ok else 'FAIL'}")
    return failures + (not ok)


def check_dumped(test_bin, work):
    """ORT on the QDQ exports of FIXED / fused-activation graphs vs evo; returns failures."""
    out = os.path.join(work, "fused")
    os.makedirs(out, exist_ok=True)
    subprocess.run([test_bin], check=True, env=dict(os.environ, EVO_QDQ_DUMP_DIR=out), stdout=subprocess.DEVNULL)
    names = sorted(f[:-5] for f in os.listdir(out) if f.endswith(".onnx"))
    failures = 0 if len(names) >= 40 else 1
    worst = 1.0
    for name in names:
        path = os.path.join(out, name)
        onnx.checker.check_model(path + ".onnx", full_check=True)
        sess = ort.InferenceSession(path + ".onnx", providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        dtype = np.uint8 if inp.type == "tensor(uint8)" else np.int8
        x = np.fromfile(path + ".x.bin", dtype).reshape(inp.shape)
        got = sess.run(None, {inp.name: x})[0]
        want = np.fromfile(path + ".y.bin", dtype).reshape(got.shape)
        steps = np.abs(got.astype(np.int32) - want.astype(np.int32))
        exact = float(np.mean(steps == 0))
        worst = min(worst, exact)
        with open(path + ".steps") as f:
            max_steps = int(f.read())
        if steps.max() > max_steps or exact < 0.97:
            print(f"{name}: max {int(steps.max())} steps (bound {max_steps}), {exact:.4f} equal FAIL")
            failures += 1
    print(f"fused activations / FIXED: {len(names)} QDQ exports in ONNX Runtime vs evo: all within their "
          f"step bound: {'yes' if failures == 0 else 'NO'}; lowest fraction equal {worst:.4f}")
    return failures


def local_cases(evo, models, work, test_bin):
    """The test models, the hand-built chains and the C test's dumped cases; returns the failures."""
    failures = 0
    for model, data in (("tiny_cnn_op13", "tiny_cnn"), ("resnet18_op17", "resnet18")):
        x = np.load(os.path.join(models, data + ".input.npy"))
        q = os.path.join(work, model + ".qop.onnx")
        quantize_model(os.path.join(models, model + ".onnx"), x, q)
        failures += check_case(evo, model + "_qop", q, x, work)
        # every op ORT quantizes: com.microsoft QLinearMul/Sigmoid/Concat (tiny CNN),
        # QLinearAdd/GlobalAveragePool (ResNet18) in QDQ form too
        q = os.path.join(work, model + ".qall.onnx")
        quantize_model(os.path.join(models, model + ".onnx"), x, q, None)
        failures += check_case(evo, model + "_qall", q, x, work)
    for k, (dtype, per) in enumerate(((np.uint8, True), (np.int8, True), (np.uint8, False))):
        tag = f"{np.dtype(dtype).name}_{'perchannel' if per else 'pertensor'}"
        path = os.path.join(work, f"qconv_{tag}.onnx")
        failures += check_case(evo, f"qconv_{tag}", path, conv_chain(path, dtype, per, 10 + k), work)
        path = os.path.join(work, f"qmatmul_{tag}.onnx")
        failures += check_case(evo, f"qmatmul_{tag}", path, matmul_model(path, dtype, per, 20 + k), work)
    path = os.path.join(work, "ms_chain.onnx")
    failures += check_case(evo, "ms_avgpool_leakyrelu", path, ms_chain(path, 40), work)
    path = os.path.join(work, "opset12.onnx")
    x = opset12_model(path, 30)
    failures += check_case(evo, "opset12_upgraded", path, x, work)
    qdq = onnx.load(os.path.join(work, "opset12_upgraded.qdq.onnx"))
    opset = [o.version for o in qdq.opset_import if o.domain in ("", "ai.onnx")]
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    orig = sess.run(None, {"x": x})[0]
    evo_y = np.load(os.path.join(work, "opset12_upgraded.evo.npy"))
    rel = float(np.abs(orig - evo_y).max()) / (float(orig.max() - orig.min()) or 1.0)
    print(f"opset12_upgraded: written at opset {opset}; ORT on the opset-12 original vs evo: "
          f"max|diff| / range {rel:.3g}")
    failures += opset != [13] or rel > FLOAT_REL_BOUND
    failures += check_dumped(test_bin, work)
    return failures


def main():
    part = pu.take_part(sys.argv)
    evo, models, work, test_bin = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    failures = local_cases(evo, models, work, test_bin) if pu.runs(part, "local") else 0
    shared = os.path.join(sys.argv[5], "models") if len(sys.argv) > 5 else ""
    if pu.runs(part, "shared") and not os.path.isdir(shared):
        print(f"SKIP: the pretrained detectors (no {shared or 'SHARED_DATA'})")
        if part == "shared":
            return pu.SKIP
    detectors = ("yolox_nano", "nanodet_m_416", "picodet_s_416_coco")
    for name in detectors if pu.runs(part, "shared") and os.path.isdir(shared) else ():
        src = os.path.join(shared, name + ".onnx")
        flt = os.path.join(work, name + ".float.onnx")
        subprocess.run([evo, "compile", src, "--emit-onnx", flt], check=True)
        inp = ort.InferenceSession(flt, providers=["CPUExecutionProvider"]).get_inputs()[0]
        x = np.random.default_rng(1).random([d if isinstance(d, int) else 1 for d in inp.shape], dtype=np.float32)
        q = os.path.join(work, name + ".qop.onnx")
        quantize_model(flt, x, q)
        failures += check_case(evo, name + "_qop", q, x, work)
    print(f"test_qdq_export_ort: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
