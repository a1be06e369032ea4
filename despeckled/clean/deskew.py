"""Skew of a page from its own text lines, and the rotation that removes it.

The estimator follows Leptonica's (``pixFindSkewSweepAndSearchScore``): the
ink is sheared by each candidate angle and scored by the *differential
square sum* of its row profile -- the sum over rows of the squared
difference between neighbouring row sums, which peaks when baselines and
x-lines fall on rows, rejects the total amount of ink, and works across
columns whose lines do not line up. A coarse sweep finds the peak, an
interval-halving search refines it. The confidence asks two things of
the sweep: a peak well above the lowest score (Leptonica's peak/min
ratio), and no rival peak nearly as high a few degrees away. Text lines
give one sharp, tall peak; a photo, handwriting or an empty page give a
flat or many-peaked sweep, and then nothing is rotated.

Here the shear is not applied to an image: the ink is summed per row in a
few dozen vertical strips once, and each candidate angle shifts the strips'
row sums (linear interpolation between rows, on a profile upsampled
bicubically for the search) and adds them up -- one :func:`cv2.remap` for
a whole sweep, no loop over pixels or components. The ink is soft (how
much darker than the paper), so the profile has no staircase that would
favour 0 degrees.

Angles are in degrees, positive = the content is rotated counter-clockwise
as seen on screen (OpenCV's convention for
:func:`cv2.getRotationMatrix2D`); rotating by ``-angle`` straightens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from despeckled.clean.lowres import Reduced

#: Sweep range and step (degrees); the range exceeds the largest angle we
#: correct, so a page at 10 degrees has its peak inside the sweep.
SWEEP_RANGE = 11.0
SWEEP_STEP = 0.5
#: The search: a local sweep around the coarse peak, then interval
#: halving until the interval is below SEARCH_MIN_STEP (degrees).
LOCAL_RANGE = 0.3
LOCAL_STEP = 0.1
SEARCH_MIN_STEP = 0.01
#: The confidence is the lesser of two ratios, each over its own minimum:
#: the peak score over the sweep's lowest (Leptonica's confidence, with
#: its default minimum of 3.0), and the peak over the best score at least
#: RIVAL_DEG away (a second peak almost as high: which lines are the
#: text's?). Measured: printed text pages 3.9-70 and 1.7-6.4 (a narrow
#: receipt at 10 degrees is the lowest on both); a photo 1.3, show-through
#: 1.9, a stamp 1.8; handwritten letters (H-DIBCO) 2.4-7.5 and 1.0-3.0.
MIN_PEAK_RATIO = 3.0
MIN_RIVAL_RATIO = 1.5
RIVAL_DEG = 2.0
#: Rotate only at this confidence or more.
MIN_CONFIDENCE = 1.0
#: Rotate only skews in this range (degrees).
MIN_ANGLE = 0.05
MAX_ANGLE = 10.0
#: Strips the page is cut into for the sweep and for the search.
SWEEP_STRIPS = 24
SEARCH_STRIPS = 48
#: Rows summed together in the sweep (the search uses every row).
SWEEP_ROW_STEP = 2
#: Side-by-side bands scored separately in the search (see profile_scores).
SEARCH_BANDS = 2
#: Interpolation of the shifted profiles.
REMAP = cv2.INTER_LINEAR
SEARCH_UPSAMPLE = 2
#: Fewer ink pixels than this fraction of the page: no estimate.
MIN_INK_FRACTION = 0.001
#: Ink for the estimate is at least this many gray levels below the paper.
INK_MARGIN = 30.0


@dataclass(frozen=True)
class Skew:
    """A skew estimate.

    Attributes
    ----------
    angle : float
        Degrees, counter-clockwise positive; 0.0 when there is no estimate.
    confidence : float
        The lesser of (peak score / lowest score) / MIN_PEAK_RATIO and
        (peak score / best score RIVAL_DEG or more away) / MIN_RIVAL_RATIO:
        1.0 or more is confident; 0.0 when the page has too little ink.
    """

    angle: float
    confidence: float

    @property
    def should_rotate(self) -> bool:
        """Confident, and between :data:`MIN_ANGLE` and :data:`MAX_ANGLE`."""
        return self.confidence >= MIN_CONFIDENCE and MIN_ANGLE <= abs(self.angle) <= MAX_ANGLE


def skew_ink(page: Reduced) -> np.ndarray:
    """Soft ink of a reduced page for skew estimation: how much darker than
    the paper each pixel is, beyond :data:`INK_MARGIN` levels (sensor noise
    and stains stay zero). Soft, not thresholded: the area-averaged
    reduction keeps the strokes' sub-pixel edges, so a shifted profile
    interpolates smoothly at every angle (a binary profile is sharpest at
    exactly 0 degrees, which biases the estimate toward 0).

    Parameters
    ----------
    page : Reduced

    Returns
    -------
    ndarray of uint8, shape of ``page.gray``
        0 = paper, up to ``paper - INK_MARGIN`` for black.
    """
    return cv2.subtract(np.full_like(page.gray, int(max(0.0, page.paper - INK_MARGIN))), page.gray)


def strip_sums(ink: np.ndarray, n_strips: int, row_step: int = 1, upsample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Ink per row in each of ``n_strips`` vertical strips.

    Parameters
    ----------
    ink : ndarray of uint8, shape (h, w)
        255 = ink.
    n_strips : int
    row_step : int
        Rows summed together (a coarser profile for the sweep).
    upsample : int
        Rows interpolated (bicubic) per row (a finer profile for the search:
        linear interpolation between finer rows blurs a shifted profile
        less, which would otherwise favour unshifted, 0-degree profiles).

    Returns
    -------
    sums : ndarray of float32, shape (h // row_step, n_strips)
        Mean ink coverage (0-255) of each strip's row.
    centres : ndarray of float64, shape (n_strips,)
        Each strip's centre column relative to the page centre, in units of
        ``row_step`` rows (so a shift of ``centre * tan(angle)`` is in
        profile rows).

    Examples
    --------
    >>> s, c = strip_sums(np.full((4, 8), 255, np.uint8), 2)
    >>> s.tolist(), c.tolist()
    ([[255.0, 255.0], [255.0, 255.0], [255.0, 255.0], [255.0, 255.0]], [-2.0, 2.0])
    """
    h, w = ink.shape
    n_strips = max(1, min(n_strips, w))
    rows = max(1, h // row_step)
    sw = w // n_strips              # whole strips and rows: OpenCV's fast path
    sums = cv2.resize(ink[: rows * row_step, : sw * n_strips], (n_strips, rows), interpolation=cv2.INTER_AREA)
    centres = ((np.arange(n_strips) + 0.5) * sw - sw * n_strips / 2.0) / row_step * upsample
    sums = sums.astype(np.float32)
    if upsample > 1:
        sums = cv2.resize(sums, (n_strips, rows * upsample), interpolation=cv2.INTER_CUBIC)
    return sums, centres


def profile_scores(sums: np.ndarray, centres: np.ndarray, angles: np.ndarray, bands: int = 1) -> np.ndarray:
    """Differential square sum of the row profile sheared by each angle.

    Each strip's column of row sums is shifted by ``centre * tan(angle)``
    rows (bilinear, by :func:`cv2.remap`, all angles in one call) and the
    strips are added up.

    Parameters
    ----------
    sums : ndarray of float32, shape (R, S)
        Ink per row and strip (:func:`strip_sums`).
    centres : ndarray, shape (S,)
        Strip centres relative to the page centre, in rows.
    angles : ndarray of float, shape (A,)
        Candidate skews in degrees.
    bands : int
        Score this many side-by-side groups of strips separately and add
        the scores: the lines of two columns are then not pulled into line
        with each other (their profiles' cross term would prefer the angle
        that aligns the columns' baselines).

    Returns
    -------
    ndarray of float64, shape (A,)

    Examples
    --------
    >>> ink = np.zeros((60, 60), np.uint8)
    >>> ink[[20, 40], :] = 255                    # two straight lines
    >>> s, c = strip_sums(ink, 6)
    >>> sc = profile_scores(s, c, np.array([-2.0, 0.0, 2.0]))
    >>> int(np.argmax(sc))
    1
    """
    R, S = sums.shape
    angles = np.atleast_1d(np.asarray(angles, np.float64))
    # Each strip also gets a fixed fractional offset (golden-ratio steps):
    # linear interpolation blurs a shifted profile by an amount that depends
    # on the fraction, so without it every strip is unblurred at exactly 0
    # degrees, and the score would favour 0 over a small true skew.
    dither = (np.arange(S) * 0.0) % 1.0
    shift = (centres[None, :] * np.tan(np.radians(angles))[:, None] + dither).astype(np.float32).ravel()   # (A * S,)
    # (rows, angle x strip): OpenCV maps are limited to 32767 rows and columns
    map_y = np.arange(R, dtype=np.float32)[:, None] - shift[None, :]
    sheared = cv2.remap(sums, _strip_columns(R, angles.size, S), map_y, REMAP,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    bands = max(1, min(bands, S))
    per = S // bands
    sheared = sheared.reshape(R, angles.size, S)[:, :, : bands * per]
    prof = sheared.reshape(R, angles.size, bands, per).sum(axis=3).astype(np.float64)     # (R, A, B)
    d = np.diff(prof, axis=0)
    return np.einsum("ijk,ijk->j", d, d)


@lru_cache(maxsize=8)
def _strip_columns(rows: int, n_angles: int, n_strips: int) -> np.ndarray:
    """The remap's column map: every row reads strip ``j % n_strips``."""
    cols = np.ascontiguousarray(np.broadcast_to(np.tile(np.arange(n_strips, dtype=np.float32), n_angles),
                                                (rows, n_angles * n_strips)))
    cols.flags.writeable = False
    return cols


def _search(ink: np.ndarray, centre: float) -> float:
    """Refine a sweep's peak: a local sweep of :data:`LOCAL_RANGE` degrees
    either side in :data:`LOCAL_STEP` steps on every row (one call: robust
    to the small bumps a text profile's score has), then interval halving
    from half a step down to :data:`SEARCH_MIN_STEP` on the rows upsampled
    :data:`SEARCH_UPSAMPLE` times, finished with a parabola through the
    last three points."""
    sums, centres = strip_sums(ink, SEARCH_STRIPS)
    for _ in range(3):
        local = centre + np.arange(-LOCAL_RANGE, LOCAL_RANGE + 1e-9, LOCAL_STEP)
        sc = profile_scores(sums, centres, local, SEARCH_BANDS)
        i = int(np.argmax(sc))
        centre = float(local[i])
        if 0 < i < local.size - 1:
            break           # (a peak at the local sweep's edge: sweep on from there)
    sums, centres = strip_sums(ink, SEARCH_STRIPS, upsample=SEARCH_UPSAMPLE)
    best = float(profile_scores(sums, centres, np.array([centre]), SEARCH_BANDS)[0])
    delta = LOCAL_STEP / 2.0
    while True:
        cand = np.array([centre - delta, centre + delta])
        sc = profile_scores(sums, centres, cand, SEARCH_BANDS)
        if delta / 2.0 < SEARCH_MIN_STEP:
            break
        i = int(np.argmax(sc))
        if sc[i] > best:
            centre, best = float(cand[i]), float(sc[i])
        delta /= 2.0
    lo, hi = sc
    denom = lo - 2.0 * best + hi
    if denom < 0 and lo <= best and hi <= best:
        centre += 0.5 * delta * (lo - hi) / denom
    return centre


def estimate_skew(page: Reduced, ink: np.ndarray | None = None) -> Skew:
    """Estimate the skew of a page's text lines.

    Parameters
    ----------
    page : Reduced
        The reduced page (:func:`despeckled.clean.lowres.reduce_page`),
        with borders already painted out.
    ink : ndarray of uint8, shape of ``page.gray``, optional
        Its ink (255 = ink); computed by :func:`skew_ink` when not given.

    Returns
    -------
    Skew

    Examples
    --------
    >>> from despeckled.clean.lowres import reduce_page
    >>> g = np.full((400, 600), 255, np.uint8)
    >>> for y in range(40, 380, 16):
    ...     g[y:y + 5, 40:560:9] = 0; g[y:y + 5, 41:560:9] = 0    # rows of "letters"
    >>> M = cv2.getRotationMatrix2D((300, 200), 2.0, 1.0)
    >>> sk = estimate_skew(reduce_page(cv2.warpAffine(g, M, (600, 400), borderValue=255), 150.0))
    >>> round(sk.angle, 1), sk.should_rotate
    (2.0, True)
    """
    if ink is None:
        ink = skew_ink(page)
    if cv2.countNonZero(ink) < MIN_INK_FRACTION * ink.size:
        return Skew(0.0, 0.0)
    angles = np.arange(-SWEEP_RANGE, SWEEP_RANGE + 1e-9, SWEEP_STEP)
    sums, centres = strip_sums(ink, SWEEP_STRIPS, row_step=SWEEP_ROW_STEP)
    sweep = profile_scores(sums, centres, angles, SEARCH_BANDS)
    i = int(np.argmax(sweep))
    low = float(sweep.min())
    far = np.abs(angles - angles[i]) >= RIVAL_DEG
    rival = float(sweep[far].max())
    confidence = min(sweep[i] / low / MIN_PEAK_RATIO, sweep[i] / rival / MIN_RIVAL_RATIO) if low > 0 else 0.0
    if i in (0, angles.size - 1):
        # the peak is at the sweep's edge: not a text-line peak we can trust
        return Skew(float(angles[i]), float(min(confidence, 0.5)))
    lo, mid, hi = sweep[i - 1], sweep[i], sweep[i + 1]
    denom = lo - 2.0 * mid + hi
    start = float(angles[i]) + (0.5 * SWEEP_STEP * (lo - hi) / denom if denom < 0 else 0.0)
    angle = _search(ink, start)
    return Skew(round(float(angle), 3), round(float(confidence), 2))


def rotate_page(pixels: np.ndarray, angle: float, fill) -> np.ndarray:
    """Rotate a page about its centre by ``-angle`` degrees (straightening a
    skew of ``angle``), keeping its size; new corners get ``fill``.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C), uint8 or uint16
    angle : float
        The page's skew in degrees (counter-clockwise positive).
    fill : float or tuple of float
        The paper colour, in the layout and range of ``pixels``.

    Returns
    -------
    ndarray, same shape and dtype as ``pixels``
        Bilinear interpolation: strokes stay smooth for the threshold.
    """
    h, w = pixels.shape[:2]
    M = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), -angle, 1.0)
    border = fill if isinstance(fill, tuple) else (fill, fill, fill, fill)
    return cv2.warpAffine(np.ascontiguousarray(pixels), M, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)
