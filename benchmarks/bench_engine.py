#!/usr/bin/env python3
"""Do-no-harm benchmark of the cleaning engine (issue 10).

One command, one report::

    nice .venv/bin/python benchmarks/bench_engine.py                 # ~10 minutes
    nice .venv/bin/python benchmarks/bench_engine.py --quick         # ~3 minutes
    nice .venv/bin/python benchmarks/bench_engine.py --ocr --markdown --json out.json
    .venv/bin/python benchmarks/bench_engine.py --families office --pages 11 --no-real --no-speed  # tuning
    .venv/bin/python benchmarks/bench_engine.py --families office archive fax --dpi 150 600 --no-real --no-speed  # resolution sweep

What it measures, all in one run, engine in process (``clean_page`` with
the default profile and the page's DPI tag as the hint):

1. **Generated pages** (:mod:`despeckled.testing.pages`), N pages per family
   cycling through the family's page types (every type for the held-out
   family ``field``, whose column is labelled **held-out**; tune only on the
   others). Per family: content objects lost by kind -- an object is lost
   when fewer than half of its core pixels are ink in the output (see
   :mod:`despeckled.testing.pages.score`); the same for plain Otsu on the
   same pages, as a check that the generator draws what a threshold sees;
   small marks kept; specks 1-9 px and 10-59 px and dust 60-300 px (at 300
   dpi) removed, split by sharpness regime (``soft`` = blurred like the
   print, ``sharp`` = sharper), and specks in accent/period positions; text
   damage = content ink inside the engine's ``removed`` mask / content ink.
   Objects and specks of which less than 30% of their darkness survives the
   page's blur are not in the scan to keep or remove; they are left out and
   counted ("not scored").
   Then the held-out family's lost objects per page type.
2. **OCR** (``--ocr``; needs ``tesseract``: ``apt-get install tesseract-ocr``)
   on held-out prose pages at 300 dpi: (CER - CER_clean) / (CER_raw -
   CER_clean), raw = Otsu of the scan, clean = the page's clean ink.
3. **Real pages** in ``../shared/data``: mean F-measure and DRD on
   ``dibco-printed``, ``noisyoffice`` (its clean pages are gray: Otsu'd to
   score) and ``hdibco2016``, with Otsu's beside; for ``receipts`` and
   ``scans-nogt`` (no ground truth) an overlay per page in ``--overlays``
   (removed ink red, kept small marks green) and the count of removed
   components big enough to be content: >= 25 px at 300 dpi, scaled by the
   square of the page's estimated scale (the engine's measured x-height
   over a 300-dpi body x-height of 21 px, else the DPI tag).
4. **Speed**: the clean step on an A4 300-dpi held-out prose page, one
   OpenCV thread, in process, best of R interleaved with the vectorised
   classic recipe of ``bench_clean.py`` (Otsu, median 3, drop components <
   45 px); CPU time judged (wall time beside it), since the machine is shared.

Targets (issue 10) are printed with PASS/FAIL at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402

from despeckled.clean import CleanParams, clean_page  # noqa: E402
from despeckled.clean.overlay import removed_overlay, to_gray8  # noqa: E402
from despeckled.testing.pages import FAMILIES, HELD_OUT, KINDS, MUST_KEEP, PAGE_TYPES, SMALL_MARKS, make_page  # noqa: E402
from despeckled.testing.pages.noise import CLASS_NAMES  # noqa: E402
from despeckled.testing.pages.score import lost_objects, pool, score_page  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PARAMS = CleanParams()
SIZES = {"a5": (148.0, 210.0), "a4": (210.0, 297.0), "a6": (105.0, 148.0)}
CONTENT_PX_300 = 25
BODY_XH_300 = 21.0
KI = {k: i for i, k in enumerate(KINDS)}


def engine(pixels: np.ndarray, dpi: float | None, *, geometry: bool = False):
    """The engine as configured. Pages scored against ground truth are cleaned
    with ``deskew`` off: the truth is drawn in the scan's own geometry, so a
    straightened page would be scored as misaligned, not as badly cleaned
    (``benchmarks/bench_geometry.py`` measures the rotation itself)."""
    params = PARAMS if geometry else PARAMS.model_copy(update={"deskew": False})
    return clean_page(pixels, params, dpi=dpi)


# --------------------------------------------------------------------------
# 1. generated pages


def debug_picture(page, res) -> np.ndarray:
    """For tuning: the ``--show-removed`` overlay, plus every lost content
    object (halftone dots aside) ringed blue and every visible speck or dust
    clump left on the page ringed magenta."""
    img = removed_overlay(page.image, res.removed, res.kept_small)
    out_ink = res.image == 0
    lost = lost_objects(page, out_ink) & page.visible & (page.kinds != KI["halftone_dot"])
    sp = page.specks
    left = np.bincount(sp.labels[out_ink], minlength=len(sp.area))
    stay = (left >= np.maximum(1, np.ceil(0.25 * sp.area))) & sp.visible
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    for mask, rgb in ((stay[sp.labels], (220, 0, 220)), (lost[page.labels], (0, 0, 255))):
        m = mask.view(np.uint8)
        ring = (cv2.dilate(m, k) > 0) & ~mask
        img[ring] = rgb
    return img


def bench_family(name: str, n_pages: int, size_mm, seed0: int, only: list[str] | None = None,
                 debug: Path | None = None, dpis: list[float] | None = None) -> dict:
    fam = FAMILIES[name]
    types = [t for t in fam.page_types() if not only or t in only] or list(only or [])
    rows, otsu_rows, by_type, ms = [], [], {}, []
    for i in range(n_pages):
        t = types[i % len(types)]
        page = make_page(name, seed0 + i, page_type=t, size_mm=size_mm, dpi=dpis[i % len(dpis)] if dpis else None)
        t0 = time.perf_counter()
        res = engine(page.image, page.dpi_tag)
        ms.append(1000 * (time.perf_counter() - t0))
        s = score_page(page, res.image, res.removed)
        rows.append(s)
        by_type.setdefault(t, []).append(s)
        otsu_rows.append(score_page(page, scoring.otsu(to_gray8(page.image))))
        lost = {KINDS[k]: int(v) for k, v in enumerate(s["kind_lost"]) if v and KINDS[k] in MUST_KEEP}
        print(f"  {name} #{i} {t} {page.dpi:.0f} dpi: {ms[-1]:.0f} ms, lost {lost or 'nothing'}", file=sys.stderr)
        if debug is not None and name != HELD_OUT:
            debug.mkdir(parents=True, exist_ok=True)
            Image.fromarray(debug_picture(page, res)).save(debug / f"{name}-{i:02d}-{t}.png", compress_level=1)
        del page, res
    return {"all": pool(rows), "otsu": pool(otsu_rows), "by_type": {t: pool(r) for t, r in by_type.items()},
            "ms_mean": float(np.mean(ms))}


def pct(a, b) -> float:
    return 100.0 * float(a) / float(b) if b else float("nan")


def family_figures(r: dict) -> dict:
    """Percentages and counts from one family's pooled counts."""
    a, o = r["all"], r["otsu"]
    f: dict = {"pages": a["pages"]}
    for k in MUST_KEEP + ("note", "signature", "rule"):
        f[f"lost_{k}"] = (int(a["kind_lost"][KI[k]]), int(a["kind_n"][KI[k]]))
    f["otsu_lost_must_keep"] = int(sum(o["kind_lost"][KI[k]] for k in MUST_KEEP))
    sm = [KI[k] for k in SMALL_MARKS]
    f["otsu_small_kept"] = pct(o["kind_n"][sm].sum() - o["kind_lost"][sm].sum(), o["kind_n"][sm].sum())
    f["hidden"] = (a["hidden_objects"], a["hidden_specks"])
    f["small_kept"] = pct(a["kind_n"][sm].sum() - a["kind_lost"][sm].sum(), a["kind_n"][sm].sum())
    f["small_n"] = int(a["kind_n"][sm].sum())
    for k in SMALL_MARKS + ("other_mark", "halftone_dot"):
        f[f"kept_{k}"] = pct(a["kind_n"][KI[k]] - a["kind_lost"][KI[k]], a["kind_n"][KI[k]])
    for ci, c in enumerate(CLASS_NAMES):
        for ri, reg in enumerate(("soft", "sharp")):
            f[f"{c}_{reg}"] = pct(a["speck_removed"][ci, ri], a["speck_n"][ci, ri])
            f[f"{c}_{reg}_n"] = int(a["speck_n"][ci, ri])
    for pi, p in enumerate(("free", "accent", "period")):
        f[f"spot_{p}"] = pct(a["spot_removed"][pi], a["spot_n"][pi])
    f["damage"] = pct(a["damage_px"], a["content_px"])
    f["ms_mean"] = r["ms_mean"]
    f["by_type"] = {t: {k: int(v["kind_lost"][KI[k]]) for k in MUST_KEEP} for t, v in r["by_type"].items()}
    return f


