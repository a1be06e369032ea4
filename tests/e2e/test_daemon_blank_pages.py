"""blank_pages = "drop" in a watch: `despeckled run` as a real subprocess.

A multi-page PDF and a TIFF lose their blank pages (the rest in order, page
boxes unchanged), a TIFF of blank backs gets no output and is logged
``blank``, a crooked page is straightened and its angle logged, every
original is archived byte for byte, and the state file counts the blank
pages.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pikepdf
from PIL import Image, TiffImagePlugin

from despeckled.testing.geometry_pages import blank_page, skew, text_page
from despeckled.testing.pdf_synth import write_image_pdf
from .e2e_harness import make_daemon, wait_for  # noqa: F401 (fixture)

DPI = 150


def _tiff(pages: list[np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buf, new=True) as tf:
        for p in pages:
            Image.fromarray(p).save(tf, "TIFF", dpi=(DPI, DPI), compression="tiff_lzw")
            tf.newFrame()
    return buf.getvalue()


def _events(d, name: str, event: str) -> list[dict]:
    return [e for e in d.events() if e.get("event") == event and str(e.get("path", "")).endswith("/" + name)]


def test_blank_pages_dropped_and_originals_archived_whole(make_daemon, tmp_path):
    d = make_daemon(watch_extra='clean = { blank_pages = "drop" }').start()
    text = [text_page("table", s, DPI) for s in (1, 3)]
    # heights differ, so the output's page order can be read back
    pages = [text[0], blank_page("specks", 2, DPI)[:-20], text[1][:-40], blank_page("punch_holes", 4, DPI)[:-60]]
    pdf = write_image_pdf(tmp_path / "src.pdf", [(p, float(DPI), "flate") for p in pages]).read_bytes()
    dropped = {"doc.pdf": pdf, "doc.tif": _tiff(pages),
               "backs.tif": _tiff([blank_page("specks", 8, DPI), blank_page("staple", 2, DPI)]),
               "crooked.tif": _tiff([skew(text_page("table", 5, DPI), 2.5)])}
    for name, data in dropped.items():
        d.drop(name, data)
    d.wait_finished(4, timeout=90)
    for name, data in dropped.items():
        (archived,) = d.archive.glob(f"*/{name}")
        assert archived.read_bytes() == data                          # every page, every byte
    assert list(d.failed.iterdir()) == []

    with pikepdf.open(d.clean / "doc.pdf") as out, pikepdf.open(io.BytesIO(pdf)) as src:
        assert [list(p.mediabox) for p in out.pages] == [list(src.pages[i].mediabox) for i in (0, 2)]
    im = Image.open(d.clean / "doc.tif")
    heights = []
    for i in range(im.n_frames):
        im.seek(i)
        heights.append(im.size[1])
    assert heights == [pages[0].shape[0], pages[2].shape[0]]
    for name in ("doc.pdf", "doc.tif"):
        (ev,) = _events(d, name, "cleaned")
        assert ev["blank_pages"] == [2, 4] and ev["dropped_pages"] == [2, 4], ev
        assert len(ev["skew"]) == 4 and not any(straightened for _, _, straightened in ev["skew"])

    assert not (d.clean / "backs.tif").exists()                      # nothing left to publish
    (ev,) = _events(d, "backs.tif", "blank")
    assert ev["blank_pages"] == [1, 2] and ev["pages"] == 2
    assert not _events(d, "backs.tif", "cleaned")
    assert _events(d, "backs.tif", "archived")[0]["output"] == ""

    (ev,) = _events(d, "crooked.tif", "cleaned")                  # straightened, and said so
    ((angle, confidence, straightened),) = ev["skew"]
    assert straightened and abs(angle - 2.5) <= 0.1 and confidence >= 1.0

    wait_for(lambda: json.loads(d.state.read_text()).get("blank_pages") == 6, 15, what="state counts 6 blank pages")
    assert d.stop() == 0
