"""Scanned PDFs in (cleaned PDFs out: :mod:`despeckled.io.pdf_write`).

``despeckled.io.images`` sniffs ``%PDF`` and hands PDF files to this module, which
speaks the same :class:`~despeckled.io.pages.PageSource` /
:class:`~despeckled.io.pages.PageSink` protocol as the raster readers and writers:

* :class:`PdfSource` - ``.pages()`` yields one :class:`~despeckled.io.pages.Page`
  at a time. A *plain* page (its content draws one raster image, upright, and
  nothing else) yields the embedded image exactly as stored: JPEG bytes
  decoded, Flate/LZW samples unpacked, CCITT G4 decoded - no re-render. Any
  other page (MRC layers, vector art, inline images, JBIG2/JPX, masks,
  rotated placement) is rendered with PDFium at the native resolution of its
  sharpest image. ``.facts`` (:class:`PdfFacts`) says which
  pages have vector text or an OCR text layer, annotations, form fields or
  encryption; :func:`despeckled.daemon.policy.pass_through` decides from them
  whether the file is copied unchanged.
* :class:`~despeckled.io.pdf_write.PdfSink` (in :mod:`despeckled.io.pdf_write`)
  writes the cleaned pages back with each source page's geometry.
* :func:`verify_complete` - cheap structural check used before claiming a
  file: raises :class:`~despeckled.errors.TruncatedInputError` while the
  trailer is not written yet, ``BadInputError(reason=...)`` for encrypted or
  malformed files, :class:`~despeckled.errors.ImageTooLargeError` for PDF
  bombs (page count, image dimensions). Returns the page count.

Every pikepdf/PDFium exception is turned into a ``BadInputError`` with a
one-line message (the caller prefixes the file name), so nothing escapes as a
bare traceback. OSErrors that carry an errno (a network share that blipped)
propagate unchanged so that the daemon can retry them.

Decisions:

* Text: a page that shows text (``Tj``/``TJ``/``'``/``"`` in any render
  mode but 3 and 7) is born-digital; text drawn invisibly (modes 3, 7) is an
  OCR layer. Either makes the whole file pass through unchanged: flattening
  would destroy real text, and cleaning under an OCR layer would leave words
  that no longer match the picture. Forced cleaning renders born-digital
  pages and drops OCR layers (a scan page under invisible text is still
  extracted losslessly).
* Encryption: a file that needs a password fails (``reason="encrypted"``).
  A file that opens with an empty user password (an "owner password" that
  only restricts printing or editing) passes through unchanged: a cleaned
  copy could not carry the author's restrictions. Forced cleaning writes it
  unencrypted.
* Completeness: no ``%%EOF`` in the last 1 KiB means "still being written"
  (:class:`~despeckled.errors.TruncatedInputError`); qpdf's recovery is not
  allowed to paper over a half-written file.
* Annotations and form fields are not carried into the cleaned file, so a
  file that has any (other than links) passes through unchanged too: notes,
  stamps and filled-in fields are the user's content.

Libraries: pikepdf (qpdf) reads structure and extracts image streams
losslessly; the output is written by a small sequential writer in
:mod:`despeckled.io.pdf_write`; pypdfium2 (PDFium) renders pages that are not plain
images and decodes JBIG2. Both ship manylinux wheels with their native
libraries bundled.
"""

from __future__ import annotations

import io
import math
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
from PIL import Image

from despeckled import errors
from despeckled.io.formats import estimate_jpeg_quality as _quality_of_table
from despeckled.io.pages import Limits, Page

#: PDF spec: the header must appear in the first 1024 bytes, and readers look
#: for the end-of-file marker in the last 1024 bytes.
_HEAD_WINDOW = 1024
_TAIL_WINDOW = 1024

#: Rendered pages: resolution bounds (dpi) when the page's images suggest one.
_MIN_RENDER_DPI = 72.0
_MAX_RENDER_DPI = 1200.0
_DEFAULT_RENDER_DPI = 300.0

#: Recursion guard for nested Form XObjects.
_MAX_FORM_DEPTH = 12

#: PDFium is not thread-safe: every call into it is serialised.
_PDFIUM_LOCK = threading.Lock()

