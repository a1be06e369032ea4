"""Scanned PDFs in, cleaned PDFs out: `despeckled run` as a real subprocess.

A PDF is taken only once it is complete (its trailer written), text and OCR
PDFs pass through unchanged unless ``force_pdf`` is set, and PDFs that can
never be read go to failed with a reason.
"""

from __future__ import annotations

import json
import os

import pikepdf
import pytest

from despeckled.testing.pdf_synth import synthetic_page, write_image_pdf, write_ocr_pdf, write_text_pdf
from .e2e_harness import make_daemon, wait_for  # noqa: F401 (fixture)

#: small pages (points) at 150 dpi keep each page a few hundred kB of pixels
PORTRAIT, LANDSCAPE = (300.0, 420.0), (420.0, 300.0)


def scan_pdf(path, pages: int = 3):
    """An image-only PDF: one scanned page per PDF page, mixed encodings and orientations."""
    encodings = ["g4", "jpeg", "flate"]
    spec = []
    for i in range(pages):
        p = synthetic_page(150, LANDSCAPE if i % 3 == 1 else PORTRAIT, lines=6, specks=30, seed=i)
        spec.append((p.pixels, p.dpi, encodings[i % 3]))
    return write_image_pdf(path, spec)


def page_sizes(path) -> list[tuple[float, ...]]:
    with pikepdf.open(path) as pdf:
        return [tuple(round(float(v), 2) for v in page.mediabox) for page in pdf.pages]


def events_for(d, name: str, event: str) -> list[dict]:
    return [e for e in d.events() if e.get("event") == event and str(e.get("path", "")).endswith("/" + name)]


def archived_as(d, name: str):
    """The archived original (archive/<day>/name)."""
    (path,) = d.archive.glob(f"*/{name}")
    return path


def only_file(root):
    files = [p for p in root.rglob("*") if p.is_file() and ".despeckled" not in p.parts]
    assert len(files) == 1, files
    return files[0]


