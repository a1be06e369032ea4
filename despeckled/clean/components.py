"""Connected components and their per-label features, computed over ink
pixels only (a page is mostly paper, so this is several times cheaper than
OpenCV's whole-image statistics pass)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

_KERNEL3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Components:
    """8-connected ink components of a binary page.

    All per-label arrays have length ``n`` and index 0 is the background
    (its entries are meaningless). Coordinates are pixels, ``y`` down.

    Attributes
    ----------
    n : int
        Number of labels including the background.
    labels : ndarray of uint16 or int32, shape (H, W), or SparseLabels
        uint16 unless the page has more than 65535 components.
        Or a :class:`SparseLabels` (same indexing, no page-sized array):
        see ``label_components(..., sparse=True)``.
    flat : ndarray of intp, shape (N,)
        Flat (raveled) indices of every ink pixel, in raster order.
    lab : ndarray of intp, shape (N,)
        Label of every ink pixel.
    interior : ndarray of bool, shape (N,)
        Whether the pixel survives a 3x3 erosion (not on the boundary).
    area : ndarray of int64, shape (n,)
    x0, y0, x1, y1 : ndarray of int64, shape (n,)
        Inclusive bounding box.
    cx, cy : ndarray of float64, shape (n,)
        Centre of the bounding box.
    thickness : ndarray of float64, shape (n,)
        ``2 * area / boundary``: the stroke width for a stroke-like shape, the
        radius for a disc.
    run_flat, run_len, run_lab, run_pos : ndarray of intp, shape (R,), or None
        The horizontal runs of ink, in raster order: flat index of each
        run's first pixel, its length, its label and the position of its
        first pixel in ``flat`` (see :meth:`pixels_of`).
    """

    n: int
    labels: np.ndarray
    flat: np.ndarray
    lab: np.ndarray
    interior: np.ndarray
    area: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    thickness: np.ndarray
    run_flat: np.ndarray | None = None
    run_len: np.ndarray | None = None
    run_lab: np.ndarray | None = None
    run_pos: np.ndarray | None = None

    def pixels_of(self, select: np.ndarray) -> np.ndarray:
        """Flat indices, in raster order, of the ink pixels of the labels
        ``select`` (bool, shape (n,)) picks: ``flat[select[lab]]``.

        Built from the runs of the selected labels, so the cost follows the
        number of runs and of selected pixels, not every ink pixel.

        Examples
        --------
        >>> ink = np.zeros((3, 6), np.uint8); ink[0, 1:4] = ink[2, 5] = 1
        >>> label_components(ink).pixels_of(np.array([False, False, True])).tolist()
        [17]
        """
        if self.run_flat is None:
            return self.flat[select[self.lab]]
        return _expand_runs(self.run_flat, self.run_len, select[self.run_lab])

    def positions_of(self, select: np.ndarray) -> np.ndarray:
        """Positions in ``flat`` (and ``lab``, ``interior``), ascending, of
        the ink pixels of the labels ``select`` (bool, shape (n,)) picks:
        ``np.flatnonzero(select[lab])``, from the runs like :meth:`pixels_of`.

        Examples
        --------
        >>> ink = np.zeros((3, 6), np.uint8); ink[0, 1:4] = ink[2, 5] = 1
        >>> label_components(ink).positions_of(np.array([False, True, False])).tolist()
        [0, 1, 2]
        """
        if self.run_pos is None:
            return np.flatnonzero(select[self.lab])
        return _expand_runs(self.run_pos, self.run_len, select[self.run_lab])

    @property
    def xs(self) -> np.ndarray:
        """Column of every ink pixel (int32, shape (N,)), computed on demand."""
        return (self.flat % self.labels.shape[1]).astype(np.int32)

    @property
    def ys(self) -> np.ndarray:
        """Row of every ink pixel (int32, shape (N,)), computed on demand."""
        return (self.flat // self.labels.shape[1]).astype(np.int32)

    @property
    def width(self) -> np.ndarray:
        return self.x1 - self.x0 + 1

    @property
    def height(self) -> np.ndarray:
        return self.y1 - self.y0 + 1


class InkPixels(NamedTuple):
    """Every ink pixel of a page, in raster order (see :func:`ink_pixels`)."""

    flat: np.ndarray
    interior: np.ndarray


def ink_pixels(ink: np.ndarray) -> InkPixels:
    """List the ink pixels of a binary page in raster order.

    Parameters
    ----------
    ink : ndarray of uint8, shape (H, W)
        Nonzero = ink.

    Returns
    -------
    InkPixels
        ``flat`` (intp: raveled indices) and ``interior`` (bool: the pixel
        survives a 3x3 erosion), each of shape (N,).

    Examples
    --------
    >>> ink = np.zeros((4, 5), np.uint8); ink[1, 3] = ink[2, 0] = 255
    >>> ink_pixels(ink).flat.tolist()
    [8, 10]
    """
    # Band by band (a band's scratch stays in cache): the band as 0/1 bytes
    # read as bool makes np.flatnonzero take its fast path (about three
    # times faster than cv2.findNonZero, and it gives flat indices directly);
    # the band's 3x3 erosion, with one row of context above and below, gives
    # exactly the whole-page erosion's values there.
    h, w = ink.shape
    size = cv2.countNonZero(ink)
    flat = np.empty(size, np.intp)
    interior = np.empty(size, bool)
    done = 0
    for r0 in range(0, h, _BAND_ROWS):
        r1 = min(r0 + _BAND_ROWS, h)
        lo, hi = max(r0 - 1, 0), min(r1 + 1, h)
        ones = cv2.threshold(ink[lo:hi], 0, 1, cv2.THRESH_BINARY)[1]
        idx = np.flatnonzero(ones[r0 - lo:r1 - lo].view(bool))
        if not idx.size:
            continue
        er = cv2.erode(ones, _KERNEL3).view(bool)     # 0/1 in, 0/1 out
        end = done + idx.size
        np.take(er.ravel()[(r0 - lo) * w:], idx, out=interior[done:end])
        np.add(idx, r0 * w, out=flat[done:end])
        done = end
    return InkPixels(flat, interior)


class SparseLabels:
    """A read-only stand-in for a label image, built from the ink pixels'
    flat indices (sorted) and labels: ``sparse[rows, cols]`` gives what the
    label image holds there (0 off the ink), without a page-sized array.

    ``runs``, the page's horizontal runs of ink as ``(run_flat, run_len,
    run_lab)`` (see :class:`Components`), makes a lookup search the runs
    instead of every ink pixel (same answers, a sixth of the list on text).

    Examples
    --------
    >>> s = SparseLabels(np.array([3, 7]), np.array([1, 2]), (2, 5))
    >>> s[np.array([0, 1, 1]), np.array([3, 2, 4])].tolist()
    [1, 2, 0]
    """

    def __init__(self, flat: np.ndarray, lab: np.ndarray, shape: tuple[int, int],
                 runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        self.flat, self.lab, self.shape, self.runs = flat, lab, tuple(shape), runs

    def __getitem__(self, key: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        rows, cols = key
        q = np.asarray(rows, np.intp) * self.shape[1] + np.asarray(cols, np.intp)
        if not self.flat.size:
            return np.zeros(q.shape, self.lab.dtype)
        if self.runs is not None:
            run_flat, run_len, run_lab = self.runs
            i = np.maximum(np.searchsorted(run_flat, q, side="right") - 1, 0)
            return np.where((q >= run_flat[i]) & (q < run_flat[i] + run_len[i]), run_lab[i], 0)
        i = np.minimum(np.searchsorted(self.flat, q), self.flat.size - 1)
        return np.where(self.flat[i] == q, self.lab[i], 0)


def label_components(ink: np.ndarray, pixels: InkPixels | None = None, *, sparse: bool = False) -> Components:
    """Label 8-connected components and measure them.

    Parameters
    ----------
    ink : ndarray of uint8, shape (H, W)
        Nonzero = ink.
    pixels : InkPixels, optional
        ``ink_pixels(ink)``, when the caller has it already.
    sparse : bool
        Keep ``labels`` as a :class:`SparseLabels` lookup: the page-sized
        label image is freed as soon as every ink pixel's label is read.

    Returns
    -------
    Components

    Examples
    --------
    >>> ink = np.zeros((5, 8), np.uint8); ink[1:4, 1:3] = 1; ink[2, 6] = 1
    >>> c = label_components(ink)
    >>> c.n, c.area[1:].tolist(), c.height[1:].tolist()
    (3, [6, 1], [3, 1])
    """
    try:
        # 16-bit labels halve the memory traffic (about twice as fast); OpenCV
        # refuses, rather than wraps, when a page has more than 65535 components
        n, labels = cv2.connectedComponents(ink, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:
        n, labels = cv2.connectedComponents(ink, connectivity=8, ltype=cv2.CV_32S)
    flat, interior = pixels if pixels is not None else ink_pixels(ink)
    lab = labels.ravel()[flat].astype(np.intp)  # bincount wants intp; convert once
    if sparse:
        labels = SparseLabels(flat, lab, labels.shape)
    width = ink.shape[1]
    # area and boundary in one pass: label * 2 + interior counts the
    # boundary pixels of label k in bin 2k and the interior ones in 2k + 1
    key = lab * 2
    key += interior
    counts = np.bincount(key, minlength=2 * n).reshape(n, 2)
    del key
    area = counts.sum(axis=1)
    boundary = counts[:, 0]
    # Extents from the horizontal runs of ink (a sixth as many as pixels on
    # text): a run lies in one row and one component, its first pixel is
    # its leftmost and its last the rightmost. Runs come in raster order, so
    # a label's first run has its smallest y and its last run the largest:
    # read them off the first and last occurrence (np.unique's return_index
    # on the reversed array would sort; assigning in order is O(R)); columns
    # are not ordered, so x extents use ufunc.at with matching dtypes (its
    # fast path).
    y0 = np.zeros(n, np.int64)
    y1 = np.zeros(n, np.int64)
    x0 = np.full(n, np.iinfo(np.int32).max, np.int64)
    x1 = np.full(n, -1, np.int64)
    run_pos = run_flat = run_len = run_lab = np.zeros(0, np.intp)
    if flat.size:
        run_pos, end = _runs(flat, width)
        run_lab = lab[run_pos]
        start, end = flat[run_pos], flat[end]      # (now flat indices)
        order = np.arange(run_lab.size, dtype=np.intp)
        first = np.zeros(n, np.intp)
        first[run_lab[::-1]] = order[::-1]
        last = np.zeros(n, np.intp)
        last[run_lab] = order
        del order
        has = area > 0
        y0[has] = start[first[has]] // width
        y1[has] = end[last[has]] // width
        np.minimum.at(x0, run_lab, start % width)
        np.maximum.at(x1, run_lab, end % width)
        run_flat, run_len = start, end - start + 1
    # bounding-box centres: as good as centroids for placing marks, and free
    cx = (x0 + x1) / 2.0
    cy = (y0 + y1) / 2.0
    thickness = 2.0 * area / np.maximum(boundary, 1)
    x0[0] = y0[0] = x1[0] = y1[0] = 0
    cx[0] = cy[0] = 0.0
    if sparse:
        labels = SparseLabels(flat, lab, labels.shape, runs=(run_flat, run_len, run_lab))
    return Components(n, labels, flat, lab, interior, area, x0, y0, x1, y1, cx, cy, thickness, run_flat, run_len, run_lab, run_pos)


#: Rows per band in :func:`ink_pixels`: a band's scratch is a few hundred
#: KB instead of a whole page.
_BAND_ROWS = 256


def _expand_runs(start: np.ndarray, length: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Every index of the picked runs (``start[i]`` to ``start[i] +
    length[i] - 1``), run after run.

    >>> _expand_runs(np.array([2, 10, 20]), np.array([3, 1, 2]), np.array([True, False, True])).tolist()
    [2, 3, 4, 20, 21]
    """
    start, length = start[pick], length[pick]
    if not start.size:
        return np.zeros(0, np.intp)
    end = np.cumsum(length)
    out = np.arange(end[-1], dtype=np.intp)
    out += np.repeat(start - (end - length), length)
    return out


def _runs(flat: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal runs of consecutive pixels in a sorted, non-empty list of
    flat indices: the positions (in the list) of each run's first and last
    pixel. A run never wraps from the end of one row to the next.

    >>> [a.tolist() for a in _runs(np.array([1, 2, 3, 4, 5, 8, 9]), 5)]
    [[0, 4, 5], [3, 4, 6]]
    """
    brk = np.empty(flat.size, bool)
    brk[0] = True
    np.not_equal(np.diff(flat), 1, out=brk[1:])
    # (a pixel at the start of a row starts a run whatever precedes it)
    rows = np.arange(flat[0] // width + 1, flat[-1] // width + 1, dtype=np.intp) * width
    at = np.searchsorted(flat, rows)
    brk[at[flat[np.minimum(at, flat.size - 1)] == rows]] = True
    start = np.flatnonzero(brk)
    end = np.empty_like(start)
    end[:-1] = start[1:] - 1
    end[-1] = flat.size - 1
    return start, end
