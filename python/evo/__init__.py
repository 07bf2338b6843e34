"""evo: ONNX vision models compiled into fast CPU programs, camera frames to boxes.

    import evo, numpy as np
    model = evo.load("yolov5s.onnx", input_shape={"images": (1, 3, 640, 640)})
    sess = model.session(threads=2)
    y, = sess.run(np.zeros((1, 3, 640, 640), np.float32))     # list of numpy arrays (copies)
    x = sess.input_array(0)          # zero-copy view of the input tensor: write the frame here
    x[...] = 0.5
    y, = sess.run(copy=False)        # read-only views, valid until the next run

    det = evo.Detector(model, preset="yolov5", conf=0.25, iou=0.45, threads=2)
    boxes = det(frame_bgr)           # structured array: x1, y1, x2, y2, score, class
    print(det.timing)                # {'preprocess_ms': ..., 'inference_ms': ..., 'postprocess_ms': ...}

A Model is immutable and shared by threads; a Session or a Detector is used
by one thread at a time (the GIL is released while it runs). Failures raise
evo.Error subclasses carrying the C library's message.
"""
import json
import math
import os
import subprocess
from typing import NamedTuple

import numpy as np

from . import _evo
from ._cli import cli_path
from ._errors import (CommandError, Error, InternalError, InvalidArgumentError, IoError, LimitError,
                      OutOfMemoryError, ParseError, ShapeError, UnsupportedError, raise_status)

_evo._set_raiser(raise_status)

__version__ = _evo.version
__all__ = ["load", "Model", "Session", "Detector", "TensorInfo", "DETECTION_DTYPE", "compile", "quantize",
           "bench", "eval", "Error", "IoError", "ParseError", "UnsupportedError", "ShapeError",
           "OutOfMemoryError", "LimitError", "InvalidArgumentError", "InternalError", "CommandError"]

#: Rows of Detector results; the layout of the C struct evo_detection.
DETECTION_DTYPE = np.dtype([("x1", "<f4"), ("y1", "<f4"), ("x2", "<f4"), ("y2", "<f4"), ("score", "<f4"),
                            ("class", "<i4")])


class TensorInfo(NamedTuple):
    """A model input or output: name, shape (tuple of ints), dtype (numpy dtype), size in bytes."""

    name: str
    shape: tuple
    dtype: np.dtype
    size_bytes: int


def _infos(descs):
    return [TensorInfo(name, tuple(dims), np.dtype(dtype), size) for name, dims, dtype, size in descs]


class Model:
    """A compiled model: ONNX (compiled on load) or .evo. Immutable; shared by any number of sessions.

    Use :func:`evo.load` to create one. Its sessions and detectors keep it alive, so it may be
    dropped before them.
    """

    def __init__(self, path, input_shape=None, isa=None, disable_passes=None, default_batch=1):
        self.path = os.fspath(path)
        self.isa = isa
        shapes = None
        if input_shape is not None:
            items = input_shape.items() if isinstance(input_shape, dict) else input_shape
            shapes = [(str(name), tuple(int(d) for d in dims)) for name, dims in items]
        self._m = _evo.Model(self.path, shapes, disable_passes, int(default_batch))
        self.inputs = _infos(self._m._descs(False))
        self.outputs = _infos(self._m._descs(True))

    def __repr__(self):
        ins = ", ".join(f"{t.name}{list(t.shape)}" for t in self.inputs)
        outs = ", ".join(f"{t.name}{list(t.shape)}" for t in self.outputs)
        return f"<evo.Model {self.path!r}: {ins} -> {outs}>"

    def info(self):
        """The model's description as a dict: path, version, isa, inputs and outputs (name, shape, dtype, bytes)."""

        def tensor(t):
            return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.name, "size_bytes": t.size_bytes}

        return {"path": self.path, "evo_version": __version__, "isa": self.isa,
                "inputs": [tensor(t) for t in self.inputs], "outputs": [tensor(t) for t in self.outputs]}

    def session(self, threads=1, isa=None, profile=False):
        """A new :class:`Session` (its own arena and threads) on this model."""
        return Session(self, threads=threads, isa=isa, profile=profile)


