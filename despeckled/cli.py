"""The command-line edge: parse arguments, dispatch, and turn exceptions into
exit codes. Nothing else in the package calls ``sys.exit``.

Each subcommand lives in ``despeckled.commands.<name>`` and exposes
``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Before anything imports numpy: its BLAS (OpenBLAS) starts a thread per core
# at import, about 50 ms of CPU on every start, for nothing - despeckled does
# no linear algebra, and its parallelism is worker processes, one per core,
# which BLAS threads would only oversubscribe. Inherited by the daemon's and
# the batch's workers. A value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from despeckled import __version__
from despeckled.errors import DespeckledError, ExitCode

COMMANDS = ("clean", "run", "check_config", "status")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="despeckled",
        description="Remove specks and dots from scanned pages without damaging the text.",
    )
    parser.add_argument("--version", action="version", version=f"despeckled {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"despeckled.commands.{name}")
        p = module.add_parser(sub)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except DespeckledError as exc:
        print(f"despeckled: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return int(ExitCode.interrupted)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
