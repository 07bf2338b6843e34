#!/usr/bin/env python3
"""One model in ONNX Runtime and in evo: outputs compared, latencies printed.

    python ort_vs_evo.py MODEL.onnx [--input x.npy] [--threads 2] [--runs 20]

Without --input a seeded random input of the model's shape is used. Prints
the largest absolute and relative difference per output and the median
latency of each runtime (same threads, same process, measured in turns).
"""
import argparse
import time

import numpy as np
import onnxruntime as ort

import evo


def median_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--input", help=".npy input (default: random of the model's input shape)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()

    model = evo.load(a.model)
    info = model.inputs[0]
    x = np.load(a.input) if a.input else np.random.default_rng(0).random(info.shape, dtype=np.float32)
    sess = model.session(threads=a.threads)

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    ort_sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    feed = {ort_sess.get_inputs()[0].name: x}

    ys_evo = sess.run({info.name: x})
    ys_ort = ort_sess.run(None, feed)
    for t, ye, yo in zip(model.outputs, ys_evo, ys_ort):
        diff = np.abs(ye.astype(np.float64) - yo)
        rel = diff.max() / max(np.abs(yo).max(), 1e-12)
        print(f"output {t.name} {list(t.shape)}: max |evo - ort| {diff.max():.3g} (relative {rel:.3g})")

    ms_evo = median_ms(lambda: sess.run(x), a.runs)
    ms_ort = median_ms(lambda: ort_sess.run(None, feed), a.runs)
    print(f"median of {a.runs} runs, {a.threads} threads: evo {ms_evo:.2f} ms, onnxruntime {ms_ort:.2f} ms "
          f"(evo/ort {ms_evo / ms_ort:.2f})")


if __name__ == "__main__":
    main()
