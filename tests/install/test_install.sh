#!/usr/bin/env bash
# tests/install/test_install.sh BUILD_DIR SOURCE_DIR — what `cmake --install`
# gives another project: installs into a temporary prefix, checks the tree
# (SONAME, public headers only, CMake package, pkg-config file, CLI, models,
# man page, completions, Python module), then builds examples/consumer against
# it with find_package(ctxenc) and a pkg-config build, runs both, and checks
# the consumer's output equals `ctxenc inpaint --mask center`'s byte for byte.
set -euo pipefail
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ctxenc-install-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }
unset CTXENC_MODEL_PATH
py="${CTXENC_PYTHON:-python3}"

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
libdir=lib
[ -f "$prefix/$libdir/libctxenc.so.0.1.0" ] || fail "no lib/libctxenc.so.0.1.0"
soname="$(objdump -p "$prefix/$libdir/libctxenc.so.0.1.0" | awk '$1 == "SONAME" {print $2}')"
[ "$soname" = "libctxenc.so.0" ] || fail "SONAME is '$soname', expected libctxenc.so.0"
[ -L "$prefix/$libdir/libctxenc.so" ] && [ -L "$prefix/$libdir/libctxenc.so.0" ] || fail "missing .so links"

# Public headers, exactly include/ctxenc/*.h.
diff <(cd "$src/include" && find . -type f | sort) <(cd "$prefix/include" && find . -type f | sort) \
  || fail "installed headers differ from include/ctxenc"
for f in ctxencConfig.cmake ctxencConfigVersion.cmake ctxencTargets.cmake; do
  [ -f "$prefix/$libdir/cmake/ctxenc/$f" ] || fail "no $f"
done
grep -q 'find_dependency(Torch)' "$prefix/$libdir/cmake/ctxenc/ctxencConfig.cmake" || fail "config lacks Torch"
grep -q 'find_dependency(OpenCV' "$prefix/$libdir/cmake/ctxenc/ctxencConfig.cmake" || fail "config lacks OpenCV"
[ -f "$prefix/$libdir/pkgconfig/ctxenc.pc" ] || fail "no ctxenc.pc"
for f in share/ctxenc/models/center.ctxm share/ctxenc/models/region.ctxm share/man/man1/ctxenc.1.gz \
         share/bash-completion/completions/ctxenc share/zsh/vendor-completions/_ctxenc bin/ctxenc; do
  [ -f "$prefix/$f" ] || fail "no $f"
done
gzip -dc "$prefix/share/man/man1/ctxenc.1.gz" | grep -q '^\.SH "EXIT STATUS"' || fail "man page lacks EXIT STATUS"

# The installed CLI: its version, and bare model names found in share/ctxenc/models.
"$prefix/bin/ctxenc" --version | grep -Eq '^ctxenc 0\.1\.0 \(git ([0-9a-f]{7,}(-dirty)?|unknown)\)$' \
  || fail "--version: $("$prefix/bin/ctxenc" --version)"
file="$("$prefix/bin/ctxenc" info --json center | "$py" -c 'import json,sys; print(json.load(sys.stdin)["file"])')"
[ "$file" = "$prefix/share/ctxenc/models/center.ctxm" ] || fail "info center found '$file'"

# The consumer, through find_package(ctxenc).
photo="$src/tests/data/photos/photo0.jpg"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$src/examples/consumer" -B "$tmp/consumer" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; fail "consumer configure"; }
cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; fail "consumer build"; }
"$tmp/consumer/inpaint_one" center "$photo" "$tmp/consumer.png"
"$prefix/bin/ctxenc" --quiet inpaint "$photo" --mask center --model center -o "$tmp/cli.png"
cmp "$tmp/consumer.png" "$tmp/cli.png" || fail "consumer output differs from ctxenc inpaint's"
cmp -s "$tmp/consumer.png" "$photo" && fail "consumer output is the input"

# The same program through pkg-config.
flags="$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs ctxenc)" || fail "pkg-config ctxenc"
g++ -O1 "$src/examples/consumer/main.cpp" $flags -Wl,-rpath,"$prefix/$libdir" -o "$tmp/pc_consumer" \
  || fail "pkg-config build"
"$tmp/pc_consumer" center "$photo" "$tmp/pc.png"
cmp "$tmp/pc.png" "$tmp/cli.png" || fail "pkg-config consumer output differs"

# The Python module, where it was built.
if [ -n "${CTXENC_EXPECT_PYTHON:-}" ]; then
  pydir="$prefix/lib/python3/dist-packages"
  [ -n "$(ls "$pydir"/ctxenc*.so 2>/dev/null)" ] || fail "no Python module in $pydir"
  PYTHONPATH="$pydir" "$py" -c "import ctxenc; m = ctxenc.load('center'); print('python:', m.info()['file'])" \
    | grep -q "$prefix/share/ctxenc/models/center.ctxm" || fail "installed Python module"
fi
# The README's "Use it from C++ / Python / PyTorch" snippets, in order, against this install.
snip="$tmp/readme" work="$tmp/readme-run"
mkdir -p "$work" "$tmp/readme-cpp"
"$py" "$src/tests/install/readme_snippets.py" "$src/README.md" "$snip" >"$tmp/snippets.txt"
cp "$photo" "$work/photo.jpg"
{
  echo 'cmake_minimum_required(VERSION 3.18)'
  echo 'project(readme LANGUAGES CXX)'
  echo 'set(CMAKE_CXX_STANDARD 17)'
  cat "$snip"/*.cmake
} >"$tmp/readme-cpp/CMakeLists.txt"
cp "$snip"/*.cpp "$tmp/readme-cpp/main.cpp"
cmake -S "$tmp/readme-cpp" -B "$tmp/readme-cpp/build" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$tmp/readme.log" 2>&1 && cmake --build "$tmp/readme-cpp/build" >>"$tmp/readme.log" 2>&1 \
  || { cat "$tmp/readme.log"; fail "README C++ snippet does not build"; }
(cd "$work" && "$tmp/readme-cpp/build/fill") || fail "README C++ snippet failed"
[ -s "$work/filled.png" ] || fail "README C++ snippet wrote no filled.png"
if [ -n "${CTXENC_EXPECT_PYTHON:-}" ]; then
  while read -r f; do
    case "$f" in
      *.py) (cd "$work" && PYTHONPATH="$pydir" "$py" "$snip/$f") || fail "README snippet $f failed" ;;
      *.sh) (cd "$work" && PATH="$prefix/bin:$PATH" PYTHONPATH="$pydir" bash -euo pipefail "$snip/$f") \
              || fail "README snippet $f failed" ;;
    esac
  done <"$tmp/snippets.txt"
  [ -s "$work/tuned.png" ] || fail "README PyTorch round trip wrote no tuned.png"
fi
echo "install test: ok ($prefix; README snippets: $(tr '\n' ' ' <"$tmp/snippets.txt"))"
