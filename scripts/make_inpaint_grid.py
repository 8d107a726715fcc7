#!/usr/bin/env python3
"""Build docs/inpainting-grid.png: example photos inpainted with each blend.

Usage: /usr/bin/python3 scripts/make_inpaint_grid.py [--ctxenc build/ctxenc] [--out docs/inpainting-grid.png]

Rows: (photo, mask, model) cases from examples/ and tests/data/val/. Columns: masked input, then the
result with --blend none, feather and poisson. Large photos are shown as a crop around the holes.
Runs `ctxenc inpaint` for every cell, so it shows exactly what users get.
"""
import argparse
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [
    # photo, mask (file or spec), model, crop box (x0, y0, x1, y1) or None, label
    ("examples/chambord.jpg", "examples/chambord-mask-freeform.png", "models/region.ctxm", None,
     "1024x768, free-form strokes (15%), region model"),
    ("examples/chambord.jpg", "center", "models/center.ctxm", None, "1024x768, --mask center, center model"),
    ("examples/kleiber-4000x3000.jpg", "examples/kleiber-mask-3holes.png", "models/region.ctxm",
     (2000, 900, 4000, 3000), "4000x3000, three holes (crop), region model"),
    ("tests/data/val/explore_world_animals-animals-giraffe.png", "rect:40,40,48,48", "models/center.ctxm", None,
     "128x128 validation photo, 48x48 hole, center model"),
    ("tests/data/val/pool.png", "rect:20,70,60,30", "models/region.ctxm", None,
     "128x128 validation photo, wide hole, region model"),
]
BLENDS = ["none", "feather", "poisson"]
CELL = 320


def run(args):
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make_inpaint_grid: {' '.join(args)} failed:\n{r.stderr}")


def masked_view(photo, mask_spec, tmp):
    """The input with the hole painted white (from ctxenc's own mask reading, via --concat)."""
    img = Image.open(os.path.join(ROOT, photo)).convert("RGB")
    if mask_spec.startswith("rect:"):
        x, y, w, h = map(int, mask_spec[5:].split(","))
        m = Image.new("L", img.size, 0)
        ImageDraw.Draw(m).rectangle([x, y, x + w - 1, y + h - 1], fill=255)
    elif mask_spec == "center":
        return None
    else:
        m = Image.open(os.path.join(ROOT, mask_spec)).convert("L").resize(img.size, Image.NEAREST)
    white = Image.new("RGB", img.size, (255, 255, 255))
    return Image.composite(white, img, m.point(lambda v: 255 if v >= 127 else 0))


def fit(im, box):
    if box:
        im = im.crop(box)
    im = im.copy()
    im.thumbnail((CELL, CELL), Image.LANCZOS if im.width > CELL else Image.NEAREST)
    if im.width < CELL // 2:
        im = im.resize((im.width * (CELL // im.width), im.height * (CELL // im.width)), Image.NEAREST)
    return im


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ctxenc", default="build/ctxenc")
    ap.add_argument("--out", default="docs/inpainting-grid.png")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (photo, mask, model, box, label) in enumerate(CASES):
            cells = []
            for b in BLENDS:
                out = os.path.join(tmp, f"{i}_{b}.png")
                run([a.ctxenc, "inpaint", photo, "--mask", mask, "--model", model, "--blend", b, "-o", out])
                cells.append(Image.open(out).convert("RGB"))
            if mask == "center":  # show the hole ctxenc used: the none result's concat view
                cv = os.path.join(tmp, f"{i}_concat.png")
                run([a.ctxenc, "inpaint", photo, "--mask", mask, "--model", model, "-o", cv, "--concat"])
                c = Image.open(cv).convert("RGB")
                w = c.width // 3
                orig, m = c.crop((0, 0, w, c.height)), c.crop((w, 0, 2 * w, c.height)).convert("L")
                masked = Image.composite(Image.new("RGB", orig.size, (255, 255, 255)), orig, m)
            else:
                masked = masked_view(photo, mask, tmp)
            rows.append((label, [fit(masked, box)] + [fit(c, box) for c in cells]))
    head, pad = 24, 6
    width = max(sum(c.width for c in cells) + pad * (len(cells) + 1) for _, cells in rows)
    height = sum(head + max(c.height for c in cells) + pad for _, cells in rows) + head
    sheet = Image.new("RGB", (width, height), (32, 32, 32))
    d = ImageDraw.Draw(sheet)
    titles = ["input (hole in white)"] + [f"--blend {b}" for b in BLENDS]
    x = pad
    for t, c in zip(titles, rows[0][1]):
        d.text((x + 4, 6), t, fill=(230, 230, 230))
        x += c.width + pad
    y = head
    for label, cells in rows:
        d.text((pad + 4, y + 4), label, fill=(200, 200, 120))
        y += head
        x = pad
        for c in cells:
            sheet.paste(c, (x, y))
            x += c.width + pad
        y += max(c.height for c in cells) + pad
    os.makedirs(os.path.dirname(os.path.join(ROOT, a.out)), exist_ok=True)
    tmp_out = os.path.join(ROOT, a.out) + ".tmp.png"
    sheet.save(tmp_out)
    os.replace(tmp_out, os.path.join(ROOT, a.out))
    print(f"make_inpaint_grid: wrote {a.out}")


if __name__ == "__main__":
    main()
