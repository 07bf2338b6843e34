"""evo fp32 mAP against ONNX Runtime fp32 with each model's upstream pipeline.

For YOLOX-nano, NanoDet-m and PicoDet-S (../shared/data/models) this script
re-implements the upstream pre- and post-processing described in
../shared/data/README.md with OpenCV and numpy (cv2.imread BGR, cv2.resize
INTER_LINEAR / INTER_AREA, padding, normalisation, the YOLOX and GFL
decoders, class-aware greedy NMS), runs the model with ONNX Runtime on
coco64, scores it with pycocotools, and asserts that `evo eval --preset`
lands within 0.1 mAP point (0.001) of it. Both numbers are printed.
Usage: test_eval_ort.py EVO SHARED_DATA [MODEL...]   (exit 77: no shared data)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coco_util as cu  # noqa: E402

SIZE = 416
CONF = 0.001  # evo eval's default
MAX_DET = 300
TOL = 0.001

MODELS = {
    "yolox": dict(file="yolox_nano.onnx", iou=0.45),
    "nanodet": dict(file="nanodet_m_416.onnx", iou=0.5, bgr=True, strides=(8, 16, 32),
                    mean=(103.53, 116.28, 123.675), std=(57.375, 57.12, 58.395)),
    "picodet": dict(file="picodet_s_416_coco.onnx", iou=0.5, bgr=False, strides=(8, 16, 32, 64),
                    mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375)),
}


def yolox_input(img):
    """YOLOX preproc: top-left, int(w * r), bilinear, pad 114, BGR 0..255."""
    import cv2
    h, w = img.shape[:2]
    r = min(SIZE / h, SIZE / w)
    nw, nh = int(w * r), int(h * r)
    padded = np.full((SIZE, SIZE, 3), 114, np.uint8)
    padded[:nh, :nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x = padded.transpose(2, 0, 1)[None].astype(np.float32)
    return x, lambda b: b / r


def gfl_input(img, m):
    """NanoDet/PicoDet: long side 416 (area), centred, pad 0, (x - mean) / std."""
    import cv2
    h, w = img.shape[:2]
    if SIZE * h <= SIZE * w:
        nw, nh = SIZE, h * SIZE // w
    else:
        nw, nh = w * SIZE // h, SIZE
    left, top = (SIZE - nw) // 2, (SIZE - nh) // 2
    padded = np.zeros((SIZE, SIZE, 3), np.uint8)
    padded[top:top + nh, left:left + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    if not m["bgr"]:
        padded = padded[:, :, ::-1]
    x = (padded.astype(np.float32) - np.float32(m["mean"])) / np.float32(m["std"])
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def back(b):
        b = b.copy()
        b[:, [0, 2]] = (b[:, [0, 2]] - left) / (nw / w)
        b[:, [1, 3]] = (b[:, [1, 3]] - top) / (nh / h)
        return b
    return x, back


def grid(stride):
    n = (SIZE + stride - 1) // stride
    ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return xs.reshape(-1).astype(np.float32), ys.reshape(-1).astype(np.float32)


def decode_yolox(outs):
    p = outs[0][0]
    xs, ys, st = [], [], []
    for s in (8, 16, 32):
        gx, gy = grid(s)
        xs.append(gx), ys.append(gy), st.append(np.full_like(gx, s))
    gx, gy, st = np.concatenate(xs), np.concatenate(ys), np.concatenate(st)
    cx, cy = (p[:, 0] + gx) * st, (p[:, 1] + gy) * st
    w, h = np.exp(p[:, 2]) * st, np.exp(p[:, 3]) * st
    cls = p[:, 5:].argmax(1)
    score = p[:, 4] * p[np.arange(len(p)), 5 + cls]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    return boxes, score, cls


def decode_gfl(outs, strides):
    cls_by_rows = {o.shape[1]: o[0] for o in outs if o.shape[2] == 80}
    reg_by_rows = {o.shape[1]: o[0] for o in outs if o.shape[2] == 32}
    all_boxes, all_scores, all_cls = [], [], []
    for s in strides:
        gx, gy = grid(s)
        cls, reg = cls_by_rows[len(gx)], reg_by_rows[len(gx)]
        logits = reg.reshape(-1, 4, 8)
        e = np.exp(logits - logits.max(2, keepdims=True))
        dist = (e * np.arange(8, dtype=np.float32)).sum(2) / e.sum(2) * s
        cx, cy = (gx + 0.5) * s, (gy + 0.5) * s
        all_boxes.append(np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], 1))
        best = cls.argmax(1)
        all_scores.append(cls[np.arange(len(cls)), best])
        all_cls.append(best)
    return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_cls)


def nms(boxes, scores, cls, iou_thr):
    """Class-aware greedy NMS, best first; at most MAX_DET kept."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores, cls = boxes[order], scores[order], cls[order]
    keep = []
    for c in np.unique(cls):
        idx = np.nonzero(cls == c)[0]
        alive = np.ones(len(idx), bool)
        b = boxes[idx]
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        for i in range(len(idx)):
            if not alive[i]:
                continue
            keep.append(idx[i])
            iw = np.minimum(b[i, 2], b[:, 2]) - np.maximum(b[i, 0], b[:, 0])
            ih = np.minimum(b[i, 3], b[:, 3]) - np.maximum(b[i, 1], b[:, 1])
            inter = np.where((iw > 0) & (ih > 0), iw * ih, 0)
            iou = inter / np.maximum(area[i] + area - inter, 1e-12)
            alive &= ~(iou > iou_thr)
            alive[i] = False
    keep = sorted(keep)[:MAX_DET]  # indices in score order
    return boxes[keep], scores[keep], cls[keep]


