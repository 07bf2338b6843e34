"""ONNX Runtime reads what evo writes.

Each test model is compiled by `evo compile MODEL --emit-onnx OUT.onnx`
(every pass: fused epilogues, folded constants, evo.UpdateSlices), then
onnx.checker.check_model (full check) must pass on OUT.onnx and ONNX
Runtime's outputs on it must equal ONNX Runtime's on the original model
within 1e-5 * max|output| on PyTorch's saved input.

usage: test_onnx_write_ort.py EVO MODELS_DIR WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

REL_BOUND = 1e-5
CASES = [
    ("tiny_cnn_op13", "tiny_cnn"),
    ("resnet18_op12", "resnet18"),
    ("resnet18_op17", "resnet18"),
    ("yolov5s_op12", "yolov5s"),
    ("yolov5s_op17", "yolov5s"),
    ("yolov8n_op12", "yolov8n"),
    ("yolov8n_op17", "yolov8n"),
    ("yolov5n_op17", "yolov5n"),
    ("mobilenet_v2_op17", "mobilenet_v2"),
    ("mobilenet_v3_large_op17", "mobilenet_v3_large"),
    ("shufflenet_v2_x1_0_op17", "shufflenet_v2_x1_0"),
    ("efficientnet_b0_op17", "efficientnet_b0"),
]


def run_ort(path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def main():
    evo, models, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    failures = 0
    for name, data in CASES:
        src = os.path.join(models, name + ".onnx")
        out = os.path.join(work, name + ".written.onnx")
        subprocess.run([evo, "compile", src, "--emit-onnx", out], check=True)
        onnx.checker.check_model(out, full_check=True)
        x = np.load(os.path.join(models, data + ".input.npy"))
        want, got = run_ort(src, x), run_ort(out, x)
        if len(want) != len(got):
            print(f"{name}: {len(got)} outputs, expected {len(want)}")
            failures += 1
            continue
        for k, (a, b) in enumerate(zip(want, got)):
            if a.shape != b.shape:
                print(f"{name}: output {k} shape {b.shape}, expected {a.shape}")
                failures += 1
                continue
            err = float(np.abs(a - b).max())
            ref = float(np.abs(a).max())
            ok = err <= REL_BOUND * ref
            print(f"{name}: output {k} {a.shape}: max|diff| {err:.3g}, max|y| {ref:.3g} "
                  f"(bound {REL_BOUND} * max|y|) {'ok' if ok else 'FAIL'}")
            failures += not ok
        os.remove(out)
    print(f"test_onnx_write_ort: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
