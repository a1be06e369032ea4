"""Page geometry: the skew estimator at known angles, borders that go while
content near the edge stays, and pages that must never be called blank.

Pages come from ``despeckled.testing.geometry_pages`` at 150 dpi (sizes are
physical, so the rules see the same page as at 300 dpi, four times faster).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from despeckled.clean.blank import blank_verdict
from despeckled.clean.borders import find_borders
from despeckled.clean.deskew import MIN_CONFIDENCE, estimate_skew, rotate_page
from despeckled.clean.geometry import prepare_page
from despeckled.clean.lowres import page_dpi, reduce_page
from despeckled.testing.geometry_pages import (BLANK_KINDS, NOT_BLANK_KINDS, blank_page, border_page, skew,
                                               text_page)

DPI = 150


@pytest.fixture(scope="module")
def pages():
    # (a receipt is 80 mm wide: at 300 dpi, as till receipts are scanned,
    # its lines are long enough in pixels for a tenth of a degree)
    return {"prose": text_page("prose", 5, DPI), "table": text_page("table", 5, DPI),
            "receipt": text_page("receipt", 5, 300)}


def _dpi(kind):
    return 300 if kind == "receipt" else DPI


@pytest.mark.parametrize("kind", ["prose", "table", "receipt"])
@pytest.mark.parametrize("angle", [-8.6, -2.35, -0.4, 0.7, 4.15, 9.8])
def test_skew_estimate_at_known_angles(pages, kind, angle):
    sk = estimate_skew(reduce_page(skew(pages[kind], angle), _dpi(kind)))
    assert sk.should_rotate
    assert abs(sk.angle - angle) <= 0.15


@pytest.mark.parametrize("kind", ["prose", "table", "receipt"])
def test_a_straight_page_is_not_rotated(pages, kind):
    _, gray, geo = prepare_page(pages[kind], dpi=_dpi(kind))
    assert not geo.rotated
    assert gray is not None and np.array_equal(gray, pages[kind])


def test_no_rotation_without_text_lines():
    rng = np.random.default_rng(3)
    photo = cv2.GaussianBlur(rng.uniform(0, 255, (300, 220)).astype(np.float32), (0, 0), 6)
    photo = cv2.normalize(photo, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    sk = estimate_skew(reduce_page(cv2.resize(photo, (1240, 1754)), DPI))
    assert sk.confidence < MIN_CONFIDENCE and not sk.should_rotate
    assert estimate_skew(reduce_page(np.full((500, 400), 230, np.uint8), DPI)).confidence == 0.0


def test_rotation_keeps_size_and_fills_corners_with_paper():
    page = np.full((200, 300, 3), (240, 235, 220), np.uint8)
    page[90:110, 50:250] = 0
    out = rotate_page(page, 5.0, (240.0, 235.0, 220.0))
    assert out.shape == page.shape and out.dtype == page.dtype
    assert out[0, 0].tolist() == [240, 235, 220] and out[-1, -1].tolist() == [240, 235, 220]


def test_rotating_straightens(pages):
    crooked = skew(pages["prose"], 3.3)
    _, gray, geo = prepare_page(crooked, dpi=DPI)
    assert geo.rotated
    assert abs(estimate_skew(reduce_page(gray, DPI)).angle) <= 0.1


@pytest.mark.parametrize("kind", ["scanner_bg", "wedge", "lid_frame", "punch_edge"])
def test_borders_go_and_content_near_the_edge_stays(kind):
    p = border_page(kind, 2, DPI)
    _, out, geo = prepare_page(p.gray, dpi=DPI, deskew=False)
    assert geo.border_regions >= 1
    paper = float(np.median(out))
    assert (out[p.border] >= paper - 30).mean() >= 0.99
    # every content pixel (rules, page number, signature near the edges) is untouched
    assert np.array_equal(out[p.content], p.gray[p.content])


@pytest.mark.parametrize("kind", ["photo_edge", "table_edge"])
def test_dark_content_touching_the_edge_is_kept(kind):
    p = border_page(kind, 1, DPI)
    _, out, geo = prepare_page(p.gray, dpi=DPI, deskew=False)
    assert geo.border_regions == 0
    assert np.array_equal(out, p.gray)


def test_a_rule_close_to_the_edge_is_not_a_border():
    g = np.full((600, 420), 235, np.uint8)
    g[4:6, 20:400] = 20            # header rule 1 mm from the top edge
    g[40:560, 3:5] = 20            # margin rule close to the left edge
    assert find_borders(reduce_page(g, 50.8)).regions == 0


@pytest.mark.parametrize("kind", NOT_BLANK_KINDS)
@pytest.mark.parametrize("seed", [1, 2])
def test_hard_pages_are_never_blank(kind, seed):
    g = blank_page(kind, seed, DPI)
    res, _ = page_dpi(g.shape, DPI, 300.0)
    v = blank_verdict(reduce_page(g, res), g)
    assert not v.blank and not v.droppable


@pytest.mark.parametrize("kind", BLANK_KINDS)
def test_blank_backs_are_found(kind):
    g = blank_page(kind, 2, DPI)
    _, _, geo = prepare_page(g, dpi=DPI)
    assert geo.blank.blank and geo.blank.droppable


def test_a_text_page_is_not_blank(pages):
    for kind, page in pages.items():
        _, _, geo = prepare_page(page, dpi=_dpi(kind))
        assert not geo.blank.blank


def test_colour_page_keeps_its_layout_and_paper_colour():
    rgb = np.zeros((1169, 827, 3), np.uint8)
    rgb[:] = (245, 240, 225)
    rgb[:, :20] = (10, 10, 10)                       # scanner background
    out, gray, geo = prepare_page(rgb, dpi=100, keep_pixels=True)
    assert geo.border_regions == 1
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert out[600, 5].tolist() == [245, 240, 225]
    assert gray.shape == rgb.shape[:2]


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 700), (700, 2), (31, 900)])
def test_tiny_and_thin_pages_pass_unharmed(shape):
    for page in (np.full(shape, 200, np.uint8), np.zeros(shape + (3,), np.uint8), np.ones(shape, bool)):
        out, gray, geo = prepare_page(page, keep_pixels=True)
        assert gray.shape == shape and not geo.rotated and not geo.blank.blank
