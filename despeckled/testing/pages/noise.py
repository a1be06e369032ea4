"""Degradations: specks and dust (recorded as ground truth), blur, uneven
paper, sensor noise and JPEG.

Specks come in three shapes -- ``round`` (a disc or ellipse), ``blob`` (an
irregular clump grown pixel by pixel from a seed, Eden growth) and
``streak`` (a thin, slightly bent scratch) -- and two sharpness regimes:
``soft`` specks are drawn before the page's blur (blurred like the print),
``sharp`` ones after it (sharper than the print). Sizes are areas at 300 dpi
and scale with the square of the resolution.

Size classes (:data:`SIZE_CLASSES`): ``small`` 1-9 px, ``medium`` 10-59 px
(specks), ``dust`` 60-300 px, all at 300 dpi.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

SIZE_CLASSES = {"small": (1, 9), "medium": (10, 59), "dust": (60, 300)}
CLASS_NAMES = tuple(SIZE_CLASSES)
SHAPES = ("round", "blob", "streak")
PLACES = ("free", "accent", "period")


@dataclass(frozen=True)
class Noise:
    """A family's degradation ranges (all sizes at 300 dpi).

    Attributes
    ----------
    per_a4 : dict
        Size class -> (min, max) count per A4 page (scaled by page area).
    shapes : (float, float, float)
        Weights of round, blob and streak specks.
    sharp : float
        Fraction of specks in the sharp regime (drawn after the blur).
    spots : float
        Fraction of small and medium specks placed in accent or period
        positions next to letters.
    tone : (float, float)
        Speck darkness as a fraction of the print's (1 = as dark as the print).
    blur : (float, float)
        Gaussian sigma of the print, px at 300 dpi.
    paper : (float, float)
        Paper gray level range.
    ink : (float, float)
        Print gray level range.
    uneven : (float, float)
        Illumination falloff amplitude (fraction of the paper level).
    grain : float
        Paper texture sigma, gray levels.
    sensor : float
        Sensor noise sigma, gray levels.
    jpeg : float
        Probability of a JPEG round trip; quality from ``jpeg_q``.
    tint : float
        Probability of a tinted (RGB) page.
    """

    per_a4: dict = field(default_factory=lambda: {"small": (300, 600), "medium": (80, 200), "dust": (8, 25)})
    shapes: tuple = (0.5, 0.35, 0.15)
    sharp: float = 0.5
    spots: float = 0.3
    tone: tuple = (0.6, 1.0)
    blur: tuple = (0.5, 1.0)
    paper: tuple = (225.0, 250.0)
    ink: tuple = (10.0, 60.0)
    uneven: tuple = (0.0, 0.15)
    grain: float = 3.0
    sensor: float = 3.0
    jpeg: float = 0.3
    jpeg_q: tuple = (60, 92)
    tint: float = 0.0


def shape_mask(rng: np.random.Generator, area: int, shape: str, px: float) -> np.ndarray:
    """A bool mask of about ``area`` pixels (exactly, for round and blob).

    ``px`` is pixels per 300-dpi pixel (streak widths scale with it).

    >>> rng = np.random.default_rng(0)
    >>> [int(shape_mask(rng, a, s, 1.0).sum()) for a, s in ((1, "round"), (7, "round"), (40, "blob"))]
    [1, 7, 40]
    """
    if shape == "blob" and area > 3:
        return _eden(rng, area)
    if shape == "streak" and area >= 4:
        return _streak(rng, area, px)
    r = np.sqrt(area / np.pi)
    aspect = float(rng.uniform(1.0, 1.6))
    n = int(np.ceil(2 * r * aspect)) + 3
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    c = n / 2 + rng.uniform(-0.5, 0.5, 2)
    th = rng.uniform(0, np.pi)
    u = (xx - c[1]) * np.cos(th) + (yy - c[0]) * np.sin(th)
    v = -(xx - c[1]) * np.sin(th) + (yy - c[0]) * np.cos(th)
    d = (u / aspect) ** 2 + (v * aspect) ** 2
    flat = np.argsort(d, axis=None, kind="stable")[:area]
    m = np.zeros(n * n, bool)
    m[flat] = True
    return _crop(m.reshape(n, n))


def _crop(m: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(m)
    return np.ascontiguousarray(m[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def _eden(rng: np.random.Generator, area: int) -> np.ndarray:
    """An irregular clump grown from one pixel: each round adds a random
    share of the free 8-neighbours (Eden growth), exactly ``area`` pixels."""
    n = int(2 * np.sqrt(area)) + 6
    m = np.zeros((n, n), np.uint8)
    m[n // 2, n // 2] = 1
    have = 1
    k = np.ones((3, 3), np.uint8)
    while have < area:
        front = np.flatnonzero((cv2.dilate(m, k) > 0) & (m == 0))
        take = min(area - have, max(1, int(len(front) * float(rng.uniform(0.15, 0.5)))))
        m.flat[rng.choice(front, take, replace=False)] = 1
        have += take
        if m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any():
            m = np.pad(m, n // 2)
            n = m.shape[0]
    return _crop(m.astype(bool))


def _streak(rng: np.random.Generator, area: int, px: float) -> np.ndarray:
    width = max(1, int(round(px * float(rng.uniform(1.0, 2.2)))))
    length = max(2, int(area / width))
    n = length + 2 * width + 4
    m = np.zeros((n, n), np.uint8)
    th = rng.uniform(0, np.pi)
    c = np.array([n / 2, n / 2])
    d = np.array([np.cos(th), np.sin(th)]) * length / 2
    bend = np.array([-d[1], d[0]]) * float(rng.uniform(-0.25, 0.25))
    pts = np.array([c - d, c + bend, c + d]).round().astype(np.int32)
    cv2.polylines(m, [pts], False, 1, width)
    return _crop(m.astype(bool))


@dataclass
class SpeckTruth:
    """Per-speck ground truth, index 0 unused (as in a label map)."""

    labels: np.ndarray                          # (H, W) int32
    area: list = field(default_factory=lambda: [0])
    area300: list = field(default_factory=lambda: [0.0])
    cls: list = field(default_factory=lambda: [-1])       # index into CLASS_NAMES
    sharp: list = field(default_factory=lambda: [False])
    shape: list = field(default_factory=lambda: [-1])     # index into SHAPES
    place: list = field(default_factory=lambda: [-1])     # index into PLACES
    visible: np.ndarray | None = None                     # see peak_visible


def place_specks(rng: np.random.Generator, cv, noise: Noise, print_tone: float) -> tuple[np.ndarray, np.ndarray, SpeckTruth]:
    """Place specks and dust on free paper (never touching content, never on
    reverse fields, codes or halftones). Returns the soft layer (to be
    blurred with the print), the sharp layer, and the ground truth."""
    H, W = cv.shape
    px = cv.dpi / 300.0
    clear = max(1, int(round(px)))
    keep = (cv.cov > 0).astype(np.uint8)
    keep = cv2.dilate(keep, np.ones((2 * clear + 1, 2 * clear + 1), np.uint8)).astype(bool) | cv.nospeck
    soft = np.zeros((H, W), np.float32)
    sharp = np.zeros((H, W), np.float32)
    truth = SpeckTruth(np.zeros((H, W), np.int32))
    a4 = H * W / ((297 / 25.4 * cv.dpi) * (210 / 25.4 * cv.dpi))
    shapes_p = np.array(noise.shapes, float) / sum(noise.shapes)
    for ci, cname in enumerate(CLASS_NAMES):
        lo, hi = noise.per_a4[cname]
        count = int(round(rng.uniform(lo, hi) * a4))
        alo, ahi = SIZE_CLASSES[cname]
        for _ in range(count):
            a300 = float(np.exp(rng.uniform(np.log(alo), np.log(ahi + 1))))
            a300 = min(a300, ahi + 0.99)
            area = max(1, int(round(int(a300) * px * px)))
            si = int(rng.choice(3, p=shapes_p))
            m = shape_mask(rng, area, SHAPES[si], px)
            place = 0
            if cname != "dust" and rng.random() < noise.spots:
                place = 1 if rng.random() < 0.5 else 2
            pos = _position(rng, cv, m.shape, place, keep)
            if pos is None:
                continue
            y, x = pos
            is_sharp = bool(rng.random() < noise.sharp)
            tone = print_tone * float(rng.uniform(*noise.tone))
            layer = sharp if is_sharp else soft
            sl = (slice(y, y + m.shape[0]), slice(x, x + m.shape[1]))
            layer[sl][m] = tone
            lab = len(truth.area)
            truth.labels[sl][m] = lab
            truth.area.append(int(m.sum()))
            truth.area300.append(float(m.sum()) / (px * px))
            truth.cls.append(ci)
            truth.sharp.append(is_sharp)
            truth.shape.append(si)
            truth.place.append(place)
            d = cv2.dilate(m.astype(np.uint8), np.ones((2 * clear + 1, 2 * clear + 1), np.uint8), borderType=cv2.BORDER_CONSTANT)
            keep[sl] |= d[:m.shape[0], :m.shape[1]].astype(bool)
    return soft, sharp, truth


def _position(rng, cv, shape: tuple[int, int], place: int, keep: np.ndarray, tries: int = 4):
    H, W = cv.shape
    h, w = shape
    for _ in range(tries):
        spots = cv.accent_spots if place == 1 else cv.period_spots if place == 2 else None
        if spots:
            sx, sy, xh = spots[int(rng.integers(len(spots)))]
            if place == 1:
                cx = sx + rng.normal(0, 0.12 * xh)
                cy = sy - float(rng.uniform(0.15, 0.6)) * xh - h / 2
            else:
                cx = sx + float(rng.uniform(0.0, 0.35)) * xh + w / 2
                cy = sy - h / 2 - float(rng.uniform(-0.1, 0.3)) * xh
            y, x = int(round(cy - h / 2)), int(round(cx - w / 2))
        else:
            y, x = int(rng.integers(0, max(1, H - h))), int(rng.integers(0, max(1, W - w)))
        if y < 0 or x < 0 or y + h > H or x + w > W:
            continue
        if not keep[y:y + h, x:x + w].any():
            return y, x
    return None


def degrade(rng: np.random.Generator, cov: np.ndarray, soft: np.ndarray, sharp: np.ndarray,
            noise: Noise, dpi: float) -> tuple[np.ndarray, dict]:
    """The scanned page: print and soft specks blurred, sharp specks on top,
    on uneven textured paper, with sensor noise and maybe a JPEG round trip.

    Returns ``(image, dark, facts)``: uint8 (H, W) gray or (H, W, 3) RGB;
    the blurred darkness (float32, 1 = full print ink) before paper and
    noise; and the drawn parameters."""
    H, W = cov.shape
    px = dpi / 300.0
    sigma = float(rng.uniform(*noise.blur)) * px
    dark = np.maximum(cov, soft)
    if sigma > 0.05:
        dark = cv2.GaussianBlur(dark, (0, 0), sigma)
    np.maximum(dark, sharp, out=dark)
    paper = float(rng.uniform(*noise.paper))
    ink = float(rng.uniform(*noise.ink))
    amp = float(rng.uniform(*noise.uneven))
    grid = rng.random((4, 3)).astype(np.float32)
    field_ = cv2.resize(grid, (W, H), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    bg = paper * (1.0 - amp * field_)
    if noise.grain > 0:
        g = rng.normal(0, noise.grain, (H, W)).astype(np.float32)
        bg += cv2.GaussianBlur(g, (0, 0), 0.8 * px)
    img = bg - dark * (bg - ink)
    del bg
    if noise.sensor > 0:
        img += rng.normal(0, noise.sensor, (H, W)).astype(np.float32)
    tinted = bool(rng.random() < noise.tint)
    if tinted:
        t = np.array([1.0, float(rng.uniform(0.93, 0.99)), float(rng.uniform(0.8, 0.92))], np.float32)
        img = img[..., None] * t
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    q = None
    if rng.random() < noise.jpeg:
        q = int(rng.integers(noise.jpeg_q[0], noise.jpeg_q[1] + 1))
        enc = cv2.imencode(".jpg", out[..., ::-1] if tinted else out, [cv2.IMWRITE_JPEG_QUALITY, q])[1]
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR if tinted else cv2.IMREAD_GRAYSCALE)
        if tinted:
            out = np.ascontiguousarray(out[..., ::-1])
    return out, dark, {"blur_sigma_px": sigma, "paper": paper, "ink": ink, "uneven": amp, "jpeg_quality": q, "tinted": tinted}


def peak_visible(labels: np.ndarray, drawn: np.ndarray, dark: np.ndarray, n: int) -> np.ndarray:
    """Per label (index 0 False): does at least 30% of the object's own
    darkness survive the blur somewhere on it? Objects that fail are not in
    the scan to be kept (or removed), so the scores leave them out.

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
        Object labels, 0 = none.
    drawn, dark : ndarray of float32, shape (H, W)
        Darkness as drawn and after the blur (1 = full print ink).
    n : int
        Number of labels including 0.
    """
    on = labels > 0
    lab = labels[on]
    tone = np.zeros(n, np.float32)
    peak = np.zeros(n, np.float32)
    np.maximum.at(tone, lab, drawn[on])
    np.maximum.at(peak, lab, dark[on])
    vis = peak >= 0.3 * tone
    vis[0] = False
    return vis & (tone > 0)
