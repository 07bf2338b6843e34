"""Arm's Vela compiler on evo's TFLite exports: every operator evo places on an
Ethos-U NPU, Vela places on it too.

usage: test_vela.py [--part local|shared] EVO WORK_DIR MODELS_DIR [SHARED_DATA_DIR]

Each model is quantized by `evo quantize --target-sqnr 0` (every Conv int8,
as an NPU runs them; the detector decode float), exported with `evo export
--tflite`, compiled by the pinned ethos-u-vela for ethos-u55-256 and
ethos-u65-512, and compared with `evo info --target T --json`: for each
TFLite operator type, the operators of that type Vela moved into its NPU
command streams (the type's count in the export minus its count left in
Vela's output) must be at least the operators evo placed on the NPU. Vela
taking more than evo (evo's table, from the pinned release's supported-ops
list, is stricter where evo describes an op as no TFLite operator or reads
a rule conservatively) is reported, not failed. evo describes a Split as SPLIT and writes it as one
STRIDED_SLICE per output, so those types are counted together.
Skipped (exit 77) when Vela is not installed; a model whose file is absent is
skipped with a line. --part local|shared (parts_util.py) takes the test
models or the pretrained detectors only; with no model left, exit 77.
"""
import collections
import json
import os
import shutil
import subprocess
import sys

try:
    from ethosu.vela.tflite.BuiltinOperator import BuiltinOperator
    from ethosu.vela.tflite.Model import Model
except ImportError:
    print("SKIP: ethos-u-vela is not installed (pip install -r requirements.txt)")
    sys.exit(77)
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parts_util as pu  # noqa: E402

TARGETS = ["ethos-u55-256", "ethos-u65-512"]
# (name, where, file, evo quantize options)
MODELS = [
    ("resnet18", "models", "resnet18_op17.onnx", []),
    ("yolov5s", "models", "yolov5s_op17.onnx", ["--preset", "yolov5"]),
    ("yolov8n", "models", "yolov8n_op17.onnx", ["--preset", "yolov8"]),
    ("yolox_nano", "data", "models/yolox_nano.onnx", ["--preset", "yolox"]),
    ("picodet_s", "data", "models/picodet_s_416_coco.onnx", ["--preset", "picodet"]),
    ("nanodet_m", "data", "models/nanodet_m_416.onnx", ["--preset", "nanodet"]),
]
SLICES = {"SPLIT", "SPLIT_V", "STRIDED_SLICE"}
OP_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def op_counts(path):
    """Operator type -> count over every subgraph of a .tflite file (read with Vela's own schema)."""
    with open(path, "rb") as f:
        m = Model.GetRootAsModel(f.read(), 0)
    counts = collections.Counter()
    for s in range(m.SubgraphsLength()):
        g = m.Subgraphs(s)
        for i in range(g.OperatorsLength()):
            oc = m.OperatorCodes(g.Operators(i).OpcodeIndex())
            name = OP_NAMES.get(max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()), "?")
            if name == "CUSTOM":
                name = "CUSTOM:" + oc.CustomCode().decode()
            counts["SLICES" if name in SLICES else name] += 1
    return counts


def calib_dir(work, data):
    coco = os.path.join(data, "coco64", "images") if data else ""
    if coco and os.path.isdir(coco):
        return coco
    import cv2
    d = os.path.join(work, "calib")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(5)
    for i in range(2):
        cv2.imwrite(os.path.join(d, f"{i}.png"), rng.integers(0, 256, (224, 224, 3), dtype=np.uint8))
    return d


def main():
    part = pu.take_part(sys.argv)
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    evo, work, models_dir = sys.argv[1:4]
    data = sys.argv[4] if len(sys.argv) > 4 else ""
    vela = os.path.join(os.path.dirname(sys.executable), "vela")
    if not os.path.exists(vela):
        vela = shutil.which("vela")
    if not vela:
        print("SKIP: the vela command is not installed (pip install -r requirements.txt)")
        return 77
    os.makedirs(work, exist_ok=True)
    calib = calib_dir(work, data)
    failures = checked = 0
    for name, where, rel, opts in MODELS:
        if not pu.runs(part, "local" if where == "models" else "shared"):
            continue
        src = os.path.join(models_dir if where == "models" else data, rel)
        if not (src and os.path.exists(src)):
            print(f"{name}: SKIP ({src or rel} is absent)")
            continue
        q, tfl = os.path.join(work, name + ".evo"), os.path.join(work, name + ".tflite")
        run([evo, "quantize", src, "--calib", calib, "--calib-count", "2", "--target-sqnr", "0", "-o", q] + opts)
        run([evo, "export", q, "--tflite", tfl])
        exported = op_counts(tfl)
        for target in TARGETS:
            out_dir = os.path.join(work, f"{name}_{target}")
            run([vela, tfl, "--accelerator-config", target, "--output-dir", out_dir])
            left = op_counts(os.path.join(out_dir, name + "_vela.tflite"))
            vela_npu = {k: n - left.get(k, 0) for k, n in exported.items()}
            placed = json.loads(run([evo, "info", q, "--target", target, "--json"]))
            evo_npu = collections.Counter()
            for p in placed["placement"]:
                if p["place"] == "npu":
                    evo_npu.update("SLICES" if t in SLICES else t for t in p["as"])
            short = {k: (n, vela_npu.get(k, 0)) for k, n in evo_npu.items() if vela_npu.get(k, 0) < n}
            ok = not short and sum(evo_npu.values()) > 0
            failures += not ok
            checked += 1
            cpu_left = {k: n for k, n in sorted(left.items()) if not k.startswith("CUSTOM")}
            print(f"{name} {target}: {'ok  ' if ok else 'FAIL'} evo places {sum(evo_npu.values())} operators "
                  f"on the NPU, Vela {sum(vela_npu.values())} of {sum(exported.values())}"
                  + (f"; Vela leaves on the CPU some that evo placed: {short}" if short else "")
                  + f"; left on the CPU by Vela: {cpu_left}")
    if checked == 0:
        print("SKIP: no model to compile (make models)")
        return 77
    print(f"vela vs evo: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
