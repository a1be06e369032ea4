"""`despeckled run` (placeholder)."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser("run", help="(not yet implemented)")
    p.add_argument("--config", default=None)
    return p


def run(args) -> int:
    raise NotImplementedError
