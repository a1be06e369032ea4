"""File formats by name and by content: which suffixes despeckled takes in,
what a name or a file's first bytes say it is, and the JPEG quality a scan
was saved with. Pure functions over names and bytes: nothing here opens a file.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

SUPPORTED_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".pdf"})

#: Formats :func:`despeckled.io.images.open_sink` can write, with the suffix a new name gets.
FORMAT_SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "bmp": ".bmp", "pdf": ".pdf"}
#: Formats that hold one page only; a multi-page source is written as TIFF.
SINGLE_PAGE_FORMATS = frozenset({"png", "jpeg", "bmp"})

_FORMAT_ALIASES = {
    "png": "png", "jpeg": "jpeg", "jpg": "jpeg", "jpe": "jpeg", "tiff": "tiff", "tif": "tiff",
    "bmp": "bmp", "dib": "bmp", "pdf": "pdf",
}

def normalize_format(fmt: str) -> str:
    """The canonical name of an output format, from a name or a suffix.

    >>> normalize_format(".TIF"), normalize_format("jpg"), normalize_format("PNG")
    ('tiff', 'jpeg', 'png')
    """
    key = fmt.lower().lstrip(".")
    try:
        return _FORMAT_ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown image format {fmt!r} (choose from {', '.join(FORMAT_SUFFIX)})") from None


def format_for_suffix(name: str | os.PathLike[str]) -> str | None:
    """The format a file name's suffix stands for, or ``None``.

    >>> format_for_suffix("scan0001.TIFF"), format_for_suffix("notes.txt")
    ('tiff', None)
    """
    suffix = Path(name).suffix.lower().lstrip(".")
    return _FORMAT_ALIASES.get(suffix)


def sniff_format(head: bytes) -> str | None:
    """The format of a file from its first bytes (16 are plenty), or ``None``.

    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n...."), sniff_format(b"II*\\x00"), sniff_format(b"hello")
    ('png', 'tiff', None)
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM") and len(head) >= 18 and head[6:10] == b"\0\0\0\0" and \
            struct.unpack("<I", head[14:18])[0] in (12, 16, 40, 52, 56, 64, 108, 124):
        return "bmp"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


_OTHER_IMAGE_MAGIC = {
    b"GIF87a": "GIF", b"GIF89a": "GIF", b"\x00\x00\x00\x0cjP  ": "JPEG 2000", b"\xffO\xffQ": "JPEG 2000",
    b"8BPS": "Photoshop", b"\x00\x00\x01\x00": "ICO",
}


def other_image_kind(head: bytes) -> str | None:
    """The name of an image format despeckled does not take, from a file's
    first bytes, or ``None``.

    >>> other_image_kind(b"GIF89a..."), other_image_kind(b"\\x89PNG")
    ('GIF', None)
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIF/AVIF"
    for magic, kind in _OTHER_IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def is_magic_prefix(head: bytes) -> bool:
    """A very short file that may become an image once its writer goes on."""
    prefixes = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"%PDF-")
    return head.startswith(b"BM") or any(p.startswith(head) or head.startswith(p) for p in prefixes)


# Standard JPEG luminance quantisation table (ITU T.81 Annex K), natural order.
_STD_LUMA_Q = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.int64)
_QUALITIES = np.arange(1, 101)
_SCALES = np.where(_QUALITIES < 50, 5000 // _QUALITIES, 200 - 2 * _QUALITIES)
_SCALED_TABLES = np.clip((_STD_LUMA_Q[None, :] * _SCALES[:, None] + 50) // 100, 1, 255)


def estimate_jpeg_quality(table: Any) -> int | None:
    """The libjpeg quality (1-100) whose luminance table is closest to ``table``.

    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("L", (16, 16)).save(buf, "JPEG", quality=83)
    >>> estimate_jpeg_quality(Image.open(buf).quantization[0])
    83
    """
    try:
        t = np.asarray(list(table), dtype=np.int64)
    except (TypeError, ValueError):
        return None
    if t.shape != (64,):
        return None
    return int(_QUALITIES[np.abs(_SCALED_TABLES - t).sum(axis=1).argmin()])

