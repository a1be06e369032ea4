"""process.clean_file end to end on real files: format choice, output names,
pass-through, overlays, never overwriting."""

from __future__ import annotations

import numpy as np
import pytest
from .conftest import text_like_page
from PIL import Image, TiffImagePlugin

from despeckled import errors
from despeckled.io import images
from despeckled.clean import CleanParams
from despeckled.io.fsutil import TEMP_MARKER
from despeckled.clean.overlay import KEPT_RGB, REMOVED_RGB, RULE_RGB, removed_overlay
from despeckled.clean.rules import RULE_NAMES, is_removal
from despeckled.process import clean_file

pdf_synth = pytest.importorskip("despeckled.testing.pdf_synth")


@pytest.fixture(scope="module")
def scan():
    """A small 300-dpi page with text-like lines, kept periods and isolated specks."""
    return pdf_synth.synthetic_page(300, (300.0, 220.0), lines=6, specks=12, seed=3)


def test_png_in_binary_mode_gives_a_1bit_png_without_the_specks(tmp_path, scan):
    Image.fromarray(scan.pixels).save(tmp_path / "page.png", dpi=(300, 300))
    out = tmp_path / "out"
    out.mkdir()
    r = clean_file(tmp_path / "page.png", out, CleanParams())
    assert r.output == out / "page.png" and r.pages == 1 and r.format == "png"
    assert r.specks_removed >= len(scan.specks) * 0.9
    im = Image.open(r.output)
    assert im.mode == "1" and im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    cleaned = np.asarray(im.convert("L"))
    for y, x in scan.specks:
        assert cleaned[y - 2:y + 3, x - 2:x + 3].min() == 255, f"speck at {(y, x)} still there"
    for y, x in scan.marks:
        assert cleaned[y - 2:y + 3, x - 2:x + 3].min() == 0, f"period at {(y, x)} was removed"
    assert sorted(p.name for p in out.iterdir()) == ["page.png"]


def test_jpeg_in_binary_mode_becomes_png_and_gray_mode_stays_jpeg(tmp_path, scan):
    Image.fromarray(scan.pixels).save(tmp_path / "Scan.JPG", quality=90, dpi=(300, 300))
    r = clean_file(tmp_path / "Scan.JPG", tmp_path, CleanParams())
    assert r.output == tmp_path / "Scan.png" and r.format == "png"
    r = clean_file(tmp_path / "Scan.JPG", tmp_path, CleanParams(mode="gray"))
    assert r.output == tmp_path / "Scan-1.JPG" and r.format == "jpeg"
    im = Image.open(r.output)
    assert im.format == "JPEG" and im.info["dpi"] == (300, 300)
    assert images.estimate_jpeg_quality(im.quantization[0]) == 90


def test_daemon_style_out_name_with_the_source_suffix_still_gets_png_for_jpeg(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "in.jpg")
    (tmp_path / "stage").mkdir()
    r = clean_file(tmp_path / "in.jpg", tmp_path / "stage", CleanParams(), out_name="in.jpg")
    assert r.output == tmp_path / "stage" / "in.png" and Image.open(r.output).format == "PNG"


