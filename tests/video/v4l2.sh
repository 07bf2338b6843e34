#!/bin/sh
# A V4L2 camera through evo detect, where this machine has one: a few frames
# as JSON Lines, in order. Without a device the test is skipped (exit 77).
# usage: v4l2.sh EVO MODEL_DIR SHARED_DATA_DIR
set -u
evo=$1 models=$2 shared=$3
dev=""
for d in /dev/video*; do
    [ -c "$d" ] && [ -r "$d" ] && { dev=$d; break; }
done
[ -n "$dev" ] || { echo "skip: no V4L2 device (/dev/video*) on this machine"; exit 77; }
if [ -f "$shared/models/yolox_nano.onnx" ]; then
    model="$shared/models/yolox_nano.onnx" preset="--preset yolox"
elif [ -f "$models/yolov8n_op17.onnx" ]; then
    model="$models/yolov8n_op17.onnx" preset=""
else
    echo "skip: no detector model"; exit 77
fi
out=$("$evo" detect "$model" "$dev" $preset --max-frames 5 --json - --timing) || { echo "FAIL: evo detect $dev"; exit 1; }
n=$(printf '%s\n' "$out" | grep -c '^{"frame": ')
[ "$n" -eq 5 ] || { echo "FAIL: $n frames from $dev, expected 5"; exit 1; }
echo "v4l2: 5 frames from $dev"
