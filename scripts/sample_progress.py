#!/usr/bin/env python3
"""Compose a run's sample grids into one picture of the predictions over training.

Usage: /usr/bin/python3 scripts/sample_progress.py RUN_DIR --out PNG [--rows 4] [--every 2]

`ctxenc train` writes RUN_DIR/samples/step_NNNNNNN.png every --sample-every steps: one row per fixed
training crop, three tiles (masked input | prediction | original). This script keeps the first --rows
crops and lays out: masked input | the prediction at each kept step | original, with the steps on top.
Needs Debian's python3-pil.
"""
import argparse
import glob
import os
import re
import sys

from PIL import Image, ImageDraw


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=4, help="crops (rows) to show")
    ap.add_argument("--every", type=int, default=1, help="keep every n-th sample grid (the last is always kept)")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.run_dir, "samples", "step_*.png")))
    if not files:
        sys.exit(f"sample_progress: no samples in {a.run_dir}/samples")
    keep = files[:: max(1, a.every)]
    if keep[-1] != files[-1]:
        keep.append(files[-1])
    grids = [Image.open(f).convert("RGB") for f in keep]
    tile = grids[0].width // 3
    rows = min(a.rows, grids[0].height // tile)
    header = 18
    cols = len(grids) + 2
    out = Image.new("RGB", (cols * tile, header + rows * tile), (40, 40, 40))
    draw = ImageDraw.Draw(out)
    steps = [int(re.search(r"(\d+)", os.path.basename(f)).group(1)) for f in keep]
    labels = ["input"] + [f"step {s}" for s in steps] + ["original"]
    for c, label in enumerate(labels):
        draw.text((c * tile + 4, 3), label, fill=(235, 235, 235))
    for r in range(rows):
        y = r * tile
        out.paste(grids[-1].crop((0, y, tile, y + tile)), (0, header + y))
        for c, g in enumerate(grids):
            out.paste(g.crop((tile, y, 2 * tile, y + tile)), ((c + 1) * tile, header + y))
        out.paste(grids[-1].crop((2 * tile, y, 3 * tile, y + tile)), ((cols - 1) * tile, header + y))
    tmp = a.out + ".tmp.png"
    out.save(tmp)
    os.replace(tmp, a.out)
    print(f"sample_progress: wrote {a.out} ({len(keep)} steps x {rows} crops)")


if __name__ == "__main__":
    main()
