"""QDQ models quantized by ONNX Runtime run bit-exactly in evo.

Quantizes test models (models/out) with onnxruntime.quantization in QDQ
format (per-channel int8 weights, uint8 or int8 activations, calibration on
seeded random inputs), runs them with ONNX Runtime and with `evo run`
(fold_qdq turns the patterns into QLinearConv), and requires identical
outputs: evo's FLOAT requantization is ONNX Runtime's arithmetic.

usage: test_qdq_ort.py EVO_BINARY MODELS_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

CASES = [  # (model, input file, activation type)
    ("tiny_cnn_op13.onnx", "tiny_cnn.input.npy", QuantType.QUInt8),
    ("tiny_cnn_op13.onnx", "tiny_cnn.input.npy", QuantType.QInt8),
    ("resnet18_op17.onnx", "resnet18.input.npy", QuantType.QUInt8),
    ("resnet18_op17.onnx", "resnet18.input.npy", QuantType.QInt8),
]


class Reader(CalibrationDataReader):
    def __init__(self, name, shape):
        rng = np.random.default_rng(0)
        self.batches = iter([{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(4)])

    def get_next(self):
        return next(self.batches, None)


def main():
    evo, models = sys.argv[1], sys.argv[2]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for model, inp, act in CASES:
            src = os.path.join(models, model)
            if not os.path.exists(src):
                print(f"FAIL {model}: missing (generate with models/export.py)")
                failures += 1
                continue
            graph_in = onnx.load(src).graph.input[0]
            shape = [d.dim_value or 1 for d in graph_in.type.tensor_type.shape.dim]
            q = os.path.join(tmp, f"{model}.{act.name}.qdq.onnx")
            local = os.path.join(tmp, model)  # ONNX Runtime writes MODEL-inferred.onnx beside its input
            if not os.path.exists(local):
                shutil.copyfile(src, local)
            quantize_static(local, q, Reader(graph_in.name, shape), quant_format=QuantFormat.QDQ,
                            activation_type=act, weight_type=QuantType.QInt8, per_channel=True)
            x = np.load(os.path.join(models, inp))
            so = ort.SessionOptions()
            so.log_severity_level = 3
            sess = ort.InferenceSession(q, so, providers=["CPUExecutionProvider"])
            want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
            out = os.path.join(tmp, "out.npy")
            r = subprocess.run([evo, "run", q, "--input", os.path.join(models, inp), "--output", out,
                                "--threads", "2"], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {model} {act.name}: evo run: {r.stderr.strip()}")
                failures += 1
                continue
            got = np.load(out)
            diff = np.abs(got - want)
            ok = got.shape == want.shape and diff.max() == 0
            print(f"{'ok  ' if ok else 'FAIL'} {model} {act.name}: max |evo - ort| {diff.max():.6g}, "
                  f"{np.mean(got == want) * 100:.2f}% identical")
            failures += not ok
    print(f"qdq vs onnxruntime: {len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
