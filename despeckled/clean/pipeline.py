"""Compose the cleaning stages into :func:`clean_page`."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from despeckled.clean import threshold as th
from despeckled.clean.components import Components, ink_pixels, label_components
from despeckled.clean.context import any_per, count_per, local_density, near_selected, points_in_boxes
from despeckled.clean.gray import to_gray
from despeckled.clean.params import CleanParams
from despeckled.clean.scale import Scale, estimate_scale, plausible_dpi

#: Physical width of the paper-estimation window: wider than body-text
#: strokes, narrow enough to follow stains and shadows (measured on DIBCO:
#: 1.5 mm F 0.908, 3 mm 0.900, 6 mm 0.895).
BACKGROUND_WINDOW_MM = 1.5
#: Pages at or above this resolution are analysed at 1/ANALYSIS_REDUCTION
#: (output stays full resolution); text there is big enough to lose nothing.
REDUCE_FROM_DPI = 450.0
#: Pages whose text is smaller than this (x-height, px), or whose scale could
#: not be measured, are cleaned gently: only marks with nothing near go.
LOW_RES_XHEIGHT = 9.0
#: Paper-colour window for painting removed marks in gray mode.
PAINT_WINDOW_MM = 6.0
#: Raw gray levels below this fraction of the page's global Otsu level are
#: ink regardless of the local paper estimate (solid interiors of big strokes).
DARK_CORE = 0.6
ANALYSIS_REDUCTION = 2
#: Marks at least this solid (area over box area), about as wide as tall
#: and at most DOT_MAX_SIZE stroke widths across are dot-shaped: over a
#: letter they must sit on a stem (an i or j) -- a speck over an 'e' would
#: read as an accent. Accents are strokes (hollow or elongated: acute,
#: caret, tilde, ring), and worn accents in old print are bigger blobs.
STEM_CHECK_FILL = 0.55
DOT_MAX_SIZE = 2.0
#: Depths (in x-heights below the top of the ink under the dot) at which
#: the stem must run straight down under the dot: a stem, not the apex of a
#: 'w' or the diagonal of a 'z'.
STEM_DEPTHS = (0.33, 0.5)
#: A hairline mark (one stroke wide, three long) may be this many times
#: further from the marks' darkness than a dot: blur lightens it more.
HAIRLINE_DARK = 2.0
#: How far (in darkness tolerances) a round dot may be lighter, and darker,
#: than the page's dots of its size (see :func:`size_darkness`). Lighter:
#: a speck of a lighter grime than the print; darker: a blot blacker than it.
DOT_DARK_WINDOW = (0.7, 1.5)


class FlatMask:
    """A bool mask of ``shape`` stored as the flat indices of its True pixels."""

    __slots__ = ("shape", "flat")

    def __init__(self, shape: tuple[int, int], flat: np.ndarray) -> None:
        self.shape = tuple(shape)
        self.flat = flat

    def build(self) -> np.ndarray:
        mask = np.zeros(self.shape, bool)
        mask.ravel()[self.flat] = True
        return mask


class PageResult:
    """The outcome of cleaning one page.

    Attributes
    ----------
    image : ndarray
        ``binary`` mode: ``(H, W)`` uint8, 0 = ink, 255 = paper.
        ``gray`` mode: same shape as the input, uint8 (16-bit and bool input
        are reduced to 8-bit), with removed specks painted with the local
        paper colour.
    removed : ndarray of bool, shape (H, W)
        Ink pixels that were removed.
    kept_small : ndarray of bool, shape (H, W)
        Small marks that were kept because they belong to text.
    stats : dict
        ``specks_removed``, ``faint_removed``, ``dust_removed``,
        ``small_kept``, ``components``, ``removed_px`` (int);
        ``stroke_width_px``, ``x_height_px`` (float, full-resolution pixels);
        ``scale_source`` (``measured``, ``dpi`` or ``fallback``);
        ``analysis_reduction`` (1, or 2 for pages analysed at half
        resolution); ``threshold`` (method), ``threshold_level`` (gray level,
        on the background-normalised page for ``adaptive``), ``ink_level``
        and ``paper_level`` (typical stroke-core and paper levels there).

    ``removed`` and ``kept_small`` may be given as a :class:`FlatMask` (the
    flat indices of their True pixels): the page-sized mask is then built on
    first access only, so cleaning a page does not hold two page-sized masks
    nobody may look at.
    """

    __slots__ = ("image", "_removed", "_kept_small", "stats")

    def __init__(self, image: np.ndarray, removed, kept_small, stats: dict | None = None) -> None:
        self.image = image
        self._removed = removed
        self._kept_small = kept_small
        self.stats = {} if stats is None else stats

    @property
    def removed(self) -> np.ndarray:
        if isinstance(self._removed, FlatMask):
            self._removed = self._removed.build()
        return self._removed

    @property
    def kept_small(self) -> np.ndarray:
        if isinstance(self._kept_small, FlatMask):
            self._kept_small = self._kept_small.build()
        return self._kept_small

    def __repr__(self) -> str:
        return f"PageResult(image={self.image.shape}, stats={self.stats!r})"


@dataclass(frozen=True)
class Decision:
    """Per-label verdicts (length ``n``; index 0 is the background)."""

    speck: np.ndarray
    dust: np.ndarray
    kept_small: np.ndarray


def binarize(gray: np.ndarray, params: CleanParams, res_dpi: float) -> tuple[np.ndarray, np.ndarray, int, tuple[np.ndarray, int] | None]:
    """Threshold a gray page into an ink mask.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    params : CleanParams
        Uses ``threshold`` and ``threshold_value``.
    res_dpi : float
        Assumed resolution; sizes the paper-estimation window only.

    Returns
    -------
    ink : ndarray of uint8, shape (H, W)
        255 = ink, 0 = paper.
    levels : ndarray of uint8, shape (H, W)
        The page that was thresholded (background-normalised for
        ``adaptive``, else ``gray`` itself).
    level : int
        Gray level used (on the normalised page for ``adaptive``).
    background : (ndarray, int) or None
        Low-resolution paper estimate and its reduction factor (adaptive only).
    """
    bg = None
    if params.threshold == "fixed":
        level = params.threshold_value
        src = gray
    elif params.threshold == "otsu":
        level = th.otsu_level(th.sample_histogram(gray))
        src = gray
    else:
        window = BACKGROUND_WINDOW_MM * res_dpi / 25.4
        low, factor = th.background_lowres(gray, window)
        bg = (low, factor)
        src = th.normalise_lowres(gray, low, factor)
        level = th.otsu_level(th.sample_histogram(src, 3))
        # On a page with almost no ink Otsu splits the paper noise; paper is
        # ~255 after normalisation, so ink must be clearly darker than that.
        level = min(level, 200)
    if params.threshold == "adaptive":
        # The paper window is narrow (it follows stains and shadows), so the
        # inside of a stroke wider than it -- a big bold heading -- would
        # normalise to paper. Pixels as dark as ink on the raw page are ink
        # whatever their neighbourhood.
        raw = th.otsu_level(th.sample_histogram(gray, 4))
        ink = th.ink_mask(src, level, gray, int(DARK_CORE * raw))
    else:
        _, ink = cv2.threshold(src, level, 255, cv2.THRESH_BINARY_INV)
    return ink, src, level, bg


def classify(c: Components, scale: Scale, params: CleanParams, lev_px: np.ndarray, ink_level: float, paper_level: float) -> Decision:
    """Decide, per component, what is a speck, what is dust and which small
    marks are kept because text puts marks there.

    Components at least ``glyph_size`` x-heights tall or wide are glyphs.
    Smaller ones are *marks*: a mark is kept only if it is as dark as the
    page's text and sits where text puts marks -- above a glyph (i-dots,
    accents), on the baseline right after a glyph (periods, commas),
    hyphen-like between glyphs, quote-like beside a glyph's top, in a row of
    similar marks (leaders, ellipses), next to a kept mark of similar size
    (colons, umlauts, double quotes), or in a dense dot field (halftone).

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
    Decision
        Boolean arrays of length ``c.n``.
    """
    n = c.n
    s, x = scale.stroke, scale.xheight
    area = c.area.astype(np.float64)
    w, h = c.width.astype(np.float64), c.height.astype(np.float64)
    x0, y0, x1, y1 = (a.astype(np.float64) for a in (c.x0, c.y0, c.x1, c.y1))
    cx, cy = c.cx, c.cy
    real = np.arange(n) > 0
    fill = area / np.maximum(w * h, 1)
    # solid and about as wide as tall: a dot (period, i-dot, colon dot) or a blob
    round_dot = (fill >= STEM_CHECK_FILL) & (w <= 1.6 * h) & (h <= 1.6 * w)
    glyph = real & (np.maximum(w, h) >= params.glyph_size * x) & (area >= 0.3 * params.glyph_size * x * s)
    mark = real & ~glyph
    tiny = mark & (area < params.tiny_area * s * s)
    # Below ~9 px x-height (a page scanned at 100 dpi or less) a period is a
    # pixel or two, the size of any speck: only marks away from text go.
    # Gentle mode, too, when the scale could not be measured (too few
    # letters): the fallback x-height may be far from the real text's.
    low_res = x < LOW_RES_XHEIGHT or scale.source != "measured"
    if low_res:
        tiny[:] = False

    # Letters that anchor marks: glyph-sized, not huge.
    letter = glyph & (h <= 2.5 * x) & (w <= 30 * x)
    li = np.flatnonzero(letter)

    # Pairs (component, letter) with the letter's box grown by 4 x sideways,
    # 1.6 x up (an i-dot sees its whole line) and 1 x down: everything a rule
    # below looks at.
    qi = np.flatnonzero(real & ~tiny)
    n_q = qi.size
    pi, bi = points_in_boxes(cx[qi], cy[qi], x0[li] - 4 * x, y0[li] - 1.6 * x, x1[li] + 4 * x, y1[li] + x, 2 * x)
    q, g = qi[pi], li[bi]
    not_self = q != g
    hgap_r = x0[q] - x1[g] - 1          # q right of g
    hgap_l = x0[g] - x1[q] - 1          # q left of g
    hgap = np.maximum(hgap_r, hgap_l)
    vgap = np.maximum(y0[q] - y1[g], y0[g] - y1[q]) - 1
    tall = not_self & (h[g] >= 0.45 * x)
    # The text line a mark belongs to, and its x-height and baseline: letters
    # level with the mark (punctuation), or just below it (i-dots, accents).
    same_line = tall & (y0[g] <= y1[q]) & (y1[g] >= y0[q] - 0.1 * x)
    line_below = tall & (y0[g] >= y1[q] - 0.6 * x) & (y0[g] <= y1[q] + 0.8 * x) & (y1[g] > y1[q] + 0.5 * x)
    xl_same, base_same = _line_geometry(pi, g, same_line, h, w, y1, n_q, x)
    xl_below, base_below = _line_geometry(pi, g, line_below, h, w, y1, n_q, x)
    has_same = np.isfinite(base_same)
    tol = 0.1 * np.minimum(xl_same, x) + 1
    hq, wq = h[qi], w[qi]
    y1q, cyq = y1[qi], cy[qi]
    # baseline through the lower part of the mark: bottom of a period, middle of a comma
    # (existence, not the median: Fraktur and old-style figures have many
    # descenders, and tight leading brings the next line's capitals close)
    tol_p = tol[pi]
    near_x = np.maximum(hgap_r, hgap_l) <= 2.5 * x
    on_base = any_per(pi, same_line & near_x & (y1[g] >= y0[q] + 0.2 * h[q] - 1) & (y1[g] <= y1[q] + tol_p), n_q)
    upper = has_same & (base_same - y1q >= 0.6 * xl_same)
    mid = has_same & (base_same - cyq >= 0.2 * xl_same) & (base_same - cyq <= 0.8 * xl_same)

    # monospaced fonts centre a period in a wide cell: allow more after big glyphs
    gap_lim = np.maximum(1.6 * params.mark_gap * x, 0.5 * h[g])
    mq = mark[q] & (h[q] <= 0.75 * x)
    # i-dots and accents: above the glyph, roughly centred on it; or tucked
    # under the hook of a ligature (fi, ffi) inside a wide glyph's box
    # (centred: i-dot over its stem, accent over its vowel; off-centre only
    # as one of a pair of dots: umlauts)
    # italics put the dot to the right, by up to tan(14 deg) of the height
    slant = np.maximum(0.25 * (cy[g] - cy[q]), 0.0)
    dxs = cx[q] - cx[g]
    dx = np.minimum(np.abs(dxs), np.abs(dxs - slant))
    dx = np.where((dxs > 0) & (dxs < slant), 0.0, dx)
    centred = (dx <= 0.05 * w[g] + 0.25 * s + 1) & (w[q] <= w[g] + 0.4 * x)
    off_centre = (dx <= 0.35 * w[g] + 0.5 * s + 1) & (w[q] <= 0.7 * w[g] + 1)
    # Measured on rendered text: an i-dot or accent sits 0.1-0.25 local
    # x-heights above its letter, its bottom 1.1-1.3 x-heights above the
    # baseline (up to 1.75 over capitals and ascenders).
    xlb, bb = xl_below[pi], base_below[pi]
    lift = bb - y1[q]
    lift_ok = np.isfinite(bb) & (lift >= 0.7 * xlb) & (lift <= np.where(h[g] < 1.25 * xlb, 1.35, 1.65) * xlb)
    dot_gap = y0[g] - y1[q] - 1
    over_g = (mq & not_self & (h[g] <= 1.8 * x) & (dot_gap >= -1)
              & (dot_gap <= params.dot_gap * np.minimum(xlb, x)) & lift_ok)
    tucked = (w[g] >= 1.2 * np.minimum(xlb, x)) & (cx[q] >= x0[g]) & (cx[q] <= x1[g]) & (y1[q] < y0[g] + 0.5 * h[g])
    # the 'fi' ligature: the dot inside the box, under the f's hook
    # (its stem may start beside the dot, under the hook)
    ligature = ((h[g] >= 1.2 * xlb) & (w[g] >= 0.7 * xlb) & (y0[q] >= y0[g]) & (x0[q] > x0[g]) & (x1[q] <= x1[g])
                & (y1[q] < y0[g] + 0.5 * h[g]))
    placed = mq & not_self & (h[g] <= 1.8 * x) & lift_ok
    above = (over_g & centred) | (placed & tucked & ~ligature)
    # A small round, solid mark over a letter is an i-dot (or j-dot) only
    # over a stem: a speck there would turn 'e' into an accented letter.
    # Accents (strokes, or worn to blobs bigger than a dot) keep the looser
    # rule; so does the dot of a ligature, whose stem may start beside it.
    dotlike = round_dot[q] & (np.maximum(w[q], h[q]) <= DOT_MAX_SIZE * s)
    need = np.flatnonzero(above & dotlike)
    if need.size:
        above[need] = stem_below(c.labels, g[need], cx[q[need]], y1[q[need]], xlb[need], s)
    above |= placed & ligature
    # right after a glyph (periods, commas), and beside one (hyphens, quotes)
    # (a comma may tuck under an italic descender, nothing else under a glyph)
    after = (mq & not_self & (cx[q] > cx[g]) & (hgap_r <= gap_lim)
             & ((hgap_r >= -0.1 * x) | ((hgap_r >= -0.3 * x) & (y0[q] < y1[g] - 0.15 * x)))
             & (y1[q] >= y0[g] + 0.3 * x) & (y0[q] <= y1[g] + 0.1 * x))
    beside = mq & not_self & (hgap >= -0.1 * x) & (hgap <= gap_lim) & (y0[q] >= y0[g] - 0.7 * x) & (y1[q] <= y1[g] + 0.1 * x)
    is_above = any_per(pi, above, n_q)
    # the dot of '!' and '?': under the stem, centred, on the baseline
    under = (mq & not_self & (y0[q] > y1[g]) & (y0[q] - y1[g] - 1 <= 0.5 * np.minimum(xlb, x))
             & (np.abs(cx[q] - cx[g]) <= 0.25 * w[g] + 0.25 * s + 1) & (h[g] >= 0.9 * np.minimum(xlb, x))
             # (a stem that stops short of the line's baseline, not a letter on it)
             & (w[g] <= 0.6 * xl_same[pi]) & (y1[g] <= base_same[pi] - 0.15 * xl_same[pi]))
    is_under = any_per(pi, under, n_q)
    # the dot of a dotted zero: centred inside a figure-height glyph
    inside = (mq & not_self & (x0[q] > x0[g]) & (x1[q] < x1[g]) & (y0[q] > y0[g]) & (y1[q] < y1[g])
              & (np.abs(cx[q] - cx[g]) <= 0.12 * w[g] + 1) & (np.abs(cy[q] - cy[g]) <= 0.12 * h[g] + 1)
              & (h[g] >= 1.15 * x) & (w[g] <= 0.8 * h[g]))
    is_inside = any_per(pi, inside, n_q)
    # (either dot of a pair over a narrow letter, as in 'ï', may overhang it)
    is_above_loose = any_per(pi, over_g & (off_centre | centred | (dx <= 0.5 * w[g] + 0.35 * x)), n_q)
    is_after = any_per(pi, after, n_q)
    # a glyph-sized comma (monospaced fonts): right after a letter, through
    # the baseline -- never dust
    after_any = (not_self & (cx[q] > cx[g]) & (hgap_r >= -0.1 * x) & (hgap_r <= gap_lim)
                 & (y1[q] >= y0[g] + 0.3 * x) & (y0[q] <= y1[g] + 0.1 * x))
    comma_here = np.zeros(n, bool)
    comma_here[qi] = any_per(pi, after_any, n_q) & on_base & (h[qi] <= 1.0 * x) & (w[qi] <= 0.5 * x)
    # (or after punctuation: a comma-shaped glyph through the baseline)
    comma_here[qi] |= on_base & (h[qi] >= 1.3 * w[qi]) & (h[qi] <= 1.0 * x) & (w[qi] <= 0.4 * x)
    is_beside = any_per(pi, beside, n_q)
    period = is_after & on_base
    hyphen = is_beside & mid & (wq >= 1.8 * hq)
    quote = is_beside & upper & (hq >= 1.3 * wq)
    ctx = np.zeros(n, bool)
    ctx[qi] = is_above | period | hyphen | quote | (is_under & on_base) | is_inside
    if low_res:
        # anything with a neighbour (letter or mark) close by stays
        r = 0.5 * x
        pa, pb = points_in_boxes(cx[qi], cy[qi], x0[qi] - r, y0[qi] - r, x1[qi] + r, y1[qi] + r, 2 * x)
        ctx[qi] |= any_per(pa, pa != pb, n_q)
    # Darkness: a mark is print only if about as dark as the page's other
    # marks in text positions (small marks are lighter than stroke cores on
    # a blurred scan, so the reference is the marks, not the strokes).
    sel = c.positions_of(mark)
    darkest = np.full(n, 255, np.int64)
    np.minimum.at(darkest, c.lab[sel], lev_px[sel].astype(np.int64))
    ref_set = mark & ctx
    tol_dark = params.mark_contrast * (paper_level - ink_level)
    if ref_set.sum() >= 8:
        d = darkest[ref_set]
        ref = float(np.median(d))
        # a blurrier scan spreads the marks' darkness: widen by their spread
        tol_dark = max(tol_dark, 2.0 * float(np.median(np.abs(d - ref))))
    else:
        ref = float(ink_level)
    dark_enough = darkest <= max(ref, ink_level) + tol_dark
    # a hairline (an apostrophe one stroke wide) loses more of its darkness
    # to blur than a dot does: twice the tolerance
    dark_enough |= (np.minimum(w, h) <= s) & (np.maximum(w, h) >= 3 * s) & (darkest <= max(ref, ink_level) + HAIRLINE_DARK * tol_dark)
    # A round dot (period, i-dot, colon) is held to the darkness of the
    # page's dots of its own size: blur lightens a small dot more than a big
    # one, so one page-wide level lets a light speck of period size pass as
    # a period. Strokes (accents, quotes, commas) keep the page-wide rule:
    # their darkness follows their width, not their area.
    expect = size_darkness(area / (s * s), darkest, ref_set & round_dot)
    if expect is not None:
        lighter, darker = DOT_DARK_WINDOW
        dark_enough &= ~round_dot | ((darkest <= expect + lighter * tol_dark) & (darkest >= expect - darker * tol_dark))
    kept = mark & ctx & dark_enough
    base_m = np.zeros(n, bool)
    base_m[qi] = on_base
    upper_m = np.zeros(n, bool)
    upper_m[qi] = upper & (hq >= 1.15 * wq)
    loose_m = np.zeros(n, bool)
    loose_m[qi] = is_above_loose
    base_v = np.full(n, np.inf)
    base_v[qi] = base_same
    xl_v = np.full(n, x)
    xl_v[qi] = xl_same

    # Marks next to kept marks of similar size: colons, semicolons, umlauts,
    # double quotes, ellipses. Two rounds reach a chain of three.
    # (tall commas of semicolons are glyph-sized: they anchor like kept marks)
    comma_like = glyph & (h <= 1.0 * x) & (w <= 0.5 * x) & (area <= 0.25 * x * x)
    mi = np.flatnonzero((mark & ~tiny & dark_enough) | comma_like)
    if mi.size:
        pi2, bi2 = points_in_boxes(cx[mi], cy[mi], x0[mi] - 0.6 * x, y0[mi] - 0.8 * x, x1[mi] + 0.6 * x, y1[mi] + 0.8 * x, x)
        a, b = mi[pi2], mi[bi2]
        ratio = area[a] / np.maximum(area[b], 1)
        similar = (a != b) & (ratio >= 0.25) & (ratio <= 4.0)
        hr = h[a] / np.maximum(h[b], 1)
        wr = w[a] / np.maximum(w[b], 1)
        same_shape = similar & (hr >= 0.6) & (hr <= 1.67) & (wr >= 0.5) & (wr <= 2.0)
        # side by side, level: ellipses, double quotes, umlauts
        side = (same_shape & (np.abs(cy[a] - cy[b]) <= 0.25 * np.maximum(h[a], h[b]) + 1)
                & (np.maximum(x0[a] - x1[b], x0[b] - x1[a]) <= 0.5 * x))
        # stacked, the upper one a little above the lower: colons, semicolons
        vgap_ab = y0[b] - y1[a] - 1
        stack = ((wr >= 0.5) & (wr <= 2.0) & (a != b) & (vgap_ab >= 0.1 * x) & (vgap_ab <= 0.8 * x)
                 & (np.abs(cx[a] - cx[b]) <= 0.5 * np.maximum(w[a], w[b]) + 1 + 0.25 * np.abs(cy[a] - cy[b]))
                 # the upper dot of a colon sits about half an x-height up
                 & (base_v[a] - y1[a] >= 0.3 * xl_v[a]) & (base_v[a] - y1[a] <= 1.0 * xl_v[a]))
        pair = side | stack
        # a period or closing quote after a kept mark (quote, bracket, period)
        after_mark = (a != b) & (x0[a] > x1[b]) & (x0[a] - x1[b] - 1 <= params.mark_gap * x) & (base_m[a] | upper_m[a])
        # umlaut / diaeresis: two similar dots side by side over a letter
        umlaut = side & loose_m[a] & loose_m[b] & (np.abs(x0[a] - x1[b]) <= 0.6 * x)
        kept[mi] |= any_per(pi2, umlaut, mi.size)
        # double quotes: two tall marks side by side at the top of a line
        # (a single quote must be clearly tall, see above)
        kept[mi] |= any_per(pi2, side & upper_m[a] & upper_m[b], mi.size)
        for _ in range(2):
            kept[mi] |= any_per(pi2, (pair | after_mark) & (kept[b] | comma_like[b]), mi.size)
        # Dot leaders: at least two similar marks on the same row within 3 x.
        pi3, bi3 = points_in_boxes(cx[mi], cy[mi], x0[mi] - 3 * x, cy[mi] - 0.5 * h[mi] - 1, x1[mi] + 3 * x, cy[mi] + 0.5 * h[mi] + 1, 2 * x)
        a, b = mi[pi3], mi[bi3]
        ratio = area[a] / np.maximum(area[b], 1)
        row = (a != b) & (ratio >= 0.6) & (ratio <= 1.67)
        kept[mi] |= count_per(pi3, row, mi.size) >= 2

    # Halftone / dot fields: dense clusters of marks (tiny ones included) of
    # about the same size as their neighbours (a speckled area has all sizes
    # and, even when heavy, a fraction of the density of a printed screen).
    # The dense core is then grown by two cells so the field's edges stay.
    # (small glyph-sized blobs count too: at high resolution the dark tones of
    # a screen merge into such blobs, and they must not become 'dust')
    ai = np.flatnonzero(mark | (real & (area <= 0.3 * x * x)))
    if ai.size:
        count = local_density(cx[ai], cy[ai], None, c.labels.shape, 0.5 * x, 2)
        total = local_density(cx[ai], cy[ai], area[ai], c.labels.shape, 0.5 * x, 2)
        rel = area[ai] * count / np.maximum(total, 1)
        # A printed screen is a lattice; speckle is random. Clark-Evans
        # index: mean nearest-neighbour distance x sqrt(density) is ~1 for a
        # lattice and ~0.5 for random points.
        r = 0.6 * x
        pa, pb = points_in_boxes(cx[ai], cy[ai], cx[ai] - r, cy[ai] - r, cx[ai] + r, cy[ai] + r, r)
        other = pa != pb
        dnn = np.full(ai.size, r)
        np.minimum.at(dnn, pa[other], np.hypot(cx[ai][pa[other]] - cx[ai][pb[other]], cy[ai][pa[other]] - cy[ai][pb[other]]))
        mean_nn = local_density(cx[ai], cy[ai], dnn, c.labels.shape, 0.5 * x, 2) / np.maximum(count, 1)
        window = (5 * 0.5 * x) ** 2
        lattice = mean_nn * np.sqrt(count / window) >= 0.7
        core = (count >= params.halftone_density) & (rel >= 0.4) & (rel <= 2.5) & lattice
        field = near_selected(cx[ai], cy[ai], core, c.labels.shape, 0.5 * x, 2)
        kept[ai[field]] = True
        # Inside a picture (the box of a large, solid-ish component: the dark
        # mass of a halftone photo) the sparse dots of the highlights are
        # part of the picture, lattice or not.
        pic = np.flatnonzero(real & (area >= 25 * x * x) & (w >= 3 * x) & (h >= 3 * x) & (area >= 0.15 * w * h))
        if pic.size:
            pa, pb = points_in_boxes(cx[ai], cy[ai], x0[pic] - x, y0[pic] - x, x1[pic] + x, y1[pic] + x, 8 * x)
            # ...a picture, not a big letter: strewn with dots (>= 1 per x^2)
            box_x2 = (w[pic] + 2 * x) * (h[pic] + 2 * x) / (x * x)
            dotted = np.bincount(pb, minlength=pic.size) >= box_x2
            kept[ai[np.unique(pa[dotted[pb]])]] = True

    # Dust: compact blobs no bigger than a few letters, away from text and not
    # sitting on a text line like a lone letter would.
    dust = np.zeros(n, bool)
    if params.remove_dust and not low_res:
        blob = real & ~kept & ~comma_here & (area <= params.dust_max_area * x * x) & (area >= params.tiny_area * s * s) & (fill >= 0.4) & (w <= 2.5 * h) & (h <= 2.5 * w)
        close = not_self & (hgap <= params.dust_gap * x) & (vgap <= params.dust_gap * x)
        has_neighbour = any_per(pi, close, n_q)
        # a lone letter or figure sits on a text line: its bottom on the
        # bottom of a letter of its height nearby
        # (bottom on the baseline, or top on the x-line for descenders)
        aligned = same_line & near_x & ((np.abs(y1[g] - y1[q]) <= tol[pi]) | (np.abs(y0[g] - y0[q]) <= tol[pi]))
        # (as tall as a letter: a lone letter is at least x-height tall)
        aligned &= h[q] >= 0.8 * np.minimum(h[g], xl_same[pi])
        on_line = any_per(pi, aligned, n_q)
        # a bullet: a regular blob with text starting just right of it
        bullet = any_per(pi, not_self & (fill[q] >= 0.75) & (hgap_l >= -1) & (hgap_l <= 2 * x)
                         & (y0[g] <= cy[q]) & (y1[g] >= cy[q]), n_q)
        lone = np.zeros(n, bool)
        # within a text line right next to a letter (closer than a word
        # space) it is punctuation, not dust
        in_line = any_per(pi, same_line & (hgap <= 0.5 * x) & (np.abs(cy[q] - cy[g]) <= 0.5 * h[g]), n_q)
        lone[qi] = ~has_neighbour & ~on_line & ~bullet & ~in_line
        # nor on the baseline of kept marks (a page number after a dot leader)
        cand = np.flatnonzero(blob & lone & ~mark)
        km = np.flatnonzero(kept & mark)
        if cand.size and km.size:
            r = 4 * x
            pc, pk = points_in_boxes(cx[cand], cy[cand], x0[km] - r, y0[km] - x, x1[km] + r, y1[km] + x, 2 * x)
            a, b = cand[pc], km[pk]
            level = (np.abs(y1[a] - y1[b]) <= 0.1 * x + 1) & (y0[a] <= y1[b])
            lone[cand[any_per(pc, level, cand.size)]] = False
        dust = blob & lone & ~mark
    kept &= mark
    speck = mark & ~kept
    return Decision(speck=speck, dust=dust, kept_small=kept & mark)


def clean_page(pixels: np.ndarray, params: CleanParams | None = None, dpi: float | None = None) -> PageResult:
    """Clean one page: remove specks and dust, keep everything text needs.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C)
        Gray, RGB or RGBA in RGB order; dtype uint8, uint16 or bool
        (see :func:`despeckled.clean.gray.to_gray`).
    params : CleanParams, optional
        Defaults to ``CleanParams()``.
    dpi : float, optional
        The file's resolution tag, a hint only: sizes are measured from the
        page's own text and the tag is used only when there is too little.

    Returns
    -------
    PageResult

    Examples
    --------
    >>> page = np.full((60, 60), 255, np.uint8)
    >>> page[10:40, 10:14] = 0      # a stem
    >>> page[50, 50] = 0            # an isolated speck
    >>> r = clean_page(page)
    >>> bool(r.removed[50, 50]), bool(r.image[20, 12] == 0)
    (True, True)
    """
    params = params or CleanParams()
    gray = to_gray(pixels)
    res_dpi, _ = plausible_dpi(dpi, params.fallback_dpi)
    if params.median:
        gray = cv2.medianBlur(gray, 3 if res_dpi < 450 else 5)
    ink, levels, level, _ = binarize(gray, params, res_dpi)
    h, w = gray.shape
    # Memory: drop every page-sized array the moment it is dead (``gray`` may
    # be the caller's ``pixels``; then only the name goes).
    del gray
    # At high resolution the analysis runs on a 2x max-pooled copy: every
    # full-resolution ink pixel falls in an ink cell, and pixels sharing a
    # cell share a component, so no kept glyph can lose a pixel to a removed
    # neighbour; the page reads like a 300-dpi one at a quarter of the cost.
    f = ANALYSIS_REDUCTION if res_dpi >= REDUCE_FROM_DPI and min(h, w) >= 64 else 1
    if f > 1:
        ink_a = _max_pool(ink, f)
        levels_a = _min_pool(levels, f, ink_a.shape)
    else:
        ink_a, levels_a = ink, levels
    # The thresholded levels are read (at the ink pixels, and a histogram)
    # before labelling, so they never share memory with the label image; the
    # label image is swapped for a sparse lookup as soon as it is read.
    px = ink_pixels(ink_a)
    lev_px = levels_a.ravel()[px.flat]
    ink_level, paper_level = ink_paper_levels(lev_px, px.interior, levels_a, level)
    del levels, levels_a
    comps = label_components(ink_a, px, sparse=True)
    del px
    shape_a = ink_a.shape
    scale = estimate_scale(comps, None if dpi is None else dpi / f, params.fallback_dpi / f)
    span = paper_level - ink_level
    dec = classify(comps, scale, params, lev_px, ink_level, paper_level)
    # Hysteresis: a component with no pixel clearly darker than the threshold
    # is show-through, a stain or a faint speck, not print.
    faint = ~has_pixel_at_most(comps, lev_px, ink_level + params.faint_contrast * span)
    faint[0] = False
    faint &= ~dec.kept_small        # judged already, against other marks
    if params.mode == "gray":
        # gray mode keeps the page's own pixels: light print (a gray
        # letterhead, pencil) stays; only faint marks go
        faint &= np.maximum(comps.width, comps.height) < params.glyph_size * scale.xheight

    if params.opening:
        opened = cv2.morphologyEx(ink_a, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        # (ink pixels left per component, counted: no float weight per pixel)
        survivors = np.bincount(comps.lab[opened.ravel()[comps.flat] != 0], minlength=comps.n)
        del opened
        short = np.maximum(comps.width, comps.height) < scale.xheight
        thin = (survivors == 0) & short & ~dec.kept_small
        thin[0] = False
        speck = dec.speck | thin
    else:
        speck = dec.speck
    remove_lut = speck | dec.dust | faint
    remove_lut[0] = False

    if f == 1:
        # the masks are built only if someone looks at them (overlays)
        rflat = comps.pixels_of(remove_lut)
        removed = FlatMask((h, w), rflat)
        kept_small = FlatMask((h, w), comps.pixels_of(dec.kept_small))
    else:
        removed = _expand(comps, remove_lut, ink, f, shape_a)
        kept_small = _expand(comps, dec.kept_small, ink, f, shape_a)
        rflat = None

    if params.mode == "binary":
        image = cv2.bitwise_not(ink, dst=ink)    # ink is not needed any more
        if rflat is not None:
            image.ravel()[rflat] = 255
        else:
            cv2.bitwise_or(image, 255, dst=image, mask=removed.view(np.uint8))
    else:
        if rflat is None:
            rflat = np.flatnonzero(removed)
        image = _paint(pixels, (h, w), rflat // w, rflat % w, ink, res_dpi)
        del ink
    n_removed = int(rflat.size) if rflat is not None else int(cv2.countNonZero(removed.view(np.uint8)))

    stats = {
        "specks_removed": int((speck & ~faint).sum()),
        "faint_removed": int((faint & ~speck).sum()),
        "dust_removed": int(dec.dust.sum()),
        "small_kept": int(dec.kept_small.sum()),
        "components": int(comps.n - 1),
        "removed_px": n_removed,
        "stroke_width_px": round(float(scale.stroke) * f, 2),
        "x_height_px": round(float(scale.xheight) * f, 2),
        "analysis_reduction": f,
        "scale_source": scale.source,
        "threshold": params.threshold,
        "threshold_level": int(level),
        "ink_level": round(float(ink_level), 1),
        "paper_level": round(float(paper_level), 1),
    }
    return PageResult(image, removed, kept_small, stats)


def _max_pool(ink: np.ndarray, f: int) -> np.ndarray:
    """``f`` x ``f`` max-pool of a 0/255 mask (any ink in a cell -> ink).

    INTER_AREA averages each cell; one ink pixel of 255 in a 2x2 cell
    averages to 64, never to 0, so "nonzero" is "any ink"."""
    h, w = ink.shape
    if h % f or w % f:
        ink = cv2.copyMakeBorder(ink, 0, (-h) % f, 0, (-w) % f, cv2.BORDER_CONSTANT, value=0)
    small = cv2.resize(ink, (ink.shape[1] // f, ink.shape[0] // f), interpolation=cv2.INTER_AREA)
    return cv2.threshold(small, 0, 255, cv2.THRESH_BINARY)[1]


def _min_pool(levels: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """``f`` x ``f`` min-pool: the darkest pixel of each cell (a 1-px hairline
    keeps its darkness, which averaging would halve)."""
    dark = cv2.erode(levels, np.ones((f, f), np.uint8), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(dark, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def _expand(c: Components, lut: np.ndarray, ink: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Full-resolution bool mask of the ink of labels selected by ``lut``
    (``shape``: the analysed page's)."""
    h, w = ink.shape
    cells = np.zeros(shape, np.uint8)
    cells.ravel()[c.pixels_of(lut)] = 1
    big = cv2.resize(cells, (cells.shape[1] * f, cells.shape[0] * f), interpolation=cv2.INTER_NEAREST)
    if big.shape != (h, w):
        big = np.ascontiguousarray(big[:h, :w])
    return cv2.bitwise_and(big, ink).view(bool)  # 1 & 255 = 1: a valid bool


