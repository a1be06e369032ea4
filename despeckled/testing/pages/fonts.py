"""Fonts for the page generator: TrueType/OpenType faces from Debian font
packages, rendered with Pillow, and OpenCV's Hershey stroke fonts.

A face is named ``"<package-file>"`` (a path under ``/usr/share/fonts``) or
``"hershey:<name>"``. Every glyph is rendered once per (face, size) and
cached as a bool mask with its offset from the pen position on the baseline,
its advance, and its connected pieces (so a caller can tell an i-dot from
the stem without looking again).

A face whose file is missing raises :class:`FontMissing` naming the Debian
package to install -- the generator never silently falls back to another
face, which would change what a family means.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["Face", "FACES", "FontMissing", "Glyph", "glyph", "metrics", "check_faces"]

_ROOT = Path("/usr/share/fonts")


class FontMissing(RuntimeError):
    """A face the generator needs is not installed."""


@dataclass(frozen=True)
class Face:
    """One font face.

    Attributes
    ----------
    name : str
        Short name used by the families (``"liberation-serif"``).
    source : str
        Path relative to ``/usr/share/fonts``, or ``"hershey:<id>"``.
    package : str
        The Debian package that ships it (for the error message).
    style : frozenset of str
        Tags: ``serif``, ``sans``, ``mono``, ``condensed``, ``bold``, ``thin``,
        ``script``.
    """

    name: str
    source: str
    package: str
    style: frozenset

    @property
    def hershey(self) -> bool:
        return self.source.startswith("hershey:")


def _f(name: str, source: str, package: str, *style: str) -> Face:
    return Face(name, source, package, frozenset(style))


_LIB, _FREE, _URW, _DJ = "fonts-liberation", "fonts-freefont-ttf", "fonts-urw-base35", "fonts-dejavu-core"
_DJX = "fonts-dejavu-extra"

#: Every face a family may use, by name.
FACES: dict[str, Face] = {f.name: f for f in (
    # Liberation (metric clones of Times, Arial, Courier, Arial Narrow)
    _f("liberation-serif", "truetype/liberation/LiberationSerif-Regular.ttf", _LIB, "serif"),
    _f("liberation-serif-bold", "truetype/liberation/LiberationSerif-Bold.ttf", _LIB, "serif", "bold"),
    _f("liberation-sans", "truetype/liberation/LiberationSans-Regular.ttf", _LIB, "sans"),
    _f("liberation-sans-bold", "truetype/liberation/LiberationSans-Bold.ttf", _LIB, "sans", "bold"),
    _f("liberation-mono", "truetype/liberation/LiberationMono-Regular.ttf", _LIB, "mono"),
    _f("liberation-narrow", "truetype/liberation/LiberationSansNarrow-Regular.ttf", _LIB, "sans", "condensed"),
    _f("liberation-narrow-bold", "truetype/liberation/LiberationSansNarrow-Bold.ttf", _LIB, "sans", "condensed", "bold"),
    # URW base 35 (PostScript core fonts: Times, Helvetica, Courier, Century, Palatino, Bookman, Avant Garde)
    _f("nimbus-roman", "opentype/urw-base35/NimbusRoman-Regular.otf", _URW, "serif"),
    _f("nimbus-roman-bold", "opentype/urw-base35/NimbusRoman-Bold.otf", _URW, "serif", "bold"),
    _f("c059", "opentype/urw-base35/C059-Roman.otf", _URW, "serif"),
    _f("p052", "opentype/urw-base35/P052-Roman.otf", _URW, "serif"),
    _f("bookman-light", "opentype/urw-base35/URWBookman-Light.otf", _URW, "serif", "thin"),
    _f("nimbus-sans", "opentype/urw-base35/NimbusSans-Regular.otf", _URW, "sans"),
    _f("nimbus-sans-bold", "opentype/urw-base35/NimbusSans-Bold.otf", _URW, "sans", "bold"),
    _f("nimbus-narrow-bold", "opentype/urw-base35/NimbusSansNarrow-Bold.otf", _URW, "sans", "condensed", "bold"),
    _f("nimbus-mono", "opentype/urw-base35/NimbusMonoPS-Regular.otf", _URW, "mono", "thin"),
    _f("gothic-book", "opentype/urw-base35/URWGothic-Book.otf", _URW, "sans", "thin"),
    # GNU FreeFont
    _f("free-serif", "truetype/freefont/FreeSerif.ttf", _FREE, "serif"),
    _f("free-serif-bold", "truetype/freefont/FreeSerifBold.ttf", _FREE, "serif", "bold"),
    _f("free-sans", "truetype/freefont/FreeSans.ttf", _FREE, "sans"),
    _f("free-sans-bold", "truetype/freefont/FreeSansBold.ttf", _FREE, "sans", "bold"),
    _f("free-mono", "truetype/freefont/FreeMono.ttf", _FREE, "mono", "thin"),
    _f("free-mono-bold", "truetype/freefont/FreeMonoBold.ttf", _FREE, "mono", "bold"),
    # DejaVu
    _f("dejavu-sans-mono", "truetype/dejavu/DejaVuSansMono.ttf", _DJ, "mono"),
    _f("dejavu-serif", "truetype/dejavu/DejaVuSerif.ttf", _DJ, "serif"),
    _f("dejavu-sans-condensed-bold", "truetype/dejavu/DejaVuSansCondensed-Bold.ttf", _DJX, "sans", "condensed", "bold"),
    _f("dejavu-sans-extralight", "truetype/dejavu/DejaVuSans-ExtraLight.ttf", _DJX, "sans", "thin"),
    _f("dejavu-serif-condensed", "truetype/dejavu/DejaVuSerifCondensed.ttf", _DJX, "serif", "condensed"),
    # OpenCV's Hershey stroke fonts (no package: built into OpenCV)
    _f("hershey-simplex", "hershey:0", "", "sans", "thin"),
    _f("hershey-duplex", "hershey:2", "", "sans"),
    _f("hershey-complex", "hershey:3", "", "serif"),
    _f("hershey-triplex", "hershey:4", "", "serif", "bold"),
    _f("hershey-script", "hershey:7", "", "script"),
)}


def check_faces(names) -> None:
    """Raise :class:`FontMissing` listing every face in ``names`` whose file
    is not installed, with the Debian packages to install."""
    missing = [FACES[n] for n in names if not FACES[n].hershey and not (_ROOT / FACES[n].source).is_file()]
    if missing:
        pkgs = sorted({f.package for f in missing})
        raise FontMissing(
            f"fonts missing: {', '.join(f.name for f in missing)}; install them with "
            f"`apt-get install {' '.join(pkgs)}`")


@dataclass(frozen=True)
class Glyph:
    """One rendered character.

    Attributes
    ----------
    mask : ndarray of bool, shape (h, w)
        The ink (anti-aliased coverage >= 50%).
    dx, dy : int
        Offset of ``mask[0, 0]`` from the pen position (x right, y down; the
        pen sits on the baseline).
    advance : float
        Pen advance in pixels.
    pieces : ndarray of int32, shape (h, w)
        Connected pieces of ``mask`` (8-connected), 1 = the largest.
    """

    mask: np.ndarray
    dx: int
    dy: int
    advance: float
    pieces: np.ndarray
    n_pieces: int


def _pieces(mask: np.ndarray) -> tuple[np.ndarray, int]:
    n, lab, st, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if n <= 2:
        return lab.astype(np.int32), n - 1
    order = np.argsort(-st[1:, cv2.CC_STAT_AREA]) + 1   # largest first
    lut = np.zeros(n, np.int32)
    lut[order] = np.arange(1, n)
    return lut[lab], n - 1


@lru_cache(maxsize=64)
def _ttf(source: str, size_px: int) -> ImageFont.FreeTypeFont:
    path = _ROOT / source
    if not path.is_file():
        check_faces([n for n, f in FACES.items() if f.source == source])
    return ImageFont.truetype(str(path), size_px)


def _hershey_params(face: Face, size_px: int) -> tuple[int, float, int]:
    fid = int(face.source.split(":")[1])
    (_, cap), _ = cv2.getTextSize("H", fid, 1.0, 1)
    scale = 0.72 * size_px / cap
    thick = max(1, round(size_px / (9.0 if "bold" in face.style else 16.0)))
    return fid, scale, thick


def _render_hershey(face: Face, size_px: int, ch: str) -> tuple[np.ndarray, int, int, float]:
    fid, scale, thick = _hershey_params(face, size_px)
    (w, h), base = cv2.getTextSize(ch, fid, scale, thick)
    pad = 2 * thick + 2
    canvas = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
    cv2.putText(canvas, ch, (pad, pad + h), fid, scale, 255, thick, cv2.LINE_AA)
    return canvas >= 128, -pad, -(pad + h), float(w + thick)


def _render_ttf(face: Face, size_px: int, ch: str) -> tuple[np.ndarray, int, int, float]:
    font = _ttf(face.source, size_px)
    l, t, r, b = font.getbbox(ch, anchor="ls")
    w, h = max(1, r - l), max(1, b - t)
    img = Image.new("L", (w + 2, h + 2), 0)
    ImageDraw.Draw(img).text((1 - l, 1 - t), ch, font=font, fill=255, anchor="ls")
    return np.asarray(img) >= 128, l - 1, t - 1, float(font.getlength(ch))


@lru_cache(maxsize=20000)
def glyph(face_name: str, size_px: int, ch: str) -> Glyph:
    """The cached rendering of ``ch`` in ``face_name`` at an em size of
    ``size_px`` pixels. Hershey faces draw ASCII only (accents are dropped).

    >>> g = glyph("hershey-simplex", 40, "i")
    >>> g.n_pieces, g.mask.dtype.name
    (2, 'bool')
    """
    face = FACES[face_name]
    if face.hershey:
        ch = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        mask, dx, dy, adv = _render_hershey(face, size_px, ch)
    else:
        mask, dx, dy, adv = _render_ttf(face, size_px, ch)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:  # a space
        return Glyph(np.zeros((0, 0), bool), 0, 0, adv, np.zeros((0, 0), np.int32), 0)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    mask = np.ascontiguousarray(mask[y0:y1, x0:x1])
    pieces, n = _pieces(mask)
    return Glyph(mask, int(dx + x0), int(dy + y0), adv, pieces, n)


@lru_cache(maxsize=512)
def metrics(face_name: str, size_px: int) -> tuple[float, float, float]:
    """(x-height, cap height, space advance) in pixels, measured from the
    rendered ``x``, ``H`` and space."""
    gx, gh, gs = glyph(face_name, size_px, "x"), glyph(face_name, size_px, "H"), glyph(face_name, size_px, " ")
    space = gs.advance if gs.advance > 0 else 0.3 * size_px
    return float(gx.mask.shape[0]), float(gh.mask.shape[0]), float(space)
