"""Vectorised spatial relations between components: which small marks sit
where text puts small marks (i-dots, accents, punctuation), which form dot
leaders, and which lie in dense dot fields (halftone)."""

from __future__ import annotations

import cv2
import numpy as np


def points_in_boxes(
    px: np.ndarray,
    py: np.ndarray,
    bx0: np.ndarray,
    by0: np.ndarray,
    bx1: np.ndarray,
    by1: np.ndarray,
    cell: float,
) -> tuple[np.ndarray, np.ndarray]:
    """All (point, box) index pairs where a point lies inside a box.

    A uniform grid of ``cell``-sized cells is used as a spatial hash: each box
    is registered in every cell it covers, each point looks up its own cell.
    No Python loop; cost is proportional to the number of (box, cell) entries
    plus the number of candidate pairs.

    Parameters
    ----------
    px, py : ndarray of float, shape (P,)
        Point coordinates in pixels.
    bx0, by0, bx1, by1 : ndarray of float, shape (B,)
        Inclusive box bounds in pixels.
    cell : float
        Grid cell size in pixels; about the typical box size is best.

    Returns
    -------
    point_index, box_index : ndarray of int64, shape (K,)

    Examples
    --------
    >>> p, b = points_in_boxes(np.array([1.0, 50.0]), np.array([1.0, 5.0]),
    ...                        np.array([0.0, 40.0]), np.array([0.0, 0.0]),
    ...                        np.array([2.0, 60.0]), np.array([2.0, 10.0]), 4.0)
    >>> p.tolist(), b.tolist()
    ([0, 1], [0, 1])
    """
    empty = np.zeros(0, np.int64)
    if px.size == 0 or bx0.size == 0:
        return empty, empty
    cell = max(float(cell), 1.0)
    gx0 = np.floor(np.minimum(px.min(), bx0.min()) / cell)
    gy0 = np.floor(np.minimum(py.min(), by0.min()) / cell)
    cx0 = (np.floor(bx0 / cell) - gx0).astype(np.int64)
    cx1 = (np.floor(bx1 / cell) - gx0).astype(np.int64)
    cy0 = (np.floor(by0 / cell) - gy0).astype(np.int64)
    cy1 = (np.floor(by1 / cell) - gy0).astype(np.int64)
    ncols = int(max(cx1.max(), np.floor(px.max() / cell) - gx0)) + 1
    nx = cx1 - cx0 + 1
    ny = cy1 - cy0 + 1
    # Every (box, cell) entry, box by box and row-major within a box, with
    # repeats instead of divisions: one entry per (box, row) first, then
    # each row's cells.
    row_box = np.repeat(np.arange(bx0.size), ny)
    row_key = (cy0[row_box] + np.arange(row_box.size) - np.repeat(np.cumsum(ny) - ny, ny)) * ncols + cx0[row_box]
    row_nx = nx[row_box]
    box_id = np.repeat(row_box, row_nx)
    key = np.arange(box_id.size) + np.repeat(row_key - (np.cumsum(row_nx) - row_nx), row_nx)
    pkey = (np.floor(py / cell) - gy0).astype(np.int64) * ncols + (np.floor(px / cell) - gx0).astype(np.int64)
    nkeys = int(max(key.max(), pkey.max())) + 1
    # Boxes grouped by cell, in box order within a cell (a stable sort:
    # a radix sort when the cell keys fit 16 bits); each cell's run of
    # boxes is found by counting, not by searching.
    order = np.argsort(key.astype(np.uint16) if nkeys <= 1 << 16 else key, kind="stable")
    box_id = box_id[order]
    counts = np.bincount(key, minlength=nkeys)
    m = counts[pkey]
    if not m.any():
        return empty, empty
    lo = (np.cumsum(counts) - counts)[pkey]
    pi = np.repeat(np.arange(px.size), m)
    bi = box_id[np.arange(pi.size) + np.repeat(lo - (np.cumsum(m) - m), m)]
    qx, qy = np.repeat(px, m), np.repeat(py, m)
    inside = (qx >= bx0[bi]) & (qx <= bx1[bi]) & (qy >= by0[bi]) & (qy <= by1[bi])
    return pi[inside], bi[inside]


def any_per(index: np.ndarray, ok: np.ndarray, size: int) -> np.ndarray:
    """``out[i]`` is True when some ``ok[j]`` with ``index[j] == i`` is True.

    >>> any_per(np.array([0, 0, 2]), np.array([False, True, False]), 3).tolist()
    [True, False, False]
    """
    if index.size == 0:
        return np.zeros(size, bool)
    return np.bincount(index[ok], minlength=size)[:size] > 0


def count_per(index: np.ndarray, ok: np.ndarray, size: int) -> np.ndarray:
    """Number of True ``ok[j]`` per ``index[j]``."""
    if index.size == 0:
        return np.zeros(size, np.int64)
    return np.bincount(index[ok], minlength=size)[:size]


def _grid_cells(px: np.ndarray, py: np.ndarray, shape: tuple[int, int], cell: float) -> tuple[np.ndarray, int, int]:
    """Flat index of each point's cell in a grid of ``cell``-pixel cells
    covering ``shape``, and the grid's height and width in cells."""
    cell = max(float(cell), 1.0)
    gh = int(np.ceil(shape[0] / cell)) + 1
    gw = int(np.ceil(shape[1] / cell)) + 1
    iy = np.clip((py / cell).astype(np.int64), 0, gh - 1)
    ix = np.clip((px / cell).astype(np.int64), 0, gw - 1)
    return iy * gw + ix, gh, gw


def local_density(px: np.ndarray, py: np.ndarray, weights: np.ndarray | None, shape: tuple[int, int], cell: float, radius_cells: int) -> np.ndarray:
    """Sum of ``weights`` of points in the square window around each point.

    Points are binned into a grid of ``cell`` pixels and the grid is box
    filtered over ``2 * radius_cells + 1`` cells, so the window is that many
    cells wide. Returns one value per point (the point itself included).
    """
    if px.size == 0:
        return np.zeros(0)
    flat, gh, gw = _grid_cells(px, py, shape, cell)
    grid = np.bincount(flat, weights=weights, minlength=gh * gw).reshape(gh, gw).astype(np.float32)
    k = 2 * int(radius_cells) + 1
    summed = cv2.boxFilter(grid, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return summed.ravel()[flat].astype(np.float64)


def near_selected(px: np.ndarray, py: np.ndarray, selected: np.ndarray, shape: tuple[int, int], cell: float, radius_cells: int) -> np.ndarray:
    """Whether each point lies within ``radius_cells`` grid cells of a
    selected point (itself included): grows a set of core points into the
    region around them, e.g. the whole of a dot field from its dense core.

    >>> near_selected(np.array([5., 25., 200.]), np.array([5., 5., 5.]),
    ...               np.array([True, False, False]), (50, 300), 10.0, 2).tolist()
    [True, True, False]
    """
    if px.size == 0:
        return np.zeros(0, bool)
    flat, gh, gw = _grid_cells(px, py, shape, cell)
    grid = (np.bincount(flat[selected], minlength=gh * gw) > 0).astype(np.uint8).reshape(gh, gw)
    k = 2 * int(radius_cells) + 1
    grown = cv2.dilate(grid, np.ones((k, k), np.uint8))
    return grown.ravel()[flat] > 0
