#!/usr/bin/env bash
# scripts/compare_precision.sh — trains the same model twice from the same seed,
# in fp32 and in bf16, and compares the two loss curves (docs/performance.md).
#   scripts/compare_precision.sh [OUT_DIR] [STEPS] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/precision}"
STEPS="${2:-500}"
BATCH="${3:-32}"
mkdir -p "$OUT"
for p in fp32 bf16; do
  rm -rf "$OUT/$p"
  build/ctxenc train --config models/recipes/center.json --out "$OUT/$p" --precision "$p" \
    --steps "$STEPS" --batch "$BATCH" --sample-every 0 --save-every 100000 --ema-decay 0
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def curve(p):
    rows = [json.loads(l) for l in open(f"{out}/{p}/log.jsonl")]
    return {r["step"]: r for r in rows if "loss_rec" in r}
a, b = curve("fp32"), curve("bf16")
steps = sorted(set(a) & set(b))
win = 50
print(f"{'steps':>11} {'fp32 rec':>9} {'bf16 rec':>9} {'rel diff':>8} {'fp32 G':>8} {'bf16 G':>8}")
worst = 0.0
for s0 in range(0, steps[-1], win):
    w = [s for s in steps if s0 < s <= s0 + win]
    if not w: continue
    ra = sum(a[s]["loss_rec"] for s in w) / len(w); rb = sum(b[s]["loss_rec"] for s in w) / len(w)
    ga = sum(a[s]["loss_g"] for s in w) / len(w); gb = sum(b[s]["loss_g"] for s in w) / len(w)
    rel = abs(rb - ra) / ra
    worst = max(worst, rel)
    print(f"{s0+1:>5}-{s0+win:<5} {ra:9.4f} {rb:9.4f} {100*rel:7.1f}% {ga:8.4f} {gb:8.4f}")
print(f"largest relative difference of the {win}-step mean reconstruction loss: {100*worst:.1f}%")
PY
