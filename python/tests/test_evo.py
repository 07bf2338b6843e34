"""The evo Python package against the C path (the evo CLI) on the test models.

Environment: EVO_MODELS_DIR (default models/out), EVO_SHARED_DATA (default
../shared/data; tests that need it are skipped with a reason when absent),
EVO_CLI (the evo tool to compare with; default the one in the package).
"""
import gc
import json
import os
import subprocess
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import evo
from evo._cli import cli_path

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("EVO_MODELS_DIR", ROOT / "models" / "out"))
SHARED = Path(os.environ.get("EVO_SHARED_DATA", ROOT.parent / "shared" / "data"))
CLI = os.environ.get("EVO_CLI", cli_path())


def model_path(name):
    p = MODELS / name
    if not p.is_file():
        pytest.fail(f"{p} missing: run `make models` (the ctest fixture models/export makes them)")
    return p


@pytest.fixture(scope="module")
def tiny():
    return evo.load(model_path("tiny_cnn_op13.onnx"))


@pytest.fixture(scope="module")
def tiny_input():
    return np.load(model_path("tiny_cnn.input.npy"))


def evo_run_cli(model, x, tmp_path, threads):
    """Outputs of `evo run` (the C path) on input x."""
    xin, yout = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(xin, x)
    subprocess.run([CLI, "run", str(model), "--input", str(xin), "--output", str(yout), "--threads", str(threads)],
                   check=True, capture_output=True)
    return np.load(yout)


@pytest.mark.parametrize("name,inp", [("tiny_cnn_op13.onnx", "tiny_cnn.input.npy"),
                                      ("resnet18_op17.onnx", "resnet18.input.npy"),
                                      ("yolov5n_op17.onnx", "yolov5n.input.npy")])
def test_bit_exact_with_evo_run(name, inp, tmp_path):
    x = np.load(model_path(inp))
    m = evo.load(model_path(name))
    y = m.session(threads=2).run({m.inputs[0].name: x})[0]
    ref = evo_run_cli(model_path(name), x, tmp_path, threads=2)
    assert y.dtype == ref.dtype and y.shape == ref.shape
    assert np.array_equal(y, ref), f"{name}: max |diff| {np.abs(y - ref).max()}"


def test_model_description(tiny):
    assert [t.name for t in tiny.inputs] == ["input"]
    assert tiny.inputs[0].shape == (1, 3, 64, 64) and tiny.inputs[0].dtype == np.float32
    assert tiny.inputs[0].size_bytes == 4 * 3 * 64 * 64
    info = tiny.info()
    assert info["inputs"][0] == {"name": "input", "shape": [1, 3, 64, 64], "dtype": "float32", "size_bytes": 49152}
    assert info["outputs"][0]["shape"] == list(tiny.outputs[0].shape)
    assert json.dumps(info)


def test_input_shape():
    m = evo.load(model_path("yolov8n_op17.onnx"), input_shape={"images": (1, 3, 640, 640)})
    assert m.inputs[0].shape == (1, 3, 640, 640)
    with pytest.raises(evo.ShapeError, match='input "images" dim 2 is fixed to 640 in the model'):
        evo.load(model_path("yolov8n_op17.onnx"), input_shape={"images": (1, 3, 320, 320)})


def test_zero_copy_input_and_output(tiny, tiny_input):
    sess = tiny.session(threads=2)
    view = sess.input_array(0)
    assert view.flags.writeable and view.shape == tiny.inputs[0].shape and view.dtype == np.float32
    assert view.__array_interface__["data"][0] == sess.input_pointer(0)
    assert sess.input_array("input").__array_interface__["data"][0] == sess.input_pointer(0)
    view[...] = tiny_input
    out_views = sess.run(copy=False)  # nothing passed: runs on what the view holds
    assert out_views[0].__array_interface__["data"][0] == sess.output_pointer(0)
    assert not out_views[0].flags.writeable
    expect = tiny.session().run(tiny_input)[0]
    assert np.array_equal(out_views[0], expect)
    copies = sess.run(tiny_input)
    assert copies[0].__array_interface__["data"][0] != sess.output_pointer(0)
    # the view of the next run is the same memory: no allocation per run for views
    tracemalloc.start()
    for _ in range(200):
        sess.run(copy=False)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 * 1024, f"views allocated {peak} bytes over 200 runs"


def test_threads_several_sessions(tiny, tiny_input):
    expect = tiny.session().run(tiny_input)[0]
    results, errors = [], []

    def worker(seed):
        try:
            sess = tiny.session(threads=1 + seed % 2)
            x = tiny_input + 0 * seed
            for _ in range(30):
                results.append(np.array_equal(sess.run(x)[0], expect))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 120 and all(results)


