"""The com.microsoft quantized ops (QLinearAdd, QLinearMul, QLinearSigmoid,
QLinearLeakyRelu, QLinearConcat, QLinearGlobalAveragePool,
QLinearAveragePool): one-node models built with the onnx package run in
ONNX Runtime and in `evo run` on seeded random inputs, uint8 and int8,
with odd shapes and broadcasting.

Tolerance: exact (0 steps) for every op: evo's reference kernels compute
what ONNX Runtime's CPU kernels compute (float dequantize, op, divide by
the output scale, round half to even; the integer-sum global pool). The one
allowance is QLinearSigmoid, whose ORT table comes from MLAS's polynomial
logistic rather than expf: 1 step on at most 1 % of outputs (0 measured
with ORT 1.32 on x86-64). Usage: test_ms_qops.py EVO_BINARY
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

from qlinear_util import run_evo, run_ort, step_diff

MS = "com.microsoft"
rng = np.random.default_rng(1234)


def qtype(dt):
    return TensorProto.UINT8 if dt == np.uint8 else TensorProto.INT8


def rand_q(dt, shape):
    lo, hi = (0, 256) if dt == np.uint8 else (-128, 128)
    return rng.integers(lo, hi, size=shape).astype(dt)


def rand_zp(dt):
    return dt(rng.integers(90, 170) if dt == np.uint8 else rng.integers(-40, 40))


def const(name, value):
    return helper.make_tensor(name, TensorProto.FLOAT if value.dtype == np.float32 else
                              qtype(value.dtype.type), value.shape, value.flatten().tolist())


def build(op, inputs, feeds, consts, out_shape, dt, attrs=None, name="m", out_type=None):
    """A one-node com.microsoft model: feeds are graph inputs, consts initializers."""
    vi = [helper.make_tensor_value_info(k, qtype(dt), v.shape) for k, v in feeds.items()]
    out = helper.make_tensor_value_info("y", out_type or qtype(dt), None)
    node = helper.make_node(op, inputs, ["y"], domain=MS, **(attrs or {}))
    inits = [const(k, np.asarray(v)) if np.asarray(v).dtype != np.int32 else
             helper.make_tensor(k, TensorProto.INT32, np.shape(v), np.asarray(v).flatten().tolist())
             for k, v in consts.items()]
    g = helper.make_graph([node], name, vi, [out], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)])
    m.ir_version = 8
    return m


class Stats:
    def __init__(self):
        self.cases = self.failures = 0
        self.summary = {}


def check(stats, evo, label, model, feeds, tol, max_share=0.0, output="y"):
    """Runs model in ORT and evo; every 4th case also through a compiled .evo file."""
    stats.cases += 1
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.onnx")
        onnx.save(model, path)
        want = run_ort(path, feeds)[output]
        try:
            if stats.cases % 4 == 0:
                compiled = os.path.join(d, "m.evo")
                r = subprocess.run([evo, "compile", path, "-o", compiled], capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError("evo compile failed: " + r.stderr.strip())
                path = compiled
                label += " (.evo)"
            got = run_evo(evo, path, feeds, [output])[0][output]
        except RuntimeError as e:
            print("FAIL %s: %s" % (label, e))
            stats.failures += 1
            return
    if got.shape != want.shape or got.dtype != want.dtype:
        print("FAIL %s: evo %s %s, ORT %s %s" % (label, got.dtype, got.shape, want.dtype, want.shape))
        stats.failures += 1
        return
    # float outputs (QGemm without y_scale, the chain's DequantizeLinear) must be equal
    diff = step_diff(got, want) if want.dtype.kind in "iu" else (0 if np.array_equal(got, want) else 999)
    share = float(np.mean(got != want)) if got.size else 0.0
    op = label.split()[0]
    worst = stats.summary.get(op, (0, 0.0))
    stats.summary[op] = (max(worst[0], diff), max(worst[1], share))
    if diff > tol or share > max_share:
        print("FAIL %s: max diff %d steps (allowed %d), %.4f%% of outputs differ (allowed %.4f%%)" %
              (label, diff, tol, 100 * share, 100 * max_share))
        stats.failures += 1


def scale():
    return np.float32(rng.uniform(0.005, 0.08))


def case_binary(stats, evo, op, dt, sa, sb):
    a, b = rand_q(dt, sa), rand_q(dt, sb)
    c = dict(a_s=scale(), a_z=rand_zp(dt), b_s=scale(), b_z=rand_zp(dt),
             c_s=np.float32(scale() * (3 if op == "QLinearMul" else 1.5)), c_z=rand_zp(dt))
    if op == "QLinearMul":
        c["c_s"] = np.float32(c["a_s"] * c["b_s"] * rng.uniform(40, 90))
    m = build(op, ["a", "a_s", "a_z", "b", "b_s", "b_z", "c_s", "c_z"], {"a": a, "b": b}, c, None, dt)
    check(stats, evo, "%s %s %s %s" % (op, dt.__name__, sa, sb), m, {"a": a, "b": b}, 0)


def case_lut(stats, evo, op, dt, shape, alpha=None):
    x = rand_q(dt, shape)
    c = dict(x_s=scale(), x_z=rand_zp(dt), y_s=np.float32(1 / 256 if op == "QLinearSigmoid" else scale()),
             y_z=dt(0 if dt == np.uint8 else -128) if op == "QLinearSigmoid" else rand_zp(dt))
    attrs = {"alpha": alpha} if alpha is not None else None
    m = build(op, ["x", "x_s", "x_z", "y_s", "y_z"], {"x": x}, c, None, dt, attrs)
    tol, share = (1, 0.01) if op == "QLinearSigmoid" else (0, 0.0)
    check(stats, evo, "%s %s %s alpha=%s" % (op, dt.__name__, shape, alpha), m, {"x": x}, tol, share)


def case_concat(stats, evo, dt, shapes, axis, same_first):
    feeds, consts, names = {}, dict(y_s=scale(), y_z=rand_zp(dt)), ["y_s", "y_z"]
    for k, sh in enumerate(shapes):
        feeds["x%d" % k] = rand_q(dt, sh)
        if k == 0 and same_first:
            consts["s%d" % k], consts["z%d" % k] = consts["y_s"], consts["y_z"]
        else:
            consts["s%d" % k], consts["z%d" % k] = scale(), rand_zp(dt)
        names += ["x%d" % k, "s%d" % k, "z%d" % k]
    m = build("QLinearConcat", names, feeds, consts, None, dt, {"axis": axis})
    check(stats, evo, "QLinearConcat %s %s axis=%d" % (dt.__name__, shapes, axis), m, feeds, 0)


def case_pool(stats, evo, op, dt, shape, attrs):
    x = rand_q(dt, shape)
    c = dict(x_s=scale(), x_z=rand_zp(dt), y_s=scale(), y_z=rand_zp(dt))
    m = build(op, ["x", "x_s", "x_z", "y_s", "y_z"], {"x": x}, c, None, dt, attrs)
    check(stats, evo, "%s %s %s %s" % (op, dt.__name__, shape, attrs), m, {"x": x}, 0)


def case_qgemm(stats, evo, dt, m, k, n, trans_a, trans_b, per_col, bias_shape, quant_y, alpha=1.0):
    a = rand_q(dt, (k, m) if trans_a else (m, k))
    c = dict(a_s=scale(), a_z=rand_zp(dt))
    c["b"] = rand_q(np.int8, (n, k) if trans_b else (k, n))
    c["b_s"] = rng.uniform(0.002, 0.02, size=(n,) if per_col else ()).astype(np.float32)
    c["b_z"] = np.zeros((n,) if per_col else (), np.int8)
    names = ["a", "a_s", "a_z", "b", "b_s", "b_z"]
    if bias_shape is not None:
        c["bias"] = rng.integers(-3000, 3000, size=bias_shape).astype(np.int32)
        names.append("bias")
    elif quant_y:
        names.append("")
    if quant_y:
        c["y_s"] = np.float32(c["a_s"] * 0.01 * np.sqrt(k) * 4)
        c["y_z"] = rand_zp(dt)
        names += ["y_s", "y_z"]
    attrs = dict(transA=int(trans_a), transB=int(trans_b), alpha=alpha)
    mdl = build("QGemm", names, {"a": a}, c, None, dt, attrs, out_type=None if quant_y else TensorProto.FLOAT)
    label = "QGemm %s m=%d k=%d n=%d tA=%d tB=%d per_col=%d bias=%s quant_y=%d" % (
        dt.__name__, m, k, n, trans_a, trans_b, per_col, bias_shape, quant_y)
    check(stats, evo, label, mdl, {"a": a}, 0)


def case_chain(stats, evo):
    """The fuzz seed chaining every op (Q, the com.microsoft ops, Flatten, DQ) on 5 inputs."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))
    from make_onnx_seeds import ms_quantized
    m = ms_quantized()
    for seed in range(5):
        x = np.random.default_rng(seed).uniform(-2.5, 2.5, (1, 4, 6, 6)).astype(np.float32)
        check(stats, evo, "chain seed=%d" % seed, m, {"x": x}, 0, output="y")


