"""Grayscale conversion of every input kind the I/O layer produces."""

import numpy as np
import pytest

from despeckled.clean.gray import to_gray


def test_gray_uint8_passes_through_unchanged():
    g = np.arange(256, dtype=np.uint8).reshape(16, 16)
    out = to_gray(g)
    assert out.dtype == np.uint8 and out.shape == (16, 16)
    assert np.array_equal(out, g)


def test_gray_with_channel_axis():
    g = np.full((4, 5, 1), 77, np.uint8)
    assert np.array_equal(to_gray(g), np.full((4, 5), 77, np.uint8))


def test_rgb_is_read_in_rgb_order():
    # pure red and pure blue have very different luminance (0.299 vs 0.114):
    # a BGR mix-up would swap them.
    red = np.zeros((1, 1, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((1, 1, 3), np.uint8)
    blue[..., 2] = 255
    assert int(to_gray(red)[0, 0]) == pytest.approx(76, abs=1)
    assert int(to_gray(blue)[0, 0]) == pytest.approx(29, abs=1)


def test_rgba_is_composited_on_white():
    px = np.zeros((1, 3, 4), np.uint8)          # black ink...
    px[0, :, 3] = [0, 128, 255]                 # ...transparent, half, opaque
    out = to_gray(px)[0]
    assert out[0] == 255
    assert out[1] == pytest.approx(127, abs=2)
    assert out[2] == 0


def test_sixteen_bit_scales_to_eight():
    px = np.array([[0, 257, 32896, 65535]], np.uint16)
    assert to_gray(px).tolist() == [[0, 1, 128, 255]]


def test_sixteen_bit_rgb():
    px = np.full((2, 2, 3), 65535, np.uint16)
    assert (to_gray(px) == 255).all()


def test_bool_one_bit_true_is_paper():
    px = np.array([[True, False]])
    assert to_gray(px).tolist() == [[255, 0]]


def test_palette_expanded_to_rgb_by_io_is_accepted():
    # Pillow's P mode is expanded by the I/O layer; what arrives is RGB.
    pal = np.array([[255, 255, 255], [0, 0, 0]], np.uint8)
    idx = np.array([[0, 1], [1, 0]])
    assert to_gray(pal[idx]).tolist() == [[255, 0], [0, 255]]


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2), (2, 2, 5), (1, 1, 1, 1)])
def test_unsupported_shapes_are_refused(shape):
    with pytest.raises(ValueError):
        to_gray(np.zeros(shape, np.uint8))
