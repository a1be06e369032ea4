"""The hard guards (clean/guards.py) and the per-line scale (clean/lines.py),
each on tiny hand-made ink arrays: what each claims, and what it must not."""

import cv2
import numpy as np
import pytest

from despeckled.clean import guards as G
from despeckled.clean.components import label_components
from despeckled.clean.lines import letter_candidates, line_scale

X, S = 21.0, 3.0       # x-height and stroke of the hand-made body text


def comps(ink):
    return label_components(ink.astype(np.uint8))


def label_at(c, y, x):
    return int(c.labels[np.array([y]), np.array([x])][0])


def draw_o(ink, x0, y0, h, s, w=None):
    """A rectangular 'o': a ring ``h`` tall, strokes ``s`` wide."""
    w = w or int(0.8 * h)
    ink[y0:y0 + h, x0:x0 + w] = 1
    ink[y0 + s:y0 + h - s, x0 + s:x0 + w - s] = 0


def draw_n(ink, x0, y0, h, s):
    w = int(0.65 * h)
    ink[y0:y0 + h, x0:x0 + s] = 1
    ink[y0:y0 + h, x0 + w - s:x0 + w] = 1
    ink[y0:y0 + s, x0:x0 + w] = 1


def body_line(ink, x0, y0, n, h=21, s=3, gap=5):
    x = x0
    for _ in range(n):
        draw_n(ink, x, y0, h, s)
        x += int(0.65 * h) + gap
    return x


# ---------------------------------------------------------------- line scale

def test_headline_period_gets_the_headline_scale_and_body_period_the_body_scale():
    ink = np.zeros((260, 700), np.uint8)
    x = body_line(ink, 20, 200, 10)                  # body: 21 px letters
    ink[217:221, x:x + 4] = 1                        # body period
    hx = 20
    for _ in range(4):                               # headline: 70 px letters, 10 px strokes
        draw_o(ink, hx, 40, 70, 10)
        hx += 70
    ink[96:110, hx + 4:hx + 18] = 1                  # headline period, 14 px
    c = comps(ink)
    ls = line_scale(c, X, S)
    head_dot, body_dot = label_at(c, 100, hx + 10), label_at(c, 218, x + 1)
    assert ls.xheight[head_dot] == pytest.approx(70, abs=1)
    assert ls.stroke[head_dot] > 2 * S
    assert ls.xheight[body_dot] == pytest.approx(21, abs=1)


def test_a_component_with_no_letters_near_gets_the_page_scale():
    ink = np.zeros((200, 400), np.uint8)
    body_line(ink, 20, 20, 10)
    ink[150:153, 350:353] = 1
    c = comps(ink)
    ls = line_scale(c, X, S)
    k = label_at(c, 151, 351)
    assert (ls.xheight[k], ls.stroke[k], ls.letters[k]) == (X, S, 0)


def test_a_lone_blob_does_not_vouch_for_itself():
    # a letter-shaped blob alone on the page: its line is not itself
    ink = np.zeros((100, 100), np.uint8)
    draw_o(ink, 40, 40, 30, 6)
    c = comps(ink)
    assert letter_candidates(c, X, S)[1]
    assert line_scale(c, X, S).letters[1] == 0


# ---------------------------------------------------------------- glyph_shaped

def test_lone_digit_and_letter_are_glyphs_and_dust_is_not():
    ink = np.zeros((120, 300), np.uint8)
    draw_o(ink, 20, 20, 30, 3)                       # a lone '0' (a figure, taller than x)
    draw_n(ink, 80, 20, 21, 3)                       # a one-letter word
    cv2.circle(ink, (200, 40), 9, 1, -1)             # a dust clump ~250 px
    ink[90:92, 20:200] = 1                           # a hairline rule: too big
    c = comps(ink)
    g = G.glyph_shaped(c, line_scale(c, X, S), X, S)
    assert g[label_at(c, 20, 25)] and g[label_at(c, 20, 81)]
    assert not g[label_at(c, 40, 200)]
    assert not g[label_at(c, 90, 100)]


def test_bold_figure_with_a_counter_is_a_glyph_but_a_solid_blob_its_size_is_not():
    ink = np.zeros((80, 200), np.uint8)
    draw_o(ink, 20, 10, 24, 5, w=16)                 # a bold '0': 5 px strokes, a counter
    ink[10:34, 100:116] = 1                          # a solid blob of the same box
    c = comps(ink)
    g = G.glyph_shaped(c, line_scale(c, X, S), X, S)
    assert g[label_at(c, 10, 22)]
    assert not g[label_at(c, 20, 105)]


def test_small_marks_are_not_glyph_shaped():
    ink = np.zeros((60, 60), np.uint8)
    ink[20:25, 20:25] = 1                            # a period-sized dot
    c = comps(ink)
    assert not G.glyph_shaped(c, line_scale(c, X, S), X, S).any()


def test_shape_measures_counts_holes_of_the_selected_only():
    ink = np.zeros((40, 120), np.uint8)
    draw_o(ink, 5, 5, 20, 3)
    ink[5:25, 40:60] = 1
    ink[8:11, 43:46] = 0
    ink[14:17, 50:53] = 0                            # two holes
    draw_o(ink, 80, 5, 20, 3)                        # not selected
    c = comps(ink)
    sel = np.zeros(c.n, bool)
    sel[[label_at(c, 5, 6), label_at(c, 5, 41)]] = True
    m = G.shape_measures(c, sel)
    assert m.holes[label_at(c, 5, 6)] == 1
    assert m.holes[label_at(c, 5, 41)] == 2
    assert m.holes[label_at(c, 5, 81)] == 0 and m.radius[label_at(c, 5, 81)] == 0


