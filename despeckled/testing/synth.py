"""Synthetic scanned pages with exact ground truth.

:func:`make_page` renders a page of real-looking text (several fonts, 8-12 pt,
punctuation, accents, a table of contents with dot leaders, a small halftone
patch) at a chosen resolution, then adds the kinds of noise a scanner or a
dirty platen adds: isolated specks of 1-40 px, specks a few pixels from a
glyph, dust clumps of 60-300 px, blur, uneven and tinted paper, sensor noise
and a JPEG round trip.

The ground truth is recorded *before* the degradations, as label maps plus
per-component arrays, so a scorer can grade a cleaner without a Python loop::

    kept = np.bincount(page.speck_labels[out_ink], minlength=page.n_specks + 1)

Sizes are given at 300 dpi and scaled with the resolution, so the same page
description means the same physical page at 200, 300 or 600 dpi: a speck of
"9 px" is 9 px at 300 dpi, 4 px at 200 dpi and 36 px at 600 dpi.

Pure numpy / OpenCV / Pillow, deterministic for a given seed on a given
machine. With ``fonts="auto"`` the DejaVu TrueType fonts are used when the
system has them (real accents); always, and alone with ``fonts="builtin"``,
Pillow's built-in TrueType font (ASCII only: accents are drawn over the
letters as separate marks, which is what a diacritic is to a despeckler
anyway) and OpenCV's Hershey fonts (accents dropped).

Examples
--------
>>> page = make_page(seed=1, dpi=150, size=(60, 40))
>>> page.clean.shape == page.noisy.shape[:2]
True
>>> page.clean.dtype, sorted(np.unique(page.clean).tolist())
(dtype('uint8'), [0, 255])
>>> bool((page.clean[page.speck_labels > 0] == 255).all())  # specks never sit on text
True
"""

from __future__ import annotations

import glob
import math
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["SynthPage", "make_page", "PAGE_SIZES_MM", "SMALL_MARK_AREA_300", "KIND_FAR", "KIND_NEAR", "KIND_TOUCH"]

#: Named page sizes, (width, height) in millimetres.
PAGE_SIZES_MM = {
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
}

#: Clean-text components smaller than this many pixels at 300 dpi are
#: "small marks" (periods, commas, i-dots, diacritics, small letters).
SMALL_MARK_AREA_300 = 60

#: ``speck_kind`` values.
KIND_FAR, KIND_NEAR, KIND_TOUCH = 0, 1, 2

_MM_PER_INCH = 25.4

# ---------------------------------------------------------------------------
# Text content: a fixed vocabulary, so pages read like prose (OCR's language
# model matters) and are identical for a seed.
_WORDS = """
the of and to in a is that for it as was with be by on not he this are or his
from at which but have an they you were her she there been one all we their has
would when if so no will more can out up what about into than them only some
could time these two may then do first any my now such like our over man me even
most made after also did many before must through back years where much your way
well down should because each just those people how too little state good very
make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since
against go came right used take three report data paper office scanner page
printed letter invoice meeting budget quarter figure table section chapter
appendix results method analysis review contract delivery account customer
signature reference number address council committee library archive record
""".split()

_ACCENTED = """
café naïve über señor résumé façade déjà vu Müller São Paulo Zürich crème brûlée
élève Göteborg Málaga Ångström Øresund François Dvořák Łódź niño año mañana
pâté garçon fiancée coöperate Köln Düsseldorf Besançon Genève Ibáñez Pérez
""".split()

_ABBREVIATIONS = ["e.g.", "i.e.", "etc.", "Dr.", "Mr.", "Mrs.", "No.", "p.", "vol.", "approx.", "U.S.", "St."]

_TITLES = [
    "Annual report of the records office",
    "Minutes of the committee meeting",
    "Notes on the scanning procedure",
    "Delivery terms and conditions",
    "Résumé of the quarterly results",
    "A short history of the archive",
]


def _sentence(rng: np.random.Generator) -> str:
    n = int(rng.integers(6, 17))
    words = []
    for i in range(n):
        r = rng.random()
        if r < 0.10:
            w = str(_ACCENTED[rng.integers(len(_ACCENTED))])
        elif r < 0.14:
            w = str(_ABBREVIATIONS[rng.integers(len(_ABBREVIATIONS))])
        elif r < 0.18:
            w = str(int(rng.integers(1, 2000))) if rng.random() < 0.6 else f"{rng.integers(1, 99)}.{rng.integers(0, 99):02d}"
        else:
            w = str(_WORDS[rng.integers(len(_WORDS))])
        if i < n - 1 and rng.random() < 0.10:
            w += str(rng.choice([",", ",", ",", ";", ":"]))
        if rng.random() < 0.03:
            w = f"({w})" if not w[-1] in ",;:" else w
        if rng.random() < 0.02:
            w = f"\u201c{w}\u201d" if rng.random() < 0.5 else f'"{w}"'
        words.append(w)
    words[0] = words[0][:1].upper() + words[0][1:]
    end = str(rng.choice([".", ".", ".", ".", ".", "?", "!"]))
    s = " ".join(words)
    if s[-1] in ",;:.":
        s = s[:-1]
    return s + end


