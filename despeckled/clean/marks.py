"""The shared context of the keep/remove rules (:mod:`despeckled.clean.rules`):
per-component features of a page's marks and letters, and the one
vectorised join of marks against nearby letters that places each mark on
its text line.

Sizes are page-relative: ``s`` is the page's stroke width and ``x`` its
x-height (:class:`~despeckled.clean.scale.Scale`, both in pixels of the
analysed page); "local x-height" is the x-height of the letters on the
mark's own line. A few comparisons add one pixel: the rounding slack of a
measurement made in whole pixels, not a size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from despeckled.clean.components import Components, label_components
from despeckled.clean.context import any_per, points_in_boxes
from despeckled.clean.params import CleanParams
from despeckled.clean.scale import Scale
from despeckled.clean.stats import darkest_per_label, group_median

#: Round dot: at least this solid (area over box area) ...
ROUND_DOT_FILL = 0.55
#: ... and at most this much wider than tall, or taller than wide.
ROUND_DOT_ASPECT = 1.6
#: A glyph has at least this fraction of ``glyph_size`` x-heights times a
#: stroke width of ink (a long faint hairline is not a glyph).
GLYPH_MIN_INK = 0.3
#: Below this x-height (analysed pixels; a page scanned at 100 dpi or less,
#: or small print at 150 dpi) a period is a pixel or two, the size of any
#: speck, and a figure is a 5 x 9 blob whose counter has closed, as solid as
#: dust: gentle mode, only marks with nothing near go. (At 9 px the dust
#: rule took 37 figures of one 150-dpi table and 12 of a receipt's prices.)
#: Also gentle when the scale was not measured.
LOW_RES_XHEIGHT = 10.0
#: Letters that anchor marks are at most this tall and wide (x-heights).
LETTER_MAX_HEIGHT = 2.5
LETTER_MAX_WIDTH = 30.0
#: How far around a letter (x-heights: sideways, up, down) a mark is looked
#: for: an i-dot sees its whole line above it.
LETTER_REACH = (4.0, 1.6, 1.0)
#: Letters that place a mark on a line are at least this tall (x-heights).
LINE_LETTER_MIN = 0.45
#: A letter level with a mark may end this far above the mark's top (x).
SAME_LINE_SLACK = 0.1
#: The line just below a mark (x-heights): the letter's top is at most
#: ``[0]`` above and ``[1]`` below the mark's bottom, and its bottom more
#: than ``[2]`` below it.
LINE_BELOW = (0.6, 0.8, 0.5)
#: Baseline tolerance, in local x-heights (plus one pixel).
BASELINE_TOL = 0.1
#: A mark's letters on its line are at most this far to either side (x).
LINE_REACH = 2.5
#: On the baseline: a letter's bottom at least this fraction of the mark's
#: height below its top (a period's bottom, the middle of a comma).
ON_BASE_DEPTH = 0.2
#: High on the line (quotes): the mark's bottom at least this many local
#: x-heights above the baseline.
UPPER_LIFT = 0.6
#: Mid-line (hyphens): the mark's centre this many local x-heights above the
#: baseline.
MID_LIFT = (0.2, 0.8)
#: Marks that may be punctuation are at most this tall (x-heights).
MARK_MAX_HEIGHT = 0.75
#: Punctuation sits at most ``PUNCT_GAP * mark_gap`` x-heights from its
#: glyph, or half the glyph's height (monospaced fonts centre a period in a
#: wide cell).
PUNCT_GAP = 1.6
PUNCT_GAP_OF_HEIGHT = 0.5


@dataclass(frozen=True)
class LetterPairs:
    """Every (mark, letter) pair with the mark's centre in the letter's box
    grown by :data:`LETTER_REACH`, and each queried mark's text line.

    Queried marks are the components ``qi`` (real, not tiny); arrays of
    shape (Q,) are per queried mark, arrays of shape (K,) per pair.

    Attributes
    ----------
    qi : ndarray of intp, shape (Q,)
        Label of each queried mark.
    pi : ndarray of intp, shape (K,)
        Index (into ``qi``) of each pair's mark.
    q, g : ndarray of intp, shape (K,)
        Labels of each pair's mark and letter.
    not_self : ndarray of bool, shape (K,)
    hgap_r, hgap_l, hgap, vgap : ndarray of float, shape (K,)
        Gaps (px) from the letter to the mark on its right, on its left,
        either side, and above or below.
    same_line, line_below : ndarray of bool, shape (K,)
        The letter is level with the mark / on the line just below it.
    near_x : ndarray of bool, shape (K,)
        The letter is within :data:`LINE_REACH` x-heights sideways.
    mq : ndarray of bool, shape (K,)
        The pair's mark is a mark no taller than :data:`MARK_MAX_HEIGHT`.
    gap_lim : ndarray of float, shape (K,)
        How far (px) punctuation may sit from this letter.
    xl_same, base_same, xl_below, base_below : ndarray of float, shape (Q,)
        Local x-height and baseline (px) of the mark's own line and of the
        line below it (baseline ``inf`` where there is none).
    tol : ndarray of float, shape (Q,)
        Baseline tolerance (px).
    on_base, upper, mid : ndarray of bool, shape (Q,)
        The mark reaches its line's baseline; sits high on the line; sits
        at mid-line.
    """

    qi: np.ndarray
    pi: np.ndarray
    q: np.ndarray
    g: np.ndarray
    not_self: np.ndarray
    hgap_r: np.ndarray
    hgap_l: np.ndarray
    hgap: np.ndarray
    vgap: np.ndarray
    same_line: np.ndarray
    line_below: np.ndarray
    near_x: np.ndarray
    mq: np.ndarray
    gap_lim: np.ndarray
    xl_same: np.ndarray
    base_same: np.ndarray
    xl_below: np.ndarray
    base_below: np.ndarray
    tol: np.ndarray
    on_base: np.ndarray
    upper: np.ndarray
    mid: np.ndarray

    @property
    def n_q(self) -> int:
        return int(self.qi.size)


@dataclass(frozen=True)
class Marks:
    """What every rule reads: per-component features (arrays of shape (n,),
    index 0 the background), the page's scale and darkness, and the
    mark-letter join.

    Attributes
    ----------
    c : Components
    params : CleanParams
    s, x : float
        Stroke width and x-height (px of the analysed page).
    low_res : bool
        Gentle mode (see :data:`LOW_RES_XHEIGHT`).
    area, w, h, x0, y0, x1, y1, cx, cy, fill : ndarray of float64, shape (n,)
        Ink area, box size, inclusive box and centre (px); ``fill`` is the
        area over the box's.
    real, round_dot, glyph, mark, tiny, letter : ndarray of bool, shape (n,)
        Not the background; a solid round dot; glyph-sized (at least
        ``glyph_size`` x-heights); smaller (a mark); below ``tiny_area``
        stroke widths squared (never when ``low_res``); a glyph that
        anchors marks.
    lev_px : ndarray of uint8, shape (N,)
        Gray level of each ink pixel (order of ``c.lab``).
    ink_level, paper_level : float
        Typical levels of stroke cores and of paper.
    near : LetterPairs
    guessed : bool
        The scale was not measured from the page's letters.
    cache : dict
        Intermediate results several rules share (filled by the rules).
    """

    c: Components
    params: CleanParams
    s: float
    x: float
    low_res: bool
    area: np.ndarray
    w: np.ndarray
    h: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    fill: np.ndarray
    real: np.ndarray
    round_dot: np.ndarray
    glyph: np.ndarray
    mark: np.ndarray
    tiny: np.ndarray
    letter: np.ndarray
    lev_px: np.ndarray
    ink_level: float
    paper_level: float
    near: LetterPairs
    #: The scale is the resolution's guess, borne out or not (dust is then
    #: only a solid blob: :func:`despeckled.clean.rules.dust`).
    guessed: bool = False
    #: Intermediate results several rules share, computed once.
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return self.c.n

    @property
    def darkest(self) -> np.ndarray:
        """Darkest gray level of every component (uint8, shape (n,)), read
        once per page and shared by the darkness rule, the guards and the
        faint rule."""
        if "darkest" not in self.cache:
            self.cache["darkest"] = darkest_per_label(self.c, self.lev_px)
        return self.cache["darkest"]

    def __repr__(self) -> str:
        return f"Marks(n={self.n}, s={self.s:.2f}, x={self.x:.2f}, low_res={self.low_res})"

    def per_label(self, values: np.ndarray, fill=False) -> np.ndarray:
        """Scatter per-query values (shape (Q,)) to per-label (shape (n,))."""
        out = np.full(self.n, fill, dtype=np.asarray(values).dtype)
        out[self.near.qi] = values
        return out


def marks_of(c: Components, scale: Scale, params: CleanParams, lev_px: np.ndarray, ink_level: float,
             paper_level: float) -> Marks:
    """Measure the marks and letters of a labelled page.

    Parameters
    ----------
    c : Components
    scale : Scale
    params : CleanParams
    lev_px : ndarray of uint8, shape (N,)
        Gray level (of the thresholded page) of each ink pixel, in the order
        of ``c.lab``.
    ink_level, paper_level : float
        Typical levels of stroke cores and of paper.

    Returns
    -------
    Marks
    """
    n = c.n
    s, x = scale.stroke, scale.xheight
    area = c.area.astype(np.float64)
    w, h = c.width.astype(np.float64), c.height.astype(np.float64)
    x0, y0, x1, y1 = (a.astype(np.float64) for a in (c.x0, c.y0, c.x1, c.y1))
    real = np.arange(n) > 0
    fill = area / np.maximum(w * h, 1)
    # solid and about as wide as tall: a dot (period, i-dot, colon dot) or a blob
    round_dot = (fill >= ROUND_DOT_FILL) & (w <= ROUND_DOT_ASPECT * h) & (h <= ROUND_DOT_ASPECT * w)
    glyph = (real & (np.maximum(w, h) >= params.glyph_size * x)
             & (area >= GLYPH_MIN_INK * params.glyph_size * x * s))
    mark = real & ~glyph
    tiny = mark & (area < params.tiny_area * s * s)
    # Gentle mode, too, when the scale could not be measured (too few
    # letters): the fallback x-height may be far from the real text's --
    # unless the page's strokes bear out its DPI tag.
    low_res = x < LOW_RES_XHEIGHT or scale.source not in ("measured", "dpi-checked")
    if low_res:
        tiny[:] = False
    letter = glyph & (h <= LETTER_MAX_HEIGHT * x) & (w <= LETTER_MAX_WIDTH * x)
    near = _letter_pairs(params, x, area, w, h, x0, y0, x1, y1, c.cx, c.cy, real & ~tiny, mark, letter)
    return Marks(c, params, s, x, low_res, area, w, h, x0, y0, x1, y1, c.cx, c.cy, fill, real, round_dot, glyph,
                 mark, tiny, letter, lev_px, ink_level, paper_level, near, scale.source != "measured")


def _letter_pairs(params, x, area, w, h, x0, y0, x1, y1, cx, cy, query, mark, letter) -> LetterPairs:
    """The join of :class:`LetterPairs` (arguments as in :class:`Marks`)."""
    li = np.flatnonzero(letter)
    qi = np.flatnonzero(query)
    n_q = qi.size
    side, up, down = LETTER_REACH
    pi, bi = points_in_boxes(cx[qi], cy[qi], x0[li] - side * x, y0[li] - up * x, x1[li] + side * x,
                             y1[li] + down * x, 2 * x)
    q, g = qi[pi], li[bi]
    not_self = q != g
    hgap_r = x0[q] - x1[g] - 1          # q right of g
    hgap_l = x0[g] - x1[q] - 1          # q left of g
    hgap = np.maximum(hgap_r, hgap_l)
    vgap = np.maximum(y0[q] - y1[g], y0[g] - y1[q]) - 1
    tall = not_self & (h[g] >= LINE_LETTER_MIN * x)
    # The text line a mark belongs to, and its x-height and baseline: letters
    # level with the mark (punctuation), or just below it (i-dots, accents).
    same_line = tall & (y0[g] <= y1[q]) & (y1[g] >= y0[q] - SAME_LINE_SLACK * x)
    above_top, below_top, below_bottom = LINE_BELOW
    line_below = (tall & (y0[g] >= y1[q] - above_top * x) & (y0[g] <= y1[q] + below_top * x)
                  & (y1[g] > y1[q] + below_bottom * x))
    xl_same, base_same = _line_geometry(pi, g, same_line, h, w, y1, n_q, x)
    xl_below, base_below = _line_geometry(pi, g, line_below, h, w, y1, n_q, x)
    has_same = np.isfinite(base_same)
    tol = BASELINE_TOL * np.minimum(xl_same, x) + 1
    hq = h[qi]
    y1q, cyq = y1[qi], cy[qi]
    # baseline through the lower part of the mark: bottom of a period, middle of a comma
    # (existence, not the median: Fraktur and old-style figures have many
    # descenders, and tight leading brings the next line's capitals close)
    near_x = np.maximum(hgap_r, hgap_l) <= LINE_REACH * x
    on_base = any_per(pi, same_line & near_x & (y1[g] >= y0[q] + ON_BASE_DEPTH * h[q] - 1)
                      & (y1[g] <= y1[q] + tol[pi]), n_q)
    upper = has_same & (base_same - y1q >= UPPER_LIFT * xl_same)
    lo, hi = MID_LIFT
    mid = has_same & (base_same - cyq >= lo * xl_same) & (base_same - cyq <= hi * xl_same)
    del hq
    gap_lim = np.maximum(PUNCT_GAP * params.mark_gap * x, PUNCT_GAP_OF_HEIGHT * h[g])
    mq = mark[q] & (h[q] <= MARK_MAX_HEIGHT * x)
    return LetterPairs(qi, pi, q, g, not_self, hgap_r, hgap_l, hgap, vgap, same_line, line_below, near_x, mq,
                       gap_lim, xl_same, base_same, xl_below, base_below, tol, on_base, upper, mid)


#: A letter votes for its line's x-height only if at least this wide (in its
#: own heights): commas and stems do not vote.
ROUNDISH = 0.5
#: The local x-height is capped at this many page x-heights.
LOCAL_XHEIGHT_CAP = 1.5


def _line_geometry(pi: np.ndarray, g: np.ndarray, sel: np.ndarray, h: np.ndarray, w: np.ndarray, y1: np.ndarray,
                   n_q: int, x: float) -> tuple[np.ndarray, np.ndarray]:
    """Per query: local x-height and baseline of the selected letters.

    The x-height is the median height of the selected round-ish letters
    (most such letters are x-height letters), capped at
    :data:`LOCAL_XHEIGHT_CAP` x; the baseline is the median of the letters'
    bottoms (descenders are outvoted). ``inf`` baseline where nothing is
    selected.
    """
    roundish = sel & (w[g] >= ROUNDISH * h[g])
    xl = np.minimum(group_median(pi, h[g].astype(np.float64), roundish, n_q), LOCAL_XHEIGHT_CAP * x)
    base = group_median(pi, y1[g].astype(np.float64), sel, n_q)
    return np.where(np.isfinite(xl), xl, x), base


def marks_of_ink(ink: np.ndarray, stroke: float, xheight: float, params: CleanParams | None = None,
                 levels: np.ndarray | None = None) -> Marks:
    """:class:`Marks` of a small hand-drawn page, for tests and exploration.

    Parameters
    ----------
    ink : ndarray of bool or uint8, shape (H, W)
        Nonzero = ink.
    stroke, xheight : float
        The page's scale (px), taken as measured.
    params : CleanParams, optional
    levels : ndarray of uint8, shape (H, W), optional
        Gray levels of the page (default: every ink pixel black, 0, on
        white paper, 255).

    Examples
    --------
    >>> ink = np.zeros((30, 30), np.uint8); ink[10:20, 5:8] = 1; ink[25, 25] = 1
    >>> m = marks_of_ink(ink, 3.0, 10.0)
    >>> m.glyph[1:].tolist(), m.mark[1:].tolist()
    ([True, False], [False, True])
    """
    ink8 = (np.asarray(ink) != 0).astype(np.uint8) * np.uint8(255)
    c = label_components(ink8)
    lev = np.where(ink8 == 255, 0, 255).astype(np.uint8) if levels is None else levels
    lev_px = lev.ravel()[c.flat]
    return marks_of(c, Scale(float(stroke), float(xheight), "measured"), params or CleanParams(), lev_px, 0.0, 255.0)
