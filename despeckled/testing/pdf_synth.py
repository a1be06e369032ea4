"""Build small PDFs the way scanners and OCR tools do, for tests and benchmarks.

Nothing here is used by the service itself. Every builder writes a real PDF
with pikepdf, so tests exercise the same code paths as files off a scanner:

* :func:`write_image_pdf` - one raster image per page (JPEG, Flate or CCITT G4),
  sized in points from the image's DPI, optional Info, XMP and bookmarks.
* :func:`write_text_pdf` - born-digital: a Helvetica text line.
* :func:`write_ocr_pdf` - a scan with an invisible (render mode 3) text layer.
* :func:`write_mrc_pdf` - a mixed raster content page: a low-resolution JPEG
  background and a full-resolution G4 text mask drawn over it.
* :func:`synthetic_page` - a gray page with text-like strokes, small marks
  that belong to the text (dots, periods) and isolated specks, with the
  positions of both, so a test can check what was kept and what removed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pikepdf
from PIL import Image

from despeckled.io.pdf_write import encode_g4

A4_POINTS = (595.0, 842.0)


@dataclass
class SynthPage:
    """A synthetic scan and where its small things are.

    Attributes
    ----------
    pixels : ndarray of uint8, shape (H, W)
        0 = ink, 255 = paper (with slight paper noise when ``noise``).
    dpi : float
    specks : list of (row, col)
        Centres of isolated specks, about 0.1 mm across (should be removed).
    marks : list of (row, col)
        Centres of periods placed after words (should be kept).
    """

    pixels: np.ndarray
    dpi: float
    specks: list[tuple[int, int]] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)


def synthetic_page(dpi: float = 300.0, size_pt: tuple[float, float] = A4_POINTS, *, lines: int = 30,
                   specks: int = 200, seed: int = 0) -> SynthPage:
    """A page of text-like lines, periods and isolated specks.

    Text is drawn at ~11 pt with OpenCV's Hershey font; each line ends with a
    period about 0.5 mm across; specks are 1-2 px squares at 300 dpi
    (~0.1 mm), at least 3 mm from any ink.
    """
    rng = np.random.default_rng(seed)
    w = int(round(size_pt[0] / 72.0 * dpi))
    h = int(round(size_pt[1] / 72.0 * dpi))
    page = np.full((h, w), 255, np.uint8)
    mm = dpi / 25.4
    margin = int(20 * mm)
    line_h = int(8 * mm)
    scale = 11.0 / 72.0 * dpi / 30.0          # Hershey simplex is ~30 px tall at scale 1
    thick = max(1, int(round(0.3 * mm)))
    words = ["despeckle", "scanner", "invoice", "total", "amount", "page", "office", "letter", "Dear", "Sir"]
    marks: list[tuple[int, int]] = []
    text_bottom = margin
    for i in range(lines):
        y = margin + (i + 1) * line_h
        if y > h * 0.6:
            break
        text = " ".join(rng.choice(words, size=4))
        cv2.putText(page, text, (margin, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, thick, cv2.LINE_AA)
        (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        cx = margin + tw + int(1.0 * mm)
        r = max(1, int(round(0.25 * mm)))
        cv2.circle(page, (cx, y - r), r, 0, -1)
        marks.append((y - r, cx))
        text_bottom = y
    # specks: in the empty lower part of the page, away from the text
    speck_list: list[tuple[int, int]] = []
    top = text_bottom + int(10 * mm)
    s = max(1, int(round(0.1 * mm)))
    for _ in range(specks):
        r = int(rng.integers(top, h - margin))
        c = int(rng.integers(margin, w - margin))
        page[r:r + s, c:c + s] = 0
        speck_list.append((r + s // 2, c + s // 2))
    return SynthPage(page, float(dpi), speck_list, marks)


def _image_stream(pdf: pikepdf.Pdf, pixels: np.ndarray, encoding: str, quality: int = 75) -> pikepdf.Stream:
    h, w = pixels.shape[:2]
    space = pikepdf.Name.DeviceGray if pixels.ndim == 2 else pikepdf.Name.DeviceRGB
    if encoding == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
        return pikepdf.Stream(pdf, buf.getvalue(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                              Width=w, Height=h, ColorSpace=space, BitsPerComponent=8,
                              Filter=pikepdf.Name.DCTDecode)
    if encoding == "flate":
        st = pikepdf.Stream(pdf, np.ascontiguousarray(pixels).tobytes(), Type=pikepdf.Name.XObject,
                            Subtype=pikepdf.Name.Image, Width=w, Height=h, ColorSpace=space, BitsPerComponent=8)
        return st   # pikepdf Flate-compresses unfiltered streams on save
    if encoding == "g4":
        data = encode_g4(pixels >= 128)
        return pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                              Width=w, Height=h, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=1,
                              Filter=pikepdf.Name.CCITTFaxDecode,
                              DecodeParms=pikepdf.Dictionary(K=-1, Columns=w, Rows=h))
    raise ValueError(f"unknown encoding {encoding!r}")


def _add_page(pdf: pikepdf.Pdf, size_pt: tuple[float, float], content: bytes, resources: pikepdf.Dictionary,
              rotate: int = 0) -> pikepdf.Page:
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, size_pt[0], size_pt[1]],
                              Resources=resources, Contents=pikepdf.Stream(pdf, content))
    if rotate:
        page.Rotate = rotate
    pdf.pages.append(pikepdf.Page(page))
    return pdf.pages[-1]


def _finish(pdf: pikepdf.Pdf, path: Path, info: dict | None, xmp_title: str | None,
            bookmarks: list[tuple[str, int]] | None, **save) -> Path:
    if info:
        for k, v in info.items():
            pdf.docinfo[k] = v
    if xmp_title:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["dc:title"] = xmp_title
    if bookmarks:
        with pdf.open_outline() as outline:
            for title, page in bookmarks:
                outline.root.append(pikepdf.OutlineItem(title, page))
    pdf.save(path, **save)
    return path


def write_image_pdf(path: str | Path, pages: list[tuple[np.ndarray, float, str]], *, info: dict | None = None,
                    xmp_title: str | None = None, bookmarks: list[tuple[str, int]] | None = None,
                    rotate: int = 0, jpeg_quality: int = 75, **save) -> Path:
    """A scan-style PDF: one image per page, page size = image size at its DPI.

    ``pages`` holds ``(pixels, dpi, encoding)`` with encoding ``"jpeg"``,
    ``"flate"`` or ``"g4"``; extra keywords go to ``Pdf.save`` (e.g.
    ``encryption=``).
    """
    path = Path(path)
    pdf = pikepdf.new()
    for pixels, dpi, encoding in pages:
        h, w = pixels.shape[:2]
        size = (w * 72.0 / dpi, h * 72.0 / dpi)
        xobj = _image_stream(pdf, pixels, encoding, jpeg_quality)
        content = f"q {size[0]:.4f} 0 0 {size[1]:.4f} 0 0 cm /Im0 Do Q".encode()
        _add_page(pdf, size, content, pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=xobj)), rotate)
    return _finish(pdf, path, info, xmp_title, bookmarks, **save)


def _helvetica(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))


def write_text_pdf(path: str | Path, text: str = "Hello", pages: int = 1) -> Path:
    """Born-digital PDF: A4 pages with a line of real (vector) text."""
    pdf = pikepdf.new()
    for _ in range(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        _add_page(pdf, A4_POINTS, content, _helvetica(pdf))
    return _finish(pdf, Path(path), None, None, None)


def write_ocr_pdf(path: str | Path, pixels: np.ndarray, dpi: float, text: str = "Hello") -> Path:
    """A scanned page with an invisible OCR text layer over the image."""
    pdf = pikepdf.new()
    h, w = pixels.shape[:2]
    size = (w * 72.0 / dpi, h * 72.0 / dpi)
    res = _helvetica(pdf)
    res.XObject = pikepdf.Dictionary(Im0=_image_stream(pdf, pixels, "jpeg"))
    content = (f"q {size[0]:.4f} 0 0 {size[1]:.4f} 0 0 cm /Im0 Do Q "
               f"BT 3 Tr /F1 12 Tf 72 720 Td ({text}) Tj ET").encode()
    _add_page(pdf, size, content, res)
    return _finish(pdf, Path(path), None, None, None)


def write_mrc_pdf(path: str | Path, pixels: np.ndarray, dpi: float, *, background_dpi: float = 100.0) -> Path:
    """A mixed-raster-content page: a low-resolution JPEG background with a
    full-resolution G4 stencil mask (the text) painted black on top."""
    pdf = pikepdf.new()
    h, w = pixels.shape[:2]
    size = (w * 72.0 / dpi, h * 72.0 / dpi)
    f = background_dpi / dpi
    bg = cv2.resize(pixels, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    bg = np.maximum(bg, 200).astype(np.uint8)      # the background layer keeps only the paper tint
    bg_x = _image_stream(pdf, bg, "jpeg")
    mask = pikepdf.Stream(pdf, encode_g4(pixels >= 128), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                          Width=w, Height=h, ImageMask=True, BitsPerComponent=1,
                          Filter=pikepdf.Name.CCITTFaxDecode,
                          DecodeParms=pikepdf.Dictionary(K=-1, Columns=w, Rows=h),
                          )
    content = (f"q {size[0]:.4f} 0 0 {size[1]:.4f} 0 0 cm /Bg Do Q "
               f"q 0 g {size[0]:.4f} 0 0 {size[1]:.4f} 0 0 cm /Fg Do Q").encode()
    _add_page(pdf, size, content, pikepdf.Dictionary(XObject=pikepdf.Dictionary(Bg=bg_x, Fg=mask)))
    return _finish(pdf, Path(path), None, None, None)
