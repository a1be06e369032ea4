"""The only module that reads and writes image files.

Contract (other modules rely on exactly this):

* :data:`SUPPORTED_EXTENSIONS` - lower-case suffixes despeckled takes in.
* :class:`Limits` - pixel/page limits against decompression bombs.
* :func:`open_source(path, limits)` - a context manager yielding a
  :class:`Source` whose ``pages()`` iterates :class:`Page` objects one at a
  time (multi-page files stream; memory is bounded by one page).
* :func:`verify_complete(path, limits)` - decode every page fully; raises
  :class:`~despeckled.errors.BadInputError` subclasses
  (``TruncatedInputError`` for a file that ends early). Returns the page count.
* :func:`open_sink(path_dir, name, fmt, ...)` - a context manager yielding a
  :class:`Sink`; ``sink.add_page(image, dpi, bilevel=...)`` per page. The file
  is written to a hidden temp name, fsynced, and published under ``name`` or
  ``name-N`` only on a clean exit; ``sink.path`` is then the final path.

(Placeholder implementation: single-page via OpenCV until the full I/O lands.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from despeckled import errors
from despeckled.fsutil import atomic_output

SUPPORTED_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 250_000_000     # per page; A4 at 1200 dpi is ~140 Mpx
    max_pages: int = 2000


@dataclass
class Page:
    pixels: np.ndarray
    dpi: tuple[float, float] | None
    index: int = 0


class Source:
    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.format = path.suffix.lower().lstrip(".")
        self.page_count = 1

    def pages(self) -> Iterator[Page]:
        data = np.fromfile(self.path, np.uint8)
        if data.size == 0:
            raise errors.EmptyInputError(f"{self.path.name}: the file is empty")
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise errors.NotAnImageError(f"{self.path.name}: not a readable image")
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
        yield Page(img, None, 0)


@contextlib.contextmanager
def open_source(path: Path, limits: Limits | None = None) -> Iterator[Source]:
    yield Source(Path(path), limits or Limits())


def verify_complete(path: Path, limits: Limits | None = None) -> int:
    with open_source(path, limits) as src:
        return sum(1 for _ in src.pages())


class Sink:
    def __init__(self, tmp: Path, fmt: str) -> None:
        self.tmp = tmp
        self.fmt = fmt
        self.path: Path | None = None
        self._pages: list[np.ndarray] = []

    def add_page(self, image: np.ndarray, dpi: tuple[float, float] | None, *, bilevel: bool) -> None:
        self._pages.append(image)

    def _finish(self) -> None:
        ok, buf = cv2.imencode("." + self.fmt, self._pages[0])
        if not ok:
            raise errors.OutputError(f"could not encode {self.fmt}")
        self.tmp.write_bytes(buf.tobytes())


@contextlib.contextmanager
def open_sink(directory: Path, name: str, fmt: str | None = None) -> Iterator[Sink]:
    fmt = fmt or Path(name).suffix.lower().lstrip(".")
    with atomic_output(directory, name) as out:
        sink = Sink(out.tmp, fmt)
        yield sink
        sink._finish()
    sink.path = out.path
