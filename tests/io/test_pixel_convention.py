"""One pixel convention for every writer: the same 8-bit conversion
(:func:`despeckled.clean.gray.to_uint8`) and the same output binarisation
(:func:`despeckled.clean.gray.is_paper`), whatever the output format."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from despeckled.io import images
from despeckled.io.pdf import PdfSource


def _written(tmp_path, name, image, *, bilevel):
    with images.open_sink(tmp_path, name) as sink:
        sink.add_page(image, (300.0, 300.0), bilevel=bilevel)
    assert sink.path is not None
    with images.open_source(sink.path) as src:
        return next(iter(src.pages())).pixels


def _ramp(dtype=np.uint8, top=255):
    return np.tile(np.linspace(0, top, 256).round().astype(dtype), (4, 1))


@pytest.mark.parametrize("name", ["p.png", "p.tif", "p.bmp", "p.pdf"])
def test_every_bilevel_writer_puts_paper_at_gray_128_and_up(tmp_path, name):
    ramp = _ramp()
    out = _written(tmp_path, name, ramp, bilevel=True)
    assert set(np.unique(out)) <= {0, 255}
    assert ((out == 255) == (ramp >= 128)).all()


@pytest.mark.parametrize("name", ["p.png", "p.pdf"])
def test_16_bit_pages_binarise_at_the_same_level(tmp_path, name):
    ramp = np.tile(np.array([0, 32767, 32768, 65535], np.uint16), (4, 1))
    out = _written(tmp_path, name, ramp, bilevel=True)
    assert (out[0] == [0, 0, 255, 255]).all()


def test_rgb_written_bilevel_binarises_its_luminance_not_its_channel_mean(tmp_path):
    """Pinned: PDF used the RGB mean (pure green, mean 85, was ink); the one
    convention uses the engine's luminance (green is 150: paper). A raster
    writer, which refused RGB bilevel pages, now writes them the same way."""
    page = np.zeros((4, 8, 3), np.uint8)
    page[:, 4:] = (0, 255, 0)
    for name in ("p.pdf", "p.png"):
        out = _written(tmp_path, name, page, bilevel=True)
        assert (out[:, :4] == 0).all() and (out[:, 4:] == 255).all(), name


@pytest.mark.parametrize("name", ["p.bmp", "p.jpg"])
def test_16_bit_gray_to_an_8_bit_format_rounds_to_nearest(tmp_path, name):
    """Pinned: the raster writers shifted 16-bit samples (v >> 8); they now
    round like the engine does ((v + 128) // 257): 511 becomes 2, not 1."""
    page = np.full((16, 16), 511, np.uint16)
    page[:, 8:] = 0x8000 + 255          # 33023: 128 either way
    out = _written(tmp_path, name, page, bilevel=False)
    assert out.dtype == np.uint8
    assert abs(int(out[4, 2]) - 2) <= (1 if name.endswith(".jpg") else 0)
    assert abs(int(out[4, 12]) - 128) <= (1 if name.endswith(".jpg") else 0)


def test_16_bit_rgb_to_png_rounds_to_nearest(tmp_path):
    page = np.full((4, 4, 3), 511, np.uint16)
    assert (_written(tmp_path, "p.png", page, bilevel=False) == 2).all()


def test_a_float_page_is_read_as_0_to_1_by_the_pdf_writer(tmp_path):
    """Pinned: the PDF writer clipped floats as 0..255; the one convention
    reads them as 0.0 (black) .. 1.0 (white), as the engine does."""
    page = np.full((8, 8), 0.5)
    page[:, :4] = 0.25
    with images.open_sink(tmp_path, "p.pdf") as sink:
        sink.add_page(page, (300.0, 300.0), bilevel=False)
    with PdfSource(sink.path) as src:
        out = next(iter(src.pages())).pixels
    assert out[0].tolist() == [64] * 4 + [128] * 4


def test_the_png_bilevel_encoder_and_pillow_agree_on_paper():
    """The fast 1-bit PNG encoder and the Pillow path (TIFF/BMP) share one threshold."""
    import io

    ramp = _ramp()
    im = Image.open(io.BytesIO(images.bilevel_png_bytes(ramp)))
    assert ((np.asarray(im.convert("L")) == 255) == (ramp >= 128)).all()
