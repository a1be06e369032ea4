"""PDFs through the real pipeline: images.open_source/open_sink dispatch,
process.clean_file with the real cleaning engine, and the CLI as a subprocess."""

from __future__ import annotations

import subprocess
import sys

import pikepdf
import pytest

from despeckled import errors, process
from despeckled.io import images
from despeckled.clean import CleanParams
from despeckled.daemon.policy import pass_through
from despeckled.io.pdf import PdfSource
from despeckled.testing.pdf_synth import A4_POINTS, synthetic_page, write_image_pdf, write_ocr_pdf, write_text_pdf

INFO = {"/Title": "Scan of 2 March", "/Author": "Front desk", "/CreationDate": "D:20250302101500+01'00'"}


@pytest.fixture(scope="module")
def a4() -> object:
    return synthetic_page(300, A4_POINTS, lines=20, specks=150, seed=7)


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def pages_of(path):
    with images.open_source(path) as src:
        assert isinstance(src, PdfSource)
        for page in src.pages():
            yield page


@pytest.mark.parametrize("encoding", ["jpeg", "g4", "flate"])
def test_scanned_pdf_comes_out_cleaned_with_its_geometry_and_metadata(dirs, a4, page200, encoding):
    src_dir, out_dir = dirs
    src = write_image_pdf(src_dir / "scan.pdf", [(a4.pixels, 300, encoding), (page200.pixels, 200, encoding)],
                          info=INFO, bookmarks=[("First", 0), ("Second", 1)])
    report = process.clean_file(src, out_dir, CleanParams())
    assert report.passed_through is None and report.pages == 2
    assert report.output == out_dir / "scan.pdf" and report.format == "pdf"
    with pikepdf.open(src) as a, pikepdf.open(report.output) as b:
        assert len(b.pages) == 2
        for pa, pb in zip(a.pages, b.pages):
            assert [float(v) for v in pb.MediaBox] == pytest.approx([float(v) for v in pa.MediaBox], abs=1e-3)
            assert pb.Resources.XObject.Im0.Filter == "/CCITTFaxDecode"
        for key, value in INFO.items():
            assert str(b.docinfo[key]) == value
        with b.open_outline() as outline:
            assert [(i.title, pikepdf.Page(i.destination[0]).index) for i in outline.root] == [("First", 0), ("Second", 1)]
    first = next(pages_of(report.output))
    assert first.pixels.shape == a4.pixels.shape and first.dpi == pytest.approx((300, 300))
    # specks gone, periods kept
    assert sum(first.pixels[r, c] < 128 for r, c in a4.specks) == 0
    assert all(first.pixels[r, c] < 128 for r, c in a4.marks)
    assert src.exists()                       # the original is untouched


def test_gray_mode_keeps_the_jpeg_quality(dirs, a4):
    src_dir, out_dir = dirs
    src = write_image_pdf(src_dir / "photo.pdf", [(a4.pixels, 300, "jpeg")], jpeg_quality=70)
    report = process.clean_file(src, out_dir, CleanParams(mode="gray"))
    page = next(pages_of(report.output))
    assert page.info["encoding"] in ("jpeg", "ccitt")
    if page.info["encoding"] == "jpeg":
        assert page.info["jpeg_quality"] == 70
    assert sum(page.pixels[r, c] < 128 for r, c in a4.specks) == 0


@pytest.mark.parametrize("kind", ["text", "ocr"])
def test_text_pdfs_pass_through_unchanged(dirs, page200, kind):
    src_dir, out_dir = dirs
    if kind == "text":
        src = write_text_pdf(src_dir / "letter.pdf")
    else:
        src = write_ocr_pdf(src_dir / "letter.pdf", page200.pixels, 200)
    report = process.clean_file(src, out_dir, CleanParams())
    assert report.passed_through and ("text" in report.passed_through)
    assert report.output.read_bytes() == src.read_bytes()


def test_force_cleans_a_text_pdf(dirs, page200):
    src_dir, out_dir = dirs
    src = write_ocr_pdf(src_dir / "ocr.pdf", page200.pixels, 200)
    report = process.clean_file(src, out_dir, CleanParams(), force_pdf=True)
    assert report.passed_through is None and report.pages == 1
    with PdfSource(report.output) as out:
        assert pass_through(out.facts) is None            # the invisible layer is gone: the page is a clean scan


@pytest.mark.parametrize("make, error, reason", [
    (lambda p, px: p.write_bytes(write_image_pdf(p, [(px, 200, "g4")]).read_bytes()[:3000]),
     errors.TruncatedInputError, "truncated"),
    (lambda p, px: write_image_pdf(p, [(px, 200, "g4")], encryption=pikepdf.Encryption(owner="o", user="u")),
     errors.BadInputError, "encrypted"),
    (lambda p, px: p.write_bytes(b"%PDF-1.4\n" + b"x" * 3000 + b"\n%%EOF\n"), errors.BadInputError, "malformed_pdf"),
])
def test_failure_paths_raise_our_errors(dirs, page200, make, error, reason):
    src_dir, out_dir = dirs
    path = src_dir / "bad.pdf"
    make(path, page200.pixels)
    with pytest.raises(error) as exc:
        images.verify_complete(path)
    assert exc.value.reason == reason
    with pytest.raises(error):
        process.clean_file(path, out_dir, CleanParams())
    assert list(out_dir.iterdir()) == []        # nothing published, no temp left


def test_cli_cleans_a_pdf(dirs, page200):
    src_dir, out_dir = dirs
    src = write_image_pdf(src_dir / "a.pdf", [(page200.pixels, 200, "jpeg")] * 2)
    write_text_pdf(src_dir / "b.pdf")
    (src_dir / "c.pdf").write_bytes(b"%PDF-1.7\n1 0 obj")       # still being written
    run = subprocess.run([sys.executable, "-m", "despeckled", "clean", "-q", "-j", "1", "--output-dir", str(out_dir),
                          str(src), str(src_dir / "b.pdf"), str(src_dir / "c.pdf")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == errors.ExitCode.input_file, run.stderr
    assert "c.pdf" in run.stderr and "end-of-file" in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.pdf", "b.pdf"]
    with pikepdf.open(out_dir / "a.pdf") as pdf:
        assert len(pdf.pages) == 2
