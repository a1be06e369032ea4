"""Hard guards: shapes that are content, whatever the rules say.

The keep/remove rules find specks; the guards veto. A component a rule wants
to remove goes only if no guard claims it ("when in doubt, keep": a speck
left costs a reader nothing, a digit deleted from an invoice is silent data
loss). Each guard is a named pure function over the page's components that
returns one bool per label (index 0, the background, is always False).

Sizes are relative to the component's own text line
(:func:`despeckled.clean.lines.line_scale`) or to the component itself
(grids: a QR module, a leader dot), never bare pixels. All of them are
vectorised: per-label arrays, grid joins, ``np.bincount``.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from despeckled.clean.components import Components
from despeckled.clean.context import any_per, points_in_boxes
from despeckled.clean.lines import LineScale, frame_candidates, letter_candidates, line_scale
from despeckled.clean.rules import Decision, Rule
from despeckled.clean.scale import STROKE_BUILT, framed, frames

#: glyph_shaped: at least this many of the line's x-heights tall...
GLYPH_MIN_HEIGHT = 0.7
#: ...or this many, when the x-height is the resolution's guess (a music
#: page's fingering digits, the only figures on it: a 200-dpi scan without
#: a tag is read at 300 dpi, and its glyphs look two thirds their size).
GLYPH_MIN_HEIGHT_GUESSED = 0.4
#: ...with strokes no thicker than this many times the line's stroke width
#: (a dust blob's "thickness" is its radius: several strokes)...
GLYPH_MAX_THICKNESS = 2.0
#: ...and no thinner than this (a scratch, a dendritic clump of threads)...
GLYPH_MIN_THICKNESS = 0.5
#: ...with at most this many counters...
GLYPH_MAX_HOLES = 2
#: ...or this many, when no disc wider than GLYPH_THIN_RADIUS strokes fits
#: (a lattice of thin strokes, not a porous clump; where two strokes cross,
#: as a '%''s slash meets its ring, a disc of about 0.8 strokes fits).
GLYPH_MAX_HOLES_THIN = 6
GLYPH_THIN_RADIUS = 0.9
#: ...and at most this many x-heights across (bigger is a picture or rule)...
GLYPH_MAX_SIZE = 4.0
#: ...and no disc of more than this many stroke widths' radius fits inside
#: (a stroke's is half a stroke width, a junction's or a bold figure's more).
GLYPH_MAX_RADIUS = 1.15
GLYPH_MAX_RADIUS_HOLED = 1.5
#: A glyph with a dot run into it (a fingering digit touching a staccato
#: dot, a figure touching a speck): a disc of up to this many stroke widths
#: fits in the knot, but the pixels deeper than GLYPH_DEEP stroke widths
#: from the paper span at most this share of the glyph's size (in a solid
#: blob as tall as a letter they span two thirds of it or more).
GLYPH_MAX_RADIUS_KNOT = 3.0
#: A bold glyph's own stroke (its ``thickness``) is its scale, up to this
#: many line strokes, when it fills at most this share of its box.
GLYPH_BOLD = 1.6
GLYPH_BOLD_MAX_FILL = 0.55
GLYPH_MAX_KNOT_SPAN = 0.45
GLYPH_DEEP = 0.75


def _fill(c: Components) -> np.ndarray:
    return c.area / np.maximum(c.width * c.height, 1)


class Shape(NamedTuple):
    """Per-label shape measures (see :func:`shape_measures`)."""

    radius: np.ndarray
    holes: np.ndarray
    deep_span: np.ndarray


def shape_measures(c: Components, select: np.ndarray, depth: np.ndarray | None = None) -> Shape:
    """The inscribed radius, the number of holes and the span of the deep
    pixels of each selected component.

    ``radius`` is the radius (pixels) of the largest disc that fits inside:
    about half the stroke width for a letter (more at a bold figure's
    bowl), the blob's own radius for a clump of dust. ``holes`` counts the
    enclosed paper regions (4-connected): the counters of a, e, o, 6, 8, 0.
    ``deep_span`` is the larger side of the box of the pixels farther than
    ``depth`` (per label) from the paper -- there are none in a stroke
    narrower than twice ``depth``: a blob's knot spans the blob, a dot run
    into a figure only the dot.

    The selected components are copied side by side into one small strip
    (each in its own box, a pixel of paper around it) and measured with one
    distance transform and one labelling of the strip's paper, so the cost
    follows their pixels, not the page.

    Parameters
    ----------
    c : Components
    select : ndarray of bool, shape (c.n,)
    depth : ndarray of float, shape (c.n,), optional
        Per label, in pixels (default: no pixel is deep).

    Returns
    -------
    Shape
        ``radius`` float32, ``holes`` and ``deep_span`` int64, shape (c.n,);
        0 where not selected.

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((40, 60), np.uint8)
    >>> ink[5:35, 5:8] = 1                          # a stem 3 px wide
    >>> ink[10:30, 30:50] = 1; ink[15:18, 35:38] = 0  # a 20 px square with a hole
    >>> c = label_components(ink)
    >>> m = shape_measures(c, np.array([False, True, True]))
    >>> [round(float(v), 1) for v in m.radius], m.holes.tolist()
    ([0.0, 2.0, 7.1], [0, 0, 1])
    """
    radius = np.zeros(c.n, np.float32)
    holes = np.zeros(c.n, np.int64)
    span = np.zeros(c.n, np.int64)
    sel = select.copy()
    sel[0] = False
    si = np.flatnonzero(sel)
    if si.size == 0:
        return Shape(radius, holes, span)
    w = c.width[si] + 2
    h = c.height[si] + 2
    starts = np.cumsum(w) - w
    left = np.zeros(c.n, np.int64)
    left[si] = starts
    strip = np.zeros((int(h.max()), int(w.sum())), np.uint8)
    pos = c.positions_of(sel)
    lab = c.lab[pos]
    W = c.labels.shape[1]
    ys = c.flat[pos] // W - c.y0[lab] + 1
    xs = c.flat[pos] % W - c.x0[lab] + 1 + left[lab]
    strip[ys, xs] = 1
    dist = cv2.distanceTransform(strip, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d = dist[ys, xs]
    np.maximum.at(radius, lab, d)
    if depth is not None:
        dp = d > depth[lab]
        dl, dy, dx = lab[dp], ys[dp], xs[dp]
        deep = np.bincount(dl, minlength=c.n)
        spans = []
        for v in (dy, dx):
            lo = np.full(c.n, np.iinfo(np.int64).max)
            hi = np.full(c.n, -1)
            np.minimum.at(lo, dl, v)
            np.maximum.at(hi, dl, v)
            spans.append(np.where(deep > 0, hi - lo + 1, 0))
        span = np.maximum(*spans)
    # paper of the strip: every box's margin joins the one outer region
    # (label 1, from the corner); any other paper region is a hole
    n_paper, paper = cv2.connectedComponents(1 - strip, connectivity=4)
    if n_paper > 2:
        py, px = np.nonzero(paper > 1)
        first = np.zeros(n_paper, np.int64)
        first[paper[py, px][::-1]] = px[::-1]           # a column of each hole
        owner = si[np.searchsorted(starts, first[2:], side="right") - 1]
        holes += np.bincount(owner, minlength=c.n)
    return Shape(radius, holes, span)


def glyph_shaped(c: Components, ls: LineScale, x: float, s: float, candidates: np.ndarray | None = None,
                 guessed: bool = False) -> np.ndarray:
    """A component as tall as its line's x-height, built of strokes as thick
    as its line's letters: a letter, digit or one-letter word -- standing
    alone in a quantity column, under a staff, or as a page number -- never
    dust.

    Stroke structure: no disc much wider than a stroke fits inside it
    (:func:`shape_measures`: a radius of at most ``GLYPH_MAX_RADIUS`` stroke
    widths, ``GLYPH_MAX_RADIUS_HOLED`` around a counter),
    and its thickness (``2 * area / boundary``) is about a stroke. A clump
    of dust that tall is a solid blob: a disc of about its own size fits.

    Parameters
    ----------
    c : Components
    ls : LineScale
        Per-label line x-height and stroke width (pixels).
    x, s : float
        The page's x-height and stroke width (pixels).
    candidates : ndarray of bool, shape (c.n,), optional
        Only these are tested (default: all); the rest are False.
    guessed : bool
        The x-height and stroke are the resolution's guess: a glyph may be
        ``GLYPH_MIN_HEIGHT_GUESSED`` x-heights tall, and its strokes are
        judged against its own thickness where that is thinner.

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((60, 80), np.uint8)
    >>> ink[10:31, 10:13] = ink[10:13, 10:24] = ink[28:31, 10:24] = ink[10:31, 21:24] = 1  # an 'o', 21 px
    >>> ink[10:28, 50:68] = 1                                                            # a solid blob
    >>> c = label_components(ink)
    >>> glyph_shaped(c, line_scale(c, x=21.0, s=3.0), x=21.0, s=3.0).tolist()
    [False, True, False]
    """
    h = c.height.astype(np.float64)
    w = c.width.astype(np.float64)
    size = np.maximum(h, w)
    # The more protective of the line's and the page's scale: a lone digit
    # beside a signature sees the signature's loops as its "line".
    xl = np.minimum(ls.xheight, x)
    sl = np.maximum(ls.stroke, s)
    thin = np.minimum(ls.stroke, s)
    if guessed:
        # (the scale is the resolution's guess: smaller glyphs count, a
        # stroke is at most the glyph's own, and the glyph must be built of
        # strokes, three times as long as thick: the guessed stroke may be
        # a blob's radius)
        thin = np.minimum(thin, c.thickness)
        candidates = (size >= STROKE_BUILT * c.thickness) & (True if candidates is None else candidates)
    ok = (h >= (GLYPH_MIN_HEIGHT_GUESSED if guessed else GLYPH_MIN_HEIGHT) * xl)
    ok &= size <= GLYPH_MAX_SIZE * np.maximum(ls.xheight, x)
    ok &= (c.thickness <= GLYPH_MAX_THICKNESS * sl) & (c.thickness >= GLYPH_MIN_THICKNESS * thin)
    # (enough ink for a stroke running the glyph's height: not a hairline
    # fibre of dust one pixel wide)
    ok &= c.area >= 0.8 * thin * h
    if candidates is not None:
        ok &= candidates
    ok[0] = False
    # a bold glyph alone on its line (a table's bold entry) is measured
    # against its own strokes, up to GLYPH_BOLD line strokes, when it is
    # as open as letters are (a blob fills its box)
    bold = (c.thickness > sl) & (_fill(c) <= GLYPH_BOLD_MAX_FILL)
    sl = np.where(bold, np.minimum(c.thickness, GLYPH_BOLD * sl), sl)
    m = shape_measures(c, ok, GLYPH_DEEP * sl)
    # strokes no wider than a bold letter's; a figure with a counter (6, 8,
    # 0, a, e) may have a heavier bowl -- dust hardly ever has a hole; a
    # figure a dot or a speck has run into is strokes but for a small knot
    # (a blob of its size is deep all through)
    ok &= ((m.radius <= GLYPH_MAX_RADIUS * sl) | ((m.holes > 0) & (m.radius <= GLYPH_MAX_RADIUS_HOLED * sl))
           | ((m.radius <= GLYPH_MAX_RADIUS_KNOT * sl) & (m.deep_span <= GLYPH_MAX_KNOT_SPAN * size)))
    # ...and no letter has more than two counters (B, 8, g): a porous clump
    # grown from a seed has many
    # (a glyph of thin strokes may have more: '%', '#', '@', '&' at low
    # resolution)
    ok &= (m.holes <= GLYPH_MAX_HOLES) | ((m.holes <= GLYPH_MAX_HOLES_THIN) & (m.radius <= GLYPH_THIN_RADIUS * sl))
    return ok


def stacked_pair(c: Components, candidates: np.ndarray) -> np.ndarray:
    """Two dots of the same size and shape, one straight above the other, a
    dot or a few apart: a colon (receipts' "Total :"), the two dots of a bass
    clef, the dots of a repeat sign, a semicolon's dot over its comma-sized
    dot.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
        The components that may pair (the small marks).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((40, 60), np.uint8)
    >>> ink[10:14, 10:14] = ink[22:26, 10:14] = 1      # a colon
    >>> ink[30:34, 40:44] = 1                          # a lone dot
    >>> c = label_components(ink)
    >>> stacked_pair(c, np.ones(c.n, bool)).tolist()
    [False, True, True, False]
    """
    mi = np.flatnonzero(candidates & (np.arange(c.n) > 0))
    out = np.zeros(c.n, bool)
    if mi.size < 2:
        return out
    h = c.height[mi].astype(np.float64)
    w = c.width[mi].astype(np.float64)
    size = np.maximum(h, w)
    # b's centre within 4 dot sizes straight below a
    pa, pb = points_in_boxes(c.cx[mi], c.cy[mi], c.x0[mi] - 0.5 * w, c.y1[mi] + 0.5, c.x1[mi] + 0.5 * w,
                             c.y1[mi] + 4.5 * size, float(np.median(size)) * 3 + 1)
    a, b = pb, pa                           # a above, b below
    a_ = mi[a]
    b_ = mi[b]
    gap = c.y0[b_] - c.y1[a_] - 1
    area_r = c.area[a_] / np.maximum(c.area[b_], 1)
    h_r = h[a] / np.maximum(h[b], 1)
    w_r = w[a] / np.maximum(w[b], 1)
    fill = _fill(c)
    ok = ((a != b) & (gap >= np.maximum(1.0, 0.3 * np.minimum(h[a], h[b]))) & (gap <= 4.0 * np.maximum(size[a], size[b]))
          & (area_r >= 0.75) & (area_r <= 1.33) & (h_r >= 0.8) & (h_r <= 1.25) & (w_r >= 0.8) & (w_r <= 1.25)
          & (np.abs(c.cx[a_] - c.cx[b_]) <= 0.35 * np.maximum(w[a], w[b]) + 1)
          & (fill[a_] >= 0.5) & (fill[b_] >= 0.5)
          & (w[a] <= 2.0 * h[a]) & (h[a] <= 2.0 * w[a]))
    out[mi] = any_per(a, ok, mi.size) | any_per(b, ok, mi.size)
    return out


def regular_row(c: Components, candidates: np.ndarray) -> np.ndarray:
    """Three or more marks of the same size and shape in a row or column at a
    steady pitch: dot leaders, ellipses, dashed separator lines, rows of a
    halftone screen or of code modules, staff dots. Speckle is random: its
    specks rarely line up, and hardly ever at an even pitch.

    A mark is *in* a row when it has a similar neighbour on each side along
    the same row (or column), the two gaps within a third of each other and
    the pitch at most ``6`` mark sizes; the two ends of such a row are in it
    too.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((30, 120), np.uint8)
    >>> for x in range(10, 60, 10):
    ...     ink[10:13, x:x + 3] = 1                    # a dot leader
    >>> ink[20:23, 90:93] = ink[20:23, 98:101] = 1     # two specks
    >>> c = label_components(ink)
    >>> regular_row(c, np.ones(c.n, bool)).tolist()
    [False, True, True, True, True, True, False, False]
    """
    mi = np.flatnonzero(candidates & (np.arange(c.n) > 0))
    out = np.zeros(c.n, bool)
    if mi.size < 3:
        return out
    h = c.height[mi].astype(np.float64)
    w = c.width[mi].astype(np.float64)
    cx, cy = c.cx[mi], c.cy[mi]
    area = c.area[mi].astype(np.float64)
    for along_x in (True, False):
        size = w if along_x else h
        across = h if along_x else w
        reach = 6.0 * np.maximum(size, across) + 2
        if along_x:
            box = (cx - reach, cy - 0.3 * across - 0.5, cx + reach, cy + 0.3 * across + 0.5)
        else:
            box = (cx - 0.3 * across - 0.5, cy - reach, cx + 0.3 * across + 0.5, cy + reach)
        pb, pa = points_in_boxes(cx, cy, *box, float(np.median(reach)))
        area_r = area[pa] / np.maximum(area[pb], 1)
        similar = ((pa != pb) & (area_r >= 0.6) & (area_r <= 1.67)
                   & (h[pa] <= 1.5 * h[pb] + 1) & (h[pb] <= 1.5 * h[pa] + 1)
                   & (w[pa] <= 1.5 * w[pb] + 1) & (w[pb] <= 1.5 * w[pa] + 1))
        d = (cx[pb] - cx[pa]) if along_x else (cy[pb] - cy[pa])
        # nearest similar neighbour before and after each mark (pa)
        big = np.inf
        before = np.full(mi.size, big)
        after = np.full(mi.size, big)
        sel = similar & (d < 0)
        np.minimum.at(before, pa[sel], -d[sel])
        sel = similar & (d > 0)
        np.minimum.at(after, pa[sel], d[sel])
        inner = np.isfinite(before) & np.isfinite(after)
        b_, a_ = before[inner], after[inner]
        inner[inner] = np.abs(b_ - a_) <= np.maximum(b_, a_) / 3.0 + 1
        # the ends: next to an inner mark at that mark's pitch
        end = np.zeros(mi.size, bool)
        end[pa[similar & inner[pb]]] = True
        out[mi] |= inner | end
    return out


#: in_dark_field: a field at least this full of its box (a band of reverse
#: text whose light letters are big cuts out much of it).
FIELD_MIN_FILL = 0.2


def in_dark_field(c: Components, x: float) -> np.ndarray:
    """Components inside a dark field -- a band or box of solid ink with
    light text cut out of it (reverse text). There, an "ink" component is the
    counter of a light letter (the hole of an O, e or 0); removing it would
    fill the letter into a blob. Nothing inside a dark field is removed.

    A dark field is a component at least ``1.2`` page x-heights in both
    directions, ``16`` square x-heights in area, and at least
    ``FIELD_MIN_FILL`` as solid as its box.

    Parameters
    ----------
    c : Components
    x : float
        The page's x-height (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((100, 200), np.uint8)
    >>> ink[10:90, 10:190] = 1
    >>> ink[30:70, 40:70] = 0; ink[40:60, 50:60] = 1     # a light 'O' with its counter
    >>> ink[95:97, 5:7] = 1                              # a speck outside
    >>> in_dark_field(label_components(ink), x=20.0).tolist()
    [False, False, True, False]
    """
    w = c.width.astype(np.float64)
    h = c.height.astype(np.float64)
    field = (w >= 1.2 * x) & (h >= 1.2 * x) & (c.area >= 16 * x * x) & (_fill(c) >= FIELD_MIN_FILL)
    field[0] = False
    fi = np.flatnonzero(field)
    out = np.zeros(c.n, bool)
    if fi.size == 0:
        return out
    qi = np.flatnonzero(~field & (np.arange(c.n) > 0))
    # inside: the whole box of the component within the field's box
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[fi], c.y0[fi], c.x1[fi], c.y1[fi], 4 * x)
    q, f = qi[pi], fi[bi]
    inside = (c.x0[q] > c.x0[f]) & (c.x1[q] < c.x1[f]) & (c.y0[q] > c.y0[f]) & (c.y1[q] < c.y1[f])
    out[qi] = any_per(pi, inside, qi.size)
    return out


#: inside_block: components are grouped on a grid of this many page
#: x-heights per cell, cells touching (8-neighbours) joining a group...
BLOCK_CELL = 0.25
#: ...and a group at least this many x-heights both ways, this full of ink
#: over its box (a QR code about half, a paragraph of text a fifth) and of
#: at least this many components is a block.
BLOCK_MIN_SIZE = 3.0
BLOCK_MIN_FILL = 0.35
BLOCK_MIN_PARTS = 6
#: A group of at least this many components may be this many x-heights
#: both ways (a small code beside big text).
BLOCK_MANY_PARTS = 10
BLOCK_SMALL_SIZE = 2.0
#: The grids the groups are formed on (page x-heights per cell), each with
#: the least ink fill of a block's box and (when above 0) the share of its
#: ink in barcode bars it must stay under. On a half x-height grid a QR code
#: whose modules are big beside the text holds together (a module-wide gap
#: splits it on the finer one); lines of text join there too, but fill a
#: fifth to a third of their box, where a code fills half.
BLOCK_CELLS = ((BLOCK_CELL, BLOCK_MIN_FILL, 0.0), (0.5, 0.38, 0.5))
#: A bar of a barcode is at least this many times as tall as wide.
BLOCK_BAR_ASPECT = 4.0


def group_boxes(c: Components, group: np.ndarray, members: np.ndarray, size: int):
    """The union box ``x0, y0, x1, y1`` (inclusive) of the ``members``'
    boxes per ``group`` id (arrays of length ``size``; empty groups get
    ``x0 > x1``)."""
    x0 = np.full(size, 1 << 62); np.minimum.at(x0, group, c.x0[members])
    y0 = np.full(size, 1 << 62); np.minimum.at(y0, group, c.y0[members])
    x1 = np.full(size, -1); np.maximum.at(x1, group, c.x1[members])
    y1 = np.full(size, -1); np.maximum.at(y1, group, c.y1[members])
    return x0, y0, x1, y1


def block_groups(c: Components, x: float, cell: float = BLOCK_CELL) -> tuple[np.ndarray, int]:
    """Group components that lie within about ``cell`` x-heights of each
    other (on a coarse grid: one ``bincount`` and one labelling of a page
    ``cell`` x-heights per cell).

    Returns
    -------
    group : ndarray of int, shape (c.n,)
        Group id per label (0 for the background).
    ngroups : int
    """
    hh, ww = c.labels.shape
    k = max(1, int(round(cell * x)))
    gh, gw = -(-hh // k), -(-ww // k)
    if c.run_flat is not None:
        # from the horizontal runs (a sixth of the pixels on text): each run
        # marks the cells of its first and last pixels, and the few runs
        # longer than two cells the ones between
        rows = c.run_flat // ww
        first_col = c.run_flat % ww
        base = (rows // k) * gw
        c0 = first_col // k
        c1 = (first_col + c.run_len - 1) // k
        grid = np.zeros(gh * gw, np.uint8)
        grid[base + c0] = 1
        grid[base + c1] = 1
        long_ = np.flatnonzero(c1 - c0 >= 2)
        if long_.size:
            span = c1[long_] - c0[long_] - 1
            start = np.repeat(base[long_] + c0[long_] + 1 - np.cumsum(span) + span, span)
            grid[start + np.arange(int(span.sum()))] = 1
        grid = grid.reshape(gh, gw)
        cell_of = base + c0
        lab_of = c.run_lab
    else:
        rows, cols = c.flat // ww, c.flat % ww
        cell_of = (rows // k) * gw + cols // k
        grid = (np.bincount(cell_of, minlength=gh * gw) > 0).astype(np.uint8).reshape(gh, gw)
        lab_of = c.lab
    ng, glab = cv2.connectedComponents(grid, connectivity=8)
    # (the group of one of a component's cells: its centre may fall in a
    # hole of its own ring)
    first = np.zeros(c.n, np.intp)
    first[lab_of] = cell_of
    group = glab.ravel()[first].astype(np.intp)
    group[0] = 0
    return group, ng


def inside_block(c: Components, x: float, candidates: np.ndarray) -> np.ndarray:
    """Marks inside the box of a block: a big, solid-ish group of
    components that is no text -- the body of a QR code (its lone modules
    sit among the connected clusters, its edge modules a module from them),
    a logo, a photo's dark mass. There a small square is a module or a
    highlight dot, never dust on paper.

    Components a quarter x-height apart are grouped (:func:`block_groups`);
    a group is a block when it is at least ``BLOCK_MIN_SIZE`` page
    x-heights in both directions (``BLOCK_SMALL_SIZE`` with
    ``BLOCK_MANY_PARTS`` components), of at least ``BLOCK_MIN_PARTS``
    components (or one big one), and its ink covers ``BLOCK_MIN_FILL`` of
    its box (a paragraph of text, a table's grid or a frame is much
    emptier). So is a single component that big, a quarter full of its own
    box. Components half an x-height apart are grouped too
    (:data:`BLOCK_CELLS`; barcodes aside), for codes whose modules are wider
    than the quarter-x-height grid. A mark is inside when it is within a
    quarter x-height of a block's box, or within its own size (an edge
    module a module off the code's body).

    Parameters
    ----------
    c : Components
        Must hold its label image's shape (``c.labels``).
    x : float
        The page's x-height (pixels).
    candidates : ndarray of bool, shape (c.n,)

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((100, 200), np.uint8)
    >>> ink[10:70, 10:70] = 1
    >>> ink[20:40, 20:40] = 0; ink[29:32, 29:32] = 1     # a module in a hole of the code
    >>> ink[90:93, 150:153] = 1                          # a speck on paper
    >>> c = label_components(ink)
    >>> inside_block(c, 16.0, np.ones(c.n, bool)).tolist()
    [False, False, True, False]
    """
    out = np.zeros(c.n, bool)
    members = np.arange(c.n) > 0
    own = (c.width >= BLOCK_MIN_SIZE * x) & (c.height >= BLOCK_MIN_SIZE * x)
    qi = np.flatnonzero(candidates & members & ~own)
    if qi.size == 0:
        return out
    boxes = []
    # (two grids: a quarter x-height, and half of one for a code whose
    # modules are big beside the text -- a module-wide gap splits the
    # first grid's groups)
    for cell, fill, bars in BLOCK_CELLS:
        group, ng = block_groups(c, x, cell)
        ink = np.bincount(group[members], weights=c.area[members], minlength=ng)
        parts = np.bincount(group[members], minlength=ng)
        big = np.bincount(group[members & own], minlength=ng) > 0
        # (a group of many parts may be smaller: a small code beside big text)
        least = np.where(parts >= BLOCK_MANY_PARTS, BLOCK_SMALL_SIZE, BLOCK_MIN_SIZE) * x
        # (boxes only for the groups that could be blocks: enough parts and ink)
        maybe = ((parts >= BLOCK_MIN_PARTS) | big) & (ink >= fill * least ** 2)
        maybe[0] = False
        if bars > 0:
            # (not a barcode: its bars, which the fine grid keeps whole,
            # would pull in the specks among the figures under them)
            bar = members & (c.height >= BLOCK_BAR_ASPECT * c.width)
            maybe &= np.bincount(group[bar], weights=c.area[bar], minlength=ng) < bars * ink
        sub = np.flatnonzero(members & maybe[group])
        gx0, gy0, gx1, gy1 = group_boxes(c, group[sub], sub, ng)
        gw = (gx1 - gx0 + 1).astype(np.float64)
        gh = (gy1 - gy0 + 1).astype(np.float64)
        block = np.flatnonzero(maybe & (gw >= least) & (gh >= least) & (ink >= fill * gw * gh))
        boxes.append((gx0[block], gy0[block], gx1[block], gy1[block]))
    # (and a single big component a quarter full of its own box is a block)
    solo = np.flatnonzero(own & (c.area >= 3 * x * x) & (_fill(c) >= 0.25) & members)
    boxes.append((c.x0[solo], c.y0[solo], c.x1[solo], c.y1[solo]))
    bx = [np.concatenate([b[k] for b in boxes]).astype(np.float64) for k in range(4)]
    if bx[0].size == 0:
        return out
    # (within a cell of the box, or within its own size: a code's edge
    # module a module off its body)
    size = np.maximum(c.width[qi], c.height[qi]).astype(np.float64)
    m = BLOCK_CELL * x + float(size.max())
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], bx[0] - m, bx[1] - m, bx[2] + m, bx[3] + m, 4 * x)
    q = qi[pi]
    gap = np.maximum(np.maximum(bx[0][bi] - c.x1[q], c.x0[q] - bx[2][bi]),
                     np.maximum(bx[1][bi] - c.y1[q], c.y0[q] - bx[3][bi])) - 1
    reach = np.maximum(BLOCK_CELL * x - 0.5 * size[pi], size[pi])
    out[qi[np.unique(pi[gap <= reach])]] = True
    return out


def print_dark(darkest: np.ndarray, glyphs: np.ndarray, paper: float, contrast: float) -> np.ndarray:
    """Components as dark as the page's own glyphs are print, not show-through.

    The reference is the median darkest level of the page's glyphs, one vote
    per glyph: a black bar or a logo (many dark pixels, one component)
    cannot drag it down so far that a receipt's light print reads as faint.
    A component whose darkest pixel is within ``contrast`` of the
    glyph-to-paper range of that reference is print.

    Parameters
    ----------
    darkest : ndarray of int, shape (n,)
        Darkest gray level of each component (0 = black).
    glyphs : ndarray of bool, shape (n,)
        The page's glyphs (e.g. :func:`glyph_shaped`).
    paper : float
        The paper's gray level.
    contrast : float
        Fraction of the range, e.g. ``CleanParams.faint_contrast``.

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> darkest = np.array([255, 0, 80, 90, 100, 200])
    >>> glyphs = np.array([False, False, True, True, True, False])
    >>> print_dark(darkest, glyphs, paper=250.0, contrast=0.3).tolist()
    [False, True, True, True, True, False]
    """
    out = np.zeros(darkest.shape, bool)
    if not glyphs[1:].any():
        return out
    ref = float(np.median(darkest[glyphs]))
    out = darkest <= ref + contrast * max(paper - ref, 0.0)
    out[0] = False
    return out


#: beside_graphic: a dot is round (its box at most this much longer one way
#: than the other, at least this full -- a disc fills 0.79 of its box, a
#: 7-px one 0.59)...
DOT_ASPECT = 1.6
DOT_FILL = 0.5
#: ...and a graphic's ink lies within this many of the dot's diameters of
#: its edge, looked for along eight rays...
GRAPHIC_REACH = (0.5, 1.0, 1.5, 2.0)
#: ...a graphic being at least this many page x-heights tall or wide, this
#: many tall (a word of letters run together is under two), and no letter
#: (a note with its stem, a staff, a frame).
GRAPHIC_MIN_SIZE = 1.5
GRAPHIC_MIN_HEIGHT = 2.2
#: Dots further than this many page x-heights from a graphic's box are not
#: probed (a dot is under one x-height: its farthest probe is 2.5 dots off).
GRAPHIC_NEAR = 1.5


def beside_graphic(c: Components, candidates: np.ndarray, letters: np.ndarray, x: float) -> np.ndarray:
    """Round dots close to a graphic that is no letter: a staccato or
    augmentation dot by a note head, a dot between staff lines, a bullet
    by a rule. Music puts dots a dot's width or two from its notes; text
    marks are judged by the text rules instead.

    Eight rays from the dot's centre are probed at ``GRAPHIC_REACH`` dot
    diameters past its edge; a dot is claimed when one of them lands on a
    graphic's ink.

    Parameters
    ----------
    c : Components
        Must hold its label image (``c.labels``, dense or sparse).
    candidates : ndarray of bool, shape (c.n,)
        The marks to ask about (e.g. dark enough to be print).
    letters : ndarray of bool, shape (c.n,)
        Letters of any size; they are no graphic.
    x : float
        The page's x-height (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((100, 200), np.uint8)
    >>> ink[20:60, 30:33] = 1; ink[52:62, 20:33] = 1     # a note: stem and head
    >>> ink[55:59, 40:44] = 1                            # its augmentation dot
    >>> ink[80:84, 150:154] = 1                          # a speck on paper
    >>> c = label_components(ink)
    >>> beside_graphic(c, np.array([False, False, True, True]), np.zeros(4, bool), 10.0).tolist()
    [False, False, True, False]
    """
    w = c.width.astype(np.float64)
    h = c.height.astype(np.float64)
    out = np.zeros(c.n, bool)
    graphic = (np.maximum(w, h) >= GRAPHIC_MIN_SIZE * x) & (h >= GRAPHIC_MIN_HEIGHT * x) & ~letters
    graphic[0] = False
    round_dot = (np.maximum(w, h) <= DOT_ASPECT * np.minimum(w, h)) & (c.area >= DOT_FILL * w * h)
    qi = np.flatnonzero(candidates & round_dot & ~graphic & (np.arange(c.n) > 0))
    gi = np.flatnonzero(graphic)
    if qi.size == 0 or gi.size == 0:
        return out
    # (only dots near a graphic's box are probed)
    r = GRAPHIC_NEAR * x
    pi, _ = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[gi] - r, c.y0[gi] - r, c.x1[gi] + r, c.y1[gi] + r, 4 * x)
    qi = qi[np.unique(pi)]
    if qi.size == 0:
        return out
    d = np.maximum(w[qi], h[qi])
    reach = np.array(GRAPHIC_REACH)
    ang = np.arange(8) * (np.pi / 4)
    # (dots, reaches, rays) probe points
    dist = d[:, None, None] * (0.5 + reach[None, :, None])
    py = np.rint(c.cy[qi][:, None, None] + dist * np.sin(ang)[None, None, :]).astype(np.intp)
    px = np.rint(c.cx[qi][:, None, None] + dist * np.cos(ang)[None, None, :]).astype(np.intp)
    hh, ww = c.labels.shape
    inside = (py >= 0) & (py < hh) & (px >= 0) & (px < ww)
    lab = np.zeros(py.shape, np.intp)
    lab[inside] = c.labels[py[inside], px[inside]]
    hit = graphic[lab] & inside
    out[qi] = hit.reshape(qi.size, -1).any(axis=1)
    return out


#: enclosed: the enclosing component is at most this many page x-heights
#: across (a letter, a digit, a code's finder ring; not a table or a frame,
#: whose boxes hold whole paragraphs).
ENCLOSER_MAX_SIZE = 4.0
#: ...give or take this many page x-heights: a piece broken off a faint
#: letter's apex or serif lies on its box's edge.
ENCLOSED_SLACK = 0.1


def enclosed(c: Components, candidates: np.ndarray, x: float) -> np.ndarray:
    """Marks lying inside the box of a bigger component of letter or module
    size (give or take ``ENCLOSED_SLACK``): the dot of a dotted zero, the
    centre of a QR finder pattern, the dot of a bullseye, a piece broken
    off a faint letter. A counter holds no dust worth a digit.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
    x : float
        The page's x-height (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((60, 120), np.uint8)
    >>> ink[10:31, 10:13] = ink[10:13, 10:24] = ink[28:31, 10:24] = ink[10:31, 21:24] = 1  # a '0'
    >>> ink[19:22, 16:19] = 1                                                            # its dot
    >>> ink[40:43, 90:93] = 1                                                            # a speck
    >>> c = label_components(ink)
    >>> enclosed(c, np.array([False, False, True, True]), 21.0).tolist()
    [False, False, True, False]
    """
    out = np.zeros(c.n, bool)
    size = np.maximum(c.width, c.height)
    enc = (size <= ENCLOSER_MAX_SIZE * x) & (np.minimum(c.width, c.height) >= 3)
    enc[0] = False
    ei = np.flatnonzero(enc)
    qi = np.flatnonzero(candidates & (np.arange(c.n) > 0))
    if ei.size == 0 or qi.size == 0:
        return out
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[ei], c.y0[ei], c.x1[ei], c.y1[ei], max(4.0, 2 * x))
    q, e = qi[pi], ei[bi]
    t = ENCLOSED_SLACK * x
    ok = ((q != e) & (c.x0[q] >= c.x0[e] - t) & (c.x1[q] <= c.x1[e] + t) & (c.y0[q] >= c.y0[e] - t)
          & (c.y1[q] <= c.y1[e] + t))
    out[qi] = any_per(pi, ok, qi.size)
    return out


#: dot_over_stem: the stem is an x-height-tall narrow component (an 'i' or
#: 'j' without its dot): at least / at most this many of its line's
#: x-heights tall, at most this many wide (or 2.5 strokes) ...
STEM_HEIGHT = (0.6, 1.7)
STEM_MAX_WIDTH = 0.45
#: ... its top this many line x-heights below the dot's bottom at most
#: (blur shrinks both toward their centres: the gap widens) ...
STEM_MAX_GAP = 0.8
#: ... and the dot centred on it within half the stem's width plus a stroke.


def dot_over_stem(c: Components, candidates: np.ndarray, ls: LineScale, s: float) -> np.ndarray:
    """Small dots straight above a narrow x-height-tall stem: the dot of an
    'i' or a 'j'. On a blurred scan the dot thresholds to a few light
    pixels, too small and too light for the text rules, yet a dotless 'i'
    reads as an 'l' or a '1'.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
        The dots to ask about.
    ls : LineScale
        Per-label line x-height and stroke width (pixels).
    s : float
        The page's stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((60, 120), np.uint8)
    >>> ink[20:41, 10:13] = 1; ink[14:17, 10:13] = 1        # an 'i': stem and dot
    >>> ink[20:41, 60:74] = 1; ink[14:17, 65:68] = 1        # a blob under a dot
    >>> c = label_components(ink)
    >>> dot_over_stem(c, np.array([False, True, False, True, False]), line_scale(c, 21.0, 3.0), 3.0).tolist()
    [False, True, False, False, False]
    """
    out = np.zeros(c.n, bool)
    xl = ls.xheight
    h = c.height.astype(np.float64)
    w = c.width.astype(np.float64)
    stem = (h >= STEM_HEIGHT[0] * xl) & (h <= STEM_HEIGHT[1] * xl) & (w <= np.maximum(STEM_MAX_WIDTH * xl, 2.5 * s))
    stem[0] = False
    si = np.flatnonzero(stem)
    qi = np.flatnonzero(candidates & ~stem & (np.arange(c.n) > 0))
    if si.size == 0 or qi.size == 0:
        return out
    reach = STEM_MAX_GAP * xl[si]
    # (the stem's box grown upward by the gap: the dot's centre falls in it)
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[si] - s, c.y0[si] - reach - w[si], c.x1[si] + s, c.y0[si],
                             max(4.0, float(np.median(xl[si]))))
    q, g = qi[pi], si[bi]
    gap = c.y0[g] - c.y1[q] - 1
    ok = ((gap >= 0) & (gap <= STEM_MAX_GAP * xl[g]) & (np.abs(c.cx[q] - c.cx[g]) <= 0.5 * w[g] + s)
          & (w[q] <= w[g] + 2 * s) & (h[q] <= 0.5 * xl[g]))
    out[qi] = any_per(pi, ok, qi.size)
    return out


#: broken_glyph: pieces at most this many line x-heights apart are one
#: glyph's...
FRAGMENT_GAP = 0.3
#: ...whose pieces together are this many line x-heights tall (a
#: lowercase letter to a capital or figure), at most this wide...
FRAGMENT_HEIGHT = (0.7, 1.6)
FRAGMENT_WIDTH = 1.2
#: ...set in a line: a letter at most this many line x-heights to its left
#: or right, its bottom within ``FRAGMENT_LEVEL`` x-heights of the group's
#: and its height within a factor ``FRAGMENT_MATCH`` of the group's.
FRAGMENT_NEIGHBOUR = 1.2
#: A group of at least this many pieces may be as wide as a word.
FRAGMENT_WORD_PIECES = 4
#: A group of at least this many pieces (crumbs aside) may stand this many
#: line x-heights off its neighbour: a figure alone in a receipt's column.
FRAGMENT_LONE_PIECES = 3
FRAGMENT_LONE_NEIGHBOUR = 3.0
#: A member this share of the group's height tall is a whole glyph.
FRAGMENT_WHOLE = 0.8
FRAGMENT_LEVEL = 0.3
FRAGMENT_MATCH = 1.6


def fragment_groups(c: Components, pieces: np.ndarray, ls: LineScale) -> np.ndarray:
    """Group pieces lying within ``FRAGMENT_GAP`` line x-heights of each
    other (box gaps; labels spread along the pairs until they settle, a
    few vectorised passes, no loop over pieces).

    Returns
    -------
    ndarray of int, shape (c.n,)
        Per label: the smallest label of its group; -1 off ``pieces``.
    """
    group = np.full(c.n, -1, np.intp)
    pi_ = np.flatnonzero(pieces)
    if pi_.size == 0:
        return group
    group[pi_] = pi_
    r = FRAGMENT_GAP * ls.xheight[pi_]
    size = np.maximum(c.width[pi_], c.height[pi_])
    grow = r + size
    a, b = points_in_boxes(c.cx[pi_], c.cy[pi_], c.x0[pi_] - grow, c.y0[pi_] - grow, c.x1[pi_] + grow, c.y1[pi_] + grow,
                           max(4.0, float(np.median(grow)) * 2))
    qa, qb = pi_[a], pi_[b]
    gx = np.maximum(c.x0[qa] - c.x1[qb], c.x0[qb] - c.x1[qa]) - 1
    gy = np.maximum(c.y0[qa] - c.y1[qb], c.y0[qb] - c.y1[qa]) - 1
    near = (qa != qb) & (np.maximum(gx, gy) <= r[b])
    qa, qb = qa[near], qb[near]
    for _ in range(64):
        before = group[qa].copy()
        m = np.minimum(group[qa], group[qb])
        np.minimum.at(group, qa, m)
        np.minimum.at(group, qb, m)
        group[pi_] = group[group[pi_]]
        if np.array_equal(before, group[qa]):
            break
    return group


def broken_glyph(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale,
                 pieces: np.ndarray | None = None) -> np.ndarray:
    """Pieces of one glyph: faint print (a thermal receipt's figure, a worn
    typewriter letter) thresholds to two or three pieces, each the size of a
    speck. Together they are as tall as a letter and stand in a text line
    beside a letter of their height, so they are kept, every piece.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
        The marks to ask about.
    letters : ndarray of bool, shape (c.n,)
        Letters of any size.
    ls : LineScale
    pieces : ndarray of bool, shape (c.n,), optional
        What may be grouped (default: the candidates): the other pieces of
        a broken glyph may be big enough to be kept anyway; a candidate
        outside it (a whole stem) is never grouped.

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((60, 160), np.uint8)
    >>> ink[20:41, 10:13] = ink[20:23, 10:22] = ink[20:41, 19:22] = 1   # an 'n'
    >>> ink[20:23, 34:43] = ink[26:31, 40:43] = 1                      # a '3' in three pieces
    >>> ink[33:41, 40:43] = ink[38:41, 34:40] = 1
    >>> ink[20:41, 55:58] = ink[20:23, 55:67] = ink[20:41, 64:67] = 1   # an 'n'
    >>> ink[50:53, 120:124] = 1                                        # a speck alone
    >>> c = label_components(ink)
    >>> letters = np.array([False, True, False, True, False, False, False])
    >>> broken_glyph(c, ~letters, letters, line_scale(c, 21.0, 3.0, letters)).tolist()
    [False, False, True, False, True, True, False]
    """
    out = np.zeros(c.n, bool)
    pieces = (candidates if pieces is None else pieces) & ~letters
    pieces[0] = False
    group = fragment_groups(c, pieces, ls)
    members = np.flatnonzero(group >= 0)
    if members.size == 0:
        return out
    count = np.bincount(group[members], minlength=c.n)
    # (only pieces that have company)
    members = members[count[group[members]] >= 2]
    if members.size == 0:
        return out
    g = group[members]
    gx0, gy0, gx1, gy1 = group_boxes(c, g, members, c.n)
    # (a group one of whose members spans it is a whole glyph with a mark
    # beside it -- an 'i' and a speck in its period's place --, not pieces)
    tallest = np.zeros(c.n, np.int64)
    np.maximum.at(tallest, g, c.height[members])
    # (pieces that are more than crumbs: half a stroke width squared)
    solid = np.bincount(g, weights=c.area[members] >= 0.5 * ls.stroke[members] ** 2, minlength=c.n)
    roots = np.flatnonzero(count >= 2)
    if roots.size == 0:
        return out
    xl = ls.xheight[roots]
    gh = (gy1[roots] - gy0[roots] + 1).astype(np.float64)
    gw = (gx1[roots] - gx0[roots] + 1).astype(np.float64)
    # (a letter's pieces; or a faded word's, many pieces in a row)
    shaped = ((gh >= FRAGMENT_HEIGHT[0] * xl) & (gh <= FRAGMENT_HEIGHT[1] * xl)
              & ((gw <= FRAGMENT_WIDTH * xl) | (count[roots] >= FRAGMENT_WORD_PIECES)))
    shaped &= tallest[roots] < FRAGMENT_WHOLE * gh
    roots, xl, gh = roots[shaped], xl[shaped], gh[shaped]
    li = np.flatnonzero(letters)
    if roots.size == 0 or li.size == 0:
        return out
    reach = np.where(solid[roots] >= FRAGMENT_LONE_PIECES, FRAGMENT_LONE_NEIGHBOUR, FRAGMENT_NEIGHBOUR) * xl
    # (letters looked up by centre, in the groups' boxes grown by the reach
    # and a wide letter's half width; the gap is checked after)
    half = 0.5 * float(np.max(c.width[li]))
    pb, pa = points_in_boxes(c.cx[li], c.cy[li], gx0[roots] - reach - half, gy0[roots] - 0.5 * gh,
                             gx1[roots] + reach + half, gy1[roots] + 0.5 * gh, max(8.0, float(np.median(xl)) * 2))
    root, let = roots[pa], li[pb]
    gap = np.maximum(c.x0[let] - gx1[root], gx0[root] - c.x1[let]) - 1
    hl = c.height[let].astype(np.float64)
    ok = ((gap >= 0) & (gap <= reach[pa]) & (np.abs(c.y1[let] - gy1[root]) <= FRAGMENT_LEVEL * xl[pa])
          & (hl * FRAGMENT_MATCH >= gh[pa]) & (gh[pa] * FRAGMENT_MATCH >= hl))
    kept_root = np.zeros(c.n, bool)
    kept = any_per(pa, ok, roots.size)
    kept_root[roots[kept]] = True
    out[members] = kept_root[g]
    out &= candidates
    return out


#: like_neighbours: letters whose centre lies within this many line
#: x-heights of a mark's box are its neighbours.
LIKE_REACH = 1.5


def like_neighbours(c: Components, candidates: np.ndarray, letters: np.ndarray, darkest: np.ndarray, paper: float,
                    ls: LineScale, contrast: float = 0.4) -> np.ndarray:
    """A mark as dark as the print right beside it is print of that kind: a
    receipt printed in two tones has whole words in light gray, and their
    minus signs, decimal points and broken-off pieces are lighter than the
    page's dark print but not than their own word.

    The reference is the mean darkest level of the neighbouring letters
    (one light letter among black ones vouches for little); a mark whose
    darkest pixel is within ``contrast`` of the reference-to-paper range is
    claimed.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
        The marks to ask about.
    letters : ndarray of bool, shape (c.n,)
        Letters that are print (not themselves faint).
    darkest : ndarray of int, shape (c.n,)
        Darkest gray level of each component.
    paper : float
        The paper's gray level.
    ls : LineScale
    contrast : float
        Share of the reference-to-paper range.

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((40, 200), np.uint8)
    >>> ink[10:31, 10:13] = ink[10:13, 10:22] = ink[10:31, 19:22] = 1     # an 'n' in light print
    >>> ink[19:22, 26:32] = 1                                           # a light dash beside it
    >>> ink[10:31, 110:113] = ink[10:13, 110:122] = ink[10:31, 119:122] = 1  # an 'n' in black
    >>> ink[19:22, 126:132] = 1                                         # a light dash beside that
    >>> c = label_components(ink)
    >>> darkest = np.array([255, 140, 0, 150, 150])
    >>> letters = np.array([False, True, True, False, False])
    >>> like_neighbours(c, ~letters, letters, darkest, 250.0, line_scale(c, 21.0, 3.0, letters)).tolist()
    [False, False, False, True, False]
    """
    out = np.zeros(c.n, bool)
    qi = np.flatnonzero(candidates & (np.arange(c.n) > 0))
    li = np.flatnonzero(letters)
    if qi.size == 0 or li.size == 0:
        return out
    r = LIKE_REACH * ls.xheight[qi]
    pi, bi = points_in_boxes(c.cx[li], c.cy[li], c.x0[qi] - r, c.y0[qi] - r, c.x1[qi] + r, c.y1[qi] + r,
                             max(8.0, float(np.median(c.height[li])) * 2))
    count = np.bincount(bi, minlength=qi.size)
    has = count > 0
    ref = np.bincount(bi, weights=darkest[li[pi]].astype(np.float64), minlength=qi.size)[has] / count[has]
    ok = np.zeros(qi.size, bool)
    ok[has] = darkest[qi[has]] <= ref + contrast * np.maximum(paper - ref, 0.0)
    out[qi[ok]] = True
    return out


#: letter_piece: a piece at most this many line x-heights (and at least a
#: pixel) above or below a letter, or overlapping its box...
PIECE_GAP = 0.1
#: ...at most this share of letter and piece's joint height...
PIECE_MAX_SHARE = 0.5
#: ...that makes the letter as tall as a letter of its line: the joint top
#: and bottom within this share of the joint height of a letter's whose
#: centre is at most ``PIECE_NEIGHBOUR`` line x-heights beyond them.
PIECE_MATCH = 0.12
PIECE_NEIGHBOUR = 1.5
#: A round blob (this full, this square) is not a broken stroke.
PIECE_ROUND_FILL = 0.7
PIECE_ROUND_ASPECT = 1.4


def letter_piece(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale, s: float) -> np.ndarray:
    """A piece broken off a letter's top or bottom: faint print (a thermal
    receipt's 'C', 'S', '3' or '5') thresholds with its top arc or bar a
    pixel off the rest. The rest is a letter, a little short of its
    neighbours; with the piece it is exactly as tall as a letter beside it,
    so the piece is kept.

    An accent-position speck joins a letter too, but only one as tall as an
    ascender that touches the letter's top and is no wider than it makes the
    same match; round blobs are never pieces.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
        The marks to ask about.
    letters : ndarray of bool, shape (c.n,)
        Whole letters (the ones being kept).
    ls : LineScale
    s : float
        The page's stroke width (pixels): the piece may stand this far out
        of the letter's sides.

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((50, 120), np.uint8)
    >>> ink[10:31, 10:13] = ink[10:13, 10:22] = ink[10:31, 19:22] = 1   # an 'n', capital height
    >>> ink[10:13, 30:42] = 1                                          # a '5' whose top bar broke off
    >>> ink[14:20, 30:33] = ink[18:21, 30:42] = ink[20:31, 39:42] = ink[28:31, 30:42] = 1
    >>> ink[10:31, 50:53] = ink[10:13, 50:62] = ink[10:31, 59:62] = 1   # an 'n'
    >>> ink[14:18, 80:84] = ink[19:31, 80:83] = 1                      # a round speck over a short stem
    >>> c = label_components(ink)
    >>> letters = np.array([False, True, False, True, True, False, True])
    >>> cand = np.array([False, False, True, False, False, True, False])
    >>> letter_piece(c, cand, letters, line_scale(c, 21.0, 3.0, letters), 3.0).tolist()
    [False, False, True, False, False, False, False]
    """
    out = np.zeros(c.n, bool)
    round_ = ((_fill(c) >= PIECE_ROUND_FILL)
              & (np.maximum(c.width, c.height) <= PIECE_ROUND_ASPECT * np.minimum(c.width, c.height)))
    qi = np.flatnonzero(candidates & ~letters & ~round_ & (np.maximum(c.width, c.height) < ls.xheight)
                        & (np.arange(c.n) > 0))
    li = np.flatnonzero(letters)
    if qi.size == 0 or li.size == 0:
        return out
    gap = np.maximum(1.0, PIECE_GAP * ls.xheight[qi])
    reach = float(np.max(gap)) + float(np.max(c.height[qi]))
    # (letters whose box, grown by the gap and a piece's height above and
    # below and a stroke width each side, holds the piece's centre)
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[li] - s, c.y0[li] - reach, c.x1[li] + s, c.y1[li] + reach,
                             max(8.0, float(np.median(c.height[li]))))
    q, ell = qi[pi], li[bi]
    gy = np.maximum(c.y0[ell] - c.y1[q], c.y0[q] - c.y1[ell]) - 1
    uy0 = np.minimum(c.y0[q], c.y0[ell])
    uy1 = np.maximum(c.y1[q], c.y1[ell])
    uh = (uy1 - uy0 + 1).astype(np.float64)
    ok = ((gy <= gap[pi]) & (c.x0[q] >= c.x0[ell] - s) & (c.x1[q] <= c.x1[ell] + s)
          & ((c.y0[q] < c.y0[ell]) | (c.y1[q] > c.y1[ell])) & (c.height[q] <= PIECE_MAX_SHARE * uh))
    k = np.flatnonzero(ok)
    if k.size == 0:
        return out
    q, ell, uy0, uy1, uh = q[k], ell[k], uy0[k], uy1[k], uh[k]
    xl = ls.xheight[q]
    ux0 = np.minimum(c.x0[q], c.x0[ell])
    ux1 = np.maximum(c.x1[q], c.x1[ell])
    # a letter beside them, by centre, on the joint rows
    r = PIECE_NEIGHBOUR * xl
    nb, pa = points_in_boxes(c.cx[li], c.cy[li], ux0 - r, uy0, ux1 + r, uy1, max(8.0, float(np.median(uh)) * 2))
    n, p = li[nb], pa
    tol = PIECE_MATCH * uh[p]
    miss_joint = np.abs(c.y0[n] - uy0[p]) + np.abs(c.y1[n] - uy1[p])
    miss_alone = np.abs(c.y0[n] - c.y0[ell[p]]) + np.abs(c.y1[n] - c.y1[ell[p]])
    match = ((n != ell[p]) & (np.abs(c.y0[n] - uy0[p]) <= tol) & (np.abs(c.y1[n] - uy1[p]) <= tol)
             # (and better than the letter alone: the piece is what it lacked)
             & (miss_joint < miss_alone))
    out[q[any_per(p, match, q.size)]] = True
    return out


#: dash_row: a dash is at least this many times as wide as tall...
DASH_ASPECT = 2.5
#: ...and has at least this many other dashes on its level (centres within
#: a stroke width and a pixel) within this many page x-heights either side.
DASH_ROW_MIN = 3
DASH_ROW_REACH = 4.0


def dash_row(c: Components, candidates: np.ndarray, x: float, s: float, members: np.ndarray | None = None) -> np.ndarray:
    """Dashes in a row at one level: a dashed separator or a rule printed
    faint and broken into pieces (a receipt's ``- - - -`` line), at any
    pitch, which :func:`regular_row` wants steady.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
        The marks to ask about.
    x, s : float
        The page's x-height and stroke width (pixels).
    members : ndarray of bool, shape (c.n,), optional
        What else counts in a row (default: the candidates): the longer
        dashes of the line, kept anyway.

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((40, 300), np.uint8)
    >>> for x0 in (10, 25, 47, 60, 81):
    ...     ink[10:12, x0:x0 + 8] = 1                  # a broken dashed line
    >>> ink[30:32, 200:208] = 1                        # one dash alone
    >>> c = label_components(ink)
    >>> dash_row(c, np.ones(c.n, bool), 20.0, 3.0).tolist()
    [False, True, True, True, True, True, False]
    """
    out = np.zeros(c.n, bool)
    w = c.width.astype(np.float64)
    h = c.height.astype(np.float64)
    shaped = (w >= DASH_ASPECT * h) & (w <= 2 * x)
    # (the row counts every dash, the long ones too; only candidates are
    # claimed)
    dash = (candidates if members is None else members | candidates) & shaped
    dash[0] = False
    di = np.flatnonzero(dash)
    if di.size <= DASH_ROW_MIN:
        return out
    r = DASH_ROW_REACH * x
    lvl = s + 1
    pi, bi = points_in_boxes(c.cx[di], c.cy[di], c.cx[di] - r, c.cy[di] - lvl, c.cx[di] + r, c.cy[di] + lvl,
                             max(8.0, r))
    others = np.bincount(bi[pi != bi], minlength=di.size)
    out[di] = others >= DASH_ROW_MIN
    out &= candidates
    return out


#: beside_letter: the blob is at least this many of its letter's stroke
#: thicknesses across.
BESIDE_MIN_THICKNESS = 0.8


#: beside_letter: a mark in the upper half of a letter's height, after it,
#: may stand this many of the letter's heights off (closing quotes after a
#: period: the period's width and two spaces).
BESIDE_QUOTE_GAP = 0.7
#: ...and its top this many of the letter's heights above the letter's
#: (quotes at capital height after an x-height letter; other marks 0.2).
BESIDE_QUOTE_RISE = 0.6


def _punct_between(c: Components, g: np.ndarray, q: np.ndarray, punct: np.ndarray) -> np.ndarray:
    """Per (letter ``g``, mark ``q``) pair: a mark of ``punct`` stands
    between them, in the lower half of the letter's height (the period or
    comma that closing quotes follow)."""
    out = np.zeros(g.size, bool)
    pi = np.flatnonzero(punct)
    room = np.flatnonzero(c.x0[q] - c.x1[g] >= 2)       # (a mark fits between)
    if pi.size == 0 or room.size == 0:
        return out
    g, q = g[room], q[room]
    h = c.height[g].astype(np.float64)
    _, j = points_in_boxes(c.cx[pi], c.cy[pi], c.x1[g] + 0.5, c.y0[g] + 0.5 * h, c.x0[q] - 0.5,
                           c.y1[g] + 0.35 * h, max(8.0, float(np.median(h))))
    out[room] = any_per(j, np.ones(j.size, bool), room.size)
    return out


def beside_letter(c: Components, candidates: np.ndarray, letters: np.ndarray, gap: float = 0.35,
                  high: np.ndarray | None = None, punct: np.ndarray | None = None) -> np.ndarray:
    """Blobs within a text line, closer to a letter than a word space
    measured in *that letter's* height: a headline's period or colon, a
    minus sign before a price, a bullet -- text, not dust, however big it
    is against the body text.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
    letters : ndarray of bool, shape (c.n,)
        Letters of any size (e.g. :func:`despeckled.clean.lines.letter_candidates`).
    gap : float
        Largest horizontal gap, in the letter's height.
    high : ndarray of bool, shape (c.n,), optional
        Candidates claimed only in the upper half of their letter's height
        (closing quotes after a word's period; not a speck in a period's
        place).
    punct : ndarray of bool, shape (c.n,), optional
        Kept punctuation: a mark in the upper half after a letter, with one
        of these between them low on the line (closing quotes after a
        period or comma), may stand ``BESIDE_QUOTE_GAP`` letter heights
        off and rise ``BESIDE_QUOTE_RISE`` above the letter.

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((120, 300), np.uint8)
    >>> ink[20:80, 20:30] = ink[20:30, 20:60] = ink[45:55, 20:50] = 1   # an 'F', 60 px
    >>> ink[70:80, 75:85] = 1                                           # its period, 15 px off
    >>> ink[70:80, 200:210] = 1                                         # a blob far off
    >>> c = label_components(ink)
    >>> beside_letter(c, np.array([False, False, True, True]), np.array([False, True, False, False])).tolist()
    [False, False, True, False]
    """
    out = np.zeros(c.n, bool)
    li = np.flatnonzero(letters)
    high = np.zeros(c.n, bool) if high is None else high
    qi = np.flatnonzero((candidates | high) & (np.arange(c.n) > 0))
    if li.size == 0 or qi.size == 0:
        return out
    hl = c.height[li].astype(np.float64)
    # (closing quotes after punctuation are looked for further right and higher)
    right, rise = (max(gap, BESIDE_QUOTE_GAP), BESIDE_QUOTE_RISE) if punct is not None else (gap, 0.2)
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[li] - gap * hl - 0.5 * hl, c.y0[li] - rise * hl,
                             c.x1[li] + right * hl + 0.5 * hl, c.y1[li] + 0.2 * hl, max(8.0, float(np.median(hl))))
    q, g = qi[pi], li[bi]
    hgap = np.maximum(c.x0[q] - c.x1[g], c.x0[g] - c.x1[q]) - 1
    # (closing quotes after a word's period or comma, in the upper half of
    # the letter's height, stand that punctuation's width further off)
    upper = c.y1[q] <= c.y0[g] + 0.5 * c.height[g]
    quote = upper & (c.x0[q] > c.x1[g])
    if punct is not None and quote.any():
        sel = np.flatnonzero(quote)
        quote[sel] = _punct_between(c, g[sel], q[sel], punct)
    else:
        quote[:] = False
    reach = np.where(quote, BESIDE_QUOTE_GAP, gap) * c.height[g]
    # (and as high as capitals stand over an x-height letter)
    top = np.where(quote, BESIDE_QUOTE_RISE, 0.2) * c.height[g]
    # (a period is about as thick as its letter's strokes: a speck beside a
    # big letter is much thinner)
    ok = ((q != g) & (hgap <= reach) & (c.area[q] <= c.area[g])
          & (np.minimum(c.width[q], c.height[q]) >= BESIDE_MIN_THICKNESS * c.thickness[g])
          & (c.y0[q] >= c.y0[g] - top) & (c.y1[q] <= c.y1[g] + 0.35 * c.height[g])
          & (candidates[q] | (upper & (hgap >= 0))))
    out[qi] = any_per(pi, ok, qi.size)
    return out


def between_glyphs(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale,
                   gap: float = 0.4, min_size: float = 0.25, dashes_only: bool = True) -> np.ndarray:
    """A dash with a letter close on *both* sides, inside its line's x-band:
    a minus, hyphen or dash in running text ("03-2093", "-1.44" after a
    column's letter), not a speck. Only dashes (at least one and a half
    times as wide as tall) at least ``min_size`` of the line's x-height long
    are claimed: round specks between letters still go.

    Parameters
    ----------
    c : Components
    candidates, letters : ndarray of bool, shape (c.n,)
    ls : LineScale
    gap : float
        Largest gap on each side, in the line's x-height.
    min_size : float
        Smallest mark claimed (its larger side), in the line's x-height.
    dashes_only : bool
        Claim dashes only (default); otherwise any mark (an asterisk or a
        plus wedged into "7.90*3": ask with a tighter ``gap``).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((40, 80), np.uint8)
    >>> ink[10:30, 10:13] = ink[10:13, 10:20] = 1       # a letter
    >>> ink[18:22, 26:32] = 1                           # a dash between
    >>> ink[10:30, 38:41] = ink[10:13, 38:48] = 1       # a letter
    >>> c = label_components(ink)
    >>> letters = np.array([False, True, True, False])
    >>> between_glyphs(c, ~letters, letters, line_scale(c, 20.0, 3.0, letters)).tolist()
    [False, False, False, True]
    """
    out = np.zeros(c.n, bool)
    li = np.flatnonzero(letters)
    size = np.maximum(c.width, c.height)
    dash = c.width >= 1.5 * c.height if dashes_only else np.ones(c.n, bool)
    qi = np.flatnonzero(candidates & ~letters & dash & (size >= min_size * ls.xheight) & (np.arange(c.n) > 0))
    if li.size == 0 or qi.size == 0:
        return out
    r = gap * ls.xheight[qi]
    # letters whose box reaches the mark's row, within the gap on either side
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[li] - 2 * float(np.max(r)) - float(np.max(size[qi])), c.y0[li],
                             c.x1[li] + 2 * float(np.max(r)) + float(np.max(size[qi])), c.y1[li],
                             max(8.0, float(np.median(c.height[li]))))
    q, g = qi[pi], li[bi]
    rq = r[pi]
    left = (c.x1[g] < c.x0[q]) & (c.x0[q] - c.x1[g] - 1 <= rq)
    right = (c.x0[g] > c.x1[q]) & (c.x0[g] - c.x1[q] - 1 <= rq)
    out[qi] = any_per(pi, left, qi.size) & any_per(pi, right, qi.size)
    return out


#: between_glyphs for any mark, not only dashes: at most this many line
#: x-heights from a glyph on each side, at least this many across.
WEDGED_GAP = 0.4
WEDGED_MIN_SIZE = 0.35


#: minus_sign: a bar at most this many line stroke widths thick (its
#: ``thickness``) and this many tall...
MINUS_MAX_THICKNESS = 1.5
MINUS_MAX_HEIGHT = 2.0
#: ...between these many of the line's x-heights long...
MINUS_MIN_LENGTH = 0.3
MINUS_MAX_LENGTH = 1.5
#: A bar from ``MINUS_SHORT`` up to ``MINUS_MIN_LENGTH`` is a minus only with
#: its centre in this band above the baseline (x-heights) and a glyph at
#: most ``MINUS_SHORT_REACH`` away.
MINUS_SHORT = 0.22
MINUS_SHORT_BAND = (0.25, 0.6)
MINUS_SHORT_REACH = 0.5
#: ...with a glyph at most this many x-heights to its left or right.
MINUS_REACH = 1.0


def minus_sign(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale) -> np.ndarray:
    """A solid horizontal bar about one stroke thick, ``MINUS_MIN_LENGTH``
    to ``MINUS_MAX_LENGTH`` of its line's x-height long, in the middle band
    of a text line (between the baseline and the x-height line) with a
    glyph within ``MINUS_REACH`` x-heights on *one* side: the minus of
    "-0.02", a hyphen ending a line, a dash before a figure. Deleting it
    changes an amount; :func:`between_glyphs` wants letters on both sides
    and a slimmer dash, so a bold minus after a colon and a word space
    slips past it.

    The baseline is the neighbouring glyph's bottom; the bar's centre lies
    between 0.15 and 0.8 x-heights above it and the whole bar within the
    x-band.

    Parameters
    ----------
    c : Components
    candidates, letters : ndarray of bool, shape (c.n,)
    ls : LineScale
        Per-label line x-height and stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((40, 120), np.uint8)
    >>> ink[18:22, 10:19] = 1                                               # a minus...
    >>> ink[10:30, 21:24] = ink[10:30, 33:36] = ink[10:13, 21:36] = ink[27:30, 21:36] = 1  # ...before a '0'
    >>> ink[18:22, 90:99] = 1                                               # the same bar alone
    >>> c = label_components(ink)
    >>> letters = np.array([False, True, False, False])                    # (labels in raster order)
    >>> minus_sign(c, ~letters, letters, line_scale(c, 20.0, 3.0, letters)).tolist()
    [False, False, True, False]
    """
    out = np.zeros(c.n, bool)
    w = c.width.astype(np.float64)
    h = c.height.astype(np.float64)
    bar = ((w >= 1.2 * h) & (w >= MINUS_SHORT * ls.xheight) & (w <= MINUS_MAX_LENGTH * ls.xheight)
           & (c.thickness <= MINUS_MAX_THICKNESS * ls.stroke) & (h <= MINUS_MAX_HEIGHT * ls.stroke)
           & (_fill(c) >= 0.6))
    li = np.flatnonzero(letters)
    qi = np.flatnonzero(candidates & ~letters & bar & (np.arange(c.n) > 0))
    if li.size == 0 or qi.size == 0:
        return out
    reach = MINUS_REACH * float(np.max(ls.xheight[qi])) + float(np.max(w[qi]))
    # letters whose rows hold the bar's centre, near enough on either side
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[li] - reach, c.y0[li], c.x1[li] + reach, c.y1[li],
                             max(8.0, float(np.median(h[li]))))
    q, g = qi[pi], li[bi]
    xq = ls.xheight[q]
    gap = np.maximum(c.x0[q] - c.x1[g], c.x0[g] - c.x1[q]) - 1
    base = c.y1[g].astype(np.float64)
    short = w[q] < MINUS_MIN_LENGTH * xq
    ok = ((gap >= 0) & (gap <= MINUS_REACH * xq)
          & (c.cy[q] >= base - 0.8 * xq) & (c.cy[q] <= base - 0.15 * xq)
          & (c.y0[q] >= base - 1.1 * xq) & (c.y1[q] <= base))
    # (a short bar only at mid-line and close: on a line of figures the
    # x-height read is the figures' height, and a minus is short beside it;
    # a speck in a period's place sits low)
    ok &= ~short | ((c.cy[q] >= base - MINUS_SHORT_BAND[1] * xq) & (c.cy[q] <= base - MINUS_SHORT_BAND[0] * xq)
                    & (gap <= MINUS_SHORT_REACH * xq))
    out[qi] = any_per(pi, ok, qi.size)
    return out


#: colon_on_line: each dot at most this many of the line's x-heights across...
COLON_MAX_DOT = 0.5
#: ...the pair spanning between these many x-heights...
COLON_MIN_SPAN = 0.5
COLON_MAX_SPAN = 1.3
#: ...with a glyph of the line within this many of its heights sideways
#: (receipts set "Total   :" with wide, varying gaps).
COLON_REACH = 4.0


def colon_on_line(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale) -> np.ndarray:
    """Two similar round dots stacked vertically within the x-height band of
    a text line -- the lower on the baseline, the upper near the x-height
    line --, whatever the gap to the preceding word: a colon ("Sub Total :").

    :func:`stacked_pair` asks for dots equal to a quarter; at receipt
    resolution a colon's dots are 3 or 4 pixels across, and one pixel of
    sampling is a third of a dot. Here the dots need agree only to within
    half the line's stroke width (or a quarter of their size), and the
    line's own glyphs place them.

    Parameters
    ----------
    c : Components
    candidates, letters : ndarray of bool, shape (c.n,)
    ls : LineScale
        Per-label line x-height and stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((40, 160), np.uint8)
    >>> ink[10:30, 10:13] = ink[10:13, 10:22] = ink[27:30, 10:22] = ink[10:30, 19:22] = 1  # an 'o'
    >>> ink[11:15, 50:53] = ink[26:30, 50:54] = 1       # a colon a word space off
    >>> ink[11:15, 130:133] = ink[26:30, 130:134] = 1   # the same dots off any line
    >>> c = label_components(ink)
    >>> letters = np.array([False, True, False, False, False, False])    # (labels in raster order)
    >>> colon_on_line(c, ~letters, letters, line_scale(c, 20.0, 3.0, letters)).tolist()
    [False, False, True, False, True, False]
    """
    out = np.zeros(c.n, bool)
    h_all = c.height.astype(np.float64)
    w_all = c.width.astype(np.float64)
    dot = ((np.maximum(h_all, w_all) <= COLON_MAX_DOT * ls.xheight) & (np.minimum(h_all, w_all) >= 0.5 * ls.stroke)
           & (w_all <= 2.0 * h_all) & (h_all <= 2.0 * w_all) & (_fill(c) >= 0.5))
    mi = np.flatnonzero(candidates & ~letters & dot & (np.arange(c.n) > 0))
    li = np.flatnonzero(letters)
    if mi.size < 2 or li.size == 0:
        return out
    h, w = h_all[mi], w_all[mi]
    xm = ls.xheight[mi]
    # b's centre below a, within the widest span a colon of a's line has
    pb, pa = points_in_boxes(c.cx[mi], c.cy[mi], c.x0[mi] - 0.5 * w, c.y1[mi] + 0.5, c.x1[mi] + 0.5 * w,
                             c.y0[mi] + COLON_MAX_SPAN * xm, float(np.median(xm)))
    a, b = pa, pb
    a_, b_ = mi[a], mi[b]
    tol_h = np.maximum(0.25 * np.maximum(h[a], h[b]), 0.5 * ls.stroke[a_])
    tol_w = np.maximum(0.25 * np.maximum(w[a], w[b]), 0.5 * ls.stroke[a_])
    area_r = c.area[a_] / np.maximum(c.area[b_], 1)
    gap = c.y0[b_] - c.y1[a_] - 1
    span = (c.y1[b_] - c.y0[a_] + 1).astype(np.float64)
    pair = ((a != b) & (np.abs(h[a] - h[b]) <= tol_h) & (np.abs(w[a] - w[b]) <= tol_w)
            & (((area_r >= 0.6) & (area_r <= 1.67)) | (np.abs(c.area[a_] - c.area[b_]) <= 1))
            & (gap >= 0.5 * np.minimum(h[a], h[b]))
            & (span >= COLON_MIN_SPAN * xm[a]) & (span <= COLON_MAX_SPAN * xm[a])
            & (np.abs(c.cx[a_] - c.cx[b_]) <= 0.5 * np.maximum(w[a], w[b]) + 0.5 * ls.stroke[a_]))
    a_, b_ = a_[pair], b_[pair]
    if a_.size == 0:
        return out
    # the pair on a text line: a glyph beside it whose rows hold the pair's
    # middle, its bottom (the baseline) near the lower dot's bottom, the
    # upper dot no higher than the x-band's top
    hl = h_all[li]
    mx = 0.5 * (c.cx[a_] + c.cx[b_])
    my = 0.5 * (c.y0[a_] + c.y1[b_])
    pi, bi = points_in_boxes(mx, my, c.x0[li] - COLON_REACH * hl, c.y0[li], c.x1[li] + COLON_REACH * hl, c.y1[li],
                             max(8.0, float(np.median(hl))))
    pa_, pb_, g = a_[pi], b_[pi], li[bi]
    xq = ls.xheight[pa_]
    on_line = ((np.abs(c.y1[pb_] - c.y1[g]) <= 0.3 * xq) & (c.y0[pa_] >= c.y1[g] - 1.3 * xq))
    ok = any_per(pi, on_line, a_.size)
    out[a_[ok]] = True
    out[b_[ok]] = True
    return out


#: point_between: a dot at most this many of its line's x-heights across...
POINT_MAX_SIZE = 0.35
#: ...and at most this many of its line's stroke widths squared: larger
#: points are the rules' (a period beside its letter), and a speck of that
#: size in a word space is not put back...
POINT_MAX_AREA = 1.0
#: ...its longer side at least this many of the line's stroke widths (a
#: printed point is as wide as the strokes, less a pixel of sampling)...
POINT_MIN_SIDE = 0.9
#: ...at most this many times as long as wide (a light point thresholds to
#: a sliver a pixel wide and three tall)...
POINT_ASPECT = 3.0
#: ...and, where the rules placed at least POINT_REFERENCE periods on the
#: page, at least POINT_LIKE of their lower quartile's area...
POINT_REFERENCE = 5
POINT_LIKE = 0.33
#: ...with a glyph at most this many x-heights off on each side (a
#: monospaced point sits mid-cell: half a digit's advance each side), the
#: two gaps within ``POINT_SKEW`` x-heights of each other (a speck after a
#: word, in the word space, is close to one side only)...
POINT_GAP = 0.6
POINT_SKEW = 0.25
#: ...its bottom within this many x-heights (or a pixel) of both glyphs'.
POINT_BASELINE = 0.2


def like_periods(c: Components, periods: np.ndarray | None) -> np.ndarray:
    """Components at least ``POINT_LIKE`` of the area of the page's own
    smaller periods (the lower quartile: a receipt's light decimal points
    are among its smallest marks), all of them when the page has fewer
    than ``POINT_REFERENCE`` periods or none is given.

    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((10, 60), np.uint8)
    >>> for x in range(0, 50, 8): ink[2:5, x:x + 3] = 1    # seven periods of 9 px
    >>> ink[8, 55] = ink[8, 57:59] = 1                      # 1 and 2 px (3 is a third)
    >>> c = label_components(ink)
    >>> like_periods(c, c.area == 9).tolist()
    [False, True, True, True, True, True, True, True, False, False]
    """
    if periods is None or np.count_nonzero(periods) < POINT_REFERENCE:
        return np.ones(c.n, bool)
    return c.area >= POINT_LIKE * float(np.percentile(c.area[periods], 25))


def point_between(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale) -> np.ndarray:
    """A dot on the baseline wedged between two glyphs of its line: the
    decimal point of "15.54", the separators of "10.2.18".

    At a receipt's resolution, in a thin font, such a point is two or three
    pixels -- smaller than the tiny rule's floor, the size of a speck. Only
    where it lies tells them apart: a glyph close on *both* sides, and its
    bottom on the bottom line both glyphs share. A speck at the end of a
    word, where a sentence's period would be, is not claimed.

    Parameters
    ----------
    c : Components
    candidates, letters : ndarray of bool, shape (c.n,)
        Marks asked about (e.g. the print-dark ones being removed) and the
        page's letters.
    ls : LineScale
        Per-label line x-height and stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((40, 120), np.uint8)
    >>> ink[10:30, 10:13] = ink[10:13, 10:20] = 1       # a glyph
    >>> ink[27:30, 23:25] = 1                           # a point on the baseline
    >>> ink[10:30, 30:33] = ink[10:13, 30:40] = 1       # a glyph
    >>> ink[27:30, 60:62] = 1                           # the same point, a word off
    >>> c = label_components(ink)
    >>> letters = c.height >= 15
    >>> point_between(c, ~letters, letters, line_scale(c, 20.0, 3.0, letters)).tolist()
    [False, False, False, True, False]
    """
    out = np.zeros(c.n, bool)
    li = np.flatnonzero(letters)
    h, w = c.height.astype(np.float64), c.width.astype(np.float64)
    dot = ((np.maximum(h, w) <= POINT_MAX_SIZE * ls.xheight) & (np.maximum(h, w) >= POINT_MIN_SIDE * ls.stroke)
           & (c.area <= POINT_MAX_AREA * ls.stroke ** 2) & (w <= POINT_ASPECT * h) & (h <= POINT_ASPECT * w))
    qi = np.flatnonzero(candidates & ~letters & dot & (np.arange(c.n) > 0))
    if li.size == 0 or qi.size == 0:
        return out
    r = POINT_GAP * ls.xheight[qi]
    reach = float(np.max(r)) + float(np.max(w[qi]))
    # glyphs whose rows hold the point's bottom, within reach on either side
    pi, bi = points_in_boxes(c.cx[qi], c.y1[qi].astype(np.float64), c.x0[li] - reach, c.y0[li], c.x1[li] + reach,
                             c.y1[li] + np.maximum(1.0, POINT_BASELINE * ls.xheight[li]),
                             max(8.0, float(np.median(c.height[li]))))
    q, g = qi[pi], li[bi]
    rq = r[pi]
    base = np.abs(c.y1[q] - c.y1[g]) <= np.maximum(1.0, POINT_BASELINE * ls.xheight[q])
    gap_l = (c.x0[q] - c.x1[g] - 1).astype(np.float64)
    gap_r = (c.x0[g] - c.x1[q] - 1).astype(np.float64)
    left = base & (c.x1[g] < c.x0[q]) & (gap_l <= rq)
    right = base & (c.x0[g] > c.x1[q]) & (gap_r <= rq)
    # the nearest glyph on each side
    near_l = np.full(qi.size, np.inf)
    near_r = np.full(qi.size, np.inf)
    np.minimum.at(near_l, pi[left], gap_l[left])
    np.minimum.at(near_r, pi[right], gap_r[right])
    both = np.isfinite(near_l) & np.isfinite(near_r)
    out[qi[both]] = np.abs(near_l[both] - near_r[both]) <= POINT_SKEW * ls.xheight[qi[both]]
    return out


#: ring_beside_stroke: a ring at least this many of its line's x-heights
#: across...
RING_MIN_SIZE = 0.25
#: ...and at most this many (a letter-sized ring, an 'o' or '0', is a
#: glyph too)...
RING_MAX_SIZE = 1.5
#: ...drawn with a stroke at most this many line strokes thick...
RING_MAX_THICKNESS = 1.4
#: ...filling at most this share of its box (a ring of even stroke: about
#: a half)...
RING_MAX_FILL = 0.68
#: ...with a glyph's box at most this many x-heights off.
RING_REACH = 0.3


def ring_beside_stroke(c: Components, candidates: np.ndarray, letters: np.ndarray, ls: LineScale) -> np.ndarray:
    """A small ring drawn with a letter's stroke, touching or next to a
    glyph: the circles of a '%' or '‰' that came apart from the slash, a
    degree sign by its figure.

    A speck is a solid blob, and a ring that forms by chance (a porous
    clump) is drawn with blotches, not an even stroke as thin as the
    print's. Both conditions -- one counter (filling the ring's box at most
    ``RING_MAX_FILL``), and walls a stroke thick -- must hold, and a glyph
    of the line, or a stroke half an x-height long, must be beside it.

    Parameters
    ----------
    c : Components
    candidates, letters : ndarray of bool, shape (c.n,)
    ls : LineScale
        Per-label line x-height and stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> from despeckled.clean.lines import line_scale
    >>> ink = np.zeros((40, 140), np.uint8)
    >>> ink[8:32, 10:13] = ink[8:11, 10:20] = 1             # a glyph
    >>> ink[8:18, 22:32] = 1; ink[10:16, 24:30] = 0         # ... and a ring by it
    >>> ink[8:18, 60:70] = 1; ink[10:16, 62:68] = 0         # the same ring far off
    >>> ink[20:28, 100:108] = 1                             # a solid blob by a glyph
    >>> ink[8:32, 110:113] = 1
    >>> c = label_components(ink)
    >>> letters = c.height >= 20
    >>> ring_beside_stroke(c, ~letters, letters, line_scale(c, 24.0, 3.0, letters)).tolist()
    [False, False, True, False, False, False]
    """
    out = np.zeros(c.n, bool)
    h, w = c.height.astype(np.float64), c.width.astype(np.float64)
    size = np.maximum(h, w)
    ok = (candidates & (size >= RING_MIN_SIZE * ls.xheight) & (size <= RING_MAX_SIZE * ls.xheight)
          & (c.thickness <= RING_MAX_THICKNESS * ls.stroke) & (w <= 2.0 * h) & (h <= 2.0 * w))
    ok[0] = False
    # (beside a letter, or a stroke half a letter long: a '%''s slash at
    # low resolution is no letter)
    stroke = ((size >= 0.5 * ls.xheight) & (c.thickness <= RING_MAX_THICKNESS * ls.stroke)
              & (size >= STROKE_BUILT * c.thickness))
    li = np.flatnonzero(letters | stroke)
    if not ok.any() or li.size == 0:
        return out
    # one counter, a real one: a porous clump's pinholes leave it nearly
    # solid (a stroke ring's fill is about a half)
    ok &= _fill(c) <= RING_MAX_FILL
    ok &= shape_measures(c, ok).holes == 1
    qi = np.flatnonzero(ok)
    if qi.size == 0:
        return out
    r = RING_REACH * ls.xheight[li]
    half = 0.5 * float(np.max(size[qi]))
    pi, bi = points_in_boxes(c.cx[qi], c.cy[qi], c.x0[li] - r - half, c.y0[li] - r - half,
                             c.x1[li] + r + half, c.y1[li] + r + half,
                             max(8.0, float(np.median(c.height[li]))))
    # (not itself: a ring may pass for a letter)
    pi = pi[li[bi] != qi[pi]]
    out[qi[np.unique(pi)]] = True
    return out


#: in_frame: a mark at least this share of its frame's height is an entry.
FRAME_ENTRY = 1.0 / 3.0
#: in_frame, a table's cell: rays from the mark's box up and down meet the
#: same ruled component within this many x-heights (a table's row), left
#: and right within the second (a column of right-aligned figures is wide).
CELL_REACH = (3.0, 20.0)
#: Only marks at least this many x-heights tall are asked (a figure or a
#: letter; a speck is not, and the rays cost time).
CELL_MIN_HEIGHT = 0.5


def in_cell(c: Components, labels: np.ndarray, x: float, min_share: float = FRAME_ENTRY) -> np.ndarray:
    """Which of ``labels`` stand in a cell of a ruled table: a ray from the
    middle of each side of its box meets, within :data:`CELL_REACH`
    x-heights (up and down; left and right) and before any other ink, one
    and the same component on all four sides, and the mark is at least
    ``min_share`` of the cell's height (a figure alone in its cell; not a
    speck in a tall box).

    Parameters
    ----------
    c : Components
    labels : ndarray of int, shape (K,)
    x : float
        The page's x-height (pixels).
    min_share : float

    Returns
    -------
    ndarray of bool, shape (K,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((40, 120), np.uint8)
    >>> ink[2, :] = ink[37, :] = ink[:, 2] = ink[:, 60] = ink[:, 117] = 1  # a table row, two cells
    >>> ink[12:28, 25:35] = 1                                            # a figure in the first
    >>> ink[30:32, 90:92] = 1                                            # a speck in the second
    >>> c = label_components(ink)
    >>> in_cell(c, np.array([2, 3]), 12.0).tolist()
    [True, False]
    """
    K = labels.size
    if K == 0:
        return np.zeros(0, bool)
    H, W = c.labels.shape
    rv, rh = (max(1, int(np.ceil(r * x))) for r in CELL_REACH)
    sv, sh = np.arange(1, rv + 1), np.arange(1, rh + 1)
    x0, y0, x1, y1 = c.x0[labels], c.y0[labels], c.x1[labels], c.y1[labels]
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    rays = ((np.broadcast_to(cy[:, None], (K, rh)), x0[:, None] - sh),      # left
            (np.broadcast_to(cy[:, None], (K, rh)), x1[:, None] + sh),      # right
            (y0[:, None] - sv, np.broadcast_to(cx[:, None], (K, rv))),      # up
            (y1[:, None] + sv, np.broadcast_to(cx[:, None], (K, rv))))      # down
    hits, dists = [], []
    for rows, cols in rays:
        inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
        lab = np.where(inside, c.labels[np.clip(rows, 0, H - 1), np.clip(cols, 0, W - 1)], 0)
        first = np.argmax(lab > 0, axis=1)        # (0 when the ray meets nothing: its hit is then 0)
        hits.append(lab[np.arange(K), first])
        dists.append(first + 1)
    left, right, up, down = hits
    same = (left > 0) & (left == right) & (left == up) & (left == down) & (left != labels)
    cell = (y1 + dists[3]) - (y0 - dists[2]) - 1  # the cell's inner height, between the up and down hits
    return same & ((y1 - y0 + 1) >= min_share * cell)


def in_frame(c: Components, candidates: np.ndarray, x: float, s: float) -> np.ndarray:
    """A mark a third of its frame's height or more inside a form's frame:
    the character in a one-character box, a checkbox's tick or cross; or in
    a ruled table's cell (:func:`in_cell`): a figure alone in its cell.

    A form is filled in to be read: what stands in its boxes is the data.
    The frames are the components :func:`despeckled.clean.scale.frames`
    finds (boxes holding a mark a third their height); a speck smaller than
    that in a box still goes.

    Parameters
    ----------
    c : Components
    candidates : ndarray of bool, shape (c.n,)
    x, s : float
        The page's x-height and stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((60, 140), np.uint8)
    >>> ink[5:50, 5:50] = 1; ink[8:47, 8:47] = 0          # a character box...
    >>> ink[15:37, 20:34] = 1                             # ... holding a bold figure
    >>> ink[40:42, 40:42] = 1                             # ... and a speck
    >>> ink[15:37, 90:104] = 1                            # the same figure off any box
    >>> c = label_components(ink)
    >>> in_frame(c, c.area < 400, 20.0, 3.0).tolist()      # (labels in raster order)
    [False, False, True, False, False]
    """
    out = np.zeros(c.n, bool)
    cand = frame_candidates(c, x, s)
    qi = np.flatnonzero(candidates & (np.arange(c.n) > 0))
    out[qi] = framed(c, cand[frames(c, cand)], qi, FRAME_ENTRY)
    rest = qi[~out[qi] & (c.height[qi] >= CELL_MIN_HEIGHT * x)]
    out[rest] = in_cell(c, rest, x)
    return out


#: The guards in the order they are asked; the first that claims a
#: component is recorded as the reason it was kept.
GUARD_NAMES = ("glyph_shaped", "stacked_pair", "regular_row", "in_dark_field", "inside_block", "beside_letter", "between_glyphs",
               "minus_sign", "colon_on_line", "beside_graphic", "enclosed", "dot_over_stem", "broken_glyph", "dash_row",
               "letter_piece", "point_between", "ring_beside_stroke", "in_frame")


def guard_code(claims: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per label: 0 when no guard claims it, else ``1 +`` the index in
    :data:`GUARD_NAMES` of the first guard that does.

    >>> guard_code({"regular_row": np.array([False, True, True]),
    ...             "glyph_shaped": np.array([False, False, True])}, 3).tolist()
    [0, 3, 1]
    """
    code = np.zeros(n, np.uint8)
    for k in range(len(GUARD_NAMES) - 1, -1, -1):
        claim = claims.get(GUARD_NAMES[k])
        if claim is not None:
            code[claim] = k + 1
    code[0] = 0
    return code


__all__ = ["GUARD_NAMES", "glyph_shaped", "shape_measures", "Shape", "guard_code", "in_dark_field", "print_dark", "regular_row",
           "stacked_pair", "beside_letter", "between_glyphs", "minus_sign", "colon_on_line", "beside_graphic", "enclosed", "dot_over_stem", "broken_glyph", "dash_row", "letter_piece", "point_between", "like_periods", "ring_beside_stroke", "in_frame", "in_cell", "like_neighbours", "guard_removals", "Guarded",
           "PRINT_CONTRAST", "inside_block", "guard_decision"]


#: Components under this many stroke widths squared are crumbs to the
#: guards that keep marks for where they lie (enclosed, dot_over_stem,
#: broken_glyph).
CRUMB_AREA = 0.3


#: print_dark's share of the glyph-to-paper range: a little wider than the
#: faint rule's, so print judged faint against stroke cores (a page whose
#: darkest pixels are a black bar) is vouched for by its own glyphs, while
#: show-through -- far lighter than the page's glyphs -- still goes.
PRINT_CONTRAST = 0.4


class Guarded(NamedTuple):
    """What the guards claim on one page (see :func:`guard_removals`).

    Attributes
    ----------
    code : ndarray of uint8, shape (n,)
        Per label: 0, or ``1 +`` the index in :data:`GUARD_NAMES` of the
        guard that vetoes removing it as a speck or dust.
    faint_ok : ndarray of bool, shape (n,)
        Labels that must not be removed as faint (show-through) either.
    """

    code: np.ndarray
    faint_ok: np.ndarray


def guard_removals(c: Components, x: float, s: float, removing: np.ndarray, dust: np.ndarray,
                   darkest: np.ndarray, paper: float, faint_level: float | None = None,
                   guessed: bool = False, periods: np.ndarray | None = None) -> Guarded:
    """Ask every guard about a page's components.

    Parameters
    ----------
    c : Components
    x, s : float
        The page's x-height and stroke width (pixels).
    removing : ndarray of bool, shape (c.n,)
        What the rules want to remove as specks or dust.
    dust : ndarray of bool, shape (c.n,)
        The part of it removed as dust (blobs the size of letters).
    darkest : ndarray of int, shape (c.n,)
        Darkest gray level of each component.
    paper : float
        The paper's gray level.
    faint_level : float, optional
        The faint rule's level: a component with no pixel at least this
        dark is faint. When given, a small faint mark as dark as the print
        letters beside it (:func:`like_neighbours`) is spared.
    guessed : bool
        The x-height is the resolution's guess, not measured: a glyph may be
        as small as ``GLYPH_MIN_HEIGHT_GUESSED`` of it.
    periods : ndarray of bool, shape (c.n,), optional
        The periods and commas the rules placed: where a page has
        ``POINT_REFERENCE`` of them, a point between glyphs
        (:func:`point_between`) must be at least ``POINT_LIKE`` of their
        lower quartile's area -- a fleck in a word space is smaller than
        the page's own periods.

    Returns
    -------
    Guarded

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((60, 120), np.uint8)
    >>> ink[10:31, 10:13] = ink[10:13, 10:24] = ink[28:31, 10:24] = ink[10:31, 21:24] = 1  # a lone '0'
    >>> ink[50:52, 100:102] = 1                                                          # a speck
    >>> c = label_components(ink)
    >>> g = guard_removals(c, 21.0, 3.0, np.array([False, True, True]), np.array([False, True, False]),
    ...                    np.array([255, 20, 20]), 250.0)
    >>> [GUARD_NAMES[k - 1] if k else None for k in g.code]
    [None, 'glyph_shaped', None]
    """
    letters = letter_candidates(c, x, s)
    ls = line_scale(c, x, s, letters)
    size = np.maximum(c.width, c.height)
    small = size < ls.xheight
    dotlike = small & (c.area >= 0.6 * s * s)
    dark = print_dark(darkest, letters, paper, PRINT_CONTRAST)
    # (crumbs: a third of a stroke width squared, a pixel or two -- no dot,
    # no piece of a glyph worth keeping on its own)
    crumb = c.area < CRUMB_AREA * s * s
    claims = {
        "glyph_shaped": glyph_shaped(c, ls, x, s, removing, guessed),
        "stacked_pair": stacked_pair(c, removing & dotlike),
        "regular_row": regular_row(c, dotlike | (c.area <= 0.3 * x * x)),
        "in_dark_field": in_dark_field(c, x),
        # (asked of every small component: a picture's faint hatching is
        # judged by the faint rule after the guards)
        "inside_block": inside_block(c, x, small | removing),
        # (and, in the upper half of a letter's height, comma-shaped marks
        # -- taller than wide: closing quotes after a word's period)
        "beside_letter": beside_letter(c, dust, letters, high=removing & small & dark & (c.height >= 1.3 * c.width),
                                       punct=small & ~removing & ~crumb),
        # (a dash a word space off either side; any other mark wedged in
        # tight: the asterisk of "7.90*3")
        "between_glyphs": (between_glyphs(c, small & removing, letters, ls)
                           | between_glyphs(c, small & removing & (c.width < 1.5 * c.height), letters, ls, gap=WEDGED_GAP,
                                            min_size=WEDGED_MIN_SIZE, dashes_only=False)),
        "minus_sign": minus_sign(c, small & removing, letters, ls),
        # (either dot may have been kept by a rule: both are asked)
        # (and points too small for the rules, as dark as the print: a
        # thin font's colon at receipt resolution is two or three pixels)
        "colon_on_line": colon_on_line(c, dotlike | (small & removing & dark), letters, ls),
        "beside_graphic": beside_graphic(c, removing & small & dark, letters, x),
        "enclosed": enclosed(c, removing & small & ~crumb, x),
        "dot_over_stem": dot_over_stem(c, removing & small & ~crumb, ls, s),
        "dash_row": dash_row(c, small & ~crumb, x, s, ~crumb),
        # (letters: whole ones, the ones being kept)
        "letter_piece": letter_piece(c, removing & small & ~crumb, letters & ~removing, ls, s),
        # (points too small for the rules' marks, as dark as the print; no
        # crumbs: the fleck in a tight word space is a fraction of a stroke)
        "point_between": point_between(c, removing & small & dark & ~crumb & like_periods(c, periods), letters, ls),
        "ring_beside_stroke": ring_beside_stroke(c, removing & small & ~crumb, letters, ls),
        "in_frame": in_frame(c, removing, x, s),
        # (asked of every small mark: faint pieces are judged after the
        # guards; pieces: no bigger than a glyph, and no whole stem -- an
        # 'i', an 'l', a '1' -- that a speck in its period's place would join)
        "broken_glyph": broken_glyph(c, small, letters, ls,
                                     (size <= FRAGMENT_HEIGHT[1] * ls.xheight)
                                     & ~((c.height >= 0.9 * ls.xheight) & (c.width <= 0.4 * ls.xheight))),
    }
    code = guard_code(claims, c.n)
    code[~removing] = 0
    # faint: vouched for by the page's glyphs' darkness (glyph-sized only: a
    # letter or a piece of one -- faded print breaks into pieces half a
    # letter tall --, not a speck of lighter grime), or claimed by a guard
    # that places marks whatever their darkness
    faint_ok = dark & (size >= 0.5 * np.minimum(ls.xheight, x))
    faint_ok |= (claims["in_dark_field"] | claims["stacked_pair"] | claims["colon_on_line"] | claims["broken_glyph"]
                 | claims["dot_over_stem"] | claims["regular_row"] | claims["dash_row"] | claims["inside_block"]
                 | claims["letter_piece"])
    if faint_level is not None:
        # (light print: a mark as dark as the non-faint letters beside it)
        faint_ok |= like_neighbours(c, small & (darkest > faint_level), letters & (darkest <= faint_level), darkest,
                                    paper, ls, PRINT_CONTRAST)
    return Guarded(code, faint_ok)


def guard_decision(c: Components, x: float, s: float, dec: Decision, darkest: np.ndarray, paper: float,
                   faint_level: float | None = None, guessed: bool = False) -> Decision:
    """The rules' verdicts with every removal put to the guards: what a
    guard claims is kept, credited to that guard, and the removing rule it
    overruled is recorded (``Decision.overruled``); ``Decision.faint_ok``
    says which labels the faint rule must spare.

    Parameters
    ----------
    c : Components
    x, s : float
        The page's x-height and stroke width (pixels).
    dec : Decision
        From :func:`despeckled.clean.rules.classify`.
    darkest : ndarray of int, shape (c.n,)
        Darkest gray level of each component.
    paper : float
        The paper's gray level.
    faint_level : float, optional
        The faint rule's level (see :func:`guard_removals`).
    guessed : bool
        The x-height is the resolution's guess (see :func:`guard_removals`).

    Returns
    -------
    Decision

    Examples
    --------
    >>> from despeckled.clean.marks import marks_of_ink
    >>> from despeckled.clean.rules import RULE_NAMES, classify
    >>> ink = np.zeros((80, 200), np.uint8)
    >>> ink[10:31, 10:13] = ink[10:13, 10:24] = ink[28:31, 10:24] = ink[10:31, 21:24] = 1  # a lone '0'
    >>> ink[60, 150] = 1                                                                 # a speck
    >>> m = marks_of_ink(ink, 3.0, 21.0)
    >>> d = guard_decision(m.c, 21.0, 3.0, classify(m), np.zeros(m.n, int), 250.0)
    >>> [RULE_NAMES[r] for r in d.rule[1:]], [RULE_NAMES[r] for r in d.overruled[1:]]
    (['glyph-shaped', 'tiny'], ['dust', 'none'])
    """
    removing = dec.speck | dec.dust
    g = guard_removals(c, x, s, removing, dec.dust, darkest, paper, faint_level, guessed,
                       periods=(dec.rule == Rule.PERIOD) & dec.kept_small)
    veto = g.code > 0
    rule = dec.rule.copy()
    overruled = np.zeros(c.n, np.uint8)
    overruled[veto] = rule[veto]
    rule[veto] = np.array([0] + [Rule[name.upper()] for name in GUARD_NAMES], np.uint8)[g.code[veto]]
    kept_small = dec.kept_small | (dec.speck & veto)
    return Decision(speck=dec.speck & ~veto, dust=dec.dust & ~veto, kept_small=kept_small, rule=rule,
                    confidence=dec.confidence, overruled=overruled, faint_ok=g.faint_ok)
