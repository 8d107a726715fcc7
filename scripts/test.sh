#!/usr/bin/env bash
# scripts/test.sh — set up (apt), build, and run every test. Fails if any test fails.
#   scripts/test.sh              the suite, in build/
#   scripts/test.sh --sanitize   the suite built with -fsanitize=address,undefined, in build-asan/
#                                (suppressions: tests/sanitizers/)
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
if [ "$sanitize" = 1 ]; then
  export BUILD_DIR="${BUILD_DIR:-build-asan}"
  export CTXENC_CMAKE_ARGS="-DCTXENC_SANITIZE=ON -DCTXENC_BUILD_BENCH=OFF"
  here="$(pwd)"
  # detect_leaks: libtorch and OpenCV keep one-time caches to the end; the
  # suppressions name each such frame (never a whole library).
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
  export LSAN_OPTIONS="suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$here/tests/sanitizers/ubsan.supp"
fi
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 1800 -j "$(nproc)"