# --------------------------------------------------------------------------
# 2. OCR


def ocr(path: Path) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    r = subprocess.run(["tesseract", str(path), "stdout", "-l", "eng", "--psm", "3"],
                       capture_output=True, text=True, env=env, timeout=300)
    return r.stdout


def bench_ocr(n_pages: int, size_mm, tmp: Path) -> dict:
    jobs = []
    for i in range(n_pages):
        page = make_page(HELD_OUT, 5000 + i, page_type="prose", size_mm=size_mm, dpi=300)
        outs = {"clean": page.clean, "raw": scoring.otsu(to_gray8(page.image)),
                "engine": engine(page.image, page.dpi_tag).image}
        for cond, img in outs.items():
            p = tmp / f"ocr-{i}-{cond}.png"
            Image.fromarray(img).save(p, dpi=(300, 300), compress_level=1)
            jobs.append((cond, p, page.text))
    with ThreadPoolExecutor(max_workers=2) as ex:
        texts = list(ex.map(lambda j: ocr(j[1]), jobs))
    dist: dict = {}
    length: dict = {}
    for (cond, _p, ref), hyp in zip(jobs, texts):
        a, b = scoring.normalise_text(ref), scoring.normalise_text(hyp)
        dist[cond] = dist.get(cond, 0) + scoring.levenshtein(a, b)
        length[cond] = length.get(cond, 0) + len(a)
    cer = {c: dist[c] / max(1, length[c]) for c in dist}
    span = cer["raw"] - cer["clean"]
    return {"pages": n_pages, "cer": cer, "ratio": (cer["engine"] - cer["clean"]) / span if span > 0 else float("nan")}


