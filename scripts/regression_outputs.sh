#!/usr/bin/env bash
# scripts/regression_outputs.sh — writes what the shipped models produce for a fixed set of
# inpaint and eval runs, so a refactor can be checked to change no output byte:
#
#   scripts/regression_outputs.sh OLD_BINARY /tmp/before
#   scripts/regression_outputs.sh build/ctxenc /tmp/after
#   diff -r /tmp/before /tmp/after && echo identical
#
# Covers both shipped models, the center, free-form and rect masks, every blend, the three
# strategies, bf16, flip averaging, a 4000x3000 photo, and eval reports with generated masks
# and mask folders (tests/data, and data/debian-photos/val when it has been built).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:?usage: regression_outputs.sh CTXENC_BINARY OUT_DIR}"
OUT="${2:?usage: regression_outputs.sh CTXENC_BINARY OUT_DIR}"
mkdir -p "$OUT"
run() { echo "+ $*" >&2; "$BIN" "$@" >/dev/null 2>&1 || { echo "regression_outputs: failed: $*" >&2; exit 1; }; }

photo=examples/chambord.jpg
for model in center region; do
  for mask in center examples/chambord-mask-freeform.png rect:300,200,260,180; do
    tag=$(basename "$mask" .png | tr ':,' '__')
    for blend in none feather poisson; do
      run inpaint "$photo" --mask "$mask" --model "models/$model.ctxm" --blend "$blend" -o "$OUT/$model-$tag-$blend.png"
    done
  done
  for strategy in resize full; do
    run inpaint "$photo" --mask examples/chambord-mask-freeform.png --model "models/$model.ctxm" \
      --strategy "$strategy" -o "$OUT/$model-freeform-$strategy.png"
  done
  run inpaint "$photo" --mask center --model "models/$model.ctxm" --precision bf16 -o "$OUT/$model-center-bf16.png"
  run inpaint "$photo" --mask center --model "models/$model.ctxm" --flip-average -o "$OUT/$model-center-flip.png"
  run inpaint examples/kleiber-4000x3000.jpg --mask examples/kleiber-mask-3holes.png --model "models/$model.ctxm" \
    -o "$OUT/$model-kleiber.png"
done
run inpaint "$photo" --mask center --model models/center.ctxm --center-fit 1.2 -o "$OUT/center-center-fit12.png"

# eval: the reports minus nothing (they hold no timings or absolute paths beyond the ones given here).
evals() {
  local data=$1 tag=$2
  run eval --data "$data" --model models/center.ctxm --out "$OUT/eval-$tag-center"
  run eval --data "$data" --model models/region.ctxm --mask free-form --out "$OUT/eval-$tag-region-ff"
  run eval --data "$data" --model models/region.ctxm --mask random-region --blend feather --out "$OUT/eval-$tag-region-rr"
}
evals tests/data/photos photos
evals tests/data/val val
# A mask folder at a fixed path: the reports name it.
maskdir=/tmp/ctxenc-regression-masks
rm -rf "$maskdir" && mkdir -p "$maskdir"
run masks --kind random-block --count 8 --size 128 --out "$maskdir"
i=0
for f in tests/data/photos/*.jpg; do mv "$maskdir/random-block_0000$i.png" "$maskdir/$(basename "$f" .jpg).png"; i=$((i+1)); done
run eval --data tests/data/photos --model models/region.ctxm --mask "$maskdir" --save-images --out "$OUT/eval-maskdir"
if [ -d data/debian-photos/val ]; then
  run eval --data data/debian-photos --model models/center.ctxm --out "$OUT/eval-debian-center"
  run eval --data data/debian-photos --model models/region.ctxm --mask free-form --out "$OUT/eval-debian-region-ff"
fi
echo "regression_outputs: wrote $(find "$OUT" -type f | wc -l) files to $OUT" >&2
