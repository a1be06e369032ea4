"""Pages in and out: the one entry point for reading and writing page files.

Contract (other modules rely on exactly this):

* :data:`SUPPORTED_EXTENSIONS` - lower-case suffixes despeckled takes in
  (callers compare ``suffix.lower()``). The content is sniffed from its magic
  bytes; the suffix only decides whether a watcher looks at a file at all.
* :class:`Limits` - pixel/page limits against decompression bombs, checked
  from the file's header *before* any pixel is decoded.
* :func:`open_source(path, limits)` - a context manager yielding a
  :class:`~despeckled.io.pages.PageSource` whose ``pages()`` iterates
  :class:`Page` objects one at a time (a multi-page TIFF streams frame by
  frame; memory is bounded by one page): a
  :class:`~despeckled.io.raster.RasterSource`, or for a PDF a
  :class:`~despeckled.io.pdf.PdfSource`.
* :func:`verify_complete(path, limits)` - decode every page fully; raises
  :class:`~despeckled.errors.BadInputError` subclasses
  (``TruncatedInputError`` for a file that ends early, which is "not ready
  yet" while the file may still be growing). Returns the page count.
* :func:`open_sink(directory, name, fmt, source=...)` - a context manager
  yielding a :class:`Sink`; ``sink.add_page(image, dpi, bilevel=...)`` per
  page. The file is written to a hidden temp name in ``directory``, fsynced,
  and published under ``name`` or ``name-N`` only on a clean exit;
  ``sink.path`` is then the final path. Nothing is ever overwritten.

The layers below: :mod:`~despeckled.io.formats` (names and magic bytes),
:mod:`~despeckled.io.pages` (``Page``, ``Limits``, the protocol, errors),
:mod:`~despeckled.io.raster`, :mod:`~despeckled.io.pdf` and
:mod:`~despeckled.io.pdf_write` (the readers and writers). Only this module
knows all of them.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from despeckled import errors
from despeckled.io.formats import (  # noqa: F401 - the public names, importable from here
    FORMAT_SUFFIX,
    SINGLE_PAGE_FORMATS,
    SUPPORTED_EXTENSIONS,
    estimate_jpeg_quality,
    format_for_suffix,
    is_magic_prefix,
    normalize_format,
    other_image_kind,
    sniff_format,
)
from despeckled.io.fsutil import atomic_output
from despeckled.io.pages import Limits, Page, PageSink, PageSource, read_error, write_error  # noqa: F401
from despeckled.io.raster import RasterSource, bilevel_png_bytes, raster_writer  # noqa: F401


@contextlib.contextmanager
def open_source(path: str | os.PathLike[str], limits: Limits | None = None) -> Iterator[PageSource]:
    """Open an image (or PDF) file for reading, checking it before decoding.

    Yields a :class:`~despeckled.io.raster.RasterSource`, or a
    :class:`~despeckled.io.pdf.PdfSource` for a PDF.
    Raises :class:`~despeckled.errors.BadInputError` subclasses for a file that
    is missing, a directory, unreadable, empty, not an image, of an
    unsupported kind, truncated or over ``limits``;
    :class:`~despeckled.errors.TransientIOError` for I/O errors that may pass.
    """
    path = Path(path)
    limits = limits or Limits()
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by RasterSource.close
    except OSError as exc:
        raise read_error(exc) from exc
    try:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise errors.BadInputError("is not a regular file", reason="not_a_file")
        head = fh.read(1024)
        fmt = sniff_format(head)
        if st.st_size == 0:
            raise errors.EmptyInputError("the file is empty")
        if fmt is None:
            other = other_image_kind(head)
            if other:
                raise errors.UnsupportedInputError(f"{other} images are not supported (PNG, JPEG, TIFF, BMP, PDF are)")
            if len(head) < 18 and is_magic_prefix(head):
                raise errors.TruncatedInputError(f"truncated: only {len(head)} bytes so far")
            raise errors.NotAnImageError("not an image (no PNG, JPEG, TIFF, BMP or PDF signature)")
        fh.seek(0)
        src: PageSource
        if fmt == "pdf":
            fh.close()
            src = _pdf_module().PdfSource(path, limits)
        else:
            src = RasterSource(path, fh, fmt, st.st_size, limits)
    except OSError as exc:
        fh.close()
        raise read_error(exc) from exc
    except BaseException:
        fh.close()
        raise
    # outside the try: errors raised by the caller's block are the caller's
    try:
        yield src
    finally:
        src.close()


def _pdf_module():
    try:
        from despeckled.io import pdf
    except ImportError as exc:
        raise errors.UnsupportedInputError(f"PDF support is not available ({exc})") from exc
    return pdf


def _pdf_sink(tmp: Path, source: Any) -> PageSink:
    try:
        from despeckled.io.pdf_write import PdfSink
    except ImportError as exc:
        raise errors.UnsupportedInputError(f"PDF support is not available ({exc})") from exc
    return PdfSink(tmp, source)


def verify_complete(path: str | os.PathLike[str], limits: Limits | None = None) -> int:
    """Decode every page of ``path`` fully and return the page count.

    Raises the same errors as :func:`open_source`, and
    :class:`~despeckled.errors.TruncatedInputError` when any page's data ends
    early (a PNG without IEND, a JPEG without its end, a TIFF whose strips or
    next page lie beyond the end of the file).
    """
    path = Path(path)
    limits = limits or Limits()
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise read_error(exc) from exc
    if sniff_format(head) == "pdf":
        return int(_pdf_module().verify_complete(path, limits))
    with open_source(path, limits) as src:
        if isinstance(src, RasterSource):
            return src.decode_all()
    return int(_pdf_module().verify_complete(path, limits))   # it became a PDF meanwhile



class Sink:
    """A file being written (a raster or PDF :class:`~despeckled.io.pages.PageSink`
    under its temp name). Use :func:`open_sink`.

    ``add_page(image, dpi, *, bilevel, info=None)``: ``image`` is a 2-D uint8
    (0 = ink) or bool (True = white) page when ``bilevel`` (written 1-bit:
    PNG bit depth 1, TIFF CCITT G4, BMP 1-bit; a JPEG gets 8-bit gray), or any
    pixel array of the table in the module docstring; ``dpi`` is written as
    the file's resolution (PNG pHYs, TIFF X/YResolution, JPEG JFIF density,
    BMP pixels per metre); ``info`` is the source page's ``Page.info``, used to
    keep its TIFF compression, JPEG quality and subsampling, ICC profile.
    """

    def __init__(self, tmp: Path, fmt: str, source: Any = None) -> None:
        self.tmp = tmp
        self.format = fmt
        self.path: Path | None = None
        self._writer: PageSink = _pdf_sink(tmp, source) if fmt == "pdf" else raster_writer(tmp, fmt)

    @property
    def pages(self) -> int:
        return int(self._writer.pages)

    def add_page(self, image: np.ndarray, dpi: tuple[float, float] | None, *, bilevel: bool,
                 info: dict | None = None) -> None:
        try:
            self._writer.add_page(image, dpi, bilevel=bilevel, info=info)
        except OSError as exc:
            raise write_error(exc, self.tmp) from exc

    def _finish(self) -> None:
        self._writer.finish()
        self._writer.close()

    def _abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()


@contextlib.contextmanager
def open_sink(directory: str | os.PathLike[str], name: str, fmt: str | None = None, *,
              source: Any = None) -> Iterator[Sink]:
    """Write a new image file ``directory/name`` (or ``name-N`` on a clash).

    ``fmt`` defaults to the format ``name``'s suffix stands for. The file is
    built under a hidden temp name in ``directory``, fsynced and renamed into
    place only when the ``with`` block exits cleanly; on an exception nothing
    is published and the temp file is removed. ``source`` (an open source)
    lets writers copy document-level metadata (PDF).
    """
    directory = Path(directory)
    fmt = normalize_format(fmt) if fmt else format_for_suffix(name)
    if fmt is None:
        raise errors.OutputError(f"cannot tell the output format from the name {name!r}")
    with atomic_output(directory, name) as out:
        sink = Sink(out.tmp, fmt, source)
        try:
            yield sink
        except BaseException:
            sink._abort()
            raise
        try:
            sink._finish()
        except errors.DespeckledError:
            raise
        except OSError as exc:
            raise write_error(exc, out.tmp) from exc
    sink.path = out.path