def test_slowly_written_multipage_pdf_is_taken_once_complete(make_daemon, tmp_path):
    d = make_daemon(settle=0.2).start()
    data = scan_pdf(tmp_path / "src.pdf", pages=3).read_bytes()
    eof = data.rindex(b"%%EOF")
    assert data.count(b"%%EOF") == 1
    cuts = [len(data) * k // 10 for k in (2, 5, 8)] + [len(data)]
    assert cuts[-2] < eof  # the end-of-file marker arrives with the last chunk only

    # written in place under its final name, like a scanner writing over SMB;
    # between chunks the writer pauses until the daemon has seen the partial
    # file settle (so each partial file is handed to a worker, which must reject it)
    dest = d.inbox / "scan.pdf"
    with open(dest, "wb") as f:
        start = 0
        for cut in cuts[:-1]:
            f.write(data[start:cut])
            f.flush()
            start = cut
            wait_for(lambda: any(e["size"] == cut for e in events_for(d, "scan.pdf", "settled")), 15,
                     what=f"the daemon to settle the partial file at {cut} bytes")
            assert not events_for(d, "scan.pdf", "claimed"), "a partial PDF was claimed"
            assert list(d.clean.iterdir()) == [] and list(d.failed.iterdir()) == []
        f.write(data[start:])
    d.wait_finished(1, timeout=20)
    wait_for(lambda: events_for(d, "scan.pdf", "archived"), 10, what="scan.pdf's archived event")

    claimed = events_for(d, "scan.pdf", "claimed")
    assert [e["size"] for e in claimed] == [len(data)], "claimed more than once, or before it was complete"
    assert len(events_for(d, "scan.pdf", "cleaned")) == 1
    archived = only_file(d.archive)
    assert archived.name == "scan.pdf" and archived.read_bytes() == data  # the original, byte for byte
    out = only_file(d.clean)
    assert out.name == "scan.pdf" and out.read_bytes() != data
    assert len(page_sizes(out)) == 3 and page_sizes(out) == page_sizes(archived)
    assert list(d.failed.iterdir()) == [] and not dest.exists()
    assert d.stop() == 0


def test_text_pdf_passes_through_and_force_pdf_cleans_it(make_daemon, tmp_path):
    text = write_text_pdf(tmp_path / "letter.pdf", "Dear Sir, thank you for your letter.", pages=2).read_bytes()
    page = synthetic_page(150, PORTRAIT, lines=6, specks=30, seed=5)
    ocr = write_ocr_pdf(tmp_path / "ocr.pdf", page.pixels, page.dpi, "despeckle scanner invoice").read_bytes()
    dropped = {"letter.pdf": text, "ocr.pdf": ocr}
    plain = make_daemon(name="plain")
    forced = make_daemon(name="forced", watch_extra="force_pdf = true")
    for d in (plain, forced):
        d.start(wait_ready=False)
    for d in (plain, forced):
        wait_for(lambda: d.has_event("ready") or d.proc.poll() is not None, 30, what=f"{d.root.name} ready")
        assert d.proc.poll() is None, d.log_text()
        for name, data in dropped.items():
            d.drop(name, data)
    for d in (plain, forced):
        d.wait_finished(2, timeout=20)
        assert list(d.failed.iterdir()) == []
        for name, data in dropped.items():
            assert archived_as(d, name).read_bytes() == data

    # default: copied unchanged, and the log says why
    for name, data in dropped.items():
        assert (plain.clean / name).read_bytes() == data
        (ev,) = wait_for(lambda: events_for(plain, name, "passed_through"), 10, what=f"{name}'s passed_through event")
        assert "text" in ev["reason"], ev
        assert not events_for(plain, name, "cleaned")
    # force_pdf = true in the watch: rendered and cleaned like any scan
    for name, data in dropped.items():
        out = forced.clean / name
        assert out.read_bytes() != data
        assert len(page_sizes(out)) == len(page_sizes(plain.clean / name))
        assert len(events_for(forced, name, "cleaned")) == 1 and not events_for(forced, name, "passed_through")
    for d in (plain, forced):
        assert d.stop() == 0


@pytest.fixture
def broken_pdfs(tmp_path) -> dict[str, bytes]:
    page = synthetic_page(150, PORTRAIT, lines=6, specks=30, seed=9)
    enc = write_image_pdf(tmp_path / "enc.pdf", [(page.pixels, 150, "g4")],
                          encryption=pikepdf.Encryption(owner="owner", user="secret")).read_bytes()
    whole = scan_pdf(tmp_path / "whole.pdf", pages=2).read_bytes()
    return {
        "locked.pdf": enc,                              # needs a password to open
        "cut.pdf": whole[: len(whole) * 6 // 10],      # the upload died: never completed
        "garbage.pdf": b"%PDF-1.7\n" + os.urandom(3000) + b"\n%%EOF\n",  # complete, but not a PDF inside
    }


def test_encrypted_truncated_and_malformed_pdfs_go_to_failed(make_daemon, broken_pdfs):
    # stuck_after: how long a settled file may stay truncated before it is given up
    d = make_daemon(stuck_after=2.0).start()
    for name, data in broken_pdfs.items():
        d.drop(name, data)
    d.wait_finished(len(broken_pdfs), timeout=25)

    # cut.pdf stayed settled and truncated for stuck_after seconds: given up as truncated
    want = {"locked.pdf": {"encrypted"}, "cut.pdf": {"truncated"}, "garbage.pdf": {"malformed_pdf"}}
    for name, data in broken_pdfs.items():
        assert (d.failed / name).read_bytes() == data  # moved, never rewritten
        sidecar = json.loads((d.failed / f"{name}.error.json").read_text())
        assert sidecar["reason"] in want[name], sidecar
        assert name in sidecar["message"] and "\n" not in sidecar["message"], sidecar
        # (the event is logged just after the move: wait for it, don't race it)
        (ev,) = wait_for(lambda: events_for(d, name, "failed"), 10, what=f"{name}'s failed event")
        assert ev["reason"] == sidecar["reason"]
    assert "encrypted" in json.loads((d.failed / "locked.pdf.error.json").read_text())["message"]
    assert list(d.clean.iterdir()) == [] and list(d.archive.iterdir()) == []
    assert [p.name for p in d.inbox.iterdir()] == [".despeckled"]  # nothing left behind in the inbox
    assert d.stop() == 0
