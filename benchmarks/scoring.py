"""Scores for the cleaning benchmark: all vectorised over label maps.

Synthetic pages (ground truth from :mod:`despeckled.testing.synth`):

* a speck or dust clump *survives* when at least a quarter of its pixels
  (and at least one) are still ink in the output; otherwise it was removed;
* a small text mark is *kept* when at least half of its pixels are still ink;
* text damage is clean ink lost: FN / clean ink;
* pixel F-measure against the clean page.

Real pages (DIBCO): F-measure, PSNR with MSE = (FP + FN) / (W * H) and C = 1,
and DRD (Lu, Kot & Shi 2004, as used by DIBCO 2009-2017): each flipped pixel
costs the 5x5 inverse-distance-weighted (normalised) count of ground-truth
neighbours that differ from the output value there; the sum is divided by
NUBN, the number of complete 8x8 ground-truth blocks that hold both ink and
paper. Neighbours outside the image count for nothing.
"""

from __future__ import annotations

import re
import unicodedata

import cv2
import numpy as np


# --------------------------------------------------------------------------
# classic recipes (the baselines)


def otsu(gray: np.ndarray) -> np.ndarray:
    """Plain global Otsu; returns uint8 0 = ink, 255 = paper."""
    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out


def classic_vectorised(gray: np.ndarray, min_area: int) -> np.ndarray:
    """Otsu, median blur 3, drop components smaller than ``min_area`` px:
    the textbook recipe, with a lookup table over labels."""
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = cv2.medianBlur(ink, 3)
    n, labels, st, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = st[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return np.where(keep[labels], 0, 255).astype(np.uint8)


def classic_loop(gray: np.ndarray, min_area: int, max_labels: int | None = None) -> tuple[np.ndarray, int, int]:
    """The same recipe written the way it usually is, one label at a time.

    Returns (image, labels visited, labels it would visit). With
    ``max_labels`` it stops early so a caller can time part and extrapolate.
    """
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = cv2.medianBlur(ink, 3)
    n, labels, st, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    img = 255 - ink
    small = [i for i in range(1, n) if st[i, cv2.CC_STAT_AREA] < min_area]
    todo = small if max_labels is None else small[:max_labels]
    for i in todo:
        img[labels == i] = 255
    return img, len(todo), len(small)


# --------------------------------------------------------------------------
# synthetic pages


def _survivors(labels: np.ndarray, areas: np.ndarray, out_ink: np.ndarray, frac: float) -> np.ndarray:
    """Per-label bool (index 0 unused): at least ``frac`` of the pixels and at
    least one pixel are still ink."""
    left = np.bincount(labels[out_ink], minlength=len(areas))
    return (left >= np.maximum(1, np.ceil(frac * areas))) & (areas > 0)


def score_synth(page, out: np.ndarray) -> dict:
    """Counts for one synthetic page and one output (uint8, 0 = ink).

    Returns raw counts (so pages pool by summing), keys:
    ``speck_{band}_{n,removed}`` for bands ``1_9``, ``10_59`` (far and near,
    not touching), ``near_{n,removed}``, ``touch_{n,removed}``,
    ``dust_{n,removed}``, ``small_{n,kept}`` (text marks), ``halftone_{n,kept}``,
    ``ink``, ``tp``, ``fp``, ``fn``.
    """
    out_ink = out == 0
    ink = page.ink
    r = {}
    surv = _survivors(page.speck_labels, page.speck_area, out_ink, 0.25)[1:]
    a300 = page.speck_area300[1:]
    kind = page.speck_kind[1:]
    not_touch = kind != 2
    for name, lo, hi in (("1_9", 0, 10), ("10_59", 10, 60)):
        sel = not_touch & (a300 >= lo) & (a300 < hi)
        r[f"speck_{name}_n"] = int(sel.sum())
        r[f"speck_{name}_removed"] = int((sel & ~surv).sum())
    for name, k in (("near", 1), ("touch", 2)):
        sel = kind == k
        r[f"{name}_n"] = int(sel.sum())
        r[f"{name}_removed"] = int((sel & ~surv).sum())
    # specks in a line's neighbourhood but not next to a glyph: 6.5-15 px at 300 dpi
    gap300 = page.speck_gap[1:] / page.scale
    sel = (kind == 0) & (gap300 <= 15)
    r["mid_n"] = int(sel.sum())
    r["mid_removed"] = int((sel & ~surv).sum())
    dsurv = _survivors(page.dust_labels, page.dust_area, out_ink, 0.25)[1:]
    r["dust_n"] = page.n_dust
    r["dust_removed"] = int((~dsurv).sum())
    kept = _survivors(page.small_labels, page.small_area, out_ink, 0.5)[1:]
    ht = page.small_halftone[1:]
    r["small_n"] = int((~ht).sum())
    r["small_kept"] = int((kept & ~ht).sum())
    r["halftone_n"] = int(ht.sum())
    r["halftone_kept"] = int((kept & ht).sum())
    tp = int(np.count_nonzero(ink & out_ink))
    r["ink"] = int(np.count_nonzero(ink))
    r["tp"] = tp
    r["fp"] = int(np.count_nonzero(out_ink)) - tp
    r["fn"] = r["ink"] - tp
    return r


def pool(rows: list[dict]) -> dict:
    """Sum count dicts and derive percentages."""
    t: dict = {}
    for r in rows:
        for k, v in r.items():
            t[k] = t.get(k, 0) + v
    pct = lambda a, b: 100.0 * t[a] / t[b] if t.get(b) else float("nan")  # noqa: E731
    p = t["tp"] / max(1, t["tp"] + t["fp"])
    rc = t["tp"] / max(1, t["tp"] + t["fn"])
    return {
        "speck_1_9": pct("speck_1_9_removed", "speck_1_9_n"),
        "speck_10_59": pct("speck_10_59_removed", "speck_10_59_n"),
        "near": pct("near_removed", "near_n"),
        "mid": pct("mid_removed", "mid_n"),
        "touch": pct("touch_removed", "touch_n"),
        "dust": pct("dust_removed", "dust_n"),
        "small_kept": pct("small_kept", "small_n"),
        "halftone_kept": pct("halftone_kept", "halftone_n"),
        "damage": pct("fn", "ink"),
        "fmeasure": 2 * p * rc / max(1e-12, p + rc),
        "counts": t,
    }


# --------------------------------------------------------------------------
# real pages (DIBCO)

_W = None


def _drd_weights() -> np.ndarray:
    global _W
    if _W is None:
        i = np.arange(5) - 2
        d = np.hypot(i[:, None], i[None, :])
        w = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
        _W = (w / w.sum()).astype(np.float64)
    return _W


def dibco_scores(gt_ink: np.ndarray, out_ink: np.ndarray) -> dict:
    """F-measure, PSNR and DRD of a binarisation (bool masks, True = ink).

    >>> gt = np.zeros((24, 24), bool); gt[4:12, 6:9] = True
    >>> s = dibco_scores(gt, gt.copy())
    >>> s["fmeasure"], s["drd"]
    (1.0, 0.0)
    >>> out = gt.copy(); out[18, 18] = True        # one isolated false pixel
    >>> dibco_scores(gt, out)["drd"]              # cost 1 (all neighbours paper) / 4 NUBN
    0.25
    """
    gt_ink = gt_ink.astype(bool)
    out_ink = out_ink.astype(bool)
    tp = np.count_nonzero(gt_ink & out_ink)
    fp = np.count_nonzero(out_ink) - tp
    fn = np.count_nonzero(gt_ink) - tp
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    f = 2 * p * r / (p + r) if p + r else 0.0
    h, w = gt_ink.shape
    mse = (fp + fn) / (h * w)
    psnr = 10 * np.log10(1.0 / mse) if mse else float("inf")
    # DRD: weighted sum over the 5x5 GT neighbourhood of |GT - out| at flipped pixels
    W = _drd_weights()
    g = gt_ink.astype(np.float64)
    a = cv2.filter2D(g, -1, W, borderType=cv2.BORDER_CONSTANT)  # weight of GT ink around each pixel
    s = cv2.filter2D(np.ones_like(g), -1, W, borderType=cv2.BORDER_CONSTANT)  # in-image weight
    flipped = gt_ink != out_ink
    cost = np.where(out_ink, s - a, a)  # out ink: GT paper neighbours differ; out paper: GT ink ones
    total = float(cost[flipped].sum())
    hb, wb = h // 8 * 8, w // 8 * 8
    blocks = gt_ink[:hb, :wb].reshape(hb // 8, 8, wb // 8, 8).sum(axis=(1, 3))
    nubn = int(np.count_nonzero((blocks > 0) & (blocks < 64)))
    drd = total / nubn if nubn else 0.0
    return {"fmeasure": float(f), "psnr": float(psnr), "drd": float(drd)}


def isolated_specks_per_mpx(out_ink: np.ndarray, max_area: int = 4, min_gap: float = 6.0) -> float:
    """Components of at most ``max_area`` px with no larger ink within
    ``min_gap`` px, per megapixel."""
    n, labels, st, _ = cv2.connectedComponentsWithStats(out_ink.astype(np.uint8), connectivity=8)
    small = st[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False
    big = out_ink & ~small[labels]
    dist = cv2.distanceTransform((~big).astype(np.uint8), cv2.DIST_L2, 3)
    on = small[labels]
    lab = labels[on]
    mind = np.full(n, np.inf, np.float32)
    np.minimum.at(mind, lab, dist[on])
    iso = small & (mind > min_gap)
    return float(iso.sum()) / (out_ink.size / 1e6)


# --------------------------------------------------------------------------
# OCR text comparison

_LEADERS = re.compile(r"(?:\s*[.\u2026·]){3,}")
_SPACE = re.compile(r"\s+")


def normalise_text(s: str) -> str:
    """Fold what OCR can't be blamed for: quote styles, dot leaders, spacing,
    and accents (tesseract's ``eng`` model reads "Málaga" as "Malaga" on the
    clean page too; lost diacritics are scored as small marks instead)."""
    s = s.replace("Ø", "O").replace("ø", "o").replace("Ł", "L").replace("ł", "l")
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    s = s.replace("\u2014", "-").replace("\u2013", "-")
    s = _LEADERS.sub(" ", s)
    return _SPACE.sub(" ", s).strip()


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row per character of ``a``.

    The in-row insertion chain is resolved with a running minimum:
    ``row[j] = min_k<=j (tmp[k] + j - k)``.

    >>> levenshtein("kitten", "sitting"), levenshtein("", "abc"), levenshtein("same", "same")
    (3, 3, 0)
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    bb = np.frombuffer(b.encode("utf-32-le"), np.uint32)
    idx = np.arange(len(b) + 1, dtype=np.int64)
    prev = idx.copy()
    aa = np.frombuffer(a.encode("utf-32-le"), np.uint32)
    for i in range(1, len(aa) + 1):
        tmp = np.empty_like(prev)
        tmp[0] = i
        tmp[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (bb != aa[i - 1]))
        prev = np.minimum.accumulate(tmp - idx) + idx
    return int(prev[-1])
