#!/usr/bin/env python3
"""Is this checkout's ``clean_page`` slower than another checkout's?

Wall-clock timings on a shared, loaded machine swing by 2-3x; CPU time of a
single-threaded process does not (another process's work is not counted).
This times ``clean_page`` on the same synthetic A4 pages in both checkouts,
in separate processes (so their module layouts may differ), best-of-N CPU
milliseconds per page, rounds interleaved::

    .venv/bin/python benchmarks/ab_speed.py --other /path/to/old/checkout

Prints one line per resolution: other, this, and this/other.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import cv2
from despeckled.clean import CleanParams, clean_page
try:
    from despeckled.testing.synth import make_page
except ImportError:  # the layout before issue 9
    from despeckled.synth import make_page
cv2.setNumThreads(1)
params, reps, out = CleanParams(), int(sys.argv[2]), {}
for dpi in (300, 600):
    page = make_page(101, dpi=dpi).noisy
    gray = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) if page.ndim == 3 else page
    clean_page(gray, params, dpi=dpi)
    best = float("inf")
    for _ in range(reps):
        t = time.process_time()
        clean_page(gray, params, dpi=dpi)
        best = min(best, time.process_time() - t)
    out[dpi] = 1000 * best
print(json.dumps(out))
"""


def run(checkout: Path, reps: int) -> dict[str, float]:
    res = subprocess.run([sys.executable, "-c", CHILD, str(checkout), str(reps)], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other", type=Path, required=True, help="the other checkout (its despeckled/ is imported)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--repeats", type=int, default=8, help="pages timed per round, best of (default 8)")
    args = ap.parse_args()
    best: dict[str, dict[str, float]] = {"other": {}, "this": {}}
    for _ in range(args.rounds):
        for name, path in (("other", args.other.resolve()), ("this", ROOT)):
            for dpi, ms in run(path, args.repeats).items():
                best[name][dpi] = min(best[name].get(dpi, float("inf")), ms)
    for dpi in best["this"]:
        o, t = best["other"][dpi], best["this"][dpi]
        print(f"A4 {dpi} dpi, CPU ms/page (best of {args.rounds * args.repeats}): other {o:.1f}, this {t:.1f}, "
              f"this/other {t / o:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
