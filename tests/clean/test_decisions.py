"""What is removed and what is kept, on hand-made layouts (see conftest)."""

import cv2
import numpy as np
import pytest

from despeckled.clean import CleanParams, PageResult
from despeckled.clean import clean_page as _clean_page

from .conftest import BASE, STROKE, XH, Layout, letter_n, text_line


def clean_page(pixels, params: CleanParams | None = None, dpi: float | None = None) -> PageResult:
    """``clean_page`` with the rule cascade deciding: these tests pin the
    rules' decisions (the trained decider's are in test_model.py)."""
    return _clean_page(pixels, (params or CleanParams()).model_copy(update={"decider": "rules"}), dpi=dpi)


def ink_at(result: PageResult, yx) -> bool:
    return bool(result.image[yx] == 0)


def test_i_dot_above_a_stem_is_kept(layout):
    r = clean_page(layout.page)
    assert ink_at(r, layout.marks["i_dot"])
    assert r.kept_small[layout.marks["i_dot"]]


def test_isolated_dot_of_the_same_size_is_removed(layout):
    r = clean_page(layout.page)
    assert not ink_at(r, layout.marks["lone_dot"])
    assert r.removed[layout.marks["lone_dot"]]


def test_period_on_the_baseline_after_a_glyph_is_kept(layout):
    r = clean_page(layout.page)
    assert ink_at(r, layout.marks["period"])
    assert r.kept_small[layout.marks["period"]]


def test_period_size_dot_floating_mid_line_is_removed(layout):
    # same dot, moved up half an x-height from the baseline: not a period
    page = layout.page.copy()
    y, x = layout.marks["period"]
    k = layout.k
    page[y - round(4 * k):y + round(4 * k), x - round(4 * k):x + round(4 * k)] = 255
    dy = round(12 * k)
    page[y - dy - round(2 * k):y - dy + round(3 * k), x - round(2 * k):x + round(3 * k)] = 0
    r = clean_page(page)
    assert not ink_at(r, (y - dy, x))


def test_dot_leader_is_kept(layout):
    r = clean_page(layout.page)
    assert ink_at(r, layout.marks["leader"])


def test_dust_clump_is_removed_by_default_and_kept_on_request(layout):
    assert not ink_at(clean_page(layout.page), layout.marks["dust"])
    r = clean_page(layout.page, CleanParams(remove_dust=False))
    assert ink_at(r, layout.marks["dust"])
    assert r.stats["dust_removed"] == 0


def test_text_is_untouched(layout):
    r = clean_page(layout.page)
    text = layout.page == 0
    # every removed pixel is one of the planted noise marks, never text
    assert not (r.removed & text & ~_noise_mask(layout)).any()


def _noise_mask(layout):
    m = np.zeros(layout.page.shape, bool)
    for name in ("lone_dot", "dust"):
        y, x = layout.marks[name]
        r = layout.px(9)
        m[y - r:y + r, x - r:x + r] = True
    return m


def test_hairline_survives_the_opening(layout):
    r = clean_page(layout.page, CleanParams(opening=True))
    y, x = layout.marks["hairline"]
    assert (r.image[y, x - 50:x + 50] == 0).all()


def test_opening_never_touches_thin_parts_of_kept_glyphs(layout):
    page = layout.page.copy()
    # a glyph with a 1-px hairline serif: the serif must survive
    page[150:175, 600:604] = 0
    page[175, 590:615] = 0
    r = clean_page(page, CleanParams(opening=True))
    assert (r.image[175, 590:615] == 0).all()


def test_opening_removes_short_thin_scratches(layout):
    page = layout.page.copy()
    page[235, 300:306] = 0                         # a 6-px, 1-px thick scratch
    r = clean_page(page, CleanParams(opening=True))
    assert (r.image[235, 300:306] == 255).all()


@pytest.mark.parametrize("dpi", [200, 300, 600])
def test_same_decisions_at_200_300_600_dpi(dpi, make_layout):
    lay = make_layout(dpi)
    r = clean_page(lay.page, dpi=None)            # no tag: sizes come from the text
    got = {name: ink_at(r, yx) for name, yx in lay.marks.items()}
    assert got == {"i_dot": True, "period": True, "leader": True, "lone_dot": False, "dust": False, "hairline": True}
    assert r.stats["scale_source"] == "measured"


def test_lying_dpi_tag_changes_nothing(layout):
    a = clean_page(layout.page, dpi=96)
    b = clean_page(layout.page, dpi=300)
    assert np.array_equal(a.image, b.image)


def test_masks_and_stats_are_consistent(layout):
    r = clean_page(layout.page)
    assert r.removed.shape == r.kept_small.shape == layout.page.shape
    assert r.removed.dtype == bool and r.kept_small.dtype == bool
    assert not (r.removed & r.kept_small).any()
    assert (r.image[r.removed] == 255).all()
    assert (r.image[r.kept_small] == 0).all()
    for key in ("specks_removed", "dust_removed", "small_kept", "stroke_width_px", "x_height_px", "scale_source", "threshold"):
        assert key in r.stats
    assert r.stats["specks_removed"] >= 1 and r.stats["dust_removed"] == 1


