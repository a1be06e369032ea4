"""Each keep/remove rule on a tiny hand-drawn page.

Scale: stroke width S = 3 px, x-height X = 12 px (taken as measured), so
glyphs are at least 6 px across and a 3x3 dot is a mark but not tiny. The
text line's letters are solid 9 x 12 blocks ('o's) standing on row BASE.
Coordinates are inclusive (y0, y1, x0, x1).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from despeckled.clean import CleanParams, clean_page
from despeckled.clean import rules as R
from despeckled.clean.marks import marks_of_ink

S, X = 3.0, 12.0
BASE = 31


def page(h: int = 60, w: int = 120) -> np.ndarray:
    return np.zeros((h, w), np.uint8)


def box(ink: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> None:
    ink[y0:y1 + 1, x0:x1 + 1] = 1


def letters(ink: np.ndarray, x0: int, n: int, gap: int = 3) -> int:
    """``n`` solid x-height letters from column ``x0``; the column after the last."""
    x = x0
    for _ in range(n):
        box(ink, BASE - 11, BASE, x, x + 8)
        x += 9 + gap
    return x - gap


def marks(ink, **kw):
    return marks_of_ink(ink, S, X, CleanParams(**kw))


def at(m, rule_out: np.ndarray, y: int, x: int) -> bool:
    """The rule's verdict for the component under pixel (y, x)."""
    label = int(m.c.labels[y, x])
    assert label > 0, "no ink there"
    return bool(rule_out[label])


def test_i_dot_over_a_stem_is_an_i_dot_and_over_a_ring_is_not():
    ink = page()
    box(ink, 20, 31, 20, 22)                          # an i's stem
    box(ink, 14, 16, 20, 22)                          # its dot
    box(ink, 20, 31, 40, 51); ink[23:29, 43:49] = 0   # an 'o' (a ring)
    box(ink, 14, 16, 45, 47)                          # the same dot over it
    m = marks(ink)
    out = R.i_dot(m)
    assert at(m, out, 15, 21)
    assert not at(m, out, 15, 46)


def test_period_on_the_baseline_after_a_letter_but_not_floating_mid_line():
    ink = page()
    end = letters(ink, 10, 3)
    box(ink, 29, 31, end + 3, end + 5)                # on the baseline
    end2 = letters(ink, 60, 3)
    box(ink, 23, 25, end2 + 3, end2 + 5)              # lifted half an x-height
    m = marks(ink)
    out = R.period(m)
    assert at(m, out, 30, end + 4)
    assert not at(m, out, 24, end2 + 4)


def test_hyphen_at_mid_line_but_not_on_the_baseline():
    ink = page()
    end = letters(ink, 10, 3)
    box(ink, 25, 26, end + 3, end + 7)                # 5 x 2 at mid-line
    end2 = letters(ink, 60, 3)
    box(ink, 30, 31, end2 + 3, end2 + 7)              # the same bar on the baseline
    m = marks(ink)
    out = R.hyphen(m)
    assert at(m, out, 25, end + 5)
    assert not at(m, out, 30, end2 + 5)


def test_quote_high_beside_a_letter_but_not_low():
    ink = page()
    end = letters(ink, 10, 3)
    box(ink, 18, 22, end + 3, end + 4)                # 2 x 5, top of the line
    end2 = letters(ink, 60, 3)
    box(ink, 27, 31, end2 + 3, end2 + 4)              # the same mark on the baseline
    m = marks(ink)
    out = R.quote(m)
    assert at(m, out, 20, end + 3)
    assert not at(m, out, 29, end2 + 3)


def test_the_dot_of_an_exclamation_mark_under_its_stem():
    ink = page()
    end = letters(ink, 10, 3)
    box(ink, 16, 27, end + 4, end + 6)                # the stem stops short of the baseline
    box(ink, 29, 31, end + 4, end + 6)                # the dot on the baseline
    end2 = letters(ink, 60, 3)
    box(ink, 34, 36, end2 - 5, end2 - 3)              # a dot under a letter, below the baseline
    m = marks(ink)
    out = R.under_stem(m)
    assert at(m, out, 30, end + 5)
    assert not at(m, out, 35, end2 - 4)