# Operators that paint something other than an image (or set up a clip that
# changes what an image shows). Their presence makes a page "not plain".
_PAINT_OPS = frozenset({
    "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh",
})
_PATH_OPS = frozenset({"m", "l", "c", "v", "y", "h"})
_TEXT_SHOW_OPS = frozenset({"Tj", "TJ", "'", '"'})



def is_pdf_header(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) holds a PDF header.

    >>> is_pdf_header(b"%PDF-1.7\\n%...")
    True
    >>> is_pdf_header(b"\\x89PNG\\r\\n")
    False
    """
    return b"%PDF-" in head[:_HEAD_WINDOW]


# --------------------------------------------------------------------------
# Geometry helpers (PDF matrices are (a, b, c, d, e, f) tuples)

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF row-vector convention: ``m x n``).

    >>> _mul((2, 0, 0, 2, 0, 0), (1, 0, 0, 1, 5, 7))
    (2, 0, 0, 2, 5, 7)
    """
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _box(obj: Any) -> tuple[float, float, float, float] | None:
    if obj is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in obj)
    except (TypeError, ValueError):
        return None
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def estimate_jpeg_quality(tables: dict[int, list[int]] | None) -> int | None:
    """The IJG quality (1-100) a JPEG was saved with, from Pillow's
    ``quantization`` tables (its luminance table, ``tables[0]``), by
    :func:`despeckled.io.formats.estimate_jpeg_quality`.

    >>> import io
    >>> buf = io.BytesIO()
    >>> Image.new("L", (16, 16)).save(buf, "JPEG", quality=90)
    >>> estimate_jpeg_quality(Image.open(buf).quantization)
    90
    """
    if not tables or 0 not in tables:
        return None
    return _quality_of_table(tables[0])


# --------------------------------------------------------------------------
# Content-stream scan


@dataclass
class _Placed:
    """One image drawn on a page: the XObject (or inline image) and its CTM."""

    obj: Any
    ctm: Matrix
    inline: bool = False


@dataclass
class _PageScan:
    images: list[_Placed] = field(default_factory=list)
    visible_text: bool = False
    invisible_text: bool = False
    other_paint: bool = False        # vector art, shadings, odd clips, forms...
    clips: list[tuple[float, float, float, float]] = field(default_factory=list)   # rectangular clips

    @property
    def has_text(self) -> bool:
        return self.visible_text or self.invisible_text


def _scan_page(page: pikepdf.Page) -> _PageScan:
    scan = _PageScan()
    _scan_stream(pikepdf.parse_content_stream(page), page.obj.get("/Resources"), _IDENTITY, scan, 0, set())
    return scan


