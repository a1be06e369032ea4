"""Thresholds, components, the spatial join and the scale estimate on tiny arrays."""

import cv2
import numpy as np
import pytest

from despeckled.clean import threshold as th
from despeckled.clean.components import label_components
from despeckled.clean.context import any_per, local_density, points_in_boxes
from despeckled.clean.scale import estimate_scale, plausible_dpi


def test_otsu_level_splits_two_populations():
    hist = np.zeros(256)
    hist[30:40] = 5
    hist[200:220] = 50
    assert 40 <= th.otsu_level(hist) < 200


def test_otsu_level_of_empty_histogram_is_midgray():
    assert th.otsu_level(np.zeros(256)) == 127


def _uneven_page():
    """Text strokes (gray 60 on paper 230) under a strong left-to-right
    shadow: the right side's paper is darker than the left side's ink."""
    h, w = 120, 400
    light = np.linspace(1.0, 0.3, w, dtype=np.float32)[None, :]
    paper = np.full((h, w), 230, np.float32)
    ink = np.zeros((h, w), bool)
    for x in range(10, 390, 20):
        ink[40:80, x:x + 4] = True
    img = np.where(ink, 60.0, paper) * light
    return np.clip(img, 0, 255).astype(np.uint8), ink


def test_adaptive_threshold_copes_with_uneven_illumination():
    gray, ink = _uneven_page()
    low, factor = th.background_lowres(gray, 24)
    flat = th.normalise(gray, th.upsample(low, factor, gray.shape))
    level = th.otsu_level(th.sample_histogram(flat))
    found = flat <= level
    assert (found == ink).mean() > 0.99
    # a global threshold on the raw page cannot: it loses the left or the right
    g = th.otsu_level(th.sample_histogram(gray))
    assert ((gray <= g) == ink).mean() < 0.9


def test_background_of_tinted_paper_is_its_own_level():
    page = np.full((64, 64), 200, np.uint8)     # yellowish paper in gray
    page[30:33, 5:60] = 40
    low, _ = th.background_lowres(page, 16)
    assert abs(int(np.median(low)) - 200) <= 2
    flat = th.normalise(page, th.upsample(low, _, page.shape))
    assert flat[10, 10] >= 250 and flat[31, 30] < 80


def test_label_components_matches_opencv_statistics():
    rng = np.random.default_rng(3)
    ink = (rng.random((200, 300)) < 0.35).astype(np.uint8)
    c = label_components(ink)
    n, _, st, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    assert c.n == n
    assert np.array_equal(c.area[1:], st[1:, cv2.CC_STAT_AREA])
    assert np.array_equal(c.x0[1:], st[1:, cv2.CC_STAT_LEFT])
    assert np.array_equal(c.y0[1:], st[1:, cv2.CC_STAT_TOP])
    assert np.array_equal(c.width[1:], st[1:, cv2.CC_STAT_WIDTH])
    assert np.array_equal(c.height[1:], st[1:, cv2.CC_STAT_HEIGHT])


def test_label_components_of_blank_page():
    c = label_components(np.zeros((10, 10), np.uint8))
    assert c.n == 1 and c.lab.size == 0


def test_thickness_is_stroke_width_for_strokes():
    ink = np.zeros((60, 60), np.uint8)
    ink[5:55, 10:15] = 1                         # a 5-px stroke
    c = label_components(ink)
    assert c.thickness[1] == pytest.approx(5, rel=0.15)


def test_points_in_boxes_matches_brute_force():
    rng = np.random.default_rng(7)
    px, py = rng.uniform(0, 500, 300), rng.uniform(0, 300, 300)
    bx0, by0 = rng.uniform(0, 500, 80), rng.uniform(0, 300, 80)
    bx1, by1 = bx0 + rng.uniform(0, 120, 80), by0 + rng.uniform(0, 60, 80)
    pi, bi = points_in_boxes(px, py, bx0, by0, bx1, by1, 25.0)
    got = set(zip(pi.tolist(), bi.tolist()))
    inside = (px[:, None] >= bx0) & (px[:, None] <= bx1) & (py[:, None] >= by0) & (py[:, None] <= by1)
    want = set(zip(*map(lambda a: a.tolist(), np.nonzero(inside))))
    assert got == want