# ---------------------------------------------------------------- stacked_pair

def test_colon_and_clef_dots_pair_but_a_lone_dot_or_unequal_pair_does_not():
    ink = np.zeros((80, 200), np.uint8)
    ink[20:25, 20:25] = ink[30:35, 20:25] = 1        # colon, tight (receipt font)
    ink[20:26, 60:66] = ink[40:46, 60:66] = 1        # clef dots, wider apart
    ink[50:54, 120:124] = 1                          # a lone dot
    ink[20:23, 160:163] = ink[30:38, 160:168] = 1    # a speck over a bigger blob
    c = comps(ink)
    p = G.stacked_pair(c, np.ones(c.n, bool))
    assert p[label_at(c, 20, 20)] and p[label_at(c, 30, 20)]
    assert p[label_at(c, 20, 60)] and p[label_at(c, 40, 60)]
    assert not p[label_at(c, 50, 120)]
    assert not p[label_at(c, 20, 160)] and not p[label_at(c, 30, 160)]


def test_side_by_side_dots_are_not_a_stacked_pair():
    ink = np.zeros((40, 60), np.uint8)
    ink[10:14, 10:14] = ink[10:14, 20:24] = 1
    c = comps(ink)
    assert not G.stacked_pair(c, np.ones(c.n, bool)).any()


# ---------------------------------------------------------------- regular_row

def test_dashed_separator_and_code_column_are_rows_random_specks_are_not():
    ink = np.zeros((200, 300), np.uint8)
    for x in range(10, 200, 16):
        ink[10:13, x:x + 10] = 1                     # a dashed receipt separator
    for y in range(40, 150, 12):
        ink[y:y + 6, 250:256] = 1                    # a column of code modules
    rng = np.random.default_rng(3)
    for y, x in zip(rng.integers(60, 190, 15), rng.integers(10, 200, 15)):
        ink[y:y + 3, x:x + 3] = 1                    # random specks
    c = comps(ink)
    r = G.regular_row(c, np.ones(c.n, bool))
    assert r[label_at(c, 10, 10)] and r[label_at(c, 10, 186)]
    assert r[label_at(c, 40, 250)] and r[label_at(c, 148, 250)]
    specks = np.unique(c.labels[60:, :240][ink[60:, :240] > 0])
    assert r[specks].mean() < 0.2


def test_uneven_pitch_is_not_a_row():
    ink = np.zeros((30, 200), np.uint8)
    for x in (10, 18, 50, 58, 120):
        ink[10:13, x:x + 3] = 1
    c = comps(ink)
    assert not G.regular_row(c, np.ones(c.n, bool)).any()


# ---------------------------------------------------------------- in_dark_field

def test_counters_of_reverse_text_are_inside_the_dark_field():
    ink = np.zeros((120, 400), np.uint8)
    ink[10:110, 10:390] = 1                          # a dark band
    for x0 in (40, 120, 200):                        # white 'O's cut out, their counters left as ink
        ink[30:90, x0:x0 + 50] = 0
        ink[42:78, x0 + 12:x0 + 38] = 1
    ink[115:118, 50:53] = 1                          # a speck under the band
    c = comps(ink)
    f = G.in_dark_field(c, X)
    assert f[label_at(c, 50, 55)] and f[label_at(c, 50, 215)]
    assert not f[label_at(c, 10, 10)]               # the field itself is not "inside"
    assert not f[label_at(c, 116, 51)]


def test_a_thin_frame_is_not_a_dark_field():
    ink = np.zeros((200, 200), np.uint8)
    ink[5:195, 5:8] = ink[5:195, 192:195] = ink[5:8, 5:195] = ink[192:195, 5:195] = 1
    ink[100:103, 100:103] = 1                        # a speck inside the frame
    c = comps(ink)
    assert not G.in_dark_field(c, X).any()


# ---------------------------------------------------------------- beside_letter, between_glyphs

def test_headline_period_beside_its_letter_but_not_a_blob_a_word_space_off():
    ink = np.zeros((150, 500), np.uint8)
    draw_o(ink, 20, 20, 70, 10)
    ink[76:90, 100:114] = 1                          # period 10 px after a 70 px letter
    ink[76:90, 250:264] = 1                          # same blob 160 px off
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    b = G.beside_letter(c, ~letters, letters)
    assert b[label_at(c, 80, 105)]
    assert not b[label_at(c, 80, 255)]


def test_minus_between_figures_is_claimed_a_round_speck_there_is_not():
    ink = np.zeros((60, 200), np.uint8)
    draw_o(ink, 10, 20, 21, 3)
    ink[29:32, 31:39] = 1                            # a minus, 8 x 3
    draw_o(ink, 43, 20, 21, 3)
    draw_o(ink, 100, 20, 21, 3)
    ink[28:32, 122:126] = 1                          # a round speck, 4 x 4
    draw_o(ink, 130, 20, 21, 3)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    b = G.between_glyphs(c, ~letters, letters, line_scale(c, X, S, letters))
    assert b[label_at(c, 30, 33)]
    assert not b[label_at(c, 29, 123)]



# ---------------------------------------------------------------- minus_sign, colon_on_line

def draw_zero(ink, x0, y0, h=21, s=3):
    draw_o(ink, x0, y0, h, s, w=int(0.7 * h))


