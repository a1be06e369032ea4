"""The keep/remove rules, one function each, and :func:`classify`, the
cascade that runs them.

Components at least ``glyph_size`` x-heights tall or wide are glyphs and
kept. Smaller ones are *marks*: a mark is kept only if it sits where text
puts marks (a *placement* rule: :func:`i_dot`, :func:`period`,
:func:`hyphen`, :func:`quote`, :func:`under_stem`, :func:`dotted_zero`,
:func:`crowded`) and is as dark as the page's other marks there
(:func:`darkness`); or if it belongs with kept marks (:func:`umlaut`,
:func:`double_quote`, :func:`pair`), in a row of similar marks
(:func:`leader`), or in a dot field (:func:`halftone`, :func:`picture`).
Glyph-sized compact blobs away from text are :func:`dust`; lone thin
straight strokes at a slant, far from any ink, are a :func:`scratch`.

Every rule reads a :class:`~despeckled.clean.marks.Marks` (per-component
features and the mark-letter join) and returns one bool per label (shape
(n,), index 0 the background). The pair rules also read a
:class:`MarkPairs` (the marks near each other); rules that extend the
verdicts so far take them as ``kept``.

Sizes: ``s`` is the stroke width and ``x`` the x-height (px of the
analysed page), "local x-height" the x-height of the mark's own line;
"+ 1" in a comparison is one pixel of rounding slack.

:class:`Decision` records, per label, which rule kept or removed it
(:class:`Rule`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from despeckled.clean.components import Components
from despeckled.clean.context import any_per, count_per, local_density, near_selected, points_in_boxes
from despeckled.clean.marks import Marks
from despeckled.clean.stats import size_darkness


class Rule(IntEnum):
    """Why a label was kept or removed (``Decision.rule``, uint8).

    Keeping rules come first, removing rules from :attr:`TINY` on
    (:func:`is_removal`). A label kept by several rules is credited to the
    first in this order.
    """

    NONE = 0            #: the background (label 0)
    GLYPH = 1           #: glyph-sized: kept
    I_DOT = 2           #: an i-dot or accent over a letter
    PERIOD = 3          #: a period or comma on the baseline after a letter
    HYPHEN = 4          #: a hyphen or dash at mid-line beside a letter
    QUOTE = 5           #: a quote high beside a letter
    UNDER_STEM = 6      #: the dot of '!' or '?'
    DOTTED_ZERO = 7     #: the dot inside a zero
    CROWDED = 8         #: low resolution: anything with a neighbour
    UMLAUT = 9          #: two dots side by side over a letter
    DOUBLE_QUOTE = 10   #: two tall marks side by side high on a line
    PAIR = 11           #: next to a kept mark of similar size (colon, ellipsis)
    LEADER = 12         #: in a row of similar marks (dot leaders)
    HALFTONE = 13       #: in a dense lattice of dots
    PICTURE = 14        #: dots strewn in a picture's box
    # the hard guards (despeckled.clean.guards): a rule wanted it removed, a guard kept it
    GLYPH_SHAPED = 15   #: letter-tall and stroke-built: a lone glyph or digit
    STACKED_PAIR = 16   #: one of two equal dots stacked: a colon, clef dots
    REGULAR_ROW = 17    #: in a row or column at a steady pitch: leaders, dashes, code modules
    IN_DARK_FIELD = 18  #: inside a dark field: a counter of reverse text
    INSIDE_BLOCK = 19   #: inside a code's, logo's or picture's box
    BESIDE_LETTER = 20  #: a blob a letter's width from a letter of its line: headline punctuation
    BETWEEN_GLYPHS = 21  #: a dash between two glyphs of a line: a minus, a hyphen
    MINUS_SIGN = 22     #: a stroke-thick bar at mid-line beside a glyph: a minus before a figure
    COLON_ON_LINE = 23  #: two similar dots stacked in a line's x-band: a colon a word space off
    BESIDE_GRAPHIC = 24  #: a round dot as dark as print close to a graphic: a staccato or augmentation dot by a note
    ENCLOSED = 25       #: wholly inside a letter-sized component's box: a dotted zero's dot, a finder's centre
    DOT_OVER_STEM = 26  #: a dot straight over a narrow x-height stem: the dot of an i or a j
    BROKEN_GLYPH = 27   #: pieces of one faint glyph, together letter-tall, beside a letter of their line
    DASH_ROW = 28       #: one of several dashes on one level: a dashed separator printed faint
    LETTER_PIECE = 29   #: a piece off a letter's top or bottom that makes it as tall as its neighbours
    POINT_BETWEEN = 30  #: a point on the baseline between two glyphs: a decimal point, a date's separator
    RING_BESIDE_STROKE = 31  #: a ring drawn with a letter's stroke beside a glyph: the circle of a '%', a degree sign
    IN_FRAME = 32       #: a third of its frame's height inside a form's frame or a table's cell: a boxed character, a tick
    PRINT_DARK = 33     #: as dark as the page's glyphs: print, not show-through
    TINY = 34           #: removed: smaller than ``tiny_area``
    NO_CONTEXT = 35     #: removed: a mark where text puts none
    TOO_LIGHT = 36      #: removed: in a text position, but lighter than the page's marks
    DUST = 37           #: removed: a compact blob away from text
    SCRATCH = 38        #: removed: a lone thin straight oblique stroke (a hair, a scratch)
    FAINT = 39          #: removed: no pixel clearly darker than the threshold (hysteresis)
    THIN = 40           #: removed: erased by the opening (``opening = true``)
    # the trained model (``decider = "model"``, :mod:`despeckled.clean.model`)
    MODEL = 41          #: removed: the model is confident it is a speck or dust
    MODEL_KEPT = 42     #: kept: the cascade would remove it, the model is not confident


#: ``RULE_NAMES[decision.rule[label]]``: the rule's name, e.g. ``"i-dot"``.
RULE_NAMES = tuple(r.name.lower().replace("_", "-") for r in Rule)


def is_removal(rule: np.ndarray) -> np.ndarray:
    """Which rule ids remove their label.

    >>> is_removal(np.array([Rule.GLYPH, Rule.DUST], np.uint8)).tolist()
    [False, True]
    """
    rule = np.asarray(rule)
    return (rule >= Rule.TINY) & (rule != Rule.MODEL_KEPT)


@dataclass(frozen=True)
class Decision:
    """Per-label verdicts (length ``n``; index 0 is the background).

    Attributes
    ----------
    speck, dust, kept_small : ndarray of bool, shape (n,)
        Marks removed; glyph-sized blobs removed as dust; marks kept.
    rule : ndarray of uint8, shape (n,)
        The :class:`Rule` that kept or removed each label.
    confidence : ndarray of float64, shape (n,), or None
        The trained model's speck probability (0..1) of each label it
        judged (0 elsewhere); None for the rule cascade.
    overruled : ndarray of uint8, shape (n,), or None
        The removing :class:`Rule` a guard overruled (0 where none did).
    faint_ok : ndarray of bool, shape (n,), or None
        Labels the guards keep from being removed as faint.
    """

    speck: np.ndarray
    dust: np.ndarray
    kept_small: np.ndarray
    rule: np.ndarray
    confidence: np.ndarray | None = None
    overruled: np.ndarray | None = None
    faint_ok: np.ndarray | None = None


def credit(rule: np.ndarray, sel: np.ndarray, which: Rule) -> None:
    """Record ``which`` for the labels ``sel`` picks that have no rule yet."""
    rule[sel & (rule == Rule.NONE)] = which


def _memo(fn):
    """Compute ``fn(m)`` once per :class:`Marks` (shared by several rules)."""
    def wrapper(m: Marks):
        cache = m.cache
        if fn.__name__ not in cache:
            cache[fn.__name__] = fn(m)
        return cache[fn.__name__]
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


# --- placement: where text puts small marks ---------------------------------

#: Italics put the dot to the right, by up to tan(14 deg) of the height.
ITALIC_SLANT = 0.25
#: Centred over a letter: within this fraction of the letter's width plus
#: this many stroke widths; at most this many x-heights wider than it.
CENTRED = (0.05, 0.25)
CENTRED_WIDER = 0.4
#: Off-centre (one of a pair of dots): within this fraction of the letter's
#: width plus this many stroke widths; at most this fraction of its width.
OFF_CENTRE = (0.35, 0.5)
OFF_CENTRE_WIDTH = 0.7
#: Loosely over a letter (umlauts): within this fraction of its width plus
#: this many x-heights.
LOOSE = (0.5, 0.35)
#: Measured on rendered text: an i-dot or accent's bottom is 0.7 to 1.35
#: local x-heights above the baseline, up to 1.65 over letters taller than
#: 1.25 local x-heights (capitals, ascenders).
LIFT = (0.7, 1.35, 1.65)
LIFT_TALL_LETTER = 1.25
#: Letters under a dot are at most this many x-heights tall.
OVER_LETTER_MAX = 1.8
#: A letter wide enough to tuck a dot under its hook (local x-heights);
#: the dot's bottom in the upper part of the letter (fraction of its height).
TUCK_WIDTH = 1.2
TUCK_DEPTH = 0.5
#: The 'fi' ligature: at least this tall and wide (local x-heights).
LIGATURE_SIZE = (1.2, 0.7)
#: Marks at most this many stroke widths across, round and solid, are
#: dots: over a letter they must sit on a stem (:func:`stem_below`).
DOT_MAX_SIZE = 2.0
#: Depths (in x-heights below the top of the ink under the dot) at which
#: the stem must run straight down under the dot: a stem, not the apex of a
#: 'w' or the diagonal of a 'z'.
STEM_DEPTHS = (0.33, 0.5)
#: The stem's top is at most this many local x-heights (plus a pixel) below
#: the dot; its run of ink at most :data:`STEM_RUN` stroke widths (plus two
#: pixels) wide, with paper within :data:`STEM_SEARCH` stroke widths on
#: both sides.
STEM_TOP = 0.95
STEM_RUN = 2
STEM_SEARCH = 2.5


@dataclass(frozen=True)
class OverLetter:
    """Per (mark, letter) pair: is the mark over the letter as an i-dot or
    accent is (arrays of shape (K,))."""

    dx: np.ndarray          # horizontal offset from the letter's centre, slant allowed (px)
    centred: np.ndarray
    off_centre: np.ndarray
    xlb: np.ndarray         # local x-height of the line below the mark (px)
    lift_ok: np.ndarray
    over: np.ndarray        # a mark just above the letter at dot height


@_memo
def over_letter(m: Marks) -> OverLetter:
    """Where each mark sits relative to the letters below it."""
    P, x, s = m.near, m.x, m.s
    q, g = P.q, P.g
    cx, cy, w, h, y0, y1 = m.cx, m.cy, m.w, m.h, m.y0, m.y1
    slant = np.maximum(ITALIC_SLANT * (cy[g] - cy[q]), 0.0)
    dxs = cx[q] - cx[g]
    dx = np.minimum(np.abs(dxs), np.abs(dxs - slant))
    dx = np.where((dxs > 0) & (dxs < slant), 0.0, dx)
    centred = (dx <= CENTRED[0] * w[g] + CENTRED[1] * s + 1) & (w[q] <= w[g] + CENTRED_WIDER * x)
    off_centre = (dx <= OFF_CENTRE[0] * w[g] + OFF_CENTRE[1] * s + 1) & (w[q] <= OFF_CENTRE_WIDTH * w[g] + 1)
    xlb, bb = P.xl_below[P.pi], P.base_below[P.pi]
    lift = bb - y1[q]
    lift_ok = (np.isfinite(bb) & (lift >= LIFT[0] * xlb)
               & (lift <= np.where(h[g] < LIFT_TALL_LETTER * xlb, LIFT[1], LIFT[2]) * xlb))
    dot_gap = y0[g] - y1[q] - 1
    over = (P.mq & P.not_self & (h[g] <= OVER_LETTER_MAX * x) & (dot_gap >= -1)
            & (dot_gap <= m.params.dot_gap * np.minimum(xlb, x)) & lift_ok)
    return OverLetter(dx, centred, off_centre, xlb, lift_ok, over)


def i_dot(m: Marks) -> np.ndarray:
    """i-dots and accents: above a letter, at dot height, centred on it; or
    tucked under the hook of a wide glyph (a ligature: fi, ffi).

    A small round solid mark over a letter is a dot only over a stem
    (:func:`stem_below`): a speck there would turn 'e' into an accented
    letter. Accents (strokes, or worn to blobs bigger than
    :data:`DOT_MAX_SIZE`) keep the looser rule; so does the dot of a
    ligature, whose stem may start beside it.
    """
    P, x, s = m.near, m.x, m.s
    q, g = P.q, P.g
    cx, w, h, x0, y0, x1, y1 = m.cx, m.w, m.h, m.x0, m.y0, m.x1, m.y1
    o = over_letter(m)
    xlb = o.xlb
    tucked = ((w[g] >= TUCK_WIDTH * np.minimum(xlb, x)) & (cx[q] >= x0[g]) & (cx[q] <= x1[g])
              & (y1[q] < y0[g] + TUCK_DEPTH * h[g]))
    # the 'fi' ligature: the dot inside the box, under the f's hook
    # (its stem may start beside the dot, under the hook)
    ligature = ((h[g] >= LIGATURE_SIZE[0] * xlb) & (w[g] >= LIGATURE_SIZE[1] * xlb) & (y0[q] >= y0[g])
                & (x0[q] > x0[g]) & (x1[q] <= x1[g]) & (y1[q] < y0[g] + TUCK_DEPTH * h[g]))
    placed = P.mq & P.not_self & (h[g] <= OVER_LETTER_MAX * x) & o.lift_ok
    above = (o.over & o.centred) | (placed & tucked & ~ligature)
    dotlike = m.round_dot[q] & (np.maximum(w[q], h[q]) <= DOT_MAX_SIZE * s)
    need = np.flatnonzero(above & dotlike)
    if need.size:
        above[need] = stem_below(m.c.labels, g[need], cx[q[need]], y1[q[need]], xlb[need], s)
    above |= placed & ligature
    return m.per_label(any_per(P.pi, above, P.n_q))


#: Punctuation right after a letter may overlap it by this many x-heights,
#: or by :data:`AFTER_TUCK` when it reaches under the letter's bottom by
#: :data:`AFTER_TUCK_DEPTH` (a comma under an italic descender).
AFTER_OVERLAP = 0.1
AFTER_TUCK = 0.3
AFTER_TUCK_DEPTH = 0.15
#: ... its bottom at least this far (x) below the letter's top, its top at
#: most :data:`AFTER_BELOW` below the letter's bottom.
AFTER_DOWN = 0.3
AFTER_BELOW = 0.1


def _after(m: Marks, mq: np.ndarray) -> np.ndarray:
    """Per pair: the mark right after the letter, level with it (``mq``:
    which marks may be punctuation)."""
    P, x = m.near, m.x
    q, g = P.q, P.g
    return (mq & P.not_self & (m.cx[q] > m.cx[g]) & (P.hgap_r <= P.gap_lim)
            & ((P.hgap_r >= -AFTER_OVERLAP * x)
               | ((P.hgap_r >= -AFTER_TUCK * x) & (m.y0[q] < m.y1[g] - AFTER_TUCK_DEPTH * x)))
            & (m.y1[q] >= m.y0[g] + AFTER_DOWN * x) & (m.y0[q] <= m.y1[g] + AFTER_BELOW * x))


def period(m: Marks) -> np.ndarray:
    """Periods and commas: right after a letter, reaching the baseline."""
    P = m.near
    return m.per_label(any_per(P.pi, _after(m, P.mq), P.n_q) & P.on_base)


#: Beside a letter: at most :data:`AFTER_OVERLAP` x overlapping it, its top
#: at most this many x-heights above the letter's top.
BESIDE_RISE = 0.7
#: A hyphen is at least this many times as wide as tall; a single quote at
#: least this many times as tall as wide (a quote of a pair:
#: :data:`PAIR_QUOTE_TALL`).
HYPHEN_WIDE = 1.8
QUOTE_TALL = 1.3


@_memo
def beside(m: Marks) -> np.ndarray:
    """Per queried mark (shape (Q,)): a letter beside it, level with it."""
    P, x = m.near, m.x
    q, g = P.q, P.g
    ok = (P.mq & P.not_self & (P.hgap >= -AFTER_OVERLAP * x) & (P.hgap <= P.gap_lim)
          & (m.y0[q] >= m.y0[g] - BESIDE_RISE * x) & (m.y1[q] <= m.y1[g] + AFTER_BELOW * x))
    return any_per(P.pi, ok, P.n_q)


def hyphen(m: Marks) -> np.ndarray:
    """Hyphens and dashes: beside a letter, at mid-line, wide."""
    qi = m.near.qi
    return m.per_label(beside(m) & m.near.mid & (m.w[qi] >= HYPHEN_WIDE * m.h[qi]))


def quote(m: Marks) -> np.ndarray:
    """Single quotes and apostrophes: beside a letter, high on the line, tall."""
    qi = m.near.qi
    return m.per_label(beside(m) & m.near.upper & (m.h[qi] >= QUOTE_TALL * m.w[qi]))


#: The dot of '!' or '?': at most this many local x-heights under the stem,
#: centred on it (fraction of its width + stroke widths), under a stem at
#: least :data:`UNDER_STEM_HEIGHT` local x-heights tall, at most
#: :data:`UNDER_STEM_WIDTH` wide, ending at least :data:`UNDER_STEM_SHORT`
#: above the baseline.
UNDER_GAP = 0.5
UNDER_CENTRED = (0.25, 0.25)
UNDER_STEM_HEIGHT = 0.9
UNDER_STEM_WIDTH = 0.6
UNDER_STEM_SHORT = 0.15


def under_stem(m: Marks) -> np.ndarray:
    """The dot of '!' and '?': under the stem, centred, on the baseline."""
    P, x, s = m.near, m.x, m.s
    q, g, pi = P.q, P.g, P.pi
    xlb = over_letter(m).xlb
    ok = (P.mq & P.not_self & (m.y0[q] > m.y1[g]) & (m.y0[q] - m.y1[g] - 1 <= UNDER_GAP * np.minimum(xlb, x))
          & (np.abs(m.cx[q] - m.cx[g]) <= UNDER_CENTRED[0] * m.w[g] + UNDER_CENTRED[1] * s + 1)
          & (m.h[g] >= UNDER_STEM_HEIGHT * np.minimum(xlb, x))
          # (a stem that stops short of the line's baseline, not a letter on it)
          & (m.w[g] <= UNDER_STEM_WIDTH * P.xl_same[pi])
          & (m.y1[g] <= P.base_same[pi] - UNDER_STEM_SHORT * P.xl_same[pi]))
    return m.per_label(any_per(pi, ok, P.n_q) & P.on_base)


#: The dot of a dotted zero: centred (fractions of the glyph's width and
#: height) inside a glyph at least this many x-heights tall (a figure), at
#: most this fraction of its height wide.
ZERO_CENTRED = 0.12
ZERO_MIN_HEIGHT = 1.15
ZERO_MAX_WIDTH = 0.8


def dotted_zero(m: Marks) -> np.ndarray:
    """The dot of a dotted zero: centred inside a figure-height glyph."""
    P, x = m.near, m.x
    q, g = P.q, P.g
    x0, y0, x1, y1, cx, cy, w, h = m.x0, m.y0, m.x1, m.y1, m.cx, m.cy, m.w, m.h
    ok = (P.mq & P.not_self & (x0[q] > x0[g]) & (x1[q] < x1[g]) & (y0[q] > y0[g]) & (y1[q] < y1[g])
          & (np.abs(cx[q] - cx[g]) <= ZERO_CENTRED * w[g] + 1) & (np.abs(cy[q] - cy[g]) <= ZERO_CENTRED * h[g] + 1)
          & (h[g] >= ZERO_MIN_HEIGHT * x) & (w[g] <= ZERO_MAX_WIDTH * h[g]))
    return m.per_label(any_per(P.pi, ok, P.n_q))


#: Low resolution: a mark with anything (letter or mark) within this many
#: x-heights stays.
CROWDED_REACH = 0.5


def crowded(m: Marks) -> np.ndarray:
    """Gentle mode only (``m.low_res``): anything with a neighbour close by
    stays; elsewhere nothing."""
    if not m.low_res:
        return np.zeros(m.n, bool)
    qi, x = m.near.qi, m.x
    r = CROWDED_REACH * x
    pa, pb = points_in_boxes(m.cx[qi], m.cy[qi], m.x0[qi] - r, m.y0[qi] - r, m.x1[qi] + r, m.y1[qi] + r, 2 * x)
    return m.per_label(any_per(pa, pa != pb, qi.size))


#: The placement rules, in the order they are credited.
PLACEMENT = ((Rule.I_DOT, i_dot), (Rule.PERIOD, period), (Rule.HYPHEN, hyphen), (Rule.QUOTE, quote),
             (Rule.UNDER_STEM, under_stem), (Rule.DOTTED_ZERO, dotted_zero), (Rule.CROWDED, crowded))


# --- darkness: print, not grime ----------------------------------------------

#: The page's marks in text positions make the darkness reference when there
#: are at least this many; else the stroke cores do.
MIN_REFERENCE_MARKS = 8
#: A blurrier scan spreads the marks' darkness: the tolerance is at least
#: this many median absolute deviations of their darkest levels.
SPREAD_MADS = 2.0
#: A hairline mark (at most one stroke wide, at least this many long) may be
#: :data:`HAIRLINE_DARK` times further from the marks' darkness than a dot:
#: blur lightens it more.
HAIRLINE_LENGTH = 3
HAIRLINE_DARK = 2.0
#: How far (in darkness tolerances) a round dot may be lighter, and darker,
#: than the page's dots of its size (see :func:`size_darkness`). Lighter:
#: a speck of a lighter grime than the print; darker: a blot blacker than it.
DOT_DARK_WINDOW = (1.2, 1.5)


def darkest_levels(m: Marks) -> np.ndarray:
    """Darkest gray level of every mark (int64, shape (n,); 255 elsewhere)."""
    return np.where(m.mark, m.darkest, 255).astype(np.int64)


def darkness(m: Marks, in_text: np.ndarray) -> np.ndarray:
    """Is each mark about as dark as the page's marks in text positions?

    Small marks are lighter than stroke cores on a blurred scan, so the
    reference is the marks ``in_text`` picks, not the strokes; the
    tolerance is ``mark_contrast`` of the ink-to-paper range, or their
    spread. A round dot is held to the darkness of the page's dots of its
    own size: blur lightens a small dot more than a big one, so one
    page-wide level lets a light speck of period size pass as a period.
    Strokes (accents, quotes, commas) keep the page-wide rule: their
    darkness follows their width, not their area.
    """
    s = m.s
    darkest = darkest_levels(m)
    ref_set = m.mark & in_text
    tol_dark = m.params.mark_contrast * (m.paper_level - m.ink_level)
    if ref_set.sum() >= MIN_REFERENCE_MARKS:
        d = darkest[ref_set]
        ref = float(np.median(d))
        tol_dark = max(tol_dark, SPREAD_MADS * float(np.median(np.abs(d - ref))))
    else:
        ref = float(m.ink_level)
    top = max(ref, m.ink_level)
    dark_enough = darkest <= top + tol_dark
    hairline = (np.minimum(m.w, m.h) <= s) & (np.maximum(m.w, m.h) >= HAIRLINE_LENGTH * s)
    dark_enough |= hairline & (darkest <= top + HAIRLINE_DARK * tol_dark)
    expect = size_darkness(m.area / (s * s), darkest, ref_set & m.round_dot)
    if expect is not None:
        lighter, darker = DOT_DARK_WINDOW
        dark_enough &= ~m.round_dot | ((darkest <= expect + lighter * tol_dark)
                                       & (darkest >= expect - darker * tol_dark))
    return dark_enough


# --- marks with marks: colons, umlauts, double quotes, ellipses, leaders ----

#: A comma-like glyph (the tall comma of a semicolon) anchors pairs like a
#: kept mark: at most this tall and wide (x-heights) and this much ink (x^2).
COMMA_LIKE = (1.0, 0.5, 0.25)
#: Marks near a mark: its box grown by this many x-heights sideways, up and down.
PAIR_REACH = (0.6, 0.8)
#: Similar marks: area ratio within, height ratio within, width ratio within.
PAIR_AREA = (0.25, 4.0)
PAIR_HEIGHT = (0.6, 1.67)
PAIR_WIDTH = (0.5, 2.0)
#: Side by side: centres level within this fraction of the taller's height,
#: at most :data:`SIDE_GAP` x-heights apart.
SIDE_LEVEL = 0.25
SIDE_GAP = 0.5
#: Stacked (colons): this many x-heights apart vertically, centres within
#: half the wider one's width (plus a quarter of their vertical distance),
#: the upper one's bottom this many local x-heights above the baseline.
STACK_GAP = (0.1, 0.8)
STACK_CENTRED = (0.5, 0.25)
STACK_LIFT = (0.3, 1.0)
#: Two dots of an umlaut: at most this many x-heights apart.
UMLAUT_GAP = 0.6
#: A quote of a pair is at least this many times as tall as wide.
PAIR_QUOTE_TALL = 1.15
#: Rounds of the pair rule: two reach a chain of three.
PAIR_ROUNDS = 2


@dataclass(frozen=True)
class MarkPairs:
    """(mark, mark) pairs among the candidates ``mi`` (dark-enough non-tiny
    marks and comma-like glyphs): ``pi`` indexes ``mi``, ``a`` and ``b``
    are labels (arrays of shape (K,))."""

    mi: np.ndarray
    pi: np.ndarray
    a: np.ndarray
    b: np.ndarray
    side: np.ndarray
    pair: np.ndarray
    after_mark: np.ndarray
    comma_like: np.ndarray
    upper_m: np.ndarray
    loose_m: np.ndarray


def mark_pairs(m: Marks, dark_enough: np.ndarray) -> MarkPairs | None:
    """Pairs of similar marks near each other; None when there are no candidates."""
    x = m.x
    P = m.near
    area, h, w, x0, y0, x1, y1, cx, cy = m.area, m.h, m.w, m.x0, m.y0, m.x1, m.y1, m.cx, m.cy
    ch, cw, ca = COMMA_LIKE
    comma_like = m.glyph & (h <= ch * x) & (w <= cw * x) & (area <= ca * x * x)
    mi = np.flatnonzero((m.mark & ~m.tiny & dark_enough) | comma_like)
    if not mi.size:
        return None
    base_m = m.per_label(P.on_base)
    qi = P.qi
    upper_m = m.per_label(P.upper & (h[qi] >= PAIR_QUOTE_TALL * w[qi]))
    o = over_letter(m)
    g = P.g
    loose = o.over & (o.off_centre | o.centred | (o.dx <= LOOSE[0] * w[g] + LOOSE[1] * x))
    loose_m = m.per_label(any_per(P.pi, loose, P.n_q))
    base_v = m.per_label(P.base_same, np.inf)
    xl_v = np.full(m.n, x)
    xl_v[qi] = P.xl_same
    sx, sy = PAIR_REACH
    pi2, bi2 = points_in_boxes(cx[mi], cy[mi], x0[mi] - sx * x, y0[mi] - sy * x, x1[mi] + sx * x, y1[mi] + sy * x, x)
    a, b = mi[pi2], mi[bi2]
    ratio = area[a] / np.maximum(area[b], 1)
    similar = (a != b) & (ratio >= PAIR_AREA[0]) & (ratio <= PAIR_AREA[1])
    hr = h[a] / np.maximum(h[b], 1)
    wr = w[a] / np.maximum(w[b], 1)
    same_shape = (similar & (hr >= PAIR_HEIGHT[0]) & (hr <= PAIR_HEIGHT[1])
                  & (wr >= PAIR_WIDTH[0]) & (wr <= PAIR_WIDTH[1]))
    # side by side, level: ellipses, double quotes, umlauts
    side = (same_shape & (np.abs(cy[a] - cy[b]) <= SIDE_LEVEL * np.maximum(h[a], h[b]) + 1)
            & (np.maximum(x0[a] - x1[b], x0[b] - x1[a]) <= SIDE_GAP * x))
    # stacked, the upper one a little above the lower: colons, semicolons
    vgap_ab = y0[b] - y1[a] - 1
    stack = ((wr >= PAIR_WIDTH[0]) & (wr <= PAIR_WIDTH[1]) & (a != b) & (vgap_ab >= STACK_GAP[0] * x)
             & (vgap_ab <= STACK_GAP[1] * x)
             & (np.abs(cx[a] - cx[b])
                <= STACK_CENTRED[0] * np.maximum(w[a], w[b]) + 1 + STACK_CENTRED[1] * np.abs(cy[a] - cy[b]))
             # the upper dot of a colon sits about half an x-height up
             & (base_v[a] - y1[a] >= STACK_LIFT[0] * xl_v[a]) & (base_v[a] - y1[a] <= STACK_LIFT[1] * xl_v[a]))
    # a period or closing quote after a kept mark (quote, bracket, period)
    after_mark = ((a != b) & (x0[a] > x1[b]) & (x0[a] - x1[b] - 1 <= m.params.mark_gap * x)
                  & (base_m[a] | upper_m[a]))
    return MarkPairs(mi, pi2, a, b, side, side | stack, after_mark, comma_like, upper_m, loose_m)


def _per_candidate(m: Marks, mp: MarkPairs, ok: np.ndarray) -> np.ndarray:
    out = np.zeros(m.n, bool)
    out[mp.mi] = any_per(mp.pi, ok, mp.mi.size)
    return out


def umlaut(m: Marks, mp: MarkPairs) -> np.ndarray:
    """Umlauts and diaereses: two similar dots side by side over a letter
    (either may overhang a narrow letter, as in 'ï')."""
    a, b = mp.a, mp.b
    return _per_candidate(m, mp, mp.side & mp.loose_m[a] & mp.loose_m[b] & (np.abs(m.x0[a] - m.x1[b]) <= UMLAUT_GAP * m.x))


def double_quote(m: Marks, mp: MarkPairs) -> np.ndarray:
    """Double quotes: two tall marks side by side at the top of a line (a
    single quote must be clearly tall, see :func:`quote`)."""
    return _per_candidate(m, mp, mp.side & mp.upper_m[mp.a] & mp.upper_m[mp.b])


def pair(m: Marks, mp: MarkPairs, kept: np.ndarray) -> np.ndarray:
    """Marks next to kept marks (or comma-like glyphs) of similar size:
    colons, semicolons, ellipses, a period after a closing quote.
    :data:`PAIR_ROUNDS` rounds reach a chain of three.

    Returns ``kept`` (not modified) with the marks this rule keeps added.
    """
    kept = kept.copy()
    link = mp.pair | mp.after_mark
    for _ in range(PAIR_ROUNDS):
        kept[mp.mi] |= any_per(mp.pi, link & (kept[mp.b] | mp.comma_like[mp.b]), mp.mi.size)
    return kept


#: Dot leaders: at least :data:`LEADER_MIN` other similar marks (area ratio
#: within :data:`LEADER_AREA`) on the same row (centre within
#: :data:`LEADER_ROW` of the mark's height, plus a pixel) within this many
#: x-heights.
LEADER_REACH = 3.0
LEADER_ROW = 0.5
LEADER_AREA = (0.6, 1.67)
LEADER_MIN = 2


def leader(m: Marks, mp: MarkPairs) -> np.ndarray:
    """Dot leaders and rows of dots: similar marks in a row."""
    x, mi = m.x, mp.mi
    cx, cy, h, area = m.cx, m.cy, m.h, m.area
    r = LEADER_REACH * x
    pi3, bi3 = points_in_boxes(cx[mi], cy[mi], m.x0[mi] - r, cy[mi] - LEADER_ROW * h[mi] - 1, m.x1[mi] + r,
                               cy[mi] + LEADER_ROW * h[mi] + 1, 2 * x)
    a, b = mi[pi3], mi[bi3]
    ratio = area[a] / np.maximum(area[b], 1)
    row = (a != b) & (ratio >= LEADER_AREA[0]) & (ratio <= LEADER_AREA[1])
    out = np.zeros(m.n, bool)
    out[mi] = count_per(pi3, row, mi.size) >= LEADER_MIN
    return out


# --- dot fields: halftone screens and pictures -------------------------------

#: Components that may belong to a dot field: marks, and blobs up to this
#: many x^2 (at high resolution the dark tones of a screen merge into such
#: blobs, and they must not become dust).
FIELD_BLOB = 0.3
#: Density grid: cells of this many x-heights, windows of
#: ``2 * FIELD_RADIUS + 1`` cells (about 2.5 x across).
FIELD_CELL = 0.5
FIELD_RADIUS = 2
#: A core dot is within this ratio of its neighbours' mean area.
FIELD_SIZE_RATIO = (0.4, 2.5)
#: Nearest neighbours are looked for within this many x-heights.
NN_REACH = 0.6
#: Clark-Evans index (mean nearest-neighbour distance x sqrt(density)) at
#: least this: about 1 for a lattice, 0.5 for random points (speckle).
LATTICE_INDEX = 0.7


def halftone(m: Marks) -> np.ndarray:
    """Halftone screens and dot fields: dense clusters of components of about
    the same size as their neighbours, in a lattice (a speckled area has all
    sizes, random positions and, even when heavy, a fraction of the density
    of a printed screen). The dense core is grown by :data:`FIELD_RADIUS`
    cells so the field's edges stay."""
    x = m.x
    ai = np.flatnonzero(m.mark | (m.real & (m.area <= FIELD_BLOB * x * x)))
    out = np.zeros(m.n, bool)
    if not ai.size:
        return out
    shape = m.c.labels.shape
    cx, cy, area = m.cx[ai], m.cy[ai], m.area[ai]
    cell = FIELD_CELL * x
    count = local_density(cx, cy, None, shape, cell, FIELD_RADIUS)
    total = local_density(cx, cy, area, shape, cell, FIELD_RADIUS)
    rel = area * count / np.maximum(total, 1)
    r = NN_REACH * x
    pa, pb = points_in_boxes(cx, cy, cx - r, cy - r, cx + r, cy + r, r)
    other = pa != pb
    dnn = np.full(ai.size, r)
    np.minimum.at(dnn, pa[other], np.hypot(cx[pa[other]] - cx[pb[other]], cy[pa[other]] - cy[pb[other]]))
    mean_nn = local_density(cx, cy, dnn, shape, cell, FIELD_RADIUS) / np.maximum(count, 1)
    window = ((2 * FIELD_RADIUS + 1) * FIELD_CELL * x) ** 2
    lattice = mean_nn * np.sqrt(count / window) >= LATTICE_INDEX
    core = ((count >= m.params.halftone_density) & (rel >= FIELD_SIZE_RATIO[0]) & (rel <= FIELD_SIZE_RATIO[1])
            & lattice)
    out[ai[near_selected(cx, cy, core, shape, cell, FIELD_RADIUS)]] = True
    return out