def load(path, input_shape=None, isa=None, disable_passes=None, default_batch=1):
    """Loads an ONNX model (compiling it) or a .evo file.

    input_shape: {"images": (1, 3, 640, 640)} fixes unknown dimensions. isa caps the kernels of
    the sessions made from this model ("ref", "avx2", "avx512", "vnni"; None: the best the CPU
    has, or $EVO_ISA). disable_passes: comma-separated optimisation passes to skip. Raises
    evo.IoError for a missing file, evo.ParseError / evo.UnsupportedError for a bad model.
    """
    return Model(path, input_shape=input_shape, isa=isa, disable_passes=disable_passes,
                 default_batch=default_batch)


class Session:
    """Run state of a model: one arena, scratch and thread pool. One thread at a time.

    Several sessions of one model may run in parallel threads. The model is kept alive by its
    sessions; the arrays :meth:`input_array` and ``run(copy=False)`` return keep the session alive.
    """

    def __init__(self, model, threads=1, isa=None, profile=False):
        if not isinstance(model, Model):
            raise TypeError(f"Session needs an evo.Model, got {type(model).__name__}")
        self.model = model
        self._s = _evo.Session(model._m, int(threads), isa or model.isa, bool(profile))
        self._inputs = model.inputs
        self._index = {t.name: i for i, t in enumerate(model.inputs)}
        self._in_views = [np.asarray(self._s._input_buffer(i)) for i in range(len(model.inputs))]
        self._out_views = [np.asarray(self._s._output_buffer(i)) for i in range(len(model.outputs))]

    def _input_index(self, key):
        if isinstance(key, str):
            if key not in self._index:
                raise InvalidArgumentError(f"no input named {key!r}; inputs: {list(self._index)}")
            return self._index[key]
        i = int(key)
        if not 0 <= i < len(self._inputs):
            raise IndexError(f"input index {i} out of range (the model has {len(self._inputs)})")
        return i

    def input_array(self, key=0):
        """The input tensor (index or name) as a writable numpy view of the session's buffer.

        Writing into it and calling ``run()`` with no arguments feeds the model with no copy.
        """
        return self._in_views[self._input_index(key)]

    def input_pointer(self, key=0):
        """Address of the input tensor in the session arena (what evo_session_input_data returns)."""
        return self._s._pointer(self._input_index(key), False)

    def output_pointer(self, index=0):
        """Address of output ``index`` in the session arena (what evo_session_output_data returns)."""
        return self._s._pointer(int(index), True)

    def _check(self, i, x):
        info = self._inputs[i]
        a = x if isinstance(x, np.ndarray) else np.asarray(x)
        if a.dtype != info.dtype:
            raise InvalidArgumentError(f"input {info.name!r}: dtype {a.dtype}, expected {info.dtype} "
                                       f"(convert with .astype(np.{info.dtype}))")
        if a.shape != info.shape:
            raise InvalidArgumentError(f"input {info.name!r}: shape {a.shape}, expected {info.shape}")
        return a if a.flags.c_contiguous else np.ascontiguousarray(a)  # a strided view is copied once

    def run(self, inputs=None, *, copy=True):
        """Runs the model; returns the outputs as a list of numpy arrays in model order.

        inputs: None (use what is already in :meth:`input_array`), one array (single-input
        models), a list in input order, or a dict {name: array}. Arrays must have the input's
        exact dtype and shape; non-contiguous arrays are copied. copy=False returns read-only
        views of the session's output buffers instead of copies: no allocation, but the next
        run overwrites them. The GIL is released while the model runs.
        """
        if inputs is None:
            arrays = None
        elif isinstance(inputs, dict):
            unknown = [k for k in inputs if k not in self._index]
            if unknown:
                raise InvalidArgumentError(f"no input named {unknown[0]!r}; inputs: {list(self._index)}")
            missing = [t.name for t in self._inputs if t.name not in inputs]
            if missing:
                raise InvalidArgumentError(f"input {missing[0]!r} not given; inputs: {list(self._index)}")
            arrays = [self._check(i, inputs[t.name]) for i, t in enumerate(self._inputs)]
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) != len(self._inputs):
                raise InvalidArgumentError(f"{len(inputs)} inputs given, the model has {len(self._inputs)}")
            arrays = [self._check(i, x) for i, x in enumerate(inputs)]
        else:
            if len(self._inputs) != 1:
                raise InvalidArgumentError(f"the model has {len(self._inputs)} inputs: pass a list or a dict")
            arrays = (self._check(0, inputs),)
        self._s._run(arrays)
        if copy:
            return [v.copy() for v in self._out_views]
        return list(self._out_views)

    def profile(self):
        """Per-step timings of the last run (the session needs profile=True) as a list of dicts.

        "ms" is the step's wall time, "cpu_ms" its tasks' time summed over the threads."""
        keys = ("node", "op", "kernel", "output", "ms", "flops", "bytes", "threads", "reference", "cpu_ms")
        return [dict(zip(keys, p)) for p in self._s._profile()]

    @property
    def arena_bytes(self):
        """Bytes of the session's arena (activations and scratch)."""
        return self._s._arena_bytes()

    def bench_c(self, runs=100, warmup=5):
        """Per-run milliseconds of the bare C call evo_session_run (no Python in the loop)."""
        return self._s._bench(int(warmup), int(runs))