def test_bold_minus_before_a_digit_is_claimed_the_same_bar_off_any_line_is_not():
    # "Rounding :  -0.02": a minus 10 x 7 (a bold line), a glyph on its right
    # only -- between_glyphs wants glyphs on both sides and a slimmer dash
    ink = np.zeros((80, 300), np.uint8)
    ink[30:37, 40:50] = 1                            # the minus, 1 px before the '0'
    draw_zero(ink, 51, 20, 26, 5)
    draw_zero(ink, 75, 20, 26, 5)
    ink[30:37, 200:210] = 1                          # the same bar, no glyph near
    ink[60:64, 41:45] = 1                            # a round speck under the line
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    m = G.minus_sign(c, ~letters, letters, ls)
    assert m[label_at(c, 33, 45)]
    assert not G.between_glyphs(c, ~letters, letters, ls)[label_at(c, 33, 45)]
    assert not m[label_at(c, 33, 205)]
    assert not m[label_at(c, 62, 43)]


def test_a_bar_on_the_baseline_or_too_thick_is_no_minus():
    ink = np.zeros((80, 300), np.uint8)
    ink[41:45, 40:50] = 1                            # an underscore-like bar at the baseline
    draw_zero(ink, 52, 20, 26, 5)
    ink[26:40, 140:152] = 1                          # a blob as thick as the x-height
    draw_zero(ink, 153, 20, 26, 5)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    m = G.minus_sign(c, ~letters, letters, line_scale(c, X, S, letters))
    assert not m[label_at(c, 43, 45)]
    assert not m[label_at(c, 30, 145)]


def test_colon_a_word_space_off_is_claimed_with_dots_a_pixel_apart_in_size():
    # "Sub Total   :": 3 x 4 and 4 x 4 dots, the lower on the baseline, two
    # x-heights after the word; stacked_pair's quarter tolerance misses them
    ink = np.zeros((80, 400), np.uint8)
    end = body_line(ink, 10, 30, 4)                  # x-height 21, baseline at row 50
    col = end + 40
    ink[31:35, col:col + 3] = 1
    ink[47:51, col:col + 4] = 1
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    k = G.colon_on_line(c, ~letters, letters, line_scale(c, X, S, letters))
    top, bottom = label_at(c, 32, col + 1), label_at(c, 48, col + 1)
    assert k[top] and k[bottom]
    assert not G.stacked_pair(c, ~letters)[top]


def test_the_same_dots_off_any_text_line_are_not_a_colon():
    ink = np.zeros((200, 400), np.uint8)
    body_line(ink, 10, 30, 4)
    ink[131:135, 300:303] = 1                        # the same pair, far below the line
    ink[147:151, 300:304] = 1
    ink[170:174, 100:103] = 1                        # a single dot of that size
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    k = G.colon_on_line(c, ~letters, letters, line_scale(c, X, S, letters))
    assert not k.any()


def test_a_thin_fonts_colon_of_a_two_and_a_one_pixel_dot_is_claimed():
    # a receipt at 150 dpi in a thin font: x-height 9, stroke 2; the colon's
    # dots came out 2 and 1 pixels (an area ratio of a half)
    ink = np.zeros((40, 120), np.uint8)
    for x0 in (10, 19, 28):
        ink[10:19, x0:x0 + 2] = ink[10:12, x0:x0 + 6] = 1          # 9 px tall letters
    ink[12:14, 38] = 1                                              # the colon's upper dot...
    ink[18, 38] = 1                                                 # ... and its lower one, on the baseline
    c = comps(ink)
    letters = c.height >= 9
    k = G.colon_on_line(c, ~letters, letters, line_scale(c, 9.0, 2.0, letters))
    assert k[label_at(c, 12, 38)] and k[label_at(c, 18, 38)]


def _digits_with_points(gaps):
    """Figures 11 px tall (stroke 2) on one baseline (row 30), each pair
    ``gaps[i]`` apart with a 1 x 2 point in the middle of the gap, or
    (a (left, right) tuple) that far from each figure."""
    ink = np.zeros((50, 40 + 30 * len(gaps)), np.uint8)
    x, points = 10, []
    for g in gaps:
        ink[20:31, x:x + 2] = ink[20:22, x:x + 7] = ink[29:31, x:x + 7] = 1     # a '[' of a figure
        left, right = g if isinstance(g, tuple) else (g, g)
        px = x + 7 + left
        ink[29:31, px] = 1
        points.append(px)
        x = px + 1 + right
    ink[20:31, x:x + 2] = ink[20:22, x:x + 7] = ink[29:31, x:x + 7] = 1
    return ink, points


def test_a_decimal_point_between_figures_is_claimed_even_in_a_monospaced_cell():
    ink, points = _digits_with_points([1, 5])           # "1.5" tight, then a monospaced "1 . 5"
    c = comps(ink)
    letters = c.height >= 9
    got = G.point_between(c, ~letters, letters, line_scale(c, 11.0, 2.0, letters))
    assert got[label_at(c, 30, points[0])] and got[label_at(c, 30, points[1])]


def test_a_point_close_to_one_side_only_or_off_the_baseline_is_not_claimed():
    ink, points = _digits_with_points([(1, 6), 2])      # a speck after a figure, in the space; ...
    ink[29:31, points[1]] = 0
    ink[24:26, points[1]] = 1                           # ... a point at mid-height
    c = comps(ink)
    letters = c.height >= 9
    got = G.point_between(c, ~letters, letters, line_scale(c, 11.0, 2.0, letters))
    assert not got[label_at(c, 30, points[0])]
    assert not got[label_at(c, 25, points[1])]


