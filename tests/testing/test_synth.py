"""The synthetic page generator: deterministic, consistent ground truth,
physical sizes at every resolution. Small pages keep this fast."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from despeckled.testing import synth
from despeckled.testing.synth import KIND_FAR, KIND_NEAR, KIND_TOUCH, SMALL_MARK_AREA_300, make_page

SIZE = (90, 60)  # mm


@pytest.fixture(scope="module")
def page():
    return make_page(7, dpi=300, size=SIZE, n_specks=120, n_dust=4)


def test_same_seed_same_page():
    a = make_page(3, dpi=150, size=SIZE)
    b = make_page(3, dpi=150, size=SIZE)
    assert np.array_equal(a.clean, b.clean)
    assert np.array_equal(a.noisy, b.noisy)
    assert np.array_equal(a.speck_labels, b.speck_labels)
    assert a.lines == b.lines


def test_different_seed_different_page():
    a = make_page(3, dpi=150, size=SIZE)
    b = make_page(4, dpi=150, size=SIZE)
    assert not np.array_equal(a.noisy, b.noisy)


def test_shapes_and_dtypes(page):
    h, w = page.clean.shape
    assert (w, h) == (round(90 / 25.4 * 300), round(60 / 25.4 * 300))
    assert page.noisy.shape == (h, w) and page.noisy.dtype == np.uint8
    assert set(np.unique(page.clean).tolist()) == {0, 255}
    for lab in (page.speck_labels, page.dust_labels, page.small_labels):
        assert lab.shape == (h, w) and lab.dtype == np.int32
    assert len(page.speck_area) == len(page.speck_gap) == len(page.speck_kind) == page.n_specks + 1


def test_color_and_tinted_paper():
    p = make_page(1, dpi=100, size=SIZE, color=True, paper="tinted")
    assert p.noisy.shape == p.clean.shape + (3,)
    paper = p.noisy[p.clean == 255].reshape(-1, 3).mean(axis=0)
    assert paper[0] > paper[2] + 10  # yellowed: more red than blue


def test_speck_masks_match_their_tables(page):
    assert page.n_specks > 100 and page.n_dust >= 3
    # every label has exactly its recorded area, and never sits on text
    assert np.array_equal(np.bincount(page.speck_labels.ravel(), minlength=page.n_specks + 1)[1:], page.speck_area[1:])
    assert np.array_equal(np.bincount(page.dust_labels.ravel(), minlength=page.n_dust + 1)[1:], page.dust_area[1:])
    assert not (page.ink & (page.speck_labels > 0)).any()
    assert not ((page.speck_labels > 0) & (page.dust_labels > 0)).any()
    # each speck is one connected blob, apart from the others
    n, _ = cv2.connectedComponents((page.speck_labels > 0).astype(np.uint8), connectivity=8)
    assert n - 1 == page.n_specks
    a300 = page.speck_area300[1:]
    assert a300.min() >= 1 and a300.max() <= 42
    assert (page.dust_area[1:] >= 55).all()


def test_speck_gaps_match_distance_to_text(page):
    dist = cv2.distanceTransform(page.clean, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    lab = page.speck_labels.ravel()
    on = lab > 0
    gmin = np.full(page.n_specks + 1, np.inf, np.float32)
    np.minimum.at(gmin, lab[on], dist.ravel()[on])
    assert np.allclose(gmin[1:], page.speck_gap[1:], rtol=0.02, atol=0.3)  # chamfer vs exact
    kinds = page.speck_kind[1:]
    gaps = page.speck_gap[1:]
    assert (kinds == KIND_NEAR).sum() > 10
    assert ((gaps[kinds == KIND_NEAR] >= 1.5) & (gaps[kinds == KIND_NEAR] <= 6.5)).all()
    assert (gaps[kinds == KIND_FAR] > 6.5).all()
    assert (gaps[kinds == KIND_TOUCH] < 1.5).all()


def test_small_marks_are_the_small_text_components(page):
    n, labels, st, _ = cv2.connectedComponentsWithStats(page.ink.astype(np.uint8), connectivity=8)
    small = st[1:, cv2.CC_STAT_AREA] < SMALL_MARK_AREA_300
    assert page.n_small == int(small.sum()) > 20
    assert np.array_equal(page.small_labels > 0, np.isin(labels, 1 + np.flatnonzero(small)))
    assert np.array_equal(np.bincount(page.small_labels.ravel())[1:], page.small_area[1:])


def test_sizes_are_physical_across_dpi():
    lo = make_page(5, dpi=150, size=SIZE, n_specks=60)
    hi = make_page(5, dpi=300, size=SIZE, n_specks=60)
    assert hi.clean.shape[0] == pytest.approx(2 * lo.clean.shape[0], abs=1)
    # same text, twice the linear size: about four times the ink
    wlo, whi = " ".join(lo.lines).split(), " ".join(hi.lines).split()
    n = min(len(wlo), len(whi))
    assert n > 50 and wlo[:n - 30] == whi[:n - 30]  # line breaks may differ by hinting
    # twice the linear size: the text block twice as tall and wide, the
    # glyphs twice as tall (ink pixel counts are no measure: at 150 dpi thin
    # antialiased strokes round away under the 50% cut, by an amount that
    # differs between rasteriser builds)
    ext = {}
    for name, p in (("lo", lo), ("hi", hi)):
        ink = p.clean == 0
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        _, _, st, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
        ext[name] = (rows.size, cols[-1] - cols[0], np.percentile(st[1:, cv2.CC_STAT_HEIGHT], 90))
    for a, b in zip(ext["hi"], ext["lo"]):
        assert a / b == pytest.approx(2, rel=0.1)
    assert np.median(hi.speck_area300[1:]) == pytest.approx(np.median(lo.speck_area300[1:]), rel=0.5)


def test_text_has_accents_punctuation_and_leaders():
    p = make_page(2, dpi=100, size="a4", n_specks=0, n_dust=0)
    text = p.text
    assert any(c in text for c in ".,;:")
    if synth._faces("auto")[0][0].path is not None:  # DejaVu installed: real accents
        assert any(c in text for c in "éèüöñçå")
    assert p.n_specks == 0 and p.n_dust == 0
    assert len(p.lines) > 20


def test_builtin_fonts_need_no_system_files_and_still_have_accents():
    p = make_page(2, dpi=150, size="a5", fonts="builtin", n_specks=0, n_dust=0)
    assert (p.clean == 0).sum() > 1000
    assert any(c in p.text for c in "éèüöñçå")  # drawn as marks over the plain letters
    plain = synth._Layout(600, 120, 300, 10)
    accented = synth._Layout(600, 120, 300, 10)
    face = synth._faces("builtin")[0][0]
    plain.paragraph("ne", face, 12.0)
    accented.paragraph("ñé", face, 12.0)
    extra = np.asarray(accented.img) < 128
    assert extra.sum() > (np.asarray(plain.img) < 128).sum()


def test_bad_arguments():
    with pytest.raises(ValueError, match="page size"):
        make_page(1, size="b7")
    with pytest.raises(ValueError, match="paper"):
        make_page(1, dpi=50, size=SIZE, paper="pink")
