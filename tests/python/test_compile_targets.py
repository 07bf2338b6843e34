"""evo compile MODEL --target a,b,c: one output per target (OUT.T.evo), the
compile cache (hits give the same bytes; a damaged entry is detected and
rebuilt; --no-cache writes nothing there), a float model quantized with
--calib and asked for --calib without it, unknown targets listed; and with
../shared/data, YOLOX-nano's exact rewrites on the int8 graph (Focus into a
stride-2 conv, the 6x6 kernel grown to 7x7) give bit-identical outputs, and
the activation-bound count of `evo info --json` agrees with its reasons.

usage: test_compile_targets.py [--part local|shared] EVO MODEL.onnx [SHARED_DATA]
(--part: parts_util.py; shared exits 77 without the data)
"""
import glob
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_npu_info import write_png  # noqa: E402
import parts_util as pu  # noqa: E402

TARGETS = ["ethos-u55-128", "ethos-n78-1tops-2ple", "cpu"]


def run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check(failures, name, cond, detail=""):
    if not cond:
        failures.append(f"{name}: {detail}")


def cli_errors(evo, model, failures):
    r = run([evo, "compile", model, "--target", "ethos-u99,cpu"])
    check(failures, "unknown target", r.returncode != 0 and "known targets: cpu, ethos-u55-128" in r.stderr,
          r.stderr)
    r = run([evo, "compile", model, "--target", "ethos-u55-128"])
    check(failures, "float without --calib", r.returncode != 0 and "give --calib DIR" in r.stderr, r.stderr)
    r = run([evo, "compile", model, "--calib", "/nonexistent"])
    check(failures, "--calib without --target", r.returncode != 0 and "applies with --target" in r.stderr, r.stderr)
    r = run([evo, "compile", model, "--target", "cpu", "--emit-onnx", "/tmp/x.onnx"])
    check(failures, "--emit-onnx with --target", r.returncode != 0 and "without --target" in r.stderr, r.stderr)