#: A picture: a component of at least this many x^2 of ink, this many
#: x-heights wide and tall, this solid (area over box area) ...
PICTURE_MIN = (25.0, 3.0, 0.15)
#: ... whose box grown by one x-height holds at least one dot per x^2.
PICTURE_DOTS_PER_X2 = 1.0


def picture(m: Marks) -> np.ndarray:
    """Inside a picture (the box of a large, solid-ish component: the dark
    mass of a halftone photo) the sparse dots of the highlights are part of
    the picture, lattice or not."""
    x = m.x
    out = np.zeros(m.n, bool)
    ai = np.flatnonzero(m.mark | (m.real & (m.area <= FIELD_BLOB * x * x)))
    min_area, min_side, min_fill = PICTURE_MIN
    w, h = m.w, m.h
    pic = np.flatnonzero(m.real & (m.area >= min_area * x * x) & (w >= min_side * x) & (h >= min_side * x)
                         & (m.area >= min_fill * w * h))
    if not ai.size or not pic.size:
        return out
    pa, pb = points_in_boxes(m.cx[ai], m.cy[ai], m.x0[pic] - x, m.y0[pic] - x, m.x1[pic] + x, m.y1[pic] + x, 8 * x)
    # ...a picture, not a big letter: strewn with dots
    box_x2 = (w[pic] + 2 * x) * (h[pic] + 2 * x) / (x * x)
    dotted = np.bincount(pb, minlength=pic.size) >= PICTURE_DOTS_PER_X2 * box_x2
    out[ai[np.unique(pa[dotted[pb]])]] = True
    return out


