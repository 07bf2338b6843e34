#!/usr/bin/env python3
"""What the Python layer costs over the C calls, in one process.

    python bench/python_overhead.py [TINY_MODEL.onnx] [--detector MODEL --preset P] [--rounds 5]

Session: the median of evo_session_run timed in C (Session.bench_c) against
the median wall time of sess.run(x) (input copy + output copy), sess.run(x,
copy=False) and sess.run() on the zero-copy input view, per call; the default
model is the ONNX Relu node test (60 floats), where nothing but overhead is
left. Detector: det(frame) on a 1280x720 BGR frame against the stage times the
C pipeline reports for the same call (preprocess + model + postprocess).
Prints medians over --rounds rounds (this machine is shared: compare within one run).
"""
import argparse
import statistics
import time

import numpy as np

import evo


def per_call_us(fn, n):
    """Median time of one call (each timed alone, as bench_c times the C call; includes the timer's cost)."""
    clock = time.perf_counter_ns
    times = []
    for _ in range(n):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times) / 1e3


def session_overhead(path, rounds, n):
    model = evo.load(path)
    sess = model.session(threads=1)
    info = model.inputs[0]
    x = np.random.default_rng(0).random(info.shape, dtype=np.float32)
    view = sess.input_array(0)
    view[...] = x
    rows = {"C evo_session_run": [], "sess.run(x)": [], "sess.run(x, copy=False)": [],
            "sess.run() on input_array": []}
    for _ in range(rounds):
        rows["C evo_session_run"].append(statistics.median(sess.bench_c(runs=n, warmup=100)) * 1e3)
        rows["sess.run(x)"].append(per_call_us(lambda: sess.run(x), n))
        rows["sess.run(x, copy=False)"].append(per_call_us(lambda: sess.run(x, copy=False), n))
        rows["sess.run() on input_array"].append(per_call_us(lambda: sess.run(copy=False), n))
    c = statistics.median(rows["C evo_session_run"])
    print(f"session on {path} ({info.size_bytes} input bytes), median of {rounds} rounds x {n} calls:")
    for name, v in rows.items():
        m = statistics.median(v)
        extra = "" if name.startswith("C ") else f"  (+{m - c:.2f} us over C)"
        print(f"  {name:28s} {m:8.2f} us{extra}")


def detector_overhead(path, preset, rounds, n):
    det = evo.Detector(evo.load(path), preset=preset, threads=2)
    frame = (np.random.default_rng(1).random((720, 1280, 3)) * 255).astype(np.uint8)
    det(frame)
    walls, stages = [], []
    for _ in range(rounds * n):
        t0 = time.perf_counter_ns()
        det(frame)
        walls.append((time.perf_counter_ns() - t0) / 1e6)
        stages.append(sum(det.timing.values()))
    w, s = statistics.median(walls), statistics.median(stages)
    print(f"detector on {path}, 1280x720 BGR, median of {len(walls)} frames: det(frame) {w:.2f} ms, "
          f"C stages {s:.2f} ms, overhead {w - s:.3f} ms ({(w - s) / s * 100:.2f} %)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default="/usr/share/libonnx-testdata/data/node/test_relu/model.onnx")
    ap.add_argument("--detector", help="a detector model for the frame overhead")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=2000)
    a = ap.parse_args()
    session_overhead(a.model, a.rounds, a.calls)
    if a.detector:
        detector_overhead(a.detector, a.preset, a.rounds, 4)


if __name__ == "__main__":
    main()
