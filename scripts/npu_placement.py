"""The NPU placement table of docs/npu.md: each model quantized by evo
quantize (calibration on a folder of images; every Conv int8, the detector
decode float: `--target-sqnr 0`, since an NPU computes int8 only), then `evo info --target T
--json` for every known target; prints a Markdown table of the share of MACs
and nodes on the NPU, the NPU subgraphs and the NPU<->CPU transitions.
Targets of one family share a constraint table; the script checks that their
placements agree and prints one column per family.

usage: python scripts/npu_placement.py [--evo build/evo] [--models models/out]
         [--data ../shared/data] [--calib DIR] [--work /tmp/evo_npu]
"""
import argparse
import json
import os
import subprocess
import sys

# (name, ONNX path relative to --models or --data, quantize options)
MODELS = [
    ("YOLOv5s", "models:yolov5s_op17.onnx", ["--preset", "yolov5"]),
    ("YOLOv8n", "models:yolov8n_op17.onnx", ["--preset", "yolov8"]),
    ("ResNet18", "models:resnet18_op17.onnx",
     ["--mode", "stretch", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]),
    ("YOLOX-nano", "data:models/yolox_nano.onnx", ["--preset", "yolox"]),
    ("NanoDet-m", "data:models/nanodet_m_416.onnx", ["--preset", "nanodet"]),
    ("PicoDet-S", "data:models/picodet_s_416_coco.onnx", ["--preset", "picodet"]),
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def targets(evo):
    """The known targets, from the error an unknown one gets."""
    r = subprocess.run([evo, "info", "unused.onnx", "--target", "?"], capture_output=True, text=True)
    line = r.stderr.strip().split("known targets: ")[-1]
    return [t.strip() for t in line.split(",") if t.strip() and t.strip() != "cpu"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evo", default="build/evo")
    ap.add_argument("--models", default="models/out")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--calib", default=None, help="calibration images (default: DATA/coco64/images)")
    ap.add_argument("--calib-count", default="16")
    ap.add_argument("--work", default="/tmp/evo_npu")
    a = ap.parse_args()
    calib = a.calib or os.path.join(a.data, "coco64", "images")
    os.makedirs(a.work, exist_ok=True)
    tlist = targets(a.evo)
    families = {}  # family -> [targets]
    rows = []
    for name, where, opts in MODELS:
        root, rel = where.split(":", 1)
        onnx = os.path.join(a.models if root == "models" else a.data, rel)
        if not os.path.exists(onnx):
            print(f"skip {name}: {onnx} is missing", file=sys.stderr)
            continue
        q = os.path.join(a.work, name.lower() + ".evo")
        run([a.evo, "quantize", onnx, "--calib", calib, "--calib-count", a.calib_count,
             "--target-sqnr", "0", "-o", q] + opts)
        per_family = {}
        for t in tlist:
            r = json.loads(run([a.evo, "info", q, "--target", t, "--json"]))
            fam = r["rules"]["family"] + " (" + r["rules"]["source"] + ", " + r["rules"]["version"] + ")"
            families.setdefault(fam, [])
            if t not in families[fam]:
                families[fam].append(t)
            cell = (r["npu_mac_share"], r["npu_nodes"], r["nodes"], r["npu_subgraphs"], r["transitions"])
            if fam in per_family and per_family[fam] != cell:
                sys.exit(f"{name}: targets of {fam} disagree: {per_family[fam]} vs {cell} on {t}")
            per_family[fam] = cell
        rows.append((name, per_family))
    fams = list(families)
    print("| model | " + " | ".join(f"{f}: {', '.join(families[f])}" for f in fams) + " |")
    print("|---|" + "---|" * len(fams))
    for name, per in rows:
        cells = []
        for f in fams:
            share, npu, nodes, sub, tr = per[f]
            cells.append(f"{100 * share:.1f} % MACs, {npu}/{nodes} nodes, {sub} subgraphs, {tr} transitions")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