def test_binary_output_is_0_and_255(layout):
    r = clean_page(layout.page)
    assert r.image.dtype == np.uint8
    assert set(np.unique(r.image).tolist()) <= {0, 255}


@pytest.mark.parametrize("method", ["otsu", "adaptive", "fixed"])
def test_every_threshold_method_keeps_the_text(layout, method):
    r = clean_page(layout.page, CleanParams(threshold=method))
    assert ink_at(r, layout.marks["i_dot"]) and not ink_at(r, layout.marks["lone_dot"])


def test_faint_show_through_is_dropped(layout):
    page = layout.page.copy()
    # a letter-sized gray smudge (show-through): no pixel anywhere near ink-dark
    page[150:175, 250:262] = 170
    r = clean_page(page)
    assert (r.image[150:175, 250:262] == 255).all()


def test_blank_and_all_black_pages_do_not_crash():
    for page in (np.full((50, 60), 255, np.uint8), np.zeros((50, 60), np.uint8)):
        r = clean_page(page)
        assert r.image.shape == (50, 60)


def test_median_option_runs(layout):
    r = clean_page(layout.page, CleanParams(median=True))
    assert ink_at(r, layout.marks["i_dot"])


def test_halftone_dot_field_is_kept(layout):
    page = layout.page.copy()
    # a 2-px dot every 7 px: a light halftone tone, far from text
    for y in range(140, 240, 7):
        for x in range(470, 560, 7):
            page[y:y + 2, x:x + 2] = 0
    r = clean_page(page)
    assert (r.image[140:240, 470:560] == 0).sum() == (page[140:240, 470:560] == 0).sum()


@pytest.mark.parametrize("mode", ["binary", "gray"])
def test_high_resolution_reduced_analysis_gives_the_same_decisions(make_layout, mode):
    lay = make_layout(600)
    r = clean_page(lay.page, CleanParams(mode=mode), dpi=600)    # analysed at half resolution
    assert r.stats["analysis_reduction"] == 2
    got = {name: ink_at(r, yx) for name, yx in lay.marks.items()}
    assert got == {"i_dot": True, "period": True, "leader": True, "lone_dot": False, "dust": False, "hairline": True}
    full = clean_page(lay.page, CleanParams(mode=mode), dpi=None)  # no tag: full resolution
    assert full.stats["analysis_reduction"] == 1
    # identical text; only removed marks may differ, and removal is whole-mark
    text = lay.page == 0
    assert np.array_equal(r.removed & text, full.removed & text)
    assert np.array_equal(r.image, full.image)
    assert r.stats["x_height_px"] == pytest.approx(full.stats["x_height_px"], rel=0.1)


def test_big_bold_strokes_stay_solid(layout):
    # a heading stroke far wider than the paper-estimation window
    page = layout.page.copy()
    page[135:190, 250:330] = 10
    r = clean_page(page)
    assert (r.image[135:190, 250:330] == 0).all()


def test_very_low_resolution_text_keeps_its_one_pixel_periods(make_layout):
    lay = make_layout(100)                     # x-height 7 px: below the supported range
    r = clean_page(lay.page)
    assert ink_at(r, lay.marks["period"]) and ink_at(r, lay.marks["i_dot"])
    assert not ink_at(r, lay.marks["lone_dot"])


def test_sparse_dots_inside_a_picture_are_kept(layout):
    page = layout.page.copy()
    page[130:258, 420:700] = 255
    page[150:258, 440:700] = 0                      # the dark mass of a photo
    rng = np.random.default_rng(1)
    # the highlights: random dots above and in a gap of the dark mass,
    # about one per x-height square over the picture's box
    ys = np.concatenate([rng.integers(131, 149, 60), rng.integers(160, 240, 120)])
    xs = np.concatenate([rng.integers(450, 639, 60), rng.integers(470, 560, 120)])
    page[160:240, 465:565] = 255
    page[ys, xs] = 0
    r = clean_page(page)
    assert (r.image[ys, xs] == 0).all()


@pytest.mark.parametrize("dpi", [150, 300])
def test_semicolon_after_a_word_is_kept(dpi):
    lay = Layout(dpi, np.full((int(260 * dpi / 300), int(700 * dpi / 300)), 255, np.uint8))
    x = text_line(lay, 20, 14) - 5                 # end of the first word
    # ';' 2.5 px after it: a dot at mid x-height, a tall comma through the
    # baseline (glyph-sized at low resolution), then more words
    lay.rect(x + 2.5, BASE - 14, 4.5, 4.5)
    lay.rect(x + 2.5, BASE - 5, 4.5, 19)             # 0.9 x tall, as in old book faces
    text_line(lay, x + 25, 14)
    r = clean_page(lay.page)
    assert r.stats["scale_source"] == "measured"
    assert ink_at(r, (lay.px(BASE - 12), lay.px(x + 4.5)))      # the dot
    assert ink_at(r, (lay.px(BASE + 3), lay.px(x + 4.5)))       # the tail


