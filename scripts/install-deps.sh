#!/bin/sh
# Installs what evo needs on Debian 12 from Debian's packages: the build
# tools, the image libraries, and (for the tests) the ONNX conformance data
# and PyTorch/ONNX to export the test models. Does nothing when all are there.
set -e
PKGS="build-essential cmake clang libclang-rt-14-dev pkg-config libturbojpeg0-dev libspng-dev libpng-dev \
libonnx-testdata python3 python3-numpy python3-torch python3-torchvision python3-onnx"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
