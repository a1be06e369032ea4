"""Tiny hand-made pages for the I/O tests (real files in tmp_path, no mocks)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest


def text_like_page(h: int = 240, w: int = 200, seed: int = 0) -> np.ndarray:
    """``(h, w)`` uint8, 0 = ink: a few bars (strokes) and a few isolated
    2x2 specks far from them. Different seeds give different pages."""
    rng = np.random.default_rng(seed)
    page = np.full((h, w), 255, np.uint8)
    for i in range(3):
        y = 30 + 40 * i + int(rng.integers(0, 8))
        page[y:y + 6, 20:w - 20] = 0
    return page


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A valid-looking PNG that claims ``width`` x ``height`` and holds no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        png_chunk(b"IEND", b"")


@pytest.fixture
def page() -> np.ndarray:
    return text_like_page()
