"""The trained keep/remove model: each feature on a tiny hand-drawn page,
the numpy tree evaluation on a hand-built ensemble, and the shipped model
on fixed components."""

from __future__ import annotations

import numpy as np
import pytest

from despeckled.clean import CleanParams, clean_page
from despeckled.clean import features as F
from despeckled.clean.marks import marks_of_ink
from despeckled.clean.model import MODEL_PATH, decide, decide_by_model, load_trees, trees_from_arrays
from despeckled.clean.rules import RULE_NAMES, Rule, classify, is_removal


def _line(with_period=True, speck_at=None):
    """A text line of 'letters' (stems 12 px tall, 3 px wide) with a period
    after the last one, and optionally a speck far below."""
    ink = np.zeros((80, 120), np.uint8)
    for x0 in range(5, 70, 9):
        ink[20:32, x0:x0 + 3] = 1
        ink[20:22, x0:x0 + 6] = 1          # an 'r'-like hook: letters are not plain bars
    if with_period:
        ink[29:32, 72:75] = 1
    if speck_at is not None:
        y, x = speck_at
        ink[y:y + 2, x:x + 2] = 1
    return ink


def test_holes_counts_counters():
    ink = np.zeros((20, 40), np.uint8)
    ink[2:12, 2:12] = 1
    ink[5:8, 5:8] = 0                      # one counter
    ink[2:12, 20:32] = 1
    ink[4:6, 23:25] = 0
    ink[8:10, 27:29] = 0                   # two counters ('8'-like)
    ink[15:17, 35:37] = 1                  # a solid dot
    m = marks_of_ink(ink, 2.0, 10.0)
    assert F.holes(m, m.real)[1:].tolist() == [1.0, 2.0, 0.0]


def test_holes_of_a_diagonal_ring_8_connected():
    ink = np.zeros((9, 9), np.uint8)
    for (y, x) in ((1, 4), (2, 3), (2, 5), (3, 2), (3, 6), (4, 1), (4, 7), (5, 2), (5, 6), (6, 3), (6, 5), (7, 4)):
        ink[y, x] = 1                      # a diamond of single pixels: 8-connected, encloses paper
    m = marks_of_ink(ink, 1.0, 6.0)
    assert F.holes(m, m.real)[1:].tolist() == [1.0]


def test_runs_per_row_tells_strokes_from_bowls():
    ink = np.zeros((20, 30), np.uint8)
    ink[2:12, 2:4] = 1                     # a stem: one run per row
    ink[2:12, 10:20] = 1
    ink[4:10, 12:18] = 0                   # a box: two runs across its middle
    m = marks_of_ink(ink, 2.0, 10.0)
    r = F.runs_per_row(m)[1:]
    assert r[0] == 1.0 and 1.5 < r[1] < 2.0


def test_levels_are_fractions_of_the_ink_to_paper_range():
    ink = np.zeros((10, 10), np.uint8)
    ink[2:5, 2:5] = 1
    lev = np.full((10, 10), 255, np.uint8)
    lev[2:5, 2:5] = 128
    lev[3, 3] = 0
    m = marks_of_ink(ink, 1.0, 6.0, levels=lev)
    darkest, mean, edge = F.levels(m, m.real)
    assert darkest[1] == 0.0
    assert edge[1] == pytest.approx(128 / 255)
    assert mean[1] == pytest.approx((8 * 128) / 9 / 255)


def test_nearest_letter_and_candidates():
    m = marks_of_ink(_line(speck_at=(70, 110)), 3.0, 12.0)
    gap = F.nearest_letter(m)
    cand = F.candidates(m)
    period = m.c.labels[30, 73]
    speck = m.c.labels[70, 110]
    stem = m.c.labels[25, 6]
    assert gap[period] < 0.5 and gap[speck] == F.FAR
    assert cand[period] and cand[speck] and not cand[stem]


def test_density_and_frame():
    ink = np.zeros((120, 120), np.uint8)
    ink[5:115, 5:115] = 1
    ink[10:110, 10:110] = 0                # a frame (a table's border)
    for y in range(20, 60, 4):
        for x in range(20, 60, 4):
            ink[y, x] = 1                  # a grid of dots inside it
    ink[90, 90] = 1                        # one lone dot inside it
    m = marks_of_ink(ink, 1.0, 8.0)
    sel = m.mark
    dens, rel = F.density(m, sel)
    grid_dot, lone = m.c.labels[40, 40], m.c.labels[90, 90]
    assert dens[grid_dot] > dens[lone]
    assert rel[grid_dot] == pytest.approx(1.0)
    fr = F.in_frame(m, sel)
    assert fr[grid_dot] == 1.0 and fr[lone] == 1.0


