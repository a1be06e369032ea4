"""PdfSink: same page geometry, compact encodings, metadata and bookmarks kept."""

from __future__ import annotations

import io

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from despeckled.io.pdf import PdfSource
from despeckled.io.pdf_write import PdfSink
from despeckled.testing.pdf_synth import A4_POINTS, synthetic_page, write_image_pdf, write_mrc_pdf

INFO = {"/Title": "Quarterly report", "/Author": "Ada Lovelace", "/CreationDate": "D:20240102030405Z"}


def ink(a: np.ndarray) -> np.ndarray:
    return np.asarray(a) < 128


def render_gray(path, index: int, dpi: float) -> np.ndarray:
    doc = pdfium.PdfDocument(str(path))
    try:
        page = doc[index]
        arr = page.render(scale=dpi / 72, grayscale=True, no_smoothimage=True).to_numpy()
        page.close()
    finally:
        doc.close()
    return np.array(arr[..., 0] if arr.ndim == 3 else arr)


def copy_through(src_path, out_path, *, bilevel: bool, transform=lambda a: a) -> None:
    """What process.clean_file does, without the cleaning engine; then check
    that qpdf reads the result without a single repair or warning."""
    with PdfSource(src_path) as src, PdfSink(out_path, src) as sink:
        for page in src.pages():
            sink.add_page(transform(page.pixels), page.dpi, bilevel=bilevel, info=page.info)
    with pikepdf.open(out_path) as pdf:
        for _ in pdf.objects:
            pass
        assert pdf.get_warnings() == [] and pdf.check_pdf_syntax() == []


def test_geometry_metadata_and_bookmarks_survive(tmp_path, page200, page300):
    src = write_image_pdf(
        tmp_path / "in.pdf",
        [(page200.pixels, 200, "g4"), (page300.pixels, 300, "jpeg"), (page200.pixels, 200, "flate")],
        info=INFO, xmp_title="Quarterly report", bookmarks=[("Intro", 0), ("Tables", 2)], rotate=0,
    )
    with pikepdf.open(src, allow_overwriting_input=True) as pdf:   # vary geometry: rotation and a CropBox
        pdf.pages[1].Rotate = 90
        pdf.pages[2].CropBox = [10, 10, 200, 300]
        pdf.save(src)
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    with pikepdf.open(src) as a, pikepdf.open(out) as b:
        assert len(b.pages) == 3
        for pa, pb in zip(a.pages, b.pages):
            assert [float(v) for v in pb.MediaBox] == pytest.approx([float(v) for v in pa.MediaBox], abs=1e-3)
            assert int(pb.obj.get("/Rotate", 0)) == int(pa.obj.get("/Rotate", 0))
        assert [float(v) for v in b.pages[2].CropBox] == [10, 10, 200, 300]
        for key, value in INFO.items():
            assert str(b.docinfo[key]) == value
        assert b.open_metadata()["dc:title"] == "Quarterly report"
        with b.open_outline() as outline:
            marks = [(item.title, pikepdf.Page(item.destination[0]).index) for item in outline.root]
        assert marks == [("Intro", 0), ("Tables", 2)]


def test_bilevel_pages_are_g4_and_render_identically(tmp_path, page300):
    src = write_image_pdf(tmp_path / "in.pdf", [(page300.pixels, 300, "jpeg")])
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    with pikepdf.open(out) as pdf:
        im = pdf.pages[0].Resources.XObject.Im0
        assert im.Filter == "/CCITTFaxDecode" and int(im.DecodeParms.K) == -1 and int(im.BitsPerComponent) == 1
    with PdfSource(src) as s:
        handed = next(s.pages()).pixels
    with PdfSource(out) as s:
        stored = next(s.pages()).pixels
    assert np.array_equal(ink(stored), ink(handed))            # G4 is lossless
    # and a viewer (PDFium) shows ink as ink, paper as paper (/BlackIs1 right);
    # its resampling moves edges by a pixel, so compare on a coarse grid
    shown = render_gray(out, 0, 300)[: handed.shape[0], : handed.shape[1]]
    assert abs(ink(shown).mean() - ink(handed).mean()) < 0.1 * ink(handed).mean()
    coarse = lambda a: ink(a)[: a.shape[0] // 8 * 8, : a.shape[1] // 8 * 8].reshape(
        a.shape[0] // 8, 8, a.shape[1] // 8, 8).any(axis=(1, 3))
    assert (coarse(shown) != coarse(handed)).mean() < 0.01


def test_gray_page_from_flate_is_lossless(tmp_path, page200):
    gray = page200.pixels.copy()
    gray[gray == 255] = 240                 # tinted paper: not two-level, stays gray
    src = write_image_pdf(tmp_path / "in.pdf", [(gray, 200, "flate")])
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=False)
    with pikepdf.open(out) as pdf:
        im = pdf.pages[0].Resources.XObject.Im0
        assert im.Filter == "/FlateDecode"
    with PdfSource(out) as s:
        page = next(s.pages())
    assert np.array_equal(page.pixels, gray)


