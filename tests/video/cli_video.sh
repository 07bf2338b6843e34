#!/bin/sh
# evo detect on a video through the command line: JSON Lines on stdout (one
# object per frame, in order) and the annotated video at once; --every and
# --max-frames; a missing source is one line on stderr and a non-zero exit.
# usage: cli_video.sh EVO MODEL_DIR SHARED_DATA_DIR WORK_DIR
set -u
evo=$1 models=$2 shared=$3 work=$4
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { echo "skip: ffmpeg/ffprobe not installed"; exit 77; }
if [ -f "$shared/models/yolox_nano.onnx" ]; then
    model="$shared/models/yolox_nano.onnx" preset="--preset yolox"
elif [ -f "$models/yolov8n_op17.onnx" ]; then
    model="$models/yolov8n_op17.onnx" preset="--conf 0.01"
else
    echo "skip: no detector model"; exit 77
fi
mkdir -p "$work"
dir=$(mktemp -d "$work/cli_XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=10 -frames:v 12 \
    -c:v libx264 -pix_fmt yuv420p "$dir/in.mp4" || fail "ffmpeg"
"$evo" detect "$model" "$dir/in.mp4" $preset --threads 2 --json - -o "$dir/out.mkv" --timing \
    >"$dir/out.jsonl" 2>"$dir/err.txt" || { cat "$dir/err.txt"; fail "evo detect exit $?"; }
[ "$(wc -l <"$dir/out.jsonl")" -eq 12 ] || fail "$(wc -l <"$dir/out.jsonl") JSON lines, expected 12"
i=0
while read -r line; do
    case "$line" in "{\"frame\": $i, \"time\": "*"\"detections\": ["*"]}") ;; *) fail "line $i: $line" ;; esac
    i=$((i + 1))
done <"$dir/out.jsonl"
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$dir/out.mkv")
[ "$frames" = 12 ] || fail "annotated video has $frames frames, expected 12"
grep -q "12 frames processed" "$dir/err.txt" || fail "no timing summary: $(cat "$dir/err.txt")"
for stage in decode preprocess inference postprocess "draw\\+encode" latency; do
    grep -Eq "^  $stage +[0-9.]+ +[0-9.]+ +[0-9.]+" "$dir/err.txt" || fail "timing has no $stage row"
done

"$evo" detect "$model" "$dir/in.mp4" $preset --every 4 --max-frames 2 --json - >"$dir/sub.jsonl" 2>/dev/null || fail "--every"
[ "$(cut -d, -f1 "$dir/sub.jsonl" | tr '\n' ' ')" = '{"frame": 0 {"frame": 4 ' ] || fail "--every 4 --max-frames 2: $(cat "$dir/sub.jsonl")"

"$evo" detect "$model" "$dir/missing.mp4" >"$dir/out.txt" 2>"$dir/err.txt" && fail "missing source: exit 0"
[ "$(wc -l <"$dir/err.txt")" -eq 1 ] || fail "missing source: $(wc -l <"$dir/err.txt") lines: $(cat "$dir/err.txt")"
grep -q "missing.mp4: cannot open" "$dir/err.txt" || fail "missing source: $(cat "$dir/err.txt")"
echo "cli video: all checks passed"