def test_dotted_zero_centred_inside_a_figure():
    ink = page()
    for x0 in (20, 50):
        box(ink, 11, 31, x0, x0 + 11); ink[14:29, x0 + 3:x0 + 9] = 0   # a zero, 12 x 21
    box(ink, 20, 22, 24, 26)                          # its dot, centred
    box(ink, 15, 17, 54, 56)                          # a dot high inside the other
    m = marks(ink)
    out = R.dotted_zero(m)
    assert at(m, out, 21, 25)
    assert not at(m, out, 16, 55)


def test_crowded_keeps_marks_with_a_neighbour_only_at_low_resolution():
    ink = page()
    box(ink, 10, 11, 10, 11); box(ink, 10, 11, 13, 14)    # two marks 1 px apart
    box(ink, 40, 41, 80, 81)                              # one alone
    low = marks_of_ink(ink, 1.0, 6.0)
    assert low.low_res
    out = R.crowded(low)
    assert at(low, out, 10, 10) and not at(low, out, 40, 80)
    assert not R.crowded(marks(ink)).any()


def test_darkness_rejects_a_mark_lighter_than_the_page_marks():
    ink, levels = page(40, 200), np.full((40, 200), 255, np.uint8)
    for i in range(10):
        box(ink, 10, 12, 10 + 15 * i, 12 + 15 * i)
        levels[10:13, 10 + 15 * i:13 + 15 * i] = 0
    box(ink, 30, 32, 100, 102)
    levels[30:33, 100:103] = 200                          # a light speck
    m = marks_of_ink(ink, S, X, levels=levels)
    in_text = m.mark & (m.cy < 20)
    out = R.darkness(m, in_text)
    assert at(m, out, 11, 11)
    assert not at(m, out, 31, 101)


def _pairs(m):
    return R.mark_pairs(m, np.ones(m.n, bool))


def test_umlaut_two_dots_over_a_letter_but_not_one():
    ink = page()
    box(ink, 20, 31, 20, 28)
    box(ink, 14, 16, 20, 22); box(ink, 14, 16, 25, 27)    # two dots over it
    box(ink, 20, 31, 60, 68)
    box(ink, 14, 16, 60, 62)                              # one dot, off-centre
    m = marks(ink)
    out = R.umlaut(m, _pairs(m))
    assert at(m, out, 15, 21) and at(m, out, 15, 26)
    assert not at(m, out, 15, 61)


def test_double_quote_two_tall_marks_high_on_a_line():
    ink = page()
    end = letters(ink, 10, 3)
    box(ink, 18, 22, end + 3, end + 4); box(ink, 18, 22, end + 7, end + 8)
    end2 = letters(ink, 60, 3)
    box(ink, 18, 22, end2 + 3, end2 + 4)                  # a single quote
    m = marks(ink)
    out = R.double_quote(m, _pairs(m))
    assert at(m, out, 20, end + 3) and at(m, out, 20, end + 7)
    assert not at(m, out, 20, end2 + 3)


def test_pair_keeps_the_upper_dot_of_a_colon_only_beside_a_kept_dot():
    ink = page()
    end = letters(ink, 10, 3)
    box(ink, 29, 31, end + 3, end + 5)                    # lower dot
    box(ink, 22, 24, end + 3, end + 5)                    # upper dot
    m = marks(ink)
    mp = _pairs(m)
    lower, upper = int(m.c.labels[30, end + 4]), int(m.c.labels[23, end + 4])
    kept = np.zeros(m.n, bool)
    assert not R.pair(m, mp, kept)[upper]
    kept[lower] = True
    out = R.pair(m, mp, kept)
    assert out[upper] and not kept[upper]                 # (the input is not modified)


