"""What every reader hands out and every writer takes: :class:`Page`,
:class:`Limits`, the :class:`PageSource` / :class:`PageSink` protocol that
the raster (:mod:`despeckled.io.raster`) and PDF (:mod:`despeckled.io.pdf`)
readers and writers implement, and the mapping of OSErrors to our errors.

Pixels handed out by :meth:`PageSource.pages`:

=================================  ==========================================
file holds                         ``Page.pixels``
=================================  ==========================================
1-bit (bilevel)                    ``(H, W)`` uint8, 0 = black, 255 = white;
                                   ``info["bits"] == 1``
8-bit gray, gray palette           ``(H, W)`` uint8
16-bit gray                        ``(H, W)`` uint16 (native byte order)
RGB, colour palette, CMYK, YCbCr   ``(H, W, 3)`` uint8, RGB order
RGBA, LA, palette + transparency   ``(H, W, 4)`` uint8, RGBA order
=================================  ==========================================

16-bit *colour* is read as 8-bit colour (Pillow keeps only 16-bit gray).
An EXIF/TIFF orientation tag other than "normal" is applied on reading, so the
output (which carries no orientation tag) looks the way the input displayed.
``Page.dpi`` is what the file says, ``None`` when it says nothing; whether it
is plausible is the cleaning engine's business.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is turned
off when the I/O layer is imported: :class:`Limits` replaces it, so that the
limit is the configured one and the error is ours
(:class:`~despeckled.errors.ImageTooLargeError`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image, ImageFile

from despeckled import errors
from despeckled.io.errnos import is_transient

# Our Limits replace Pillow's guard; a truncated file must raise, never be
# silently padded with grey.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow warns (UserWarning: "Corrupt EXIF data", "Truncated File Read", ...)
# about things the readers turn into errors or ignores on purpose; in a
# service those warnings are stray stderr lines. A process-wide filter, set
# once, because warnings.catch_warnings() is not thread-safe.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
# Likewise its log records ("More samples per pixel than can be decoded", an
# error it then raises as an exception that we name in one line),
# which Python's last-resort handler would print when logging is unconfigured.
logging.getLogger("PIL").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Limits:
    """Refuse a file before decoding it when its header declares more than this.

    >>> Limits().max_pixels > 8_700_000      # an A4 page at 300 dpi fits easily
    True
    """

    max_pixels: int = 250_000_000     # per page; A4 at 1200 dpi is ~140 Mpx
    max_pages: int = 2000

    def check_pixels(self, width: int, height: int, index: int = 0) -> None:
        if width <= 0 or height <= 0:
            raise errors.BadInputError(f"page {index + 1} declares an empty size {width}x{height}", reason="corrupt")
        if width * height > self.max_pixels:
            raise errors.ImageTooLargeError(
                f"page {index + 1} is {width}x{height} pixels ({width * height / 1e6:.0f} Mpx), "
                f"over the limit of {self.max_pixels / 1e6:.0f} Mpx"
            )

    def check_pages(self, count: int) -> None:
        if count > self.max_pages:
            raise errors.ImageTooLargeError(f"{count} pages or more, over the limit of {self.max_pages}")


@dataclass
class Page:
    """One decoded page.

    Attributes
    ----------
    pixels : ndarray
        See the table in the module docstring (shape, dtype, channel order).
    dpi : (float, float) or None
        Resolution the file declares, ``None`` when it declares none.
    index : int
        0-based page number within the file.
    info : dict
        What a writer may want to keep: ``format``, ``mode`` (Pillow mode of
        the source), ``bits`` (1, 8 or 16), ``compression`` (TIFF),
        ``jpeg_quality`` (estimated), ``jpeg_subsampling``, ``icc_profile``.
    """

    pixels: np.ndarray
    dpi: tuple[float, float] | None
    index: int = 0
    info: dict[str, Any] = field(default_factory=dict)



@runtime_checkable
class PageSource(Protocol):
    """An open input file, read one page at a time (raster or PDF).

    ``format`` is what the content says (``png``, ``jpeg``, ``tiff``,
    ``bmp``, ``pdf``); ``facts`` is ``None`` for a raster file, else what
    the reader found besides page images (:class:`despeckled.io.pdf.PdfFacts`:
    a text layer, annotations, ...). Whether the file is copied unchanged is
    decided by :func:`despeckled.daemon.policy.pass_through`, not here.
    """

    path: Path
    format: str
    page_count: int
    facts: Any

    def pages(self, gray: bool = False) -> Iterator[Page]:
        """Decode and yield the pages in file order, one at a time.
        ``gray``: only the luminance will be used (a reader may decode less)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PageSink(Protocol):
    """An output file being written at a temp path, one page at a time.

    ``add_page`` appends a page (``bilevel``: written 1-bit, ink where
    :func:`despeckled.clean.gray.is_paper` is False); ``finish`` completes
    the file (raises :class:`~despeckled.errors.OutputError` when it has no
    page); ``close`` releases it, completed or not. Publishing the temp file
    is the caller's business (:func:`despeckled.io.images.open_sink`).
    """

    pages: int

    def add_page(self, image: np.ndarray, dpi: tuple[float, float] | None, *, bilevel: bool,
                 info: dict | None = None) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


def read_error(exc: OSError, what: str = "cannot read the file") -> errors.DespeckledError:
    """An OSError while reading: a bad input (missing, unreadable, a folder)
    or, for an errno that may pass (:mod:`despeckled.io.errnos`), transient."""
    if isinstance(exc, FileNotFoundError):
        return errors.BadInputError("the file does not exist (any more)", reason="missing")
    if isinstance(exc, PermissionError):
        return errors.BadInputError(f"{what}: permission denied", reason="unreadable")
    if isinstance(exc, IsADirectoryError):
        return errors.BadInputError("is a directory, not a file", reason="not_a_file")
    if is_transient(exc):
        return errors.TransientIOError(f"{what}: {exc.strerror or exc}")
    return errors.BadInputError(f"{what}: {exc.strerror or exc}", reason="unreadable")


def write_error(exc: OSError, tmp: Path) -> errors.DespeckledError:
    """An OSError while writing: transient (a share that blipped) or not."""
    where = tmp.parent
    if is_transient(exc):
        return errors.TransientIOError(f"cannot write in {where}: {exc.strerror or exc}")
    if exc.errno is None:      # an encoder error from Pillow/libtiff: ours, not the disk's
        return errors.OutputError(f"cannot encode the output: {exc}")
    return errors.OutputError(f"cannot write in {where}: {exc.strerror or exc}")
