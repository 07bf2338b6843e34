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


# model file, preset, int8 share floor in % (measured 100 and 63.2 on 2026-12-04, Adds int8)
MODELS = [("nanodet_m_416.onnx", "nanodet", 95.0), ("yolox_nano.onnx", "yolox", 55.0)]


def check_model(evo, data, images, tmp, file, preset, min_share):
    model = os.path.join(data, "models", file)
    q = os.path.join(tmp, preset + "_int8.evo")
    run(evo, "quantize", model, "--calib", images, "--preset", preset, "-o", q)
    fp, i8 = map_of(evo, model, images, preset), map_of(evo, q, images, preset)
    m = re.search(r"precision: int8 [0-9.]+ G MACs \(([0-9.]+)%\)", run(evo, "info", q))
    share = float(m.group(1)) if m else -1
    print(f"{file} coco64: fp32 mAP {fp:.4f}, int8 default {i8:.4f} ({i8 - fp:+.4f}), int8 MACs {share:.1f} %")
    if abs(i8 - fp) > 0.010 or share < min_share:
        print(f"FAIL: {file}: int8 mAP more than 1.0 point from fp32, or under {min_share} % of MACs int8")
        return False
    return True


def main():
    evo, data = sys.argv[1], sys.argv[2]
    images = os.path.join(data, "coco64", "images")
    missing = [f for f, _, _ in MODELS if not os.path.isfile(os.path.join(data, "models", f))]
    if missing or not os.path.isdir(images):
        print(f"SKIP: {images} or {', '.join(missing) or 'the models'} not found (shared data absent)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        ok = all([check_model(evo, data, images, tmp, f, p, floor) for f, p, floor in MODELS])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
