"""evo info MODEL --target T --json on a small model quantized with random
calibration images: the JSON's totals agree with its per-node placement
(NPU nodes, MACs, subgraphs and transitions recounted here), every CPU node
has a reason, and the rules named are the target family's.

usage: test_npu_info.py EVO MODEL.onnx
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib


def write_png(path, w, h, rng):
    """A random 8-bit RGB PNG (stdlib only)."""
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(3 * w)) for _ in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def recount(placement):
    runs = changes = 0
    prev = None
    for p in placement:
        on = p["place"] == "npu"
        if on and prev is not True:
            runs += 1
        if prev is not None and on != prev:
            changes += 1
        prev = on
    return runs, changes


def check_target(evo, model, target, family, failures):
    out = subprocess.run([evo, "info", model, "--target", target, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        failures.append(f"{target}: exit {out.returncode}: {out.stderr.strip()}")
        return None
    r = json.loads(out.stdout)
    pl = r["placement"]
    npu = [p for p in pl if p["place"] == "npu"]
    checks = {
        "target": r["target"] == target,
        "family": r["rules"]["family"] == family,
        "nodes": r["nodes"] == len(pl),
        "npu_nodes": r["npu_nodes"] == len(npu),
        "macs": abs(r["macs"] - sum(p["macs"] for p in pl)) <= len(pl),
        "npu_macs": abs(r["npu_macs"] - sum(p["macs"] for p in npu)) <= len(pl),
        "share": abs(r["npu_mac_share"] - (r["npu_macs"] / r["macs"] if r["macs"] else 0)) < 1e-5,
        "partition": recount(pl) == (r["npu_subgraphs"], r["transitions"]),
        "reasons": all(p.get("reason") for p in pl if p["place"] == "cpu"),
        "float ops": all(p["reason"] == "float op" for p in pl if p["op"] in ("QuantizeLinear", "DequantizeLinear")),
        "some npu": len(npu) > 0,
        "convs described": all("CONV_2D" in p["as"] or "DEPTHWISE_CONV_2D" in p["as"]
                               for p in pl if p["op"] == "QLinearConv"),
    }
    for name, ok in checks.items():
        if not ok:
            failures.append(f"{target}: {name} check failed")
    print(f"{target}: {r['npu_nodes']}/{r['nodes']} nodes, MAC share {r['npu_mac_share']:.3f}, "
          f"{r['npu_subgraphs']} subgraphs, {r['transitions']} transitions")
    return r


def check_estimate(evo, model, target, failures):
    """--estimate --json: totals are the sums of the NPU ops; CPU ops carry no cycles; the text agrees."""
    out = subprocess.run([evo, "info", model, "--target", target, "--estimate", "--json"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        failures.append(f"{target} --estimate: exit {out.returncode}: {out.stderr.strip()}")
        return
    r = json.loads(out.stdout)
    e, ops = r["estimate"], r["ops"]
    npu = [o for o in ops if o["place"] == "npu"]
    total = sum(o["cycles"] for o in npu)
    checks = {
        "ops": len(ops) == r["nodes"] and len(npu) == r["npu_nodes"] > 0,
        "total": abs(e["total_cycles"] - total) <= len(ops),
        "npu cycles": abs(e["npu_cycles"] - sum(o["npu_cycles"] for o in npu)) <= len(ops),
        "each op >= its compute": all(o["cycles"] >= o["npu_cycles"] - 1 and o["cycles"] > 0 for o in npu),
        "memory-bound": abs(e["memory_bound_cycles"] - (e["total_cycles"] - e["npu_cycles"])) <= 1,
        "ms": abs(e["ms"] - 1e3 * e["total_cycles"] / r["clock_hz"]) < 1e-3,
        "cpu ops": all("cycles" not in o for o in ops if o["place"] == "cpu"),
        "bound": all(o["bound"] in ("compute", "SRAM", "DRAM", "flash") for o in npu),
    }
    for name, ok in checks.items():
        if not ok:
            failures.append(f"{target} --estimate: {name} check failed")
    text = subprocess.run([evo, "info", model, "--target", target, "--estimate"], capture_output=True, text=True)
    if text.returncode != 0 or f"total {e['total_cycles']:.0f} cycles" not in text.stdout:
        failures.append(f"{target} --estimate: the text report lacks the JSON's total")
    print(f"{target} --estimate: {e['total_cycles']:.0f} cycles, {e['ms']:.3f} ms")


def main():
    evo, model = sys.argv[1], sys.argv[2]
    if not os.path.exists(model):
        print(f"skip: {model} is missing (make models)")
        return 77
    failures = []
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(tmp, "calib")
        os.mkdir(calib)
        for i in range(2):
            write_png(os.path.join(calib, f"r{i}.png"), 48, 40, rng)
        q = os.path.join(tmp, "q.evo")
        out = subprocess.run([evo, "quantize", model, "--calib", calib, "-o", q], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"quantize failed: {out.stderr}")
            return 1
        check_target(evo, q, "ethos-u55-128", "Ethos-U", failures)
        n = check_target(evo, q, "ethos-n78-1tops-2ple", "Ethos-N78", failures)
        # tiny_cnn's convs end in SiLU: on Ethos-N78 the x * sigmoid(x) is a Mul by a tensor
        if n and not any("1 x 1 x 1 x C" in p.get("reason", "") for p in n["placement"]):
            failures.append("ethos-n78: no SiLU conv refused for its Mul by a tensor")
        check_estimate(evo, q, "ethos-u55-256", failures)
        check_estimate(evo, q, "ethos-u65-512", failures)
        check_estimate(evo, q, "ethos-n78-4tops-2ple", failures)
        out = subprocess.run([evo, "info", q, "--target", "ethos-u65-256", "--system", "Ethos_U65_High_End",
                              "--memory-mode", "Shared_Sram", "--json"], capture_output=True, text=True)
        r = json.loads(out.stdout) if out.returncode == 0 else {}
        if r.get("system") != "Ethos_U65_High_End" or r.get("memory_mode") != "Shared_Sram" or "estimate" not in r:
            failures.append(f"--system/--memory-mode: expected them in the estimate, got {out.stderr or r.get('system')}")
        for args, want in (([q, "--estimate"], "--estimate needs a target"),
                           ([q, "--target", "cpu", "--estimate"], "needs an NPU target"),
                           ([q, "--target", "ethos-u55-256", "--system", "nope"], "known: Ethos_U55_Deep_Embedded"),
                           ([q, "--target", "ethos-u55-256", "--memory-mode", "Dedicated_Sram"], "flash"),
                           ([q, "--target", "ethos-n78-1tops-2ple", "--memory-mode", "Shared_Sram"],
                            "no system configuration")):
            out = subprocess.run([evo, "info"] + args, capture_output=True, text=True)
            if out.returncode == 0 or want not in out.stderr:
                failures.append(f"info {' '.join(args[1:])}: expected an error with \"{want}\", got {out.stderr!r}")
        out = subprocess.run([evo, "info", q, "--target", "cpu", "--json"], capture_output=True, text=True)
        c = json.loads(out.stdout) if out.returncode == 0 else None
        if not c or c["npu_nodes"] != 0 or c["npu_subgraphs"] != 0 or "rules" in c:
            failures.append("cpu: expected every node on the CPU")
    for f in failures:
        print("FAIL:", f)
    print(f"npu info: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
