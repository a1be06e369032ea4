"""Analysis at reduced resolution: pages at high resolution are analysed on
a max-pooled copy and the verdicts expanded back to full resolution."""

from __future__ import annotations

import cv2
import numpy as np

from despeckled.clean.components import Components

#: Pages at or above this resolution (dots per inch) are analysed at
#: 1/ANALYSIS_REDUCTION (output stays full resolution); text there is big
#: enough to lose nothing.
REDUCE_FROM_DPI = 450.0
#: Linear reduction factor for such pages.
ANALYSIS_REDUCTION = 2
#: Pages smaller than this (px, either side) are never reduced.
MIN_REDUCED_SIDE = 64


def analysis_reduction(res_dpi: float, shape: tuple[int, int]) -> int:
    """The reduction factor to analyse a page of ``shape`` at ``res_dpi``.

    >>> analysis_reduction(600.0, (7000, 5000)), analysis_reduction(300.0, (3500, 2500))
    (2, 1)
    """
    return ANALYSIS_REDUCTION if res_dpi >= REDUCE_FROM_DPI and min(shape) >= MIN_REDUCED_SIDE else 1


def max_pool(ink: np.ndarray, f: int) -> np.ndarray:
    """``f`` x ``f`` max-pool of a 0/255 mask (any ink in a cell -> ink).

    INTER_AREA averages each cell; one ink pixel of 255 in a 2x2 cell
    averages to 64, never to 0, so "nonzero" is "any ink".

    >>> m = np.zeros((4, 4), np.uint8); m[3, 0] = 255
    >>> max_pool(m, 2).tolist()
    [[0, 0], [255, 0]]
    """
    h, w = ink.shape
    if h % f or w % f:
        ink = cv2.copyMakeBorder(ink, 0, (-h) % f, 0, (-w) % f, cv2.BORDER_CONSTANT, value=0)
    small = cv2.resize(ink, (ink.shape[1] // f, ink.shape[0] // f), interpolation=cv2.INTER_AREA)
    return cv2.threshold(small, 0, 255, cv2.THRESH_BINARY)[1]


def min_pool(levels: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """``f`` x ``f`` min-pool: the darkest pixel of each cell (a 1-px hairline
    keeps its darkness, which averaging would halve).

    >>> g = np.full((4, 4), 200, np.uint8); g[1, 1] = 10
    >>> min_pool(g, 2, (2, 2)).tolist()
    [[10, 200], [200, 200]]
    """
    dark = cv2.erode(levels, np.ones((f, f), np.uint8), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(dark, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def expand(c: Components, lut: np.ndarray, ink: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Full-resolution bool mask of the ink of labels selected by ``lut``.

    Parameters
    ----------
    c : Components
        Of the analysed (reduced) page.
    lut : ndarray of bool, shape (c.n,)
    ink : ndarray of uint8, shape (H, W)
        The full-resolution 0/255 ink mask.
    f : int
        Reduction factor.
    shape : (h, w)
        The analysed page's shape.
    """
    h, w = ink.shape
    cells = np.zeros(shape, np.uint8)
    cells.ravel()[c.pixels_of(lut)] = 1
    big = cv2.resize(cells, (cells.shape[1] * f, cells.shape[0] * f), interpolation=cv2.INTER_NEAREST)
    if big.shape != (h, w):
        big = np.ascontiguousarray(big[:h, :w])
    return cv2.bitwise_and(big, ink).view(bool)  # 1 & 255 = 1: a valid bool