def test_one_session_refuses_a_second_thread():
    """A second thread on a busy session gets a clear error; that it gets to run at all shows the GIL is free."""
    m = evo.load(model_path("resnet18_op17.onnx"))
    sess = m.session()
    done = threading.Event()
    seen = []

    def long_run():
        sess.bench_c(runs=8, warmup=0)
        done.set()

    t = threading.Thread(target=long_run)
    t.start()
    while not done.is_set():
        try:
            sess.run()
        except evo.InvalidArgumentError as e:
            seen.append(str(e))
            break
    t.join()
    assert seen and "another thread" in seen[0]


def test_bad_inputs(tiny, tiny_input, tmp_path):
    sess = tiny.session()
    with pytest.raises(evo.InvalidArgumentError, match=r"shape \(1, 3, 32, 32\), expected \(1, 3, 64, 64\)"):
        sess.run(np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(evo.InvalidArgumentError, match="dtype float64, expected float32"):
        sess.run(tiny_input.astype(np.float64))
    with pytest.raises(evo.InvalidArgumentError, match="no input named 'images'"):
        sess.run({"images": tiny_input})
    with pytest.raises(evo.InvalidArgumentError, match="input 'input' not given"):
        sess.run({})
    with pytest.raises(evo.InvalidArgumentError, match="2 inputs given"):
        sess.run([tiny_input, tiny_input])
    with pytest.raises(IndexError):
        sess.input_array(3)
    # a non-contiguous array is copied once and gives the same result
    wide = np.zeros((1, 3, 64, 128), np.float32)
    wide[..., ::2] = tiny_input
    assert not wide[..., ::2].flags.c_contiguous
    assert np.array_equal(sess.run(wide[..., ::2])[0], sess.run(tiny_input)[0])
    with pytest.raises(evo.IoError, match="nonexistent.onnx: cannot open") as e:
        evo.load(tmp_path / "nonexistent.onnx")
    assert isinstance(e.value, OSError) and isinstance(e.value, evo.Error)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12\x04junk" * 10)
    with pytest.raises(evo.Error, match="bad.onnx"):
        evo.load(bad)
    with pytest.raises(evo.InvalidArgumentError):
        tiny.session(isa="sparc")
    with pytest.raises(TypeError):
        evo.Session("not a model")


def test_refcounting_model_outlives_sessions(tiny_input):
    m = evo.load(model_path("tiny_cnn_op13.onnx"))
    sess = m.session()
    expect = sess.run(tiny_input)[0]
    view = sess.input_array(0)
    out = sess.run(copy=False)[0]
    del m
    gc.collect()
    assert np.array_equal(sess.run(tiny_input)[0], expect)  # the session kept the model
    del sess
    gc.collect()
    view[...] = 1.0  # the views keep the session (and its arena) alive
    assert float(view.sum()) == view.size and out.shape == expect.shape


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_leaks_over_1000_runs(tiny, tiny_input):
    sess = tiny.session()
    for _ in range(50):
        sess.run(tiny_input)
    gc.collect()
    rss0 = rss_bytes()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(1000):
        sess.run({"input": tiny_input})
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename") if s.size_diff > 0)
    assert grown < 64 * 1024, f"Python memory grew {grown} bytes over 1000 runs"
    rss_grown = rss_bytes() - rss0
    assert rss_grown < 4 * 1024 * 1024, f"RSS grew {rss_grown} bytes over 1000 runs"


def detector_model():
    """The pretrained YOLOX-nano of the shared data when present, else the exported YOLOv8n."""
    yolox = SHARED / "models" / "yolox_nano.onnx"
    if yolox.is_file():
        return yolox, "yolox"
    return model_path("yolov8n_op17.onnx"), None


def test_detector_matches_evo_detect(tmp_path):
    image = SHARED / "images" / "dog.jpg"
    if not image.is_file():
        pytest.skip(f"{image} absent (shared data)")
    path, preset = detector_model()
    det = evo.Detector(evo.load(path), preset=preset, threads=2)
    got = det(image)
    assert got.dtype == evo.DETECTION_DTYPE and set(det.timing) == {"preprocess_ms", "inference_ms",
                                                                     "postprocess_ms"}
    out = tmp_path / "dets.json"
    cmd = [CLI, "detect", str(path), str(image), "--json", str(out), "--threads", "2"]
    subprocess.run(cmd + (["--preset", preset] if preset else []), check=True, capture_output=True)
    ref = json.loads(out.read_text())["detections"]
    assert len(ref) == len(got) > 0
    for r, g in zip(ref, got):
        assert r["class_id"] == g["class"] and abs(r["score"] - g["score"]) < 6e-5
        assert np.allclose(r["box"], [g["x1"], g["y1"], g["x2"], g["y2"]], atol=0.006)


def test_detector_frames_strides_and_formats():
    path, preset = detector_model()
    det = evo.Detector(evo.load(path), preset=preset, conf=0.01, threads=2)
    rng = np.random.default_rng(7)
    h, w = 240, 320
    bgr = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    bgr[60:180, 100:220] = (30, 200, 90)
    base = det(bgr)
    assert np.array_equal(det(np.ascontiguousarray(bgr[..., ::-1]), format="rgb"), base)
    big = np.zeros((h + 20, w + 50, 3), np.uint8)
    big[10:10 + h, 20:20 + w] = bgr
    crop = big[10:10 + h, 20:20 + w]  # row stride (w + 50) * 3: no copy needed
    assert crop.strides[0] == (w + 50) * 3
    assert np.array_equal(det(crop), base)
    # NV12: one (H*3/2) x W array, or Y plus a UV plane with its own row stride
    nv12 = (rng.random((h * 3 // 2, w)) * 255).astype(np.uint8)
    one = det(nv12, format="nv12")
    uv_wide = np.zeros((h // 2, w + 16), np.uint8)
    uv_wide[:, :w] = nv12[h:]
    assert np.array_equal(det(nv12[:h], format="nv12", uv=uv_wide[:, :w]), one)
    yuyv = (rng.random((h, w, 2)) * 255).astype(np.uint8)
    assert det(yuyv, format="yuyv").dtype == evo.DETECTION_DTYPE
    with pytest.raises(evo.InvalidArgumentError, match="uint8"):
        det(bgr.astype(np.float32))
    with pytest.raises(evo.InvalidArgumentError, match="format 'hsv'"):
        det(bgr, format="hsv")
    with pytest.raises(ValueError, match="not a whole number of rgb24 pixels"):
        det(np.zeros((h, 100), np.uint8), format="rgb")
    with pytest.raises(ValueError, match="bgr24 needs HxW or HxWxC"):
        det(np.zeros((h, w, 4), np.uint8))
    with pytest.raises(ValueError, match="nv12 needs a 2-D array"):
        det(bgr, format="nv12")
    with pytest.raises(evo.IoError):
        det("/nonexistent/frame.jpg")


def test_profile_cpu_ms(tiny, tiny_input):
    sess = tiny.session(threads=2, profile=True)
    sess.run(tiny_input)
    layers = sess.profile()
    assert layers and all({"ms", "cpu_ms", "threads"} <= set(p) for p in layers)
    for p in layers:
        if p["kernel"] in ("fused", "view"):
            assert p["cpu_ms"] == 0.0, p
        else:
            assert 0.0 < p["cpu_ms"] <= 2 * p["ms"] + 0.001, p
    assert tiny.session(threads=2).profile() == [] or all(
        p["cpu_ms"] == 0.0 for p in tiny.session(threads=2).profile())


def test_compile_and_bench(tmp_path, tiny, tiny_input):
    out = evo.compile(tiny.path, tmp_path / "tiny.evo")
    m = evo.load(out)
    assert np.array_equal(m.session().run(tiny_input)[0], tiny.session().run(tiny_input)[0])
    b = evo.bench(m, runs=5, warmup=1, profile=True)
    assert b["runs"] == 5 and 0 < b["min_ms"] <= b["p50_ms"] <= b["max_ms"] and b["fps"] > 0
    assert b["layers"] and {"node", "op", "kernel", "ms"} <= set(b["layers"][0])
    with pytest.raises(evo.CommandError, match="nonexistent"):
        evo.compile(tmp_path / "nonexistent.onnx", tmp_path / "x.evo")


def test_quantize_and_eval(tmp_path):
    images = SHARED / "coco64" / "images"
    if not images.is_dir():
        pytest.skip(f"{images} absent (shared data)")
    q = evo.quantize(model_path("tiny_cnn_op13.onnx"), tmp_path / "tiny_q.evo", images, calib_count=2,
                     no_scale=True)
    assert evo.load(q).inputs[0].shape == (1, 3, 64, 64)
    path, preset = detector_model()
    subset, labels = tmp_path / "images", tmp_path / "labels"
    subset.mkdir()
    labels.mkdir()
    for jpg in sorted(images.glob("*.jpg"))[:2]:
        (subset / jpg.name).symlink_to(jpg)
        (labels / (jpg.stem + ".txt")).symlink_to(SHARED / "coco64" / "labels" / (jpg.stem + ".txt"))
    r = evo.eval(path, subset, labels=labels, preset=preset)
    assert r["images"] == 2 and 0.0 <= r["map"] <= 1.0 and "classes" in r
