#!/usr/bin/env bash
# scripts/package.sh — builds the Debian packages from build/ (ctxenc: library, CLI, models, man page,
# completions, Python module; libctxenc-dev: headers, CMake and pkg-config files) with cpack, then
# prints dpkg-deb --info and --contents of each and runs lintian where it is installed.
#   scripts/package.sh            packages in build/ (BUILD_DIR overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
[ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/build.sh
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
rm -f "$BUILD_DIR"/*.deb
(cd "$BUILD_DIR" && cpack -G DEB)
for deb in "$BUILD_DIR"/*.deb; do
  echo "== $deb"
  dpkg-deb --info "$deb"
  dpkg-deb --contents "$deb"
done
if command -v lintian >/dev/null 2>&1; then
  echo "== lintian"
  lintian --no-tag-display-limit "$BUILD_DIR"/*.deb || true
fi
