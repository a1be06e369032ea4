"""The family page generator: deterministic, honest ground truth, every
page type drawable, a clear error for a missing font. Small pages keep it fast."""

from __future__ import annotations

import numpy as np
import pytest

from despeckled.testing import pages
from despeckled.testing.pages import FAMILIES, HELD_OUT, KINDS, MUST_KEEP, PAGE_TYPES, TRAINING, make_page
from despeckled.testing.pages import fonts
from despeckled.testing.pages.noise import shape_mask
from despeckled.testing.pages.score import lost_objects, score_page

SIZE = (70.0, 50.0)


def test_same_seed_same_page():
    a = make_page("office", 3, page_type="receipt", size_mm=SIZE, dpi=200)
    b = make_page("office", 3, page_type="receipt", size_mm=SIZE, dpi=200)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.specks.labels, b.specks.labels)


def test_held_out_family_is_named_and_covers_every_page_type():
    assert HELD_OUT in FAMILIES and HELD_OUT not in TRAINING
    held = FAMILIES[HELD_OUT]
    assert set(held.types) == set(PAGE_TYPES)
    assert 0.3 <= held.noise.sharp <= 0.7      # both sharpness regimes
    assert min(held.dpi) <= 150 and max(held.dpi) >= 600


def test_held_out_faces_are_used_by_no_tuning_family():
    held = FAMILIES[HELD_OUT].style.faces() - {FAMILIES[HELD_OUT].style.hand_face}
    for name in TRAINING:
        assert not held & FAMILIES[name].style.faces(), name


@pytest.mark.parametrize("page_type", sorted(PAGE_TYPES))
def test_every_page_type_draws_content_and_specks(page_type):
    page = make_page("fax", 2, page_type=page_type, size_mm=SIZE, dpi=150)
    assert page.ink.any() and len(page.kinds) > 1
    assert (page.labels > 0).sum() == page.ink.sum() or page_type == "reverse"
    # specks never sit on or touch content, and each has its facts
    assert not (page.ink & (page.specks.labels > 0)).any()
    assert len(page.specks.area) == len(page.specks.cls) == len(page.specks.sharp)


def test_the_clean_page_loses_nothing_and_keeps_every_speck():
    page = make_page("archive", 1, page_type="reverse", size_mm=SIZE, dpi=300)
    assert (page.kinds == KINDS.index("reverse_counter")).any()
    s = score_page(page, page.ink | (page.specks.labels > 0))
    assert s["kind_lost"].sum() == 0
    assert s["speck_removed"].sum() == 0


def test_an_erased_object_counts_as_lost():
    page = make_page("office", 1, page_type="form", size_mm=SIZE, dpi=300)
    digit = int(np.flatnonzero(page.kinds == KINDS.index("digit"))[0])
    out = page.ink & (page.labels != digit)
    lost = lost_objects(page, out)
    assert lost[digit] and lost.sum() == 1


def test_speck_shapes_have_the_asked_area():
    rng = np.random.default_rng(1)
    for shape in ("round", "blob"):
        for area in (1, 3, 9, 40, 250):
            assert shape_mask(rng, area, shape, 1.0).sum() == area
    streak = shape_mask(rng, 30, "streak", 1.0)
    assert 15 <= streak.sum() <= 60


def test_a_missing_font_fails_clearly(monkeypatch):
    monkeypatch.setitem(fonts.FACES, "liberation-serif",
                        fonts.Face("liberation-serif", "truetype/nowhere/Missing.ttf", "fonts-nowhere", frozenset()))
    with pytest.raises(pages.FontMissing, match="apt-get install fonts-nowhere"):
        make_page("office", 1, size_mm=SIZE)


def test_must_keep_kinds_are_kinds():
    assert set(MUST_KEEP) <= set(KINDS)