def test_multipage_tiff_keeps_order_and_falls_back_to_tiff_for_png(tmp_path):
    pages = [text_like_page(150 + 10 * i, 120, seed=i) for i in range(3)]
    with open(tmp_path / "doc.TIF", "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for p in pages:
            Image.fromarray(p).save(tf, "TIFF", dpi=(300, 300), compression="tiff_lzw")
            tf.newFrame()
    r = clean_file(tmp_path / "doc.TIF", tmp_path, CleanParams())
    assert r.output == tmp_path / "doc-1.TIF" and r.pages == 3
    r2 = clean_file(tmp_path / "doc.TIF", tmp_path, CleanParams(), out_format="png")
    assert r2.format == "tiff" and r2.output.name == "doc-2.TIF"
    for out in (r.output, r2.output):
        im = Image.open(out)
        assert im.n_frames == 3
        for i, p in enumerate(pages):
            im.seek(i)
            assert im.size == (p.shape[1], p.shape[0]) and im.info["compression"] == "group4"


def test_out_name_suffix_picks_the_format(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "a.png")
    r = clean_file(tmp_path / "a.png", tmp_path, CleanParams(), out_name="result.tif")
    assert r.output == tmp_path / "result.tif" and Image.open(r.output).format == "TIFF"


def test_bad_input_raises_and_leaves_nothing_behind(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "in" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(errors.BadInputError):
        clean_file(tmp_path / "in" / "bad.png", tmp_path / "out", CleanParams())
    assert list((tmp_path / "out").iterdir()) == []


def _coloured(ov: np.ndarray, names) -> np.ndarray:
    """Where the overlay shows one of the rules ``names`` in its colour."""
    out = np.zeros(ov.shape[:2], bool)
    for name in names:
        out |= np.all(ov == RULE_RGB[name], axis=2)
    return out


def test_show_removed_overlay_colours_specks_by_their_removing_rule(tmp_path, scan):
    Image.fromarray(scan.pixels).save(tmp_path / "page.png", dpi=(300, 300))
    (tmp_path / "ov").mkdir()
    r = clean_file(tmp_path / "page.png", tmp_path, CleanParams(), show_removed=tmp_path / "ov")
    assert r.overlays == [tmp_path / "ov" / "page.removed.png"]
    ov = np.asarray(Image.open(r.overlays[0]))
    h, w = scan.pixels.shape
    assert ov.shape[1:] == (w, 3) and ov.shape[0] > h       # the page, and the legend under it
    page = ov[:h]
    removing = [name for name in RULE_NAMES if is_removal(np.array([RULE_NAMES.index(name)]))[0]]
    gone = _coloured(page, removing)
    for y, x in scan.specks:
        assert gone[y - 2:y + 3, x - 2:x + 3].any(), f"no removal colour at speck {(y, x)}"
    for y, x in scan.marks:
        assert not gone[y - 1:y + 2, x - 1:x + 2].any()


def test_explain_lists_every_removed_component_with_box_reason_and_confidence(tmp_path, scan):
    Image.fromarray(scan.pixels).save(tmp_path / "page.png", dpi=(300, 300))
    r = clean_file(tmp_path / "page.png", tmp_path, CleanParams(), explain=True)
    [page] = r.explain
    assert page["page"] == 1 and page["removed"]
    for y, x in scan.specks:
        assert any(e["box"][0] - 1 <= x <= e["box"][2] + 1 and e["box"][1] - 1 <= y <= e["box"][3] + 1
                   for e in page["removed"]), f"speck {(y, x)} not explained"
    for e in page["removed"]:
        assert e["reason"] in RULE_NAMES and is_removal(np.array([RULE_NAMES.index(e["reason"])]))[0]
        assert 0.5 <= e["confidence"] <= 1.0 and e["area"] >= 1
    assert r.stats["per_page"][0]["removed_px"] >= len(page["removed"])


def test_overlay_colours_on_a_tiny_array():
    page = np.full((9, 9), 255, np.uint8)
    page[1, 1] = 0
    page[7, 7] = 0
    removed = np.zeros((9, 9), bool)
    removed[1, 1] = True
    kept = np.zeros((9, 9), bool)
    kept[7, 7] = True
    out = removed_overlay(page, removed, kept, halo=0)
    assert tuple(out[1, 1]) == REMOVED_RGB and tuple(out[7, 7]) == KEPT_RGB
    assert tuple(out[4, 4]) == (255, 255, 255)


def test_text_pdf_is_copied_unchanged_unless_forced(tmp_path):
    pdf = tmp_path / "letter.pdf"
    pdf_synth.write_text_pdf(pdf, "Hello")
    (tmp_path / "out").mkdir()
    r = clean_file(pdf, tmp_path / "out", CleanParams())
    assert r.passed_through and r.output == tmp_path / "out" / "letter.pdf"
    assert r.output.read_bytes() == pdf.read_bytes()
    assert not [p for p in (tmp_path / "out").iterdir() if TEMP_MARKER in p.name]


def test_scanned_pdf_is_cleaned_to_pdf(tmp_path, scan):
    pdf = tmp_path / "scan.pdf"
    pdf_synth.write_image_pdf(pdf, [(scan.pixels, 300.0, "flate"), (scan.pixels, 300.0, "flate")])
    r = clean_file(pdf, tmp_path, CleanParams())
    assert r.format == "pdf" and r.pages == 2 and r.passed_through is None
    assert r.output == tmp_path / "scan-1.pdf"
    assert r.specks_removed >= 2 * len(scan.specks) * 0.9