def test_feature_matrix_shape_and_finite():
    m = marks_of_ink(_line(speck_at=(70, 110)), 3.0, 12.0)
    ids, X = F.feature_matrix(m, classify(m))
    assert X.shape == (ids.size, len(F.FEATURES)) and X.dtype == np.float32
    assert np.isfinite(X).all()


def _tiny_ensemble():
    """Two trees on two features: tree 0 splits on f0 <= 0.5 (leaves -1,
    +1); tree 1 splits on f1 <= 2 then f0 <= -1 (leaves 0.5, -0.5, 2)."""
    # nodes:   0: t0 root   1: leaf -1   2: leaf +1   3: t1 root   4: t1 inner   5: leaf 2
    #          6: leaf 0.5  7: leaf -0.5
    d = dict(feature=np.array([0, 0, 0, 1, 0, 0, 0, 0]), threshold=np.array([0.5, 0, 0, 2.0, -1.0, 0, 0, 0]),
             left=np.array([1, 0, 0, 4, 6, 0, 0, 0]), right=np.array([2, 0, 0, 5, 7, 0, 0, 0]),
             missing_left=np.zeros(8, bool), value=np.array([0, -1, 1, 0, 0, 2, 0.5, -0.5]),
             is_leaf=np.array([0, 1, 1, 0, 0, 1, 1, 1], bool), roots=np.array([0, 3]), depth=2, baseline=0.25,
             features=np.array(["a", "b"]))
    return trees_from_arrays(d)


