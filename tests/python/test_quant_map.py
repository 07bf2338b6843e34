"""evo quantize with default options keeps a detector's mAP within 1 point of fp32.

NanoDet-m 416 on ../shared/data/coco64: `evo eval` of the float model, then
`evo quantize --preset nanodet` with default options (calibrated on the
same 64 images: about 10 s), then `evo eval` of the int8 model over them: mAP@0.5:0.95 within 0.010 of fp32, and the
int8 share of MACs `evo info` reports at least 80 %.
Usage: test_quant_map.py EVO SHARED_DATA (exit 77 = skipped: no data).
"""
import os
import re
import subprocess
import sys
import tempfile


def run(*args):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}:\n{p.stdout}")
    return p.stdout


def map_of(evo, model, images, preset):
    out = run(evo, "eval", model, images, "--preset", preset)
    m = re.search(r"mAP@0\.5:0\.95 ([0-9.]+)", out)
    if not m:
        sys.exit(f"FAIL: no mAP in evo eval output:\n{out}")
    return float(m.group(1))


def main():
    evo, data = sys.argv[1], sys.argv[2]
    model = os.path.join(data, "models", "nanodet_m_416.onnx")
    images = os.path.join(data, "coco64", "images")
    if not os.path.isfile(model) or not os.path.isdir(images):
        print(f"SKIP: {model} or {images} not found (shared data absent)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        q = os.path.join(tmp, "nanodet_int8.evo")
        run(evo, "quantize", model, "--calib", images, "--preset", "nanodet", "-o", q)
        fp, i8 = map_of(evo, model, images, "nanodet"), map_of(evo, q, images, "nanodet")
        info = run(evo, "info", q)
    m = re.search(r"precision: int8 [0-9.]+ G MACs \(([0-9.]+)%\)", info)
    share = float(m.group(1)) if m else -1
    print(f"NanoDet-m coco64: fp32 mAP {fp:.4f}, int8 default {i8:.4f} ({i8 - fp:+.4f}), int8 MACs {share:.1f} %")
    ok = abs(i8 - fp) <= 0.010 and share >= 80
    if not ok:
        print("FAIL: int8 mAP more than 1.0 point from fp32, or under 80 % of MACs int8")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
