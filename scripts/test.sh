#!/usr/bin/env bash
# scripts/test.sh — set up (apt), build, and run every test. Fails if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 1800 -j "$(nproc)"