# --- dust ----------------------------------------------------------------------

#: A dust clump is at least this solid, at most this elongated.
DUST_FILL = 0.4
DUST_ASPECT = 2.5
#: A lone letter sits on a text line: at least this fraction of the
#: letter beside it (or of the local x-height) tall.
LONE_LETTER_HEIGHT = 0.8
#: A bullet: at least this solid, with text starting within this many
#: x-heights to its right.
BULLET_FILL = 0.75
BULLET_GAP = 2.0
#: Within a text line closer than this many x-heights to a letter (a word
#: space), and level with it (centres within this fraction of its height):
#: punctuation.
IN_LINE_GAP = 0.5
IN_LINE_LEVEL = 0.5
#: A page number after a dot leader: within this many x-heights sideways of
#: a kept mark, its bottom level with the mark's (x-heights, plus a pixel).
LEADER_END_REACH = 4.0
LEADER_END_LEVEL = 0.1
#: A glyph-sized comma (monospaced fonts), never dust: at most this tall and
#: wide (x-heights) after a letter, or this wide and :data:`QUOTE_TALL`
#: times as tall as wide after punctuation.
COMMA_GLYPH = (1.0, 0.5, 0.4)


def comma_glyph(m: Marks) -> np.ndarray:
    """Glyph-sized commas: right after a letter (or after punctuation),
    through the baseline."""
    P, x = m.near, m.x
    qi = P.qi
    h, w = m.h[qi], m.w[qi]
    ch, cw, cw_alone = COMMA_GLYPH
    out = m.per_label(any_per(P.pi, _after_any(m), P.n_q) & P.on_base & (h <= ch * x) & (w <= cw * x))
    out[qi] |= P.on_base & (h >= QUOTE_TALL * w) & (h <= ch * x) & (w <= cw_alone * x)
    return out


