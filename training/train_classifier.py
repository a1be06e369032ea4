#!/usr/bin/env python3
"""Train the keep/remove model shipped as ``despeckled/clean/model/trees.npz``.

Deterministic: the pages come from the page generator
(:mod:`despeckled.testing.pages`) with fixed seeds, **training families only**
(``TRAINING``; the held-out family is never read here), and the trees are
fitted single-threaded with a fixed random state. Needs the ``train`` extra::

    .venv/bin/pip install -e '.[train]'
    OMP_NUM_THREADS=1 nice .venv/bin/python training/train_classifier.py          # ~1-2 min, rewrites the shipped model
    OMP_NUM_THREADS=1 nice .venv/bin/python training/train_classifier.py --pages 2 --out /tmp/t.npz   # a smoke run

Labels come from the generator's ground truth: a component with (almost)
no pixel on content ink, grown by one pixel, is a speck or dust (remove);
any other is content (keep). Content rows weigh :data:`CONTENT_WEIGHT` times
a speck's, :data:`PRECIOUS_WEIGHT` for glyphs, digits, code modules,
counters and small marks: a lost mark costs more than a speck left.

Pages of every training family are split by seed into a fit set and a
check set; the script prints, on the check set, how many content
components and specks each threshold would remove, for the cascade beside:
first the deciders' own verdicts, then what is left of them after the hard
guards (:mod:`despeckled.clean.guards`), which veto removals whichever
decider made them -- the second table is what ``clean_page`` removes, and
the one to choose ``model_threshold`` by. ("Content" there counts every
component with ink on content, crumbs of a broken colon included; most of
what the model removes of it the cascade removes too.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from despeckled.clean.components import label_components  # noqa: E402
from despeckled.clean.features import FEATURES, candidates, feature_matrix  # noqa: E402
from despeckled.clean.gray import to_gray  # noqa: E402
from despeckled.clean.marks import marks_of  # noqa: E402
from despeckled.clean.params import CleanParams  # noqa: E402
from despeckled.clean.pipeline import _read_levels  # noqa: E402
from despeckled.clean.reduce import analysis_reduction, max_pool  # noqa: E402
from despeckled.clean.rules import classify, is_removal  # noqa: E402
from despeckled.clean.scale import estimate_scale, plausible_dpi  # noqa: E402
from despeckled.clean.threshold import binarize  # noqa: E402
from despeckled.testing.pages import FAMILIES, HELD_OUT, KINDS, MUST_KEEP, SMALL_MARKS, TRAINING, make_page  # noqa: E402

OUT = ROOT / "despeckled" / "clean" / "model" / "trees.npz"
#: A content component weighs this many specks; one of the kinds nothing may
#: be lost of (glyphs, digits, code modules, counters) or a small mark
#: (periods, accents, staccato dots: what a speck is most easily taken
#: for), this many.
CONTENT_WEIGHT = 4.0
PRECIOUS_WEIGHT = 10.0
#: At most this fraction of a "speck" component may touch content.
SPECK_MAX_CONTENT = 0.02
#: Every k-th page is read as a 1-bit scan (many scanners deliver those:
#: every edge as sharp as a speck's, no gray levels to tell them apart).
BILEVEL_EVERY = 3
#: Seeds: far from the benchmark's (1000.., 5000.., 77).
SEED0 = 20000
#: Thresholds the check set is reported at.
THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.98)
HGB = dict(max_iter=200, learning_rate=0.1, max_depth=6, max_leaf_nodes=31, min_samples_leaf=40,
           l2_regularization=1.0, early_stopping=False, random_state=0)


def analyse(pixels: np.ndarray, dpi: float | None, params: CleanParams):
    """The front half of ``clean_page``: components, marks, the cascade's
    verdict and the analysis reduction."""
    gray = to_gray(pixels)
    res_dpi, _ = plausible_dpi(dpi, params.fallback_dpi)
    ink, levels, level, _ = binarize(gray, params, res_dpi)
    f = analysis_reduction(res_dpi, gray.shape)
    ink_a, px, lev_px, ink_level, paper_level = _read_levels(ink, levels, level, f)
    comps = label_components(ink_a, px, sparse=True)
    scale = estimate_scale(comps, None if dpi is None else dpi / f, params.fallback_dpi / f)
    m = marks_of(comps, scale, params, lev_px, ink_level, paper_level)
    return m, classify(m), f


def bilevel(image: np.ndarray) -> np.ndarray:
    """The page as a 1-bit scanner would deliver it (Otsu), 0 or 255."""
    gray = to_gray(image)
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


def page_labels(page, m, f: int):
    """Candidates of one analysed generated page: their labels, each
    one's label (1 = remove) and training weight."""
    k3 = np.ones((3, 3), np.uint8)
    content = cv2.dilate(page.ink.view(np.uint8), k3) * np.uint8(255)
    # each content pixel's weight, by its object's kind, grown like the ink
    kind_w = np.where(np.isin(np.array(KINDS), MUST_KEEP + SMALL_MARKS), PRECIOUS_WEIGHT, CONTENT_WEIGHT)
    wmap = cv2.dilate(np.where(page.ink, kind_w[page.kinds][page.labels], 0).astype(np.float32), k3)
    if f > 1:
        content = max_pool(content, f)
        h, w = content.shape
        wmap = cv2.copyMakeBorder(wmap, 0, h * f - wmap.shape[0], 0, w * f - wmap.shape[1], cv2.BORDER_CONSTANT, value=0)
        wmap = wmap.reshape(h, f, w, f).max(axis=(1, 3))
    c = m.c
    on = np.bincount(c.lab, weights=(content.ravel()[c.flat] > 0), minlength=m.n)
    cand = candidates(m)
    ids = np.flatnonzero(cand)
    pos = c.positions_of(cand)
    weight = np.zeros(m.n)
    np.maximum.at(weight, c.lab[pos], wmap.ravel()[c.flat[pos]])
    y = (on[ids] <= SPECK_MAX_CONTENT * m.area[ids]).astype(np.int8)
    wt = np.where(y == 1, 1.0, np.maximum(weight[ids], CONTENT_WEIGHT))
    return ids, y, wt


