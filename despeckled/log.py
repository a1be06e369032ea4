"""Structured logging: JSON lines when not on a terminal (journald, files,
pipes), readable key=value lines on a terminal.

Each file keeps a stable set of event names through its life; use the
constants below rather than free text, so admins can filter on them.
"""

from __future__ import annotations

import logging
import sys

import structlog

# Per-file lifecycle events (stable names: admins filter on these).
DETECTED = "detected"
SETTLED = "settled"
CLAIMED = "claimed"
CLEANED = "cleaned"
ARCHIVED = "archived"
FAILED = "failed"
STUCK = "stuck"
IGNORED = "ignored"
RETRYING = "retrying"
PASSED_THROUGH = "passed_through"
#: every page of the file was blank (``blank_pages = "drop"``): no output,
#: the original is archived
BLANK = "blank"


def configure_logging(json: bool | None = None, level: str = "info", stream=None) -> None:
    """Configure structlog once for the process.

    ``json=None`` picks JSON unless ``stream`` is a terminal. An explicit
    argument always wins.
    """
    stream = stream or sys.stderr
    if json is None:
        json = not (hasattr(stream, "isatty") and stream.isatty())
    processors: list = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        # one write() per line (message and newline together): the daemon and
        # its workers share one stderr (the journal's stream), and print()'s
        # separate newline let two processes' lines run into one another
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None, **initial: object):
    log = structlog.get_logger()
    if name:
        initial.setdefault("logger", name)
    return log.bind(**initial) if initial else log