def test_leader_a_row_of_dots_but_not_a_lone_dot():
    ink = page()
    for i in range(5):
        box(ink, 20, 22, 10 + 8 * i, 12 + 8 * i)
    box(ink, 45, 47, 100, 102)
    m = marks(ink)
    out = R.leader(m, _pairs(m))
    assert at(m, out, 21, 27)
    assert not at(m, out, 46, 101)


def test_halftone_a_dense_lattice_but_not_sparse_dots():
    ink = page(100, 200)
    for y in range(5, 80, 5):
        for x in range(5, 80, 5):
            box(ink, y, y + 1, x, x + 1)                  # a screen: 2x2 dots every 5 px
    for y in range(5, 80, 15):
        for x in range(120, 195, 15):
            box(ink, y, y + 1, x, x + 1)                  # sparse dots
    m = marks(ink)
    out = R.halftone(m)
    assert at(m, out, 40, 40)
    assert not at(m, out, 35, 135)


def test_picture_keeps_the_dots_strewn_in_a_pictures_box():
    ink = page(130, 280)
    for x0 in (10, 150):
        box(ink, 10, 109, x0, x0 + 99); ink[22:98, x0 + 12:x0 + 88] = 0    # a frame, 12 px thick
    for y in range(24, 96, 6):
        for x in range(24, 96, 6):
            box(ink, y, y + 1, x, x + 1)                  # many dots in the first
    for y in (30, 60, 90):
        box(ink, y, y + 1, 200, 201)                      # a few in the second
    m = marks(ink)
    out = R.picture(m)
    assert at(m, out, 30, 30)
    assert not at(m, out, 60, 200)


def test_dust_an_isolated_blob_but_not_a_letter_on_a_line():
    ink = page()
    box(ink, 40, 47, 100, 107)                            # 8 x 8, far from text
    end = letters(ink, 10, 4)
    box(ink, 24, 31, end + 4, end + 11)                   # the same blob ending a text line
    m = marks(ink)
    kept = np.zeros(m.n, bool)
    out = R.dust(m, kept)
    assert at(m, out, 43, 103)
    assert not at(m, out, 28, end + 6)
    assert not R.dust(marks(ink, remove_dust=False), kept).any()


def stroke(ink: np.ndarray, points, width: int = 1) -> None:
    """A polyline through ``points`` ((x, y) pairs), ``width`` px wide."""
    cv2.polylines(ink, [np.array(points, np.int32)], False, 1, width)


def scratched(ink: np.ndarray, y: int, x: int) -> bool:
    m = marks(ink)
    return at(m, R.scratch(m, np.zeros(m.n, bool)), y, x)


def text_block(h: int = 120, w: int = 200) -> np.ndarray:
    """A page with a text line at the top, for the page's scale to hold."""
    ink = page(h, w)
    letters(ink, 10, 8)
    return ink


def test_scratch_a_thin_bent_slanting_stroke_on_bare_paper():
    ink = text_block()
    stroke(ink, [(60, 100), (74, 86), (92, 80)])              # a hair: 1 px, bent, about 35 degrees
    stroke(ink, [(130, 105), (150, 75)])                      # a straight one, 2 px wide at 56 degrees
    assert scratched(ink, 86, 74)
    assert scratched(ink, 90, 140)
    m = marks(ink)
    d = R.classify(m)
    assert R.RULE_NAMES[d.rule[m.c.labels[86, 74]]] == "scratch" and d.dust[m.c.labels[86, 74]]
    assert not R.scratch(marks(ink, remove_dust=False), np.zeros(m.n, bool)).any()


def test_scratch_keeps_bars_rules_and_dashes_along_an_axis():
    ink = text_block()
    box(ink, 70, 95, 30, 30)                                  # a thin 'l' or '1', 1 px wide
    box(ink, 80, 80, 60, 80)                                  # a thin dash in an empty cell
    stroke(ink, [(110, 90), (150, 88)])                       # a hairline rule, skewed 3 degrees
    stroke(ink, [(175, 70), (171, 100)])                      # a thin stem leaning 8 degrees
    m = marks(ink)
    out = R.scratch(m, np.zeros(m.n, bool))
    assert m.glyph[m.c.labels[80, 30]] and m.glyph[m.c.labels[80, 70]]
    assert not out.any()


