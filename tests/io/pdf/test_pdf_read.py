"""PdfSource: lossless extraction of plain scan pages, rendering of the rest,
and the pass-through decision for PDFs that carry text."""

from __future__ import annotations

import inspect

import numpy as np
import pikepdf
import pytest
from PIL import Image

from despeckled.io import images
from despeckled.daemon.policy import pass_through
from despeckled.io.pdf import PdfSource, estimate_jpeg_quality
from despeckled.testing.pdf_synth import write_image_pdf, write_mrc_pdf, write_ocr_pdf, write_text_pdf


def ink(a: np.ndarray) -> np.ndarray:
    return np.asarray(a) < 128


def mismatch(a: np.ndarray, b: np.ndarray) -> float:
    """Differing ink pixels relative to the ink in ``b`` (0 = identical)."""
    return float((ink(a) != ink(b)).sum() / max(1, ink(b).sum()))


@pytest.mark.parametrize("dpi_name", ["page200", "page300"])
@pytest.mark.parametrize("encoding", ["jpeg", "flate", "g4"])
def test_plain_page_is_extracted_as_stored(tmp_path, request, dpi_name, encoding):
    sp = request.getfixturevalue(dpi_name)
    path = write_image_pdf(tmp_path / "scan.pdf", [(sp.pixels, sp.dpi, encoding)], jpeg_quality=80)
    with PdfSource(path) as src:
        assert src.format == "pdf" and src.page_count == 1 and pass_through(src.facts) is None
        (page,) = list(src.pages())
    assert page.pixels.shape == sp.pixels.shape and page.pixels.dtype == np.uint8
    assert page.dpi == pytest.approx((sp.dpi, sp.dpi))
    info = page.info
    assert info["rendered"] is False
    assert info["encoding"] == {"jpeg": "jpeg", "flate": "flate", "g4": "ccitt"}[encoding]
    h, w = sp.pixels.shape
    assert info["media_box"] == pytest.approx((0, 0, w * 72 / sp.dpi, h * 72 / sp.dpi), abs=0.01)
    assert info["source_bytes"] > 0
    if encoding == "jpeg":
        # the JPEG's own pixels, not a re-render: identical to decoding the stream
        with pikepdf.open(path) as pdf:
            raw = pdf.pages[0].Resources.XObject.Im0.read_raw_bytes()
        import io
        assert np.array_equal(page.pixels, np.asarray(Image.open(io.BytesIO(raw))))
        assert info["jpeg_quality"] == 80
        assert info["bits"] == 8
    else:
        assert np.array_equal(ink(page.pixels), ink(sp.pixels))
        assert info["bits"] == (1 if encoding == "g4" else 8)
        if encoding == "flate":
            assert np.array_equal(page.pixels, sp.pixels)


def test_multipage_streams_one_page_at_a_time(tmp_path, page200, page300):
    pages = [(page200.pixels, 200, "g4"), (page300.pixels, 300, "jpeg"), (page200.pixels, 200, "flate")]
    path = write_image_pdf(tmp_path / "multi.pdf", pages)
    with PdfSource(path) as src:
        assert src.page_count == 3
        it = src.pages()
        assert inspect.isgenerator(it)       # lazy: nothing decoded before asked
        got = [(p.index, p.pixels.shape, round(p.dpi[0])) for p in it]
    assert got == [(0, page200.pixels.shape, 200), (1, page300.pixels.shape, 300), (2, page200.pixels.shape, 200)]


def test_page_is_a_images_page(tmp_path, page200):
    path = write_image_pdf(tmp_path / "a.pdf", [(page200.pixels, 200, "g4")])
    with PdfSource(path) as src:
        page = next(src.pages())
    assert isinstance(page, images.Page)
    assert page.info["format"] == "pdf"


def test_mrc_page_is_rendered_at_the_mask_resolution(tmp_path, page300):
    path = write_mrc_pdf(tmp_path / "mrc.pdf", page300.pixels, 300, background_dpi=100)
    with PdfSource(path) as src:
        assert pass_through(src.facts) is None
        page = next(src.pages())
    assert page.info["rendered"] is True
    assert sorted(page.info["layers"]) == ["ccitt", "jpeg"]
    assert page.info["jpeg_quality"] is None      # gray output stays lossless: the text layer was
    assert page.dpi == pytest.approx((300, 300))
    assert page.pixels.shape[:2] == page300.pixels.shape
    # the text mask lands where the text was (rendering may differ on edges)
    assert mismatch(page.pixels, page300.pixels) < 0.3


