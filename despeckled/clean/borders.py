"""Scanner borders: dark regions that touch the page's edge and are not
content -- black scanner background, the wedges of a crooked feed,
punch-hole shadows cut by the edge, a gray lid frame.

Decided on a copy of about :data:`BORDER_PX_PER_MM` pixels per millimetre.
Each dark region (darker than the paper by :data:`DARK_MARGIN` levels) that
touches the image edge is a border only if it is

- **solid**: most of it survives an opening by 1.5 mm -- rules, table
  grids, signatures and text are thinner;
- **shallow**: it reaches into the page at most :data:`MAX_DEPTH_MM`, or
  :data:`MAX_DEPTH_RATIO` of the length of edge it touches -- a band, a
  wedge, the background around a page; a photo that bleeds off one edge
  reaches in as far as it is wide;
- **uniform**: its inside varies by at most :data:`MAX_TEXTURE` gray levels
  at the analysis resolution, and by at most :data:`MAX_FINE_TEXTURE` on
  the reduced page (about 150 dpi) -- a photo has texture, and a line of
  text running off the edge, which the analysis copy blurs into a dark
  band, is ink and paper at the finer scale; scanner background and a lid
  are flat at both;
- **big, or a punch hole**: at least :data:`SMALL_MM2`, or shaped like the
  shadow of a punch hole cut by the edge (a half disc
  :data:`PUNCH_MM` across) -- a blot or a dust clump on the edge is left
  to the cleaner;
- **plain**: no paper-coloured holes of letter size inside it (white text on
  a black table header).

Anything else that touches the edge is kept, and so is everything that does
not touch it (a header rule, a page number, a margin rule close to the
edge). When in doubt, keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from despeckled.clean.lowres import Reduced

#: Resolution of the border analysis (pixels per mm): borders are
#: millimetres wide, text strokes a fraction of one.
BORDER_PX_PER_MM = 2.0
#: A border is darker than the paper by at least this many gray levels
#: (a gray lid frame on white paper: 60-130).
DARK_MARGIN = 45.0
#: Largest fraction of a border lost to an opening by a 3-pixel square
#: (1.5 mm: a table's grid or a rule loses nearly all; a band, a wedge or a
#: punch hole only its corners).
MAX_THIN_FRACTION = 0.25
#: How far a border may reach into the page: this many mm, or this
#: fraction of the length of image edge it touches, whichever is more.
MAX_DEPTH_MM = 12.0
MAX_DEPTH_RATIO = 0.15
#: Largest spread (standard deviation, gray levels) inside a border.
MAX_TEXTURE = 14.0
#: Largest spread (standard deviation, gray levels) inside a border on the
#: reduced page (JPEG noise on black background ~3-8, a line of text 40+).
MAX_FINE_TEXTURE = 16.0
#: Border regions smaller than this (mm^2) must be shaped like a punch
#: hole's shadow cut by the edge: touching it along PUNCH_MM, reaching in
#: 0.3-0.75 of that, filling 0.6-0.95 of that box.
SMALL_MM2 = 150.0
PUNCH_MM = (4.0, 10.0)
#: Paper-coloured holes inside a region, larger than this (mm^2) and
#: smaller than HOLE_MAX_FRACTION of its bounding box: letters or table
#: cells, so content (the page inside a frame of scanner background is
#: one hole nearly as big as the frame).
HOLE_MIN_MM2 = 0.5
HOLE_MAX_FRACTION = 0.05
#: The painted region reaches this far (mm) past the detected border, to
#: cover its blurred rim.
RIM_MM = 0.5


@dataclass(frozen=True)
class BorderMask:
    """Where the borders are.

    Attributes
    ----------
    mask : ndarray of bool, shape (h, w)
        Border pixels at the analysis resolution, rim included.
    factor : int
        Full-resolution pixels per mask pixel (each axis).
    regions : int
        Number of border regions found.
    """

    mask: np.ndarray
    factor: int
    regions: int

    def full(self, shape: tuple[int, int]) -> np.ndarray:
        """The mask at full resolution (``shape`` = the page's (H, W)), uint8 0/255."""
        H, W = shape
        m = self.mask.view(np.uint8) * np.uint8(255)
        big = cv2.resize(m, (m.shape[1] * self.factor, m.shape[0] * self.factor), interpolation=cv2.INTER_NEAREST)
        if big.shape[0] < H or big.shape[1] < W:
            big = cv2.copyMakeBorder(big, 0, max(0, H - big.shape[0]), 0, max(0, W - big.shape[1]), cv2.BORDER_REPLICATE)
        return np.ascontiguousarray(big[:H, :W])


def _depth(lab: np.ndarray, sel: np.ndarray, n: int) -> np.ndarray:
    """Per label: how far (pixels) its pixels in ``sel`` reach from the
    nearest image edge."""
    H, W = lab.shape
    ys, xs = np.nonzero(sel)
    labs = lab[ys, xs]
    d = np.minimum(np.minimum(ys, H - 1 - ys), np.minimum(xs, W - 1 - xs))
    # per-label maximum: one sort, no Python loop
    order = np.lexsort((d, labs))
    depth = np.zeros(n)
    depth[labs[order]] = d[order]          # the last write per label is its largest
    return depth


def _solidity_texture(lab: np.ndarray, sel: np.ndarray, n: int, gray: np.ndarray,
                      eroded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per label (pixels in ``sel`` only): the fraction of its area an
    opening removes, and the gray spread (standard deviation) of its eroded
    inside."""
    area = np.bincount(lab[sel], minlength=n).astype(np.float64)
    opened = cv2.dilate(eroded, np.ones((3, 3), np.uint8))
    kept = np.bincount(lab[sel & (opened != 0)], minlength=n).astype(np.float64)
    inside = sel & (eroded != 0)
    inner = lab[inside]
    g_in = gray[inside].astype(np.float64)
    cnt = np.bincount(inner, minlength=n).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(inner, g_in, minlength=n) / cnt
        std = np.sqrt(np.maximum(np.bincount(inner, g_in * g_in, minlength=n) / cnt - mean * mean, 0.0))
    return 1.0 - kept / np.maximum(area, 1.0), np.where(cnt > 0, std, np.inf)


def _big_or_punch(area: np.ndarray, contact: np.ndarray, depth: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Per label: at least SMALL_MM2, or shaped like a punch hole's shadow
    cut by the edge (lengths in analysis pixels).

    >>> _big_or_punch(np.array([700.0, 80.0, 80.0]), np.array([400.0, 14.0, 9.0]), np.array([4.0, 7.0, 9.0]), 2.0).tolist()
    [True, True, False]
    """
    mm2 = px_per_mm * px_per_mm
    big = area >= SMALL_MM2 * mm2
    across = contact / px_per_mm
    reach = (depth + 1.0) / np.maximum(contact, 1.0)
    fill = area / np.maximum(contact * (depth + 1.0), 1.0)
    punch = ((across >= PUNCH_MM[0]) & (across <= PUNCH_MM[1]) & (reach >= 0.3) & (reach <= 0.75)
             & (fill >= 0.6) & (fill <= 0.95))
    return big | punch


def _fine_texture(lab: np.ndarray, cand: np.ndarray, eroded: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """Per label: the gray spread (standard deviation) of the finer page
    ``fine`` over the candidate regions' eroded insides (``inf`` where a
    region has none)."""
    n = cand.size
    inner = np.where(cand[lab] & (eroded != 0), lab, 0).astype(np.int32)
    big = cv2.resize(inner, (fine.shape[1], fine.shape[0]), interpolation=cv2.INTER_NEAREST)
    sel = big != 0
    labs = big[sel]
    g = fine[sel].astype(np.float64)
    cnt = np.bincount(labs, minlength=n).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(labs, g, minlength=n) / cnt
        var = np.bincount(labs, g * g, minlength=n) / cnt - mean * mean
    return np.where(cnt > 0, np.sqrt(np.maximum(var, 0.0)), np.inf)


def _holes_per_region(dark: np.ndarray, lab: np.ndarray, n: int, min_px: float, box_area: np.ndarray) -> np.ndarray:
    """Per label: number of enclosed paper holes of at least ``min_px``
    pixels and at most HOLE_MAX_FRACTION of the label's bounding box
    (``box_area``) whose surrounding region it is."""
    paper = (dark == 0).view(np.uint8)
    m, hl, st, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    x, y, w, h, a = (st[:, i] for i in range(5))
    H, W = dark.shape
    inside = (x > 0) & (y > 0) & (x + w < W) & (y + h < H) & (a >= min_px)
    inside[0] = False
    # the region around a hole: the label just left of the hole's leftmost
    # pixel on its top row
    ys = y[inside]
    row_first = np.argmax(hl[ys] == np.flatnonzero(inside)[:, None], axis=1)
    owner = lab[ys, np.maximum(row_first - 1, 0)]
    small = a[inside] <= HOLE_MAX_FRACTION * box_area[owner]
    return np.bincount(owner[small], minlength=n)


def find_borders(page: Reduced) -> BorderMask:
    """Find the scanner borders of a page.

    Parameters
    ----------
    page : Reduced
        The reduced page (:func:`despeckled.clean.lowres.reduce_page`).

    Returns
    -------
    BorderMask

    Examples
    --------
    >>> from despeckled.clean.lowres import reduce_page
    >>> g = np.full((600, 420), 235, np.uint8)
    >>> g[:, :30] = 20                        # black scanner background, left
    >>> g[100:104, 40:380] = 30               # a rule close to the edge: content
    >>> b = find_borders(reduce_page(g, 50.8))
    >>> full = b.full(g.shape)
    >>> bool(full[300, 10]), bool(full[102, 200]), b.regions
    (True, False, 1)
    """
    k = max(1, int(round(page.px_per_mm / BORDER_PX_PER_MM)))
    g = page.gray
    small = g if k == 1 else cv2.resize(g, (max(1, g.shape[1] // k), max(1, g.shape[0] // k)), interpolation=cv2.INTER_AREA)
    px_per_mm = page.px_per_mm / k
    level = page.paper - DARK_MARGIN
    dark = (small < level).view(np.uint8)
    H, W = dark.shape
    empty = BorderMask(np.zeros((H, W), bool), page.factor * k, 0)
    edge = np.concatenate([dark[0], dark[-1], dark[:, 0], dark[:, -1]])
    if not edge.any():
        return empty
    n, lab, st, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    rim = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    contact = np.bincount(rim, minlength=n).astype(np.float64)
    area = st[:, cv2.CC_STAT_AREA].astype(np.float64)
    # the tests from cheap (per-label numbers) to dear (pixels, a second
    # labelling), each on the regions still in the running: on most pages
    # nothing touching the edge is left after the first
    border = contact > 0
    border[0] = False
    depth = _depth(lab, border[lab], n)
    border &= _big_or_punch(area, contact, depth, px_per_mm)
    border &= depth <= np.maximum(MAX_DEPTH_MM * px_per_mm, MAX_DEPTH_RATIO * contact)
    if not border.any():
        return empty
    eroded = cv2.erode(dark, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    thin, std = _solidity_texture(lab, border[lab], n, small, eroded)
    border &= (thin <= MAX_THIN_FRACTION) & (std <= MAX_TEXTURE)
    if not border.any():
        return empty
    box = st[:, cv2.CC_STAT_WIDTH].astype(np.float64) * st[:, cv2.CC_STAT_HEIGHT]
    border &= _holes_per_region(dark, lab, n, HOLE_MIN_MM2 * px_per_mm * px_per_mm, box) == 0
    border &= _fine_texture(lab, border, eroded, g) <= MAX_FINE_TEXTURE
    if not border.any():
        return empty
    mask = border[lab].view(np.uint8)
    r = max(1, int(round(RIM_MM * px_per_mm)))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return BorderMask(mask.view(bool), page.factor * k, int(border.sum()))


def paint(pixels: np.ndarray, mask: np.ndarray, colour) -> np.ndarray:
    """A copy of ``pixels`` with ``mask`` painted ``colour``.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C)
    mask : ndarray of uint8, shape (H, W)
        Nonzero = paint.
    colour : float or tuple of float
        In the layout and range of ``pixels``.

    Returns
    -------
    ndarray, like ``pixels``
    """
    out = np.array(pixels, copy=True)
    sel = mask != 0
    out[sel] = np.asarray(colour, dtype=np.float64).round().astype(out.dtype)
    return out