def test_a_fleck_a_fraction_of_a_stroke_between_letters_is_not_claimed():
    ink, points = _digits_with_points([3])
    ink[29:31, points[0]] = 0
    ink[30, points[0]] = 1                              # one pixel, where strokes are 3 wide
    c = comps(ink)
    letters = c.height >= 9
    ls = line_scale(c, 11.0, 3.0, letters)
    assert not G.point_between(c, ~letters, letters, ls)[label_at(c, 30, points[0])]


def test_guard_removals_keeps_minus_and_colon_and_removes_an_isolated_speck():
    ink = np.zeros((200, 400), np.uint8)
    end = body_line(ink, 10, 30, 4)
    col = end + 40
    ink[31:35, col:col + 3] = ink[47:51, col:col + 4] = 1     # colon a word space off
    ink[37:42, col + 30:col + 38] = 1                         # a minus before a '0'
    draw_zero(ink, col + 39, 30)
    ink[137:142, 300:308] = 1                                 # a speck of the minus's size, off any line
    ink[160:164, 100:103] = 1                                 # a speck of a colon dot's size
    c = comps(ink)
    removing = ~letter_candidates(c, X, S)
    removing[0] = False
    g = G.guard_removals(c, X, S, removing, np.zeros(c.n, bool), np.zeros(c.n, int), 250.0)
    name = {lab: (G.GUARD_NAMES[k - 1] if k else None) for lab, k in enumerate(g.code)}
    assert name[label_at(c, 32, col + 1)] == name[label_at(c, 48, col + 1)] == "colon_on_line"
    assert name[label_at(c, 39, col + 33)] == "minus_sign"
    assert name[label_at(c, 139, 303)] is None
    assert name[label_at(c, 161, 101)] is None


# ---------------------------------------------------------------- print_dark, guard_code

def test_print_dark_follows_the_glyphs_not_a_black_bar():
    # glyphs at level ~90, one black bar at 0: light print at 150 is print
    # (within 0.4 of 90..250); show-through at 200 is not
    darkest = np.array([255, 0, 85, 90, 95, 150, 200])
    glyphs = np.array([False, False, True, True, True, False, False])
    pd = G.print_dark(darkest, glyphs, paper=250.0, contrast=0.4)
    assert pd.tolist() == [False, True, True, True, True, True, False]


def test_print_dark_without_glyphs_claims_nothing():
    assert not G.print_dark(np.array([255, 10]), np.zeros(2, bool), 250.0, 0.4).any()


def test_guard_code_names_the_first_guard_that_claims():
    n = 4
    claims = {name: np.zeros(n, bool) for name in G.GUARD_NAMES}
    claims["regular_row"][[1, 2]] = True
    claims["glyph_shaped"][2] = True
    code = G.guard_code(claims, n)
    assert [G.GUARD_NAMES[k - 1] if k else None for k in code] == [None, "regular_row", "glyph_shaped", None]


# ---------------------------------------------------------------- beside_graphic

def draw_note(ink, x0, y0, sp=16, s=3):
    """A filled note head with a stem going up, ``sp`` the staff space."""
    cv2.ellipse(ink, (x0, y0), (int(0.62 * sp), int(0.45 * sp)), -20, 0, 360, 1, -1)
    ink[y0 - int(3.3 * sp):y0, x0 + int(0.62 * sp) - s:x0 + int(0.62 * sp)] = 1


def test_staccato_and_augmentation_dots_by_a_note_are_claimed_a_speck_on_paper_is_not():
    ink = np.zeros((200, 300), np.uint8)
    for i in range(5):                                  # a staff, 16 px spaces
        ink[26 + 16 * i:28 + 16 * i, 10:220] = 1
    draw_note(ink, 60, 90)                              # a note on the bottom line
    cv2.circle(ink, (60 + 10 + 7, 82), 3, 1, -1)        # augmentation dot, right of the head, in a space
    cv2.circle(ink, (60, 90 + 18), 3, 1, -1)            # staccato dot, below the head
    cv2.circle(ink, (260, 170), 3, 1, -1)               # the same dot, far from any ink
    c = comps(ink)
    cand = np.ones(c.n, bool)
    got = G.beside_graphic(c, cand, letter_candidates(c, X, S), X)
    assert got[label_at(c, 82, 77)] and got[label_at(c, 108, 60)]
    assert not got[label_at(c, 170, 260)]
    assert not got[label_at(c, 90, 60)]                 # the staff and note are no candidate dot


def test_a_dot_by_a_letter_or_a_streak_by_a_note_is_not_claimed():
    ink = np.zeros((160, 300), np.uint8)
    draw_o(ink, 20, 40, 21, 3)
    cv2.circle(ink, (48, 58), 3, 1, -1)                 # a dot by a letter: the text rules judge it
    draw_note(ink, 200, 90)
    ink[104:106, 190:204] = 1                           # a thin streak under the note: not round
    c = comps(ink)
    got = G.beside_graphic(c, np.ones(c.n, bool), letter_candidates(c, X, S), X)
    assert not got[label_at(c, 58, 48)]
    assert not got[label_at(c, 105, 195)]


# ---------------------------------------------------------------- enclosed, inside_block, a figure with a dot

def test_the_dot_of_a_dotted_zero_is_enclosed_a_speck_beside_it_is_not():
    ink = np.zeros((60, 120), np.uint8)
    draw_zero(ink, 10, 10)
    ink[19:22, 16:19] = 1                              # the dot inside
    ink[19:22, 40:43] = 1                              # a speck beside
    c = comps(ink)
    got = G.enclosed(c, np.ones(c.n, bool), X)
    assert got[label_at(c, 20, 17)] and not got[label_at(c, 20, 41)]