def _paragraph(rng: np.random.Generator) -> str:
    return " ".join(_sentence(rng) for _ in range(int(rng.integers(2, 6))))


# ---------------------------------------------------------------------------
# Fonts


@dataclass(frozen=True)
class _Face:
    """A font face: a TrueType file (``path``; ``None`` = Pillow's built-in
    font) or an OpenCV Hershey font (``hershey`` id)."""

    name: str
    path: str | None = None
    hershey: int | None = None


_DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu")
_DEJAVU_FILES = (
    "DejaVuSerif.ttf", "DejaVuSans.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSansCondensed.ttf", "DejaVuSerifCondensed.ttf", "DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf",
)
_HERSHEY = (
    ("hershey-simplex", cv2.FONT_HERSHEY_SIMPLEX),
    ("hershey-duplex", cv2.FONT_HERSHEY_DUPLEX),
    ("hershey-complex", cv2.FONT_HERSHEY_COMPLEX),
    ("hershey-triplex", cv2.FONT_HERSHEY_TRIPLEX),
    ("hershey-complex-italic", cv2.FONT_HERSHEY_COMPLEX | cv2.FONT_ITALIC),
)


@lru_cache(maxsize=4)
def _faces(fonts: str) -> tuple[tuple[_Face, ...], tuple[_Face, ...]]:
    """(TrueType faces, Hershey faces) for a ``fonts`` setting."""
    ttf: list[_Face] = []
    if fonts == "auto":
        for d in _DEJAVU_DIRS:
            for f in _DEJAVU_FILES:
                hits = glob.glob(f"{d}/{f}")
                if hits:
                    ttf.append(_Face(f.removesuffix(".ttf"), path=hits[0]))
            if ttf:
                break
    elif fonts != "builtin":
        raise ValueError(f"fonts must be 'auto' or 'builtin', not {fonts!r}")
    ttf.append(_Face("pillow-default"))
    return tuple(ttf), tuple(_Face(n, hershey=h) for n, h in _HERSHEY)


@lru_cache(maxsize=256)
def _ttf(face: _Face, size_px: int) -> ImageFont.FreeTypeFont:
    if face.path is None:
        # Pillow's built-in Aileron draws about 0.8 of DejaVu's size per em
        return ImageFont.load_default(size=round(size_px * 1.2))
    return ImageFont.truetype(face.path, size=size_px)


@lru_cache(maxsize=256)
def _has_glyphs(face: _Face, chars: str) -> bool:
    """Whether a TrueType face draws every char (missing glyphs render as the
    same "tofu" box as a private-use code point)."""
    font = _ttf(face, 32)
    tofu = bytes(font.getmask("\U000f0001"))
    return all(bytes(font.getmask(c)) != tofu for c in chars if not c.isascii())


def _strip_accents(text: str) -> str:
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("Ø", "O").replace("ø", "o")
    text = text.replace("Ł", "L").replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# ---------------------------------------------------------------------------
# Blobs for specks and dust


