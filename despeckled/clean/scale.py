"""Page-relative scale: stroke width and x-height measured from the ink,
with the resolution only as a fallback for pages with too little text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from despeckled.clean.components import Components
from despeckled.clean.context import points_in_boxes

#: Typical body text (10-11 pt serif) per inch of resolution: stroke width
#: ~0.29 mm, x-height ~1.6 mm. Used only when the page has too little text.
STROKE_PER_DPI = 0.0115
XHEIGHT_PER_DPI = 0.063
#: A letter is at least this many times as tall or wide as its own
#: thickness (``Components.thickness``: about the stroke width of a letter,
#: the radius of a disc).
STROKE_BUILT = 3.0
#: A letter's neighbour on its line (:func:`in_a_row`): sharing this much
#: of the smaller height, heights within this factor, gap at most this many
#: heights.
ROW_OVERLAP = 0.6
#: Only letters filling at most this share of their box may be frames.
FRAME_MAX_FILL = 0.4
#: At most about this many candidates are tested for a row neighbour.
ROW_SAMPLE = 300
ROW_HEIGHT = 1.6
ROW_GAP = 1.0
#: Fewer letter-sized components than this and the measurement is not trusted.
MIN_LETTERS = 12
#: With fewer letters than MIN_LETTERS but at least this many, they cap the
#: resolution's guess.
MIN_FEW_LETTERS = 3
#: When fewer than this share of the stroke-built candidates tested have a
#: row neighbour, the page is mostly noise and only those in rows vote for
#: the x-height.
MIN_IN_ROWS = 0.5
#: A DPI tag is borne out when the median thickness of the page's
#: stroke-built components is within these factors of the stroke the tag
#: predicts (:data:`STROKE_PER_DPI`).
TAG_STROKE_AGREES = (0.6, 1.3)
#: DPI tags outside this range are treated as missing (scanners write 72/96).
PLAUSIBLE_DPI = (100.0, 2400.0)


@dataclass(frozen=True)
class Scale:
    """Text scale of a page, in pixels.

    Attributes
    ----------
    stroke : float
        Typical stroke width of body text.
    xheight : float
        Typical height of lowercase letters without ascenders.
    source : str
        ``"measured"`` (from the ink), ``"dpi-checked"`` (the file's tag,
        borne out by the page's stroke width), ``"dpi"`` (the file's tag) or
        ``"fallback"`` (``CleanParams.fallback_dpi``).
    letters : int
        Number of letter-sized components the measurement used.
    """

    stroke: float
    xheight: float
    source: str
    letters: int = 0


def plausible_dpi(dpi: float | None, fallback: float) -> tuple[float, str]:
    """The resolution to assume, and where it came from.

    >>> plausible_dpi(96, 300.0)
    (300.0, 'fallback')
    >>> plausible_dpi(600, 300.0)
    (600.0, 'dpi')
    """
    if dpi is not None and PLAUSIBLE_DPI[0] <= float(dpi) <= PLAUSIBLE_DPI[1]:
        return float(dpi), "dpi"
    return float(fallback), "fallback"


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cw = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cw, cw[-1] / 2.0)])


def in_a_row(x0: np.ndarray, y1: np.ndarray, x1: np.ndarray, h: np.ndarray, test: np.ndarray | None = None) -> np.ndarray:
    """Which boxes have a neighbour of similar height on their line.

    A neighbour's centre lies in the box's rows, the two share
    :data:`ROW_OVERLAP` of the smaller height, their heights are within a
    factor :data:`ROW_HEIGHT`, and the horizontal gap is at most
    :data:`ROW_GAP` heights.

    Parameters
    ----------
    x0, y1, x1 : ndarray of int, shape (N,)
        Left, bottom and right edges (pixels, inclusive).
    h : ndarray of int, shape (N,)
        Heights (pixels).
    test : ndarray of int, optional
        Only these boxes are tested (all serve as neighbours); the others
        are False.

    Returns
    -------
    ndarray of bool, shape (N,)

    Examples
    --------
    >>> x0 = np.array([0, 12, 200]); x1 = x0 + 9; y1 = np.array([20, 21, 20]); h = np.array([10, 11, 10])
    >>> in_a_row(x0, y1, x1, h).tolist()
    [True, True, False]
    """
    n = h.size
    if n < 2:
        return np.zeros(n, bool)
    hf = h.astype(np.float64)
    # (looked for by centre, a word's width out; the gap is checked after)
    reach = ROW_GAP * hf + 3.0 * hf
    cx = (x0 + x1) / 2.0
    cy = y1 - (hf - 1) / 2.0
    t = np.arange(n) if test is None else np.asarray(test, np.intp)
    pi, ti = points_in_boxes(cx, cy, x0[t] - reach[t], y1[t] - hf[t] + 1, x1[t] + reach[t], y1[t],
                             max(4.0, float(np.median(hf)) * 2))
    bi = t[ti]
    # (the two overlap by ROW_OVERLAP of the smaller height: a word with a
    # descender beside one without still shares most of its line)
    overlap = np.minimum(y1[pi], y1[bi]) - np.maximum(y1[pi] - h[pi], y1[bi] - h[bi])
    gap = np.maximum(x0[pi] - x1[bi], x0[bi] - x1[pi]) - 1
    ok = ((pi != bi) & (h[pi] * ROW_HEIGHT >= h[bi]) & (h[bi] * ROW_HEIGHT >= h[pi])
          & (overlap >= ROW_OVERLAP * np.minimum(h[pi], h[bi])) & (gap <= ROW_GAP * hf[bi]))
    return np.bincount(bi[ok], minlength=n) > 0


def frames(comps: Components, labels: np.ndarray) -> np.ndarray:
    """Which of ``labels`` hold the centre of a smaller component at least a
    third their height inside their box (a form's character box holding its
    letter, a frame around a word; a letter holds none).

    Parameters
    ----------
    comps : Components
    labels : ndarray of int, shape (K,)

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    out = np.zeros(labels.size, bool)
    if labels.size == 0 or comps.n < 3:
        return out
    # (only what is big enough to be held: a third of the smallest candidate)
    others = np.flatnonzero(comps.height * 3 >= int(comps.height[labels].min()))
    others = others[others > 0]
    pi, bi = points_in_boxes(comps.cx[others], comps.cy[others], comps.x0[labels] + 1, comps.y0[labels] + 1,
                             comps.x1[labels] - 1, comps.y1[labels] - 1,
                             max(4.0, float(np.median(comps.height[labels])) * 2))
    inside = others[pi] != labels[bi]
    # (a frame holds something smaller than itself -- the letter in a box
    # holds the box's centre, but not the box -- and at least a third of its
    # own height: not the dot of a dotted zero, nor a crumb in a counter)
    ho, hl = comps.height[others[pi]], comps.height[labels[bi]]
    inside &= (ho < hl) & (ho * 3 >= hl)
    out[np.unique(bi[inside])] = True
    return out