# --------------------------------------------------------------------------
# 3. real pages


def read_page(path: Path) -> tuple[np.ndarray, float | None]:
    with Image.open(path) as im:
        dpi = im.info.get("dpi")
        if im.mode in ("1", "LA") or im.mode.startswith("I"):
            im = im.convert("L")
        elif im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        arr = np.asarray(im).copy()
    d = float(dpi[0]) if dpi and float(dpi[0]) > 1 else None
    return arr, d


def bench_scored(name: str) -> dict | None:
    noisy, clean = DATA / name / "noisy", DATA / name / "clean"
    if not noisy.is_dir():
        return None
    per = {"engine": [], "otsu": []}
    for p in sorted(noisy.iterdir()):
        gts = [q for q in clean.glob(p.stem + ".*")] if clean.is_dir() else []
        if not gts:
            continue
        pixels, dpi = read_page(p)
        gt_gray = to_gray8(read_page(gts[0])[0])
        gt_ink = scoring.otsu(gt_gray) == 0 if name == "noisyoffice" else gt_gray < 128
        outs = {"engine": engine(pixels, dpi).image, "otsu": scoring.otsu(to_gray8(pixels))}
        for m, out in outs.items():
            if out.shape != gt_ink.shape:
                break
            per[m].append(scoring.dibco_scores(gt_ink, out == 0))
    if not per["engine"]:
        return None
    return {"pages": len(per["engine"]),
            "mean": {m: {k: float(np.mean([r[k] for r in rows])) for k in ("fmeasure", "drd")} for m, rows in per.items()}}