def test_lone_modules_at_the_edge_of_a_small_code_are_inside_a_block():
    rng = np.random.default_rng(3)
    m = 4                                              # module, px (a 20 px x-height: a 5 px grid)
    grid = rng.random((21, 21)) < 0.5
    grid[0] = False                                    # the top row: one lone module, a module off the rest
    col = 10
    grid[0, col] = grid[2, col] = True
    grid[1, col - 1:col + 2] = False
    page = np.zeros((300, 400), np.uint8)
    page[50:50 + 21 * m, 50:50 + 21 * m] = np.kron(grid, np.ones((m, m), np.uint8))
    page[250:250 + m, 300:300 + m] = 1                 # the same square on bare paper
    c = comps(page)
    lone = label_at(c, 51, 50 + col * m + 1)
    assert c.area[lone] == m * m
    got = G.inside_block(c, 20.0, np.ones(c.n, bool))
    assert got[lone]
    assert not got[label_at(c, 251, 301)]


def test_a_digit_with_a_dot_run_into_it_is_glyph_shaped_a_blob_its_size_is_not():
    ink = np.zeros((80, 120), np.uint8)
    ink[10:31, 20:23] = 1                              # a '1', 21 px, stroke 3
    cv2.circle(ink, (21, 34), 4, 1, -1)                # a dot run into its foot
    cv2.ellipse(ink, (80, 25), (8, 12), 0, 0, 360, 1, -1)   # a solid blob as tall
    c = comps(ink)
    g = G.glyph_shaped(c, line_scale(c, X, S), X, S)
    assert g[label_at(c, 15, 21)]
    assert not g[label_at(c, 25, 80)]


def test_a_blurred_i_dot_over_its_stem_is_claimed_a_dot_over_an_n_or_far_above_is_not():
    ink = np.zeros((80, 200), np.uint8)
    ink[30:51, 20:23] = 1                              # an 'i' body, 21 px
    ink[22:24, 21:23] = 1                              # its dot, shrunk by blur to 2 x 2, 6 px up
    draw_n(ink, 60, 30, 21, 3)                         # an 'n'
    ink[22:24, 66:68] = 1                              # the same dot over the 'n'
    ink[30:51, 120:123] = 1                            # another 'i' body
    ink[2:4, 121:123] = 1                              # a dot 26 px above it: no i-dot
    c = comps(ink)
    got = G.dot_over_stem(c, np.ones(c.n, bool), line_scale(c, X, S), S)
    assert got[label_at(c, 22, 21)]
    assert not got[label_at(c, 22, 66)]
    assert not got[label_at(c, 2, 121)]


def test_an_asterisk_wedged_between_figures_is_claimed_one_a_word_space_off_is_not():
    ink = np.zeros((60, 220), np.uint8)
    draw_zero(ink, 10, 20)
    ink[23:31, 32:40] = 1                              # an asterisk-sized blot, 8 x 8, 3-8 px from the figures
    draw_zero(ink, 43, 20)
    draw_zero(ink, 100, 20)
    ink[23:31, 135:143] = 1                            # the same blot, 20 px off the next figure
    draw_zero(ink, 162, 20)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    got = G.between_glyphs(c, ~letters, letters, ls, gap=G.WEDGED_GAP, min_size=G.WEDGED_MIN_SIZE, dashes_only=False)
    assert got[label_at(c, 27, 35)]
    assert not got[label_at(c, 27, 138)]


def test_pieces_of_a_broken_figure_beside_a_letter_are_claimed_a_speck_by_an_i_is_not():
    ink = np.zeros((60, 200), np.uint8)
    draw_n(ink, 10, 20, 21, 3)
    ink[20:23, 34:43] = 1                              # a '3' faded into three pieces
    ink[26:31, 40:43] = 1
    ink[34:41, 40:43] = ink[38:41, 34:40] = 1
    ink[20:41, 100:103] = 1; ink[13:16, 100:103] = 1   # an 'i' with its dot ...
    ink[37:41, 107:111] = 1                            # ... and a speck in its period's place
    draw_n(ink, 140, 20, 21, 3)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    stems = (c.height >= 0.9 * ls.xheight) & (c.width <= 0.4 * ls.xheight)
    got = G.broken_glyph(c, ~letters, letters, ls, ~stems)
    assert got[label_at(c, 21, 38)] and got[label_at(c, 28, 41)] and got[label_at(c, 39, 36)]
    assert not got[label_at(c, 38, 108)]


def test_a_bold_letter_alone_and_a_thin_lattice_glyph_are_glyph_shaped_a_solid_block_is_not():
    ink = np.zeros((80, 260), np.uint8)
    ink[20:50, 20:25] = ink[20:50, 51:56] = ink[33:38, 25:51] = 1   # a bold 'H': 5-px strokes, the page's are 3
    for k in (0, 8, 16):                                           # a thin lattice glyph with four holes
        ink[22 + k, 150:167] = 1
        ink[22:39, 150 + k] = 1
    ink[20:50, 210:240] = 1                                        # a solid block as tall: dust
    c = comps(ink)
    g = G.glyph_shaped(c, line_scale(c, X, S), X, S)
    assert g[label_at(c, 30, 22)], "bold letter"
    assert g[label_at(c, 22, 152)], "thin glyph with four holes"
    assert not g[label_at(c, 30, 220)]


