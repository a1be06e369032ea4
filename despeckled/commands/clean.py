"""`despeckled clean INPUT... (-o OUTPUT | --output-dir DIR)` (first cut)."""

from __future__ import annotations

import sys
from pathlib import Path

from despeckled import errors
from despeckled.clean import CleanParams
from despeckled.process import clean_file


def add_parser(sub):
    p = sub.add_parser("clean", help="clean image files once and exit")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("-o", "--output", type=Path)
    g.add_argument("--output-dir", type=Path)
    return p


def run(args) -> int:
    params = CleanParams()
    failed = 0
    for src in args.inputs:
        out_dir = args.output_dir or args.output.parent
        name = None if args.output_dir else args.output.name
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            clean_file(src, out_dir, params, out_name=name)
        except errors.BadInputError as exc:
            print(f"despeckled: {src}: {exc}", file=sys.stderr)
            failed += 1
    return int(errors.ExitCode.input_file) if failed else 0
