#!/bin/sh
# bench/board.sh - evo against ONNX Runtime on a 64-bit Arm board (Raspberry
# Pi 4/5, Jetson Orin/Xavier, RK3588, i.MX 8), run on the board itself.
#
#   bench/board.sh [--models-dir DIR] [bench/compare options ...]
#
# Builds evo natively (make), prints what `evo verify` finds (hardware
# capabilities, the tier the kernels run at, the NEON FMA peak, every Arm
# kernel against the reference), then runs bench/compare, which times evo
# and ONNX Runtime (npm onnxruntime-node, which ships linux-arm64 binaries)
# side by side and prints the same table as on x86. Threads default to 1
# and all cores. The test models come from models/out (make models needs
# PyTorch; on a small board, copy models/out from a PC and pass
# --models-dir). Slow: minutes per model.
#
# Read the numbers against the published ones for the same board
# (docs/arm64.md): keep the board cool (a Pi 5 throttles at 85 C without
# its active cooler) and set the performance governor if you can.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

models_dir=""
if [ "${1:-}" = "--models-dir" ]; then
    [ $# -ge 2 ] || { echo "board.sh: --models-dir needs a folder" >&2; exit 2; }
    models_dir=$2
    shift 2
fi

arch=$(uname -m)
if [ "$arch" != "aarch64" ] && [ "$arch" != "arm64" ]; then
    echo "board.sh: this machine is $arch; run it on the Arm board (on x86, bench/compare times this host)" >&2
    exit 2
fi
for tool in cc cmake make node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "board.sh: $tool is missing; on Debian/Raspberry Pi OS/Ubuntu:" >&2
        echo "  sudo apt-get install build-essential cmake pkg-config libturbojpeg0-dev libspng-dev nodejs npm" >&2
        exit 2
    fi
done

if [ -n "$models_dir" ]; then
    [ -d "$models_dir" ] || { echo "board.sh: $models_dir: no such folder" >&2; exit 2; }
    if [ ! -e models/out ]; then
        ln -s "$(cd "$models_dir" && pwd)" models/out
    fi
fi
if [ ! -e models/out/yolov5s_op17.onnx ]; then
    echo "board.sh: models/out has no test models: run 'make models' (needs python3-torch) here or on a PC," >&2
    echo "  then copy models/out over and pass --models-dir DIR" >&2
    exit 2
fi

echo "== board"
model=$(sed -n 's/^Model[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$model" ] || model=$(cat /proc/device-tree/model 2>/dev/null | tr -d '\0' || true)
echo "model:    ${model:-unknown}, $(nproc) cores"
for f in /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor /sys/class/thermal/thermal_zone0/temp; do
    [ -r "$f" ] && echo "$(basename "$f"): $(cat "$f")"
done

echo "== build (make)"
make >/dev/null

echo "== evo verify"
./build/evo verify

echo "== evo vs ONNX Runtime (bench/compare)"
threads="1,$(nproc)"
[ "$(nproc)" -gt 1 ] || threads=1
case " $* " in
*" --threads "*) exec ./bench/compare --no-build "$@" ;;
*) exec ./bench/compare --no-build --threads "$threads" "$@" ;;
esac
