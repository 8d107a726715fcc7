#!/usr/bin/python3
"""score_predictions.py — what-if scores on the images of `ctxenc eval --save-images` runs.

Re-scores the saved model outputs on the hole (mean per-image PSNR, L1 % over all hole values, the
eval's own definitions) after a post-process that ctxenc does not ship, to measure where a model's
error comes from:
  --blur S1,S2,...  Gaussian low-pass of the model output (sigma in px; 0 = as saved)
  several REPORT_DIRs: the average of their model outputs (an ensemble), beside each one alone
The REPORT_DIRs must come from runs on the same data, masks and seed.

  /usr/bin/python3 scripts/score_predictions.py out/eval-a --blur 0,1,2,3,4
  /usr/bin/python3 scripts/score_predictions.py out/eval-a out/eval-b
"""
import argparse
import glob
import os
import sys

import numpy as np
from PIL import Image, ImageFilter


def load(im):
    return np.asarray(im.convert("RGB")).astype(np.float64) / 255.0


class Score:
    def __init__(self):
        self.psnr_sum, self.abs_sum, self.values, self.images = 0.0, 0.0, 0, 0

    def add(self, pred, truth, hole):
        d = (pred - truth)[hole]
        self.psnr_sum += 10 * np.log10(1.0 / max(np.mean(d ** 2), 1e-12))
        self.abs_sum += np.abs(d).sum()
        self.values += d.size
        self.images += 1

    def __str__(self):
        return f"PSNR {self.psnr_sum / self.images:6.2f} dB   L1 {100 * self.abs_sum / self.values:6.2f} %"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", help="report folders written with --save-images")
    ap.add_argument("--blur", default="0", help="comma-separated Gaussian sigmas in px (default 0)")
    a = ap.parse_args()
    dirs = [os.path.join(r, "images") for r in a.reports]
    for d in dirs:
        if not os.path.isdir(os.path.join(d, "model")):
            sys.exit(f"error: {d}/model not found: run ctxenc eval with --model and --save-images")
    sigmas = [float(s) for s in a.blur.split(",")]
    truths = sorted(glob.glob(os.path.join(dirs[0], "truth", "**", "*.png"), recursive=True))
    if not truths:
        sys.exit(f"error: no images under {dirs[0]}/truth")
    scores = {}
    for t in truths:
        rel = os.path.relpath(t, os.path.join(dirs[0], "truth"))
        truth = load(Image.open(t))
        hole = np.asarray(Image.open(os.path.join(dirs[0], "mask", rel)).convert("L")) > 0
        outs = [Image.open(os.path.join(d, "model", rel)) for d in dirs]
        for s in sigmas:
            preds = [load(o.filter(ImageFilter.GaussianBlur(s)) if s > 0 else o) for o in outs]
            for i, p in enumerate(preds):
                scores.setdefault((a.reports[i], s), Score()).add(p, truth, hole)
            if len(preds) > 1:
                scores.setdefault(("average of all", s), Score()).add(sum(preds) / len(preds), truth, hole)
        if os.path.isdir(os.path.join(dirs[0], "telea")):
            scores.setdefault(("telea", 0.0), Score()).add(load(Image.open(os.path.join(dirs[0], "telea", rel))),
                                                           truth, hole)
    print(f"{len(truths)} images")
    for (name, s), sc in scores.items():
        print(f"{name:40s} blur {s:3g}  {sc}")


if __name__ == "__main__":
    main()
