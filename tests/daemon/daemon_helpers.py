"""Helpers for the daemon's in-process tests (real files, no sleeps)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from despeckled.clean import CleanParams
from despeckled.config import ResolvedWatch
from tests.waiting import wait_for  # noqa: F401 (re-exported for the tests)


def make_png(path: Path, seed: int = 0, size: tuple[int, int] = (48, 64)) -> bytes:
    """A tiny unique page: a black bar (text) and a few specks."""
    rng = np.random.default_rng(seed)
    img = np.full(size, 255, np.uint8)
    img[20:26, 8:56] = 0
    ys, xs = rng.integers(0, size[0], 6), rng.integers(0, size[1], 6)
    img[ys, xs] = 0
    img[0, 0] = seed % 200
    ok, buf = cv2.imencode(".png", img)
    assert ok
    data = buf.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()




def all_files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            out.append(Path(dirpath) / n)
    return sorted(out)


@pytest.fixture
def spec(tmp_path) -> ResolvedWatch:
    s = ResolvedWatch(input=tmp_path / "in", output=tmp_path / "out", archive=tmp_path / "arch",
                  failed=tmp_path / "failed", clean=CleanParams(), max_retries=2)
    for p in (s.input, s.output, s.archive, s.failed):
        p.mkdir()
    return s