def page_rows(page, params: CleanParams, one_bit: bool = False):
    """Feature rows, labels (1 = remove), weights and the cascade's verdict
    for the candidates of one generated page (read as a 1-bit scan when
    ``one_bit``)."""
    m, dec, f = analyse(bilevel(page.image) if one_bit else page.image, page.dpi_tag, params)
    ids, y, wt = page_labels(page, m, f)
    fids, X = feature_matrix(m, dec, candidates(m))
    assert np.array_equal(fids, ids)
    return X, y, wt, is_removal(dec.rule[ids])


def guarded_check(trees, pages_per_family: int, check_every: int, params: CleanParams, thresholds):
    """The check set as the cleaner sees it: every removal, the cascade's
    or the model's at each threshold, put to the hard guards
    (:func:`~despeckled.clean.guards.guard_decision`) as ``clean_page``
    does. Returns, per decider, (content removed, precious content
    removed, specks removed) over the check pages' candidates, and the
    number of specks."""
    from despeckled.clean.guards import guard_decision
    from despeckled.clean.model import decide_by_model

    names = ["cascade"] + [f"model >= {t:.2f}" for t in thresholds]
    tot = {n: np.zeros(3, int) for n in names}
    n_specks = 0
    for fam in TRAINING:
        types = FAMILIES[fam].page_types()
        for i in range(check_every - 1, pages_per_family, check_every):
            page = make_page(fam, SEED0 + i, page_type=types[i % len(types)])
            one_bit = i % BILEVEL_EVERY == BILEVEL_EVERY - 1
            m, dec, f = analyse(bilevel(page.image) if one_bit else page.image, page.dpi_tag, params)
            ids, y, wt = page_labels(page, m, f)
            n_specks += int(y.sum())
            decs = [dec] + [decide_by_model(m, dec, t, trees) for t in thresholds]
            for n, d in zip(names, decs):
                g = guard_decision(m.c, m.x, m.s, d, m.darkest, m.paper_level)
                gone = (g.speck | g.dust)[ids]
                tot[n] += [int((gone & (y == 0)).sum()), int((gone & (y == 0) & (wt >= PRECIOUS_WEIGHT)).sum()),
                           int((gone & (y == 1)).sum())]
    return tot, n_specks