def _scan_stream(instructions, resources, base_ctm: Matrix, scan: _PageScan, depth: int, seen: set) -> None:
    ctm = base_ctm
    render_mode = 0
    stack: list[tuple[Matrix, int]] = []
    xobjects = resources.get("/XObject") if resources is not None else None
    rects: list[tuple[float, float, float, float]] = []    # the current path, if only rectangles
    curvy = False                                           # the current path has other segments
    clipping = False
    for inst in instructions:
        if isinstance(inst, pikepdf.ContentStreamInlineImage):
            scan.images.append(_Placed(inst.iimage, ctm, inline=True))
            continue
        op = str(inst.operator)
        operands = inst.operands
        if op == "q":
            stack.append((ctm, render_mode))
        elif op == "Q":
            if stack:
                ctm, render_mode = stack.pop()
        elif op == "cm" and len(operands) == 6:
            ctm = _mul(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
        elif op == "Tr" and operands:
            render_mode = int(operands[0])
        elif op in _TEXT_SHOW_OPS:
            if render_mode in (3, 7):
                scan.invisible_text = True
            else:
                scan.visible_text = True
        elif op == "re" and len(operands) == 4:
            x, y, w, h = (float(v) for v in operands)
            a, b, c, d, e, f = ctm
            if abs(b) > 1e-6 or abs(c) > 1e-6:
                curvy = True
            else:
                xs, ys = (a * x + e, a * (x + w) + e), (d * y + f, d * (y + h) + f)
                rects.append((min(xs), min(ys), max(xs), max(ys)))
        elif op in _PATH_OPS:
            curvy = True
        elif op in ("W", "W*"):
            clipping = True
        elif op == "n":
            # a path used only as a clip: fine when it is one rectangle (checked
            # against the image's placement later), anything else needs rendering
            if clipping:
                if curvy or len(rects) != 1:
                    scan.other_paint = True
                else:
                    scan.clips.append(rects[0])
            rects, curvy, clipping = [], False, False
        elif op in _PAINT_OPS:
            scan.other_paint = True
            rects, curvy, clipping = [], False, False
        elif op == "Do" and operands:
            xobj = xobjects.get(operands[0]) if xobjects is not None else None
            if xobj is None:
                continue
            subtype = xobj.get("/Subtype")
            if subtype == "/Image":
                scan.images.append(_Placed(xobj, ctm))
            elif subtype == "/Form":
                scan.other_paint = True
                key = xobj.objgen
                if depth >= _MAX_FORM_DEPTH or (key != (0, 0) and key in seen):
                    continue
                seen.add(key)
                form_matrix = tuple(float(v) for v in xobj.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                form_res = xobj.get("/Resources", resources)
                _scan_stream(
                    pikepdf.parse_content_stream(xobj), form_res, _mul(form_matrix, ctm),  # type: ignore[arg-type]
                    scan, depth + 1, seen,
                )


def _image_dims(obj: Any) -> tuple[int, int]:
    w = obj.get("/Width", obj.get("/W", 0))
    h = obj.get("/Height", obj.get("/H", 0))
    return int(w), int(h)


def _filters(obj: Any) -> list[str]:
    f = obj.get("/Filter", obj.get("/F"))
    if f is None:
        return []
    if isinstance(f, pikepdf.Array):
        return [str(x) for x in f]
    return [str(f)]


_ENCODING_BY_FILTER = {
    "/DCTDecode": "jpeg", "/DCT": "jpeg",
    "/FlateDecode": "flate", "/Fl": "flate",
    "/LZWDecode": "lzw", "/LZW": "lzw",
    "/CCITTFaxDecode": "ccitt", "/CCF": "ccitt",
    "/JBIG2Decode": "jbig2",
    "/JPXDecode": "jpx",
    "/RunLengthDecode": "runlength", "/RL": "runlength",
}


def _encoding(obj: Any) -> str:
    fs = _filters(obj)
    if not fs:
        return "raw"
    return _ENCODING_BY_FILTER.get(fs[-1], fs[-1].lstrip("/").lower())


def _colour_components(obj: Any) -> int | None:
    """Components of an image's colour space if it is gray or RGB, else None."""
    cs = obj.get("/ColorSpace")
    if cs is None:
        bilevel = obj.get("/ImageMask", False) or _encoding(obj) in ("ccitt", "jbig2")
        return 1 if bilevel else None
    if isinstance(cs, pikepdf.Name):
        return {"/DeviceGray": 1, "/CalGray": 1, "/DeviceRGB": 3, "/CalRGB": 3}.get(str(cs))
    if isinstance(cs, pikepdf.Array) and len(cs) >= 2:
        family = str(cs[0])
        if family == "/ICCBased":
            n = int(cs[1].get("/N", 0))
            return n if n in (1, 3) else None
        if family in ("/CalGray", "/CalRGB"):
            return 1 if family == "/CalGray" else 3
    return None


# Filters we can hand to the cleaner exactly as stored.
_LOSSLESS_EXTRACT = frozenset({"jpeg", "flate", "lzw", "ccitt", "raw", "runlength"})


def _plain_image(scan: _PageScan) -> _Placed | None:
    """The single image of a plain page, or None if the page needs rendering."""
    if scan.other_paint or scan.visible_text or len(scan.images) != 1:
        return None
    placed = scan.images[0]
    obj = placed.obj
    if placed.inline:
        return None
    a, b, c, d, e, f = placed.ctm
    if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d <= 0:
        return None                      # rotated or mirrored placement
    for x0, y0, x1, y1 in scan.clips:    # a clip that hides part of the image: render
        if x0 > e + 0.5 or y0 > f + 0.5 or x1 < e + a - 0.5 or y1 < f + d - 0.5:
            return None
    if obj.get("/ImageMask", False) or "/SMask" in obj or "/Mask" in obj or "/SMaskInData" in obj:
        return None
    if len(_filters(obj)) > 1 or _encoding(obj) not in _LOSSLESS_EXTRACT:
        return None
    comps = _colour_components(obj)
    if comps is None:
        return None
    bpc = int(obj.get("/BitsPerComponent", 1 if _encoding(obj) == "ccitt" else 8))
    if bpc not in (1, 8):
        return None
    decode = obj.get("/Decode")
    if decode is not None and _encoding(obj) != "ccitt":
        default = [0, 1] * comps
        if [float(v) for v in decode] != default:
            return None
    return placed


def _bits(obj: Any) -> int:
    if obj.get("/ImageMask", False) or _encoding(obj) in ("ccitt", "jbig2"):
        return 1
    return int(obj.get("/BitsPerComponent", 8))


def _rendered_bits(scan: _PageScan) -> int:
    """1 when every layer of a rendered page is bilevel (e.g. JBIG2 pages)."""
    layers = [p for p in scan.images if not p.inline]
    return 1 if layers and not scan.other_paint and all(_bits(p.obj) == 1 for p in layers) else 8


def _native_dpi(placed: _Placed) -> float | None:
    """Resolution (dpi) at which an image is drawn, from its size and CTM."""
    w, h = _image_dims(placed.obj)
    a, b, c, d, _, _ = placed.ctm
    sx, sy = math.hypot(a, b), math.hypot(c, d)
    if w <= 0 or h <= 0 or sx <= 0 or sy <= 0:
        return None
    return max(w * 72.0 / sx, h * 72.0 / sy)


# --------------------------------------------------------------------------
# Errors


def _malformed(path: Path, detail: object) -> errors.BadInputError:
    text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
    text = text.replace(f"{path}: ", "").replace(str(path), path.name)
    return errors.BadInputError(f"malformed PDF: {text}", reason="malformed_pdf", path=str(path))


def _check_envelope(path: Path) -> int:
    """Header and end-of-file marker, without parsing. Returns the size."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_WINDOW)
            size = f.seek(0, 2)
            f.seek(max(0, size - _TAIL_WINDOW))
            tail = f.read()
    except IsADirectoryError:
        raise errors.NotAnImageError("is a directory, not a PDF", path=str(path)) from None
    except PermissionError as exc:
        raise errors.BadInputError(f"cannot read: {exc.strerror}", reason="unreadable", path=str(path)) from None
    if size == 0:
        raise errors.EmptyInputError("the file is empty", path=str(path))
    if not is_pdf_header(head):
        raise errors.NotAnImageError("not a PDF (no %PDF- header)", path=str(path))
    if b"%%EOF" not in tail:
        raise errors.TruncatedInputError(
            "PDF has no end-of-file marker yet (still being written, or truncated)", path=str(path)
        )
    return size


def _open(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.Pdf.open(path)
    except pikepdf.PasswordError:
        raise errors.BadInputError(
            "PDF is encrypted with a password; cannot read it", reason="encrypted", path=str(path)
        ) from None
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        raise _malformed(path, exc) from None


def _check_limits(path: Path, pdf: pikepdf.Pdf, limits: Limits) -> int:
    n = len(pdf.pages)
    if n == 0:
        raise errors.BadInputError("PDF has no pages", reason="malformed_pdf", path=str(path))
    if n > limits.max_pages:
        raise errors.ImageTooLargeError(
            f"PDF has {n} pages, more than the limit of {limits.max_pages}", path=str(path)
        )
    return n


def _check_image_limits(path: Path, index: int, scan: _PageScan, limits: Limits) -> None:
    for placed in scan.images:
        w, h = _image_dims(placed.obj)
        if w <= 0 or h <= 0:
            raise errors.BadInputError(f"page {index + 1} has an image of {w}x{h} pixels",
                                       reason="malformed_pdf", path=str(path))
        if w * h > limits.max_pixels:
            raise errors.ImageTooLargeError(
                f"page {index + 1} has a {w}x{h} image, more than the limit of "
                f"{limits.max_pixels} pixels", path=str(path),
            )


# --------------------------------------------------------------------------
# Source


def _make_page(pixels: np.ndarray, dpi: tuple[float, float], index: int, info: dict) -> Page:
    return Page(pixels, dpi, index, info)


@dataclass(frozen=True)
class PdfFacts:
    """What a PDF holds besides its page images: 1-based page numbers with
    visible vector text, with only an invisible (OCR) text layer, with
    annotations that cleaning would drop; document-level form fields and
    encryption. Facts only: the policy decides what they mean."""

    visible_text: tuple[int, ...] = ()
    ocr_text: tuple[int, ...] = ()
    annotated: tuple[int, ...] = ()
    form_fields: bool = False
    encrypted: bool = False


class PdfSource:
    """A PDF opened for cleaning, one page at a time.

    Attributes
    ----------
    path : Path
    format : str
        Always ``"pdf"``.
    page_count : int
    facts : PdfFacts
        What the file holds besides page images (text, annotations, form
        fields, encryption). Whether that means copying it unchanged is
        decided by :func:`despeckled.daemon.policy.pass_through`.
    """

    format = "pdf"

    def __init__(self, path: str | Path, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        self._pdfium = None
        _check_envelope(self.path)
        self._pdf: pikepdf.Pdf | None = _open(self.path)
        try:
            self.page_count = _check_limits(self.path, self._pdf, self.limits)
            self._scans: list[_PageScan] = []
            for i, page in enumerate(self._pdf.pages):
                self._scans.append(self._guard(i, _scan_page, page))
            self.facts = self._guard(0, self._facts)
        except BaseException:
            self.close()
            raise

    # -- context manager / lifecycle
    def __enter__(self) -> PdfSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pdfium is not None:
            with _PDFIUM_LOCK:
                self._pdfium.close()
            self._pdfium = None
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None

    @property
    def pdf(self) -> pikepdf.Pdf:
        if self._pdf is None:
            raise ValueError("PDF source is closed")
        return self._pdf

    def _guard(self, index: int, fn, *args):
        try:
            return fn(*args)
        except errors.DespeckledError:
            raise
        except Image.DecompressionBombError as exc:
            raise errors.ImageTooLargeError(f"page {index + 1}: {exc}", path=str(self.path)) from None
        except OSError as exc:
            if exc.errno is not None:
                raise        # a real I/O error (a share that blipped...): the caller decides
            raise _malformed(self.path, f"page {index + 1}: {exc}") from None
        except (pikepdf.PdfError, pikepdf.PikepdfError, ValueError, TypeError, KeyError,
                RuntimeError, AttributeError, zlib.error) as exc:
            raise _malformed(self.path, f"page {index + 1}: {exc}") from None

    def _facts(self) -> PdfFacts:
        visible = tuple(i + 1 for i, s in enumerate(self._scans) if s.visible_text)
        ocr = tuple(i + 1 for i, s in enumerate(self._scans) if s.invisible_text and not s.visible_text)
        annotated = tuple(i + 1 for i, page in enumerate(self.pdf.pages) if _has_annotations(page))
        fields = self.pdf.Root.get("/AcroForm", {}).get("/Fields") if "/AcroForm" in self.pdf.Root else None
        return PdfFacts(
            visible_text=visible, ocr_text=ocr, annotated=annotated,
            form_fields=isinstance(fields, pikepdf.Array) and len(fields) > 0,
            encrypted=bool(self.pdf.is_encrypted),
        )

    # -- pages
    def _page_info(self, index: int) -> dict:
        """Geometry and encoding of page ``index`` without decoding pixels."""
        page = self.pdf.pages[index]
        scan = self._scans[index]
        media = _box(page.obj.get("/MediaBox")) or (0.0, 0.0, 612.0, 792.0)
        crop = _box(page.obj.get("/CropBox"))
        plain = _plain_image(scan)
        info: dict[str, Any] = {
            "media_box": media,
            "crop_box": crop,
            "rotate": int(page.obj.get("/Rotate", 0)) % 360,
            "user_unit": float(page.obj.get("/UserUnit", 1.0)),
            "rendered": plain is None,
            "placement": plain.ctm if plain is not None else None,
            "encoding": _encoding(plain.obj) if plain is not None else "rendered",
            "layers": [_encoding(p.obj) if not p.inline else "inline" for p in scan.images],
            "jpeg_quality": None,
            "format": "pdf",
            "bits": _bits(plain.obj) if plain is not None else _rendered_bits(scan),
            "source_bytes": sum(_stream_length(p.obj) for p in scan.images if not p.inline),
        }
        return info

    def pages(self, gray: bool = False) -> Iterator[Page]:
        """Yield each page's pixels, one page at a time (see module docs).
        ``gray`` (only the luminance will be used) changes nothing here."""
        for index in range(self.page_count):
            yield self._guard(index, self._load_page, index)

    def _load_page(self, index: int) -> Page:
        scan = self._scans[index]
        _check_image_limits(self.path, index, scan, self.limits)
        info = self._page_info(index)
        plain = _plain_image(scan)
        if plain is not None:
            pixels, quality = _extract(plain.obj)
            h, w = pixels.shape[:2]
            a, d = plain.ctm[0], plain.ctm[3]
            dpi = (w * 72.0 / a, h * 72.0 / d)
            info["jpeg_quality"] = quality
            return _make_page(pixels, dpi, index, info)
        return self._render(index, scan, info)

    def _render(self, index: int, scan: _PageScan, info: dict) -> Page:
        import pypdfium2 as pdfium

        dpis = [d for d in (_native_dpi(p) for p in scan.images) if d]
        dpi = max(dpis) if dpis else _DEFAULT_RENDER_DPI
        dpi = min(_MAX_RENDER_DPI, max(_MIN_RENDER_DPI, dpi))
        area = info["crop_box"] or info["media_box"]
        if info["crop_box"]:
            m = info["media_box"]
            area = (max(area[0], m[0]), max(area[1], m[1]), min(area[2], m[2]), min(area[3], m[3]))
        w_pt, h_pt = area[2] - area[0], area[3] - area[1]
        unit = info["user_unit"]
        px = (w_pt * unit * dpi / 72.0) * (h_pt * unit * dpi / 72.0)
        if px > self.limits.max_pixels:
            raise errors.ImageTooLargeError(
                f"page {index + 1} would render to {px:.0f} pixels at {dpi:.0f} dpi, "
                f"more than the limit of {self.limits.max_pixels}", path=str(self.path),
            )
        gray = all((_colour_components(p.obj) == 1) for p in scan.images if not p.inline) and bool(scan.images)
        jpeg_qs = []
        for p in scan.images:
            if not p.inline and _encoding(p.obj) == "jpeg":
                try:
                    with Image.open(io.BytesIO(p.obj.read_raw_bytes())) as im:
                        jpeg_qs.append(estimate_jpeg_quality(getattr(im, "quantization", None)))
                except OSError:
                    pass
        jpeg_qs = [q for q in jpeg_qs if q]
        with _PDFIUM_LOCK:
            try:
                if self._pdfium is None:
                    self._pdfium = pdfium.PdfDocument(str(self.path))
                page = self._pdfium[index]
                try:
                    bitmap = page.render(
                        scale=dpi * unit / 72.0,
                        rotation=(360 - info["rotate"]) % 360,
                        grayscale=gray,
                        rev_byteorder=True,
                        draw_annots=False,
                        may_draw_forms=False,
                    )
                    pixels = np.array(bitmap.to_numpy(), copy=True)
                    bitmap.close()
                finally:
                    page.close()
            except pdfium.PdfiumError as exc:
                raise _malformed(self.path, f"page {index + 1}: cannot render: {exc}") from None
        # PDFium rounds the bitmap size up; keep the page's true pixel size
        want_h = max(1, int(round(h_pt * unit * dpi / 72.0)))
        want_w = max(1, int(round(w_pt * unit * dpi / 72.0)))
        if info["rotate"] in (90, 270) and pixels.shape[0] != want_h:
            want_h, want_w = want_w, want_h
        pixels = pixels[:want_h, :want_w]
        if pixels.ndim == 3 and pixels.shape[2] == 1:
            pixels = pixels[..., 0]
        elif pixels.ndim == 3 and pixels.shape[2] == 4:
            pixels = np.ascontiguousarray(pixels[..., :3])
        info["placement"] = (w_pt, 0.0, 0.0, h_pt, area[0], area[1])
        # a JPEG quality only when every layer was JPEG: an MRC page's text
        # layer is lossless, and JPEG would smear what it kept sharp
        all_jpeg = bool(scan.images) and all(not p.inline and _encoding(p.obj) == "jpeg" for p in scan.images)
        info["jpeg_quality"] = max(jpeg_qs) if jpeg_qs and all_jpeg else None
        return _make_page(pixels, (dpi, dpi), index, info)


#: Annotations a cleaned copy may lose without losing the user's content.
_DISPOSABLE_ANNOTS = frozenset({"/Link", "/Popup"})


def _has_annotations(page: pikepdf.Page) -> bool:
    annots = page.obj.get("/Annots")
    if not isinstance(annots, pikepdf.Array):
        return False
    for annot in annots:
        if isinstance(annot, pikepdf.Dictionary) and str(annot.get("/Subtype", "")) not in _DISPOSABLE_ANNOTS:
            return True
    return False


def _stream_length(obj: Any) -> int:
    length = obj.get("/Length")
    if isinstance(length, int) and length >= 0:
        return int(length)
    return len(obj.read_raw_bytes())


def _extract(obj: Any) -> tuple[np.ndarray, int | None]:
    """Decode a plain page's image losslessly: (pixels, JPEG quality or None).

    Gray -> (H, W) uint8; RGB -> (H, W, 3) uint8; bilevel -> (H, W) uint8 with
    0 = black, 255 = white.
    """
    encoding = _encoding(obj)
    quality = None
    if encoding == "jpeg":
        im = Image.open(io.BytesIO(obj.read_raw_bytes()))
        quality = estimate_jpeg_quality(getattr(im, "quantization", None))
    else:
        im = pikepdf.PdfImage(obj).as_pil_image()
    try:
        if im.mode == "1":
            pixels = np.asarray(im.convert("L"))
        elif im.mode in ("L", "RGB"):
            pixels = np.asarray(im)
        elif im.mode == "P":
            rgb = im.convert("RGB")
            arr = np.asarray(rgb)
            if np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2]):
                arr = np.ascontiguousarray(arr[..., 0])
            pixels = arr
        elif im.mode == "LA":
            pixels = np.asarray(im.convert("L"))
        else:
            pixels = np.asarray(im.convert("RGB"))
    finally:
        im.close()
    return pixels, quality


# --------------------------------------------------------------------------
# verify_complete


def verify_complete(path: str | Path, limits: Limits | None = None) -> int:
    """Check that a PDF is complete and within limits; return its page count.

    Raises
    ------
    TruncatedInputError
        No ``%%EOF`` in the last 1 KiB yet: still being written, or cut short.
    BadInputError
        ``reason="encrypted"`` (needs a password), ``"malformed_pdf"``.
    NotAnImageError, EmptyInputError
        Not a PDF at all, or zero bytes.
    ImageTooLargeError
        More pages than ``limits.max_pages`` or an image over ``limits.max_pixels``.
    """
    path = Path(path)
    limits = limits or Limits()
    _check_envelope(path)
    pdf = _open(path)
    try:
        n = _check_limits(path, pdf, limits)
        for index, page in enumerate(pdf.pages):
            try:
                scan = _scan_page(page)
                _check_image_limits(path, index, scan, limits)
                for placed in scan.images:
                    if not placed.inline:
                        _check_stream(placed.obj)
            except errors.DespeckledError:
                raise
            except (pikepdf.PdfError, ValueError, TypeError, KeyError, RuntimeError, AttributeError) as exc:
                raise _malformed(path, f"page {index + 1}: {exc}") from None
        return n
    finally:
        pdf.close()


def _check_stream(obj: Any) -> None:
    """Cheap integrity check of an image stream without decoding pixels."""
    enc = _encoding(obj)
    raw = obj.read_raw_bytes()
    if enc == "jpeg":
        if not raw.startswith(b"\xff\xd8") or b"\xff\xd9" not in raw[-64:]:
            raise ValueError("image JPEG data is truncated")
    elif enc in ("flate", "lzw", "runlength", "raw") and len(_filters(obj)) <= 1:
        data = obj.read_bytes()          # qpdf decodes (and un-predicts) it
        comps = _colour_components(obj)
        if comps is None and obj.get("/ColorSpace") == "/DeviceCMYK":
            comps = 4
        if comps is not None:
            w, h = _image_dims(obj)
            bpc = int(obj.get("/BitsPerComponent", 8))
            need = (w * comps * bpc + 7) // 8 * h
            if len(data) < need:
                raise ValueError(f"image data is cut short ({len(data)} of {need} bytes)")
