"""Adds .evo fuzz seeds that the reader must refuse, derived from the
compiled seeds in DIR (stdlib only): qlinearconv_ethos_u55.evo with its
first NPU place set to 2 and with its NPU section version set to 9. The
replay skips the checksum, so the placement checks themselves are reached.

usage: make_evo_bad_seeds.py DIR
"""
import os
import struct
import sys

SEC_NPU = 7


def npu_offset(b):
    n_sec, = struct.unpack_from("<I", b, 20)
    table, = struct.unpack_from("<Q", b, 40)
    for k in range(n_sec):
        sec_id, _, off, _ = struct.unpack_from("<IIQQ", b, table + 24 * k)
        if sec_id == SEC_NPU:
            return off
    sys.exit("make_evo_bad_seeds: no NPU section")


def main():
    d = sys.argv[1]
    src = os.path.join(d, "qlinearconv_ethos_u55.evo")
    if not os.path.exists(src):
        return 0
    b = bytearray(open(src, "rb").read())
    off = npu_offset(b)
    for name, at, value in (("bad_place", off + 16, 2), ("bad_npu_version", off, 9)):
        c = bytearray(b)
        c[at] = value
        with open(os.path.join(d, f"qlinearconv_{name}.evo"), "wb") as f:
            f.write(c)
    return 0


if __name__ == "__main__":
    sys.exit(main())
