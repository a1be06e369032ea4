"""The ``--show-removed`` picture: what the cleaner took away, and what it kept.

Pure array functions (no paths, no logging), used by
:func:`despeckled.process.clean_file`.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Colours of the overlay, RGB.
REMOVED_RGB = (230, 0, 0)
KEPT_RGB = (0, 160, 0)
_REMOVED_HALO = np.array((255, 170, 170), np.float32)
_KEPT_HALO = np.array((170, 230, 170), np.float32)


def to_gray8(pixels: np.ndarray) -> np.ndarray:
    """A page as ``(H, W)`` uint8 gray, whatever it came as.

    Parameters
    ----------
    pixels : ndarray
        ``(H, W)`` bool (True = white), uint8 or uint16, or ``(H, W, 3|4)``
        RGB/RGBA uint8 or uint16 (alpha is composited on white).

    >>> to_gray8(np.array([[True, False]])).tolist()
    [[255, 0]]
    >>> to_gray8(np.full((1, 1, 4), [0, 0, 0, 0], np.uint8)).tolist()  # fully transparent -> paper
    [[255]]
    """
    a = pixels
    if a.dtype == bool:
        return np.where(a, 255, 0).astype(np.uint8)
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    if a.ndim == 3:
        if a.shape[2] == 4:
            alpha = a[..., 3:4].astype(np.float32) / 255.0
            rgb = a[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
            a = rgb.astype(np.uint8)
        a = cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_RGB2GRAY)
    return a.astype(np.uint8, copy=False)


def removed_overlay(pixels: np.ndarray, removed: np.ndarray, kept_small: np.ndarray,
                    *, halo: int = 3) -> np.ndarray:
    """Before/after picture of one page: the original page dimmed to grey,
    removed ink in red, small marks that were kept (because they belong to
    text) in green, each ringed by a light halo ``halo`` pixels wide so that a
    one-pixel speck stays visible on a zoomed-out page.

    Parameters
    ----------
    pixels : ndarray
        The page as read (see :func:`to_gray8` for the accepted kinds).
    removed, kept_small : ndarray of bool, shape (H, W)
        Masks from :class:`despeckled.clean.PageResult`.
    halo : int
        Halo width in pixels (0 for none).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        RGB image.

    >>> page = np.full((5, 5), 255, np.uint8); page[2, 2] = 0
    >>> rem = np.zeros((5, 5), bool); rem[2, 2] = True
    >>> out = removed_overlay(page, rem, np.zeros_like(rem), halo=1)
    >>> out[2, 2].tolist(), out[2, 1].tolist(), out[0, 0].tolist()
    ([230, 0, 0], [255, 170, 170], [255, 255, 255])
    """
    gray = to_gray8(pixels)
    # dim: ink becomes mid grey, paper stays white, so colours stand out
    dim = (gray.astype(np.float32) * 0.55 + 255 * 0.45).astype(np.uint8)
    out = np.repeat(dim[..., None], 3, axis=2)
    removed = removed.astype(bool, copy=False)
    kept_small = kept_small.astype(bool, copy=False)
    if halo > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo + 1, 2 * halo + 1))
        for mask, tint in ((kept_small, _KEPT_HALO), (removed, _REMOVED_HALO)):
            if mask.any():
                ring = cv2.dilate(mask.view(np.uint8), kernel).astype(bool) & ~mask
                # multiply blend keeps the page visible under the tint
                out[ring] = (out[ring].astype(np.float32) * (tint / 255.0)).astype(np.uint8)
    out[kept_small] = KEPT_RGB
    out[removed] = REMOVED_RGB
    return out


#: ``--show-removed`` colours by the rule or guard that decided, RGB: reds
#: and oranges remove, greens keep a mark where text puts one, blues and
#: cyans are the hard guards that kept what a rule wanted removed.
RULE_RGB = {
    "tiny": (255, 140, 0), "no-context": (230, 0, 0), "too-light": (255, 0, 170), "dust": (140, 0, 0),
    "scratch": (200, 70, 0), "faint": (170, 100, 255), "thin": (230, 200, 0),
    "i-dot": (0, 160, 0), "period": (0, 120, 60), "hyphen": (70, 190, 70), "quote": (120, 200, 0),
    "under-stem": (0, 200, 120), "dotted-zero": (0, 200, 120), "crowded": (110, 160, 110),
    "umlaut": (0, 140, 140), "double-quote": (0, 140, 140), "pair": (0, 140, 140), "leader": (0, 175, 210),
    "halftone": (0, 120, 255), "picture": (90, 90, 255),
    "glyph-shaped": (0, 50, 255), "stacked-pair": (0, 210, 255), "regular-row": (120, 0, 255),
    "in-dark-field": (255, 230, 0), "inside-block": (0, 255, 200), "beside-letter": (0, 110, 200),
    "between-glyphs": (100, 160, 255), "minus-sign": (60, 200, 255), "colon-on-line": (0, 170, 170),
    "beside-graphic": (80, 130, 230), "enclosed": (0, 90, 150), "dot-over-stem": (30, 150, 110), "broken-glyph": (90, 60, 200), "dash-row": (60, 120, 180), "letter-piece": (120, 90, 40), "point-between": (150, 60, 120), "ring-beside-stroke": (110, 140, 60), "in-frame": (60, 160, 160), "print-dark": (40, 40, 170),
    "model": (255, 100, 100), "model-kept": (160, 110, 255),
}
_LEGEND_ROW = 22


def rule_overlay(pixels: np.ndarray, rule_map: np.ndarray, names: tuple[str, ...], *, halo: int = 3) -> np.ndarray:
    """The page dimmed to grey with every removed, kept-small or guarded
    mark coloured by the rule that decided it (:data:`RULE_RGB`), ringed by
    a light halo so a one-pixel speck stays visible, and a legend of the
    rules on the page in a strip under it.

    Parameters
    ----------
    pixels : ndarray
        The page as read (see :func:`to_gray8`).
    rule_map : ndarray of uint8, shape (H, W)
        Rule id per pixel, 0 where nothing is shown
        (:attr:`despeckled.clean.PageResult.rule_map`).
    names : tuple of str
        ``names[id]`` is the rule's name
        (:data:`despeckled.clean.rules.RULE_NAMES`).
    halo : int
        Halo width in pixels (0 for none).

    Returns
    -------
    ndarray, shape (H + legend, W, 3), uint8
        RGB image.

    >>> page = np.full((40, 200), 255, np.uint8); page[5, 5] = 0
    >>> rm = np.zeros((40, 200), np.uint8); rm[5, 5] = 2
    >>> out = rule_overlay(page, rm, ("none", "glyph", "tiny"), halo=0)
    >>> out[5, 5].tolist(), out.shape[0] > 40
    ([255, 140, 0], True)
    """
    gray = to_gray8(pixels)
    dim = (gray.astype(np.float32) * 0.55 + 255 * 0.45).astype(np.uint8)
    out = np.repeat(dim[..., None], 3, axis=2)
    present = np.flatnonzero(np.bincount(rule_map.ravel(), minlength=len(names))[1:]) + 1
    lut = np.zeros((max(len(names), 256), 3), np.uint8)
    for k in present:
        lut[k] = RULE_RGB.get(names[k], (255, 0, 255))
    shown = rule_map > 0
    if halo > 0 and shown.any():
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo + 1, 2 * halo + 1))
        grown = cv2.dilate(rule_map, kernel)                  # (the largest id wins a shared halo)
        ring = (grown > 0) & ~shown
        tint = 0.45 * lut[grown[ring]].astype(np.float32) + 0.55 * 255
        out[ring] = (out[ring].astype(np.float32) * (tint / 255.0)).astype(np.uint8)
    out[shown] = lut[rule_map[shown]]
    return np.vstack([out, _legend(out.shape[1], [(names[k], tuple(int(v) for v in lut[k])) for k in present])])


def _legend(width: int, entries: list[tuple[str, tuple[int, int, int]]]) -> np.ndarray:
    """Rows of colour swatches and rule names, wrapped to ``width``."""
    cells, x, y = [], 4, 0
    for name, rgb in entries or [("nothing removed or kept", (255, 255, 255))]:
        w = 24 + 7 * len(name) + 12
        if x + w > width and x > 4:
            x, y = 4, y + _LEGEND_ROW
        cells.append((x, y, name, rgb))
        x += w
    strip = np.full((y + _LEGEND_ROW + 4, width, 3), 255, np.uint8)
    for x, y, name, rgb in cells:
        cv2.rectangle(strip, (x, y + 5), (x + 14, y + 19), rgb, -1)
        cv2.rectangle(strip, (x, y + 5), (x + 14, y + 19), (90, 90, 90), 1)
        cv2.putText(strip, name, (x + 20, y + 17), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return strip