_FORMATS = {"rgb": 0, "bgr": 1, "rgba": 2, "bgra": 3, "gray": 4, "yuyv": 5, "nv12": 6}


class Detector:
    """Frame in, boxes out: fused preprocess into the input tensor, the model, decode and NMS.

    preset: "yolov5", "yolov8", "yolox", "nanodet", "picodet", a preset file (README
    "Detector presets"), or None for Ultralytics defaults with the decoder picked from the
    output shapes (as ``evo detect`` without --preset); conf / iou override its thresholds. The detector owns a session on
    the model with ``threads`` threads and keeps the model alive.
    """

    def __init__(self, model, preset=None, conf=None, iou=None, threads=1, isa=None, max_detections=None,
                 class_agnostic=None):
        if not isinstance(model, Model):
            model = load(model)
        self.model = model
        self._d = _evo.Detector(model._m, preset, int(threads), isa or model.isa,
                                -1.0 if conf is None else float(conf), -1.0 if iou is None else float(iou),
                                int(max_detections or 0), -1 if class_agnostic is None else int(bool(class_agnostic)))
        self.timing = {"preprocess_ms": 0.0, "inference_ms": 0.0, "postprocess_ms": 0.0}

    def __call__(self, frame, format="bgr", uv=None):
        """Detects objects in one frame; returns a DETECTION_DTYPE array, best first, boxes in frame pixels.

        frame: an image path (JPEG/PNG), or a uint8 array: HxWx3 BGR as OpenCV gives it
        (format="rgb" for RGB; "rgba", "bgra", "gray" too), HxWx2 or Hx2W YUYV (format="yuyv"),
        or NV12 as one (H*3/2)xW array or a HxW Y plane plus ``uv`` (format="nv12"). Any row
        stride works (a cropped view); pixels within a row must be packed, otherwise the frame
        is copied once. The stage times of the call are in ``self.timing``.
        """
        if isinstance(frame, (str, bytes, os.PathLike)):
            raw, t = self._d._run_path(frame)
        else:
            fmt = _FORMATS.get(format)
            if fmt is None:
                raise InvalidArgumentError(f"format {format!r}, expected one of {sorted(_FORMATS)}")
            raw, t = self._d._run(_rows_packed(frame), fmt, None if uv is None else _rows_packed(uv))
        self.timing = {"preprocess_ms": t[0], "inference_ms": t[1], "postprocess_ms": t[2]}
        return np.frombuffer(raw, DETECTION_DTYPE)

    detect = __call__


def _rows_packed(a):
    """a as uint8 with packed pixels in each row (keeping any row stride); copies only if needed."""
    a = np.asarray(a)
    if a.dtype != np.uint8:
        raise InvalidArgumentError(f"frame dtype {a.dtype}, expected uint8")
    if a.ndim >= 2 and a.strides[0] > 0:
        packed = a.itemsize
        ok = True
        for k in range(a.ndim - 1, 0, -1):
            ok = ok and a.strides[k] == packed
            packed *= a.shape[k]
        if ok:
            return a
    return np.ascontiguousarray(a)