def _after_any(m: Marks) -> np.ndarray:
    """Per pair: any component right after the letter, level with it."""
    P, x = m.near, m.x
    q, g = P.q, P.g
    return (P.not_self & (m.cx[q] > m.cx[g]) & (P.hgap_r >= -AFTER_OVERLAP * x) & (P.hgap_r <= P.gap_lim)
            & (m.y1[q] >= m.y0[g] + AFTER_DOWN * x) & (m.y0[q] <= m.y1[g] + AFTER_BELOW * x))


#: A solid blob (:func:`solid_blob`): at most this many times as long as
#: its thickness (a disc is 2, a letter at least 3), at least this full.
SOLID_MAX_SIZE = 2.5
SOLID_MIN_FILL = 0.6


def solid_blob(m: Marks) -> np.ndarray:
    """Blobs with no stroke structure: no longer than ``SOLID_MAX_SIZE``
    times their own thickness (``Components.thickness``, a disc's radius)
    and at least ``SOLID_MIN_FILL`` of their box. No letter or figure is
    one at any size; a bullet, a filled box or a period is, and the dust
    rule leaves those to their neighbours (:func:`_lone`).

    >>> ink = np.zeros((40, 60), np.uint8)
    >>> ink[5:13, 5:13] = 1                                   # a solid 8 x 8 blob
    >>> ink[5:25, 30:33] = ink[5:8, 30:42] = ink[5:25, 39:42] = 1   # an 'n'
    >>> from despeckled.clean.marks import marks_of_ink
    >>> solid_blob(marks_of_ink(ink, 3.0, 20.0)).tolist()
    [False, True, False]
    """
    size = np.maximum(m.w, m.h)
    out = m.real & (size <= SOLID_MAX_SIZE * m.c.thickness) & (m.fill >= SOLID_MIN_FILL)
    return out


