"""Hand-made page layouts for the cleaning tests, drawn at any resolution.

Every size is given at 300 dpi and scaled by ``dpi / 300``, so the same
layout can be drawn at 200, 300 and 600 dpi and must get the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest


@dataclass
class Layout:
    """A white page with a line of text-like glyphs, plus named marks.

    ``marks`` maps a name to the (y, x) of one pixel inside that mark, so a
    test can ask whether the mark survived: ``page.image[y, x] == 0``.
    """

    dpi: float
    page: np.ndarray
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def k(self) -> float:
        return self.dpi / 300.0

    def px(self, v300: float) -> int:
        return max(1, int(round(v300 * self.k)))

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        """Fill a box given in 300-dpi units (top-left, size)."""
        x0, y0 = self.px(x), self.px(y)
        self.page[y0:y0 + self.px(h), x0:x0 + self.px(w)] = 0

    def disc(self, cx: float, cy: float, r: float) -> None:
        cv2.circle(self.page, (self.px(cx), self.px(cy)), self.px(r), 0, -1)

    def mark_at(self, name: str, x: float, y: float) -> None:
        self.marks[name] = (self.px(y), self.px(x))


STROKE = 3.5      # body stroke width at 300 dpi
XH = 21.0         # x-height at 300 dpi
BASE = 120.0      # baseline of the text line


def letter_n(lay: Layout, x: float) -> float:
    """Draw an 'n'-like glyph (two stems and a top bar); return its width."""
    w = 13.0
    lay.rect(x, BASE - XH, STROKE, XH)
    lay.rect(x + w - STROKE, BASE - XH, STROKE, XH)
    lay.rect(x, BASE - XH, w, STROKE)
    return w


def text_line(lay: Layout, x0: float, n: int, gap: float = 5.0) -> float:
    """``n`` letters from ``x0``; return the x after the last one."""
    x = x0
    for _ in range(n):
        x += letter_n(lay, x) + gap
    return x


def make_layout(dpi: float = 300.0) -> Layout:
    """The shared test page at ``dpi``.

    A text line of 'n's; an 'i' (stem + dot) in the line; a period after the
    last letter; a row of leader dots; an isolated dot the size of the i-dot;
    a dust clump far from text; a long 1-px hairline.
    """
    k = dpi / 300.0
    lay = Layout(dpi, np.full((int(round(260 * k)), int(round(700 * k))), 255, np.uint8))
    x = text_line(lay, 20, 12)
    # an 'i': stem of x-height, a dot above it with a small gap
    lay.rect(x, BASE - XH, STROKE, XH)
    lay.rect(x - 0.5, BASE - XH - 5 - 4.5, 4.5, 4.5)
    lay.mark_at("i_dot", x + 1.5, BASE - XH - 7)
    x += STROKE + 5
    x = text_line(lay, x, 8)
    # a period right after the last letter, sitting on the baseline
    lay.rect(x - 5 + 2.5, BASE - 4.5, 4.5, 4.5)
    lay.mark_at("period", x - 5 + 4.5, BASE - 2)
    # a dot leader: a row of same-size dots, no text around
    for i in range(10):
        lay.rect(40 + i * 15, 200, 4.5, 4.5)
    lay.mark_at("leader", 40 + 4 * 15 + 2, 202)
    # an isolated dot, same size as the i-dot, far from everything
    lay.rect(560, 200, 4.5, 4.5)
    lay.mark_at("lone_dot", 562, 202)
    # a dust clump (filled disc, ~150 px at 300 dpi) far from text
    lay.disc(450, 215, 7)
    lay.mark_at("dust", 450, 215)
    # a 1-px hairline, long (a table rule)
    y = lay.px(30)
    lay.page[y, lay.px(400):lay.px(600)] = 0
    lay.marks["hairline"] = (y, lay.px(500))
    return lay


@pytest.fixture
def layout() -> Layout:
    return make_layout(300)


@pytest.fixture(name="make_layout")
def make_layout_fixture():
    """The layout factory, for tests that draw at several resolutions."""
    return make_layout