def test_a_top_bar_broken_off_a_figure_is_claimed_an_accent_speck_and_a_round_dot_are_not():
    ink = np.zeros((80, 260), np.uint8)
    draw_n(ink, 10, 20, 21, 3)                                     # capital-height 'n's either side
    ink[20:23, 30:42] = 1                                          # a '5' whose top bar broke off, a pixel up
    ink[24:30, 30:33] = ink[27:30, 30:42] = ink[29:41, 39:42] = ink[38:41, 30:42] = 1
    draw_n(ink, 50, 20, 21, 3)
    draw_n(ink, 100, 20, 21, 3)                                    # capital 'n', then an x-height 'n' ...
    draw_n(ink, 120, 27, 14, 3)
    ink[24:26, 121:127] = 1                                        # ... with a flat speck touching its top
    draw_n(ink, 150, 20, 21, 3)
    ink[23:27, 170:174] = 1                                        # a round dot a pixel over a short stem
    ink[28:41, 170:173] = 1
    draw_n(ink, 190, 20, 21, 3)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    cand = np.zeros(c.n, bool)
    for y, x in ((21, 35), (25, 123), (25, 171)):
        cand[label_at(c, y, x)] = True
    got = G.letter_piece(c, cand, letters & ~cand, ls, S)
    assert got[label_at(c, 21, 35)]
    assert not got[label_at(c, 25, 123)]           # the 'n' and speck reach 16 px, the letters 21
    assert not got[label_at(c, 25, 171)]           # round: no broken stroke


def test_a_figure_faded_into_three_pieces_alone_in_its_column_is_claimed_two_specks_are_not():
    ink = np.zeros((60, 260), np.uint8)
    draw_n(ink, 10, 20, 21, 3)
    draw_n(ink, 30, 20, 21, 3)
    ink[20:23, 80:89] = 1                              # a '5', 45 px (two x-heights) off, in three pieces
    ink[25:30, 80:83] = ink[27:30, 83:89] = 1
    ink[32:41, 86:89] = ink[38:41, 80:85] = 1
    ink[20:24, 180:184] = ink[29:33, 182:186] = 1      # two specks as far off the other way
    draw_n(ink, 230, 20, 21, 3)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    got = G.broken_glyph(c, ~letters, letters, ls)
    assert got[label_at(c, 21, 84)] and got[label_at(c, 28, 81)] and got[label_at(c, 35, 87)]
    assert not got[label_at(c, 21, 181)] and not got[label_at(c, 30, 183)]


def test_a_short_hyphen_between_figures_is_claimed():
    ink = np.zeros((60, 120), np.uint8)
    draw_n(ink, 10, 20, 21, 3)
    ink[30:33, 30:36] = 1                              # a hyphen 6 px long: 0.29 x-height
    draw_n(ink, 40, 20, 21, 3)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    got = G.between_glyphs(c, ~letters, letters, line_scale(c, X, S, letters))
    assert got[label_at(c, 31, 32)]


def test_a_short_minus_at_mid_line_before_a_figure_is_claimed_the_same_bar_low_is_not():
    # "-0.09" on a line of figures 26 px tall: the minus is 6 px, under 0.3
    # of the height read as the line's x-height; the same bar in a period's
    # place (low, after the figure) is a speck
    ink = np.zeros((80, 300), np.uint8)
    ink[33:36, 43:49] = 1                            # the minus, mid-line, 2 px before the '0'
    draw_zero(ink, 51, 20, 26, 5)
    draw_zero(ink, 75, 20, 26, 5)
    draw_zero(ink, 150, 20, 26, 5)
    ink[42:45, 172:178] = 1                          # the same bar low after a figure
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    m = G.minus_sign(c, ~letters, letters, ls)
    assert ls.xheight[label_at(c, 34, 45)] * G.MINUS_MIN_LENGTH > 6
    assert m[label_at(c, 34, 45)]
    assert not m[label_at(c, 43, 175)]


def test_a_light_mark_beside_light_print_is_spared_from_the_faint_rule_beside_black_print_it_is_not():
    ink = np.zeros((60, 300), np.uint8)
    body_line(ink, 10, 20, 3)                        # a word in light gray print
    ink[22:26, 60:64] = 1                            # a light mark beside it
    body_line(ink, 160, 20, 3)                       # a word in black
    ink[22:26, 210:214] = 1                          # the same mark beside it
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    darkest = np.where(c.cx < 100, 130, 10).astype(int)
    darkest[label_at(c, 23, 61)] = darkest[label_at(c, 23, 211)] = 160
    got = G.like_neighbours(c, ~letters, letters, darkest, 250.0, ls)
    assert got[label_at(c, 23, 61)]
    assert not got[label_at(c, 23, 211)]


def _code(rng, n, m, density=0.5):
    """An n x n random module grid, modules ``m`` px, as ink."""
    return np.kron(rng.random((n, n)) < density, np.ones((m, m), np.uint8))


def test_a_code_with_modules_wider_than_the_fine_grid_holds_together_and_its_edge_modules_are_kept():
    # modules of 7 px beside text 18 px tall: the quarter x-height grid
    # (4 px) splits the code at every empty module; the half x-height grid
    # holds it together
    rng = np.random.default_rng(11)
    x = 18.0
    page = np.zeros((400, 400), np.uint8)
    code = _code(rng, 21, 7)
    code[:7] = 0
    code[:7, 70:77] = 1                                # a lone module on the top edge, a module off the rest
    page[40:40 + 147, 40:40 + 147] = code
    page[300:307, 300:307] = 1                         # the same square on bare paper
    c = comps(page)
    lone, bare = label_at(c, 42, 112), label_at(c, 302, 302)
    got = G.inside_block(c, x, np.ones(c.n, bool))
    assert got[lone]
    assert not got[bare]


