"""Reading and writing real image files: pixels, page order, DPI, bit depth."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from .conftest import text_like_page
from PIL import Image, TiffImagePlugin

from despeckled.io import images
from despeckled.io.fsutil import TEMP_MARKER


def read_all(path, limits=None):
    with images.open_source(path, limits) as src:
        return src, list(src.pages())


def write_multipage_tiff(path, pages, dpis, **kw):
    with open(path, "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for p, dpi in zip(pages, dpis, strict=True):
            Image.fromarray(p).save(tf, "TIFF", dpi=dpi, **kw)
            tf.newFrame()


def test_multipage_tiff_streams_pages_in_order_with_their_dpi(tmp_path):
    pages = [text_like_page(200 + 10 * i, 150, seed=i) for i in range(4)]
    dpis = [(300, 300), (200, 200), (600, 600), (300, 150)]
    write_multipage_tiff(tmp_path / "in.tif", pages, dpis, compression="tiff_lzw")
    src, got = read_all(tmp_path / "in.tif")
    assert src.format == "tiff" and src.page_count == 4
    assert [p.index for p in got] == [0, 1, 2, 3]
    for p, want, dpi in zip(got, pages, dpis, strict=True):
        np.testing.assert_array_equal(p.pixels, want)
        assert p.dpi == (float(dpi[0]), float(dpi[1]))
        assert p.info["compression"] == "tiff_lzw"


def test_multipage_tiff_written_bilevel_is_g4_keeps_order_and_dpi(tmp_path):
    pages = [text_like_page(180 + 20 * i, 160, seed=i) for i in range(3)]
    with images.open_sink(tmp_path, "out.tif") as sink:
        for i, p in enumerate(pages):
            sink.add_page(p, (300.0 + i, 300.0 + i), bilevel=True)
    assert sink.path == tmp_path / "out.tif"
    im = Image.open(sink.path)
    assert im.n_frames == 3
    for i, p in enumerate(pages):
        im.seek(i)
        assert im.mode == "1" and im.info["compression"] == "group4"
        assert im.info["dpi"] == (300.0 + i, 300.0 + i)
        np.testing.assert_array_equal(np.asarray(im.convert("L")), p)


def test_one_bit_g4_tiff_reads_as_uint8_0_255(tmp_path, page):
    Image.fromarray(page > 127).save(tmp_path / "g4.tif", compression="group4", dpi=(300, 300))
    _, (p,) = read_all(tmp_path / "g4.tif")
    assert p.pixels.dtype == np.uint8 and p.info["bits"] == 1
    np.testing.assert_array_equal(p.pixels, page)


def test_bilevel_png_is_written_with_bit_depth_one(tmp_path, page):
    with images.open_sink(tmp_path, "out.png") as sink:
        sink.add_page(page, (300, 300), bilevel=True)
    data = sink.path.read_bytes()
    assert data[24] == 1 and data[25] == 0  # IHDR: bit depth 1, grayscale
    _, (p,) = read_all(sink.path)
    np.testing.assert_array_equal(p.pixels, page)
    assert p.dpi == (300.0, 300.0) and p.info["bits"] == 1


@pytest.mark.parametrize("shape", [(1, 1), (2, 7), (5, 8), (9, 13), (64, 333)])
def test_bilevel_png_encoder_matches_pillow_pixel_for_pixel(shape):
    rng = np.random.default_rng(sum(shape))
    # runs and repeated rows (the "Up" filter's case) as well as noise
    page = np.where(rng.random(shape) < 0.3, 0, 255).astype(np.uint8)
    page[shape[0] // 2:] = page[: shape[0] - shape[0] // 2]
    data = images.bilevel_png_bytes(page, (200.0, 400.0))
    im = Image.open(io.BytesIO(data))
    im.load()  # checks every CRC and the zlib stream
    assert im.mode == "1" and im.size == (shape[1], shape[0])
    assert [round(v) for v in im.info["dpi"]] == [200, 400]
    np.testing.assert_array_equal(np.asarray(im.convert("L")), page)
    assert "dpi" not in Image.open(io.BytesIO(images.bilevel_png_bytes(page > 127))).info


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_gray_hint_decodes_colour_straight_to_the_engines_luminance(tmp_path, fmt):
    from despeckled.clean.gray import to_gray

    rng = np.random.default_rng(5)
    rgb = np.stack([text_like_page(120, 90, seed=3)] * 3, axis=-1).astype(np.int16)
    rgb = np.clip(rgb + rng.integers(-40, 40, rgb.shape), 0, 255).astype(np.uint8)  # real colour
    path = tmp_path / f"c.{fmt}"
    Image.fromarray(rgb).save(path, dpi=(300, 300), **({"quality": 90} if fmt == "jpeg" else {}))
    _, (full,) = read_all(path)
    with images.open_source(path) as src:
        (gray,) = list(src.pages(gray=True))
    assert full.pixels.ndim == 3 and gray.pixels.shape == full.pixels.shape[:2] and gray.pixels.dtype == np.uint8
    assert gray.info["mode"] == full.info["mode"] == "RGB" and gray.dpi == full.dpi
    diff = np.abs(gray.pixels.astype(int) - to_gray(full.pixels).astype(int))
    if fmt == "png":
        assert diff.max() == 0           # the engine's own conversion
    else:
        # libjpeg's Y channel: the same luma but for rounding and the clipping of
        # out-of-range RGB (here from strong 4:2:0 colour noise)
        assert diff.mean() < 0.3 and diff.max() <= 6


@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_16bit_gray_round_trips_exactly(tmp_path, fmt):
    a = (np.random.default_rng(1).random((60, 80)) * 65535).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / f"in.{fmt}")
    _, (p,) = read_all(tmp_path / f"in.{fmt}")
    assert p.pixels.dtype == np.uint16 and p.info["bits"] == 16
    np.testing.assert_array_equal(p.pixels, a)
    with images.open_sink(tmp_path, f"out.{fmt}") as sink:
        sink.add_page(p.pixels, None, bilevel=False, info=p.info)
    _, (q,) = read_all(sink.path)
    np.testing.assert_array_equal(q.pixels, a)
    assert q.dpi is None


def test_rgba_png_reads_in_rgba_order_and_round_trips(tmp_path):
    a = np.zeros((10, 12, 4), np.uint8)
    a[..., 0] = 255            # red
    a[..., 3] = np.arange(12, dtype=np.uint8) * 20
    Image.fromarray(a, "RGBA").save(tmp_path / "in.png")
    _, (p,) = read_all(tmp_path / "in.png")
    np.testing.assert_array_equal(p.pixels, a)
    with images.open_sink(tmp_path, "out.png") as sink:
        sink.add_page(p.pixels, None, bilevel=False)
    np.testing.assert_array_equal(np.asarray(Image.open(sink.path)), a)


def test_palette_png_is_expanded_colour_to_rgb_gray_to_2d(tmp_path):
    idx = (np.arange(48).reshape(6, 8) % 3).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    im.save(tmp_path / "colour.png")
    _, (p,) = read_all(tmp_path / "colour.png")
    assert p.pixels.shape == (6, 8, 3)
    assert p.pixels[0, 0].tolist() == [255, 0, 0] and p.pixels[0, 1].tolist() == [0, 255, 0]

    im = Image.fromarray(idx, "P")
    im.putpalette([0, 0, 0, 128, 128, 128, 255, 255, 255] + [0] * 759)
    im.save(tmp_path / "gray.png")
    _, (p,) = read_all(tmp_path / "gray.png")
    assert p.pixels.shape == (6, 8) and p.pixels[0, :3].tolist() == [0, 128, 255]


def test_bmp_round_trip_keeps_pixels_and_dpi(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "in.bmp", dpi=(200, 200))
    _, (p,) = read_all(tmp_path / "in.bmp")
    np.testing.assert_array_equal(p.pixels, page)
    assert p.dpi == (200.0, 200.0)
    with images.open_sink(tmp_path, "out.bmp") as sink:
        sink.add_page(page, p.dpi, bilevel=True)
    im = Image.open(sink.path)
    assert im.format == "BMP" and im.mode == "1"
    np.testing.assert_array_equal(np.asarray(im.convert("L")), page)


def test_jpeg_reads_rgb_order_dpi_quality_and_writes_at_that_quality(tmp_path):
    a = np.full((64, 64, 3), 255, np.uint8)
    a[:32, :, :] = (200, 30, 30)
    Image.fromarray(a).save(tmp_path / "in.jpg", quality=85, dpi=(300, 300))
    _, (p,) = read_all(tmp_path / "in.jpg")
    assert p.pixels.shape == (64, 64, 3)
    r, g, b = p.pixels[10, 10].astype(int)
    assert r > 150 and g < 80 and b < 80
    assert p.dpi == (300.0, 300.0) and p.info["jpeg_quality"] == 85
    with images.open_sink(tmp_path, "out.jpg") as sink:
        sink.add_page(p.pixels, p.dpi, bilevel=False, info=p.info)
    out = Image.open(sink.path)
    assert out.info["dpi"] == (300, 300)
    assert images.estimate_jpeg_quality(out.quantization[0]) == 85


def test_cmyk_jpeg_reads_as_rgb(tmp_path):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    _, (p,) = read_all(tmp_path / "cmyk.jpg")
    assert p.pixels.shape == (16, 16, 3)
    r, g, b = p.pixels[8, 8].astype(int)
    assert r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("name,fmt", [("SCAN.PNG", "PNG"), ("Scan.JPEG", "JPEG"), ("scan.TIF", "TIFF"),
                                      ("scan.Tiff", "TIFF"), ("scan.BMP", "BMP"), ("scan.JpG", "JPEG")])
def test_any_letter_case_of_extension_is_supported_and_read(tmp_path, page, name, fmt):
    assert os.path.splitext(name)[1].lower() in images.SUPPORTED_EXTENSIONS
    Image.fromarray(page).save(tmp_path / name, fmt)
    src, pages = read_all(tmp_path / name)
    assert src.format == fmt.lower() and len(pages) == 1 and pages[0].pixels.shape == page.shape


def test_format_is_sniffed_from_content_not_extension(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "really-a-png.jpg", "PNG")
    src, (p,) = read_all(tmp_path / "really-a-png.jpg")
    assert src.format == "png"
    np.testing.assert_array_equal(p.pixels, page)


def test_exif_orientation_is_applied_on_reading(tmp_path):
    a = np.zeros((10, 20), np.uint8)
    a[:, :5] = 255                       # white band on the left
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6                     # display rotated 90 degrees clockwise
    im.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    _, (p,) = read_all(tmp_path / "rot.jpg")
    assert p.pixels.shape == (20, 10)    # rotated as displayed
    assert p.pixels[:5].mean() > 200     # the band is now on top
    assert p.info["orientation_applied"] == 6


def test_sink_publishes_only_on_success_and_never_overwrites(tmp_path, page):
    (tmp_path / "out.png").write_bytes(b"user's file")
    with images.open_sink(tmp_path, "out.png") as sink:
        sink.add_page(page, None, bilevel=True)
    assert sink.path == tmp_path / "out-1.png"
    assert (tmp_path / "out.png").read_bytes() == b"user's file"

    with pytest.raises(RuntimeError):
        with images.open_sink(tmp_path, "boom.tif") as sink:
            sink.add_page(page, None, bilevel=True)
            raise RuntimeError("crash half way")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["out-1.png", "out.png"]
    assert not any(TEMP_MARKER in n for n in names)


def test_single_page_format_refuses_a_second_page(tmp_path, page):
    from despeckled import errors

    with pytest.raises(errors.OutputError, match="one page"):
        with images.open_sink(tmp_path, "out.png") as sink:
            sink.add_page(page, None, bilevel=True)
            sink.add_page(page, None, bilevel=True)
    assert list(tmp_path.iterdir()) == []


def test_gray_tiff_keeps_the_source_compression(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "in.tif", compression="packbits")
    _, (p,) = read_all(tmp_path / "in.tif")
    with images.open_sink(tmp_path, "out.tif") as sink:
        sink.add_page(p.pixels, None, bilevel=False, info=p.info)
    im = Image.open(sink.path)
    assert im.mode == "L" and im.info["compression"] == "packbits"


def test_pages_are_decoded_lazily_one_at_a_time(tmp_path):
    pages = [text_like_page(100, 100, seed=i) for i in range(3)]
    write_multipage_tiff(tmp_path / "in.tif", pages, [(300, 300)] * 3)
    with images.open_source(tmp_path / "in.tif") as src:
        it = src.pages()
        first = next(it)
        assert first.index == 0
        np.testing.assert_array_equal(first.pixels, pages[0])
        assert [p.index for p in it] == [1, 2]


def test_verify_complete_counts_pages(tmp_path, page):
    write_multipage_tiff(tmp_path / "in.tif", [page] * 5, [(300, 300)] * 5)
    assert images.verify_complete(tmp_path / "in.tif") == 5
    Image.fromarray(page).save(tmp_path / "in.png")
    assert images.verify_complete(tmp_path / "in.png") == 1


def test_jpeg_quality_estimate_is_exact_for_libjpeg_tables():
    for q in (30, 50, 75, 90, 95):
        buf = io.BytesIO()
        Image.new("L", (8, 8)).save(buf, "JPEG", quality=q)
        assert images.estimate_jpeg_quality(Image.open(buf).quantization[0]) == q


def test_errors_of_the_callers_block_pass_through_unchanged(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "a.png")
    with pytest.raises(OSError) as exc:
        with images.open_source(tmp_path / "a.png"):
            raise OSError(28, "No space left on device")
    assert type(exc.value) is OSError


def test_text_starting_with_bm_is_not_a_bmp(tmp_path):
    from despeckled import errors

    (tmp_path / "note.bmp").write_text("BMW service report, nothing to see here\n" * 3)
    with pytest.raises(errors.NotAnImageError):
        images.verify_complete(tmp_path / "note.bmp")


def test_tiff_preview_directories_are_not_pages(tmp_path):
    pages = [text_like_page(120, 100, seed=i) for i in range(2)]
    with open(tmp_path / "scan.tif", "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        Image.fromarray(pages[0]).save(tf, "TIFF")
        tf.newFrame()
        thumb = Image.fromarray(pages[0][::4, ::4].copy())
        thumb.save(tf, "TIFF", tiffinfo={254: 1})          # NewSubfileType: reduced-resolution preview
        tf.newFrame()
        Image.fromarray(pages[1]).save(tf, "TIFF")
        tf.newFrame()
    assert Image.open(tmp_path / "scan.tif").n_frames == 3
    src, got = read_all(tmp_path / "scan.tif")
    assert src.page_count == 2 and [p.index for p in got] == [0, 1]
    for p, want in zip(got, pages, strict=True):
        np.testing.assert_array_equal(p.pixels, want)
    assert images.verify_complete(tmp_path / "scan.tif") == 2


def test_bigtiff_is_read_and_its_truncation_detected(tmp_path, page):
    from despeckled import errors

    Image.fromarray(page).save(tmp_path / "big.tif", big_tiff=True, dpi=(300, 300))
    assert (tmp_path / "big.tif").read_bytes()[:4] == b"II+\x00"
    _, (p,) = read_all(tmp_path / "big.tif")
    np.testing.assert_array_equal(p.pixels, page)
    data = (tmp_path / "big.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[:-1])
    with pytest.raises(errors.TruncatedInputError):
        images.verify_complete(tmp_path / "cut.tif")