@_memo
def _lone(m: Marks) -> np.ndarray:
    """Per label: nothing within ``dust_gap``, not on a text line, not a
    bullet, not within a text line next to a letter (shared by
    :func:`dust` and :func:`scratch`: not to be modified)."""
    P, x = m.near, m.x
    q, g, pi = P.q, P.g, P.pi
    gap = m.params.dust_gap * x
    has_neighbour = any_per(pi, P.not_self & (P.hgap <= gap) & (P.vgap <= gap), P.n_q)
    # a lone letter or figure sits on a text line: its bottom on the
    # bottom of a letter of its height nearby (bottom on the baseline, or
    # top on the x-line for descenders), and it is as tall as a letter
    tol = P.tol[pi]
    aligned = P.same_line & P.near_x & ((np.abs(m.y1[g] - m.y1[q]) <= tol) | (np.abs(m.y0[g] - m.y0[q]) <= tol))
    aligned &= m.h[q] >= LONE_LETTER_HEIGHT * np.minimum(m.h[g], P.xl_same[pi])
    on_line = any_per(pi, aligned, P.n_q)
    # a bullet: a regular blob with text starting just right of it
    bullet = any_per(pi, P.not_self & (m.fill[q] >= BULLET_FILL) & (P.hgap_l >= -1) & (P.hgap_l <= BULLET_GAP * x)
                     & (m.y0[g] <= m.cy[q]) & (m.y1[g] >= m.cy[q]), P.n_q)
    in_line = any_per(pi, P.same_line & (P.hgap <= IN_LINE_GAP * x) & (np.abs(m.cy[q] - m.cy[g]) <= IN_LINE_LEVEL * m.h[g]),
                      P.n_q)
    lone = np.zeros(m.n, bool)
    lone[P.qi] = ~has_neighbour & ~on_line & ~bullet & ~in_line
    return lone