def cache_cases(evo, model, calib, work, failures):
    env = dict(os.environ, EVO_CACHE_DIR=os.path.join(work, "cache"))
    out = os.path.join(work, "m.evo")
    cmd = [evo, "compile", model, "--target", ",".join(TARGETS), "--calib", calib, "--calib-count", "2", "-o", out]
    r = run(cmd, env)
    check(failures, "first compile", r.returncode == 0 and r.stderr.count("compiled, cached") == 3, r.stderr)
    outs = {t: os.path.join(work, f"m.{t}.evo") for t in TARGETS}
    first = {}
    for t, p in outs.items():
        check(failures, f"output {t}", os.path.exists(p), p)
        if not os.path.exists(p):
            return
        first[t] = read(p)
        info = run([evo, "info", p, "--brief"])
        check(failures, f"recorded target {t}", info.returncode == 0 and f"target {t}" in info.stdout,
              info.stdout[-300:] + info.stderr)
    r = run(cmd, env)
    check(failures, "second compile: hits", r.returncode == 0 and r.stderr.count("cache hit") == 4, r.stderr)
    check(failures, "hits: same bytes", all(read(outs[t]) == first[t] for t in TARGETS))
    entries = sorted(glob.glob(os.path.join(work, "cache", "*.evo")))
    check(failures, "entries", len(entries) == 4, entries)
    # a damaged entry (a flipped byte, a truncated file, a checksum file gone) is rebuilt, never used
    for damage in ("flip", "truncate", "nosum"):
        for e in entries:
            if damage == "flip":
                data = bytearray(read(e))
                data[len(data) // 2] ^= 0x40
                with open(e, "wb") as f:
                    f.write(data)
            elif damage == "truncate":
                with open(e, "r+b") as f:
                    f.truncate(100)
            else:
                os.unlink(e[:-4] + ".sum")
        r = run(cmd, env)
        check(failures, f"damaged ({damage}): rebuilt",
              r.returncode == 0 and r.stderr.count(": rebuilt") == 4 and "cache hit" not in r.stderr, r.stderr)
        check(failures, f"damaged ({damage}): same bytes", all(read(outs[t]) == first[t] for t in TARGETS))
    before = sorted(os.listdir(os.path.join(work, "cache")))
    r = run(cmd + ["--no-cache"], env)
    check(failures, "--no-cache", r.returncode == 0 and "cache" not in r.stderr.replace("--no-cache", ""), r.stderr)
    check(failures, "--no-cache: cache untouched", sorted(os.listdir(os.path.join(work, "cache"))) == before)
    check(failures, "--no-cache: same bytes", all(read(outs[t]) == first[t] for t in TARGETS))
    # calibration's threads change no result: they are not in the cache key, and one thread gives the same bytes
    r = run(cmd + ["--threads", "1"], env)
    check(failures, "--threads: cache hits", r.returncode == 0 and r.stderr.count("cache hit") == 4, r.stderr)
    r = run(cmd + ["--threads", "1", "--no-cache"], env)
    check(failures, "--threads 1 --no-cache: same bytes",
          r.returncode == 0 and all(read(outs[t]) == first[t] for t in TARGETS), r.stderr)
    left = [f for f in os.listdir(work) if f.endswith(".tmp")]
    check(failures, "no temporary files left", not left, left)
    # an int8 .evo needs no --calib; activation levels apply to ONNX models only
    q = outs["cpu"]
    r = run([evo, "compile", q, "--target", "ethos-u55-128", "-o", os.path.join(work, "q.evo")], env)
    check(failures, "int8 .evo input", r.returncode == 0 and "ethos-u55-128" in r.stderr, r.stderr)
    r = run([evo, "compile", q, "--target", "ethos-u55-128", "--act", "silu=relu", "-o",
             os.path.join(work, "q2.evo"), "--no-cache"], env)
    check(failures, "--act on a compiled .evo", r.returncode != 0 and "before quantization" in r.stderr, r.stderr)


def yolox_exact(evo, data, work, failures):
    onnx = os.path.join(data, "models", "yolox_nano.onnx")
    calib = os.path.join(data, "coco64", "images")
    if not os.path.exists(onnx):
        print(f"SKIP: yolox rewrites: {onnx} is missing")
        return False
    q = os.path.join(work, "yolox_int8.evo")
    r = run([evo, "quantize", onnx, "--calib", calib, "--calib-count", "2", "--target-sqnr", "0", "--preset", "yolox",
             "-o", q])
    check(failures, "yolox quantize", r.returncode == 0, r.stderr)
    # the activation-bound count agrees with the per-node reasons
    r = run([evo, "info", q, "--target", "ethos-n78-1tops-2ple", "--json"])
    if r.returncode == 0:
        j = json.loads(r.stdout)
        silu = [p for p in j["placement"] if p["place"] == "cpu" and p["reason"].startswith("SiLU's")]
        ab = j["activation_bound"]["silu"]
        check(failures, "activation_bound", ab["nodes"] == len(silu) > 0 and
              abs(ab["macs"] - sum(p["macs"] for p in silu)) <= len(silu), (ab, len(silu)))
    else:
        check(failures, "yolox info --json", False, r.stderr)
    n = os.path.join(work, "yolox_n78.evo")
    r = run([evo, "compile", q, "--target", "ethos-n78-1tops-2ple", "--no-cache", "-o", n])
    check(failures, "yolox rewrites", r.returncode == 0 and "focus->conv 1, kernel-pad 1" in r.stderr, r.stderr)
    rng = random.Random(5)
    x = os.path.join(work, "x.bin")
    with open(x, "wb") as f:
        f.write(struct.pack("<%df" % (3 * 416 * 416), *[rng.uniform(0, 255) for _ in range(3 * 416 * 416)]))
    outs = []
    for m in (q, n):
        y = os.path.join(work, os.path.basename(m) + ".out")
        r = run([evo, "run", m, "--input", x, "--output", y])
        check(failures, f"run {m}", r.returncode == 0, r.stderr)
        outs.append(read(y) if os.path.exists(y) else b"")
    check(failures, "yolox int8: rewritten output bit-identical", outs[0] == outs[1] and len(outs[0]) > 0)


def main():
    part = pu.take_part(sys.argv)
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    evo, model = sys.argv[1], sys.argv[2]
    data = sys.argv[3] if len(sys.argv) > 3 else None
    failures = []
    with tempfile.TemporaryDirectory() as work:
        if pu.runs(part, "local"):
            calib = os.path.join(work, "calib")
            os.makedirs(calib)
            rng = random.Random(3)
            for i in range(2):
                write_png(os.path.join(calib, f"{i}.png"), 40, 30, rng)
            cli_errors(evo, model, failures)
            cache_cases(evo, model, calib, work, failures)
        if pu.runs(part, "shared"):
            if not data:
                print("SKIP: yolox rewrites: no SHARED_DATA given")
            ran = bool(data) and yolox_exact(evo, data, work, failures) is not False
            if not ran and part == "shared":
                return pu.SKIP
    for f in failures:
        print("FAIL", f)
    print(f"compile targets: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
