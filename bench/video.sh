#!/bin/sh
# Pipelined video throughput vs inference-only throughput, side by side.
#
# Makes a 1280x720 H.264 clip (the shared sample photos panned and zoomed,
# or FFmpeg's test pattern without them), then for each detector alternates
# `evo bench MODEL --threads T` (inference alone, FPS = 1000 / mean ms) and
# `evo detect MODEL clip.mp4 --threads T --timing` (decode + letterbox +
# inference + NMS through the pipelined loop) for R rounds, and prints the
# medians, their ratio and the bytes copied per frame outside the letterbox.
#
# It also prints the ceiling the machine puts on that ratio. Every frame
# costs at least its decode, its letterbox, one inference and its box
# decode in CPU time, each at its cheapest: one thread (the median of
# `evo bench --threads 1`, and the stage times of one `evo detect --threads
# 1` run, where each stage runs alone on its thread). With C cores no
# pipeline can process more than C * 1000 / (that sum) frames a second;
# "ceiling" is that FPS over the inference-only FPS at T threads. Where the
# ceiling is below a target ratio, no scheduling reaches the target on this
# machine: the decode or the letterbox has to get cheaper or move off the
# CPU (a hardware decoder).
#
# usage: bench/video.sh [BUILD_DIR (build)] [ROUNDS (3)] [THREADS (2)] [FRAMES (60)]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build} rounds=${2:-3} threads=${3:-2} frames=${4:-60}
evo=$build/evo
shared=$root/../shared/data
work=$(mktemp -d "${TMPDIR:-/tmp}/evo_video_bench_XXXXXX")
trap 'rm -rf "$work"' EXIT
clip=$work/clip720.mp4
if [ -f "$shared/images/dog.jpg" ]; then
    for i in dog horses person giraffe; do
        ffmpeg -nostdin -loglevel error -y -i "$shared/images/$i.jpg" -vf scale=1280:720 "$work/$i.png"
    done
    ffmpeg -nostdin -loglevel error -y -framerate 0.5 -pattern_type glob -i "$work/*.png" \
        -vf "zoompan=z='min(zoom+0.002,1.3)':d=50:s=1280x720:fps=25,format=yuv420p" -frames:v 150 \
        -c:v libx264 -preset medium "$clip"
else
    ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -frames:v 150 \
        -c:v libx264 -preset medium -pix_fmt yuv420p "$clip"
fi

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

cores=$(nproc)
printf '%-22s %10s %10s %7s %10s %8s %8s %14s %14s %9s %8s\n' model "bench FPS" "video FPS" ratio "decode ms" "pre p50" "inf p50" \
    "copied B/frame" "frame bytes" "CPU ms/f" ceiling
run() { # NAME MODEL PRESET_ARGS
    name=$1 model=$2
    shift 2
    "$evo" compile "$model" -o "$work/m.evo" >/dev/null 2>&1
    : >"$work/b" && : >"$work/v" && : >"$work/b1"
    r=0
    while [ $r -lt "$rounds" ]; do
        "$evo" bench "$work/m.evo" --threads "$threads" --warmup 2 --runs "$frames" --json |
            sed 's/.*"mean_ms": \([0-9.]*\).*/\1/' | awk '{print 1000 / $1}' >>"$work/b"
        "$evo" detect "$work/m.evo" "$clip" "$@" --threads "$threads" --max-frames "$frames" --timing --quiet \
            2>"$work/t" >/dev/null
        sed -n 's/.* \([0-9.]*\) FPS .*/\1/p' "$work/t" >>"$work/v"
        "$evo" bench "$work/m.evo" --threads 1 --warmup 2 --runs "$frames" --json |
            sed 's/.*"mean_ms": \([0-9.]*\).*/\1/' >>"$work/b1"
        r=$((r + 1))
    done
    # each stage at one thread, alone on its thread: the least CPU a frame costs
    "$evo" detect "$work/m.evo" "$clip" "$@" --threads 1 --max-frames "$frames" --timing --quiet \
        2>"$work/t1" >/dev/null
    cpu=$(awk -v inf="$(median <"$work/b1")" '$1 == "decode" {d = $2} $1 == "preprocess" {p = $3}
        $1 == "postprocess" {q = $3} END {printf "%.2f", inf + d + p + q}' "$work/t1")
    b=$(median <"$work/b") v=$(median <"$work/v")
    dec=$(awk '$1 == "decode" {print $2}' "$work/t")
    pre=$(awk '$1 == "preprocess" {print $3}' "$work/t") inf=$(awk '$1 == "inference" {print $3}' "$work/t")
    copied=$(sed -n 's/.*other copies: \([0-9]*\) B\/frame.*/\1/p' "$work/t")
    fbytes=$(sed -n 's/.*reads each \([0-9]*\)-byte.*/\1/p' "$work/t")
    printf '%-22s %10.2f %10.2f %7.3f %10s %8s %8s %14s %14s %9s %8.3f\n' "$name" "$b" "$v" \
        "$(echo "$v $b" | awk '{print $1 / $2}')" "$dec" "$pre" "$inf" "$copied" "$fbytes" "$cpu" \
        "$(echo "$cores $cpu $b" | awk '{print $1 * 1000 / $2 / $3}')"
}

[ -f "$root/models/out/yolov5s_op17.onnx" ] && run yolov5s "$root/models/out/yolov5s_op17.onnx"
[ -f "$shared/models/yolox_nano.onnx" ] && run yolox_nano "$shared/models/yolox_nano.onnx" --preset yolox
[ -f "$shared/models/nanodet_m_416.onnx" ] && run nanodet_m_416 "$shared/models/nanodet_m_416.onnx" --preset nanodet
[ -f "$shared/models/picodet_s_416_coco.onnx" ] && run picodet_s_416 "$shared/models/picodet_s_416_coco.onnx" --preset picodet
echo "last run's timing table (--timing):"
cat "$work/t"