def stem_below(labels: np.ndarray, g: np.ndarray, cx: np.ndarray, y1: np.ndarray, xl: np.ndarray, s: float) -> np.ndarray:
    """Does a stem of glyph ``g`` start under each dot?

    The first ink of the glyph straight below the dot (within 0.95
    x-heights) is the top of the stem; a third and a half of an x-height
    further down (``STEM_DEPTHS``), the run of the glyph's ink under the dot
    must be at most about two stroke widths wide, with paper on both sides:
    the stem of an i or j. The middle of an e, o, n, a or u is paper or a
    wide bowl, the apex of a w or the diagonal of a z moves off the dot's
    column. Italic stems may lean left going down, up to tan 14 deg.

    Parameters
    ----------
    labels : ndarray, shape (H, W), or SparseLabels
        Component labels (anything indexable by arrays of rows and columns,
        with a ``shape``).
    g : ndarray of int, shape (P,)
        Label of the letter under each dot.
    cx, y1 : ndarray of float, shape (P,)
        Centre column and bottom row of each dot.
    xl : ndarray of float, shape (P,)
        Local x-height (px).
    s : float
        Stroke width (px).

    Returns
    -------
    ndarray of bool, shape (P,)

    Examples
    --------
    >>> lab = np.zeros((40, 40), np.uint16)
    >>> lab[12:30, 8:11] = 1                                    # an i stem
    >>> lab[12:30, 21:23] = 2; lab[12:30, 36:38] = 2; lab[12:14, 21:38] = 2  # an n-like arch
    >>> g = np.array([1, 2]); cx = np.array([9.0, 29.0])
    >>> stem_below(lab, g, cx, np.array([9.0, 9.0]), np.array([18.0, 18.0]), 3.0).tolist()
    [True, False]
    """
    H, W = labels.shape
    k = int(np.ceil(0.95 * float(np.max(xl)))) + 2
    col = np.clip(np.rint(cx).astype(np.intp), 0, W - 1)
    cols = np.clip(col[:, None] + np.arange(-1, 2)[None, :], 0, W - 1)                   # (P, 3)
    rows = np.clip(y1.astype(np.intp)[:, None] + 1 + np.arange(k)[None, :], 0, H - 1)    # (P, k)
    down = (labels[rows[:, :, None], cols[:, None, :]] == g[:, None, None]).any(axis=2)
    first = np.argmax(down, axis=1)
    found = down.any(axis=1) & (first <= 0.95 * xl + 1)
    half = int(np.ceil(2.5 * s)) + 2
    off = np.arange(-half, half + 1)
    j = np.arange(off.size)[None, :]
    for frac in STEM_DEPTHS:
        depth = np.rint(frac * xl).astype(np.intp)
        r = np.clip(rows[np.arange(g.size), first] + depth, 0, H - 1)
        ok = np.zeros(g.size, bool)
        for lean in (np.zeros_like(depth), np.rint(0.25 * depth).astype(np.intp)):   # upright, italic
            xs = np.clip(col[:, None] - lean[:, None] + off[None, :], 0, W - 1)
            row = labels[r[:, None], xs] == g[:, None]                                    # (P, 2 half + 1)
            # the run of ink through the centre (or a pixel either side of it)
            centre = row[:, half - 1:half + 2].any(axis=1)
            start = half - 1 + np.argmax(row[:, half - 1:half + 2], axis=1)
            gap_left = np.where(~row & (j < start[:, None]), j, -1).max(axis=1)
            gap_right = np.where(~row & (j > start[:, None]), j, off.size).min(axis=1)
            run = gap_right - gap_left - 1
            ok |= centre & (gap_left >= 0) & (gap_right < off.size) & (run <= 2 * s + 2)
        found &= ok
    return found


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
    med = _group_median(b, darkest[idx].astype(np.float64), np.ones(idx.size, bool), int(b.max()) + 1)
    ok = np.flatnonzero((np.bincount(b) >= min_count) & np.isfinite(med))
    if ok.size < 2:
        return None
    centres = _group_median(b, lsize[idx], np.ones(idx.size, bool), med.size)[ok]
    return np.interp(lsize, centres, med[ok])


