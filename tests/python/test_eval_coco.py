"""evo eval against pycocotools on the same detections, to 1e-4.

1. Synthetic ground truth and detections (no model): score ties, duplicate
   boxes, more than 100 detections of one class in one image, empty label
   files, a missing label file, classes without ground truth, classes and
   images without detections, all scored by `evo eval --dets-in`.
2. coco64 with YOLOX-nano: `evo eval --dets-out` writes the detections it
   scored; pycocotools scores the same ones against the same labels.
3. An undecodable image in the folder is skipped, counted and reported.
Usage: test_eval_coco.py EVO SHARED_DATA (exit 77 = skipped part 2/3 data).
"""
import os
import random
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coco_util as cu  # noqa: E402


def f32(v):
    return float(np.float32(v))


def synthetic_case(rng, root, n_images=14, n_classes=7):
    """Writes labels under root/labels and returns the detections (read_dets form)."""
    labels = os.path.join(root, "labels")
    os.makedirs(labels)
    images = []
    for i in range(n_images):
        w, h = rng.randint(50, 900), rng.randint(50, 900)
        name = f"img{i:03d}.jpg"
        gt = []
        kind = i % 5
        if kind != 0:  # kind 0: empty label file (or, for i == 5, none at all)
            for _ in range(rng.randint(1, 12)):
                c = rng.randint(0, n_classes - 3)  # classes n-2, n-1: never labelled
                bw, bh = rng.uniform(0.02, 0.6), rng.uniform(0.02, 0.6)
                gt.append((c, rng.uniform(bw / 2, 1 - bw / 2), rng.uniform(bh / 2, 1 - bh / 2), bw, bh))
            if rng.random() < 0.5:
                gt.append(gt[0])  # a duplicated box: equal IoUs, the later one wins
        if i != 5:
            with open(os.path.join(labels, name[:-4] + ".txt"), "w") as f:
                for c, cx, cy, bw, bh in gt:
                    f.write(f"{c} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n")
        dets = []
        scores = [0.3, 0.5, 0.5, 0.7, 0.9] if rng.random() < 0.5 else None
        for c, cx, cy, bw, bh in gt:
            if c == 0 and rng.random() < 0.7:
                continue  # class 0 often missed
            for _ in range(rng.randint(1, 3)):  # duplicates: one true positive, the rest false
                j = rng.uniform(-0.08, 0.08)
                x0, y0 = (cx - bw / 2 + j * bw) * w, (cy - bh / 2 + j * bh) * h
                x1, y1 = x0 + bw * w * rng.uniform(0.8, 1.2), y0 + bh * h * rng.uniform(0.8, 1.2)
                s = rng.choice(scores) if scores else rng.random()
                dets.append((c, f32(s), f32(x0), f32(y0), f32(x1), f32(y1)))
        n_fp = 130 if i == 3 else rng.randint(0, 6)  # image 3: > 100 of one class
        for _ in range(n_fp):
            c = n_classes - 1 if rng.random() < 0.2 else (1 if i == 3 else rng.randint(1, n_classes - 3))
            x0, y0 = rng.uniform(0, w - 10), rng.uniform(0, h - 10)
            x1, y1 = x0 + rng.uniform(1, w - x0), y0 + rng.uniform(1, h - y0)
            s = rng.choice(scores) if scores else rng.random()
            dets.append((c, f32(s), f32(x0), f32(y0), f32(x1), f32(y1)))
        if i % 7 == 6:
            dets = []  # an image without detections
        rng.shuffle(dets)
        images.append((name, w, h, dets))
    return images


def test_synthetic(evo, tmp):
    fails = 0
    for seed in range(6):
        root = os.path.join(tmp, f"synthetic{seed}")
        images = synthetic_case(random.Random(seed), root)
        dets_path, json_path = os.path.join(root, "dets.txt"), os.path.join(root, "eval.json")
        cu.write_dets(dets_path, images)
        cu.run_evo(evo, ["eval", "--dets-in", dets_path, "--labels", os.path.join(root, "labels"),
                         "--json", json_path])
        evo_json = cu.load_json(json_path)
        if evo_json["images"] != len(images) or evo_json["images_without_labels"] != 1:
            print(f"synthetic {seed}: images {evo_json['images']}, without labels "
                  f"{evo_json['images_without_labels']}, expected {len(images)} and 1")
            fails += 1
        gt, res = cu.coco_dicts(cu.read_dets(dets_path), os.path.join(root, "labels"), 7)
        fails += cu.compare(f"synthetic {seed}", evo_json, gt, res)
    return fails