def test_a_code_smaller_than_three_x_heights_is_a_block_and_a_paragraph_is_not():
    rng = np.random.default_rng(5)
    x = 23.0
    page = np.zeros((400, 500), np.uint8)
    page[20:83, 20:83] = _code(rng, 21, 3, 0.4)        # 63 px: 2.7 x-heights
    page[100:103, 100:103] = 1                         # a module-sized speck on paper
    for row in range(4):                               # a paragraph: four lines of 'n's
        body_line(page, 150, 150 + 40 * row, 12, h=23, s=3, gap=4)
    page[180:183, 200:203] = 1                         # a speck between its lines
    c = comps(page)
    got = G.inside_block(c, x, np.ones(c.n, bool))
    code_labels = np.unique(c.labels[20:83, 20:83])
    code_labels = code_labels[code_labels > 0]
    assert code_labels.size >= 10
    small = code_labels[c.area[code_labels] <= 9]
    assert small.size and got[small].all()
    assert not got[label_at(c, 101, 101)]
    assert not got[label_at(c, 181, 201)]


def test_with_a_guessed_scale_a_figure_half_the_guessed_x_height_is_glyph_shaped_a_blob_is_not():
    # a 200-dpi music page read at 300 dpi: x-height guessed 19 px, stroke
    # 3.5; its fingering '3' is 9 px tall with 2 px strokes
    ink = np.zeros((60, 120), np.uint8)
    ink[10:12, 10:16] = ink[14:16, 11:16] = ink[17:19, 10:16] = 1   # a '3', 6 x 9
    ink[10:19, 14:16] = 1
    cv2.circle(ink, (60, 14), 4, 1, -1)                            # a round blob as tall
    c = comps(ink)
    x, s = 18.9, 3.45
    ls = line_scale(c, x, s)
    three, blob = label_at(c, 10, 12), label_at(c, 14, 60)
    assert not G.glyph_shaped(c, ls, x, s)[three]
    got = G.glyph_shaped(c, ls, x, s, guessed=True)
    assert got[three] and not got[blob]


def test_a_short_dash_between_long_ones_of_a_separator_is_in_a_dash_row():
    ink = np.zeros((40, 300), np.uint8)
    for x0, w in ((10, 29), (45, 10), (60, 28), (95, 30), (130, 29)):   # long dashes and one short
        ink[20:23, x0:x0 + w] = 1
    c = comps(ink)
    short = label_at(c, 21, 50)
    small = np.zeros(c.n, bool); small[short] = True
    assert not G.dash_row(c, small, X, S)[short]                # alone among candidates: no row
    assert G.dash_row(c, small, X, S, np.ones(c.n, bool))[short]


def test_a_ticked_checkbox_and_its_tick_are_no_letters_for_the_label_beside_it():
    ink = np.zeros((80, 200), np.uint8)
    ink[10:56, 10:56] = 1; ink[12:54, 12:54] = 0                 # a box 46 px
    cv2.line(ink, (20, 20), (45, 48), 1, 2)                      # a tick 29 px inside it
    cv2.line(ink, (45, 20), (20, 48), 1, 2)
    draw_n(ink, 70, 40, 9, 2)                                    # a label's 9 px letters beside it
    draw_n(ink, 80, 40, 9, 2)
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    tick = label_at(c, 21, 21)
    assert not letters[label_at(c, 10, 30)] and not letters[tick]
    ls = line_scale(c, X, S, letters)
    assert ls.xheight[label_at(c, 45, 70)] <= 9


def test_a_counter_in_a_band_of_big_reverse_letters_is_in_a_dark_field():
    # a gray band 300 x 120 with big light letters cut out of it: the band
    # keeps a quarter of its box; the 'e' counter is an island inside
    ink = np.zeros((160, 340), np.uint8)
    ink[20:140, 20:320] = 1
    for x0 in (30, 100, 170, 240):                     # four light letters, 60 x 100, mostly paper
        ink[30:130, x0:x0 + 60] = 0
    ink[60:80, 115:145] = 1                            # a counter inside the second
    ink[150:153, 100:103] = 1                          # a speck outside the band
    c = comps(ink)
    band = label_at(c, 25, 25)
    assert 0.2 <= c.area[band] / (c.width[band] * c.height[band]) < 0.5
    got = G.in_dark_field(c, 20.0)
    assert got[label_at(c, 70, 120)] and not got[label_at(c, 151, 101)]


def test_a_thin_glyph_with_six_small_counters_is_glyph_shaped_a_solid_blob_is_not():
    # a bold '%' at 600 dpi, halved for analysis: its slash closes three
    # slivers of paper against the rings, five or six holes in all
    ink = np.zeros((80, 200), np.uint8)
    for k in (0, 7, 14, 21):                                       # a lattice of thin strokes, 6 holes
        ink[22 + k, 150:165] = 1
    for k in (0, 7, 14):
        ink[22:44, 150 + k] = 1
    ink[20:44, 60:80] = 1                                          # a solid blob as tall
    c = comps(ink)
    g = G.glyph_shaped(c, line_scale(c, X, S), X, S)
    assert G.shape_measures(c, np.arange(c.n) == label_at(c, 22, 150)).holes[label_at(c, 22, 150)] == 6
    assert g[label_at(c, 22, 150)]
    assert not g[label_at(c, 30, 70)]





