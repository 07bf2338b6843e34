#!/bin/sh
# Runs every libFuzzer binary of a build for N seconds each:
#   tests/fuzz/run_fuzzers.sh build-fuzz 60
# Each target starts from its seed corpus (tests/fuzz/corpus/<name>/, or the
# one the build generated into <build>/tests/fuzz/corpus/<name>/),
# grows a working copy under <build>/fuzz-work/<name>/ (the seed corpus
# is never modified) and writes crashes there. Exits non-zero on any crash.
set -eu
build=${1:?usage: run_fuzzers.sh build-dir [seconds]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    case $bin in *_replay) continue ;; esac
    [ -x "$bin" ] || continue
    name=$(basename "$bin" | sed 's/^fuzz_//')
    work="$build/fuzz-work/$name"
    mkdir -p "$work/corpus" "$work/crashes"
    seeds="$here/corpus/$name"
    [ -d "$build/tests/fuzz/corpus/$name" ] && seeds="$build/tests/fuzz/corpus/$name" # built seeds
    dict=""
    [ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
    echo "== fuzz $name for ${seconds}s"
    if ! "$bin" $dict -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work/crashes/" -print_final_stats=1 \
        "$work/corpus" "$seeds" >"$work/log.txt" 2>&1; then
        echo "fuzz $name: crash, see $work/log.txt and $work/crashes/"
        tail -40 "$work/log.txt"
        status=1
    fi
done
exit $status