def test_rotated_page_keeps_unrotated_pixels_and_reports_rotation(tmp_path, page200):
    path = write_image_pdf(tmp_path / "rot.pdf", [(page200.pixels, 200, "g4")], rotate=90)
    with PdfSource(path) as src:
        page = next(src.pages())
    assert page.info["rotate"] == 90
    assert np.array_equal(ink(page.pixels), ink(page200.pixels))


def test_forced_render_of_rotated_page_is_unrotated(tmp_path, page200):
    # an MRC page forces rendering; /Rotate must not turn the pixels
    path = write_mrc_pdf(tmp_path / "mrc.pdf", page200.pixels, 200)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].Rotate = 270
        pdf.save(path)
    with PdfSource(path) as src:
        page = next(src.pages())
    assert page.pixels.shape[:2] == page200.pixels.shape
    assert mismatch(page.pixels, page200.pixels) < 0.3


def test_vector_text_passes_through(tmp_path):
    path = write_text_pdf(tmp_path / "letter.pdf", pages=2)
    with PdfSource(path) as src:
        assert pass_through(src.facts) is not None and "vector text" in pass_through(src.facts).reason


def test_ocr_layer_passes_through(tmp_path, page200):
    path = write_ocr_pdf(tmp_path / "ocr.pdf", page200.pixels, 200)
    with PdfSource(path) as src:
        assert pass_through(src.facts) is not None and "OCR text layer" in pass_through(src.facts).reason
        # forced cleaning still gets the scan losslessly (the invisible text paints nothing)
        page = next(src.pages())
    assert page.info["rendered"] is False and page.info["encoding"] == "jpeg"


def test_owner_password_only_passes_through(tmp_path, page200):
    path = write_image_pdf(tmp_path / "locked.pdf", [(page200.pixels, 200, "g4")],
                           encryption=pikepdf.Encryption(owner="secret", user=""))
    with PdfSource(path) as src:
        assert pass_through(src.facts) is not None and "encrypted" in pass_through(src.facts).reason


def test_text_page_forced_is_rendered(tmp_path):
    path = write_text_pdf(tmp_path / "t.pdf")
    with PdfSource(path) as src:
        page = next(src.pages())
    assert page.info["rendered"] is True
    assert page.pixels.shape[:2] == (round(842 * 300 / 72), round(595 * 300 / 72))
    assert (page.pixels < 128).any()          # the word was drawn


def test_jpeg_quality_estimate_matches_pillow_saves():
    import io
    for q in (30, 60, 75, 85, 95):
        buf = io.BytesIO()
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(buf, "JPEG", quality=q)
        with Image.open(buf) as im:
            assert abs(estimate_jpeg_quality(im.quantization) - q) <= 1


@pytest.mark.parametrize("clip, lossless", [
    (b"0 0 300 420 re W n", True),           # a page-sized clip, as some scanners write
    (b"0 0 100 100 re W n", False),          # hides most of the image: render what shows
    (b"0 0 m 300 0 l 150 420 l h W n", False),
])
def test_clip_paths(tmp_path, page200, clip, lossless):
    path = write_image_pdf(tmp_path / "c.pdf", [(page200.pixels, 200, "g4")])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        old = pdf.pages[0].Contents.read_bytes()
        pdf.pages[0].Contents = pikepdf.Stream(pdf, b"q " + clip + b" " + old + b" Q")
        pdf.save(path)
    with PdfSource(path) as src:
        page = next(src.pages())
    assert page.info["rendered"] is (not lossless)
    if not lossless and b"100 100" in clip:
        h = page.pixels.shape[0]
        assert not ink(page.pixels[: h - int(100 * 200 / 72) - 2]).any()   # clipped away stays paper


@pytest.mark.parametrize("paint", [b"0 g 10 10 50 50 re f", b"1 w 0 0 m 100 100 l S", b"/Sh0 sh"])
def test_vector_paint_over_a_scan_is_rendered(tmp_path, page200, paint):
    path = write_image_pdf(tmp_path / "v.pdf", [(page200.pixels, 200, "g4")])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        old = pdf.pages[0].Contents.read_bytes()
        pdf.pages[0].Contents = pikepdf.Stream(pdf, old + b" " + paint)
        pdf.save(path)
    with PdfSource(path) as src:
        assert src._scans[0].other_paint


@pytest.mark.parametrize("subtype, passes", [("/Text", True), ("/FreeText", True), ("/Link", False)])
def test_annotations_pass_through_but_links_do_not(tmp_path, page200, subtype, passes):
    path = write_image_pdf(tmp_path / "a.pdf", [(page200.pixels, 200, "g4")])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name(subtype), Rect=[10, 10, 50, 50],
            Contents=pikepdf.String("a note"))]))
        pdf.save(path)
    with PdfSource(path) as src:
        assert (pass_through(src.facts) is not None) is passes
        if passes:
            assert "annotations" in pass_through(src.facts).reason
