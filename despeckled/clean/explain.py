"""Why each mark went or stayed: a confidence for every removal, the page's
explanation as plain data (``despeckled clean --explain``), and the
per-pixel rule map the ``--show-removed`` overlay is coloured by.

Pure functions over per-label arrays; no paths, no logging.
"""

from __future__ import annotations

import numpy as np

from despeckled.clean.rules import RULE_NAMES, SCRATCH_WIDTH, Rule, is_removal

#: Confidence of a removal is 0.5 at its rule's threshold and rises to 1
#: with the margin past it; rules with no threshold to measure against
#: (``thin``) get this.
FLAT_CONFIDENCE = 0.75


def _ramp(margin: np.ndarray) -> np.ndarray:
    """0.5 at a margin of 0, 1.0 at a margin of 1 or more."""
    return 0.5 + 0.5 * np.clip(margin, 0.0, 1.0)


def removal_confidence(rule: np.ndarray, area: np.ndarray, size: np.ndarray, darkest: np.ndarray,
                       s: float, x: float, tiny_area: float, glyph_size: float, dust_max_area: float,
                       faint_level: float, paper_level: float) -> np.ndarray:
    """How far past its rule's threshold each removed component was, mapped
    to 0.5 (just past) .. 1.0 (far past); 0 for kept components.

    ``tiny``: how much smaller than ``tiny_area`` stroke widths squared;
    ``no-context`` and ``too-light``: how much smaller than a glyph
    (``glyph_size`` x-heights); ``dust``: how much smaller than the largest
    dust clump (``dust_max_area`` x-heights squared); ``scratch``: how much
    thinner than :data:`~despeckled.clean.rules.SCRATCH_WIDTH` stroke widths
    (ink over the box's longer side); ``faint``: how much lighter than the
    faint level, against the paper.

    Parameters
    ----------
    rule : ndarray of uint8, shape (n,)
    area, size : ndarray, shape (n,)
        Ink pixels, and the larger side of the box (pixels).
    darkest : ndarray, shape (n,)
        Darkest gray level of each component.
    s, x : float
        Stroke width and x-height (pixels).
    tiny_area, glyph_size, dust_max_area : float
        The rules' parameters (:class:`~despeckled.clean.params.CleanParams`).
    faint_level, paper_level : float
        The faint rule's gray level and the paper's.

    Returns
    -------
    ndarray of float32, shape (n,)

    Examples
    --------
    >>> rule = np.array([Rule.GLYPH, Rule.TINY, Rule.DUST, Rule.FAINT], np.uint8)
    >>> c = removal_confidence(rule, np.array([500, 1, 100, 50]), np.array([30, 1, 12, 10]),
    ...                        np.array([0, 0, 0, 200]), 3.0, 20.0, 0.6, 0.5, 0.75, 150.0, 250.0)
    >>> [round(float(v), 2) for v in c]
    [0.0, 0.91, 0.83, 0.75]
    """
    area = np.asarray(area, np.float64)
    size = np.asarray(size, np.float64)
    darkest = np.asarray(darkest, np.float64)
    out = np.zeros(rule.shape, np.float32)
    sel = rule == Rule.TINY
    out[sel] = _ramp(1.0 - area[sel] / max(tiny_area * s * s, 1e-6))
    sel = (rule == Rule.NO_CONTEXT) | (rule == Rule.TOO_LIGHT)
    out[sel] = _ramp(1.0 - size[sel] / max(glyph_size * x, 1e-6))
    sel = rule == Rule.DUST
    out[sel] = _ramp(1.0 - area[sel] / max(dust_max_area * x * x, 1e-6))
    # (how much thinner than the thickest scratch, taking the box's longer side for its length)
    sel = rule == Rule.SCRATCH
    out[sel] = _ramp(1.0 - area[sel] / np.maximum(SCRATCH_WIDTH * s * size[sel], 1e-6))
    sel = rule == Rule.FAINT
    out[sel] = _ramp((darkest[sel] - faint_level) / max(paper_level - faint_level, 1e-6))
    sel = rule == Rule.THIN
    out[sel] = FLAT_CONFIDENCE
    return out


def explain_page(table, index: int = 0) -> dict:
    """One page's explanation as JSON-ready data: every removed component
    with its box, area, reason and confidence, and every component a rule
    wanted removed but a guard kept.

    Parameters
    ----------
    table : ComponentTable
        :attr:`despeckled.clean.PageResult.components`.
    index : int
        The page's index in its file (0-based).

    Returns
    -------
    dict
        ``{"page": index + 1, "removed": [...], "kept_by_guard": [...]}``;
        each entry has ``box`` ``[x0, y0, x1, y1]`` (inclusive,
        full-resolution pixels), ``area`` (analysed pixels) and
        ``reason``; removed ones a ``confidence``, guarded ones the rule
        they ``overruled``.
    """
    def rows(sel: np.ndarray) -> list[int]:
        return np.flatnonzero(sel).tolist()

    boxes = np.stack([table.x0, table.y0, table.x1, table.y1], axis=1).tolist()
    area = table.area.tolist()
    removed = [{"box": boxes[i], "area": area[i], "reason": RULE_NAMES[int(table.rule[i])],
                "confidence": round(float(table.confidence[i]), 3)} for i in rows(table.removed)]
    guarded = [{"box": boxes[i], "area": area[i], "reason": RULE_NAMES[int(table.rule[i])],
                "overruled": RULE_NAMES[int(table.overruled[i])]} for i in rows(~table.removed & (table.overruled > 0))]
    return {"page": index + 1, "reduction": int(table.reduction), "removed": removed, "kept_by_guard": guarded}


class RuleMap:
    """The rule behind every removed, kept-small or guarded ink pixel,
    stored as flat indices and rule ids (a page-sized map is built on first
    access only).

    Parameters
    ----------
    shape : (int, int)
        The full-resolution page's shape.
    flat : ndarray of intp
        Flat indices on the analysed page (``shape`` divided by ``f``).
    code : ndarray of uint8
        The rule id of each.
    f : int
        The analysis reduction: cells of ``f`` x ``f`` full-resolution
        pixels.

    Examples
    --------
    >>> RuleMap((4, 4), np.array([0, 3]), np.array([Rule.TINY, Rule.DUST], np.uint8), 2).build()[:, 0].tolist() == [
    ...     Rule.TINY, Rule.TINY, 0, 0]
    True
    """

    __slots__ = ("shape", "flat", "code", "f")

    def __init__(self, shape: tuple[int, int], flat: np.ndarray, code: np.ndarray, f: int) -> None:
        self.shape, self.flat, self.code, self.f = tuple(shape), flat, code, int(f)

    def build(self) -> np.ndarray:
        """``(H, W)`` uint8: the rule id, 0 where no such mark is."""
        h, w = self.shape
        f = self.f
        ha, wa = -(-h // f), -(-w // f)
        small = np.zeros((ha, wa), np.uint8)
        small.ravel()[self.flat] = self.code
        if f == 1:
            return small
        return np.ascontiguousarray(np.repeat(np.repeat(small, f, axis=0), f, axis=1)[:h, :w])


def marked_labels(rule: np.ndarray, overruled: np.ndarray | None, kept_small: np.ndarray) -> np.ndarray:
    """The labels a rule map shows: removed, kept small marks, and what a
    guard kept from removal.

    >>> marked_labels(np.array([0, Rule.GLYPH, Rule.TINY], np.uint8), None, np.zeros(3, bool)).tolist()
    [False, False, True]
    """
    sel = is_removal(rule) | kept_small
    if overruled is not None:
        sel |= overruled > 0
    sel = sel.copy()
    sel[0] = False
    return sel
