"""PDF row of the benchmark: scanned PDFs in, cleaned PDFs out.

Builds its own input PDFs from synthetic A4 pages (``despeckled.testing.synth``), the
way office scanners write them, and runs the real ``process.clean_file`` on
each, in this process, timing the whole file (read + clean + write):

* ``pdf bilevel-g4``   - B/W scan mode: one CCITT G4 image per page;
* ``pdf gray-jpeg85``  - gray scan mode: one JPEG (quality 85) per page;
* ``pdf mrc``          - mixed raster content: 100 dpi JPEG background plus a
  300 dpi G4 text mask per page (rendered with PDFium, then cleaned).

Side by side, in the same run and on the same pages, the baseline is what a
PDF-unaware pipeline does: render every page with PDFium at 300 dpi, clean it
with the same engine and write the pages with Pillow's PDF writer.

Figures: ms per page (median of ``--repeat`` runs), input and output bytes
per page, and two checks against the targets: a cleaned bilevel A4 300-dpi
page is at most 60 KB, and never larger than the input page.

Usage::

    python benchmarks/bench_pdf.py [--pages 4] [--repeat 3] [--memory]

``--memory`` also cleans a 1-page and a 24-page PDF (G4 in binary mode, JPEG
in gray mode) in fresh subprocesses and prints the peak RSS of each:
streaming keeps them about equal.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pikepdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from despeckled import process  # noqa: E402
from despeckled.clean import CleanParams, clean_page  # noqa: E402
from despeckled.io.pdf_write import encode_g4  # noqa: E402
from despeckled.testing.synth import make_page  # noqa: E402

TARGET_BILEVEL_BYTES = 60_000


def _otsu(gray: np.ndarray) -> np.ndarray:
    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out


def _jpeg(gray: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def _image(pdf: pikepdf.Pdf, data: bytes, w: int, h: int, kind: str) -> pikepdf.Stream:
    if kind == "g4":
        return pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w,
                              Height=h, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=1,
                              Filter=pikepdf.Name.CCITTFaxDecode,
                              DecodeParms=pikepdf.Dictionary(K=-1, Columns=w, Rows=h))
    if kind == "mask":
        return pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w,
                              Height=h, ImageMask=True, BitsPerComponent=1, Filter=pikepdf.Name.CCITTFaxDecode,
                              DecodeParms=pikepdf.Dictionary(K=-1, Columns=w, Rows=h))
    return pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w, Height=h,
                          ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)


def build_pdf(path: Path, pages: list[np.ndarray], kind: str) -> Path:
    """One scan-style PDF of A4 pages; ``kind`` is g4, jpeg or mrc."""
    pdf = pikepdf.new()
    for gray in pages:
        h, w = gray.shape
        w_pt, h_pt = w * 72 / 300, h * 72 / 300
        xobjs = {}
        if kind == "g4":
            xobjs["Im0"] = _image(pdf, encode_g4(_otsu(gray) >= 128), w, h, "g4")
            content = f"q {w_pt} 0 0 {h_pt} 0 0 cm /Im0 Do Q"
        elif kind == "jpeg":
            xobjs["Im0"] = _image(pdf, _jpeg(gray, 85), w, h, "jpeg")
            content = f"q {w_pt} 0 0 {h_pt} 0 0 cm /Im0 Do Q"
        else:
            bg = cv2.resize(gray, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
            bg = np.maximum(bg, np.percentile(bg, 90)).astype(np.uint8)
            xobjs["Bg"] = _image(pdf, _jpeg(bg, 50), w // 3, h // 3, "jpeg")
            xobjs["Fg"] = _image(pdf, encode_g4(_otsu(gray) >= 128), w, h, "mask")
            content = f"q {w_pt} 0 0 {h_pt} 0 0 cm /Bg Do Q q 0 g {w_pt} 0 0 {h_pt} 0 0 cm /Fg Do Q"
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, w_pt, h_pt],
                                  Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(**xobjs)),
                                  Contents=pikepdf.Stream(pdf, content.encode()))
        pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path


def baseline(src: Path, out: Path, params: CleanParams) -> None:
    """Render each page at 300 dpi, clean, write with Pillow's PDF writer."""
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument(str(src))
    cleaned = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            arr = page.render(scale=300 / 72, grayscale=True).to_numpy()
            page.close()
            gray = np.array(arr[..., 0] if arr.ndim == 3 else arr)
            res = clean_page(gray, params, 300.0)
            im = Image.fromarray(res.image)
            cleaned.append(im.convert("1") if params.mode == "binary" else im)
    finally:
        doc.close()
    cleaned[0].save(out, "PDF", save_all=True, append_images=cleaned[1:], resolution=300.0)