def dust(m: Marks, kept: np.ndarray) -> np.ndarray:
    """Dust: compact glyph-sized blobs no bigger than ``dust_max_area``
    x^2, away from text, not sitting on a text line like a lone letter
    would, not on the baseline of kept marks (a page number after a dot
    leader). Never with ``remove_dust`` off. When the scale is a guess
    (gentle mode, or a DPI tag the page's strokes bear out) only solid
    blobs go (:func:`solid_blob`): whatever the text's size, a lone glyph
    is built of strokes."""
    params, x, s = m.params, m.x, m.s
    out = np.zeros(m.n, bool)
    if not params.remove_dust:
        return out
    area, w, h = m.area, m.w, m.h
    blob = (m.real & ~kept & ~comma_glyph(m) & (area <= params.dust_max_area * x * x)
            & (area >= params.tiny_area * s * s) & (m.fill >= DUST_FILL) & (w <= DUST_ASPECT * h)
            & (h <= DUST_ASPECT * w))
    if m.low_res or m.guessed:
        blob &= solid_blob(m)
    lone = _lone(m).copy()
    cand = np.flatnonzero(blob & lone & ~m.mark)
    km = np.flatnonzero(kept & m.mark)
    if cand.size and km.size:
        r = LEADER_END_REACH * x
        pc, pk = points_in_boxes(m.cx[cand], m.cy[cand], m.x0[km] - r, m.y0[km] - x, m.x1[km] + r, m.y1[km] + x,
                                 2 * x)
        a, b = cand[pc], km[pk]
        level = (np.abs(m.y1[a] - m.y1[b]) <= LEADER_END_LEVEL * x + 1) & (m.y0[a] <= m.y1[b])
        lone[cand[any_per(pc, level, cand.size)]] = False
    return blob & lone & ~m.mark


# --- scratches -------------------------------------------------------------------

#: A scratch (a hair, a fibre, a scratch on the glass) is thin: its ink over
#: its length is at most this many of the page's stroke widths (a letter's
#: stroke is one; a hairline of a light face on a page of regular text may
#: be a third, so the margin is kept by the other tests).
SCRATCH_WIDTH = 0.6
#: Its axis is at least this many degrees off both the horizontal and the
#: vertical: rules, underlines, dashes, box edges, stems, bars, 'l', '1',
#: 'I', '(' and '~' run along an axis (a rule on a page skewed a few
#: degrees, too).
SCRATCH_TILT = 10.0
#: It is straight but for a slight bend: the spread of its ink across its
#: axis, less its own width's, at most this fraction of its length (RMS;
#: about 0.15 for a parenthesis' arc, 0.3 and more for '7', 'V', '<', a
#: check mark or a tilde).
SCRATCH_BEND = 0.05
#: It is at most this many x-heights long (a longer thin slanting line may
#: be a chart's or a form's).
SCRATCH_MAX_LENGTH = 4.0
#: No other ink within this many x-heights of its box (specks too small
#: to be anything, ``tiny``, do not count: they go themselves).
SCRATCH_GAP = 1.0
#: Components up to this many x-heights across are looked up by their
#: centres (grid join); bigger ones are compared box to box.
SCRATCH_NEAR_SMALL = 2.0
#: A piece of a stroke that fades out (faint handwriting, worn print)
#: points at the rest of its stroke: no other ink may lie ahead of either
#: end within this many x-heights, in a cone of this half-angle (degrees)
#: around the axis, plus this many stroke widths across.
SCRATCH_AHEAD = 3.0
SCRATCH_AHEAD_CONE = 12.0
SCRATCH_AHEAD_BAND = 0.5


