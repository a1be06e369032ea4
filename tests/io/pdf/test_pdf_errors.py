"""Encrypted, malformed, truncated and oversized PDFs: clear errors, no crash."""

from __future__ import annotations

import random

import numpy as np
import pikepdf
import pytest

from despeckled import errors
from despeckled.io.images import Limits
from despeckled.io.pdf import PdfSource, verify_complete
from despeckled.testing.pdf_synth import write_image_pdf, write_mrc_pdf


def read_all(path, limits=None) -> int:
    with PdfSource(path, limits) as src:
        return sum(1 for _ in src.pages())


BOTH = pytest.mark.parametrize("check", [verify_complete, read_all], ids=["verify_complete", "pages"])


@pytest.fixture
def good_pdf(tmp_path, page200):
    return write_image_pdf(tmp_path / "good.pdf", [(page200.pixels, 200, "g4"), (page200.pixels, 200, "jpeg")])


def test_good_pdf_verifies(good_pdf):
    assert verify_complete(good_pdf) == 2
    assert read_all(good_pdf) == 2


@BOTH
@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95, 0.999])
def test_pdf_still_being_written_is_truncated(tmp_path, good_pdf, check, fraction):
    data = good_pdf.read_bytes()
    part = tmp_path / "part.pdf"
    part.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(errors.TruncatedInputError, match="end-of-file marker"):
        check(part)


@BOTH
def test_empty_file(tmp_path, check):
    (tmp_path / "e.pdf").write_bytes(b"")
    with pytest.raises(errors.EmptyInputError):
        check(tmp_path / "e.pdf")


@BOTH
def test_not_a_pdf(tmp_path, check):
    (tmp_path / "n.pdf").write_bytes(b"hello, this is text\n%%EOF\n")
    with pytest.raises(errors.NotAnImageError):
        check(tmp_path / "n.pdf")


@BOTH
def test_user_password_is_encrypted(tmp_path, page200, check):
    path = write_image_pdf(tmp_path / "enc.pdf", [(page200.pixels, 200, "g4")],
                           encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(errors.BadInputError) as exc:
        check(path)
    assert exc.value.reason == "encrypted" and "encrypted" in str(exc.value)


@BOTH
def test_garbage_body_is_malformed(tmp_path, check):
    path = tmp_path / "g.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(random.Random(0).randbytes(4000)) + b"\n%%EOF\n")
    with pytest.raises(errors.BadInputError) as exc:
        check(path)
    assert exc.value.reason == "malformed_pdf"
    assert str(tmp_path) not in str(exc.value)        # one line, names no temp path
    assert "\n" not in str(exc.value)


@BOTH
def test_too_many_pages(tmp_path, check):
    page = np.full((20, 20), 255, np.uint8)
    path = write_image_pdf(tmp_path / "many.pdf", [(page, 72, "g4")] * 5)
    with pytest.raises(errors.ImageTooLargeError, match="5 pages"):
        check(path, Limits(max_pages=4))


def _one_image_pdf(path, width: int, height: int):
    pdf = pikepdf.new()
    im = pikepdf.Stream(pdf, b"\x00" * 16, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                        Width=width, Height=height, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8)
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
                              Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=im)),
                              Contents=pikepdf.Stream(pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q"))
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path


@BOTH
def test_absurd_image_dimensions(tmp_path, check):
    # a tiny stream claiming to be 200000 x 200000 pixels: rejected before decoding
    path = _one_image_pdf(tmp_path / "bomb.pdf", 200_000, 200_000)
    with pytest.raises(errors.ImageTooLargeError, match="200000x200000"):
        check(path)


@BOTH
def test_empty_image_is_malformed(tmp_path, check):
    path = _one_image_pdf(tmp_path / "zero.pdf", 0, 100)
    with pytest.raises(errors.BadInputError) as exc:
        check(path)
    assert exc.value.reason == "malformed_pdf"


def test_absurd_page_size_to_render(tmp_path, page200):
    # an MRC page must be rendered; a 200 x 200 inch MediaBox at 200 dpi is over the limit
    path = write_mrc_pdf(tmp_path / "mrc.pdf", page200.pixels, 200)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].MediaBox = [0, 0, 14400, 14400]
        pdf.save(path)
    with pytest.raises(errors.ImageTooLargeError, match="render"):
        read_all(path)


@BOTH
def test_cut_image_stream_is_malformed(tmp_path, page200, check):
    # the file is complete (trailer present) but an image's Flate data is cut short
    pdf = pikepdf.new()
    import zlib
    data = zlib.compress(page200.pixels.tobytes())[:500]
    h, w = page200.pixels.shape
    im = pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w, Height=h,
                        ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Filter=pikepdf.Name.FlateDecode)
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, w * 72 / 200, h * 72 / 200],
                              Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=im)),
                              Contents=pikepdf.Stream(pdf, f"q {w * 72 / 200} 0 0 {h * 72 / 200} 0 0 cm /Im0 Do Q".encode()))
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(tmp_path / "cut.pdf")
    with pytest.raises(errors.BadInputError) as exc:
        check(tmp_path / "cut.pdf")
    assert exc.value.reason in ("malformed_pdf", "truncated")


def test_corrupted_bytes_never_crash(tmp_path):
    """Flip bytes all over valid PDFs (plain, MRC, OCR; with metadata and
    bookmarks): every outcome is a cleaned copy or one of our errors."""
    from despeckled.io.pdf_write import PdfSink
    from despeckled.testing.pdf_synth import synthetic_page, write_ocr_pdf

    sp = synthetic_page(100, (150.0, 200.0), lines=3, specks=5, seed=3)
    sources = [
        write_image_pdf(tmp_path / "a.pdf", [(sp.pixels, 100, "g4"), (sp.pixels, 100, "jpeg"), (sp.pixels, 100, "flate")],
                        info={"/Title": "t"}, bookmarks=[("b", 1)]),
        write_mrc_pdf(tmp_path / "b.pdf", sp.pixels, 100),
        write_ocr_pdf(tmp_path / "c.pdf", sp.pixels, 100),
    ]
    rng = random.Random(42)
    outcomes: dict[str, int] = {}
    for i in range(90):
        bad = bytearray(sources[i % 3].read_bytes())
        for _ in range(rng.randint(1, 40)):
            bad[rng.randrange(len(bad) - 8)] = rng.randrange(256)
        path = tmp_path / "bad.pdf"
        path.write_bytes(bytes(bad))
        try:
            verify_complete(path)
            with PdfSource(path) as src, PdfSink(tmp_path / "out.pdf", src) as sink:
                for page in src.pages():
                    sink.add_page(page.pixels, page.dpi, bilevel=True, info=page.info)
            key = "ok"
        except errors.BadInputError as exc:
            key = exc.reason
        outcomes[key] = outcomes.get(key, 0) + 1
    assert "malformed_pdf" in outcomes       # reached here: nothing but our errors escaped
