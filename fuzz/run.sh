#!/usr/bin/env bash
# `make fuzz`: build the libFuzzer harnesses with clang into $FUZZ_BUILD
# (default build-fuzz), record a fresh corpus against that build's test PKI,
# then run each harness for $FUZZ_SECONDS (default 60) seconds.
#
#   FUZZ_SECONDS=600 make fuzz            longer
#   FUZZ_HARNESSES="fuzz_client" make fuzz one harness
#
# Working corpora grow in $FUZZ_BUILD/corpus/<harness> (seeded from
# fuzz/corpus/, which is left alone); crashes land in fuzz/crashes/ and the
# script exits non-zero.  Reproduce one with the harness itself
# ($FUZZ_BUILD/fuzz_server fuzz/crashes/fuzz_server-crash-...) or, without
# clang, with the replay driver of any build: build/fuzz_replay fuzz_server FILE.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
HARNESSES=${FUZZ_HARNESSES:-"fuzz_server fuzz_server_after_hello fuzz_client fuzz_certificate fuzz_session fuzz_http"}
JOBS=${JOBS:-2}

command -v clang >/dev/null || { echo "make fuzz: clang is needed (scripts/install-deps.sh)" >&2; exit 1; }
cmake -S "$ROOT/fuzz" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$JOBS"

mkdir -p "$ROOT/fuzz/crashes" "$BUILD/corpus"
"$BUILD/make_corpus" "$BUILD/corpus" >/dev/null

status=0
for h in $HARNESSES; do
    mkdir -p "$BUILD/corpus/$h"
    echo "== $h: ${SECONDS_EACH}s"
    if ! "$BUILD/$h" "$BUILD/corpus/$h" "$ROOT/fuzz/corpus/$h" \
            -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
            -artifact_prefix="$ROOT/fuzz/crashes/$h-" >"$BUILD/$h.log" 2>&1; then
        echo "$h: FAILED, see $BUILD/$h.log and fuzz/crashes/" >&2
        grep -E "ERROR|SUMMARY" "$BUILD/$h.log" | head -5 >&2 || true
        status=1
    fi
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$BUILD/$h.log" | tail -1 || true
done
exit $status
