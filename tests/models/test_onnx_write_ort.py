"""ONNX Runtime reads what evo writes.

Each test model is compiled by `evo compile MODEL --emit-onnx OUT.onnx`
(every pass: fused epilogues, folded constants, evo.UpdateSlices), then
onnx.checker.check_model (full check) must pass on OUT.onnx and ONNX
Runtime's outputs on it must equal ONNX Runtime's on the original model
within 1e-5 * max|output| on PyTorch's saved input.

The pretrained detectors of SHARED_DATA (opset 11; PicoDet's hard-swish
chains become HardSwish nodes evo must spell out before opset 14) go the
same way on a seeded random input, within 1e-4 * max|output|: their
BatchNormalization is folded by evo and the hard-swish chains rewritten,
which rounds a few ulp differently (worst seen 1.0e-5). A stem evo wrote
as SpaceToDepth and a 3x3 conv (pass s2d_conv) has ONNX Runtime sum its
108 products in another order: 5e-5 there (worst seen 2.6e-5, YOLOv5s,
whose boxes reach 1.2e3). Without
SHARED_DATA they are skipped with a line saying so; `--part local|shared`
runs one of the two (parts_util.py; shared exits 77 without the data).

usage: test_onnx_write_ort.py [--part local|shared] EVO MODELS_DIR WORK_DIR [SHARED_DATA]
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import parts_util as pu  # noqa: E402

REL_BOUND = 1e-5
S2D_REL_BOUND = 5e-5
SHARED_REL_BOUND = 1e-4
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
    part = pu.take_part(sys.argv)
    evo, models, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    failures = 0
    cases = []
    if pu.runs(part, "local"):
        cases += [(os.path.join(models, name + ".onnx"), os.path.join(models, data + ".input.npy"))
                  for name, data in CASES]
    shared = os.path.join(sys.argv[4], "models") if len(sys.argv) > 4 else ""
    if pu.runs(part, "shared") and os.path.isdir(shared):
        cases += [(os.path.join(shared, m + ".onnx"), None) for m in ("yolox_nano", "nanodet_m_416", "picodet_s_416_coco")]
    elif pu.runs(part, "shared"):
        print(f"SKIP: the pretrained detectors (no {shared or 'SHARED_DATA'})")
        if part == "shared":
            return pu.SKIP
    for src, x_path in cases:
        name = os.path.basename(src)[:-5]
        out = os.path.join(work, name + ".written.onnx")
        subprocess.run([evo, "compile", src, "--emit-onnx", out], check=True)
        onnx.checker.check_model(out, full_check=True)
        s2d = any(n.op_type == "SpaceToDepth" for n in onnx.load(out).graph.node) and \
            not any(n.op_type == "SpaceToDepth" for n in onnx.load(src).graph.node)
        if x_path:
            x = np.load(x_path)
        else:
            inp = ort.InferenceSession(out, providers=["CPUExecutionProvider"]).get_inputs()[0]
            x = np.random.default_rng(3).random([d if isinstance(d, int) else 1 for d in inp.shape], dtype=np.float32)
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
            bound = SHARED_REL_BOUND if not x_path else S2D_REL_BOUND if s2d else REL_BOUND
            ok = err <= bound * ref
            print(f"{name}: output {k} {a.shape}: max|diff| {err:.3g}, max|y| {ref:.3g} "
                  f"(bound {bound} * max|y|) {'ok' if ok else 'FAIL'}")
            failures += not ok
        os.remove(out)
    print(f"test_onnx_write_ort: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
