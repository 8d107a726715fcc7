#!/usr/bin/env bash
# scripts/fuzz.sh — build the libFuzzer harnesses (clang-14, ASan + UBSan, in build-fuzz/) and run each.
#   scripts/fuzz.sh                 every harness for $FUZZ_SECONDS (default 60) s: what .ci/run does
#   scripts/fuzz.sh --seconds 1800 fuzz_image   one harness, a long run (docs/reliability.md)
# Each run starts from the committed seeds (tests/fuzz/corpus/<harness>/, never modified) in a scratch
# corpus; a crash, leak or timeout fails the script, and its input is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(fuzz_image fuzz_mask fuzz_model_file fuzz_json_config fuzz_pickle fuzz_serve_request)
scripts/setup.sh
here="$(pwd)"
export CXX=clang++-14
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export LSAN_OPTIONS="suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$here/tests/sanitizers/ubsan.supp"
export CTXENC_THREADS=1
BUILD_DIR=build-fuzz CTXENC_CMAKE_ARGS="-DCTXENC_FUZZ=ON -DCTXENC_BUILD_TESTS=OFF -DCTXENC_BUILD_BENCH=OFF" \
  scripts/build.sh
mkdir -p build-fuzz/artifacts
for h in "${harnesses[@]}"; do
  seeds="tests/fuzz/corpus/$h"
  [ -d "$seeds" ] || { echo "fuzz.sh: no seed corpus $seeds" >&2; exit 2; }
  work="build-fuzz/corpus/$h"
  rm -rf "$work" && mkdir -p "$work"
  echo "fuzz.sh: $h for ${seconds}s from $(ls "$seeds" | wc -l) seeds"
  # -rss_limit_mb: every input must stay under 2 GB (model files build networks).
  set +e
  "build-fuzz/$h" "$work" "$seeds" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -max_len=1048576 -artifact_prefix="build-fuzz/artifacts/$h-" -print_final_stats=1 >"build-fuzz/$h.log" 2>&1
  status=$?
  set -e
  tail -n 25 "build-fuzz/$h.log"
  if [ "$status" -ne 0 ]; then echo "fuzz.sh: $h FAILED (status $status); see build-fuzz/artifacts/" >&2; exit 1; fi
done
echo "fuzz.sh: all harnesses ran clean"
