"""Compose the cleaning stages into :func:`clean_page`."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from despeckled.clean import threshold as th
from despeckled.clean.components import Components, label_components
from despeckled.clean.context import any_per, count_per, local_density, points_in_boxes
from despeckled.clean.gray import to_gray
from despeckled.clean.params import CleanParams
from despeckled.clean.scale import Scale, estimate_scale, plausible_dpi

#: Physical width of the paper-estimation window: wider than any bold stroke.
BACKGROUND_WINDOW_MM = 3.0


@dataclass(frozen=True)
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
        ``specks_removed``, ``dust_removed``, ``small_kept``,
        ``components`` (int); ``stroke_width_px``, ``x_height_px`` (float);
        ``scale_source`` (``measured``, ``dpi`` or ``fallback``);
        ``threshold`` (method) and ``threshold_level`` (gray level, on the
        background-normalised page for ``adaptive``).
    """

    image: np.ndarray
    removed: np.ndarray
    kept_small: np.ndarray
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Per-label verdicts (length ``n``; index 0 is the background)."""

    speck: np.ndarray
    dust: np.ndarray
    kept_small: np.ndarray


def binarize(gray: np.ndarray, params: CleanParams, res_dpi: float) -> tuple[np.ndarray, int, tuple[np.ndarray, int] | None]:
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
        1 = ink, 0 = paper.
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
        src = th.normalise(gray, th.upsample(low, factor, gray.shape))
        level = th.otsu_level(th.sample_histogram(src))
        # On a page with almost no ink Otsu splits the paper noise; paper is
        # ~255 after normalisation, so ink must be clearly darker than that.
        level = min(level, 200)
    _, ink = cv2.threshold(src, level, 1, cv2.THRESH_BINARY_INV)
    return ink, level, bg


def classify(c: Components, scale: Scale, params: CleanParams) -> Decision:
    """Decide, per component, what is a speck, what is dust and which small
    marks are kept because text puts marks there.

    Parameters
    ----------
    c : Components
    scale : Scale
    params : CleanParams

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
    real = np.arange(n) > 0
    big_dim = np.maximum(w, h)
    glyph = real & (big_dim >= params.glyph_size * x) & (area >= 0.3 * params.glyph_size * x * s)
    mark = real & ~glyph
    tiny = mark & (area < params.tiny_area * s * s)

    # Dust: compact fat blobs of letter size with no glyph nearby.
    fat = (c.thickness >= params.dust_thickness * s) & (area <= params.dust_max_area * x * x)
    fill = area / np.maximum(w * h, 1)
    blob = fat & (fill >= 0.35) & (w <= 3 * h) & (h <= 3 * w)
    dust = np.zeros(n, bool)
    gi = np.flatnonzero(glyph)
    if params.remove_dust:
        cand = np.flatnonzero(glyph & blob)
        r = 0.8 * x
        pi, bi = points_in_boxes(c.cx[cand], c.cy[cand], x0[gi] - r, y0[gi] - r, x1[gi] + r, y1[gi] + r, 2 * x)
        other = gi[bi] != cand[pi]
        # nearest distance from candidate bbox to the other glyph's bbox
        g, m = gi[bi], cand[pi]
        gap = np.maximum(np.maximum(x0[g] - x1[m], x0[m] - x1[g]), np.maximum(y0[g] - y1[m], y0[m] - y1[g]))
        has_neighbour = any_per(pi, other & (gap <= r), cand.size)
        dust[cand[~has_neighbour]] = True
        # isolated dust-sized marks that are fat blobs are dust too
    anchors = np.flatnonzero(glyph & ~dust & (h <= 5 * x))

    # Context for marks.
    mi = np.flatnonzero(mark & ~tiny)
    kept = np.zeros(n, bool)
    if mi.size and anchors.size:
        r = params.mark_gap * x + 0.2 * x
        pi, bi = points_in_boxes(c.cx[mi], c.cy[mi], x0[anchors] - r, y0[anchors] - r, x1[anchors] + r, y1[anchors] + r, x)
        m, g = mi[pi], anchors[bi]
        gap_x = params.mark_gap * x
        mcx = c.cx[m]
        small_enough = (area[m] <= area[g]) & (h[m] <= 0.75 * x)
        above = (y1[m] <= y0[g] + 0.2 * x) & (y0[g] - y1[m] <= gap_x) & (mcx >= x0[g] - 0.25 * x) & (mcx <= x1[g] + 0.25 * x)
        below = (y0[m] >= y1[g] - 0.2 * x) & (y0[m] - y1[g] <= 0.8 * gap_x) & (mcx >= x0[g] - 0.15 * x) & (mcx <= x1[g] + 0.15 * x)
        hgap = np.maximum(x0[m] - x1[g], x0[g] - x1[m])
        beside = (hgap >= -0.15 * x) & (hgap <= 1.2 * gap_x) & (c.cy[m] >= y0[g] - 0.2 * x) & (c.cy[m] <= y1[g] + 0.4 * x)
        kept[mi] = any_per(pi, small_enough & (above | below | beside), mi.size)

    # Dot leaders: rows of similar marks.
    if mi.size:
        lx = 3.0 * x
        dy = 0.5 * h[mi] + 1
        pi, bi = points_in_boxes(c.cx[mi], c.cy[mi], x0[mi] - lx, c.cy[mi] - dy, x1[mi] + lx, c.cy[mi] + dy, 2 * x)
        a, b = mi[pi], mi[bi]
        ratio = area[a] / np.maximum(area[b], 1)
        similar = (a != b) & (ratio >= 0.5) & (ratio <= 2.0)
        kept[mi] |= count_per(bi, similar, mi.size) >= 2

    # Halftone / dot fields: dense clusters of marks (tiny ones included).
    ai = np.flatnonzero(mark)
    if ai.size:
        dens = local_density(c.cx[ai], c.cy[ai], None, c.labels.shape, 0.5 * x, 1)
        field = dens >= params.halftone_density
        kept[ai[field]] = True

    speck = mark & ~kept
    kept &= mark
    return Decision(speck=speck, dust=dust, kept_small=kept)


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
    ink, level, bg = binarize(gray, params, res_dpi)
    comps = label_components(ink)
    scale = estimate_scale(comps, dpi, params.fallback_dpi)
    dec = classify(comps, scale, params)

    if params.opening:
        opened = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        survivors = np.bincount(comps.lab, weights=opened[comps.ys, comps.xs], minlength=comps.n)
        short = np.maximum(comps.width, comps.height) < scale.xheight
        thin = (survivors == 0) & short & ~dec.kept_small
        thin[0] = False
        speck = dec.speck | thin
    else:
        speck = dec.speck
    remove_lut = speck | dec.dust
    remove_lut[0] = False

    h, w = gray.shape
    sel = remove_lut[comps.lab]
    ry, rx = comps.ys[sel], comps.xs[sel]
    removed = np.zeros((h, w), bool)
    removed[ry, rx] = True
    kept_small = np.zeros((h, w), bool)
    ksel = dec.kept_small[comps.lab]
    kept_small[comps.ys[ksel], comps.xs[ksel]] = True

    if params.mode == "binary":
        image = cv2.compare(ink, 0, cv2.CMP_EQ)
        image[ry, rx] = 255
    else:
        image = _paint(pixels, gray, ry, rx, ink, res_dpi)

    stats = {
        "specks_removed": int(speck.sum()),
        "dust_removed": int(dec.dust.sum()),
        "small_kept": int(dec.kept_small.sum()),
        "components": int(comps.n - 1),
        "removed_px": int(ry.size),
        "stroke_width_px": round(float(scale.stroke), 2),
        "x_height_px": round(float(scale.xheight), 2),
        "scale_source": scale.source,
        "threshold": params.threshold,
        "threshold_level": int(level),
    }
    return PageResult(image, removed, kept_small, stats)


