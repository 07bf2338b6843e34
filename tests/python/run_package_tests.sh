#!/bin/sh
# Builds the Python package (python/) against this build's libevo.a with pip,
# installs it into a scratch folder and runs its pytest suite there.
# usage: run_package_tests.sh PYTHON BUILD_DIR SOURCE_DIR WORK_DIR EVO_CLI MODELS_DIR SHARED_DATA [CC]
# With CC (sanitizer builds): the extension is built with ASan + UBSan too and
# python runs with their runtimes preloaded, on the package's own tests only
# (the examples load OpenCV and ONNX Runtime, which are not instrumented).
set -eu
py=$1 build=$2 src=$3 work=$4 cli=$5 models=$6 shared=$7 cc=${8:-}
rm -rf "$work"
mkdir -p "$work"
tests=$src/python/tests
if [ -n "$cc" ]; then
    export CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    export LDFLAGS="-fsanitize=address,undefined"
fi
EVO_BUILD_DIR=$build "$py" -m pip install --quiet --no-deps --no-build-isolation --target "$work/site" "$src/python" \
    >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; echo "python package: pip install failed"; exit 1; }
if [ -n "$cc" ]; then
    LD_PRELOAD="$("$cc" -print-file-name=libasan.so) $("$cc" -print-file-name=libubsan.so)"
    export LD_PRELOAD ASAN_OPTIONS=detect_leaks=0
    tests=$tests/test_evo.py
fi
cd "$work"
PYTHONPATH=$work/site EVO_CLI=$cli EVO_MODELS_DIR=$models EVO_SHARED_DATA=$shared \
    exec "$py" -m pytest -q -p no:cacheprovider -rs "$tests"
