"""Do two versions of the engine clean the same pages to the same pixels?

Used to prove that a refactor changed no output. It makes a fixed set of
input pages (synthetic benchmark pages at 200/300/600 dpi, plus every page
of ``../shared/data`` when it is present), cleans them with
``despeckled clean`` in binary and gray mode, and compares the decoded pixels
with a baseline folder written the same way by another checkout.

    # SHARED_DATA_DIR overrides ../shared/data (not DESPECKLED_*: the config owns that prefix)
    # in the old checkout (the baseline):
    .venv/bin/python benchmarks/compare_outputs.py --inputs /tmp/cmp-in --write /tmp/cmp-base
    # in the new one:
    .venv/bin/python benchmarks/compare_outputs.py --inputs /tmp/cmp-in --against /tmp/cmp-base

It runs the CLI (not an import), so the two checkouts may lay out their
modules differently. Exit status 0 when every output is pixel-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
MODES = ("binary", "gray")


def make_inputs(folder: Path) -> None:
    """Synthetic pages (by the generator of whichever checkout runs this) + real pages."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    try:
        from despeckled.testing.synth import make_page
    except ImportError:  # the layout before issue 9
        from despeckled.synth import make_page
    import cv2
    for seed, dpi in ((1, 200), (2, 300), (3, 300), (4, 600)):
        cv2.imwrite(str(folder / f"synth-{seed}-{dpi}.png"), make_page(seed, dpi=dpi).noisy)
    if SHARED.is_dir():
        for p in sorted(SHARED.rglob("*")):
            if p.is_file() and p.suffix.lower() in {".png", ".jpg", ".jpeg", ".tif", ".tiff"} \
                    and "clean" not in p.parent.name:
                rel = p.relative_to(SHARED)
                shutil.copyfile(p, folder / ("__".join(rel.parts)))


def run_clean(inputs: Path, out: Path) -> None:
    exe = Path(sys.executable).with_name("despeckled")
    for mode in MODES:
        dest = out / mode
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(exe), "clean", "-q", "-j", "2", "--set", f"mode='{mode}'",
                        "--output-dir", str(dest), str(inputs)], check=True)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        frames = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(np.asarray(im.convert("L") if im.mode not in ("1", "L") else im))
    return np.concatenate([f.reshape(-1) for f in frames])


def compare(new: Path, base: Path) -> int:
    bad = 0
    n = 0
    for mode in MODES:
        names = sorted(p.name for p in (base / mode).iterdir())
        got = sorted(p.name for p in (new / mode).iterdir())
        if names != got:
            print(f"{mode}: different file sets: {set(names) ^ set(got)}")
            bad += 1
        for name in names:
            if not (new / mode / name).exists():
                continue
            n += 1
            a, b = pixels(base / mode / name), pixels(new / mode / name)
            if a.shape != b.shape or not np.array_equal(a, b):
                diff = "shape" if a.shape != b.shape else f"{int((a != b).sum())} px"
                print(f"DIFFERENT {mode}/{name}: {diff}")
                bad += 1
    same_bytes = sum(
        hashlib.sha256((new / m / p.name).read_bytes()).digest()
        == hashlib.sha256(p.read_bytes()).digest()
        for m in MODES for p in (base / m).iterdir() if (new / m / p.name).exists()
    )
    print(f"compared {n} outputs ({len(MODES)} modes): {n - bad} pixel-identical, "
          f"{same_bytes} byte-identical, {bad} different")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=Path, required=True, help="input folder (made if empty)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="write the outputs here (the baseline)")
    g.add_argument("--against", type=Path, help="compare with this baseline folder")
    args = ap.parse_args()
    make_inputs(args.inputs)
    if args.write:
        run_clean(args.inputs, args.write)
        print(f"wrote {sum(1 for _ in args.write.rglob('*') if _.is_file())} outputs to {args.write}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run_clean(args.inputs, Path(tmp))
        return compare(Path(tmp), args.against)


if __name__ == "__main__":
    sys.exit(main())
