#!/bin/sh
# Installs the build into a fresh prefix and builds examples/camera_loop.c
# against the installed tree as an application would: once through
# pkg-config (shared library), once through find_package(evo) (shared and
# static); each binary runs on a detector for one frame. Also checks that
# libevo.so exports only the evo_* API and carries a versioned soname.
# usage: test_install.sh BUILD_DIR SOURCE_DIR WORK_DIR MODEL
set -eu
build=$1 src=$2 work=$3 model=$4
cc=${CC:-cc}
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

fail() { echo "install: FAIL: $*"; exit 1; }
libdir=$(dirname "$(find "$prefix" -name evo.pc)")/..
[ -f "$prefix/include/evo.h" ] || fail "evo.h not installed"
[ -x "$prefix/bin/evo" ] || fail "the evo CLI not installed"
[ -f "$libdir/libevo.a" ] || fail "libevo.a not installed"
[ -n "$(find "$prefix" -name evoConfig.cmake)" ] || fail "evoConfig.cmake not installed"
[ -n "$(find "$prefix" -name evoConfigVersion.cmake)" ] || fail "evoConfigVersion.cmake not installed"
so=$(readlink -f "$libdir/libevo.so")
soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libevo.so.0 ] || fail "soname '$soname', expected libevo.so.0"
[ -e "$libdir/$soname" ] || fail "$soname link missing"
n_api=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -c '^evo_' || true)
other=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^evo_' || true)
[ -z "$other" ] || fail "libevo.so exports non-API symbols: $(echo "$other" | head -5 | tr '\n' ' ')"
[ "$n_api" -ge 20 ] || fail "libevo.so exports only $n_api evo_* symbols"
echo "install: libevo.so ($soname) exports $n_api symbols, all evo_*"
"$prefix/bin/evo" verify --quick >/dev/null || fail "installed evo verify failed"

# pkg-config: the shared library, found at run time through the rpath
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion evo)" = "$(sed -n 's/#define EVO_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/evo.h")" ] ||
    fail "pkg-config version differs from evo.h"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$work/camera_loop_pc" "$src/examples/camera_loop.c" \
    $(pkg-config --cflags --libs evo) -Wl,-rpath,"$libdir"
ldd "$work/camera_loop_pc" | grep -q "libevo.so.0 => $libdir" || fail "pkg-config build does not use the installed libevo.so"
"$work/camera_loop_pc" "$model" 1 320 240 | grep -E "^frame 0: [0-9]+ detections" || fail "camera_loop (pkg-config) failed"

# find_package(evo): the examples' own CMake project
cmake -S "$src/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    >"$work/examples.log" || fail "find_package(evo) configure failed (see $work/examples.log)"
cmake --build "$work/examples" >>"$work/examples.log" || fail "examples build failed (see $work/examples.log)"
"$work/examples/camera_loop" "$model" 1 320 240 | grep -E "^frame 0: [0-9]+ detections" || fail "camera_loop (find_package, shared) failed"
"$work/examples/camera_loop_static" "$model" 1 320 240 | grep -E "^frame 0: [0-9]+ detections" ||
    fail "camera_loop_static (find_package, static) failed"
if ldd "$work/examples/camera_loop_static" | grep -q libevo; then fail "static build links libevo.so"; fi
echo "install: 3 builds against the installed tree, 0 failures"
