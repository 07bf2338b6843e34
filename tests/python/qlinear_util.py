"""Helpers of the Python tests that compare evo with ONNX Runtime: run a
model in ORT and through `evo run` with .npy files, and compare quantized
outputs in steps of the output's quantization."""
import os
import subprocess
import tempfile

import numpy as np
import onnxruntime as ort


def run_ort(model_path, feeds):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def run_evo(evo, model_path, feeds, out_names, extra=()):
    """Runs `evo run`; returns ({name: array}, stderr text) or raises with evo's message."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [evo, "run", model_path]
        for name, arr in feeds.items():
            p = os.path.join(d, "in_%d.npy" % len(cmd))
            np.save(p, np.require(np.asarray(arr), requirements="C"))
            cmd += ["--input", "%s=%s" % (name, p)]
        outs = {}
        for name in out_names:
            p = os.path.join(d, "out_%d.npy" % len(cmd))
            outs[name] = p
            cmd += ["--output", "%s=%s" % (name, p)]
        cmd += list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("evo run failed (%d): %s" % (r.returncode, r.stderr.strip()))
        return {k: np.load(p) for k, p in outs.items()}, r.stderr


def step_diff(a, b):
    """Largest difference in quantization steps of two integer arrays."""
    return int(np.max(np.abs(a.astype(np.int32) - b.astype(np.int32)))) if a.size else 0
