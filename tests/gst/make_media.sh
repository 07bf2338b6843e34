#!/bin/sh
# Makes the evodetect tests' media in OUTDIR with the ffmpeg CLI: still.png
# (RGB, from IMAGE when given, else a generated test card), still.mkv (FFV1
# RGB, lossless: every decoded frame equals still.png) and, when ffmpeg has
# libx264, still.mp4 (H.264 4:2:0, lossy). Without ffmpeg it makes nothing
# and says so: the tests then use videotestsrc and skip the file cases.
set -e
image=$1
out=$2
mkdir -p "$out"
rm -f "$out/still.png" "$out/still.mkv" "$out/still.mp4"
if ! command -v ffmpeg >/dev/null 2>&1; then
    echo "make_media: no ffmpeg CLI (Debian: ffmpeg): no test files; file tests will skip"
    exit 0
fi
ff="ffmpeg -nostdin -hide_banner -loglevel error -y"
if [ -n "$image" ] && [ -f "$image" ]; then
    $ff -i "$image" -frames:v 1 -pix_fmt rgb24 "$out/still.png"
else
    echo "make_media: no sample photo, using a generated test card"
    $ff -f lavfi -i testsrc2=size=640x480 -frames:v 1 -pix_fmt rgb24 "$out/still.png"
fi
$ff -loop 1 -i "$out/still.png" -frames:v 4 -c:v ffv1 -pix_fmt bgr0 "$out/still.mkv"
if ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx264; then
    $ff -loop 1 -i "$out/still.png" -frames:v 4 -vf "scale=trunc(iw/2)*2:trunc(ih/2)*2" \
        -c:v libx264 -pix_fmt yuv420p "$out/still.mp4"
fi
echo "make_media: made $(ls "$out" | tr '\n' ' ')"
