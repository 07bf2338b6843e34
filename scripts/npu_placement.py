"""The NPU placement tables of docs/npu.md.

Each model is quantized by evo quantize (calibration on a folder of images;
every Conv int8, the detector decode float: `--target-sqnr 0`, since an NPU
computes int8 only), then `evo info --target T --json` for every known
target, with the exact rewrites (the default) and, for comparison, without
(`--no-rewrite`). Targets of one family share a constraint table; the script
checks that their placements agree and prints one column per family.

The second table is per activation level (`--act silu=relu` ...: the
activations replaced before quantization, which changes the network): the
NPU share of MACs per family, and the untrained cost in accuracy, the fp32
mAP@0.5:0.95 of `evo eval` on the calibration folder's labels (coco64) with
the level applied to the unchanged weights.

scripts/npu_matrix.py takes its model list from here for the detector x target x activation-level
matrix (estimated time and simulated mAP per target).

usage: python scripts/npu_placement.py [--evo build/evo] [--models models/out]
         [--data ../shared/data] [--calib DIR] [--work /tmp/evo_npu] [--no-levels]
"""
import argparse
import json
import os
import subprocess
import sys

# (name, ONNX path relative to --models or --data, quantize options, eval preset (None: the model has seeded
# random weights, as `make models` exports YOLOv5s, YOLOv8n and ResNet18, so no mAP), activation levels)
SILU = ["silu=relu", "silu=leaky:0.1", "silu=hardswish"]
MODELS = [
    ("YOLOv5s", "models:yolov5s_op17.onnx", ["--preset", "yolov5"], None, SILU),
    ("YOLOv8n", "models:yolov8n_op17.onnx", ["--preset", "yolov8"], None, SILU),
    ("ResNet18", "models:resnet18_op17.onnx",
     ["--mode", "stretch", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"], None, []),
    ("YOLOX-nano", "data:models/yolox_nano.onnx", ["--preset", "yolox"], "yolox", SILU),
    ("NanoDet-m", "data:models/nanodet_m_416.onnx", ["--preset", "nanodet"], "nanodet", []),
    ("PicoDet-S", "data:models/picodet_s_416_coco.onnx", ["--preset", "picodet"], "picodet",
     ["hardswish=relu", "hardswish=leaky:0.1"]),
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


def place(evo, q, tlist, families, rewrite):
    """Per family: (MAC share, NPU nodes, nodes, subgraphs, transitions, rewritten); checks the family agrees."""
    per_family = {}
    for t in tlist:
        r = json.loads(run([evo, "info", q, "--target", t, "--json"] + ([] if rewrite else ["--no-rewrite"])))
        fam = r["rules"]["family"] + " (" + r["rules"]["source"] + ", " + r["rules"]["version"] + ")"
        families.setdefault(fam, [])
        if t not in families[fam]:
            families[fam].append(t)
        rw = ", ".join(f"{k} {v}" for k, v in r.get("rewritten", {}).items() if v)
        cell = (r["npu_mac_share"], r["npu_nodes"], r["nodes"], r["npu_subgraphs"], r["transitions"], rw)
        if fam in per_family and per_family[fam] != cell:
            sys.exit(f"{q}: targets of {fam} disagree: {per_family[fam]} vs {cell} on {t}")
        per_family[fam] = cell
    return per_family


def cell(c, with_rw=True):
    share, npu, nodes, sub, tr, rw = c
    s = f"{100 * share:.1f} % MACs, {npu}/{nodes} nodes, {sub} subgraphs, {tr} transitions"
    return s + (f" (rewritten: {rw})" if with_rw and rw else "")


def evaluate(evo, onnx, preset, level, data):
    images = os.path.join(data, "coco64", "images")
    cmd = [evo, "eval", onnx, images, "--preset", preset, "--json", "-"] + (["--act", level] if level else [])
    r = json.loads(run(cmd))
    return r["map"], r["map50"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evo", default="build/evo")
    ap.add_argument("--models", default="models/out")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--calib", default=None, help="calibration images (default: DATA/coco64/images)")
    ap.add_argument("--calib-count", default="16")
    ap.add_argument("--work", default="/tmp/evo_npu")
    ap.add_argument("--no-levels", action="store_true", help="only the first table")
    a = ap.parse_args()
    calib = a.calib or os.path.join(a.data, "coco64", "images")
    os.makedirs(a.work, exist_ok=True)
    tlist = targets(a.evo)
    families = {}  # family -> [targets]
    rows, level_rows = [], []
    for name, where, opts, preset, levels in MODELS:
        root, rel = where.split(":", 1)
        onnx = os.path.join(a.models if root == "models" else a.data, rel)
        if not os.path.exists(onnx):
            print(f"skip {name}: {onnx} is missing", file=sys.stderr)
            continue
        for level in [None] + ([] if a.no_levels else levels):
            tag = name.lower() + ("_" + level.replace("=", "-").replace(":", "") if level else "")
            q = os.path.join(a.work, tag + ".evo")
            run([a.evo, "quantize", onnx, "--calib", calib, "--calib-count", a.calib_count,
                 "--target-sqnr", "0", "-o", q] + opts + (["--act", level] if level else []))
            with_rw = place(a.evo, q, tlist, families, True)
            if level is None:
                rows.append((name, with_rw, place(a.evo, q, tlist, families, False)))
            if levels and not a.no_levels:
                mp = evaluate(a.evo, onnx, preset, level, a.data) if preset else None
                level_rows.append((name, level or "none (original)", mp, with_rw))
    fams = list(families)
    print("| model | " + " | ".join(f"{f}: {', '.join(families[f])}" for f in fams) +
          " | Ethos-N78 without the rewrites |")
    print("|---|" + "---|" * (len(fams) + 1))
    n78 = [f for f in fams if f.startswith("Ethos-N78")]
    for name, per, raw in rows:
        extra = cell(raw[n78[0]], False) if n78 else "-"
        print(f"| {name} | " + " | ".join(cell(per[f]) for f in fams) + f" | {extra} |")
    if level_rows:
        print()
        print("| model | activations | fp32 mAP@0.5:0.95 / mAP@0.5 (coco64, not retrained) | " +
              " | ".join(f.split(" (")[0] for f in fams) + " |")
        print("|---|---|---|" + "---|" * len(fams))
        for name, level, mp, per in level_rows:
            cells = [f"{100 * per[f][0]:.1f} % MACs, {per[f][1]}/{per[f][2]} nodes, {per[f][3]} subgraphs"
                     for f in fams]
            m = f"{mp[0]:.4f} / {mp[1]:.4f}" if mp else "- (random weights)"
            print(f"| {name} | {level} | {m} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