def _paint(pixels: np.ndarray, gray: np.ndarray, ry: np.ndarray, rx: np.ndarray, ink: np.ndarray, res_dpi: float) -> np.ndarray:
    """Copy of the input (as uint8) with removed pixels, grown by one pixel
    into non-ink neighbours to cover anti-aliased rims, painted with the
    local paper colour."""
    a = np.asarray(pixels)
    if a.dtype == bool or a.dtype == np.uint16 or (a.ndim == 3 and a.shape[2] == 1):
        base = to_gray(a) if a.ndim == 2 or a.shape[2] == 1 else _to_uint8(a)
    else:
        base = _to_uint8(a)
    out = np.array(base, copy=True)
    if ry.size == 0:
        return out
    h, w = gray.shape
    # grow by one pixel (8-neighbourhood), never onto kept ink
    dy, dx = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2), indexing="ij")
    yy = np.clip(ry[:, None] + dy.ravel()[None, :], 0, h - 1).ravel()
    xx = np.clip(rx[:, None] + dx.ravel()[None, :], 0, w - 1).ravel()
    removed_here = np.zeros((h, w), bool)
    removed_here[ry, rx] = True
    ok = removed_here[yy, xx] | (ink[yy, xx] == 0)
    yy, xx = yy[ok], xx[ok]
    colour = out if out.ndim == 2 else out[..., :3]
    window = BACKGROUND_WINDOW_MM * res_dpi / 25.4
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