def test_points_in_boxes_empty_inputs():
    e = np.zeros(0)
    pi, bi = points_in_boxes(e, e, np.ones(1), np.ones(1), np.ones(1), np.ones(1), 4)
    assert pi.size == 0 and bi.size == 0


def test_any_per_and_local_density():
    assert any_per(np.array([1, 1]), np.array([False, True]), 3).tolist() == [False, True, False]
    px = np.array([5.0, 6.0, 7.0, 200.0])
    dens = local_density(px, px, None, (300, 300), 10.0, 1)
    assert dens.tolist() == [3.0, 3.0, 3.0, 1.0]


@pytest.mark.parametrize("dpi", [200, 300, 600])
def test_scale_is_measured_from_the_text_not_the_dpi_tag(dpi, make_layout):
    lay = make_layout(dpi)
    c = label_components((lay.page == 0).astype(np.uint8))
    sc = estimate_scale(c, dpi=96)                # the tag lies
    assert sc.source == "measured"
    assert sc.xheight == pytest.approx(21 * dpi / 300, rel=0.1)
    assert sc.stroke == pytest.approx(3.5 * dpi / 300, rel=0.35)


def test_scale_falls_back_to_dpi_without_text():
    ink = np.zeros((100, 100), np.uint8)
    ink[50, 50] = 1
    c = label_components(ink)
    assert estimate_scale(c, dpi=600).source == "dpi"
    sc = estimate_scale(c, dpi=None, fallback_dpi=300)
    assert sc.source == "fallback" and sc.xheight == pytest.approx(300 * 0.063)


def test_a_page_of_specks_around_a_few_letters_is_not_measured_from_the_specks():
    rng = np.random.default_rng(5)
    ink = np.zeros((1200, 900), np.uint8)
    for _ in range(120):                           # strewn blobs and streaks, 5-9 px
        y, x = rng.integers(20, 1150), rng.integers(20, 850)
        r = int(rng.integers(2, 5))
        cv2.circle(ink, (int(x), int(y)), r, 1, -1)
    for i in range(3):                             # a page number: three 'n's, 21 px, in a row
        x0 = 400 + 20 * i
        ink[1100:1121, x0:x0 + 3] = ink[1100:1121, x0 + 11:x0 + 14] = ink[1100:1103, x0:x0 + 14] = 1
    c = label_components(ink)
    sc = estimate_scale(c, dpi=300)
    assert sc.source == "dpi"                      # too little text to measure
    assert sc.xheight == pytest.approx(21, abs=2.5)  # capped by the three letters, not the specks' 5-9 px


def test_letter_spaced_capitals_are_a_row():
    from despeckled.clean.scale import in_a_row
    x0 = np.array([0, 35, 70, 300]); x1 = x0 + 19
    y1 = np.array([100, 101, 99, 100]); h = np.array([21, 22, 21, 21])
    assert in_a_row(x0, y1, x1, h).tolist() == [True, True, True, False]


def test_implausible_dpi_tags_are_ignored():
    assert plausible_dpi(72, 300) == (300.0, "fallback")
    assert plausible_dpi(None, 200) == (200.0, "fallback")
    assert plausible_dpi(400, 300) == (400.0, "dpi")


def test_label_components_with_more_labels_than_16_bits_hold():
    ink = np.zeros((600, 600), np.uint8)
    ink[::2, ::2] = 1                                   # 90 000 isolated pixels
    c = label_components(ink)
    assert c.n == 90_001 and c.labels.dtype == np.int32
    assert (c.area[1:] == 1).all()


