#!/usr/bin/env python3
"""Write the README's before/after picture, ``docs/before-after.png``.

Made only from the project's own synthetic generator (no real scans): a crop
of a noisy 300-dpi page, the same crop cleaned by ``clean_page`` with the
default profile, and the ``--show-removed`` overlay (removed ink red, small
marks kept because they belong to text green).

    .venv/bin/python benchmarks/make_figure.py [--seed N] [--out docs/before-after.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from despeckled.clean import CleanParams, clean_page  # noqa: E402
from despeckled.clean.overlay import removed_overlay  # noqa: E402
from despeckled.testing.synth import make_page  # noqa: E402


def _palette() -> Image.Image:
    """24 grays plus the overlay's reds and greens: a fixed palette keeps the
    PNG small (scan noise compresses badly) and never loses the colours."""
    cols = [(v, v, v) for v in np.linspace(0, 255, 24).astype(int)]
    for f in (1.0, 0.8, 0.6):
        cols += [(int(230 * f), 0, 0), (int(255 * f), int(170 * f), int(170 * f)),
                 (0, int(160 * f), 0), (int(170 * f), int(230 * f), int(170 * f))]
    flat = [c for rgb in cols for c in rgb]
    pal = Image.new("P", (1, 1))
    pal.putpalette(flat + [255] * (768 - len(flat)))
    return pal


def best_window(page, h: int, w: int, step: int = 50) -> tuple[int, int]:
    """Top-left corner of the ``h`` x ``w`` window with the most specks near
    text, dust and small marks, that is mostly text (not margin)."""
    H, W = page.clean.shape

    def box_sums(mask):
        ii = cv2.integral(mask.astype(np.uint8), sdepth=cv2.CV_32S)
        ys = np.arange(0, H - h, step)
        xs = np.arange(0, W - w, step)
        return (ii[ys[:, None] + h, xs[None, :] + w] - ii[ys[:, None], xs[None, :] + w]
                - ii[ys[:, None] + h, xs[None, :]] + ii[ys[:, None], xs[None, :]]), ys, xs

    ink, ys, xs = box_sums(page.ink)
    near = np.isin(page.speck_labels, 1 + np.flatnonzero(page.speck_kind[1:] == 1))
    sp, _, _ = box_sums(page.speck_labels > 0)
    nr, _, _ = box_sums(near)
    du, _, _ = box_sums(page.dust_labels > 0)
    sm, _, _ = box_sums(page.small_labels > 0)
    score = sp + 3.0 * nr + 0.5 * du + 0.5 * sm
    score[ink < 0.06 * h * w] = -1
    left = int(np.flatnonzero(page.ink.any(axis=0))[0])  # the text's left margin
    score[:, xs < left - 40] = -1
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    y, x = int(ys[i]), int(xs[j])
    # start the crop on a blank row, so no line of text is cut in half
    above = page.ink[max(0, y - step):y + 1, x:x + w].any(axis=1)
    blank = np.flatnonzero(~above)
    if blank.size:
        y = max(0, y - step) + int(blank[-1])
    return y, x


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "before-after.png")
    ap.add_argument("--crop", default="640x760", help="HxW of each panel in pixels at 300 dpi")
    args = ap.parse_args(argv)
    h, w = (int(v) for v in args.crop.split("x"))

    # a scanner a little dirtier than the benchmark's default, so the crop shows every case
    page = make_page(args.seed, dpi=300, n_specks=1000, near_fraction=0.35, n_dust=20)
    res = clean_page(page.noisy, CleanParams(), dpi=300)
    y, x = best_window(page, h, w)
    sl = np.s_[y:y + h, x:x + w]
    before = np.repeat(page.noisy[sl][..., None], 3, axis=2) if page.noisy.ndim == 2 else page.noisy[sl]
    after = np.repeat(res.image[sl][..., None], 3, axis=2)
    overlay = removed_overlay(page.noisy[sl], res.removed[sl], res.kept_small[sl], halo=3)

    gap, head = 16, 44
    canvas = Image.new("RGB", (3 * w + 2 * gap, h + head), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=26)
    for k, (img, title) in enumerate(((before, "scan (synthetic, 300 dpi)"), (after, "despeckled"),
                                      (overlay, "removed: red   kept small marks: green"))):
        x0 = k * (w + gap)
        canvas.paste(Image.fromarray(np.ascontiguousarray(img)), (x0, head))
        draw.text((x0 + 4, 8), title, fill=(0, 0, 0), font=font)
        draw.rectangle((x0, head, x0 + w - 1, head + h - 1), outline=(160, 160, 160))
    small = canvas.quantize(palette=_palette(), dither=Image.Dither.NONE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    small.save(tmp, format="PNG", optimize=True)
    tmp.replace(args.out)
    st = res.stats
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB; crop y={y} x={x}; page stats: "
          f"specks_removed={st.get('specks_removed')} dust_removed={st.get('dust_removed')} small_kept={st.get('small_kept')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
