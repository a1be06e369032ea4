#!/usr/bin/env python3
"""The classic recipe as a batch tool: the baseline of ``bench_clean.py``'s
batch row.

    python benchmarks/classic_batch.py OUT_DIR FILE...

Each file is read, cleaned with the vectorised classic recipe (Otsu, median
3, drop components smaller than 45 px at 300 dpi) and written as a 1-bit
PNG, one page after another, as a small real tool would. It imports only
what that tool needs (OpenCV, NumPy, Pillow and the recipe itself), so its
start-up is a fair baseline, not the benchmark's own imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
from PIL import Image

from scoring import classic_vectorised

MIN_AREA_300 = 45


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0])
    for f in argv[1:]:
        gray = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        out = classic_vectorised(gray, MIN_AREA_300)
        Image.fromarray(out).convert("1").save(out_dir / (Path(f).stem + ".png"), dpi=(300, 300))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