def _group_median(pi: np.ndarray, values: np.ndarray, sel: np.ndarray, n_q: int) -> np.ndarray:
    """Lower median of ``values[sel]`` grouped by ``pi[sel]``; ``inf`` for
    empty groups. One sort, no Python loop.

    >>> _group_median(np.array([0, 0, 0, 2]), np.array([5.0, 1.0, 3.0, 7.0]), np.ones(4, bool), 3).tolist()
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


def _line_geometry(pi: np.ndarray, g: np.ndarray, sel: np.ndarray, h: np.ndarray, w: np.ndarray, y1: np.ndarray, n_q: int, x: float) -> tuple[np.ndarray, np.ndarray]:
    """Per query: local x-height and baseline of the selected letters.

    The x-height is the median height of the selected round-ish letters
    (width at least half the height: commas and stems do not vote; most
    such letters are x-height letters), capped at 1.5 x; the baseline is the
    median of the letters' bottoms (descenders are outvoted). ``inf``
    baseline where nothing is selected.
    """
    roundish = sel & (w[g] >= 0.5 * h[g])
    xl = np.minimum(_group_median(pi, h[g].astype(np.float64), roundish, n_q), 1.5 * x)
    base = _group_median(pi, y1[g].astype(np.float64), sel, n_q)
    return np.where(np.isfinite(xl), xl, x), base


def has_pixel_at_most(c: Components, lev_px: np.ndarray, level: float) -> np.ndarray:
    """Per label: does the component have a pixel at or below ``level``?

    Parameters
    ----------
    c : Components
    lev_px : ndarray of uint8, shape (N,)
        Gray level of each ink pixel (same order as ``c.lab``).
    level : float

    Returns
    -------
    ndarray of bool, shape (c.n,)
    """
    # the darkest pixel per label (ufunc.at's fast path: matching dtypes)
    # is one pass, where selecting the pixels at most ``level`` is two
    darkest = np.full(c.n, np.iinfo(np.uint8).max, np.uint8)
    np.minimum.at(darkest, c.lab, lev_px.astype(np.uint8, copy=False))
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


def _paint(pixels: np.ndarray, shape: tuple[int, int], ry: np.ndarray, rx: np.ndarray, ink: np.ndarray, res_dpi: float) -> np.ndarray:
    """Copy of the input (as uint8) with removed pixels, grown by one pixel
    into non-ink neighbours to cover anti-aliased rims, painted with the
    local paper colour.

    ``ink`` (0/255, ``shape``) is scribbled on: removed pixels are marked in
    it (no page-sized mask of their own)."""
    a = np.asarray(pixels)
    if a.dtype == bool or a.dtype == np.uint16 or (a.ndim == 3 and a.shape[2] == 1):
        base = to_gray(a) if a.ndim == 2 or a.shape[2] == 1 else _to_uint8(a)
    else:
        base = _to_uint8(a)
    out = np.array(base, copy=True)
    if ry.size == 0:
        return out
    h, w = shape
    # grow by one pixel (8-neighbourhood), never onto kept ink
    dy, dx = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2), indexing="ij")
    yy = np.clip(ry[:, None] + dy.ravel()[None, :], 0, h - 1).ravel()
    xx = np.clip(rx[:, None] + dx.ravel()[None, :], 0, w - 1).ravel()
    ink[ry, rx] = 1                 # removed ink: 1, kept ink 255, paper 0
    ok = ink[yy, xx] != 255
    yy, xx = yy[ok], xx[ok]
    colour = out if out.ndim == 2 else out[..., :3]
    # wide window: the paint must come from paper beyond the largest removed blob
    window = PAINT_WINDOW_MM * res_dpi / 25.4
    low, factor = th.background_lowres(np.ascontiguousarray(colour), window)
    ly = np.minimum(yy // factor, low.shape[0] - 1)
    lx = np.minimum(xx // factor, low.shape[1] - 1)
    if out.ndim == 2:
        out[yy, xx] = low[ly, lx]
    else:
        out[yy, xx, :3] = low[ly, lx].reshape(-1, 3)
    return out


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if a.dtype == bool:
        return a.view(np.uint8) * np.uint8(255)
    raise ValueError(f"unsupported pixel dtype {a.dtype}")
