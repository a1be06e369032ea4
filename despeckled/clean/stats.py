"""Page statistics over ink pixels and labels: typical ink and paper
levels, each component's darkest pixel, per-size darkness references, and a
grouped median (no Python loop over groups)."""

from __future__ import annotations

import cv2
import numpy as np

from despeckled.clean import threshold as th
from despeckled.clean.components import Components


def size_darkness(size: np.ndarray, darkest: np.ndarray, sel: np.ndarray, per_octave: int = 2,
                  min_count: int = 8) -> np.ndarray | None:
    """The darkest level a mark of each size typically reaches on this page.

    Blur lightens small marks more than big ones, so the reference is taken
    per size: the median darkest level of the selected marks in size bins
    (``per_octave`` bins per doubling of the size; bins with at least
    ``min_count`` marks), interpolated linearly in log size between the
    bins' median sizes and held flat beyond them.

    Parameters
    ----------
    size : ndarray of float, shape (n,)
        Size of every component (any unit; only ratios matter), > 0.
    darkest : ndarray of int, shape (n,)
        Darkest gray level of every component.
    sel : ndarray of bool, shape (n,)
        The components that make the reference.
    per_octave, min_count : int

    Returns
    -------
    ndarray of float, shape (n,), or None
        The expected darkest level at each component's size; None when fewer
        than two bins have ``min_count`` marks.

    Examples
    --------
    >>> size = np.repeat([1.0, 4.0], 10)
    >>> dark = np.repeat([60, 40], 10)
    >>> size_darkness(np.array([1.0, 2.0, 8.0]), np.zeros(3, int), np.ones(3, bool)) is None
    True
    >>> e = size_darkness(np.r_[size, 2.0], np.r_[dark, 0], np.r_[np.ones(20, bool), False])
    >>> e[[0, 10, 20]].round(1).tolist()
    [60.0, 40.0, 50.0]
    """
    idx = np.flatnonzero(sel)
    if idx.size < 2 * min_count:
        return None
    lsize = np.log2(np.maximum(size, 1e-6))
    b = np.floor(per_octave * lsize[idx]).astype(np.intp)
    b -= b.min()
    med = group_median(b, darkest[idx].astype(np.float64), np.ones(idx.size, bool), int(b.max()) + 1)
    ok = np.flatnonzero((np.bincount(b) >= min_count) & np.isfinite(med))
    if ok.size < 2:
        return None
    centres = group_median(b, lsize[idx], np.ones(idx.size, bool), med.size)[ok]
    return np.interp(lsize, centres, med[ok])


def group_median(pi: np.ndarray, values: np.ndarray, sel: np.ndarray, n_q: int) -> np.ndarray:
    """Lower median of ``values[sel]`` grouped by ``pi[sel]``; ``inf`` for
    empty groups. One sort, no Python loop.

    >>> group_median(np.array([0, 0, 0, 2]), np.array([5.0, 1.0, 3.0, 7.0]), np.ones(4, bool), 3).tolist()
    [3.0, inf, 7.0]
    """
    out = np.full(n_q, np.inf)
    idx = np.flatnonzero(sel)
    if idx.size:
        gp, gv = pi[idx], values[idx]
        if gv.min() >= 0 and gv.max() < 2**31 and np.array_equal(gv, np.floor(gv)) and gp.max() < 2**31:
            # whole pixel values (heights, rows): sort (group, value) packed
            # in one int64, which needs no permutation (several times faster
            # than lexsort, same sorted values)
            key = gp.astype(np.int64) << 32 | gv.astype(np.int64)
            key.sort()
            gv = (key & 0xFFFFFFFF).astype(values.dtype)
        else:
            gv = gv[np.lexsort((gv, gp))]
        counts = np.bincount(gp, minlength=n_q)
        starts = np.cumsum(counts) - counts
        has = counts > 0
        out[has] = gv[starts[has] + (counts[has] - 1) // 2]
    return out


def darkest_per_label(c: Components, lev_px: np.ndarray) -> np.ndarray:
    """The darkest gray level of every component (uint8, shape (c.n,);
    255 for labels without pixels).

    Parameters
    ----------
    c : Components
    lev_px : ndarray of uint8, shape (N,)
        Gray level of each ink pixel (same order as ``c.lab``).

    Returns
    -------
    ndarray of uint8, shape (c.n,)
    """
    # one pass (ufunc.at's fast path: matching dtypes)
    darkest = np.full(c.n, np.iinfo(np.uint8).max, np.uint8)
    np.minimum.at(darkest, c.lab, lev_px.astype(np.uint8, copy=False))
    return darkest


def has_pixel_at_most(c: Components, lev_px: np.ndarray, level: float, darkest: np.ndarray | None = None) -> np.ndarray:
    """Per label: does the component have a pixel at or below ``level``?

    Parameters
    ----------
    c : Components
    lev_px : ndarray of uint8, shape (N,)
        Gray level of each ink pixel (same order as ``c.lab``).
    level : float
    darkest : ndarray of uint8, shape (c.n,), optional
        :func:`darkest_per_label`, when the caller has it already.

    Returns
    -------
    ndarray of bool, shape (c.n,)
    """
    # the darkest pixel per label is one pass, where selecting the pixels
    # at most ``level`` is two
    if darkest is None:
        darkest = darkest_per_label(c, lev_px)
    return (darkest <= level) & (c.area > 0)


#: Pixels per calcHist call in :func:`ink_paper_levels`: its float32 counts
#: are exact up to 2**24.
_HIST_CHUNK = 1 << 24


def ink_paper_levels(lev_px: np.ndarray, interior: np.ndarray, levels: np.ndarray, level: int) -> tuple[float, float]:
    """Typical gray level of stroke cores and of the paper.

    Parameters
    ----------
    lev_px : ndarray of uint8, shape (N,)
        Level of every ink pixel.
    interior : ndarray of bool, shape (N,)
        Which of them are inside strokes (not on their boundary).
    levels : ndarray of uint8, shape (H, W)
        The thresholded page.
    level : int
        The threshold.

    Returns
    -------
    ink, paper : float
        Medians of the stroke cores and of the pixels above the threshold.
    """
    def median(hist: np.ndarray, offset: int) -> float:
        cum = np.cumsum(hist)
        return float(offset + np.searchsorted(cum, cum[-1] / 2))

    # (a 256 x 2 histogram of (level, interior) by calcHist: no selected copy
    # of the levels, and faster than calcHist with the flags as a mask; in
    # chunks of at most 2**24 pixels, so its float32 counts are exact)
    core = np.zeros(256)
    for i in range(0, lev_px.size, _HIST_CHUNK):
        part = slice(i, i + _HIST_CHUNK)
        pair = [lev_px[part].reshape(1, -1), interior[part].view(np.uint8).reshape(1, -1)]
        core += cv2.calcHist(pair, [0, 1], None, [256, 2], [0, 256, 0, 2])[:, 1]
    ink = median(core, 0) if core.sum() else float(level) / 2
    paper_hist = th.sample_histogram(levels, 4)[level + 1:]
    paper = median(paper_hist, level + 1) if paper_hist.sum() else 255.0
    return min(ink, float(level)), max(paper, float(level) + 1)