def _blob(rng: np.random.Generator, area: int, irregular: float) -> np.ndarray:
    """A connected random blob of about ``area`` pixels, cropped to its box."""
    if area <= 1:
        return np.ones((1, 1), bool)
    r = math.sqrt(area / math.pi)
    s = int(2 * r * (1.6 + irregular)) + 3
    field_ = rng.random((s, s), dtype=np.float32)
    sig = max(0.8, r * 0.35)
    field_ = cv2.GaussianBlur(field_, (0, 0), sig)
    field_ = (field_ - field_.min()) / max(float(np.ptp(field_)), 1e-6)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    c = (s - 1) / 2
    aspect = float(rng.uniform(0.6, 1.0))
    ang = float(rng.uniform(0, math.pi))
    u = (xx - c) * math.cos(ang) + (yy - c) * math.sin(ang)
    v = -(xx - c) * math.sin(ang) + (yy - c) * math.cos(ang)
    d = np.sqrt(u * u * aspect + v * v / aspect) / (r + 1)
    value = irregular * field_ - d
    flat = value.ravel()
    thresh = np.partition(flat, flat.size - area)[flat.size - area]
    mask = (value >= thresh).astype(np.uint8)
    n, lab, st, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n > 2:
        mask = (lab == 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    return mask[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(bool)


# ---------------------------------------------------------------------------
# The page


@dataclass(frozen=True, eq=False)
class SynthPage:
    """A synthetic page and its ground truth.

    Attributes
    ----------
    clean : ndarray, shape (H, W), uint8
        The ground truth: 0 = ink, 255 = paper. Text only, no noise.
    noisy : ndarray, shape (H, W) uint8, or (H, W, 3) uint8 RGB
        The scan-like image: clean text plus specks and dust, blurred, on
        uneven (optionally tinted) paper, with sensor noise and JPEG artefacts.
    dpi : float
        Resolution the page was rendered at; point sizes are physical.
    lines : list of str
        The text in reading order, one entry per printed line (for OCR).
    speck_labels : ndarray, shape (H, W), int32
        0 off specks, ``i`` on the pixels of speck ``i`` (1-based), as drawn
        before any degradation. Specks never overlap clean ink or each other.
    speck_area : ndarray, shape (n_specks + 1,), int64
        Pixel area of each speck at this resolution (index 0 unused, = 0).
    speck_gap : ndarray, shape (n_specks + 1,), float32
        Euclidean distance in pixels from the speck to the nearest clean ink
        pixel (1.0 = touching), by OpenCV's 5x5 chamfer distance (within 0.3 px
        up to 15 px, 2% beyond).
    speck_kind : ndarray, shape (n_specks + 1,), int8
        :data:`KIND_FAR`, :data:`KIND_NEAR` (1.5-6.5 px from a glyph at
        300 dpi) or :data:`KIND_TOUCH` (closer: merges with the glyph).
    dust_labels, dust_area, dust_gap
        The same for dust clumps (60-300 px at 300 dpi, isolated).
    small_labels : ndarray, shape (H, W), int32
        0 elsewhere, ``j`` on the pixels of clean-text component ``j`` whose
        area is under :data:`SMALL_MARK_AREA_300` px at 300 dpi (scaled).
    small_area : ndarray, shape (n_small + 1,), int64
    small_halftone : ndarray, shape (n_small + 1,), bool
        Whether small mark ``j`` is a halftone dot rather than text.
    halftone_box : tuple (y0, y1, x0, x1) or None
    stats : dict
        Counts and the generation settings.
    """

    clean: np.ndarray
    noisy: np.ndarray
    dpi: float
    lines: list[str]
    speck_labels: np.ndarray
    speck_area: np.ndarray
    speck_gap: np.ndarray
    speck_kind: np.ndarray
    dust_labels: np.ndarray
    dust_area: np.ndarray
    dust_gap: np.ndarray
    small_labels: np.ndarray
    small_area: np.ndarray
    small_halftone: np.ndarray
    halftone_box: tuple[int, int, int, int] | None
    stats: dict = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Linear scale relative to 300 dpi."""
        return self.dpi / 300.0

    @property
    def n_specks(self) -> int:
        return len(self.speck_area) - 1

    @property
    def n_dust(self) -> int:
        return len(self.dust_area) - 1

    @property
    def n_small(self) -> int:
        return len(self.small_area) - 1

    @property
    def speck_area300(self) -> np.ndarray:
        """Speck areas expressed in pixels at 300 dpi (for size bands)."""
        return self.speck_area / self.scale**2

    @property
    def ink(self) -> np.ndarray:
        """Clean-text ink, bool (H, W)."""
        return self.clean == 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _noise(rng: np.random.Generator, shape: tuple, sigma: float) -> np.ndarray:
    """Gaussian noise from a 512 x 512 tile repeated at a random offset:
    numpy draws 8.7 M normals in about 150 ms, a tile in 5; no cleaner can
    see the repeat."""
    t = 512
    tile = rng.standard_normal((t, t) + tuple(shape[2:]), dtype=np.float32) * np.float32(sigma)
    oy, ox = (int(v) for v in rng.integers(0, t, size=2))
    reps = (-(-(shape[0] + oy) // t), -(-(shape[1] + ox) // t)) + (1,) * (len(shape) - 2)
    return np.tile(tile, reps)[oy:oy + shape[0], ox:ox + shape[1]]


def _page_size_mm(size) -> tuple[float, float]:
    if isinstance(size, str):
        try:
            return PAGE_SIZES_MM[size.lower()]
        except KeyError:
            raise ValueError(f"unknown page size {size!r}; use one of {sorted(PAGE_SIZES_MM)} or (w_mm, h_mm)") from None
    w, h = size
    return float(w), float(h)


class _Layout:
    """Flows text blocks down the page, drawing TrueType text with Pillow now
    and collecting Hershey text to draw with OpenCV afterwards."""

    def __init__(self, w: int, h: int, dpi: float, margin_px: int) -> None:
        self.img = Image.new("L", (w, h), 255)
        self.draw = ImageDraw.Draw(self.img)
        self.dpi = dpi
        self.x0, self.x1 = margin_px, w - margin_px
        self.y = margin_px
        self.y_end = h - margin_px
        self.hershey_ops: list[tuple] = []
        self.lines: list[str] = []

    def px(self, pt: float) -> int:
        return max(4, round(pt * self.dpi / 72.0))

    def _measure(self, face: _Face, em: int):
        if face.hershey is not None:
            (_, cap1), _ = cv2.getTextSize("H", face.hershey, 1.0, 1)
            scale = 0.70 * em / cap1
            thick = max(1, round(em * 0.07))
            return lambda s: cv2.getTextSize(s, face.hershey, scale, thick)[0][0], (scale, thick)
        font = _ttf(face, em)
        return font.getlength, font

    def _put(self, face: _Face, em: int, handle, x: int, baseline: int, s: str) -> None:
        if face.hershey is not None:
            scale, thick = handle
            self.hershey_ops.append((s, (x, baseline), face.hershey, scale, thick))
        else:
            self.draw.text((x, baseline), s, font=handle, fill=0, anchor="ls")

    def fits(self, em: int) -> bool:
        return self.y + 1.3 * em <= self.y_end

    def paragraph(self, text: str, face: _Face, pt: float, indent: float = 0.0) -> bool:
        """Word-wrap ``text``; returns False when the page is full."""
        em = self.px(pt)
        compose = False  # draw accents as separate marks over a font that has none
        if face.hershey is not None:
            text = _strip_accents(text)
        elif not _has_glyphs(face, "".join(sorted(set(text)))):
            compose = True
        measure, handle = self._measure(face, em)
        space = measure(" ")
        x_start = self.x0 + round(indent * em)
        line: list[str] = []
        width = 0.0
        lead = round(1.25 * em)

        def emit() -> None:
            s = " ".join(line)
            self.y += lead
            self._put(face, em, handle, x_start, self.y, _strip_accents(s) if compose else s)
            if compose:
                self._accents(handle, em, x_start, self.y, s)
            self.lines.append(s)

        for word in text.split():
            wlen = measure(_strip_accents(word) if compose else word)
            if line and x_start + width + space + wlen > self.x1:
                if not self.fits(em):
                    return False
                emit()
                line, width = [], 0.0
            width += (space if line else 0) + wlen
            line.append(word)
        if line:
            if not self.fits(em):
                return False
            emit()
        self.y += round(0.6 * em)
        return True

    def _accents(self, font: ImageFont.FreeTypeFont, em: int, x: int, baseline: int, s: str) -> None:
        """Draw the diacritics of ``s`` (drawn without them at ``x``) as marks."""
        drawn = ""
        w = max(1, round(em * 0.08))
        for c in s:
            plain = _strip_accents(c)
            marks = [m for m in unicodedata.normalize("NFD", c) if unicodedata.combining(m)]
            if marks and plain:
                x0 = x + font.getlength(drawn)
                _, t, _, _ = font.getbbox(plain, anchor="ls")
                cx = x0 + font.getlength(plain) / 2
                top = baseline + t - 0.08 * em  # just above the letter
                h = 0.22 * em
                for m in marks:
                    self._mark(m, cx, top, h, baseline, w, em)
            drawn += plain

    def _mark(self, m: str, cx: float, top: float, h: float, baseline: int, w: int, em: int) -> None:
        d = self.draw
        k = h * 0.8
        if m == "\u0301":  # acute
            d.line([(cx - k * 0.4, top), (cx + k * 0.4, top - h)], fill=0, width=w)
        elif m == "\u0300":  # grave
            d.line([(cx + k * 0.4, top), (cx - k * 0.4, top - h)], fill=0, width=w)
        elif m == "\u0302":  # circumflex
            d.line([(cx - k, top), (cx, top - h), (cx + k, top)], fill=0, width=w)
        elif m == "\u030c":  # caron
            d.line([(cx - k, top - h), (cx, top), (cx + k, top - h)], fill=0, width=w)
        elif m == "\u0303":  # tilde
            d.line([(cx - k * 1.2, top - h * 0.3), (cx - k * 0.4, top - h), (cx + k * 0.4, top - h * 0.3),
                    (cx + k * 1.2, top - h)], fill=0, width=w, joint="curve")
        elif m in ("\u0308", "\u0307"):  # diaeresis, dot above
            r = max(1.0, 0.055 * em)
            for dx in ((-k * 0.8, k * 0.8) if m == "\u0308" else (0.0,)):
                d.ellipse([cx + dx - r, top - h / 2 - r, cx + dx + r, top - h / 2 + r], fill=0)
        elif m == "\u030a":  # ring
            r = h * 0.5
            d.ellipse([cx - r, top - h, cx + r, top], outline=0, width=max(1, w - 1))
        elif m == "\u0327":  # cedilla
            d.line([(cx, baseline), (cx + k * 0.6, baseline + h * 0.7), (cx - k * 0.4, baseline + h * 1.3)],
                   fill=0, width=w)

    def toc(self, rng: np.random.Generator, face: _Face, pt: float, n: int) -> bool:
        """A table of contents with dot leaders."""
        em = self.px(pt)
        measure, handle = self._measure(face, em)
        page = int(rng.integers(1, 9))
        for i in range(n):
            if not self.fits(em):
                return False
            k = int(rng.integers(2, 6))
            title = " ".join(str(_WORDS[j]) for j in rng.integers(len(_WORDS), size=k)).capitalize()
            left = f"{i + 1}. {title}"
            right = str(page)
            page += int(rng.integers(2, 30))
            dot = measure(" .")
            avail = self.x1 - self.x0 - measure(left) - measure(right) - 2 * measure(" ")
            leaders = " ." * max(0, int(avail // max(dot, 1)))
            s = f"{left}{leaders} {right}"
            self.y += round(1.3 * em)
            self._put(face, em, handle, self.x0, self.y, s)
            self.lines.append(f"{left} {right}")
        self.y += round(0.6 * em)
        return True


def _halftone(rng: np.random.Generator, h: int, w: int, pitch: float) -> np.ndarray:
    """A clustered-dot halftone of a smooth random picture; True = ink."""
    tone = rng.random((8, 8), dtype=np.float32)
    tone = cv2.resize(tone, (w, h), interpolation=cv2.INTER_CUBIC)
    tone = np.clip(0.15 + 0.55 * (tone - tone.min()) / max(float(np.ptp(tone)), 1e-6), 0, 1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c, s = math.cos(math.pi / 4), math.sin(math.pi / 4)
    u = (xx * c + yy * s) / pitch
    v = (-xx * s + yy * c) / pitch
    du = (u - np.round(u)) * pitch
    dv = (v - np.round(v)) * pitch
    r = np.sqrt(tone / math.pi) * pitch  # dot area = tone * pitch^2
    return du * du + dv * dv < r * r


def make_page(
    seed: int,
    dpi: float = 300,
    size: str | tuple[float, float] = "a4",
    *,
    n_specks: int | None = None,
    n_dust: int | None = None,
    near_fraction: float = 0.25,
    touch_fraction: float = 0.02,
    speck_area_range: tuple[float, float] = (1, 40),
    dust_area_range: tuple[float, float] = (60, 300),
    toc: bool = True,
    halftone: bool = True,
    fonts: str = "auto",
    blur: float = 0.6,
    illumination: float = 0.12,
    paper: str = "white",
    color: bool = False,
    sensor_noise: float = 4.0,
    jpeg_quality: int | None = 85,
) -> SynthPage:
    """Render a noisy synthetic page with exact ground truth.

    Parameters
    ----------
    seed : int
        Everything (text, layout, fonts, noise) follows from it.
    dpi : float
        Resolution in pixels per inch; text is ``pt * dpi / 72`` px per em.
    size : {"a4", "a5", "letter", "legal"} or (width_mm, height_mm)
    n_specks : int, optional
        Number of specks; default 400 per A4 area.
    n_dust : int, optional
        Number of dust clumps; default 10 per A4 area.
    near_fraction, touch_fraction : float
        Fractions of specks placed 1.5-6.5 px (at 300 dpi) from a glyph, and
        touching one (these merge with the glyph; no component rule can
        remove them).
    speck_area_range, dust_area_range : (float, float)
        Areas in pixels at 300 dpi, drawn log-uniformly; scaled by
        ``(dpi / 300) ** 2``.
    toc, halftone : bool
        Include a table of contents with dot leaders; a small halftone patch.
    fonts : {"auto", "builtin"}
        ``auto`` adds the system's DejaVu fonts when present.
    blur : float
        Gaussian sigma in pixels at 300 dpi (scaled).
    illumination : float
        Depth of the brightness falloff across the page, 0..1.
    paper : {"white", "tinted"}
        ``tinted`` gives yellowed paper (visible in gray too).
    color : bool
        Return an RGB ``noisy`` image instead of gray.
    sensor_noise : float
        Standard deviation of Gaussian noise in gray levels.
    jpeg_quality : int or None
        JPEG round trip quality; ``None`` skips it.

    Returns
    -------
    SynthPage
    """
    if paper not in ("white", "tinted"):
        raise ValueError(f"paper must be 'white' or 'tinted', not {paper!r}")
    rng = np.random.default_rng(seed)
    s = dpi / 300.0
    w_mm, h_mm = _page_size_mm(size)
    W = max(16, round(w_mm / _MM_PER_INCH * dpi))
    H = max(16, round(h_mm / _MM_PER_INCH * dpi))
    area_frac = (w_mm * h_mm) / (210.0 * 297.0)
    if n_specks is None:
        n_specks = round(400 * area_frac)
    if n_dust is None:
        n_dust = round(10 * area_frac)

    lay, halftone_box = _lay_out_text(rng, W, H, dpi, w_mm, h_mm, fonts, toc, halftone)
    page = np.asarray(lay.img).copy()
    for text, org, font, scale, thick in lay.hershey_ops:
        cv2.putText(page, text, org, font, scale, 0, thick, cv2.LINE_AA)
    ink = page < 128
    clean = np.where(ink, 0, 255).astype(np.uint8)
    small = _small_marks(ink, s, halftone_box)

    placer = _Placer(rng, clean, ink, s, speck_area_range)
    sp_area, sp_gap, sp_kind = placer.specks(n_specks, near_fraction, touch_fraction, speck_area_range)
    du_area, du_gap = placer.dust(n_dust, dust_area_range)
    noisy = _degrade(rng, placer.dark, ink, s, blur=blur, illumination=illumination, paper=paper,
                     color=color, sensor_noise=sensor_noise, jpeg_quality=jpeg_quality)

    small_labels, small_area, small_ht, n_small = small
    return SynthPage(
        clean=clean,
        noisy=noisy,
        dpi=float(dpi),
        lines=lay.lines,
        speck_labels=placer.speck_labels,
        speck_area=np.asarray(sp_area, np.int64),
        speck_gap=np.asarray(sp_gap, np.float32),
        speck_kind=np.asarray(sp_kind, np.int8),
        dust_labels=placer.dust_labels,
        dust_area=np.asarray(du_area, np.int64),
        dust_gap=np.asarray(du_gap, np.float32),
        small_labels=small_labels,
        small_area=small_area,
        small_halftone=small_ht,
        halftone_box=halftone_box,
        stats={
            "seed": seed, "dpi": float(dpi), "size_px": (W, H), "specks": len(sp_area) - 1,
            "dust": len(du_area) - 1, "small_marks": n_small,
            "small_text_marks": int(n_small - small_ht.sum()),
            "ink_pixels": int(ink.sum()), "lines": len(lay.lines),
        },
    )


def _lay_out_text(rng: np.random.Generator, W: int, H: int, dpi: float, w_mm: float, h_mm: float,
                  fonts: str, toc: bool, halftone: bool) -> tuple[_Layout, tuple[int, int, int, int] | None]:
    """Title, paragraphs, an optional table of contents and halftone patch."""
    s = dpi / 300.0
    ttf_faces, hershey_faces = _faces(fonts)
    margin = round(min(w_mm, h_mm) * 0.09 / _MM_PER_INCH * dpi)
    lay = _Layout(W, H, dpi, margin)
    title_face = ttf_faces[int(rng.integers(len(ttf_faces)))]
    lay.paragraph(_TITLES[int(rng.integers(len(_TITLES)))], title_face, 12.0)
    toc_at = int(rng.integers(1, 4)) if toc else -1
    ht_at = int(rng.integers(1, 5)) if halftone else -1
    if ht_at == toc_at:
        ht_at += 1
    halftone_box = None
    block = 0
    while True:
        block += 1
        if block == toc_at:
            face = ttf_faces[int(rng.integers(len(ttf_faces)))]
            if not lay.toc(rng, face, float(rng.choice([9.0, 10.0, 11.0])), int(rng.integers(4, 8))):
                break
            continue
        if block == ht_at:
            hw = round(min(20.0, w_mm * 0.3) / _MM_PER_INCH * dpi)
            hh = round(min(12.0, h_mm * 0.15) / _MM_PER_INCH * dpi)
            if lay.y + hh + 4 < lay.y_end and lay.x0 + hw < lay.x1:
                y0 = lay.y + round(0.5 * lay.px(10))
                dots = _halftone(rng, hh, hw, pitch=7.5 * s)
                arr = np.asarray(lay.img).copy()
                arr[y0:y0 + hh, lay.x0:lay.x0 + hw][dots] = 0
                lay.img = Image.fromarray(arr)
                lay.draw = ImageDraw.Draw(lay.img)
                halftone_box = (y0, y0 + hh, lay.x0, lay.x0 + hw)
                lay.y = y0 + hh
            continue
        pt = float(rng.choice([8.0, 9.0, 10.0, 10.0, 11.0, 12.0]))
        face = (hershey_faces[int(rng.integers(len(hershey_faces)))] if rng.random() < 0.2
                else ttf_faces[int(rng.integers(len(ttf_faces)))])
        if not lay.paragraph(_paragraph(rng), face, pt, indent=float(rng.choice([0.0, 0.0, 1.5]))):
            break
    return lay, halftone_box


def _small_marks(ink: np.ndarray, s: float, halftone_box: tuple[int, int, int, int] | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Label image, areas and halftone flags of the clean text's small marks."""
    small_max = SMALL_MARK_AREA_300 * s * s
    n, labels, st, cent = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    areas = st[:, cv2.CC_STAT_AREA].astype(np.int64)
    is_small = areas < small_max
    is_small[0] = False
    idx = np.flatnonzero(is_small)
    lut = np.zeros(n, np.int32)
    lut[idx] = np.arange(1, idx.size + 1, dtype=np.int32)
    small_labels = lut[labels]
    small_area = np.concatenate([[0], areas[idx]])
    small_ht = np.zeros(idx.size + 1, bool)
    if halftone_box is not None:
        y0, y1, x0, x1 = halftone_box
        cx, cy = cent[idx, 0], cent[idx, 1]
        small_ht[1:] = (cy >= y0) & (cy < y1) & (cx >= x0) & (cx < x1)
    return small_labels, small_area, small_ht, int(idx.size)


class _Placer:
    """Places specks and dust on the page, each its own component, at a chosen gap."""

    def __init__(self, rng: np.random.Generator, clean: np.ndarray, ink: np.ndarray, s: float,
                 speck_area_range: tuple[float, float]) -> None:
        H, W = clean.shape
        self.rng, self.s, self.W, self.H = rng, s, W, H
        self.dist = cv2.distanceTransform(clean, cv2.DIST_L2, 5)  # to nearest ink; 5x5 chamfer, 2.5x faster than exact
        self.occupied = ink.copy()
        self.speck_labels = np.zeros((H, W), np.int32)
        self.dust_labels = np.zeros((H, W), np.int32)
        # Candidate anchors near glyphs, sorted by distance, for near/touch specks.
        near_lim = 6.5 * s + 2 + 2 * math.sqrt(speck_area_range[1] * s * s / math.pi)
        cand = np.flatnonzero((self.dist > 0) & (self.dist <= near_lim))
        if cand.size > 200_000:  # a random subset is plenty and keeps the sort cheap
            cand = cand[:: -(-cand.size // 200_000)]
        cand_d = self.dist.ravel()[cand]
        order = np.argsort(cand_d, kind="stable")
        self.cand, self.cand_d = cand[order], cand_d[order]
        self.others = np.zeros((H, W), bool)
        self.sep = int(max(2, round(3 * s)))
        self.dark = np.zeros((H, W), np.float32)  # ink coverage 0..1, drawn as we go

    def place(self, mask: np.ndarray, kind: int, gap_lo: float, gap_hi: float, labels_out: np.ndarray,
              lab: int, darkness: float) -> float | None:
        rng, W, H, sep = self.rng, self.W, self.H, self.sep
        bh, bw = mask.shape
        ys, xs = np.nonzero(mask)
        for _ in range(30):
            if kind == KIND_FAR:
                y = int(rng.integers(0, H - bh + 1))
                x = int(rng.integers(0, W - bw + 1))
            else:
                # choose an anchor pixel at the target gap, put a blob pixel on it
                target = float(rng.uniform(gap_lo, gap_hi))
                lo, hi = np.searchsorted(self.cand_d, np.array([target - 0.5, target + 0.5], np.float32))
                if hi <= lo:
                    return None
                p = int(self.cand[int(rng.integers(lo, hi))])
                py, px = divmod(p, W)
                # the blob pixel closest to the glyph is unknown; use a random edge pixel
                k = int(rng.integers(len(ys)))
                y, x = py - int(ys[k]), px - int(xs[k])
                if y < 0 or x < 0 or y + bh > H or x + bw > W:
                    continue
            if (self.occupied[y:y + bh, x:x + bw] & mask).any():
                continue
            gap = float(self.dist[y:y + bh, x:x + bw][mask].min())
            if not gap_lo <= gap <= gap_hi:
                continue
            # keep other specks a margin away, so each stays its own component
            if self.others[max(0, y - sep):y + bh + sep, max(0, x - sep):x + bw + sep].any():
                continue
            labels_out[y:y + bh, x:x + bw][mask] = lab
            self.occupied[y:y + bh, x:x + bw] |= mask
            self.others[y:y + bh, x:x + bw] |= mask
            self.dark[y:y + bh, x:x + bw][mask] = darkness
            return gap
        return None

    def specks(self, n_specks: int, near_fraction: float, touch_fraction: float,
               speck_area_range: tuple[float, float]) -> tuple[list[int], list[float], list[int]]:
        rng, s = self.rng, self.s
        lo_a, hi_a = speck_area_range
        sp_area, sp_gap, sp_kind = [0], [0.0], [KIND_FAR]
        kinds = rng.choice([KIND_FAR, KIND_NEAR, KIND_TOUCH], size=n_specks,
                           p=[1 - near_fraction - touch_fraction, near_fraction, touch_fraction])
        a300 = np.exp(rng.uniform(math.log(lo_a), math.log(hi_a + 1), size=n_specks))
        for kind, a in zip(kinds.tolist(), a300.tolist()):
            area = max(1, int(round(a * s * s)))
            mask = _blob(rng, area, irregular=float(rng.uniform(0.2, 1.0)))
            if kind == KIND_FAR:
                lo_g, hi_g = 6.5 * s + 0.01, float("inf")
            elif kind == KIND_NEAR:
                lo_g, hi_g = max(1.5, 1.5 * s), 6.5 * s
            else:
                lo_g, hi_g = 1.0, 1.45
            gap = self.place(mask, kind, lo_g, hi_g, self.speck_labels, len(sp_area),
                             float(rng.uniform(0.55, 0.95)))
            if gap is None:
                continue
            sp_area.append(int(mask.sum()))
            sp_gap.append(gap)
            sp_kind.append(kind)
        return sp_area, sp_gap, sp_kind

    def dust(self, n_dust: int, dust_area_range: tuple[float, float]) -> tuple[list[int], list[float]]:
        rng, s = self.rng, self.s
        lo_d, hi_d = dust_area_range
        du_area, du_gap = [0], [0.0]
        for _ in range(n_dust):
            a = math.exp(rng.uniform(math.log(lo_d), math.log(hi_d)))
            mask = _blob(rng, max(2, int(round(a * s * s))), irregular=float(rng.uniform(1.0, 2.5)))
            gap = self.place(mask, KIND_FAR, 12.0 * s, float("inf"), self.dust_labels, len(du_area),
                             float(rng.uniform(0.6, 0.9)))
            if gap is None:
                continue
            du_area.append(int(mask.sum()))
            du_gap.append(gap)
        return du_area, du_gap


def _degrade(rng: np.random.Generator, dark: np.ndarray, ink: np.ndarray, s: float, *, blur: float,
             illumination: float, paper: str, color: bool, sensor_noise: float,
             jpeg_quality: int | None) -> np.ndarray:
    """Ink, blur, uneven (tinted) paper, sensor noise and a JPEG round trip."""
    H, W = dark.shape
    dark[ink] = float(rng.uniform(0.82, 0.92))
    if blur > 0:
        dark = cv2.GaussianBlur(dark, (0, 0), blur * s)
    # uneven paper: a linear falloff in a random direction plus a soft vignette
    ang = rng.uniform(0, 2 * math.pi)
    lw, lh = max(2, W // 16), max(2, H // 16)  # smooth: compute small, resize up
    gx = np.linspace(-0.5, 0.5, lw, dtype=np.float32)
    gy = np.linspace(-0.5, 0.5, lh, dtype=np.float32)
    lin = math.cos(ang) * gx[None, :] + math.sin(ang) * gy[:, None] + 0.5
    vig = (gx[None, :] ** 2 + gy[:, None] ** 2) * 2.0
    light = cv2.resize(1.0 - illumination * (0.7 * lin + 0.3 * vig), (W, H), interpolation=cv2.INTER_LINEAR)
    paper_level = float(rng.uniform(228, 245))
    tint = np.array([1.0, 0.965, 0.86], np.float32) if paper == "tinted" else np.ones(3, np.float32)
    ink_level = 20.0
    base = light * np.float32(paper_level)  # (H, W) float32
    # pixel = paper * tint * (1 - dark) + ink_level * dark
    paper_part = base * (1.0 - dark)
    ink_part = dark * np.float32(ink_level)
    if color:
        img = paper_part[..., None] * tint + ink_part[..., None]
    else:
        img = paper_part * np.float32(tint @ np.array([0.299, 0.587, 0.114], np.float32)) + ink_part
    if sensor_noise > 0:
        img += _noise(rng, img.shape, sensor_noise)
    noisy = np.clip(img + np.float32(0.5), 0, 255, out=img).astype(np.uint8)
    if jpeg_quality is not None:
        enc = noisy[..., ::-1] if color else noisy
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(enc), [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        dec = cv2.imdecode(buf, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
        noisy = np.ascontiguousarray(dec[..., ::-1]) if color else dec
    return noisy
