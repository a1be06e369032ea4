"""Page-relative scale: stroke width and x-height measured from the ink,
with the resolution only as a fallback for pages with too little text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from despeckled.clean.components import Components

#: Typical body text (10-11 pt serif) per inch of resolution: stroke width
#: ~0.29 mm, x-height ~1.6 mm. Used only when the page has too little text.
STROKE_PER_DPI = 0.0115
XHEIGHT_PER_DPI = 0.063
#: Fewer letter-sized components than this and the measurement is not trusted.
MIN_LETTERS = 12
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
        ``"measured"`` (from the ink), ``"dpi"`` (the file's tag) or
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
    if cand.sum() < MIN_LETTERS:
        return Scale(guess_s, guess_x, res_source, int(cand.sum()))
    # First guess: the median over candidates (one vote per component, so a
    # few heavy blobs or a bold headline cannot outvote the body text).
    stroke = max(1.0, float(np.median(t[cand])))
    letters = cand & (t <= 2.0 * stroke) & (h >= 2.5 * stroke) & (h <= 40 * stroke)
    nl = int(letters.sum())
    if nl < MIN_LETTERS:
        return Scale(stroke, max(4.0, 5.5 * stroke), "measured", nl)
    hist = np.bincount(h[letters]).astype(np.float64)
    # Smooth so two neighbouring heights (anti-aliasing) vote together.
    hist = np.convolve(hist, [1.0, 2.0, 3.0, 2.0, 1.0], mode="same")
    xheight = max(4.0, float(np.argmax(hist)))
    # Refine: the stroke of letters about one x-height tall (body text).
    body = cand & (h >= 0.8 * xheight) & (h <= 1.25 * xheight)
    if body.sum() >= MIN_LETTERS:
        stroke = max(1.0, _weighted_median(t[body], area[body].astype(np.float64)))
    return Scale(stroke, xheight, "measured", nl)