def main():
    evo = sys.argv[1]
    stats = Stats()
    case_chain(stats, evo)
    for dt in (np.uint8, np.int8):
        for op in ("QLinearAdd", "QLinearMul"):
            for sa, sb in [((1, 3, 7, 5), (1, 3, 7, 5)), ((2, 5, 3, 9), (1, 5, 1, 1)), ((4, 1, 6), (3, 1)),
                           ((37,), ()), ((1,), (2, 3, 33)), ((1, 16, 9, 9), (1, 16, 9, 9))]:
                case_binary(stats, evo, op, dt, sa, sb)
        for shape in [(1, 3, 5, 7), (257,), (2, 4, 1, 31)]:
            case_lut(stats, evo, "QLinearSigmoid", dt, shape)
            case_lut(stats, evo, "QLinearLeakyRelu", dt, shape, alpha=float(rng.uniform(0.01, 0.3)))
        case_lut(stats, evo, "QLinearLeakyRelu", dt, (3, 3))
        case_concat(stats, evo, dt, [(1, 3, 5, 5), (1, 4, 5, 5), (1, 1, 5, 5)], 1, True)
        case_concat(stats, evo, dt, [(2, 3, 7), (2, 3, 2)], -1, False)
        case_concat(stats, evo, dt, [(3, 5), (1, 5), (2, 5)], 0, True)
        for shape in [(1, 5, 7, 7), (2, 3, 13, 11), (1, 9, 1, 1), (1, 4, 20)]:
            case_pool(stats, evo, "QLinearGlobalAveragePool", dt, shape, {})
        case_pool(stats, evo, "QLinearGlobalAveragePool", dt, (1, 6, 5, 11), {"channels_last": 1})
        for shape, attrs in [((1, 3, 9, 9), dict(kernel_shape=[3, 3], strides=[2, 2])),
                             ((1, 4, 10, 7), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])),
                             ((1, 4, 10, 7), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)),
                             ((2, 3, 11, 11), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
                             ((1, 2, 8, 9), dict(kernel_shape=[3, 2], auto_pad="SAME_UPPER")),
                             ((1, 2, 8, 9), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER")),
                             ((1, 3, 13), dict(kernel_shape=[4], strides=[3], pads=[2, 1])),
                             ((1, 5, 6, 6), dict(kernel_shape=[6, 6])),
                             ((1, 6, 7, 3), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], channels_last=1))]:
            case_pool(stats, evo, "QLinearAveragePool", dt, shape, attrs)
        for m, k, n, ta, tb, pc, bias, qy in [(1, 512, 10, 0, 1, 1, (10,), 1), (3, 17, 5, 0, 0, 0, None, 1),
                                              (4, 9, 7, 1, 1, 1, (4, 1), 1), (2, 33, 6, 0, 1, 1, (2, 6), 0),
                                              (5, 8, 3, 1, 0, 0, (), 0)]:
            case_qgemm(stats, evo, dt, m, k, n, ta, tb, pc, bias, qy)
    for op, (diff, share) in sorted(stats.summary.items()):
        print("%-26s max diff %d step(s), at most %.3f%% of outputs differ" % (op, diff, 100 * share))
    print("%d cases, %d failures" % (stats.cases, stats.failures))
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
