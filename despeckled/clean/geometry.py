"""Page geometry before thresholding: scanner borders painted out, the
blank-page verdict, and the skew straightened -- each only when sure.

Order: borders first (a black wedge would otherwise outweigh the text
lines in the skew estimate and look like content to the blank test), then
the blank verdict (on the unrotated page), then the rotation of the gray
page (and of the colour page when the output keeps its pixels), so
thresholding sees smooth, straight strokes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from despeckled.clean.blank import BlankVerdict, blank_verdict
from despeckled.clean.borders import find_borders, paint
from despeckled.clean.deskew import Skew, estimate_skew, rotate_page
from despeckled.clean.gray import to_gray
from despeckled.clean.lowres import page_dpi, paper_colour, reduce_page


#: Pages smaller than this (pixels, either side) are left as they are.
MIN_SIDE = 32


@dataclass(frozen=True)
class Geometry:
    """What the geometry step found and did to one page.

    Attributes
    ----------
    skew : Skew or None
        The estimate (None when deskewing is off).
    rotated : bool
        Whether the page was rotated by ``-skew.angle``.
    border_regions : int
        Border regions painted with the paper colour.
    blank : BlankVerdict
    """

    skew: Skew | None
    rotated: bool
    border_regions: int
    blank: BlankVerdict

    def stats(self) -> dict:
        """Flat, JSON-ready figures for the page's stats. ``blank`` is the
        verdict as acted on: blank *and* sure enough to drop
        (:attr:`despeckled.clean.blank.BlankVerdict.droppable`)."""
        return {
            "skew_angle": None if self.skew is None else self.skew.angle,
            "skew_confidence": None if self.skew is None else self.skew.confidence,
            "deskewed": self.rotated,
            "border_regions": self.border_regions,
            "blank": self.blank.droppable,
            "blank_confidence": self.blank.confidence,
        }


def _as_uint8(a: np.ndarray) -> np.ndarray:
    """A colour page OpenCV can warp and paint: 8-bit."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return to_gray(a)


def prepare_page(pixels: np.ndarray, *, deskew: bool = True, remove_borders: bool = True,
                 keep_pixels: bool = False, dpi: float | None = None,
                 fallback_dpi: float = 300.0) -> tuple[np.ndarray, np.ndarray, Geometry]:
    """Paint out borders, judge blankness and straighten one page.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C)
        As :func:`despeckled.clean.gray.to_gray` accepts.
    deskew, remove_borders : bool
        The settings of the same names.
    keep_pixels : bool
        Also return the (painted, rotated) page in its own colour layout
        (gray-mode output keeps the page's pixels); otherwise only the gray
        page is worked on.
    dpi : float, optional
        The file's resolution tag (a hint, see
        :func:`despeckled.clean.lowres.page_dpi`).
    fallback_dpi : float

    Returns
    -------
    pixels : ndarray
        ``pixels`` itself when nothing changed or ``keep_pixels`` is
        false; else the painted/rotated page as uint8: colour pages in
        their layout (RGB or RGBA), others as ``gray``.
    gray : ndarray of uint8, shape (H, W)
        The page as gray, painted and rotated.
    geometry : Geometry

    Examples
    --------
    >>> page = np.full((1169, 827), 235, np.uint8)       # A4 at 100 dpi
    >>> page[:, :25] = 15                                # scanner background
    >>> _, gray, geo = prepare_page(page, dpi=100)
    >>> geo.border_regions, int(gray[500, 10]) >= 230, geo.blank.blank, geo.rotated
    (1, True, True, False)
    """
    gray = to_gray(pixels)
    if min(gray.shape) < MIN_SIDE:
        # too small to have lines, borders or a verdict: left as it is
        return pixels, gray, Geometry(Skew(0.0, 0.0) if deskew else None, False, 0, BlankVerdict(False, 0.0, 0))
    res, _ = page_dpi(gray.shape, dpi, fallback_dpi)
    red = reduce_page(gray, res)
    a = np.asarray(pixels)
    # the colour page, worked on only when the output keeps it
    rgb = _as_uint8(a) if keep_pixels and a.ndim == 3 and a.shape[2] in (3, 4) else None
    regions = 0
    if remove_borders:
        found = find_borders(red)
        if found.regions:
            regions = found.regions
            full = found.full(gray.shape)
            gray = paint(gray, full, red.paper)
            if rgb is not None:
                rgb = paint(rgb, full, paper_colour(rgb, red.paper, gray))
            small = cv2.resize(full, (red.gray.shape[1], red.gray.shape[0]), interpolation=cv2.INTER_NEAREST)
            red = replace(red, gray=paint(red.gray, small, red.paper))
    verdict = blank_verdict(red, gray)
    skew = None
    rotated = False
    if deskew and verdict.droppable:
        skew = Skew(0.0, 0.0)           # a blank page has no lines to straighten
    elif deskew:
        skew = estimate_skew(red)
        rotated = skew.should_rotate
        if rotated:
            if rgb is not None:
                rgb = rotate_page(rgb, skew.angle, paper_colour(rgb, red.paper, gray))
            gray = rotate_page(gray, skew.angle, red.paper)
    if not keep_pixels or (not regions and not rotated):
        out = pixels
    else:
        out = rgb if rgb is not None else gray
    return out, gray, Geometry(skew, rotated, regions, verdict)
