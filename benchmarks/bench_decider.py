#!/usr/bin/env python3
"""``bench_engine.py`` with a chosen keep/remove decider, so the rule
cascade and the trained model are measured by the same benchmark::

    nice .venv/bin/python benchmarks/bench_decider.py --decider rules [bench_engine options]
    nice .venv/bin/python benchmarks/bench_decider.py --decider model [bench_engine options]

Every other option is ``bench_engine.py``'s (``--families``, ``--pages``,
``--no-real``, ...). The held-out family's figures are labelled as such;
report them, never tune on them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench_engine  # noqa: E402

from despeckled.clean import CleanParams  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--decider", choices=("rules", "model"), required=True)
    ap.add_argument("--model-threshold", type=float, default=None)
    args, rest = ap.parse_known_args(argv)
    over = {"decider": args.decider}
    if args.model_threshold is not None:
        over["model_threshold"] = args.model_threshold
    bench_engine.PARAMS = CleanParams(**over)
    print(f"decider: {bench_engine.PARAMS.decider}"
          + (f", model_threshold {bench_engine.PARAMS.model_threshold}" if args.decider == "model" else ""))
    return bench_engine.main(rest)


if __name__ == "__main__":
    sys.exit(main())
