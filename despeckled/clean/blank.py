"""Is the page blank? A verdict with a confidence, tuned so that no page
with anything written on it is ever called blank.

A page is blank when none of its marks is *evidence of content*. Marks
are the connected regions at least :data:`EVIDENCE_CONTRAST` darker than
the local paper (background-normalised over :data:`PAPER_WINDOW_MM`, on
the reduced page taking each cell's darkest full-resolution pixel, so a
thin pencil stroke keeps its darkness). Pencil is that dark; show-through
of the other side, mirrored, faint and blurred, is not. A mark is evidence
when it is

- at least :data:`GLYPH_MM` tall or wide (a digit of a page number, a
  letter of a pencil note), and
- not a compact blob (dust: solid and about as wide as tall, under
  :data:`BLOB_MM`), not a punch hole (a solid disc of
  :data:`PUNCH_MM` near an edge) and not a staple's shadow (a short
  straight thin stroke near a corner).

So paper with noise, specks, dust, show-through, punch holes and a staple
shadow is blank; a page number, a signature, a short note, a faint pencil
line, a small table, a stamp or a barcode is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from despeckled.clean import threshold as th
from despeckled.clean.lowres import Reduced

#: Resolution the marks are labelled at (pixels per mm, ~150 dpi): a
#: 2.5-mm digit is 15 pixels, and dust stays distinguishable from it.
MARK_PX_PER_MM = 6.0
#: Window of the paper estimate (mm): wider than any stroke or bar.
PAPER_WINDOW_MM = 8.0
#: Marks are darker than the local paper by this fraction of the paper
#: (a pencil line on white paper: 0.21-0.45; show-through: 0.05-0.16).
EVIDENCE_CONTRAST = 0.19
#: Evidence is at least this tall or wide (mm): a digit at 6 pt is 1.6 mm.
GLYPH_MM = 1.2
#: Compact solid blobs smaller than this (mm) are dust.
BLOB_MM = 2.0
#: A solid round mark of this diameter range (mm), within PUNCH_EDGE_MM of
#: an edge, is a punch hole.
PUNCH_MM = (4.0, 9.0)
PUNCH_EDGE_MM = 25.0
#: A straight thin stroke of this length (mm), at most STAPLE_WIDTH_MM
#: wide, within STAPLE_CORNER_MM of a corner, is a staple's shadow.
STAPLE_MM = (5.0, 20.0)
STAPLE_WIDTH_MM = 1.0
STAPLE_CORNER_MM = 35.0
#: Pages with more strong ink than this fraction are not blank, at once.
CLEARLY_INKED = 0.004
#: Drop a blank page only at this confidence or more.
DROP_CONFIDENCE = 0.5


@dataclass(frozen=True)
class BlankVerdict:
    """Blank or not, and how sure.

    Attributes
    ----------
    blank : bool
    confidence : float
        0..1. For a blank page, how far its largest mark is from glyph
        size (1.0: nothing over half a glyph); for a page with content, how much
        evidence there is (1.0 for five marks or more).
    evidence : int
        Marks that count as content.
    """

    blank: bool
    confidence: float
    evidence: int

    @property
    def droppable(self) -> bool:
        """Blank with at least :data:`DROP_CONFIDENCE`."""
        return self.blank and self.confidence >= DROP_CONFIDENCE


def _peak_per_label(lab: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Largest value per label (0 where a label has no pixel)."""
    sel = lab != 0
    labs, v = lab[sel], values[sel]
    order = np.lexsort((v, labs))
    peak = np.zeros(n, np.float64)
    peak[labs[order]] = v[order]            # the last write per label is its largest
    return peak