def in_frames(comps: Components, airy: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which of ``labels`` are a frame found among ``airy`` (see
    :func:`frames`), or lie in one (:func:`framed`): a form's character box
    and its entry, a ticked checkbox and its tick.

    Parameters
    ----------
    comps : Components
    airy, labels : ndarray of int
        Labels that may be frames (mostly paper), and labels to ask about.

    Returns
    -------
    ndarray of bool, shape (labels.size,)
    """
    fr = airy[frames(comps, airy)]
    return np.isin(labels, fr) | framed(comps, fr, labels)


def framed(comps: Components, frame_labels: np.ndarray, labels: np.ndarray, min_share: float = 0.0) -> np.ndarray:
    """Which of ``labels`` lie in a frame: their centre inside the box of
    one of ``frame_labels`` (see :func:`frames`) that is taller than they
    are (a character box's letter, a checkbox's tick).

    Parameters
    ----------
    comps : Components
    frame_labels, labels : ndarray of int
    min_share : float
        Only labels at least this share of their frame's height count (a
        form's entry, not a speck in its box).

    Returns
    -------
    ndarray of bool, shape (labels.size,)
    """
    out = np.zeros(labels.size, bool)
    if frame_labels.size == 0 or labels.size == 0:
        return out
    fr = frame_labels
    pi, bi = points_in_boxes(comps.cx[labels], comps.cy[labels], comps.x0[fr], comps.y0[fr], comps.x1[fr],
                             comps.y1[fr], max(4.0, float(np.median(comps.height[fr]))))
    hq, hf = comps.height[labels[pi]], comps.height[fr[bi]]
    inner = (hq < hf) & (hq >= min_share * hf)
    out[np.unique(pi[inner])] = True
    return out


def estimate_scale(comps: Components, dpi: float | None, fallback_dpi: float = 300.0) -> Scale:
    """Measure stroke width and x-height from the page's components.

    Stroke width is the area-weighted median of per-component thickness over
    components large enough to be letters; x-height is the mode of the
    heights of letter-like components (most lowercase letters are exactly
    one x-height tall). Both fall back to the resolution when fewer than
    :data:`MIN_LETTERS` letters are found.

    Parameters
    ----------
    comps : Components
    dpi : float or None
        The file's resolution tag (a hint; often wrong).
    fallback_dpi : float
        Assumed resolution when the tag is missing or implausible.

    Returns
    -------
    Scale
    """
    res, res_source = plausible_dpi(dpi, fallback_dpi)
    guess_s = max(1.0, res * STROKE_PER_DPI)
    guess_x = max(4.0, res * XHEIGHT_PER_DPI)
    area, h, w, t = comps.area[1:], comps.height[1:], comps.width[1:], comps.thickness[1:]
    # Letter candidates: not specks, not page-sized, roughly letter-shaped.
    cand = (area >= 12) & (h >= 5) & (h <= 400) & (w <= 6 * h) & (h <= 8 * w)
    # Is there text to measure? Candidates built of strokes (at least
    # STROKE_BUILT times as tall or wide as thick: a disc is twice its
    # "thickness", the radius; a letter five or more) and set in a line
    # (text comes in rows, specks are strewn): a page of specks and dust
    # around a page number is not measured from the specks.
    built = cand & (np.maximum(h, w) >= STROKE_BUILT * t)
    texty = built.copy()
    # (on a page of text, a sample of them is plenty to tell)
    nt = int(texty.sum())
    sample = np.arange(0, nt, max(1, nt // ROW_SAMPLE))
    texty[texty] = in_a_row(comps.x0[1:][texty], comps.y1[1:][texty], comps.x1[1:][texty], h[texty], sample)
    # (most stroke-built candidates of a text page sit in rows; on a page
    # of specks and dust with a heading or a page number, few do)
    in_rows = float(texty.sum()) / max(1, sample.size)
    if texty.sum() < MIN_LETTERS:
        # Too little text. The resolution's guess, but never bigger than the
        # few letters there are (a tag may be missing or wrong; a too-big
        # x-height would make marks of letters, a too-small one only keeps
        # more specks).
        # A tag whose stroke width the page's own strokes bear out is
        # trusted as if measured (a music page, a page number among specks
        # at a true 300 dpi); a missing or lying tag is not.
        if res_source == "dpi" and built.sum() >= MIN_LETTERS:
            ratio = float(np.median(t[built])) / guess_s
            if TAG_STROKE_AGREES[0] <= ratio <= TAG_STROKE_AGREES[1]:
                res_source = "dpi-checked"
        if texty.sum() >= MIN_FEW_LETTERS:
            guess_x = max(4.0, min(guess_x, float(np.median(h[texty]))))
            guess_s = max(1.0, min(guess_s, float(np.median(t[texty]))))
        return Scale(guess_s, guess_x, res_source, int(texty.sum()))
    # First guess: the median over candidates (one vote per component, so a
    # few heavy blobs or a bold headline cannot outvote the body text).
    stroke = max(1.0, float(np.median(t[cand])))
    letters = cand & (t <= 2.0 * stroke) & (h >= 2.5 * stroke) & (h <= 40 * stroke)
    # (not a frame: a form's character boxes, each holding a letter, would
    # outvote the letters; nor what a frame holds: a form's entries are set
    # in the boxes' size, often bigger than the labels' text, and as many.
    # A frame is mostly paper: only candidates at most FRAME_MAX_FILL of
    # their box are asked)
    li = np.flatnonzero(letters)
    letters[li[in_frames(comps, np.flatnonzero(cand & (area <= FRAME_MAX_FILL * w * h)) + 1, li + 1)]] = False
    nl = int(letters.sum())
    if nl < MIN_LETTERS:
        return Scale(stroke, max(4.0, 5.5 * stroke), "measured", nl)
    voters = letters
    if in_rows < MIN_IN_ROWS and int((letters & texty).sum()) >= MIN_LETTERS:
        # (mostly noise: only the letters set in rows vote, or the specks'
        # sizes would be taken for the text's)
        voters = letters & texty
    hist = np.bincount(h[voters]).astype(np.float64)
    # Smooth so two neighbouring heights (anti-aliasing) vote together.
    hist = np.convolve(hist, [1.0, 2.0, 3.0, 2.0, 1.0], mode="same")
    xheight = max(4.0, float(np.argmax(hist)))
    # Refine: the stroke of letters about one x-height tall (body text).
    body = cand & (h >= 0.8 * xheight) & (h <= 1.25 * xheight)
    if body.sum() >= MIN_LETTERS:
        stroke = max(1.0, _weighted_median(t[body], area[body].astype(np.float64)))
    return Scale(stroke, xheight, "measured", nl)