def bench_unscored(name: str, out_dir: Path | None) -> dict | None:
    folder = DATA / name
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff"))
    pages = []
    for p in files:
        pixels, dpi = read_page(p)
        res = engine(pixels, dpi)
        xh = float(res.stats.get("x_height_px") or 0.0)
        scale = xh / BODY_XH_300 if xh > 0 else (dpi or 300.0) / 300.0
        scale = float(np.clip(scale, 0.3, 4.0))
        min_px = CONTENT_PX_300 * scale * scale
        n, _, st, _ = cv2.connectedComponentsWithStats(res.removed.view(np.uint8), connectivity=8)
        big = int(np.count_nonzero(st[1:, cv2.CC_STAT_AREA] >= min_px))
        pages.append({"file": p.name, "removed_components": n - 1, "content_sized": big, "min_px": round(min_px, 1),
                      "x_height_px": xh})
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(removed_overlay(pixels, res.removed, res.kept_small)).save(
                out_dir / f"{name}-{p.stem}.png", compress_level=1)
        print(f"  {name}/{p.name}: {n - 1} removed, {big} >= {min_px:.0f} px", file=sys.stderr)
    return {"pages": len(pages), "content_sized": sum(q["content_sized"] for q in pages), "per_page": pages}


# --------------------------------------------------------------------------
# 4. speed


def bench_speed(repeats: int) -> dict:
    """Best of ``repeats``, interleaved, of the engine and the classic recipe
    on one A4 300-dpi page with one OpenCV thread: wall time and this
    process's CPU time (the CPU figure is what a shared, busy machine
    disturbs least)."""
    page = make_page(HELD_OUT, 77, page_type="prose", size_mm=SIZES["a4"], dpi=300)
    gray = to_gray8(page.image)
    old = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        engine(gray, 300.0, geometry=True)
        fns = {"engine": lambda: engine(gray, 300.0, geometry=True), "classic": lambda: scoring.classic_vectorised(gray, 45)}
        wall = dict.fromkeys(fns, float("inf"))
        cpu = dict.fromkeys(fns, float("inf"))
        for _ in range(repeats):
            for k, fn in fns.items():
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                cpu[k] = min(cpu[k], time.process_time() - c0)
                wall[k] = min(wall[k], time.perf_counter() - t0)
    finally:
        cv2.setNumThreads(old)
    return {"engine_ms": 1000 * wall["engine"], "classic_ms": 1000 * wall["classic"],
            "engine_cpu_ms": 1000 * cpu["engine"], "classic_cpu_ms": 1000 * cpu["classic"], "repeats": repeats}


# --------------------------------------------------------------------------
# tables


def render(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    w = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r))  # noqa: E731
    return "\n".join([line(header), line(["-" * x for x in w])] + [line(r) for r in rows])


def _p(v, nd=1) -> str:
    return "n/a" if v is None or v != v else f"{v:.{nd}f}%"


def family_table(figs: dict, markdown: bool) -> str:
    names = list(figs)
    header = ["generated pages"] + [f"{n} (held-out)" if n == HELD_OUT else f"{n} (tuning)" for n in names]
    rows = [["pages"] + [str(figs[n]["pages"]) for n in names]]
    for k, label in (("glyph", "glyphs lost"), ("digit", "digits lost"), ("one_letter", "one-letter words lost"),
                     ("code_module", "code modules lost"), ("reverse_counter", "reverse-text counters lost"),
                     ("note", "note heads/clefs lost"), ("signature", "signature pieces lost"), ("rule", "rules lost")):
        rows.append([label] + [f"{figs[n]['lost_' + k][0]} / {figs[n]['lost_' + k][1]}" for n in names])
    rows.append(["  (Otsu, same pages: must-keep objects lost)"] + [str(figs[n]["otsu_lost_must_keep"]) for n in names])
    rows.append(["small marks kept"] + [f"{_p(figs[n]['small_kept'], 2)} of {figs[n]['small_n']}" for n in names])
    rows.append(["  (Otsu, same pages: small marks kept)"] + [_p(figs[n]["otsu_small_kept"], 2) for n in names])
    for k in SMALL_MARKS + ("other_mark", "halftone_dot"):
        rows.append([f"  {k.replace('_', ' ')}s kept"] + [_p(figs[n][f"kept_{k}"]) for n in names])
    for c, label in (("small", "specks 1-9 px removed"), ("medium", "specks 10-59 px removed"), ("dust", "dust 60-300 px removed")):
        for reg in ("soft", "sharp"):
            rows.append([f"{label}, {reg}"] + [f"{_p(figs[n][f'{c}_{reg}'])} of {figs[n][f'{c}_{reg}_n']}" for n in names])
    for p in ("accent", "period"):
        rows.append([f"  specks <60 px in {p} positions removed"] + [_p(figs[n][f"spot_{p}"]) for n in names])
    rows.append(["text damage (content ink removed)"] + [_p(figs[n]["damage"], 3) for n in names])
    rows.append(["not scored: objects / specks under 30% contrast after blur"] + [f"{figs[n]['hidden'][0]} / {figs[n]['hidden'][1]}" for n in names])
    rows.append(["clean step, mean ms/page (sizes vary)"] + [f"{figs[n]['ms_mean']:.0f}" for n in names])
    return render(header, rows, markdown)