def build(pages_per_family: int, params: CleanParams):
    rows = []
    for fam in TRAINING:
        assert fam != HELD_OUT
        types = FAMILIES[fam].page_types()
        for i in range(pages_per_family):
            t = types[i % len(types)]
            t0 = time.perf_counter()
            page = make_page(fam, SEED0 + i, page_type=t)
            X, y, wt, casc = page_rows(page, params, one_bit=i % BILEVEL_EVERY == BILEVEL_EVERY - 1)
            rows.append((fam, i, X, y, wt, casc))
            print(f"  {fam} #{i} {t} {page.dpi:.0f} dpi: {len(y)} candidates, {int(y.sum())} specks "
                  f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return rows


def export(clf, path: Path) -> int:
    """Write the fitted HistGradientBoostingClassifier's trees as flat
    arrays (see :class:`despeckled.clean.model.Trees`); returns the depth."""
    feat, thr, left, right, miss, value, leaf, roots = [], [], [], [], [], [], [], []
    off = 0
    depth = 0
    for it in clf._predictors:
        (tree,) = it
        nodes = tree.nodes
        if np.any(nodes["is_categorical"]):
            raise ValueError("categorical splits are not exported")
        roots.append(off)
        feat.append(nodes["feature_idx"])
        thr.append(nodes["num_threshold"])
        left.append(np.where(nodes["is_leaf"], 0, nodes["left"] + off))
        right.append(np.where(nodes["is_leaf"], 0, nodes["right"] + off))
        miss.append(nodes["missing_go_to_left"].astype(bool))
        value.append(nodes["value"])
        leaf.append(nodes["is_leaf"].astype(bool))
        depth = max(depth, int(nodes["depth"].max()))
        off += len(nodes)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, feature=np.concatenate(feat).astype(np.int16), threshold=np.concatenate(thr).astype(np.float64),
        left=np.concatenate(left).astype(np.int32), right=np.concatenate(right).astype(np.int32),
        missing_left=np.concatenate(miss), value=np.concatenate(value).astype(np.float64),
        is_leaf=np.concatenate(leaf), roots=np.array(roots, np.int32), depth=np.int32(depth),
        baseline=np.float64(np.ravel(clf._baseline_prediction)[0]), features=np.array(FEATURES))
    return depth


def report(name: str, p: np.ndarray, y: np.ndarray, casc: np.ndarray) -> None:
    print(f"{name}: {int((y == 0).sum())} content components, {int(y.sum())} specks")
    print(f"  cascade: removes {int((casc & (y == 0)).sum())} content, {100 * (casc & (y == 1)).sum() / max(1, y.sum()):.2f}% of specks")
    for t in THRESHOLDS:
        r = p >= t
        print(f"  model >= {t:.2f}: removes {int((r & (y == 0)).sum())} content, "
              f"{100 * (r & (y == 1)).sum() / max(1, y.sum()):.2f}% of specks")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=30, help="pages per training family")
    ap.add_argument("--check-every", type=int, default=5, help="every k-th page goes to the check set")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, help="keep the feature rows here (re-fit without re-generating)")
    args = ap.parse_args(argv)
    from sklearn.ensemble import HistGradientBoostingClassifier

    from despeckled.clean.model import load_trees

    t0 = time.perf_counter()
    params = CleanParams()
    if args.cache and args.cache.exists():
        z = np.load(args.cache)
        X, y, wt, casc, check = z["X"], z["y"], z["wt"], z["casc"], z["check"]
    else:
        rows = build(args.pages, params)
        X = np.concatenate([r[2] for r in rows])
        y = np.concatenate([r[3] for r in rows])
        wt = np.concatenate([r[4] for r in rows])
        casc = np.concatenate([r[5] for r in rows])
        check = np.concatenate([np.full(len(r[3]), r[1] % args.check_every == args.check_every - 1) for r in rows])
        if args.cache:
            np.savez_compressed(args.cache, X=X, y=y, wt=wt, casc=casc, check=check)
    t_data = time.perf_counter() - t0
    fit = ~check
    clf = HistGradientBoostingClassifier(**HGB)
    clf.fit(X[fit], y[fit], sample_weight=wt[fit])
    depth = export(clf, args.out)
    t_fit = time.perf_counter() - t0 - t_data
    trees = load_trees.__wrapped__(str(args.out))
    print(f"{len(y)} rows ({int(fit.sum())} fit, {int(check.sum())} check), {len(FEATURES)} features; "
          f"data {t_data:.0f} s, fit {t_fit:.0f} s; {len(clf._predictors)} trees, depth {depth}; "
          f"{args.out} {args.out.stat().st_size / 1024:.0f} KB")
    if check.any():
        p_ours = trees.proba(X[check])
        p_sk = clf.predict_proba(X[check])[:, 1]
        print(f"numpy inference vs scikit-learn: max |dp| {np.abs(p_ours - p_sk).max():.2e}")
        report("check set (training families)", p_ours, y[check], casc[check])
        tot, n_specks = guarded_check(trees, args.pages, args.check_every, params, THRESHOLDS)
        print("check set after the hard guards (as clean_page removes): content (of it glyphs, digits, "
              "code modules, counters, small marks) / specks removed")
        for name, (content, precious, specks) in tot.items():
            print(f"  {name}: removes {content} content ({precious} precious), "
                  f"{100 * specks / max(1, n_specks):.2f}% of specks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
