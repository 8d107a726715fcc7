#!/usr/bin/env bash
# scripts/demo.sh — set up, build, and inpaint the example photo with the shipped model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
mkdir -p out
MODEL="${MODEL:-models/center.ctxm}"
if [ ! -f "$MODEL" ]; then
  echo "demo: $MODEL is not here; training a tiny stand-in model on tests/data/photos first" >&2
  rm -rf out/tiny-run
  build/ctxenc train --data tests/data/photos --out out/tiny-run --image-size 64 --bottleneck channelwise \
    --batch 8 --steps 200 --sample-every 0
  MODEL=out/tiny-run/model.ctxm
fi
build/ctxenc inpaint examples/chambord.jpg --mask center --model "$MODEL" -o out/chambord-inpainted.png --concat
echo "demo: wrote out/chambord-inpainted.png (input | mask | result)"
if [ -f models/region.ctxm ]; then
  # The use users ask for most: brush strokes anywhere, with the region model.
  build/ctxenc inpaint examples/chambord.jpg --mask examples/chambord-mask-freeform.png --model models/region.ctxm \
    -o out/chambord-strokes-inpainted.png --concat
  echo "demo: wrote out/chambord-strokes-inpainted.png (input | mask | result)"
fi