def ort_map(name, m, data):
    import cv2
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3  # the shared models list initializers as inputs: ORT warns per tensor
    sess = ort.InferenceSession(os.path.join(data, "models", m["file"]), so,
                                providers=["CPUExecutionProvider"])
    images_dir = os.path.join(data, "coco64", "images")
    images = []
    for f in sorted(os.listdir(images_dir)):
        img = cv2.imread(os.path.join(images_dir, f))
        h, w = img.shape[:2]
        x, back = yolox_input(img) if name == "yolox" else gfl_input(img, m)
        outs = sess.run(None, {sess.get_inputs()[0].name: x})
        boxes, scores, cls = decode_yolox(outs) if name == "yolox" else decode_gfl(outs, m["strides"])
        sel = scores > CONF
        boxes, scores, cls = nms(boxes[sel], scores[sel], cls[sel], m["iou"])
        boxes = back(boxes)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, w)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, h)
        dets = [(int(c), float(s), *map(float, b)) for b, s, c in zip(boxes, scores, cls)]
        images.append((f, w, h, dets))
    gt, res = cu.coco_dicts(images, os.path.join(data, "coco64", "labels"))
    m_all, m50, _ = cu.pycocotools_map(gt, res)
    return m_all, m50


def evo_map(evo, name, m, data, tmp):
    json_path = os.path.join(tmp, name + ".json")
    subprocess.run([evo, "eval", os.path.join(data, "models", m["file"]),
                    os.path.join(data, "coco64", "images"), "--preset", name, "--json", json_path],
                   check=True, capture_output=True)
    j = cu.load_json(json_path)
    return j["map"], j["map50"]


def main():
    evo, data = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(MODELS)
    if not os.path.isdir(os.path.join(data, "coco64")) or not os.path.isdir(os.path.join(data, "models")):
        print(f"SKIP: {data} has no coco64/ and models/ (shared data absent)")
        return cu.SKIP
    fails = 0
    with tempfile.TemporaryDirectory(prefix="evo_ort_") as tmp:
        print(f"{'model':10} {'evo mAP':>9} {'ORT mAP':>9} {'evo AP50':>9} {'ORT AP50':>9}")
        for name in names:
            m = MODELS[name]
            e, e50 = evo_map(evo, name, m, data, tmp)
            o, o50 = ort_map(name, m, data)
            ok = abs(e - o) <= TOL
            fails += not ok
            print(f"{name:10} {e:9.4f} {o:9.4f} {e50:9.4f} {o50:9.4f}  diff {100 * (e - o):+.3f} points "
                  f"{'ok' if ok else 'OVER 0.1 POINT'}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