def _model_path(model):
    return model.path if isinstance(model, Model) else os.fspath(model)


def _shape_args(input_shape):
    args = []
    for name, dims in (input_shape or {}).items():
        args += ["--input-shape", f"{name}=" + "x".join(str(int(d)) for d in dims)]
    return args


def _option_args(options):
    """{"calib_count": 8, "no_equalize": True} -> ["--calib-count", "8", "--no-equalize"]"""
    args = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    return args


def _cli(args):
    """Runs the packaged evo tool; returns its stdout, raises evo.CommandError with its error output."""
    try:
        r = subprocess.run([cli_path()] + args, capture_output=True, text=True)
    except OSError as e:
        raise CommandError(f"cannot run {cli_path()}: {e}") from None
    if r.returncode != 0:
        raise CommandError((r.stderr.strip() or r.stdout.strip() or f"evo {args[0]} failed"))
    return r.stdout


def compile(model, output, input_shape=None, **options):
    """Compiles a model to a .evo file (``evo compile MODEL -o OUTPUT``); returns the output path.

    options map to the command's flags: target="ethos-u55-256", calib="dir", isa="avx2",
    disable_pass="fuse_act", emit_onnx="out.onnx", no_cache=True ... (see ``evo compile --help``).
    """
    _cli(["compile", _model_path(model), "-o", os.fspath(output)] + _shape_args(input_shape)
         + _option_args(options))
    return os.fspath(output)


def quantize(model, output, calib, input_shape=None, **options):
    """Calibrates on a folder of images and writes an int8 .evo (``evo quantize``); returns the output path.

    options: calib_count=64, method="minmax"|"percentile"|"entropy"|"mse", no_equalize=True,
    qdq="out.onnx", preset="yolox", no_scale=True ... (see ``evo quantize --help``).
    """
    _cli(["quantize", _model_path(model), "--calib", os.fspath(calib), "-o", os.fspath(output)]
         + _shape_args(input_shape) + _option_args(options))
    return os.fspath(output)


def eval(model, images, labels=None, input_shape=None, **options):
    """COCO mAP of a detector over labelled images (``evo eval --json -``); returns the JSON as a dict.

    labels: folder of YOLO-format .txt labels (default: beside the images); options: preset,
    conf, iou, threads, names ... as the command's flags.
    """
    args = ["eval", _model_path(model), os.fspath(images), "--json", "-"]
    if labels is not None:
        args += ["--labels", os.fspath(labels)]
    out = _cli(args + _shape_args(input_shape) + _option_args(options))
    start = out.find("{")
    if start < 0:
        raise CommandError(f"evo eval printed no JSON: {out[:200]}")
    return json.loads(out[start:])


def bench(model, threads=1, runs=50, warmup=5, profile=False, isa=None, input_shape=None):
    """Latency of a model as ``evo bench`` measures it, in this process (the C call timed alone).

    Returns a dict: runs, threads, mean_ms, std_ms, min_ms, max_ms, p50_ms, p99_ms, fps and, with
    profile=True, "layers" (per-step ms, kernel, threads) of the last run.
    """
    if not isinstance(model, Model):
        model = load(model, input_shape=input_shape, isa=isa)
    sess = model.session(threads=threads, isa=isa, profile=profile)
    ms = sorted(sess.bench_c(runs=runs, warmup=warmup))
    n = len(ms)
    mean = sum(ms) / n
    std = math.sqrt(sum((t - mean) ** 2 for t in ms) / n)

    def pct(p):
        return ms[min(n - 1, int(math.ceil(p / 100.0 * n)) - 1)]

    out = {"model": model.path, "runs": n, "threads": threads, "mean_ms": mean, "std_ms": std, "min_ms": ms[0],
           "max_ms": ms[-1], "p50_ms": pct(50), "p99_ms": pct(99), "fps": 1000.0 / mean if mean > 0 else 0.0}
    if profile:
        out["layers"] = sess.profile()
    return out
