"""A reduced copy of the page that the geometry steps (borders, deskew,
blank pages) share: one resize, one paper estimate, physical units.

Geometry is decided at low resolution -- skew from text lines, borders from
regions millimetres wide, blankness from marks at least a stroke wide -- so
the decisions cost a few milliseconds, and only their results (a paint mask,
a rotation) touch the full-resolution page.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from despeckled.clean import threshold as th

#: The reduced copy's long side is about this many pixels (150 dpi on A4):
#: text lines of 8 pt and up stay distinct, a pencil line stays visible.
ANALYSIS_LONG_SIDE = 1800
#: Page sizes (mm, portrait) a scan's pixel size is matched against when its
#: resolution tag is missing or implausible (a tag of 72 or 96 lies).
STANDARD_PAGES_MM = ((210.0, 297.0), (215.9, 279.4), (215.9, 355.6), (148.0, 210.0), (297.0, 420.0))
#: How closely the aspect ratio must match a standard page.
ASPECT_TOLERANCE = 0.012


@dataclass(frozen=True)
class Reduced:
    """A page reduced for geometry decisions.

    Attributes
    ----------
    gray : ndarray of uint8, shape (h, w)
        The page, reduced by area averaging.
    factor : int
        Full-resolution pixels per reduced pixel (each axis).
    px_per_mm : float
        Reduced pixels per millimetre.
    paper : float
        The page's paper level (gray, 0-255): the median of the brighter
        half of the page.
    """

    gray: np.ndarray
    factor: int
    px_per_mm: float
    paper: float

    def mm(self, length_mm: float) -> float:
        """A length in millimetres, in reduced pixels."""
        return length_mm * self.px_per_mm


def page_dpi(shape: tuple[int, int], dpi: float | None, fallback: float) -> tuple[float, str]:
    """The page's resolution: its tag when plausible, else its pixel size
    when that is a standard paper size (A4, Letter, Legal, A5, A3, either
    orientation), else ``fallback``.

    Parameters
    ----------
    shape : (int, int)
        Full-resolution (H, W) in pixels.
    dpi : float or None
        The file's resolution tag.
    fallback : float

    Returns
    -------
    dpi : float
    source : str
        ``"dpi"``, ``"page-size"`` or ``"fallback"``.

    Examples
    --------
    >>> page_dpi((3508, 2480), 96, 300.0)
    (300.0, 'page-size')
    >>> page_dpi((3508, 2480), 200, 300.0)
    (200.0, 'dpi')
    >>> page_dpi((1000, 1000), None, 300.0)
    (300.0, 'fallback')
    """
    from despeckled.clean.scale import plausible_dpi

    res, source = plausible_dpi(dpi, fallback)
    if source == "dpi":
        return res, source
    h, w = sorted(shape)[::-1]
    for pw, ph in STANDARD_PAGES_MM:
        if abs((h / w) / (ph / pw) - 1.0) <= ASPECT_TOLERANCE:
            guess = w / (pw / 25.4)
            if 100.0 <= guess <= 1300.0:
                return float(round(guess)), "page-size"
    return res, source


def reduce_page(gray: np.ndarray, res_dpi: float, long_side: int = ANALYSIS_LONG_SIDE) -> Reduced:
    """Reduce a gray page by a whole factor so its long side is about
    ``long_side`` pixels (never enlarged).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    res_dpi : float
        The page's resolution (see :func:`page_dpi`).
    long_side : int

    Returns
    -------
    Reduced

    Examples
    --------
    >>> r = reduce_page(np.full((3508, 2480), 230, np.uint8), 300.0)
    >>> r.factor, r.gray.shape, round(r.px_per_mm, 2), r.paper
    (2, (1754, 1240), 5.91, 230.0)
    """
    h, w = gray.shape
    f = max(1, int(round(max(h, w) / long_side)))
    hf, wf = max(1, h // f), max(1, w // f)
    # whole cells only (OpenCV's fast path): the last < f rows and columns
    # are left out of the reduced copy
    small = gray if f == 1 else cv2.resize(gray[: hf * f, : wf * f], (wf, hf), interpolation=cv2.INTER_AREA)
    return Reduced(np.ascontiguousarray(small), f, res_dpi / 25.4 / f, paper_level(small))


def paper_level(gray: np.ndarray) -> float:
    """Median of the brighter half of the page's pixels: the paper, on any
    page that is at least half paper.

    >>> paper_level(np.array([[0, 0, 200, 220, 220]], np.uint8))
    220.0
    """
    hist = th.sample_histogram(gray, 1 if gray.shape[0] < 8 else 2)
    cum = np.cumsum(hist)
    half = int(np.searchsorted(cum, cum[-1] / 2.0))
    upper = hist.copy()
    upper[:half + 1] = 0
    if upper.sum() == 0:
        return float(half)
    cu = np.cumsum(upper)
    return float(np.searchsorted(cu, cu[-1] / 2.0))


def paper_colour(pixels: np.ndarray, gray_paper: float, gray: np.ndarray) -> float | tuple[float, ...]:
    """The paper's colour in the layout of ``pixels``: a gray level, or an
    RGB(A) tuple (the median colour of pixels within 8 levels of the gray
    paper level).

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C), uint8 or uint16
    gray_paper : float
        The paper's gray level (0-255).
    gray : ndarray of uint8, shape (H, W)
        ``pixels`` as gray.

    Returns
    -------
    float or tuple of float
        In the dtype's range (0-255 or 0-65535).
    """
    a = np.asarray(pixels)
    scale = 257.0 if a.dtype == np.uint16 else 1.0
    if a.ndim == 2:
        return float(gray_paper) * scale
    step = max(1, int(np.sqrt(gray.size / 250_000)))
    g = gray[::step, ::step]
    near = np.abs(g.astype(np.int16) - int(round(gray_paper))) <= 8
    sample = a[::step, ::step][near]
    if sample.shape[0] == 0:
        return tuple(float(gray_paper) * scale for _ in range(a.shape[2]))
    return tuple(float(v) for v in np.median(sample, axis=0))
