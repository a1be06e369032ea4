"""Exceptions that carry their own exit code.

Exceptions are raised anywhere in the package and turned into a process exit
status only at the CLI edge (``despeckled.cli``), the way OCRmyPDF's
``ExitCodeException`` works.
"""

from __future__ import annotations

import os
from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    other_error = 1
    bad_args = 2
    bad_config = 3
    input_file = 4        # at least one input file could not be processed
    output_file = 5       # an output could not be written
    not_running = 6       # `despeckled status`: no daemon state found
    interrupted = 130


class DespeckledError(Exception):
    """Base class: every expected failure in despeckled."""

    exit_code: ExitCode = ExitCode.other_error

    def __init__(self, message: str = "", **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message or self.__class__.__name__


class ConfigError(DespeckledError):
    """The configuration is invalid; ``problems`` lists every issue found."""

    exit_code = ExitCode.bad_config

    def __init__(self, message: str = "", problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message] if self.message else []
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class BadInputError(DespeckledError):
    """A file that can never be processed: it goes to the failed folder.

    ``reason`` is a short machine-readable slug (``"not_an_image"``,
    ``"truncated"``, ``"empty"``, ``"too_large"``, ``"unreadable"``,
    ``"symlink"``, ``"encrypted"``, ...); the message is for humans.
    """

    exit_code = ExitCode.input_file
    reason = "bad_input"

    def __init__(self, message: str = "", reason: str | None = None, **context: object) -> None:
        super().__init__(message, **context)
        if reason is not None:
            self.reason = reason


class EmptyInputError(BadInputError):
    reason = "empty"


class NotAnImageError(BadInputError):
    reason = "not_an_image"


class TruncatedInputError(BadInputError):
    """The file ends early. While a file may still be growing this means "not
    ready yet"; once it has settled for good, it means the file is broken."""

    reason = "truncated"


class ImageTooLargeError(BadInputError):
    reason = "too_large"


class UnsupportedInputError(BadInputError):
    reason = "unsupported"


class TransientIOError(DespeckledError):
    """An I/O error that may go away (EBUSY, ESTALE, EAGAIN, a share that
    blipped). Callers retry with backoff before declaring failure."""

    exit_code = ExitCode.other_error


class OutputError(DespeckledError):
    exit_code = ExitCode.output_file


class FolderMissingError(DespeckledError):
    """A configured folder (input, output, archive, failed) is not there, or
    is on another filesystem than when its watch came up: a share that is
    unmounted or remounted. Never the file's fault and never created in its
    place: the file waits until the folder is back."""

    exit_code = ExitCode.output_file

    def __init__(self, folder: str | os.PathLike[str], reason: str, message: str = "") -> None:
        self.folder = str(folder)
        self.reason = reason
        super().__init__(message or f"{folder}: {reason}")