def test_scratch_keeps_a_regular_slash_and_a_thin_one_by_text_or_by_a_form():
    ink = text_block(160, 200)
    stroke(ink, [(175, 150), (187, 126)], width=3)            # a '/' as thick as the print, alone
    base = BASE + 50                                          # a second line: 'o/o' in a light face
    box(ink, base - 11, base, 100, 108)
    box(ink, base - 11, base, 122, 130)
    stroke(ink, [(111, base + 1), (119, base - 14)])          # the thin '/' between them
    ink[110:156, 20:70] = 1; ink[112:154, 22:68] = 0          # a form's box...
    stroke(ink, [(76, 150), (90, 125)])                       # ...and a thin stroke half an x-height off its edge
    m = marks(ink)
    out = R.scratch(m, np.zeros(m.n, bool))
    assert m.glyph[m.c.labels[138, 181]] and m.glyph[m.c.labels[base - 6, 115]]
    assert not at(m, out, 138, 181)
    assert not at(m, out, base - 6, 115)
    assert not at(m, out, 137, 83)


def test_scratch_keeps_a_piece_of_a_fading_stroke_that_points_at_the_rest_of_it():
    ink = text_block(160, 200)
    stroke(ink, [(20, 150), (60, 110)], width=4)             # a pen stroke...
    stroke(ink, [(78, 92), (96, 74)])                        # ...its faint end, broken off 2 x-heights on
    stroke(ink, [(150, 150), (168, 132)])                    # the same hair pointing at nothing
    m = marks(ink)
    out = R.scratch(m, np.zeros(m.n, bool))
    assert not at(m, out, 83, 87)
    assert at(m, out, 141, 159)


