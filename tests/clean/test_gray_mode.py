"""gray mode: original pixels are kept; removed specks are painted with paper."""

import numpy as np

from despeckled.clean import CleanParams, clean_page

GRAY = CleanParams(mode="gray")


def _scan(layout, paper=(236, 228, 200)):
    """The layout as an RGB scan on tinted paper with some texture."""
    rng = np.random.default_rng(0)
    h, w = layout.page.shape
    rgb = np.empty((h, w, 3), np.uint8)
    for c, level in enumerate(paper):
        noise = rng.integers(-3, 4, (h, w))
        rgb[..., c] = np.where(layout.page == 0, 25, np.clip(level + noise, 0, 255))
    return rgb


def test_untouched_pixels_are_identical(layout):
    rgb = _scan(layout)
    r = clean_page(rgb, GRAY)
    assert r.image.shape == rgb.shape and r.image.dtype == np.uint8
    touched = np.zeros(r.removed.shape, bool)
    ys, xs = np.nonzero(r.removed)
    for dy in (-1, 0, 1):          # painting grows one pixel into paper
        for dx in (-1, 0, 1):
            touched[np.clip(ys + dy, 0, touched.shape[0] - 1), np.clip(xs + dx, 0, touched.shape[1] - 1)] = True
    assert r.removed.any()
    assert np.array_equal(r.image[~touched], rgb[~touched])


def test_removed_specks_are_painted_with_the_paper_colour(layout):
    rgb = _scan(layout)
    r = clean_page(rgb, GRAY)
    y, x = layout.marks["lone_dot"]
    assert r.removed[y, x]
    painted = r.image[y, x].astype(int)
    assert np.all(np.abs(painted - np.array([236, 228, 200])) <= 8)


def test_kept_text_keeps_its_pixels(layout):
    rgb = _scan(layout)
    r = clean_page(rgb, GRAY)
    y, x = layout.marks["i_dot"]
    assert np.array_equal(r.image[y, x], rgb[y, x])


def test_gray_input_stays_gray(layout):
    r = clean_page(layout.page, GRAY)
    assert r.image.shape == layout.page.shape
    y, x = layout.marks["lone_dot"]
    assert r.image[y, x] == 255
    keep = ~r.removed
    assert np.array_equal(r.image[keep], layout.page[keep])


def test_sixteen_bit_input_is_reduced_to_eight(layout):
    page16 = layout.page.astype(np.uint16) * 257
    r = clean_page(page16, GRAY)
    assert r.image.dtype == np.uint8 and r.image.shape == layout.page.shape


def test_rgba_keeps_its_alpha(layout):
    rgba = np.dstack([_scan(layout), np.full(layout.page.shape, 255, np.uint8)])
    r = clean_page(rgba, GRAY)
    assert r.image.shape == rgba.shape
    assert (r.image[..., 3] == 255).all()