def test_a_percent_signs_rings_apart_from_the_slash_are_claimed_a_porous_speck_is_not():
    ink = np.zeros((70, 260), np.uint8)
    body_line(ink, 10, 20, 3)                                      # letters of the line, x-height 21
    ink[20:30, 100:110] = 1
    ink[22:28, 102:108] = 0                                        # upper ring, 10 px, stroke 2
    for k in range(18):                                            # the slash, a pixel or more off each ring
        ink[40 - k, 104 + k:107 + k] = 1
    ink[31:41, 118:128] = 1
    ink[33:39, 120:126] = 0                                        # lower ring
    ink[20:30, 200:210] = 1
    ink[22:28, 202:208] = 0                                        # the same ring, alone
    rng = np.random.default_rng(3)
    blob = (rng.random((10, 10)) < 0.85).astype(np.uint8)          # a porous speck by a letter
    blob[0, :] = blob[-1, :] = blob[:, 0] = blob[:, -1] = 1
    ink[30:40, 75:85] = blob
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    ls = line_scale(c, X, S, letters)
    cand = np.ones(c.n, bool)
    cand[0] = False
    got = G.ring_beside_stroke(c, cand, letters, ls)
    assert got[label_at(c, 20, 100)] and got[label_at(c, 31, 118)]
    assert not got[label_at(c, 20, 200)]
    assert not got[label_at(c, 30, 75)]


def test_closing_quotes_after_a_period_are_claimed_the_same_blob_without_the_period_is_not():
    # 'sir."' in a book face: x-height letters 20 px, the period on the
    # baseline, then a closing double quote (two commas joined at the top,
    # 13 x 11) at capital height, 12 px off the 'r'
    ink = np.zeros((70, 260), np.uint8)
    for x0 in (10, 40):                                           # two words of x-height letters...
        for k in range(3):
            draw_n(ink, x0 + k * 16 + (120 if x0 == 40 else 0), 30, 20, 3)
    end = 10 + 2 * 16 + 13                                        # ... the first ends at x = 55
    ink[45:50, end + 3:end + 8] = 1                               # its period
    q0 = end + 12
    ink[22:25, q0:q0 + 13] = 1                                    # the quote: a bar over two tails
    ink[25:33, q0:q0 + 4] = ink[25:33, q0 + 8:q0 + 12] = 1
    qe = 10 + 120 + 40 + 2 * 16 + 13                              # the same blob after the second word, no period
    ink[22:25, qe + 12:qe + 25] = 1
    ink[25:33, qe + 12:qe + 16] = ink[25:33, qe + 20:qe + 24] = 1
    c = comps(ink)
    letters = letter_candidates(c, X, S)
    quote, alone, period = label_at(c, 22, q0), label_at(c, 22, qe + 12), label_at(c, 45, end + 3)
    dust = np.zeros(c.n, bool)
    dust[[quote, alone]] = True
    punct = np.zeros(c.n, bool)
    punct[period] = True
    got = G.beside_letter(c, dust, letters & ~dust, punct=punct)
    assert got[quote]
    assert not got[alone]
    assert not G.beside_letter(c, dust, letters & ~dust)[quote]      # (no punctuation given: the old reach)


def test_a_character_in_its_box_is_claimed_a_speck_in_the_box_and_the_character_off_the_form_are_not():
    ink = np.zeros((70, 260), np.uint8)
    for x0 in (10, 60, 110):                                       # a row of three character boxes
        ink[10:56, x0:x0 + 46] = 1
        ink[13:53, x0 + 3:x0 + 43] = 0
    ink[20:45, 25:42] = 1                                          # a bold figure in the first (a blob)
    ink[20:45, 75:78] = ink[20:23, 75:90] = 1                      # a thin one in the second
    ink[48:50, 130:132] = 1                                        # a speck in the third
    ink[20:45, 200:217] = 1                                        # the bold figure off the form
    c = comps(ink)
    cand = np.ones(c.n, bool)
    got = G.in_frame(c, cand, X, S)
    assert got[label_at(c, 20, 25)] and got[label_at(c, 20, 75)]
    assert not got[label_at(c, 48, 130)]
    assert not got[label_at(c, 20, 200)]
    assert not got[label_at(c, 10, 10)]                            # (the frame itself)


def test_a_figure_alone_in_a_table_cell_is_claimed_a_speck_there_and_a_blob_in_a_tall_box_are_not():
    ink = np.zeros((200, 700), np.uint8)
    ink[10, 5:695] = ink[55, 5:695] = ink[100, 5:695] = 1          # a ruled table: two rows...
    ink[10:101, 5] = ink[10:101, 400] = ink[10:101, 694] = 1       # ...of two cells, the first wide
    ink[20:45, 360:377] = 1                                        # a bold figure, right-aligned in a wide cell
    ink[48:51, 600:603] = 1                                        # a speck in a cell
    ink[65:90, 500:517] = 1                                        # a figure in the next row...
    ink[76:79, 450:452] = 1                                        # ...with a speck between it and the rule
    ink[120, 5:300] = ink[195, 5:300] = ink[120:196, 5] = ink[120:196, 299] = 1   # a tall box (a picture's frame)
    ink[150:162, 140:152] = 1                                      # a blob in it, under a third of its height
    c = comps(ink)
    cand = np.ones(c.n, bool)
    got = G.in_frame(c, cand, X, S)
    assert got[label_at(c, 20, 360)]
    assert not got[label_at(c, 48, 600)]
    assert not got[label_at(c, 150, 140)]
    assert not got[label_at(c, 65, 500)]                           # (its left ray meets the speck, not the rule)
    assert not got[label_at(c, 10, 5)]                             # (the table itself)


def test_a_light_point_thresholded_to_a_one_pixel_sliver_is_claimed():
    # "19.90" in light receipt print: the point came out 1 x 3 px
    ink, points = _digits_with_points([2])
    ink[28, points[0]] = 1
    c = comps(ink)
    letters = c.height >= 9
    assert G.point_between(c, ~letters, letters, line_scale(c, 11.0, 2.0, letters))[label_at(c, 29, points[0])]