def test_scratch_keeps_a_signature_curve_and_thin_face_letters():
    ink = text_block(260, 300)
    t = np.linspace(0, 1, 60)
    flourish = np.stack([20 + 45 * t, 140 - 40 * t + 6 * np.sin(2 * np.pi * 2.5 * t)], 1).astype(np.int32)
    stroke(ink, flourish)
    # a light face, 1 px strokes, 1.5 to 2 x-heights tall, each letter alone
    for i, ch in enumerate("7VZ4K<2"):
        cv2.putText(ink, ch, (100 + 40 * (i % 4), 90 + 55 * (i // 4) + 15 * (i % 2)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.9, 1, 1)
    stroke(ink, [(100, 230), (110, 245), (125, 215)])         # a check mark
    stroke(ink, [(150, 245), (150 + 40, 245 - 40)])          # a slanting line five x-heights long
    m = marks(ink)
    out = R.scratch(m, np.zeros(m.n, bool))
    fx, fy = flourish[30]
    assert m.glyph[m.c.labels[fy, fx]]
    assert not out.any()


def test_stroke_axis_measures_tilt_width_and_bend():
    ink = page(80, 160)
    stroke(ink, [(10, 70), (50, 10)])                         # straight, 56 degrees off the horizontal
    box(ink, 10, 70, 70, 72)                                  # an upright stem, 3 px
    stroke(ink, [(90, 10), (110, 70), (130, 10)])             # a 'V'
    m = marks(ink)
    labels = np.array(sorted({int(m.c.labels[40, 30]), int(m.c.labels[40, 71]), int(m.c.labels[40, 100])}))
    a = R.stroke_axis(m.c, labels)
    by = {int(lab): i for i, lab in enumerate(labels)}
    hair, stem, vee = by[int(m.c.labels[40, 30])], by[int(m.c.labels[40, 71])], by[int(m.c.labels[40, 100])]
    assert 30 <= a.tilt[hair] <= 36 and a.bend[hair] < 0.02 and a.width[hair] < 1.6
    assert a.tilt[stem] < 1 and 2.5 < a.width[stem] < 3.5
    assert a.bend[vee] > 0.15


def test_classify_names_a_rule_for_every_component():
    ink = page()
    box(ink, 20, 31, 20, 22); box(ink, 14, 16, 20, 22)    # an i
    end = letters(ink, 30, 3)
    box(ink, 29, 31, end + 3, end + 5)                    # a period
    box(ink, 50, 50, 100, 100)                            # a one-pixel speck
    box(ink, 45, 47, 60, 62)                              # a dot alone
    box(ink, 40, 47, 100, 107)                            # dust
    m = marks(ink)
    d = R.classify(m)
    name = {(y, x): R.RULE_NAMES[d.rule[m.c.labels[y, x]]] for y, x in
            ((15, 21), (25, 21), (30, end + 4), (50, 100), (46, 61), (43, 103))}
    assert name == {(15, 21): "i-dot", (25, 21): "glyph", (30, end + 4): "period",
                    (50, 100): "tiny", (46, 61): "no-context", (43, 103): "dust"}
    removed = R.is_removal(d.rule)
    assert np.array_equal(removed[1:], (d.speck | d.dust)[1:])
    assert np.array_equal(d.kept_small, m.mark & ~removed)


@pytest.mark.parametrize("mode", ["binary", "gray"])
def test_page_result_table_agrees_with_the_removed_mask(layout, mode):
    r = clean_page(layout.page, CleanParams(mode=mode, decider="rules"))
    t = r.components
    assert t.label.size == r.stats["components"] and t.reduction == 1
    assert np.array_equal(t.removed, R.is_removal(t.rule))
    # every removed pixel lies in a box of a removed component
    ys, xs = np.nonzero(r.removed)
    gone = t.removed
    inside = ((ys[:, None] >= t.y0[gone]) & (ys[:, None] <= t.y1[gone])
              & (xs[:, None] >= t.x0[gone]) & (xs[:, None] <= t.x1[gone])).any(axis=1)
    assert inside.all()
    assert {"glyph", "i-dot", "period", "dust"} <= set(t.rule_names())


def test_gentle_mode_removes_a_lone_solid_blob_but_not_a_lone_figure_of_its_size():
    # x-height 8 px: gentle mode (a period is a pixel or two). A lone solid
    # blob is dust whatever the text's size; a lone ring of the same size
    # (an '0', a page number) is built of strokes and stays.
    ink = page(60, 160)
    box(ink, 20, 25, 20, 25)                              # a solid 6 x 6 blob
    box(ink, 20, 27, 100, 105); ink[22:26, 102:104] = 0   # a ring 6 x 8, strokes 2
    m = marks_of_ink(ink, 2.0, 8.0)
    assert m.low_res
    out = R.dust(m, np.zeros(m.n, bool))
    assert at(m, out, 22, 22)
    assert not at(m, out, 21, 103)


def test_with_a_borne_out_dpi_tag_dust_is_only_a_solid_blob_and_tiny_specks_go():
    # a music page read from its DPI tag: not gentle (a lone 1 px speck
    # goes as tiny), but a bold fingering '2' as big as dust stays
    from despeckled.clean.components import label_components
    from despeckled.clean.marks import marks_of
    from despeckled.clean.scale import Scale
    ink = page(80, 200)
    box(ink, 20, 37, 20, 29); ink[25:30, 20:26] = 0; ink[31:34, 24:30] = 0   # a bold '2'-ish blob, 10 x 18
    box(ink, 20, 31, 100, 111)                                              # a solid 12 x 12 blob
    ink[60, 150] = 1                                                        # a lone pixel
    c = label_components((ink * 255).astype(np.uint8))
    lev = np.zeros(c.lab.size, np.uint8)
    m = marks_of(c, Scale(3.45, 18.9, "dpi-checked"), CleanParams(), lev, 0.0, 255.0)
    assert not m.low_res and m.guessed
    out = R.dust(m, np.zeros(m.n, bool))
    assert at(m, out, 23, 103)
    assert not at(m, out, 21, 22)
    assert m.tiny[int(m.c.labels[60, 150])]
