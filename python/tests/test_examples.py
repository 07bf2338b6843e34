"""examples/python run headless: detect_camera.py on a video file and an image, ort_vs_evo.py."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("EVO_MODELS_DIR", ROOT / "models" / "out"))
EXAMPLES = ROOT / "examples" / "python"


def run(args):
    r = subprocess.run([sys.executable] + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_detect_camera_video_and_image(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="OpenCV (opencv-python-headless of requirements.txt) not installed")
    model = MODELS / "yolov8n_op17.onnx"
    rng = np.random.default_rng(3)
    video = tmp_path / "in.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    if not w.isOpened():
        pytest.skip("this OpenCV cannot write MJPG video")
    for _ in range(3):
        w.write((rng.random((240, 320, 3)) * 255).astype(np.uint8))
    w.release()
    out = run([EXAMPLES / "detect_camera.py", model, video, "--out", tmp_path / "out.avi"])
    assert re.search(r"^frame 2: \d+ detections", out, re.M) and "3 frames: mean pre" in out
    assert (tmp_path / "out.avi").stat().st_size > 0
    image = tmp_path / "in.jpg"
    cv2.imwrite(str(image), (rng.random((200, 300, 3)) * 255).astype(np.uint8))
    out = run([EXAMPLES / "detect_camera.py", model, image, "--out", tmp_path / "out.jpg", "--frames", "1"])
    assert "1 frames" in out and cv2.imread(str(tmp_path / "out.jpg")).shape == (200, 300, 3)


def test_ort_vs_evo():
    pytest.importorskip("onnxruntime", reason="onnxruntime of requirements.txt not installed")
    out = run([EXAMPLES / "ort_vs_evo.py", MODELS / "tiny_cnn_op13.onnx", "--runs", "3"])
    m = re.search(r"max \|evo - ort\| (\S+) \(relative (\S+)\)", out)
    assert m and float(m.group(2)) < 1e-4, out
    assert re.search(r"evo [0-9.]+ ms, onnxruntime [0-9.]+ ms", out)