def test_coco64(evo, data, tmp):
    images_dir = os.path.join(data, "coco64", "images")
    model = os.path.join(data, "models", "yolox_nano.onnx")
    dets_path, json_path = os.path.join(tmp, "yolox.dets"), os.path.join(tmp, "yolox.json")
    cu.run_evo(evo, ["eval", model, images_dir, "--preset", "yolox", "--dets-out", dets_path,
                     "--json", json_path])
    evo_json = cu.load_json(json_path)
    images = cu.read_dets(dets_path)
    n_files = len([f for f in os.listdir(images_dir) if f.endswith(".jpg")])
    fails = 0
    if evo_json["images"] != n_files or len(images) != n_files or evo_json["skipped"] != 0:
        print(f"coco64: {evo_json['images']} images evaluated, {len(images)} in the detections, "
              f"{n_files} files")
        fails += 1
    gt, res = cu.coco_dicts(images, os.path.join(data, "coco64", "labels"))
    print(f"coco64 yolox_nano: {len(res)} detections, {len(gt['annotations'])} labels")
    fails += cu.compare("coco64 yolox_nano", evo_json, gt, res)
    # the saved detections score the same without the model
    again_path = os.path.join(tmp, "again.json")
    cu.run_evo(evo, ["eval", "--dets-in", dets_path, "--labels", os.path.join(data, "coco64", "labels"),
                     "--json", again_path])
    again = cu.load_json(again_path)
    if (again["map"], again["map50"]) != (evo_json["map"], evo_json["map50"]):
        print(f"coco64: --dets-in gives {again['map']}, {again['map50']}, the model run "
              f"{evo_json['map']}, {evo_json['map50']}")
        fails += 1
    if not 0.2 < evo_json["map"] < 0.6:
        print(f"coco64 yolox_nano: mAP {evo_json['map']:.4f} is not plausible for YOLOX-nano")
        fails += 1
    return fails


def test_skipped(evo, data, tmp):
    """Two real images and one corrupt one: 2 evaluated, 1 skipped with a warning."""
    root = os.path.join(tmp, "skip")
    os.makedirs(os.path.join(root, "images"))
    names = sorted(os.listdir(os.path.join(data, "coco64", "images")))[:2]
    for n in names:
        shutil.copy(os.path.join(data, "coco64", "images", n), os.path.join(root, "images", n))
    with open(os.path.join(root, "images", "broken.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 not a jpeg")
    json_path = os.path.join(root, "eval.json")
    r = cu.run_evo(evo, ["eval", os.path.join(data, "models", "yolox_nano.onnx"),
                         os.path.join(root, "images"), "--labels",
                         os.path.join(data, "coco64", "labels"), "--preset", "yolox", "--json", json_path])
    j = cu.load_json(json_path)
    ok = j["images"] == 2 and j["skipped"] == 1 and "broken.jpg" in r.stderr and "skipped" in r.stderr
    print(f"skipped images: {j['images']} evaluated, {j['skipped']} skipped {'ok' if ok else 'WRONG'}")
    return 0 if ok else 1


def main():
    evo, data = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="evo_eval_")
    try:
        fails = test_synthetic(evo, tmp)
        if not os.path.isdir(os.path.join(data, "coco64")):
            print(f"SKIP coco64 parts: {data}/coco64 not found (shared data absent)")
            return skip_or_fail(fails)
        fails += test_coco64(evo, data, tmp)
        fails += test_skipped(evo, data, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{fails} failure(s)")
    return 1 if fails else 0


def skip_or_fail(fails):
    print(f"{fails} failure(s) in the synthetic part")
    return 1 if fails else cu.SKIP


if __name__ == "__main__":
    sys.exit(main())