def test_gray_page_from_jpeg_keeps_the_scans_quality(tmp_path, page200):
    src = write_image_pdf(tmp_path / "in.pdf", [(page200.pixels, 200, "jpeg")], jpeg_quality=60)
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=False)
    with pikepdf.open(out) as pdf:
        im = pdf.pages[0].Resources.XObject.Im0
        assert im.Filter == "/DCTDecode"
        with Image.open(io.BytesIO(im.read_raw_bytes())) as j:
            from despeckled.io.pdf import estimate_jpeg_quality
            assert estimate_jpeg_quality(j.quantization) == 60


def test_rgb_gray_page_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (120, 90, 3), dtype=np.uint8)
    src = write_image_pdf(tmp_path / "in.pdf", [(rgb, 150, "flate")])
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=False)
    with PdfSource(out) as s:
        assert np.array_equal(next(s.pages()).pixels, rgb)


def test_rendered_mrc_page_keeps_its_size(tmp_path, page200):
    src = write_mrc_pdf(tmp_path / "mrc.pdf", page200.pixels, 200)
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    with pikepdf.open(src) as a, pikepdf.open(out) as b:
        assert [float(v) for v in b.pages[0].MediaBox] == pytest.approx([float(v) for v in a.pages[0].MediaBox])


def test_sink_without_source_sizes_pages_from_dpi(tmp_path):
    out = tmp_path / "plain.pdf"
    page = np.full((300, 600), 255, np.uint8)
    page[100:120, 100:400] = 0
    with PdfSink(out) as sink:
        sink.add_page(page, (150.0, 150.0), bilevel=True)
        sink.add_page(page, None, bilevel=True)
    with pikepdf.open(out) as pdf:
        assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 288, 144]
        assert [float(v) for v in pdf.pages[1].MediaBox] == [0, 0, 144, 72]   # 300 dpi assumed


def test_a4_300dpi_bilevel_page_is_compact(tmp_path):
    sp = synthetic_page(300, A4_POINTS, lines=30, specks=0, seed=3)
    src = write_image_pdf(tmp_path / "in.pdf", [(sp.pixels, 300, "g4")])
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    assert out.stat().st_size <= 60_000
    assert out.stat().st_size <= src.stat().st_size + 2_000   # never larger than the input page, bar the header


def test_failed_write_leaves_nothing(tmp_path):
    out = tmp_path / "out.pdf"
    with pytest.raises(RuntimeError):
        with PdfSink(out) as sink:
            sink.add_page(np.zeros((10, 10), np.uint8), 72, bilevel=True)
            raise RuntimeError("boom")
    assert not out.exists()


def test_no_pages_is_an_output_error(tmp_path):
    from despeckled import errors
    out = tmp_path / "out.pdf"
    with pytest.raises(errors.OutputError):
        with PdfSink(out):
            pass
    assert not out.exists()


def test_pages_are_written_as_they_come(tmp_path):
    """Streaming: the file grows with each page; nothing waits for finish()."""
    out = tmp_path / "out.pdf"
    rng = np.random.default_rng(1)
    sizes = []
    with PdfSink(out) as sink:
        for _ in range(3):
            sink.add_page(rng.integers(0, 255, (200, 200), dtype=np.uint8), 100, bilevel=False)
            sink._fh.flush()
            sizes.append(out.stat().st_size)
    assert sizes[0] > 30_000 and sizes[1] > sizes[0] + 30_000 and sizes[2] > sizes[1] + 30_000


