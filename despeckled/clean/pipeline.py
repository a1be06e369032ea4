"""Compose the cleaning stages into :func:`clean_page`."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from despeckled.clean.components import Components, ink_pixels, label_components
from despeckled.clean.explain import RuleMap, marked_labels, removal_confidence
from despeckled.clean.geometry import prepare_page
from despeckled.clean.marks import marks_of
from despeckled.clean.paint import paint_removed
from despeckled.clean.params import CleanParams
from despeckled.clean.reduce import analysis_reduction, expand, max_pool, min_pool
from despeckled.clean.guards import guard_decision
from despeckled.clean.model import decide
from despeckled.clean.rules import RULE_NAMES, Decision, Rule, credit, is_removal
from despeckled.clean.scale import Scale, estimate_scale, plausible_dpi
from despeckled.clean.stats import has_pixel_at_most, ink_paper_levels
from despeckled.clean.threshold import binarize

#: From this resolution (dots per inch) the optional median filter is 5 px
#: wide instead of 3 px (about 0.25 mm either way).
MEDIAN_5_FROM_DPI = 450


@dataclass(frozen=True)
class ComponentTable:
    """Every ink component of a cleaned page and the rule behind its fate
    (one row per component, background excluded).

    Attributes
    ----------
    label : ndarray of int64, shape (M,)
        Component label (1..M) on the analysed page.
    x0, y0, x1, y1 : ndarray of int64, shape (M,)
        Inclusive bounding box in full-resolution pixels.
    area : ndarray of int64, shape (M,)
        Ink pixels on the analysed page (a quarter of the full-resolution
        count, roughly, when ``reduction`` is 2).
    rule : ndarray of uint8, shape (M,)
        :class:`~despeckled.clean.rules.Rule` id; ``RULE_NAMES[rule]`` names it.
    removed : ndarray of bool, shape (M,)
    reduction : int
        The analysis reduction factor (1, or 2 for pages analysed at half
        resolution).
    overruled : ndarray of uint8, shape (M,)
        The removing rule a guard overruled (0: none).
    confidence : ndarray of float, shape (M,)
        Of a removal: the trained model's speck probability where the model
        decided (``decider = "model"``), else 0.5 (at its rule's threshold)
        to 1 (see :func:`~despeckled.clean.explain.removal_confidence`); 0
        for a component the rules kept.
    """

    label: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    area: np.ndarray
    rule: np.ndarray
    removed: np.ndarray
    reduction: int
    overruled: np.ndarray
    confidence: np.ndarray

    def rule_names(self) -> list[str]:
        """The rule of every row, by name."""
        return [RULE_NAMES[r] for r in self.rule.tolist()]


def _component_table(c: Components, dec: Decision, remove_lut: np.ndarray, confidence: np.ndarray, f: int,
                     shape: tuple[int, int]):
    """A builder of the page's :class:`ComponentTable`, holding only
    per-label arrays (not the pixel lists)."""
    x0, y0, x1, y1, area = c.x0, c.y0, c.x1, c.y1, c.area
    rule, overruled = dec.rule, dec.overruled if dec.overruled is not None else np.zeros_like(dec.rule)
    h, w = shape

    def build() -> ComponentTable:
        return ComponentTable(np.arange(1, area.size, dtype=np.int64), x0[1:] * f, y0[1:] * f,
                              np.minimum(x1[1:] * f + f - 1, w - 1), np.minimum(y1[1:] * f + f - 1, h - 1),
                              area[1:], rule[1:], remove_lut[1:], f, overruled[1:], confidence[1:])
    return build


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
        ``scale_source`` (``measured``, ``dpi-checked``, ``dpi`` or ``fallback``);
        ``analysis_reduction`` (1, or 2 for pages analysed at half
        resolution); ``threshold`` (method), ``threshold_level`` (gray level,
        on the background-normalised page for ``adaptive``), ``ink_level``
        and ``paper_level`` (typical stroke-core and paper levels there);
        the page geometry (:meth:`despeckled.clean.geometry.Geometry.stats`):
        ``skew_angle``, ``skew_confidence`` (None when deskewing is off),
        ``deskewed``, ``border_regions``, ``blank`` (blank and sure enough to
        drop), ``blank_confidence``.

    components : ComponentTable or None
        Every component's box, area and the rule that kept or removed it
        (built on first access from per-label arrays the page kept anyway).
    rule_map : ndarray of uint8, shape (H, W), or None
        The rule behind every removed, kept-small or guarded ink pixel.

    ``removed`` and ``kept_small`` may be given as a :class:`FlatMask` (the
    flat indices of their True pixels): the page-sized mask is then built on
    first access only, so cleaning a page does not hold two page-sized masks
    nobody may look at.
    """

    __slots__ = ("image", "_removed", "_kept_small", "stats", "_components", "_rule_map")

    def __init__(self, image: np.ndarray, removed, kept_small, stats: dict | None = None, components=None,
                 rule_map=None) -> None:
        self.image = image
        self._removed = removed
        self._kept_small = kept_small
        self.stats = {} if stats is None else stats
        self._components = components
        self._rule_map = rule_map

    @property
    def rule_map(self) -> np.ndarray | None:
        """``(H, W)`` uint8: the rule id behind every removed, kept-small or
        guarded ink pixel, 0 elsewhere (None when not known)."""
        if isinstance(self._rule_map, RuleMap):
            self._rule_map = self._rule_map.build()
        return self._rule_map

    @property
    def components(self) -> ComponentTable | None:
        if callable(self._components):
            self._components = self._components()
        return self._components

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
    >>> r.components.rule_names()    # (too little text to measure: gentle mode)
    ['glyph', 'no-context']
    """
    params = params or CleanParams()
    # borders painted out, blank verdict, skew straightened (gray mode keeps
    # the page's pixels, so they are painted and rotated with it)
    pixels, gray, geometry = prepare_page(pixels, deskew=params.deskew, remove_borders=params.remove_borders,
                                          keep_pixels=params.mode == "gray", dpi=dpi, fallback_dpi=params.fallback_dpi)
    res_dpi, _ = plausible_dpi(dpi, params.fallback_dpi)
    if params.median:
        gray = cv2.medianBlur(gray, 3 if res_dpi < MEDIAN_5_FROM_DPI else 5)
    ink, levels, level, _ = binarize(gray, params, res_dpi)
    h, w = gray.shape
    # Memory: drop every page-sized array the moment it is dead (``gray`` may
    # be the caller's ``pixels``; then only the name goes).
    del gray
    # At high resolution the analysis runs on a 2x max-pooled copy: every
    # full-resolution ink pixel falls in an ink cell, and pixels sharing a
    # cell share a component, so no kept glyph can lose a pixel to a removed
    # neighbour; the page reads like a 300-dpi one at a quarter of the cost.
    f = analysis_reduction(res_dpi, (h, w))
    ink_a, px, lev_px, ink_level, paper_level = _read_levels(ink, levels, level, f)
    del levels
    # the label image is swapped for a sparse lookup as soon as it is read
    comps = label_components(ink_a, px, sparse=True)
    del px
    scale = estimate_scale(comps, None if dpi is None else dpi / f, params.fallback_dpi / f)
    m = marks_of(comps, scale, params, lev_px, ink_level, paper_level)
    # every removal the rules make is put to the hard guards ("when in doubt, keep")
    dec = decide(m)
    darkest = m.darkest
    faint_level = ink_level + params.faint_contrast * (paper_level - ink_level)
    dec = guard_decision(comps, scale.xheight, scale.stroke, dec, darkest, paper_level, faint_level,
                         scale.source != "measured")
    del m
    speck, faint, remove_lut = _removals(comps, dec, scale, params, darkest, ink_level, paper_level, ink_a)
    removed, kept_small, rflat = _masks(comps, remove_lut, dec.kept_small, ink, f, ink_a.shape)
    shown = marked_labels(dec.rule, dec.overruled, dec.kept_small)
    rule_map = RuleMap((h, w), comps.pixels_of(shown), dec.rule[comps.lab[comps.positions_of(shown)]], f)
    del ink_a
    image, n_removed = _render(pixels, params, ink, removed, rflat, res_dpi)
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
        **geometry.stats(),
    }
    confidence = removal_confidence(dec.rule, comps.area, np.maximum(comps.width, comps.height), darkest,
                                    scale.stroke, scale.xheight, params.tiny_area, params.glyph_size,
                                    params.dust_max_area, faint_level, paper_level)
    if dec.confidence is not None:
        # the model's own probability where it decided
        by_model = (dec.rule == Rule.MODEL) | (dec.rule == Rule.MODEL_KEPT)
        confidence[by_model] = dec.confidence[by_model]
    return PageResult(image, removed, kept_small, stats, _component_table(comps, dec, remove_lut, confidence, f, (h, w)),
                      rule_map)


def _read_levels(ink: np.ndarray, levels: np.ndarray, level: int, f: int):
    """The analysed ink mask (max-pooled when ``f`` > 1), its ink pixels,
    their gray levels, and the page's ink and paper levels.

    The thresholded levels are read (at the ink pixels, and a histogram)
    before labelling, so they never share memory with the label image."""
    if f > 1:
        ink_a = max_pool(ink, f)
        levels_a = min_pool(levels, f, ink_a.shape)
    else:
        ink_a, levels_a = ink, levels
    px = ink_pixels(ink_a)
    lev_px = levels_a.ravel()[px.flat]
    ink_level, paper_level = ink_paper_levels(lev_px, px.interior, levels_a, level)
    return ink_a, px, lev_px, ink_level, paper_level


def _removals(comps: Components, dec: Decision, scale: Scale, params: CleanParams, darkest: np.ndarray,
              ink_level: float, paper_level: float, ink_a: np.ndarray):
    """Per label: the specks (with the opening's thin marks), the faint
    components, and everything to remove. Records ``faint`` and ``thin`` in
    ``dec.rule``."""
    span = paper_level - ink_level
    # Hysteresis: a component with no pixel clearly darker than the threshold
    # is show-through, a stain or a faint speck, not print.
    faint = ~has_pixel_at_most(comps, None, ink_level + params.faint_contrast * span, darkest)
    faint[0] = False
    faint &= ~dec.kept_small        # judged already, against other marks
    if dec.faint_ok is not None:
        # print as dark as the page's glyphs, a reverse-text counter, a colon
        spared = faint & dec.faint_ok & ~dec.speck & ~dec.dust
        faint &= ~spared
        dec.overruled[spared] = Rule.FAINT
        dec.rule[spared & ~is_removal(dec.rule) & (dec.rule < Rule.GLYPH_SHAPED)] = Rule.PRINT_DARK
    if params.mode == "gray":
        # gray mode keeps the page's own pixels: light print (a gray
        # letterhead, pencil) stays; only faint marks go
        faint &= np.maximum(comps.width, comps.height) < params.glyph_size * scale.xheight
    rule = dec.rule
    gone = dec.speck | dec.dust
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
        thin = None
        speck = dec.speck
    remove_lut = speck | dec.dust | faint
    remove_lut[0] = False
    # (a label already removed keeps its first reason)
    _recredit(rule, faint & ~gone, Rule.FAINT)
    if thin is not None:
        _recredit(rule, thin & ~gone & ~faint, Rule.THIN)
    return speck, faint, remove_lut


def _recredit(rule: np.ndarray, sel: np.ndarray, which: Rule) -> None:
    """Overrule a keeping rule: ``sel`` is removed by ``which``."""
    rule[sel] = Rule.NONE
    credit(rule, sel, which)


def _masks(comps: Components, remove_lut: np.ndarray, kept_lut: np.ndarray, ink: np.ndarray, f: int,
           shape_a: tuple[int, int]):
    """The removed and kept-small masks at full resolution, and the flat
    indices of the removed pixels when they come for free (``f`` == 1)."""
    if f == 1:
        # the masks are built only if someone looks at them (overlays)
        rflat = comps.pixels_of(remove_lut)
        return FlatMask(ink.shape, rflat), FlatMask(ink.shape, comps.pixels_of(kept_lut)), rflat
    return expand(comps, remove_lut, ink, f, shape_a), expand(comps, kept_lut, ink, f, shape_a), None


def _render(pixels: np.ndarray, params: CleanParams, ink: np.ndarray, removed, rflat: np.ndarray | None,
            res_dpi: float) -> tuple[np.ndarray, int]:
    """The output image (``ink`` is consumed) and the number of removed pixels."""
    h, w = ink.shape
    if params.mode == "binary":
        image = cv2.bitwise_not(ink, dst=ink)    # ink is not needed any more
        if rflat is not None:
            image.ravel()[rflat] = 255
            return image, int(rflat.size)
        cv2.bitwise_or(image, 255, dst=image, mask=removed.view(np.uint8))
        return image, int(cv2.countNonZero(removed.view(np.uint8)))
    if rflat is None:
        rflat = np.flatnonzero(removed)
    image = paint_removed(pixels, (h, w), rflat // w, rflat % w, ink, res_dpi)
    return image, int(rflat.size)
