"""blank_pages = "drop": blank pages are left out of multi-page outputs in
order, every page's verdict is reported, and a file of blank pages gets no
output at all (the daemon then archives the original whole)."""

from __future__ import annotations

import hashlib

import numpy as np
import pikepdf
import pytest
from PIL import Image, TiffImagePlugin

from despeckled.clean import CleanParams
from despeckled.io.fsutil import TEMP_MARKER
from despeckled.process import clean_file
from despeckled.testing.geometry_pages import blank_page, text_page

pdf_synth = pytest.importorskip("despeckled.testing.pdf_synth")

DPI = 150
DROP = CleanParams(blank_pages="drop")


def _pages() -> list[np.ndarray]:
    """Content, blank, content, blank (punch holes), a page number only.
    Heights differ by page, so the output's order can be read back."""
    kinds = [("text", 1), ("specks", 2), ("text", 3), ("punch_holes", 4), ("page_number", 5)]
    out = []
    for i, (kind, seed) in enumerate(kinds):
        page = text_page("table", seed, DPI) if kind == "text" else blank_page(kind, seed, DPI)
        out.append(np.ascontiguousarray(page[: page.shape[0] - 10 * i]))
    return out


def _tiff(path, pages):
    with open(path, "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for p in pages:
            Image.fromarray(p).save(tf, "TIFF", dpi=(DPI, DPI), compression="tiff_lzw")
            tf.newFrame()
    return path


def _heights(path) -> list[int]:
    im = Image.open(path)
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(im.size[1])
    return out


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pages():
    return _pages()


def test_tiff_blank_pages_dropped_in_order(tmp_path, pages):
    src = _tiff(tmp_path / "scan.tif", pages)
    before = _digest(src)
    out = tmp_path / "out"
    out.mkdir()
    r = clean_file(src, out, DROP)
    assert r.blank_pages == [2, 4] and r.dropped_pages == [2, 4] and r.pages == 5
    assert not r.all_blank
    heights = [p.shape[0] for p in pages]
    assert _heights(r.output) == [heights[0], heights[2], heights[4]]
    assert _digest(src) == before                       # the original is untouched
    assert not [p for p in out.iterdir() if TEMP_MARKER in p.name]


def test_keep_reports_the_verdicts_and_writes_every_page(tmp_path, pages):
    src = _tiff(tmp_path / "scan.tif", pages)
    r = clean_file(src, tmp_path, CleanParams())
    assert r.blank_pages == [2, 4] and r.dropped_pages == []
    assert _heights(r.output) == [p.shape[0] for p in pages]
    assert [p["blank"] for p in r.stats["per_page"]] == [False, True, False, True, False]


def test_pdf_blank_pages_dropped_page_boxes_unchanged(tmp_path, pages):
    src = pdf_synth.write_image_pdf(tmp_path / "scan.pdf", [(p, float(DPI), "flate") for p in pages])
    before = _digest(src)
    with pikepdf.open(src) as pdf:
        boxes = [[float(v) for v in page.mediabox] for page in pdf.pages]
    out = tmp_path / "out"
    out.mkdir()
    r = clean_file(src, out, DROP)
    assert r.format == "pdf" and r.dropped_pages == [2, 4]
    with pikepdf.open(r.output) as pdf:
        assert [[float(v) for v in page.mediabox] for page in pdf.pages] == [boxes[0], boxes[2], boxes[4]]
    assert _digest(src) == before


def test_a_file_of_blank_pages_gets_no_output(tmp_path):
    src = _tiff(tmp_path / "backs.tif", [blank_page("specks", 8, DPI), blank_page("punch_holes", 8, DPI)])
    out = tmp_path / "out"
    out.mkdir()
    r = clean_file(src, out, DROP)
    assert r.all_blank and r.output is None and r.dropped_pages == [1, 2]
    assert list(out.iterdir()) == []                    # nothing published, no temp file left


def test_a_blank_single_page_is_kept_by_default(tmp_path):
    src = tmp_path / "back.png"
    Image.fromarray(blank_page("staple", 9, DPI)).save(src, dpi=(DPI, DPI))
    r = clean_file(src, tmp_path, CleanParams())
    assert r.blank_pages == [1] and r.output is not None and not r.all_blank


def test_pdf_bookmarks_follow_their_pages_when_pages_are_dropped(tmp_path, pages):
    src = pdf_synth.write_image_pdf(tmp_path / "book.pdf", [(p, float(DPI), "flate") for p in pages],
                                    bookmarks=[("Intro", 0), ("Blank back", 1), ("Part two", 2), ("End", 4)])
    r = clean_file(src, tmp_path, DROP)
    assert r.dropped_pages == [2, 4]
    with pikepdf.open(r.output) as pdf:
        index = {page.objgen: i for i, page in enumerate(pdf.pages)}
        with pdf.open_outline() as outline:
            got = {item.title: index[item.destination[0].objgen] for item in outline.root}
    # pages 1, 3, 5 are kept as 0, 1, 2; the blank back's bookmark goes to the next kept page
    assert got == {"Intro": 0, "Blank back": 1, "Part two": 1, "End": 2}
