#!/usr/bin/env bash
# tests/install/test_deb.sh BUILD_DIR — the Debian packages `cpack -G DEB` makes from a build
# (scripts/package.sh): their dependencies (found by dpkg-shlibdeps, plus Python's), their files,
# no RUNPATH in what they install, the library's SONAME, and lintian (where installed) reporting
# no error beyond the three known ones (placeholder maintainer address, no copyright, no changelog).
set -euo pipefail
build="$(cd "$1" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ctxenc-deb-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; fail cpack; }
deb="$(ls "$tmp"/ctxenc_*_amd64.deb)"
dev="$(ls "$tmp"/libctxenc-dev_*_amd64.deb)"
depends="$(dpkg-deb --field "$deb" Depends)"
for d in libtorch1.13 libopencv-core406 libopencv-imgcodecs406 libopencv-photo406 libcpp-httplib0.11 libgomp1 zlib1g python3-numpy 'python3 (>= 3'; do
  [[ "$depends" == *"$d"* ]] || fail "ctxenc does not depend on $d: $depends"
done
dev_depends="$(dpkg-deb --field "$dev" Depends)"
for d in 'ctxenc (= 0.1.0)' libtorch-dev libopencv-dev nlohmann-json3-dev; do
  [[ "$dev_depends" == *"$d"* ]] || fail "libctxenc-dev does not depend on $d: $dev_depends"
done
files="$(dpkg-deb --contents "$deb" | awk '{print $6}')"
for f in ./usr/bin/ctxenc ./usr/lib/libctxenc.so.0.1.0 ./usr/lib/libctxenc.so.0 ./usr/share/ctxenc/models/center.ctxm \
         ./usr/share/ctxenc/models/region.ctxm ./usr/share/man/man1/ctxenc.1.gz \
         ./usr/share/bash-completion/completions/ctxenc ./usr/share/zsh/vendor-completions/_ctxenc \
         ./usr/lib/python3/dist-packages/ctxenc_torch.py; do
  grep -qxF "$f" <<<"$files" || fail "ctxenc lacks $f"
done
grep -q '^./usr/lib/python3/dist-packages/ctxenc\.cpython-.*\.so$' <<<"$files" || fail "ctxenc lacks the Python module"
grep -q '^./usr/include' <<<"$files" && fail "ctxenc ships headers (they are libctxenc-dev's)"
dev_files="$(dpkg-deb --contents "$dev" | awk '{print $6}')"
for f in ./usr/include/ctxenc/inpaint.h ./usr/lib/cmake/ctxenc/ctxencConfig.cmake ./usr/lib/pkgconfig/ctxenc.pc ./usr/lib/libctxenc.so; do
  grep -qxF "$f" <<<"$dev_files" || fail "libctxenc-dev lacks $f"
done
[ "$(grep -c '^./usr/include/ctxenc/.*\.h$' <<<"$dev_files")" = "$(ls "$(dirname "$0")/../../include/ctxenc" | wc -l)" ] \
  || fail "libctxenc-dev's headers are not exactly include/ctxenc/"

dpkg-deb -x "$deb" "$tmp/root"
for f in usr/bin/ctxenc usr/lib/libctxenc.so.0.1.0 usr/lib/python3/dist-packages/ctxenc.cpython-*.so; do
  if readelf -d "$tmp/root/"$f | grep -Eq 'RPATH|RUNPATH'; then fail "$f has a RUNPATH"; fi
done
readelf -d "$tmp/root/usr/lib/libctxenc.so.0.1.0" | grep -q 'Library soname: \[libctxenc.so.0\]' || fail "SONAME"

if command -v lintian >/dev/null 2>&1; then
  lintian --tag-display-limit 0 "$deb" "$dev" >"$tmp/lintian.log" 2>&1 || true
  # Known: a placeholder maintainer address (set CTXENC_MAINTAINER), and no copyright file or
  # changelog (the project states no licence of its own yet).
  unexpected="$(grep '^E:' "$tmp/lintian.log" | grep -Ev 'bogus-mail-host|no-copyright-file|no-changelog' || true)"
  [ -z "$unexpected" ] || { cat "$tmp/lintian.log"; fail "lintian errors: $unexpected"; }
  echo "lintian: $(grep -c '^E:' "$tmp/lintian.log") known errors, $(grep -c '^W:' "$tmp/lintian.log") warnings"
fi
echo "deb test: ok ($(basename "$deb"), $(basename "$dev"))"