def excused(st: np.ndarray, shape: tuple[int, int], px_per_mm: float) -> np.ndarray:
    """Per mark (rows of ``cv2.connectedComponentsWithStats`` stats): is it
    dust, a punch hole or a staple's shadow?

    Parameters
    ----------
    st : ndarray of int32, shape (n, 5)
        x, y, width, height, area of each mark.
    shape : (int, int)
        The page's (h, w).
    px_per_mm : float

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> st = np.array([[100, 100, 12, 12, 110],     # dust, 1.2 mm at 10 px/mm
    ...                [20, 900, 60, 60, 2800],     # a 6-mm hole, 2 mm from the edge
    ...                [500, 900, 60, 60, 2800],    # the same in mid-page
    ...                [100, 60, 80, 60, 400]])     # a 10-mm straight stroke at a corner
    >>> excused(st, (2970, 2100), 10.0).tolist()
    [True, True, False, True]
    """
    x, y, w, h, a = (st[:, i].astype(np.float64) for i in range(5))
    H, W = shape
    mm = 1.0 / px_per_mm
    size = np.maximum(w, h) * mm
    fill = a / np.maximum(w * h, 1.0)
    roundish = (w <= 1.4 * h) & (h <= 1.4 * w)
    dust = roundish & (fill >= 0.5) & (size < BLOB_MM)
    cx, cy = x + w / 2.0, y + h / 2.0
    edge = np.minimum(np.minimum(cx, W - cx), np.minimum(cy, H - cy)) * mm
    punch = roundish & (fill >= 0.6) & (size >= PUNCH_MM[0]) & (size <= PUNCH_MM[1]) & (edge <= PUNCH_EDGE_MM)
    diag = np.hypot(w, h)
    width = a / np.maximum(diag, 1.0) * mm          # mean width of a straight stroke
    corner = (np.minimum(cx, W - cx) <= STAPLE_CORNER_MM / mm) & (np.minimum(cy, H - cy) <= STAPLE_CORNER_MM / mm)
    staple = corner & (diag * mm >= STAPLE_MM[0]) & (diag * mm <= STAPLE_MM[1]) & (width <= STAPLE_WIDTH_MM)
    return dust | punch | staple


def darkest_cells(gray: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """The darkest full-resolution pixel of each ``factor`` x ``factor``
    cell: a thin pencil stroke keeps its darkness, which averaging halves.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    factor : int
    shape : (int, int)
        The reduced page's (h, w).

    Returns
    -------
    ndarray of uint8, shape ``shape``

    Examples
    --------
    >>> g = np.full((4, 4), 200, np.uint8); g[1, 2] = 10
    >>> darkest_cells(g, 2, (2, 2)).tolist()
    [[200, 10], [200, 200]]
    """
    if factor == 1:
        return gray[: shape[0], : shape[1]]
    dark = cv2.erode(gray, np.ones((factor, factor), np.uint8), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(dark[: shape[0] * factor: factor, : shape[1] * factor: factor])


def blank_verdict(page: Reduced, gray: np.ndarray) -> BlankVerdict:
    """Decide whether a page is blank.

    Parameters
    ----------
    page : Reduced
        The reduced page, borders painted out.
    gray : ndarray of uint8, shape (H, W)
        The full-resolution page it was reduced from.

    Returns
    -------
    BlankVerdict

    Examples
    --------
    >>> from despeckled.clean.lowres import reduce_page
    >>> g = np.full((1169, 827), 235, np.uint8)         # A4 at 100 dpi
    >>> blank_verdict(reduce_page(g, 100.0), g).blank
    True
    >>> _ = cv2.putText(g, "12", (400, 1100), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 40)
    >>> blank_verdict(reduce_page(g, 100.0), g).blank
    False
    """
    g = page.gray
    paper = max(page.paper, 1.0)
    strong = cv2.countNonZero((g < paper * (1.0 - 2 * EVIDENCE_CONTRAST)).view(np.uint8))
    if strong > CLEARLY_INKED * g.size:
        return BlankVerdict(False, 1.0, -1)
    k = max(1, int(round(page.px_per_mm / MARK_PX_PER_MM)))
    shape = (max(1, g.shape[0] // k), max(1, g.shape[1] // k))
    px_per_mm = page.px_per_mm / k
    small = g if k == 1 else cv2.resize(g, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    low, factor = th.background_lowres(small, PAPER_WINDOW_MM * px_per_mm)
    norm = th.normalise_lowres(darkest_cells(gray, page.factor * k, shape), low, factor)    # paper ~255
    marks = (norm <= 255 * (1.0 - EVIDENCE_CONTRAST)).view(np.uint8)
    n, lab, st, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    size_mm = np.maximum(st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]) / px_per_mm
    candidate = ~excused(st, shape, px_per_mm)
    candidate[0] = False
    evidence = candidate & (size_mm >= GLYPH_MM)
    k = int(evidence.sum())
    if k:
        return BlankVerdict(False, round(min(1.0, 0.5 + 0.1 * k), 2), k)
    # marks under half a glyph (specks) leave the verdict sure; bigger
    # ones, up to a glyph, make it less so
    closest = float(size_mm[candidate].max()) if candidate.any() else 0.0
    return BlankVerdict(True, round(min(1.0, 2.0 - 2.0 * closest / GLYPH_MM), 2), 0)