@pytest.mark.parametrize("dpi", [200, 300, 600])
def test_dot_over_a_letter_without_a_stem_is_a_speck(dpi, make_layout):
    # the same dot as the i-dot, centred over a body-width 'n' (about an
    # x-height wide): a speck that would make it read as an accented letter;
    # the i-dot over its stem stays, and so does an acute accent (an oblique
    # stroke) over the next 'n'
    lay = make_layout(dpi)
    w = 22.0
    for i in range(3):
        x = 420 + i * (w + 5)
        lay.rect(x, BASE - XH, STROKE, XH)
        lay.rect(x + w - STROKE, BASE - XH, STROKE, XH)
        lay.rect(x, BASE - XH, w, STROKE)
    cx = 420 + (w + 5) + w / 2
    lay.rect(cx - 2.25, BASE - XH - 9.5, 4.5, 4.5)
    lay.mark_at("fake_dot", cx, BASE - XH - 7)
    ax = 420 + 2 * (w + 5) + w / 2
    top = BASE - XH - 4
    cv2.line(lay.page, (lay.px(ax - 3), lay.px(top)), (lay.px(ax + 3), lay.px(top - 9)), 0, lay.px(3))
    lay.mark_at("acute", ax, top - 4.5)
    r = clean_page(lay.page, dpi=dpi)
    assert not ink_at(r, lay.marks["fake_dot"])
    assert ink_at(r, lay.marks["i_dot"])
    assert ink_at(r, lay.marks["acute"])


def test_diaeresis_over_a_dotless_i_is_kept(layout):
    # two dots side by side over a narrow stem ('ï'): neither is over the stem
    x = 20 + 12 * 18 + STROKE + 5 + 18 * 3       # a stem-only glyph drawn for the test
    layout.rect(x, BASE - XH, STROKE, XH)
    for dx in (-4.0, STROKE + 0.5):
        layout.rect(x + dx, BASE - XH - 9.5, 4.0, 4.0)
    layout.mark_at("left_dot", x - 2, BASE - XH - 7.5)
    r = clean_page(layout.page)
    assert ink_at(r, layout.marks["left_dot"])



def test_dust_sitting_on_a_text_line_is_removed_but_a_lone_letter_stays(layout):
    # a lone 'n' a word space from nothing, then a dust clump shorter than
    # the x-height with its bottom on the same baseline, 1.5 x further on:
    # the letter is text, the clump is not
    x = 500.0
    w = letter_n(layout, x)
    layout.mark_at("lone_n", x + 1, BASE - 5)
    cx = x + w + 1.5 * XH + 6
    cv2.circle(layout.page, (layout.px(cx), layout.px(BASE - 6)), layout.px(6), 0, -1)
    layout.mark_at("line_dust", cx, BASE - 6)
    r = clean_page(layout.page)
    assert ink_at(r, layout.marks["lone_n"])
    assert not ink_at(r, layout.marks["line_dust"])
    assert r.stats["dust_removed"] >= 2


def _dotted_scan(speck_level: int) -> tuple[np.ndarray, list, list]:
    """A blurred gray page of words each ending in an 'i' and a period; on two
    lines the last period is a square of gray ``speck_level`` instead (a
    speck in a period position). Returns the page, the real periods' and the
    specks' (y, x)."""
    lay = Layout(300, np.full((640, 900), 255, np.uint8))
    periods, specks = [], []
    for row in range(5):
        base = BASE + row * 110
        x = 20.0
        for word in range(6):
            for _ in range(3):
                x += letter_n_at(lay, x, base) + 5
            lay.rect(x, base - XH, STROKE, XH)                  # an 'i' ...
            lay.rect(x - 0.25, base - XH - 8, 4, 4)            # ... and its dot
            x += STROKE + 4
            if word == 5 and row in (1, 3):
                specks.append((lay.px(base - 3), lay.px(x + 3)))
            else:
                lay.rect(x, base - 6, 6, 6)                    # a period
                periods.append((lay.px(base - 3), lay.px(x + 3)))
            x += 30
    img = np.where(lay.page == 0, 30, 235).astype(np.uint8)
    for y, x in specks:
        img[y - 3:y + 3, x - 3:x + 3] = speck_level
    return cv2.GaussianBlur(img, (0, 0), 1.0), periods, specks


def letter_n_at(lay: Layout, x: float, base: float) -> float:
    lay.rect(x, base - XH, 13, STROKE)
    lay.rect(x, base - XH, STROKE, XH)
    lay.rect(x + 13 - STROKE, base - XH, STROKE, XH)
    return 13.0


def test_period_sized_speck_lighter_than_the_pages_periods_is_removed():
    # Blur makes the small i-dots lighter than the periods. A period-sized
    # speck as light as an i-dot passes a page-wide darkness test, but it is
    # much lighter than this page's periods: a speck, not a period.
    page, periods, specks = _dotted_scan(65)
    r = clean_page(page)
    assert all(r.image[p] == 0 for p in periods)
    assert not any(r.image[p] == 0 for p in specks)
    # the same square as dark as the print is a period
    page, periods, specks = _dotted_scan(30)
    r = clean_page(page)
    assert all(r.image[p] == 0 for p in periods + specks)
