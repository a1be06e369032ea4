"""Per-text-line scale: each mark is judged against the letters of its own
line, so a headline's periods and i-dots are measured in the headline's
x-height and stroke width, not the body text's.

Pure array functions over :class:`~despeckled.clean.components.Components`:
one grid join of components against letter boxes, grouped medians by one
sort -- no Python loop over components.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from despeckled.clean.components import Components
from despeckled.clean.context import points_in_boxes
from despeckled.clean.scale import FRAME_MAX_FILL, in_frames

#: How far (in the letter's own height) a letter's line reaches sideways,
#: above its top (i-dots, accents of that size) and below its bottom
#: (commas, the dot of '!').
LINE_REACH_SIDE = 2.5
LINE_REACH_UP = 0.8
LINE_REACH_DOWN = 0.3
#: Letter candidates: at least LETTER_MIN_S stroke widths tall (smaller
#: ones are marks), at most LETTER_MAX_X page x-heights (bigger ones are
#: pictures, rules, fields).
LETTER_MIN_S = 3.0
LETTER_MAX_X = 12.0
LETTER_MIN_FILL = 0.12


class LineScale(NamedTuple):
    """Per-label scale of the text line each component belongs to.

    Attributes
    ----------
    xheight : ndarray of float64, shape (n,)
        Median height of the round-ish letters of the component's line
        (pixels); the page's x-height where no letter is near.
    stroke : ndarray of float64, shape (n,)
        Median stroke thickness of those letters (pixels); the page's stroke
        width where no letter is near.
    letters : ndarray of int64, shape (n,)
        How many letters voted (0: the page's scale was used).
    """

    xheight: np.ndarray
    stroke: np.ndarray
    letters: np.ndarray


def letter_candidates(c: Components, x: float, s: float) -> np.ndarray:
    """Components shaped like letters of any size: stroke-built (thickness at
    most 1/3.5 of the height: a period or a blob is as thick as a third of
    its height) but not a mere outline (``LETTER_MIN_FILL`` of the box) nor
    a frame holding a mark (:func:`despeckled.clean.scale.frames`: a ticked
    checkbox), about as wide as tall, sized as in ``LETTER_MIN_S`` and
    ``LETTER_MAX_X``.

    Parameters
    ----------
    c : Components
    x, s : float
        The page's x-height and stroke width (pixels).

    Returns
    -------
    ndarray of bool, shape (c.n,)
    """
    h = c.height.astype(np.float64)
    w = c.width.astype(np.float64)
    # (the lower bound in strokes: a page's x-height can be measured wrong
    # -- a form's boxes outvote its letters -- its stroke hardly)
    ok = (h >= LETTER_MIN_S * s) & (h <= LETTER_MAX_X * x) & (w >= 0.3 * h) & (w <= 1.6 * h)
    ok &= (c.thickness <= h / 3.5) & (c.thickness >= 0.5 * s)
    # (not the outline of a form's box or a frame: a letter covers at least
    # an eighth of its box)
    ok &= c.area >= LETTER_MIN_FILL * w * h
    ok[0] = False
    # (nor a box holding a mark a third its height -- a ticked checkbox, a
    # character box --, nor what it holds: their sizes are the form's, and
    # would set the line's of the labels beside them)
    li = np.flatnonzero(ok)
    ok[li[in_frames(c, frame_candidates(c, x, s), li)]] = False
    return ok


def frame_candidates(c: Components, x: float, s: float) -> np.ndarray:
    """Labels that may be a form's frames (see
    :func:`despeckled.clean.scale.frames`): sized like letters, up to three
    times as wide as tall (a row of character boxes), and mostly paper.

    Parameters
    ----------
    c : Components
    x, s : float
        The page's x-height and stroke width (pixels).

    Returns
    -------
    ndarray of int64
    """
    h = c.height.astype(np.float64)
    w = c.width.astype(np.float64)
    boxy = (h >= LETTER_MIN_S * s) & (h <= LETTER_MAX_X * x) & (w >= 0.3 * h) & (w <= 3.0 * h)
    boxy[0] = False
    return np.flatnonzero(boxy & (c.area <= FRAME_MAX_FILL * w * h))


def group_median(group: np.ndarray, values: np.ndarray, size: int, fill: float) -> np.ndarray:
    """Lower median of ``values`` per ``group`` (``fill`` for empty groups).

    One lexsort, no Python loop.

    >>> group_median(np.array([0, 0, 0, 2]), np.array([5.0, 1.0, 3.0, 7.0]), 3, -1.0).tolist()
    [3.0, -1.0, 7.0]
    """
    out = np.full(size, fill, np.float64)
    if group.size == 0:
        return out
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    counts = np.bincount(g, minlength=size)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    out[has] = v[starts[has] + (counts[has] - 1) // 2]
    return out


def line_scale(c: Components, x: float, s: float, letters: np.ndarray | None = None) -> LineScale:
    """The x-height and stroke width of each component's own text line.

    A letter's line is its box grown by ``LINE_REACH_SIDE`` of its height
    sideways, ``LINE_REACH_UP`` up and ``LINE_REACH_DOWN`` down: the reach
    scales with the letter, so a 72-pt headline claims the punctuation a
    word-space away and the i-dot floating above it, and body text claims
    only its own neighbourhood. A component's scale is the median over the
    letters whose line holds its centre (round-ish letters vote for the
    x-height: stems and capitals are outvoted on a mixed line).

    Parameters
    ----------
    c : Components
    x, s : float
        The page's x-height and stroke width (pixels), used where no letter
        is near.
    letters : ndarray of bool, shape (c.n,), optional
        The letters that define lines (default :func:`letter_candidates`).

    Returns
    -------
    LineScale

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> ink = np.zeros((200, 400), np.uint8)
    >>> for i in range(5):                          # a headline: 60 px letters
    ...     ink[40:100, 20 + 50 * i:28 + 50 * i] = 1; ink[40:48, 20 + 50 * i:55 + 50 * i] = 1
    >>> ink[92:100, 272:280] = 1                     # its period
    >>> ls = line_scale(label_components(ink), x=20.0, s=3.0)
    >>> float(ls.xheight[-1])
    60.0
    """
    n = c.n
    letters = letter_candidates(c, x, s) if letters is None else letters
    li = np.flatnonzero(letters)
    xl = np.full(n, float(x))
    sl = np.full(n, float(s))
    count = np.zeros(n, np.int64)
    if li.size == 0:
        return LineScale(xl, sl, count)
    h = c.height.astype(np.float64)
    hl = h[li]
    qi = np.arange(1, n)
    pi, bi = points_in_boxes(
        c.cx[qi], c.cy[qi],
        c.x0[li] - LINE_REACH_SIDE * hl, c.y0[li] - LINE_REACH_UP * hl,
        c.x1[li] + LINE_REACH_SIDE * hl, c.y1[li] + LINE_REACH_DOWN * hl,
        max(2.0 * x, float(np.median(hl))),
    )
    q, g = qi[pi], li[bi]
    # (a component is not its own line: a lone blob would vouch for itself)
    other = q != g
    q, g = q[other], g[other]
    roundish = c.width[g] >= 0.6 * c.height[g]
    count = np.bincount(q, minlength=n)
    med_h = group_median(q[roundish], h[g][roundish], n, np.nan)
    # (a line of capitals or stems only: the median of all its letters)
    med_all = group_median(q, h[g], n, np.nan)
    med_h = np.where(np.isfinite(med_h), med_h, med_all)
    med_s = group_median(q, c.thickness[g], n, np.nan)
    has = count > 0
    xl[has] = med_h[has]
    # (stroke: a thickness is half the stroke's width at its thinnest for
    # round letters; keep the page's value as a floor)
    sl[has] = np.maximum(med_s[has], 0.5 * s)
    return LineScale(xl, sl, count)