def test_a_forms_character_boxes_do_not_outvote_its_letters():
    from despeckled.clean.scale import frames
    ink = np.zeros((200, 900), np.uint8)
    for i in range(30):                            # thirty character boxes, 30 px, each holding an 'n' 12 px tall
        x0 = 10 + 29 * i
        ink[20:50, x0:x0 + 26] = 1
        ink[22:48, x0 + 2:x0 + 24] = 0
        ink[30:42, x0 + 8:x0 + 10] = ink[30:42, x0 + 16:x0 + 18] = ink[30:32, x0 + 8:x0 + 18] = 1
    c = label_components(ink)
    boxes = np.flatnonzero(c.width[1:] == 26) + 1
    assert frames(c, boxes).all()
    assert not frames(c, np.flatnonzero(c.width[1:] == 10) + 1).any()
    assert estimate_scale(c, dpi=300).xheight == pytest.approx(12, abs=1.5)


def test_a_heading_among_many_stroke_built_specks_is_measured_from_the_heading():
    # A page of dust and thin streaks (stroke-built, so they pass for
    # letters) around one line of 30 px letters: the specks outnumber the
    # letters, but only the letters sit in a row, so only they vote.
    rng = np.random.default_rng(7)
    ink = np.zeros((1400, 1000), np.uint8)
    for _ in range(150):                           # streaks 8-10 px long, 2 px thick
        y, x = int(rng.integers(300, 1350)), int(rng.integers(20, 950))
        if rng.random() < 0.5:
            ink[y:y + 2, x:x + int(rng.integers(8, 11))] = 1
        else:
            ink[y:y + int(rng.integers(8, 11)), x:x + 2] = 1
    for i in range(16):                            # a heading: sixteen 'n's, 30 px, 4 px strokes
        x0 = 40 + 30 * i
        ink[100:130, x0:x0 + 4] = ink[100:130, x0 + 16:x0 + 20] = ink[100:104, x0:x0 + 20] = 1
    c = label_components(ink)
    sc = estimate_scale(c, dpi=300)
    assert sc.source == "measured"
    assert sc.xheight == pytest.approx(30, abs=2)


def test_a_forms_entries_in_their_boxes_do_not_outvote_its_labels():
    # forty 9 px labels' letters, and as many 23 px entries, each in a 46 px
    # character box: the labels' size is the page's x-height
    ink = np.zeros((400, 1300), np.uint8)
    for i in range(40):
        x0 = 10 + 30 * i
        ink[20:29, x0:x0 + 2] = ink[20:29, x0 + 6:x0 + 8] = ink[20:22, x0:x0 + 8] = 1          # a label 'n'
    for i in range(26):
        for row in (100, 200):
            x0 = 10 + 48 * i
            ink[row:row + 46, x0:x0 + 46] = 1; ink[row + 2:row + 44, x0 + 2:x0 + 44] = 0     # the box
            y0 = row + 12
            ink[y0:y0 + 23, x0 + 14:x0 + 17] = ink[y0:y0 + 23, x0 + 28:x0 + 31] = 1          # an entry 'n'
            ink[y0:y0 + 3, x0 + 14:x0 + 31] = 1
    c = label_components(ink)
    sc = estimate_scale(c, dpi=None)
    assert sc.source == "measured"
    assert sc.xheight == pytest.approx(9, abs=1.5)


def test_a_dpi_tag_the_pages_strokes_bear_out_is_trusted_a_lying_one_is_not():
    # a music-like page with no text to measure: staff lines, and notes (a
    # 3-4 px stem with a head) a stem's height and more apart, so no row
    ink = np.zeros((1200, 900), np.uint8)
    for staff in range(4):
        for line in range(5):
            y = 60 + staff * 280 + line * 20
            ink[y:y + 2, 50:850] = 1
        for k in range(7):
            x0 = 100 + 120 * k
            y0 = 60 + staff * 280 + 110
            ink[y0:y0 + 70, x0:x0 + 3] = 1
            cv2.ellipse(ink, (x0 - 6, y0 + 70), (8, 6), -20, 0, 360, 1, -1)
    c = label_components(ink)
    assert estimate_scale(c, dpi=300).source == "dpi-checked"
    assert estimate_scale(c, dpi=600).source == "dpi"          # strokes half what 600 dpi predicts
    assert estimate_scale(c, dpi=None).source == "fallback"