def type_table(fig: dict, markdown: bool) -> str:
    header = [f"{HELD_OUT} (held-out): lost by page type"] + [k.replace("_", " ") for k in MUST_KEEP]
    rows = [[t] + [str(v[k]) for k in MUST_KEEP] for t, v in sorted(fig["by_type"].items())]
    return render(header, rows, markdown)


def targets(res: dict) -> list[list[str]]:
    rows = []

    def add(what, value, target, ok):
        rows.append([what, value, target, "n/a" if ok is None else ("PASS" if ok else "FAIL")])

    h = res["families"].get(HELD_OUT)
    if h:
        worst = {k: max(v[k] for v in h["by_type"].values()) for k in MUST_KEEP}
        tot = sum(h[f"lost_{k}"][0] for k in MUST_KEEP)
        add("glyphs, digits, 1-letter words, code modules, reverse counters lost (held-out)", str(tot),
            "0 on every page type", tot == 0 and not any(worst.values()))
        add("small marks kept (held-out)", _p(h["small_kept"], 2), ">= 99.7%", h["small_kept"] >= 99.7)
        for c, lim in (("small", 99.0), ("medium", 95.0), ("dust", 90.0)):
            lo = min(h[f"{c}_soft"], h[f"{c}_sharp"])
            add(f"{ {'small': 'specks 1-9 px', 'medium': 'specks 10-59 px', 'dust': 'dust 60-300 px'}[c]} removed, "
                "worse regime (held-out)", f"soft {_p(h[f'{c}_soft'])}, sharp {_p(h[f'{c}_sharp'])}", f">= {lim:g}%", lo >= lim)
        add("text damage (held-out)", _p(h["damage"], 3), "<= 0.2%", h["damage"] <= 0.2)
    o = res.get("ocr")
    add("OCR (CER-clean)/(raw-clean), held-out prose", f"{o['ratio']:.3f}" if o else "not run (--ocr)", "<= 0.08",
        (o["ratio"] <= 0.08) if o else None)
    for name, lim in (("dibco-printed", 0.91), ("noisyoffice", 0.94), ("hdibco2016", None)):
        r = res["real"].get(name)
        if r:
            e, ot = r["mean"]["engine"], r["mean"]["otsu"]
            add(f"mean F on {name} ({r['pages']} pages; DRD {e['drd']:.2f}, Otsu F {ot['fmeasure']:.4f} DRD {ot['drd']:.2f})",
                f"{e['fmeasure']:.4f}", f">= {lim}" if lim else "> Otsu", e["fmeasure"] >= lim if lim else e["fmeasure"] > ot["fmeasure"])
    for name in ("receipts", "scans-nogt"):
        r = res["real"].get(name)
        if r:
            add(f"{name}: removed components big enough to be content ({r['pages']} pages; review the overlays)",
                str(r["content_sized"]), "0 content removed", r["content_sized"] == 0)
    sp = res.get("speed")
    if sp:
        add(f"clean step, A4 300 dpi, 1 core, CPU time (wall {sp['engine_ms']:.0f} ms; classic vectorised "
            f"{sp['classic_cpu_ms']:.0f} ms CPU, {sp['classic_ms']:.0f} ms wall; engine/classic "
            f"{sp['engine_cpu_ms'] / sp['classic_cpu_ms']:.2f})", f"{sp['engine_cpu_ms']:.0f} ms", "<= 80 ms",
            sp["engine_cpu_ms"] <= 80)
    return rows