def test_nested_and_named_bookmarks_survive(tmp_path, page200):
    src = write_image_pdf(tmp_path / "in.pdf", [(page200.pixels, 200, "g4")] * 3)
    with pikepdf.open(src, allow_overwriting_input=True) as pdf:
        dests = pikepdf.Dictionary(chap2=pikepdf.Array([pdf.pages[1].obj, pikepdf.Name.XYZ, 0, 400, 0]))
        pdf.Root.Names = pikepdf.Dictionary(Dests=pikepdf.Dictionary(Names=pikepdf.Array(
            [pikepdf.String("chap2"), dests.chap2])))
        with pdf.open_outline() as outline:
            part = pikepdf.OutlineItem("Part I", 0)
            part.children.append(pikepdf.OutlineItem("Chapter 2", pikepdf.String("chap2")))
            part.children.append(pikepdf.OutlineItem("Chapter 3", 2))
            outline.root.append(part)
        pdf.save(src)
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    with pikepdf.open(out) as pdf, pdf.open_outline() as outline:
        (part,) = outline.root
        assert part.title == "Part I" and pikepdf.Page(part.destination[0]).index == 0
        ch2, ch3 = part.children
        assert (ch2.title, pikepdf.Page(ch2.destination[0]).index) == ("Chapter 2", 1)
        assert [float(v) for v in list(ch2.destination)[2:]] == [0, 400, 0]     # the /XYZ view is kept
        assert (ch3.title, pikepdf.Page(ch3.destination[0]).index) == ("Chapter 3", 2)


def test_image_placed_with_margins_keeps_its_place(tmp_path, page200):
    src = write_image_pdf(tmp_path / "in.pdf", [(page200.pixels, 200, "g4")])
    with pikepdf.open(src, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.MediaBox = [0, 0, 612, 792]
        page.Contents = pikepdf.Stream(pdf, b"q 1 0 0 1 36 50 cm 299.88 0 0 420.12 0 0 cm /Im0 Do Q")
        pdf.save(src)
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    with PdfSource(out) as s:
        page = next(s.pages())
    assert page.info["rendered"] is False
    assert page.info["placement"] == pytest.approx((299.88, 0, 0, 420.12, 36, 50))
    assert page.info["media_box"] == (0, 0, 612, 792)


def test_cmyk_jpeg_page_is_rendered(tmp_path):
    import io
    rgb = np.full((100, 80, 3), 255, np.uint8)
    rgb[40:60, 10:70] = 0
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buf, "JPEG", quality=90)
    pdf = pikepdf.new()
    im = pikepdf.Stream(pdf, buf.getvalue(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=80,
                        Height=100, ColorSpace=pikepdf.Name.DeviceCMYK, BitsPerComponent=8,
                        Filter=pikepdf.Name.DCTDecode, Decode=[1, 0] * 4)   # Adobe-style inverted CMYK
    pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 57.6, 72],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=im)),
        Contents=pikepdf.Stream(pdf, b"q 57.6 0 0 72 0 0 cm /Im0 Do Q"))))
    pdf.save(tmp_path / "cmyk.pdf")
    with PdfSource(tmp_path / "cmyk.pdf") as s:
        page = next(s.pages())
    assert page.info["rendered"] is True and page.dpi == pytest.approx((100, 100))
    assert page.pixels.shape[:2] == (100, 80)
    assert (page.pixels[50, 40] < 100).all() and (page.pixels[10, 40] > 200).all()


def test_page_labels_survive(tmp_path, page200):
    src = write_image_pdf(tmp_path / "in.pdf", [(page200.pixels, 200, "g4")] * 3)
    with pikepdf.open(src, allow_overwriting_input=True) as pdf:
        pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array([
            0, pikepdf.Dictionary(S=pikepdf.Name.r), 2, pikepdf.Dictionary(S=pikepdf.Name.D)]))
        pdf.save(src)
    out = tmp_path / "out.pdf"
    copy_through(src, out, bilevel=True)
    with pikepdf.open(out) as pdf:
        assert [p.label for p in pdf.pages] == ["i", "ii", "1"]
