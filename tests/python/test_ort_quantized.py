"""ONNX Runtime's own quantizer output imports into evo and agrees with ORT.

For each test model, onnxruntime.quantization makes a static QDQ model, a
static QOperator model (per-channel int8 weights, uint8 activations,
calibrated on a few seeded random inputs) and a dynamic model; each runs
in ORT and in `evo run` on the model's saved test input. Reported per
model and format: max |evo - ORT| / max |ORT|, the share of outputs within
one quantization step of ORT's (the step of the output's last
DequantizeLinear; for dynamic models max |ORT| / 127), and the same error
of ORT's quantized model against fp32, to show the two quantized runs are
far closer to each other than to fp32.

Asserted: every model imports and runs; at least 99 % of evo's outputs
are within one output step of ORT's and the RMS of evo - ORT is at most
half the RMS of ORT's own quantization error (ORT int8 - fp32); for the
static formats, whose integer arithmetic evo reproduces, no output is more
than one step off. Dynamic models requantize every activation from its
run-time range, so a last-ulp difference in a float op between layers
(evo's sigmoid of SiLU against MLAS's polynomial logistic) can flip one
byte of a later DynamicQuantizeLinear and a few outputs move by more
(YOLOv5s: 0.17 % of outputs past one step, RMS 1.9 against ORT's own 4.9;
ResNet18, all ReLU, stays exact).

The default models keep the test under a minute; YOLOv5s (3-7 minutes of
ORT calibration on 2 cores) runs when named:
  test_ort_quantized.py build/evo models/out yolov5s_op17
Usage: test_ort_quantized.py EVO MODELS_DIR [MODEL ...]
"""
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

from qlinear_util import run_evo, run_ort

DEFAULT_MODELS = ["tiny_cnn_op13", "resnet18_op17"]


class RandomReader(CalibrationDataReader):
    """A few seeded standard-normal inputs."""

    def __init__(self, name, shape, count=4, seed=0):
        rng = np.random.default_rng(seed)
        self.items = iter([{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(count)])

    def get_next(self):
        return next(self.items, None)


def test_input(models_dir, base, name, shape):
    stem = base.rsplit("_op", 1)[0]
    path = os.path.join(models_dir, stem + ".input.npy")
    if os.path.exists(path):
        x = np.load(path).astype(np.float32)
        if list(x.shape) == list(shape):
            return x
    return np.random.default_rng(99).standard_normal(shape).astype(np.float32)


def output_step(model_path, out_name, ort_out):
    """The scale of the DequantizeLinear producing out_name, if any."""
    m = onnx.load(model_path)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "DequantizeLinear" and n.output[0] == out_name and n.input[1] in inits:
            return float(np.max(inits[n.input[1]]))
    return float(np.max(np.abs(ort_out))) / 127.0


def compare(label, model_path, feeds, fp32_out, evo, dynamic, stats):
    want = run_ort(model_path, feeds)
    name = list(want)[0]
    try:
        outs, log = run_evo(evo, model_path, feeds, [name])
    except RuntimeError as e:
        print("FAIL %s: %s" % (label, e))
        return False
    got, ref = outs[name].astype(np.float32), want[name].astype(np.float32)
    if got.shape != ref.shape:
        print("FAIL %s: evo shape %s, ORT %s" % (label, got.shape, ref.shape))
        return False
    peak = float(np.max(np.abs(ref))) or 1.0
    step = output_step(model_path, name, ref)
    diff = np.abs(got - ref)
    rel = float(np.max(diff)) / peak
    steps = float(np.max(diff)) / step
    exact = float(np.mean(diff <= step * 1e-3))
    share = float(np.mean(diff <= step * 1.001))
    rms = float(np.sqrt(np.mean(diff ** 2)))
    rms_fp32 = float(np.sqrt(np.mean((ref - fp32_out) ** 2)))
    rel_fp32 = float(np.max(np.abs(ref - fp32_out))) / (float(np.max(np.abs(fp32_out))) or 1.0)
    ok = (dynamic or steps <= 1.001) and share >= 0.99 and rms <= 0.5 * rms_fp32
    print("%s %-24s evo-ORT: max %.4f of max|ORT| (%.2f steps of %.4g), %.2f%% equal, %.2f%% within 1 step, "
          "rms %.3g | ORT-fp32: max %.4f of max|fp32|, rms %.3g" %
          ("ok  " if ok else "FAIL", label, rel, steps, step, 100 * exact, 100 * share, rms, rel_fp32, rms_fp32))
    stats.append((label, rel, steps, exact, share, rms, rel_fp32, rms_fp32))
    return ok


def run_model(evo, models_dir, base, work, stats):
    src = os.path.join(models_dir, base + ".onnx")
    if not os.path.exists(src):
        print("FAIL %s: missing (make models)" % src)
        return False
    model = onnx.load(src)
    inp = model.graph.input[0]
    shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
    x = test_input(models_dir, base, inp.name, shape)
    feeds = {inp.name: x}
    fp32_out = list(run_ort(src, feeds).values())[0]
    ok = True
    local = os.path.join(work, os.path.basename(src))  # ONNX Runtime writes MODEL-inferred.onnx beside its input
    shutil.copyfile(src, local)
    for fmt in (QuantFormat.QDQ, QuantFormat.QOperator):
        q = os.path.join(work, "%s_%s.onnx" % (base, fmt.name))
        quantize_static(local, q, RandomReader(inp.name, shape), quant_format=fmt, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        ok &= compare("%s %s" % (base, fmt.name), q, feeds, fp32_out, evo, False, stats)
    q = os.path.join(work, "%s_dynamic.onnx" % base)
    quantize_dynamic(local, q, weight_type=QuantType.QUInt8)
    ok &= compare("%s dynamic" % base, q, feeds, fp32_out, evo, True, stats)
    return ok


def main():
    import logging
    logging.getLogger().setLevel(logging.ERROR)
    evo, models_dir = sys.argv[1], sys.argv[2]
    models = sys.argv[3:] or DEFAULT_MODELS
    stats, ok = [], True
    with tempfile.TemporaryDirectory() as work:
        for base in models:
            ok &= run_model(evo, models_dir, base, work, stats)
    print("%d quantized models, %s" % (len(stats), "all agree" if ok and stats else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