@dataclass(frozen=True)
class StrokeAxis:
    """Second moments of components' ink (arrays of shape (K,)).

    Attributes
    ----------
    length : ndarray of float64
        Along the principal axis: ``sqrt(12 * var)``, a straight stroke's
        length (px).
    width : ndarray of float64
        Ink area over ``length`` (px): a stroke's mean width.
    tilt : ndarray of float64
        Angle of the principal axis to the nearer of the horizontal and
        the vertical (degrees, 0..45).
    cx, cy : ndarray of float64
        The ink's centroid (px, page coordinates).
    ux, uy : ndarray of float64
        Unit vector along the principal axis.
    bend : ndarray of float64
        RMS distance of the ink from the axis, less the stroke's own
        width's share (``width**2 / 12`` of variance), over ``length``.
    """

    length: np.ndarray
    width: np.ndarray
    tilt: np.ndarray
    bend: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    ux: np.ndarray
    uy: np.ndarray


def stroke_axis(c: Components, labels: np.ndarray) -> StrokeAxis:
    """The principal axis of each of the components ``labels`` (sorted,
    unique), from the moments of their pixels (read from their runs, so the
    cost follows their ink, not the page's).

    Parameters
    ----------
    c : Components
    labels : ndarray of intp, shape (K,)
        Ascending labels.

    Returns
    -------
    StrokeAxis

    Examples
    --------
    >>> from despeckled.clean.components import label_components
    >>> import cv2
    >>> ink = np.zeros((40, 90), np.uint8)
    >>> _ = cv2.line(ink, (5, 35), (30, 5), 1, 1)              # a slanting hair
    >>> ink[5:35, 50:53] = 1                                    # an upright stem
    >>> _ = cv2.polylines(ink, [np.array([[60, 5], [72, 35], [84, 5]], np.int32)], False, 1, 1)  # a 'V'
    >>> a = stroke_axis(label_components(ink), np.array([1, 2, 3]))
    >>> [round(float(v)) for v in a.tilt], [round(float(v), 2) for v in a.bend]
    ([40, 0, 0], [0.01, 0.0, 0.24])
    """
    sel = np.zeros(c.n, bool)
    sel[labels] = True
    pos = c.positions_of(sel)
    flat, k = c.flat[pos], np.searchsorted(labels, c.lab[pos])
    wa = c.labels.shape[1]
    # (from the box's corner: small numbers, no cancellation)
    ys = (flat // wa - c.y0[labels][k]).astype(np.float64)
    xs = (flat % wa - c.x0[labels][k]).astype(np.float64)
    K = labels.size
    n = np.maximum(np.bincount(k, minlength=K), 1).astype(np.float64)
    mx, my = np.bincount(k, xs, K) / n, np.bincount(k, ys, K) / n
    # (each pixel a unit square: 1/12 of variance of its own)
    sxx = np.bincount(k, xs * xs, K) / n - mx * mx + 1 / 12
    syy = np.bincount(k, ys * ys, K) / n - my * my + 1 / 12
    sxy = np.bincount(k, xs * ys, K) / n - mx * my
    half = np.sqrt(np.maximum((sxx - syy) ** 2 / 4 + sxy * sxy, 0.0))
    major, minor = (sxx + syy) / 2 + half, np.maximum((sxx + syy) / 2 - half, 0.0)
    length = np.sqrt(12 * major)
    width = n / length
    angle = np.degrees(0.5 * np.arctan2(2 * sxy, sxx - syy))
    tilt = np.abs((angle + 45) % 90 - 45)
    bend = np.sqrt(np.maximum(minor - width * width / 12, 0.0)) / length
    rad = np.radians(angle)
    return StrokeAxis(length, width, tilt, bend, c.x0[labels] + mx, c.y0[labels] + my, np.cos(rad), np.sin(rad))


def _boxes_near(m: Marks, qx0: np.ndarray, qy0: np.ndarray, qx1: np.ndarray, qy1: np.ndarray,
                gap: float) -> tuple[np.ndarray, np.ndarray]:
    """(query index, label) of every component but the tiny ones whose box
    lies within ``gap`` px (paper pixels between them, on either axis) of a
    query box (inclusive bounds, px)."""
    x = m.x
    x0, y0, x1, y1 = m.x0, m.y0, m.x1, m.y1
    ink = m.real & ~m.tiny
    small = ink & (np.maximum(m.w, m.h) <= SCRATCH_NEAR_SMALL * x)
    si = np.flatnonzero(small)
    r = gap + SCRATCH_NEAR_SMALL * x / 2 + 1
    pa, pb = points_in_boxes(m.cx[si], m.cy[si], qx0 - r, qy0 - r, qx1 + r, qy1 + r, SCRATCH_MAX_LENGTH * x)
    q, lab = pb, si[pa]
    big = np.flatnonzero(ink & ~small)
    if big.size:
        q = np.concatenate([q, np.repeat(np.arange(qx0.size), big.size)])
        lab = np.concatenate([lab, np.tile(big, qx0.size)])
    dx = np.maximum(x0[lab] - qx1[q], qx0[q] - x1[lab]) - 1
    dy = np.maximum(y0[lab] - qy1[q], qy0[q] - y1[lab]) - 1
    ok = np.maximum(dx, dy) <= gap
    return q[ok], lab[ok]


def _ink_around(m: Marks, ci: np.ndarray, a: StrokeAxis, gap: float) -> np.ndarray:
    """Per label of ``ci``: another component (not a tiny one) has its box
    within ``gap`` px of its box, or ahead of either end of its axis: the
    box meets the cone of :data:`SCRATCH_AHEAD` x-heights,
    :data:`SCRATCH_AHEAD_CONE` degrees and :data:`SCRATCH_AHEAD_BAND`
    stroke widths around the axis (box against cone on the five axes that
    can separate them). One join for both."""
    K = ci.size
    reach = SCRATCH_AHEAD * m.x
    tan = np.tan(np.radians(SCRATCH_AHEAD_CONE))
    band = SCRATCH_AHEAD_BAND * m.s
    # one cone per end: 2K, the first K ahead of the +u end
    ux, uy = np.concatenate([a.ux, -a.ux]), np.concatenate([a.uy, -a.uy])
    half = np.concatenate([a.length, a.length]) / 2
    ex, ey = np.concatenate([a.cx, a.cx]) + ux * half, np.concatenate([a.cy, a.cy]) + uy * half
    t = np.array([0.0, 0.0, reach, reach])
    c = np.array([-band, band, band + tan * reach, -band - tan * reach])
    vx = ex[:, None] + ux[:, None] * t - uy[:, None] * c                       # (2K, 4) cone corners
    vy = ey[:, None] + uy[:, None] * t + ux[:, None] * c
    # queries: the boxes grown by the gap (K), then the cones' boxes (2K)
    q, lab = _boxes_near(m, np.concatenate([m.x0[ci] - gap, vx.min(axis=1)]),
                         np.concatenate([m.y0[ci] - gap, vy.min(axis=1)]),
                         np.concatenate([m.x1[ci] + gap, vx.max(axis=1)]),
                         np.concatenate([m.y1[ci] + gap, vy.max(axis=1)]), 0.0)
    keep = lab != ci[q % K]
    q, lab = q[keep], lab[keep]
    meets = q < K
    cone = np.flatnonzero(~meets)
    qc, lc = q[cone] - K, lab[cone]
    # the box's corners (pixel edges) against the cone's on each axis
    bx = np.stack([m.x0[lc] - 0.5, m.x1[lc] + 0.5, m.x1[lc] + 0.5, m.x0[lc] - 0.5], axis=1)
    by = np.stack([m.y0[lc] - 0.5, m.y0[lc] - 0.5, m.y1[lc] + 0.5, m.y1[lc] + 0.5], axis=1)
    cx_, cy_ = vx[qc], vy[qc]
    uq, wq = ux[qc], uy[qc]
    hit = np.ones(qc.size, bool)
    for px, py in ((np.ones_like(uq), np.zeros_like(uq)), (np.zeros_like(uq), np.ones_like(uq)), (uq, wq),
                   (-wq - tan * uq, uq - tan * wq), (-wq + tan * uq, uq + tan * wq)):
        pc = cx_ * px[:, None] + cy_ * py[:, None]
        pb = bx * px[:, None] + by * py[:, None]
        hit &= np.maximum(pc.min(axis=1), pb.min(axis=1)) <= np.minimum(pc.max(axis=1), pb.max(axis=1))
    meets[cone] = hit
    return any_per(q % K, meets, K)


def _take(a: StrokeAxis, sel: np.ndarray) -> StrokeAxis:
    return StrokeAxis(**{k: v[sel] for k, v in vars(a).items()})


def scratch(m: Marks, kept: np.ndarray) -> np.ndarray:
    """Scratches, hairs and fibres: glyph-sized strokes far thinner than the
    page's print (:data:`SCRATCH_WIDTH`), straight but for a slight bend
    (:data:`SCRATCH_BEND`), slanting (:data:`SCRATCH_TILT`), at most
    :data:`SCRATCH_MAX_LENGTH` x-heights long, lone as dust is lone
    (:func:`_lone`), with no ink but tiny specks within :data:`SCRATCH_GAP`
    x-heights, and none ahead of its ends (:data:`SCRATCH_AHEAD`). What a
    thin lone stroke of content looks like is kept: rules, dashes, bars,
    stems and box edges run along an axis; letters, check marks, tildes and
    signatures bend or turn; a slash or a stroke of a light face stands near
    other text; a piece of a stroke that fades out points at the rest of
    it. Never in gentle mode, nor with ``remove_dust`` off."""
    params, x, s = m.params, m.x, m.s
    out = np.zeros(m.n, bool)
    if not params.remove_dust or m.low_res:
        return out
    w, h, area = m.w, m.h, m.area
    # (the box's diagonal is at least the stroke's length: a first cut)
    cand = (m.glyph & ~kept & (area <= SCRATCH_WIDTH * s * np.hypot(w, h))
            & (np.maximum(w, h) <= SCRATCH_MAX_LENGTH * x))
    ci = np.flatnonzero(cand & _lone(m))
    if not ci.size:
        return out
    a = stroke_axis(m.c, ci)
    ok = ((a.width <= SCRATCH_WIDTH * s) & (a.tilt >= SCRATCH_TILT) & (a.bend <= SCRATCH_BEND)
          & (a.length <= SCRATCH_MAX_LENGTH * x))
    ci = ci[ok]
    if ci.size:
        out[ci[~_ink_around(m, ci, _take(a, ok), SCRATCH_GAP * x)]] = True
    return out


# --- the cascade -----------------------------------------------------------------


def classify(m: Marks) -> Decision:
    """Run the rules: decide, per component, what is a speck, what is dust
    and which small marks are kept because text puts marks there.

    Parameters
    ----------
    m : Marks
        From :func:`~despeckled.clean.marks.marks_of`.

    Returns
    -------
    Decision
        Arrays of length ``m.n``, with the rule behind each verdict.

    Examples
    --------
    >>> from despeckled.clean.marks import marks_of_ink
    >>> ink = np.zeros((40, 40), np.uint8); ink[10:30, 5:9] = 1; ink[35, 35] = 1
    >>> d = classify(marks_of_ink(ink, 3.0, 12.0))
    >>> [RULE_NAMES[r] for r in d.rule[1:]]
    ['glyph', 'tiny']
    """
    rule = np.zeros(m.n, np.uint8)
    mark = m.mark
    placed = [(which, fn(m)) for which, fn in PLACEMENT]
    in_text = np.zeros(m.n, bool)
    for _, ok in placed:
        in_text |= ok
    dark_enough = darkness(m, in_text)
    kept = mark & in_text & dark_enough
    for which, ok in placed:
        credit(rule, mark & ok & dark_enough, which)
    mp = mark_pairs(m, dark_enough)
    if mp is not None:
        for which, more in ((Rule.UMLAUT, umlaut(m, mp)), (Rule.DOUBLE_QUOTE, double_quote(m, mp))):
            kept |= more
            credit(rule, mark & more, which)
        more = pair(m, mp, kept)
        credit(rule, mark & more & ~kept, Rule.PAIR)
        kept = more
        more = leader(m, mp)
        kept |= more
        credit(rule, mark & more, Rule.LEADER)
    for which, fn in ((Rule.HALFTONE, halftone), (Rule.PICTURE, picture)):
        more = fn(m)
        kept |= more
        credit(rule, mark & more, which)
    found = dust(m, kept)
    scratched = scratch(m, kept) & ~found
    kept &= mark
    speck = mark & ~kept
    credit(rule, found, Rule.DUST)
    credit(rule, scratched, Rule.SCRATCH)
    credit(rule, m.glyph, Rule.GLYPH)
    credit(rule, speck & m.tiny, Rule.TINY)
    credit(rule, speck & in_text, Rule.TOO_LIGHT)
    credit(rule, speck, Rule.NO_CONTEXT)
    return Decision(speck=speck, dust=found | scratched, kept_small=kept & mark, rule=rule)


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
    k = int(np.ceil(STEM_TOP * float(np.max(xl)))) + 2
    col = np.clip(np.rint(cx).astype(np.intp), 0, W - 1)
    cols = np.clip(col[:, None] + np.arange(-1, 2)[None, :], 0, W - 1)                   # (P, 3)
    rows = np.clip(y1.astype(np.intp)[:, None] + 1 + np.arange(k)[None, :], 0, H - 1)    # (P, k)
    down = (labels[rows[:, :, None], cols[:, None, :]] == g[:, None, None]).any(axis=2)
    first = np.argmax(down, axis=1)
    found = down.any(axis=1) & (first <= STEM_TOP * xl + 1)
    half = int(np.ceil(STEM_SEARCH * s)) + 2
    off = np.arange(-half, half + 1)
    j = np.arange(off.size)[None, :]
    for frac in STEM_DEPTHS:
        depth = np.rint(frac * xl).astype(np.intp)
        r = np.clip(rows[np.arange(g.size), first] + depth, 0, H - 1)
        ok = np.zeros(g.size, bool)
        for lean in (np.zeros_like(depth), np.rint(ITALIC_SLANT * depth).astype(np.intp)):   # upright, italic
            xs = np.clip(col[:, None] - lean[:, None] + off[None, :], 0, W - 1)
            row = labels[r[:, None], xs] == g[:, None]                                    # (P, 2 half + 1)
            # the run of ink through the centre (or a pixel either side of it)
            centre = row[:, half - 1:half + 2].any(axis=1)
            start = half - 1 + np.argmax(row[:, half - 1:half + 2], axis=1)
            gap_left = np.where(~row & (j < start[:, None]), j, -1).max(axis=1)
            gap_right = np.where(~row & (j > start[:, None]), j, off.size).min(axis=1)
            run = gap_right - gap_left - 1
            ok |= centre & (gap_left >= 0) & (gap_right < off.size) & (run <= STEM_RUN * s + 2)
        found &= ok
    return found


