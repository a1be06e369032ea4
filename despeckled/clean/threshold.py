"""Thresholds: global Otsu, background-normalised (adaptive) and fixed, and
:func:`binarize`, which picks one by ``CleanParams.threshold``."""

from __future__ import annotations

import cv2
import numpy as np

from despeckled.clean.params import CleanParams

#: Physical width of the paper-estimation window: wider than body-text
#: strokes, narrow enough to follow stains and shadows (measured on DIBCO:
#: 1.5 mm F 0.908, 3 mm 0.900, 6 mm 0.895).
BACKGROUND_WINDOW_MM = 1.5
#: Raw gray levels below this fraction of the page's global Otsu level are
#: ink regardless of the local paper estimate (solid interiors of big strokes).
DARK_CORE = 0.6
#: Highest Otsu level (of 255) on the background-normalised page: paper is
#: about 255 there, so on a page with almost no ink, where Otsu splits the
#: paper noise, ink must still be clearly darker than paper.
MAX_NORMALISED_LEVEL = 200


def otsu_level(hist: np.ndarray) -> int:
    """Otsu's threshold from a 256-bin histogram.

    Parameters
    ----------
    hist : ndarray, shape (256,)
        Pixel counts per gray level.

    Returns
    -------
    level : int
        Gray levels ``<= level`` are the dark class.

    Examples
    --------
    >>> h = np.zeros(256); h[40] = 10; h[200] = 90
    >>> 40 <= otsu_level(h) < 200
    True
    """
    p = np.asarray(hist, dtype=np.float64)
    total = p.sum()
    if total <= 0:
        return 127
    p = p / total
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(p)
    mu = np.cumsum(p * levels)
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = -1.0
    best = np.flatnonzero(between == between.max())
    return int(best[len(best) // 2])


def sample_histogram(gray: np.ndarray, step: int = 2) -> np.ndarray:
    """256-bin histogram of every ``step``-th row.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    step : int
        Row stride; 2 reads half the page, which leaves the shape of the
        histogram unchanged and halves the cost.

    Returns
    -------
    hist : ndarray of float64, shape (256,)

    Examples
    --------
    >>> sample_histogram(np.zeros((4, 3), np.uint8))[0]
    np.float64(6.0)
    """
    rows = gray[::step] if gray.shape[0] >= 2 * step else gray
    return cv2.calcHist([rows], [0], None, [256], [0, 256]).ravel().astype(np.float64)


def background_lowres(image: np.ndarray, window_px: float) -> tuple[np.ndarray, int]:
    """Estimate the paper at reduced resolution with a max (closing-like) filter.

    Text is dark and narrow, paper is bright and everywhere, so the brightest
    value in a window wider than any stroke is paper. The work is done on an
    image reduced by ``factor`` so it costs a few milliseconds per page.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, C)
        Gray or colour page.
    window_px : float
        Full-resolution width of the max filter, in pixels. Must exceed the
        widest dark feature that is not background (bold strokes, rules).

    Returns
    -------
    background : ndarray of uint8, shape (ceil(H / factor), ceil(W / factor)[, C])
        Paper level per low-resolution cell.
    factor : int
        Reduction factor: full-resolution pixel ``(y, x)`` maps to cell
        ``(y // factor, x // factor)``.

    Examples
    --------
    >>> g = np.full((64, 64), 200, np.uint8); g[30:34, :] = 20
    >>> bg, f = background_lowres(g, 16)
    >>> int(bg.min()) >= 190
    True
    """
    h, w = image.shape[:2]
    factor = max(1, int(round(window_px / 8.0)))
    lw, lh = max(1, -(-w // factor)), max(1, -(-h // factor))
    if factor > 1:
        # Pad to a multiple of factor so cell (y // factor) is exact.
        pad_b, pad_r = lh * factor - h, lw * factor - w
        src = image
        if pad_b or pad_r:
            src = cv2.copyMakeBorder(image, 0, pad_b, 0, pad_r, cv2.BORDER_REPLICATE)
        small = cv2.resize(src, (lw, lh), interpolation=cv2.INTER_AREA)
    else:
        small = image
    k = max(3, int(np.ceil(window_px / factor)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg = cv2.dilate(small, kernel, borderType=cv2.BORDER_REPLICATE)
    bg = cv2.blur(bg, (k, k), borderType=cv2.BORDER_REPLICATE)
    # The box blur pulls the level down next to dark regions; a second max
    # restores it so normalised paper stays at the top of the range.
    bg = cv2.dilate(bg, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)), borderType=cv2.BORDER_REPLICATE)
    return cv2.max(bg, 1), factor


def upsample(low: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Bring a low-resolution map back to full resolution (bilinear).

    Parameters
    ----------
    low : ndarray, shape (h, w)
        Map from :func:`background_lowres`.
    factor : int
        Its reduction factor.
    shape : (H, W)
        Full-resolution shape.

    Returns
    -------
    full : ndarray, shape (H, W), same dtype as ``low``
    """
    if factor == 1:
        return low
    h, w = shape
    big = cv2.resize(low, (low.shape[1] * factor, low.shape[0] * factor), interpolation=cv2.INTER_LINEAR)
    return big[:h, :w]


def normalise(gray: np.ndarray, background: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Divide the page by its paper level so the paper becomes uniform white.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    background : ndarray of uint8, shape (H, W)
        Paper level, at least 1 (as :func:`background_lowres` returns it).
    out : ndarray of uint8, shape (H, W), optional
        Where to write the result (may be ``background`` itself: saves an
        allocation, which on a full page costs as much as the division).

    Returns
    -------
    flat : ndarray of uint8, shape (H, W)
        ``255 * gray / background``, saturated at 255.
    """
    if out is None:
        return cv2.divide(gray, background, scale=255)
    return cv2.divide(gray, background, dst=out, scale=255)



def normalise_lowres(gray: np.ndarray, low: np.ndarray, factor: int) -> np.ndarray:
    """``normalise(gray, upsample(low, factor, gray.shape))``, band by band.

    Each band of the paper level is upsampled from the low-resolution rows
    it needs (plus one on either side, so bilinear interpolation sees what
    it sees on the whole page: with a power-of-two factor the values are
    the same) and divided while
    still in cache; the full-resolution paper level never exists as a
    page-sized array, which saves writing and re-reading one.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    low : ndarray of uint8, shape (h, w)
        Paper level from :func:`background_lowres`.
    factor : int
        Its reduction factor.

    Returns
    -------
    flat : ndarray of uint8, shape (H, W)
        ``255 * gray / background``, saturated at 255.

    Examples
    --------
    >>> g = np.full((64, 64), 200, np.uint8); g[30:34, :] = 20
    >>> bg, f = background_lowres(g, 16)
    >>> bool((normalise_lowres(g, bg, f) == normalise(g, upsample(bg, f, g.shape))).all())
    True
    """
    if factor & (factor - 1):
        # (with a factor that is not a power of two, the interpolation
        # weights depend on the row's absolute position: no bands)
        return normalise(gray, upsample(low, factor, gray.shape))
    if factor == 1:
        return normalise(gray, low)
    h, w = gray.shape
    out = np.empty((h, w), np.uint8)
    rows = max(1, _BAND_ROWS // factor) * factor   # bands start on a cell boundary
    scratch = np.empty((rows + 2 * factor, low.shape[1] * factor), np.uint8)
    for r0 in range(0, h, rows):
        r1 = min(r0 + rows, h)
        s0, s1 = max(r0 // factor - 1, 0), min(-(-r1 // factor) + 1, low.shape[0])
        big = scratch[: (s1 - s0) * factor]
        cv2.resize(low[s0:s1], (big.shape[1], big.shape[0]), dst=big, interpolation=cv2.INTER_LINEAR)
        top = r0 - s0 * factor
        cv2.divide(gray[r0:r1], big[top:top + r1 - r0, :w], dst=out[r0:r1], scale=255)
    return out

#: Rows per band in :func:`ink_mask`: the band's scratch stays in cache.
_BAND_ROWS = 256


def ink_mask(levels: np.ndarray, level: int, raw: np.ndarray, raw_level: int) -> np.ndarray:
    """Ink where the thresholded page is at most ``level`` or the raw page
    at most ``raw_level``.

    Done band by band, so the raw page's threshold needs no page-sized
    array of its own and each band is combined while still in cache.

    Parameters
    ----------
    levels : ndarray of uint8, shape (H, W)
        The thresholded (e.g. background-normalised) page.
    level : int
    raw : ndarray of uint8, shape (H, W)
        The raw page.
    raw_level : int

    Returns
    -------
    ink : ndarray of uint8, shape (H, W)
        255 = ink, 0 = paper.

    Examples
    --------
    >>> ink_mask(np.array([[10, 200, 200]], np.uint8), 100, np.array([[200, 50, 200]], np.uint8), 60).tolist()
    [[255, 255, 0]]
    """
    h, w = levels.shape
    ink = np.empty((h, w), np.uint8)
    scratch = np.empty((min(_BAND_ROWS, h), w), np.uint8)
    for r0 in range(0, h, _BAND_ROWS):
        r1 = min(r0 + _BAND_ROWS, h)
        band, dark = ink[r0:r1], scratch[: r1 - r0]
        cv2.threshold(levels[r0:r1], level, 255, cv2.THRESH_BINARY_INV, dst=band)
        cv2.threshold(raw[r0:r1], raw_level, 255, cv2.THRESH_BINARY_INV, dst=dark)
        cv2.bitwise_or(band, dark, dst=band)
    return ink


def binarize(gray: np.ndarray, params: CleanParams, res_dpi: float) -> tuple[np.ndarray, np.ndarray, int, tuple[np.ndarray, int] | None]:
    """Threshold a gray page into an ink mask.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
    params : CleanParams
        Uses ``threshold`` and ``threshold_value``.
    res_dpi : float
        Assumed resolution (dots per inch); sizes the paper-estimation
        window (:data:`BACKGROUND_WINDOW_MM`) only.

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

    Examples
    --------
    >>> g = np.full((40, 40), 220, np.uint8); g[10:30, 18:22] = 30
    >>> ink, _, level, _ = binarize(g, CleanParams(), 300.0)
    >>> int(ink[20, 20]), int(ink[5, 5])
    (255, 0)
    """
    bg = None
    if params.threshold == "fixed":
        level = params.threshold_value
        src = gray
    elif params.threshold == "otsu":
        level = otsu_level(sample_histogram(gray))
        src = gray
    else:
        window = BACKGROUND_WINDOW_MM * res_dpi / 25.4
        low, factor = background_lowres(gray, window)
        bg = (low, factor)
        src = normalise_lowres(gray, low, factor)
        level = otsu_level(sample_histogram(src, 3))
        level = min(level, MAX_NORMALISED_LEVEL)
    if params.threshold == "adaptive":
        # The paper window is narrow (it follows stains and shadows), so the
        # inside of a stroke wider than it -- a big bold heading -- would
        # normalise to paper. Pixels as dark as ink on the raw page are ink
        # whatever their neighbourhood.
        raw = otsu_level(sample_histogram(gray, 4))
        ink = ink_mask(src, level, gray, int(DARK_CORE * raw))
    else:
        _, ink = cv2.threshold(src, level, 255, cv2.THRESH_BINARY_INV)
    return ink, src, level, bg
