"""Shared helpers of the evaluation tests: YOLO labels and evo's detection
files turned into COCO ground truth and results, and pycocotools' numbers."""
import contextlib
import io
import json
import os
import subprocess

import numpy as np

SKIP = 77  # ctest SKIP_RETURN_CODE


def read_dets(path):
    """evo eval --dets-out: [(name, width, height, [(cls, score, x0, y0, x1, y1)...])...]."""
    images = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("image "):
                _, w, h, name = line.split(" ", 3)
                images.append((name, int(w), int(h), []))
            else:
                p = line.split()
                # the file holds float32 values: read them back as evo holds them
                vals = [float(np.float32(v)) for v in p[1:]]
                images[-1][3].append((int(p[0]), *vals))
    return images


def write_dets(path, images):
    with open(path, "w") as f:
        f.write("# synthetic detections\n")
        for name, w, h, dets in images:
            f.write(f"image {w} {h} {name}\n")
            for c, s, x0, y0, x1, y1 in dets:
                f.write(f"{c} {s:.9g} {x0:.9g} {y0:.9g} {x1:.9g} {y1:.9g}\n")


def read_labels(path, width, height):
    """YOLO labels in pixels, with the arithmetic of evo's reader."""
    boxes = []
    if not os.path.exists(path):
        return boxes
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            c = int(p[0])
            cx, cy, w, h = (float(v) for v in p[1:5])
            boxes.append((c, (cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height))
    return boxes


def coco_dicts(images, labels_dir, n_classes=80):
    """COCO ground truth and results for images as read_dets returns them."""
    gt = {"images": [], "annotations": [], "categories": [{"id": k} for k in range(n_classes)]}
    res = []
    for img_id, (name, w, h, dets) in enumerate(images, start=1):
        gt["images"].append({"id": img_id, "file_name": name, "width": w, "height": h})
        stem = os.path.splitext(name)[0]
        for c, x, y, bw, bh in read_labels(os.path.join(labels_dir, stem + ".txt"), w, h):
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": img_id,
                                      "category_id": c, "bbox": [x, y, bw, bh],
                                      "area": bw * bh, "iscrowd": 0})
        for c, s, x0, y0, x1, y1 in dets:
            res.append({"image_id": img_id, "category_id": c, "score": s,
                        "bbox": [x0, y0, x1 - x0, y1 - y0]})
    return gt, res


def pycocotools_map(gt, res):
    """(mAP@0.5:0.95, mAP@0.5, {class: AP@0.5:0.95}) as COCOeval computes them."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(res)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]  # [T, R, K, A, M]
    per_class = {}
    for k, cat in enumerate(ev.params.catIds):
        p = prec[:, :, k, 0, 2]
        if (p > -1).any():
            per_class[cat] = float(np.mean(p[p > -1]))
    return float(ev.stats[0]), float(ev.stats[1]), per_class


def run_evo(evo, args):
    """Runs evo with args; returns the parsed --json file (the caller passes --json PATH)."""
    r = subprocess.run([evo] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"evo {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def compare(name, evo_json, gt, res, tol=1e-4):
    """Asserts evo's numbers equal pycocotools'; returns the number of failures."""
    m, m50, per_class = pycocotools_map(gt, res)
    fails = 0
    for what, got, want in (("mAP@0.5:0.95", evo_json["map"], m), ("mAP@0.5", evo_json["map50"], m50)):
        ok = abs(got - want) <= tol
        fails += not ok
        print(f"{name}: {what} evo {got:.6f} pycocotools {want:.6f} {'ok' if ok else 'MISMATCH'}")
    evo_classes = {c["id"]: c["ap"] for c in evo_json["classes"]}
    if set(evo_classes) != set(per_class):
        print(f"{name}: classes differ: evo {sorted(evo_classes)} pycocotools {sorted(per_class)}")
        fails += 1
    for k in sorted(set(evo_classes) & set(per_class)):
        if abs(evo_classes[k] - per_class[k]) > tol:
            print(f"{name}: class {k} AP evo {evo_classes[k]:.6f} pycocotools {per_class[k]:.6f}")
            fails += 1
    return fails


def load_json(path):
    with open(path) as f:
        return json.load(f)
