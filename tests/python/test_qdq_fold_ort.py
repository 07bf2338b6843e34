"""QDQ models (QuantizeLinear -> DequantizeLinear around a float Add, Mul,
Sigmoid, LeakyRelu, Concat, GlobalAveragePool, AveragePool, Gemm) run in
ONNX Runtime, which fuses them into its QLinear ops, and in `evo run`,
whose pass fold_qdq_ms does the same: seeded random inputs, uint8 and int8.

Tolerance: outputs (float, after the last DequantizeLinear) within one
output step everywhere and at least 99 % of them equal; the measured share
is printed per op. Usage: test_qdq_fold_ort.py EVO
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

from qlinear_util import run_evo, run_ort

rng = np.random.default_rng(77)


def qdq_nodes(x, out, p):
    return [helper.make_node("QuantizeLinear", [x, p + "_s", p + "_z"], [out + "_q"]),
            helper.make_node("DequantizeLinear", [out + "_q", p + "_s", p + "_z"], [out])]


def qparams(p, scale, zp, dt):
    return [helper.make_tensor(p + "_s", TensorProto.FLOAT, [], [scale]),
            helper.make_tensor(p + "_z", TensorProto.UINT8 if dt == np.uint8 else TensorProto.INT8, [], [zp])]


def model(op, shapes, dt, attrs=None, out_scale=0.05, extra_inits=(), extra_inputs=()):
    nodes, inits, inputs = [], [], []
    zp = 128 if dt == np.uint8 else 0
    deq = []
    for k, sh in enumerate(shapes):
        name = "x%d" % k
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, sh))
        inits += qparams("p%d" % k, float(rng.uniform(0.01, 0.03)), zp + int(rng.integers(-20, 20)), dt)
        nodes += qdq_nodes(name, name + "d", "p%d" % k)
        deq.append(name + "d")
    inits += qparams("y", out_scale, zp if op != "Sigmoid" else (0 if dt == np.uint8 else -128), dt)
    inits += list(extra_inits)
    nodes.append(helper.make_node(op, deq + list(extra_inputs), ["s"], **(attrs or {})))
    nodes += qdq_nodes("s", "z", "y")
    g = helper.make_graph(nodes, op, inputs, [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def gemm_extras(dt, k, n):
    w = rng.integers(-127, 128, size=(n, k)).astype(np.int8)
    ws = rng.uniform(0.002, 0.01, size=(n,)).astype(np.float32)
    inits = [helper.make_tensor("w_q", TensorProto.INT8, [n, k], w.flatten().tolist()),
             helper.make_tensor("w_s", TensorProto.FLOAT, [n], ws.tolist()),
             helper.make_tensor("w_z", TensorProto.INT8, [n], [0] * n),
             helper.make_tensor("bias", TensorProto.FLOAT, [n], rng.uniform(-1, 1, size=n).tolist())]
    nodes = [helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w"], axis=0)]
    return inits, nodes


def main():
    evo = sys.argv[1]
    failures = cases = 0
    for dt in (np.uint8, np.int8):
        specs = [("Add", [(1, 4, 5, 7), (1, 4, 1, 1)], None), ("Mul", [(2, 3, 9), (2, 3, 9)], None),
                 ("Sigmoid", [(1, 3, 8, 11)], None), ("LeakyRelu", [(1, 3, 8, 11)], {"alpha": 0.15}),
                 ("Concat", [(1, 3, 5, 5), (1, 2, 5, 5)], {"axis": 1}), ("GlobalAveragePool", [(1, 6, 9, 13)], None),
                 ("AveragePool", [(1, 4, 11, 9)], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
                 ("Gemm", [(3, 24)], {"transB": 1})]
        for op, shapes, attrs in specs:
            cases += 1
            extra_inits, extra_inputs = (), ()
            if op == "Gemm":
                inits, wnodes = gemm_extras(dt, 24, 10)
                m = model(op, shapes, dt, attrs, 0.1, inits, ["w", "bias"])
                m.graph.node.insert(0, wnodes[0])
            else:
                m = model(op, shapes, dt, attrs, 1 / 256 if op == "Sigmoid" else 0.03)
            feeds = {"x%d" % k: rng.uniform(-2, 2, size=sh).astype(np.float32) for k, sh in enumerate(shapes)}
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "m.onnx")
                onnx.save(m, path)
                want = run_ort(path, feeds)["z"]
                try:
                    got = run_evo(evo, path, feeds, ["z"])[0]["z"]
                except RuntimeError as e:
                    print("FAIL %s %s: %s" % (op, dt.__name__, e))
                    failures += 1
                    continue
            step = 1 / 256 if op == "Sigmoid" else 0.1 if op == "Gemm" else 0.03
            diff = np.abs(got - want)
            equal = float(np.mean(diff == 0))
            ok = got.shape == want.shape and float(diff.max()) <= step * 1.001 and equal >= 0.99
            failures += not ok
            print("%s %-18s %-5s %.2f%% equal, max diff %.3g steps" %
                  ("ok  " if ok else "FAIL", op, dt.__name__, 100 * equal, float(diff.max()) / step))
    print("%d QDQ cases, %d failures" % (cases, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
