#!/bin/sh
# Installs what evo needs on Debian 12 from Debian's packages: the build
# tools, the image libraries, FFmpeg's libraries and command-line tool (video
# sources and the tests' videos), GStreamer (the evodetect element) and (for
# the tests) the ONNX conformance data
# and PyTorch/ONNX to export the test models, then the pinned PyPI packages of
# the Python tests into .venv/, and the AArch64 cross compiler and qemu-user
# (make aarch64-test). Does nothing when all are there.
set -e
PKGS="build-essential cmake clang libclang-rt-14-dev pkg-config libturbojpeg0-dev libspng-dev libpng-dev \
libavformat-dev libavcodec-dev libavdevice-dev libavutil-dev libswscale-dev ffmpeg \
libonnx-testdata python3 python3-dev python3-venv python3-numpy python3-torch python3-torchvision python3-onnx \
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools gstreamer1.0-plugins-base \
gstreamer1.0-plugins-good gstreamer1.0-libav \
gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all Debian packages present"
else
    echo "install-deps: installing$missing"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        SUDO=sudo
    fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi

# The Python tests' PyPI packages (requirements.txt, pinned) go into .venv/,
# apart from Debian's python3 packages; redone when requirements.txt changes.
root=$(cd "$(dirname "$0")/.." && pwd)
stamp="$root/.venv/requirements.sha256"
want=$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "install-deps: creating .venv from requirements.txt"
    /usr/bin/python3 -m venv "$root/.venv"
    "$root/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements.txt"
    echo "$want" > "$stamp"
else
    echo "install-deps: .venv up to date"
fi
