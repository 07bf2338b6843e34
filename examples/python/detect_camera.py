#!/usr/bin/env python3
"""Detection loop over a camera, a video file or an image with OpenCV and evo.

    python detect_camera.py MODEL [SOURCE] [--preset yolov8] [--out out.mp4] [--show] [--frames N]

SOURCE is a camera index (default 0), a video file or an image. Frames go to
evo.Detector as OpenCV returns them (BGR, any row stride); boxes are drawn
with OpenCV. Without --show nothing is displayed (runs headless); --out writes
the annotated frames (a video, or an image for a single frame).
"""
import argparse
import sys
import time

import cv2
import numpy as np

import evo


def draw(frame, dets, names=None):
    for d in dets:
        x1, y1, x2, y2 = (int(round(float(v))) for v in (d["x1"], d["y1"], d["x2"], d["y2"]))
        cls = int(d["class"])
        color = tuple(int(c) for c in np.random.default_rng(cls).integers(64, 255, 3))
        cv2.rectangle(frame, (x1, y1), (x2, y2), color, 2)
        label = f"{names[cls] if names and cls < len(names) else cls} {float(d['score']):.2f}"
        cv2.putText(frame, label, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="ONNX or .evo detector")
    ap.add_argument("source", nargs="?", default="0", help="camera index, video file or image (default 0)")
    ap.add_argument("--preset", default=None, help="yolov5, yolov8, yolox, nanodet, picodet or a preset file")
    ap.add_argument("--conf", type=float, default=None)
    ap.add_argument("--iou", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--names", help="class names file, one per line")
    ap.add_argument("--frames", type=int, default=0, help="stop after N frames (0: all)")
    ap.add_argument("--out", help="write annotated frames (video, or image for one frame)")
    ap.add_argument("--show", action="store_true", help="display in a window (needs a GUI OpenCV)")
    a = ap.parse_args()

    names = open(a.names).read().split("\n") if a.names else None
    det = evo.Detector(evo.load(a.model), preset=a.preset, conf=a.conf, iou=a.iou, threads=a.threads)
    cap = cv2.VideoCapture(int(a.source) if a.source.isdigit() else a.source)
    if not cap.isOpened():
        sys.exit(f"detect_camera: cannot open {a.source}")
    writer, n, stage_sum, wall_sum = None, 0, np.zeros(3), 0.0
    while a.frames <= 0 or n < a.frames:
        ok, frame = cap.read()
        if not ok:
            break
        t0 = time.perf_counter()
        dets = det(frame)  # BGR uint8 HxWx3 straight from OpenCV
        wall_sum += (time.perf_counter() - t0) * 1e3
        t = det.timing
        stage_sum += (t["preprocess_ms"], t["inference_ms"], t["postprocess_ms"])
        draw(frame, dets, names)
        print(f"frame {n}: {len(dets)} detections, {sum(t.values()):.1f} ms "
              f"(pre {t['preprocess_ms']:.1f}, model {t['inference_ms']:.1f}, post {t['postprocess_ms']:.1f})")
        if a.out and writer is None and not a.out.lower().endswith((".jpg", ".png")):
            fps = cap.get(cv2.CAP_PROP_FPS) or 25
            writer = cv2.VideoWriter(a.out, cv2.VideoWriter_fourcc(*"mp4v"), fps, frame.shape[1::-1])
        if writer is not None:
            writer.write(frame)
        elif a.out:
            cv2.imwrite(a.out, frame)
        if a.show:
            cv2.imshow("evo", frame)
            if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                break
        n += 1
    cap.release()
    if writer is not None:
        writer.release()
    if n == 0:
        sys.exit(f"detect_camera: no frame read from {a.source}")
    pre, inf, post = stage_sum / n
    print(f"{n} frames: mean pre {pre:.2f} ms, model {inf:.2f} ms, post {post:.2f} ms, "
          f"det() wall {wall_sum / n:.2f} ms")


if __name__ == "__main__":
    main()
