#!/usr/bin/env bash
# scripts/setup.sh — installs every Debian package ctxenc needs. Idempotent:
# it asks apt only for what is missing, so a second run is a no-op.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # PyTorch 1.13 C++ API (find_package(Torch))
  libopenblas0-openmp     # without it libtorch uses reference BLAS (~20x slower)
  libopencv-dev           # image I/O, resize, cv::inpaint baselines, seamlessClone
  libwebp-dev             # WebP decoding for the Debian photo set
  zlib1g-dev              # checking tensor archives before libtorch reads them
  libcli11-dev            # command line
  nlohmann-json3-dev      # configs, logs, reports
  libgtest-dev libgmock-dev googletest   # tests
  libbenchmark-dev        # microbenchmarks
  clang-14 libfuzzer-14-dev  # the fuzz harnesses (scripts/fuzz.sh)
  python3-torch           # only for the reference benchmark (bench/reference)
  python3-matplotlib      # loss-curve plots in docs/
  python3-pil python3-numpy  # scripts/debian_photos.py (decoding, dedup hashes)
  python3-dev python3-pybind11  # the Python module (python/)
  help2man                # the man page, generated from --help
  dpkg-dev lintian        # cpack -G DEB and checking the package
  zsh                     # checking the generated zsh completion (zsh -n)
  libcpp-httplib-dev      # `ctxenc serve` (HTTP server)
  chromium chromium-driver python3-selenium  # the web page's browser test (tests/browser/)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
