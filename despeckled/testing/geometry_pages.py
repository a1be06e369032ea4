"""Generated pages with known geometry: skew angles, scanner borders, blank
backs and the pages that must never count as blank.

Every maker is deterministic for a seed and returns the page with its truth,
so tests and ``benchmarks/bench_geometry.py`` grade the geometry steps
without a person looking at the page. Sizes are physical (millimetres at
the page's ``dpi``).

Examples
--------
>>> page = text_page("receipt", seed=1, dpi=150)
>>> page.dtype, page.ndim
(dtype('uint8'), 2)
>>> b = border_page("wedge", seed=1, dpi=100)
>>> b.gray.shape == b.border.shape == b.content.shape
True
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from despeckled.testing.synth import _faces, _paragraph, _ttf, make_page

__all__ = ["TEXT_KINDS", "BORDER_KINDS", "BLANK_KINDS", "NOT_BLANK_KINDS", "BorderPage", "text_page", "skew",
           "border_page", "blank_page"]

TEXT_KINDS = ("prose", "columns", "table", "receipt")
BORDER_KINDS = ("scanner_bg", "wedge", "lid_frame", "punch_edge", "photo_edge", "table_edge")
BLANK_KINDS = ("specks", "show_through", "punch_holes", "staple")
NOT_BLANK_KINDS = ("page_number", "signature", "note", "pencil_line", "small_table", "stamp", "barcode")
_A4 = (210.0, 297.0)


def _px(mm: float, dpi: float) -> int:
    return max(1, int(round(mm * dpi / 25.4)))


def _scan(ink: np.ndarray, rng: np.random.Generator, dpi: float, paper: float = 236.0, level: float = 25.0) -> np.ndarray:
    """Ink coverage (float 0..1, 1 = ink) as a scan: blurred, on paper of
    ``paper`` with ink at ``level``, sensor noise, uint8."""
    cov = cv2.GaussianBlur(ink.astype(np.float32), (0, 0), 0.6 * dpi / 300.0)
    g = paper - (paper - level) * cov + rng.normal(0.0, 3.0, ink.shape)
    return np.clip(np.rint(g), 0, 255).astype(np.uint8)


def _font(size_px: int, mono: bool = False) -> ImageFont.FreeTypeFont:
    faces = _faces("auto")[0]
    want = "DejaVuSansMono" if mono else "DejaVuSans"
    face = next((f for f in faces if f.name == want), faces[-1])
    return _ttf(face, size_px)


def _canvas(w: int, h: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (w, h), 0)
    return img, ImageDraw.Draw(img)


def _ink(img: Image.Image) -> np.ndarray:
    return np.asarray(img, np.float32) / 255.0


def _table(rng: np.random.Generator, dpi: float, size_mm=_A4) -> np.ndarray:
    W, H = _px(size_mm[0], dpi), _px(size_mm[1], dpi)
    img, d = _canvas(W, H)
    font = _font(_px(3.0, dpi))
    x0, x1 = _px(20, dpi), W - _px(20, dpi)
    y = _px(25, dpi)
    d.text((x0, y), "Quarterly figures by region", font=_font(_px(4.5, dpi)), fill=255)
    y += _px(12, dpi)
    ncol = int(rng.integers(4, 7))
    cols = np.linspace(x0, x1, ncol + 1).astype(int)
    row_h = _px(7, dpi)
    line = max(1, _px(0.25, dpi))
    words = ["North", "South", "East", "West", "Total", "Budget", "Actual", "Delta", "Q1", "Q2"]
    nrow = int(rng.integers(14, 26))
    for r in range(nrow + 1):
        d.line([(x0, y + r * row_h), (x1, y + r * row_h)], fill=255, width=line)
    for c in cols:
        d.line([(int(c), y), (int(c), y + nrow * row_h)], fill=255, width=line)
    for r in range(nrow):
        for c in range(ncol):
            s = words[int(rng.integers(len(words)))] if c == 0 else f"{rng.uniform(0, 99999):,.2f}"
            d.text((int(cols[c]) + _px(1.5, dpi), y + r * row_h + _px(1.5, dpi)), s, font=font, fill=255)
    y += nrow * row_h + _px(8, dpi)
    d.text((x0, y), "Figures in thousands; see the notes overleaf.", font=font, fill=255)
    return _ink(img)


def _receipt(rng: np.random.Generator, dpi: float) -> np.ndarray:
    W, H = _px(80, dpi), _px(200, dpi)
    img, d = _canvas(W, H)
    font = _font(_px(2.6, dpi), mono=True)
    big = _font(_px(4.0, dpi), mono=True)
    x0, y, lead = _px(5, dpi), _px(8, dpi), _px(4.0, dpi)
    d.text((W // 2, y), "CORNER STORE", font=big, fill=255, anchor="mt")
    y += _px(8, dpi)
    items = ["MILK 1L", "BREAD", "APPLES 1KG", "COFFEE", "TEA BOX", "RICE 2KG", "EGGS X12", "SOAP"]
    for _ in range(int(rng.integers(10, 22))):
        name = items[int(rng.integers(len(items)))]
        d.text((x0, y), f"{int(rng.integers(1, 5))} {name:<14}{rng.uniform(0.5, 40):8.2f}", font=font, fill=255)
        y += lead
        if y > H - _px(30, dpi):
            break
    d.text((x0, y), "-" * 30, font=font, fill=255)
    y += lead
    d.text((x0, y), f"TOTAL: {rng.uniform(20, 300):21.2f}", font=big, fill=255)
    y += 2 * lead
    d.text((x0, y), "THANK YOU  12/03/2024 14:22", font=font, fill=255)
    return _ink(img)


def text_page(kind: str, seed: int, dpi: float = 300) -> np.ndarray:
    """A straight text page of ``kind`` (see :data:`TEXT_KINDS`), scanned.

    Parameters
    ----------
    kind : {"prose", "columns", "table", "receipt"}
        Prose (the engine's synthetic page), two columns, a ruled table, a
        narrow till receipt.
    seed : int
    dpi : float

    Returns
    -------
    ndarray of uint8, shape (H, W)
    """
    rng = np.random.default_rng(seed)
    if kind == "prose":
        return make_page(seed, dpi, toc=True, halftone=False).noisy
    if kind == "columns":
        col = (_A4[0] - 30.0) / 2.0
        left = make_page(seed, dpi, size=(col, 270.0), toc=False, halftone=False, n_dust=0, illumination=0.0).noisy
        right = make_page(seed + 1000, dpi, size=(col, 262.0), toc=False, halftone=False, n_dust=0, illumination=0.0).noisy
        W, H = _px(_A4[0], dpi), _px(_A4[1], dpi)
        page = np.full((H, W), int(np.median(left)), np.uint8)
        y0, x0 = _px(12, dpi), _px(10, dpi)
        page[y0:y0 + left.shape[0], x0:x0 + left.shape[1]] = left
        y1, x1 = y0 + _px(float(rng.uniform(2, 6)), dpi), x0 + left.shape[1] + _px(10, dpi)
        page[y1:y1 + right.shape[0], x1:x1 + right.shape[1]] = right[: H - y1, : W - x1]
        return page
    if kind == "table":
        return _scan(_table(rng, dpi), rng, dpi)
    if kind == "receipt":
        return _scan(_receipt(rng, dpi), rng, dpi, paper=240.0, level=60.0)
    raise ValueError(f"unknown text page kind {kind!r}")


def skew(gray: np.ndarray, angle: float, fill: float | None = None) -> np.ndarray:
    """The page rotated counter-clockwise by ``angle`` degrees about its
    centre (as a crooked feed would), same size, corners filled with paper.

    >>> bool(skew(np.full((10, 10), 200, np.uint8), 3.0).min() >= 190)
    True
    >>> skew(np.full((10, 10, 3), 200, np.uint8), 3.0).shape
    (10, 10, 3)
    """
    h, w = gray.shape[:2]
    if fill is None:
        sample = gray[::4, ::4].reshape(-1, 1 if gray.ndim == 2 else gray.shape[2])
        fill = tuple(float(v) for v in np.percentile(sample, 90, axis=0))
    M = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle, 1.0)
    border = fill if isinstance(fill, tuple) else (fill,) * 4
    return cv2.warpAffine(gray, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


@dataclass
class BorderPage:
    """A page with scanner borders and content near its edges.

    Attributes
    ----------
    gray : ndarray of uint8, shape (H, W)
    border : ndarray of bool, shape (H, W)
        Dark pixels that are scanner border (must go).
    content : ndarray of bool, shape (H, W)
        Ink that is content, including marks within 2 mm of an edge and
        dark content touching an edge (must stay).
    dpi : float
    """

    gray: np.ndarray
    border: np.ndarray
    content: np.ndarray
    dpi: float


def _edge_content(rng: np.random.Generator, W: int, H: int, dpi: float, inset_mm: float) -> np.ndarray:
    """Ink of marks close to the edges (not touching): a header rule, a page
    number, a signature stroke, a vertical margin rule."""
    img, d = _canvas(W, H)
    i = _px(inset_mm, dpi)
    d.line([(_px(30, dpi), i + _px(1.2, dpi)), (W - _px(30, dpi), i + _px(1.2, dpi))], fill=255, width=_px(0.3, dpi))
    d.text((W // 2, H - i - _px(1.0, dpi)), str(int(rng.integers(2, 300))), font=_font(_px(3.5, dpi)), fill=255, anchor="md")
    d.line([(i + _px(1.0, dpi), _px(60, dpi)), (i + _px(1.0, dpi), H - _px(60, dpi))], fill=255, width=_px(0.25, dpi))
    t = np.linspace(0, 1, 60)
    xs = W - i - _px(1.5, dpi) - _px(4, dpi) * (1 + np.sin(9 * t))
    ys = H // 2 + _px(40, dpi) * (t - 0.5)
    d.line(list(zip(xs.astype(int).tolist(), ys.astype(int).tolist())), fill=255, width=_px(0.35, dpi))
    return _ink(img)


def border_page(kind: str, seed: int, dpi: float = 300) -> BorderPage:
    """A text page with one kind of scanner border (see :data:`BORDER_KINDS`).

    ``scanner_bg``: the page lies on black background, a little crooked;
    ``wedge``: a crooked feed leaves black wedges at the corners;
    ``lid_frame``: a gray band of the lid on three sides; ``punch_edge``:
    punch-hole shadows cut by the right edge (a
    duplex back); ``photo_edge`` and
    ``table_edge``: no border, but a dark photo / a black-ruled table bleeds
    off the edge (content that must stay). Every kind has content within
    2 mm of a border-free edge, or just inside the border.
    """
    rng = np.random.default_rng(seed)
    W, H = _px(_A4[0], dpi), _px(_A4[1], dpi)
    text = cv2.resize(_table(rng, dpi / 2) if seed % 2 else _receipt(rng, dpi / 2), (W // 2, H // 2))
    ink = np.zeros((H, W), np.float32)
    ink[H // 4:H // 4 + text.shape[0], W // 4:W // 4 + text.shape[1]] = text[: H - H // 4, : W - W // 4]
    inset = 1.2  # mm between the image edge and the edge content
    border_cov = np.zeros((H, W), np.float32)
    level_border = 30.0
    if kind == "scanner_bg":
        inset = 14.0
        paper = np.zeros((H, W), np.uint8)
        m = _px(10, dpi)
        box = cv2.boxPoints((((W - 1) / 2, (H - 1) / 2), (W - 2 * m, H - 2 * m), float(rng.uniform(-2, 2))))
        cv2.fillPoly(paper, [np.rint(box).astype(np.int32)], 1)
        border_cov = 1.0 - paper.astype(np.float32)
    elif kind == "wedge":
        inset = 9.0
        paper = np.full((H, W), 255, np.uint8)
        M = cv2.getRotationMatrix2D(((W - 1) / 2, (H - 1) / 2), float(rng.choice([-1, 1]) * rng.uniform(1.5, 3.5)), 1.0)
        paper = cv2.warpAffine(paper, M, (W, H), flags=cv2.INTER_NEAREST, borderValue=0)
        border_cov = (paper == 0).astype(np.float32)
    elif kind == "lid_frame":
        inset = 8.0
        level_border = float(rng.uniform(110, 170))
        b = _px(float(rng.uniform(3, 6)), dpi)
        border_cov[:b, :] = 1
        border_cov[:, :b] = 1
        border_cov[-b:, :] = 1
    elif kind == "punch_edge":
        r = _px(3.0, dpi)
        for yc in (H // 2 - _px(40, dpi), H // 2 + _px(40, dpi)):
            cv2.circle(border_cov, (W - 1 - _px(0.5, dpi), int(yc)), r, 1.0, -1)
        level_border = float(rng.uniform(20, 90))
    content_extra = np.zeros((H, W), np.float32)
    if kind == "photo_edge":
        y0, x0 = _px(120, dpi), W - _px(70, dpi)
        tex = cv2.GaussianBlur(rng.uniform(0, 1, (H // 8, W // 8)).astype(np.float32), (0, 0), 1.5)
        tex = cv2.resize(tex, (W, H))
        content_extra[y0:y0 + _px(60, dpi), x0:] = 0.55 + 0.45 * (tex[y0:y0 + _px(60, dpi), x0:] - tex.min()) / np.ptp(tex)
    elif kind == "table_edge":
        y0, line = _px(230, dpi), _px(0.8, dpi)
        rows = [y0 + k * _px(8, dpi) for k in range(5)]
        for y in rows:
            content_extra[y:y + line, _px(40, dpi):] = 1
        for x in range(_px(40, dpi), W, _px(35, dpi)):
            content_extra[rows[0]:rows[-1] + line, x:x + line] = 1
        content_extra[rows[0]:rows[0] + _px(8, dpi), _px(40, dpi):] = 1     # a black header row
    edge = _edge_content(rng, W, H, dpi, inset)
    content = np.maximum(np.maximum(ink, edge), content_extra)
    paper_level = 236.0
    g = paper_level - (paper_level - 25.0) * cv2.GaussianBlur(content, (0, 0), 0.6 * dpi / 300.0)
    bc = cv2.GaussianBlur(border_cov, (0, 0), 0.8 * dpi / 300.0)
    g = g * (1 - bc) + level_border * bc + rng.normal(0.0, 3.0, (H, W))
    gray = np.clip(np.rint(g), 0, 255).astype(np.uint8)
    return BorderPage(gray, border_cov > 0.5, (content > 0.5) & (border_cov < 0.5), dpi)


def _specks(rng: np.random.Generator, H: int, W: int, dpi: float, n: int) -> np.ndarray:
    cov = np.zeros((H, W), np.float32)
    ys, xs = rng.integers(0, H, n), rng.integers(0, W, n)
    rad = np.maximum(1, np.rint(rng.uniform(0.3, 2.5, n) * dpi / 300.0)).astype(int)
    for y, x, r in zip(ys.tolist(), xs.tolist(), rad.tolist()):
        cv2.circle(cov, (x, y), r, 1.0, -1)
    return cov


def blank_page(kind: str, seed: int, dpi: float = 300) -> np.ndarray:
    """A page that is blank (:data:`BLANK_KINDS`) or one that must never be
    taken for blank (:data:`NOT_BLANK_KINDS`), with specks and sensor noise.

    Blank: ``specks`` (paper, noise, specks and a few dust clumps),
    ``show_through`` (the other side's text, mirrored, faint, blurred),
    ``punch_holes`` (two dark holes near the left edge), ``staple`` (a
    staple's shadow at the top-left corner). Not blank: ``page_number``,
    ``signature``, ``note`` (a short handwritten note), ``pencil_line``
    (one faint gray line of text), ``small_table``, ``stamp``, ``barcode``.

    Returns
    -------
    ndarray of uint8, shape (H, W)
    """
    rng = np.random.default_rng(seed)
    W, H = _px(_A4[0], dpi), _px(_A4[1], dpi)
    paper = float(rng.uniform(225, 245))
    ink = _specks(rng, H, W, dpi, int(rng.integers(50, 400)))
    level = 30.0
    g = None
    img, d = _canvas(W, H)
    if kind == "specks":
        for _ in range(int(rng.integers(0, 4))):
            cv2.circle(ink, (int(rng.integers(0, W)), int(rng.integers(0, H))), _px(0.6, dpi), 1.0, -1)
    elif kind == "show_through":
        back = make_page(seed, dpi, toc=False, halftone=False, n_specks=0, n_dust=0).clean
        faint = cv2.GaussianBlur((255 - back[:, ::-1]).astype(np.float32) / 255.0, (0, 0), 2.0 * dpi / 300.0)
        g = paper - float(rng.uniform(0.06, 0.16)) * paper * faint
    elif kind == "punch_holes":
        for yc in (H // 2 - _px(40, dpi), H // 2 + _px(40, dpi)):
            cv2.circle(ink, (_px(12, dpi), int(yc)), _px(3.0, dpi), 1.0, -1)
    elif kind == "staple":
        cv2.line(ink, (_px(8, dpi), _px(14, dpi)), (_px(18, dpi), _px(6, dpi)), 0.8, _px(0.5, dpi))
    elif kind == "page_number":
        d.text((W // 2, H - _px(15, dpi)), str(int(rng.integers(2, 40))), font=_font(_px(3.5, dpi)), fill=255, anchor="md")
    elif kind in ("signature", "note"):
        t = np.linspace(0, 1, 200)
        n = 1 if kind == "signature" else 3
        for k in range(n):
            x = _px(120 if kind == "signature" else 30, dpi) + _px(50, dpi) * t
            y = _px(200 + 8 * k, dpi) + _px(3, dpi) * np.sin(31 * t + k) * (1 + np.cos(7 * t))
            d.line(list(zip(x.astype(int).tolist(), y.astype(int).tolist())), fill=255, width=_px(0.4, dpi))
    elif kind == "pencil_line":
        d.text((_px(30, dpi), _px(100, dpi)), "call back re: invoice 1207 before Friday", font=_font(_px(3.0, dpi)), fill=160)
        level = 150.0
    elif kind == "small_table":
        x0, y0, cw, rh = _px(30, dpi), _px(40, dpi), _px(25, dpi), _px(6, dpi)
        for r in range(4):
            d.line([(x0, y0 + r * rh), (x0 + 3 * cw, y0 + r * rh)], fill=255, width=_px(0.25, dpi))
        for c in range(4):
            d.line([(x0 + c * cw, y0), (x0 + c * cw, y0 + 3 * rh)], fill=255, width=_px(0.25, dpi))
        for r in range(3):
            for c in range(3):
                d.text((x0 + c * cw + _px(2, dpi), y0 + r * rh + _px(1.5, dpi)), f"{rng.uniform(0, 99):.1f}", font=_font(_px(2.5, dpi)), fill=255)
    elif kind == "stamp":
        c = (_px(150, dpi), _px(60, dpi))
        d.ellipse([c[0] - _px(15, dpi), c[1] - _px(10, dpi), c[0] + _px(15, dpi), c[1] + _px(10, dpi)], outline=255, width=_px(0.6, dpi))
        d.text(c, "RECEIVED", font=_font(_px(3.0, dpi)), fill=255, anchor="mm")
        level = 110.0
    elif kind == "barcode":
        x = _px(60, dpi)
        while x < _px(150, dpi):
            wbar = _px(float(rng.choice([0.35, 0.7, 1.05])), dpi)
            d.rectangle([x, _px(130, dpi), x + wbar - 1, _px(160, dpi)], fill=255)
            x += wbar + _px(float(rng.choice([0.35, 0.7])), dpi)
    else:
        raise ValueError(f"unknown blank page kind {kind!r}")
    marks = _ink(img)
    if g is None:
        g = np.full((H, W), paper, np.float32)
    cov = cv2.GaussianBlur(ink, (0, 0), 0.6 * dpi / 300.0)
    g = g - (paper - 30.0) * cov
    mc = cv2.GaussianBlur(marks, (0, 0), 0.6 * dpi / 300.0)
    g = g * (1 - mc) + level * mc + rng.normal(0.0, 3.0, (H, W))
    return np.clip(np.rint(g), 0, 255).astype(np.uint8)