def test_tree_inference_walks_every_tree_level_by_level():
    t = _tiny_ensemble()
    X = np.array([[0.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [0.0, 3.0], [0.5, 2.0]])
    expect = 0.25 + np.array([-1 + -0.5, 1 + -0.5, -1 + 0.5, -1 + 2, -1 + -0.5])
    assert t.raw(X) == pytest.approx(expect)
    assert t.proba(X) == pytest.approx(1 / (1 + np.exp(-expect)))
    assert t.raw(np.zeros((0, 2))).shape == (0,)


def test_tree_inference_in_blocks_matches(monkeypatch):
    import despeckled.clean.model as M
    t = _tiny_ensemble()
    X = np.random.default_rng(0).normal(size=(50, 2))
    whole = t.raw(X)
    monkeypatch.setattr(M, "BLOCK", 4)
    assert t.raw(X) == pytest.approx(whole)


# --- the shipped model ----------------------------------------------------------


def test_shipped_model_is_small_and_reads_our_features():
    assert MODEL_PATH.stat().st_size < 3 * 1024 * 1024
    t = load_trees()
    assert t.features == F.FEATURES
    assert t.roots.size >= 10


def test_shipped_model_on_fixed_components():
    """A lone speck far from the text is removed with confidence; the
    period after the last letter and the letters stay."""
    m = marks_of_ink(_line(speck_at=(70, 110)), 3.0, 12.0)
    dec = decide_by_model(m, classify(m), CleanParams().model_threshold)
    period, speck = m.c.labels[30, 73], m.c.labels[70, 110]
    assert dec.confidence[speck] >= CleanParams().model_threshold
    assert dec.speck[speck] and RULE_NAMES[dec.rule[speck]] in ("model", "no-context", "tiny")
    assert not dec.speck[period] and dec.confidence[period] < 0.5
    assert not is_removal(dec.rule[m.glyph]).any()


def test_decider_setting_chooses():
    m = marks_of_ink(_line(speck_at=(70, 110)), 3.0, 12.0, CleanParams(decider="rules"))
    assert decide(m).confidence is None
    m = marks_of_ink(_line(speck_at=(70, 110)), 3.0, 12.0, CleanParams(decider="model"))
    assert decide(m).confidence is not None


def test_clean_page_reports_the_model_confidence():
    page = np.full((200, 300), 255, np.uint8)
    for x0 in range(10, 280, 14):
        page[50:70, x0:x0 + 4] = 0
        page[50:53, x0:x0 + 9] = 0
    page[150:152, 150:152] = 0
    r = clean_page(page, CleanParams(decider="model"), dpi=300)
    t = r.components
    assert t.confidence is not None and t.confidence.shape == t.rule.shape
    assert ((t.confidence >= 0) & (t.confidence <= 1)).all()
    assert np.array_equal(t.removed, is_removal(t.rule))
    assert Rule.MODEL_KEPT not in set(t.rule[t.removed].tolist())


def _constant(p: float):
    """A one-leaf ensemble: every component gets speck probability ``p``."""
    return trees_from_arrays(dict(feature=np.array([0]), threshold=np.array([0.0]), left=np.array([0]),
                                  right=np.array([0]), missing_left=np.zeros(1, bool),
                                  value=np.array([np.log(p / (1 - p))]), is_leaf=np.array([True]),
                                  roots=np.array([0]), depth=0, baseline=0.0, features=np.array(F.FEATURES)))


def test_overruling_a_keeping_rule_needs_overwhelming_evidence():
    """At a speck probability between ``model_threshold`` and
    OVERRULE_KEEP, what the cascade removes goes and what a rule keeps
    (the period) stays; at 0.99 both go."""
    from despeckled.clean.model import OVERRULE_KEEP
    m = marks_of_ink(_line(speck_at=(70, 110)), 3.0, 12.0)
    casc = classify(m)
    period, speck = m.c.labels[30, 73], m.c.labels[70, 110]
    assert RULE_NAMES[casc.rule[period]] == "period" and is_removal(casc.rule[speck])
    mid = (0.9 + OVERRULE_KEEP) / 2
    dec = decide_by_model(m, casc, 0.9, _constant(mid))
    assert dec.speck[speck] and not dec.speck[period]
    assert dec.confidence[period] == pytest.approx(mid)
    dec = decide_by_model(m, casc, 0.9, _constant(0.995))
    assert dec.speck[speck] and dec.speck[period] and dec.rule[period] == Rule.MODEL
    dec = decide_by_model(m, casc, 0.9, _constant(0.5))
    assert not dec.speck[speck] and dec.rule[speck] == Rule.MODEL_KEPT


def test_never_overrules_a_kept_glyph_nor_in_gentle_mode():
    ink = _line(speck_at=(70, 110))
    ink[21:32, 90:99] = 1                  # a glyph-sized blob on the line, kept by the cascade
    m = marks_of_ink(ink, 3.0, 12.0)
    casc = classify(m)
    blob, period = m.c.labels[25, 94], m.c.labels[30, 73]
    assert not is_removal(casc.rule[blob]) and m.glyph[blob] and F.candidates(m)[blob]
    dec = decide_by_model(m, casc, 0.9, _constant(0.999))
    assert not dec.dust[blob] and not dec.speck[blob] and dec.speck[period]
    gentle = marks_of_ink(ink, 3.0, 6.0)   # an x-height of 6 px: gentle mode
    assert gentle.low_res
    casc = classify(gentle)
    dec = decide_by_model(gentle, casc, 0.9, _constant(0.999))
    assert np.array_equal(dec.speck | dec.dust, is_removal(casc.rule) & (casc.speck | casc.dust))


#: Regression pages (test_regression_pages.py) the model still fails.
MODEL_FAILING: dict[str, str] = {}   # (the hard guards veto the model's removals too)


def _regression_cases():
    from .test_regression_pages import CASES
    for t, case in CASES.items():
        marks = [pytest.mark.xfail(strict=True, reason=f"model deletes {MODEL_FAILING[t]}")] if t in MODEL_FAILING else []
        yield pytest.param(t, *case, id=t, marks=marks)


@pytest.mark.parametrize(("page_type", "family", "dpi", "seed"), list(_regression_cases()))
def test_model_loses_no_content_object_on_the_regression_pages(page_type, family, dpi, seed):
    """The regression page of every type, cleaned with ``decider =
    "model"``: no glyph, digit, one-letter word, code module or counter lost
    (the rule cascade still loses some on the form, music and codes pages)."""
    from despeckled.testing.pages import KINDS, MUST_KEEP, make_page
    from despeckled.testing.pages.score import lost_objects

    from .test_regression_pages import SIZE_MM
    page = make_page(family, seed, page_type=page_type, size_mm=SIZE_MM, dpi=dpi)
    must = np.isin(page.kinds, [KINDS.index(k) for k in MUST_KEEP])
    result = clean_page(page.image, CleanParams(decider="model"), dpi=page.dpi_tag)
    lost = lost_objects(page, result.image == 0) & must
    assert not lost.any(), {KINDS[k]: int(v) for k, v in enumerate(np.bincount(page.kinds[lost], minlength=len(KINDS))) if v}