def _timed_pair(a, b, repeat: int) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b``, run alternately so that load from
    other processes hits both alike."""
    ta, tb = [], []
    for _ in range(repeat):
        for fn, acc in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def real_bilevel_pages() -> list[tuple[str, np.ndarray]]:
    """The 1-bit 300-dpi full pages of the shared real scans, if present
    (read in memory only, never copied)."""
    from PIL import Image

    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "scans-nogt"
    out = []
    for name in ("feyn.tif", "boismort.1.tif", "rabi.png"):
        f = root / name
        if f.is_file():
            with Image.open(f) as im:
                if im.mode == "1" and min(im.size) > 2000:
                    out.append((name, np.asarray(im.convert("L"))))
    return out


def _page_bytes(path: Path) -> list[int]:
    """Bytes of the image streams of each page (what a page costs)."""
    with pikepdf.open(path) as pdf:
        out = []
        for page in pdf.pages:
            xo = page.obj.get("/Resources", {}).get("/XObject", {})
            out.append(sum(len(x.read_raw_bytes()) for _, x in xo.items()))
        return out


def _rss_child(pdf: Path, out_dir: Path, mode: str = "binary") -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork+exec, so a
    # child would report this (big) parent's peak
    code = (
        "import sys; from pathlib import Path; from despeckled import process; "
        "from despeckled.clean import CleanParams; "
        "process.clean_file(Path(sys.argv[1]), Path(sys.argv[2]), CleanParams(mode=sys.argv[3])); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    run = subprocess.run([sys.executable, "-c", code, str(pdf), str(out_dir), mode], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    return int(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=4, help="A4 300-dpi pages per input PDF")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per case (median reported)")
    ap.add_argument("--memory", action="store_true", help="also compare peak RSS of a 1-page and a 24-page PDF")
    args = ap.parse_args(argv)

    params = CleanParams()
    print(f"building {args.pages} synthetic A4 300-dpi pages...", file=sys.stderr)
    pages = [make_page(seed=100 + i, dpi=300, size="a4").noisy for i in range(args.pages)]
    work = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    rows = []
    real_in: list[int] = []
    real_out: list[int] = []
    worst: dict[str, int] = {}
    larger = []
    gray = CleanParams(mode="gray")
    cases = [("g4", "bilevel-g4", pages, params), ("jpeg", "gray-jpeg85", pages, params),
             ("mrc", "mrc", pages, params), ("jpeg", "gray-jpeg85 gray", pages, gray)]
    real = real_bilevel_pages()
    if real:
        print("real pages: " + ", ".join(name for name, _ in real), file=sys.stderr)
        cases.append(("g4", "real-bilevel-g4", [px for _, px in real], params))
    for kind, label, case_pages, case_params in cases:
        slug = label.replace(" ", "-")
        src = build_pdf(work / f"{slug}.pdf", case_pages, kind)
        in_pages = _page_bytes(src)
        n = len(in_pages)

        def ours(slug=slug, src=src, case_params=case_params):
            out = work / f"out-{slug}"
            out.mkdir(exist_ok=True)
            for f in out.iterdir():
                f.unlink()
            return process.clean_file(src, out, case_params)

        def theirs(slug=slug, src=src, case_params=case_params):
            baseline(src, work / f"base-{slug}.pdf.tmp", case_params)

        t_ours, t_base = _timed_pair(ours, theirs, args.repeat)
        out_path = work / f"out-{slug}" / src.name
        out_pages = _page_bytes(out_path)
        base_pages = _page_bytes(work / f"base-{slug}.pdf.tmp")
        if case_params.mode == "binary":
            worst[label] = max(out_pages)
        larger += [(label, i + 1, o, s) for i, (o, s) in enumerate(zip(out_pages, in_pages)) if o > s]
        if label.startswith("real"):
            real_in, real_out = in_pages, out_pages
        rows.append((f"pdf {label}", n, 1000 * t_ours / n, sum(in_pages) / n, sum(out_pages) / n,
                     1000 * t_base / n, sum(base_pages) / n, src.stat().st_size, out_path.stat().st_size))

    print(f"# PDF row: 300 dpi, {args.pages} synthetic A4 pages per file, median of {args.repeat} alternating runs; "
          f"baseline = render 300 dpi + same engine + Pillow PDF writer")
    head = ("case", "pages", "ms/page", "in B/page", "out B/page", "out/in", "base ms/page", "base B/page", "speedup")
    print(f"{head[0]:<24}{head[1]:>6}{head[2]:>10}{head[3]:>11}{head[4]:>12}{head[5]:>8}"
          f"{head[6]:>14}{head[7]:>13}{head[8]:>9}")
    for case, n, ms, b_in, b_out, b_ms, b_b, f_in, f_out in rows:
        print(f"{case:<24}{n:>6}{ms:>10.0f}{b_in:>11.0f}{b_out:>12.0f}{b_out / b_in:>8.2f}"
              f"{b_ms:>14.0f}{b_b:>13.0f}{b_ms / ms:>8.2f}x")
    floor = sum(len(encode_g4(make_page(seed=100 + i, dpi=300, size="a4").clean >= 128))
                for i in range(args.pages)) / args.pages
    print(f"reference: the synthetic pages' perfect ground truth costs {floor:.0f} B/page as G4 (the floor)")
    if real:
        print("real pages, in -> out bytes: " + ", ".join(
            f"{name} {a} -> {b}" for (name, _), a, b in zip(real, real_in, real_out)))
    ok_size = True
    for label, biggest in worst.items():
        ok = biggest <= TARGET_BILEVEL_BYTES
        ok_size &= ok
        print(f"target: cleaned bilevel 300-dpi page <= {TARGET_BILEVEL_BYTES // 1000} KB, {label}: "
              f"{'PASS' if ok else 'FAIL'} (largest page {biggest} B)")
    print(f"target: no page larger than its input page: {'PASS' if not larger else 'FAIL'}"
          + ("" if not larger else " " + ", ".join(f"{k} p{i}: {o} > {s}" for k, i, o, s in larger)))

    if args.memory:
        for kind, mode in (("g4", "binary"), ("jpeg", "gray")):
            one = build_pdf(work / f"one-{kind}.pdf", pages[:1], kind)
            many = build_pdf(work / f"many-{kind}.pdf", (pages * 24)[:24], kind)
            peaks = []
            for name, pdf in (("1", one), ("24", many)):
                out = work / f"rss-{kind}-{name}"
                out.mkdir(exist_ok=True)
                peaks.append(_rss_child(pdf, out, mode) / 1024)
            print(f"peak RSS, {kind} input, mode={mode}: 1 page {peaks[0]:.0f} MiB, 24 pages {peaks[1]:.0f} MiB")
    for p in sorted(work.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    work.rmdir()
    return 0 if ok_size and not larger else 1


if __name__ == "__main__":
    sys.exit(main())