# --------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    ap.add_argument("--pages", type=int, default=11, help="pages per tuning family (cycling its page types)")
    ap.add_argument("--held-out-pages", type=int, default=22, help="pages of the held-out family (2 per page type)")
    ap.add_argument("--types", nargs="+", choices=sorted(PAGE_TYPES), help="only these page types")
    ap.add_argument("--size", choices=list(SIZES), default="a5", help="generated page size")
    ap.add_argument("--dpi", type=float, nargs="+", default=None, metavar="DPI",
                    help="draw the pages at these resolutions in turn instead of each family's own (a sweep: "
                         "a family's fonts and noise at resolutions it never draws)")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="fewer pages, 3 speed repeats")
    ap.add_argument("--ocr", action="store_true", help="OCR held-out prose pages with tesseract")
    ap.add_argument("--ocr-pages", type=int, default=4)
    ap.add_argument("--no-real", action="store_true", help="skip ../shared/data")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--overlays", type=Path, default=None, help="write receipts/scans-nogt overlays here")
    ap.add_argument("--debug", type=Path, default=None,
                    help="write a picture per tuning-family page (lost content blue, specks left magenta); "
                         "never for the held-out family")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override a cleaning setting, as `despeckled clean --set` (repeatable)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", type=Path)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.sets:
        global PARAMS
        from despeckled.commands.clean import parse_set
        PARAMS = CleanParams(**parse_set(args.sets))
    if args.quick:
        args.pages, args.held_out_pages, args.repeats = min(args.pages, 6), min(args.held_out_pages, 11), 3
    t_start = time.perf_counter()
    res: dict = {"families": {}, "real": {}}
    for name in args.families:
        n = args.held_out_pages if name == HELD_OUT else args.pages
        print(f"family {name}{' (held-out)' if name == HELD_OUT else ''}: {n} pages ...", file=sys.stderr)
        res["families"][name] = family_figures(bench_family(name, n, SIZES[args.size], args.seed, args.types, args.debug,
                                                                args.dpi))
    if args.ocr:
        if shutil.which("tesseract"):
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                print("OCR ...", file=sys.stderr)
                res["ocr"] = bench_ocr(args.ocr_pages, SIZES[args.size], Path(tmp))
        else:
            print("OCR skipped: tesseract not found (apt-get install tesseract-ocr)", file=sys.stderr)
    if not args.no_real:
        for name in ("dibco-printed", "noisyoffice", "hdibco2016"):
            print(f"real pages {name} ...", file=sys.stderr)
            r = bench_scored(name)
            if r:
                res["real"][name] = r
        for name in ("receipts", "scans-nogt"):
            print(f"real pages {name} ...", file=sys.stderr)
            r = bench_unscored(name, args.overlays)
            if r:
                res["real"][name] = r
    if not args.no_speed:
        print("speed ...", file=sys.stderr)
        res["speed"] = bench_speed(args.repeats)
    md = args.markdown
    print(family_table(res["families"], md))
    if HELD_OUT in res["families"]:
        print()
        print(type_table(res["families"][HELD_OUT], md))
    if res.get("ocr"):
        c = res["ocr"]["cer"]
        print(f"\nOCR CER on {res['ocr']['pages']} held-out prose pages: clean {100 * c['clean']:.2f}%, "
              f"raw (Otsu) {100 * c['raw']:.2f}%, engine {100 * c['engine']:.2f}%")
    for name in ("receipts", "scans-nogt"):
        r = res["real"].get(name)
        if r:
            print(f"\n{name}: " + ", ".join(f"{q['file']} {q['content_sized']}/{q['removed_components']}" for q in r["per_page"])
                  + "  (content-sized removed / all removed components)")
    print()
    print(render(["target (issue 10)", "measured", "target", ""], targets(res), md))
    load = os.getloadavg()[0]
    print(f"\n({time.perf_counter() - t_start:.0f} s; {os.cpu_count()} cores, load {load:.1f}; pages {args.size}, "
          f"seeds from {args.seed}; {'with ' + ' '.join(args.sets) if args.sets else 'default profile'}"
          f"{'; drawn at ' + ', '.join(f'{d:g}' for d in args.dpi) + ' dpi' if args.dpi else ''})")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
