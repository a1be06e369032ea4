"""Bad input is named precisely: truncated (maybe still being written), empty,
not an image, unsupported, too large, unreadable - and never crashes."""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
from .conftest import png_header_only, text_like_page
from PIL import Image, TiffImagePlugin

from despeckled import errors
from despeckled.io import images


def encode(fmt: str, **kw) -> bytes:
    a = (np.random.default_rng(0).random((120, 160)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt, **kw)
    return buf.getvalue()


def multipage_tiff_bytes(n: int = 3, **kw) -> bytes:
    buf = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buf, new=True) as tf:
        for i in range(n):
            page = text_like_page(120, 100, seed=i)
            im = Image.fromarray(page > 127) if kw.get("compression") == "group4" else Image.fromarray(page)
            im.save(tf, "TIFF", **kw)
            tf.newFrame()
    return buf.getvalue()


CASES = {
    "png": encode("PNG"),
    "jpeg": encode("JPEG", quality=90),
    "progressive-jpeg": encode("JPEG", quality=80, progressive=True),
    "tiff-raw": encode("TIFF"),
    "tiff-lzw": encode("TIFF", compression="tiff_lzw"),
    "bmp": encode("BMP"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("keep", [0.5, 0.9, "all-but-1"])
def test_truncated_files_are_detected(tmp_path, kind, keep):
    data = CASES[kind]
    cut = len(data) - 1 if keep == "all-but-1" else int(len(data) * keep)
    path = tmp_path / f"cut.{kind.split('-')[-1]}"
    path.write_bytes(data[:cut])
    with pytest.raises(errors.TruncatedInputError):
        images.verify_complete(path)
    path.write_bytes(data)           # the complete file is fine
    assert images.verify_complete(path) == 1


@pytest.mark.parametrize("compression", ["raw", "tiff_lzw", "group4"])
def test_multipage_tiff_cut_anywhere_is_truncated_not_shorter(tmp_path, compression):
    """Pillow alone opens some cut multi-page TIFFs as a shorter document."""
    data = multipage_tiff_bytes(3, compression=compression)
    path = tmp_path / "multi.tif"
    for cut in range(9, len(data), max(1, len(data) // 40)):
        path.write_bytes(data[:cut])
        with pytest.raises(errors.TruncatedInputError):
            images.verify_complete(path)
    path.write_bytes(data)
    assert images.verify_complete(path) == 3


def test_tiff_header_without_a_directory_yet_is_truncated(tmp_path):
    (tmp_path / "new.tif").write_bytes(b"II*\x00\x00\x00\x00\x00")
    with pytest.raises(errors.TruncatedInputError):
        images.verify_complete(tmp_path / "new.tif")


def test_png_without_iend_is_truncated(tmp_path):
    data = CASES["png"]
    (tmp_path / "a.png").write_bytes(data[:-12])   # all of IDAT, no IEND chunk
    with pytest.raises(errors.TruncatedInputError, match="IEND"):
        images.verify_complete(tmp_path / "a.png")


def test_a_few_bytes_of_a_signature_are_truncated(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PN")
    with pytest.raises(errors.TruncatedInputError):
        images.verify_complete(tmp_path / "a.png")


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(errors.EmptyInputError) as exc:
        images.verify_complete(tmp_path / "empty.png")
    assert exc.value.reason == "empty"


def test_text_file_named_png_is_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("these are my notes, not a scan\n")
    with pytest.raises(errors.NotAnImageError) as exc:
        images.verify_complete(tmp_path / "notes.png")
    assert exc.value.reason == "not_an_image"
    assert "\n" not in str(exc.value)


def test_other_image_kinds_are_unsupported(tmp_path):
    Image.new("L", (8, 8)).save(tmp_path / "a.gif")
    os.rename(tmp_path / "a.gif", tmp_path / "a.png")
    with pytest.raises(errors.UnsupportedInputError, match="GIF"):
        images.verify_complete(tmp_path / "a.png")


def test_corrupt_png_data_is_a_bad_input_with_a_reason(tmp_path):
    data = bytearray(CASES["png"])
    data[60:80] = b"\x00" * 20                     # damage the IDAT stream and its CRC
    (tmp_path / "bad.png").write_bytes(bytes(data))
    with pytest.raises(errors.BadInputError) as exc:
        images.verify_complete(tmp_path / "bad.png")
    assert exc.value.reason in ("corrupt", "truncated")


def test_absurd_png_dimensions_are_refused_from_the_header(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header_only(100_000, 100_000))
    with pytest.raises(errors.ImageTooLargeError, match="100000x100000"):
        with images.open_source(tmp_path / "bomb.png") as src:
            next(src.pages())
    with pytest.raises(errors.ImageTooLargeError):
        images.verify_complete(tmp_path / "bomb.png")


def test_absurd_tiff_dimensions_are_refused_before_decoding(tmp_path):
    # a one-strip 8-bit TIFF claiming 60000 x 60000 pixels, 64 bytes of data
    entries = [(256, 4, 1, 60000), (257, 4, 1, 60000), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 8 + 4), (277, 3, 1, 1), (278, 4, 1, 60000), (279, 4, 1, 64)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", t, typ, n, v) if typ == 4 else struct.pack("<HHIHH", t, typ, n, v, 0)
        for t, typ, n, v in entries) + struct.pack("<I", 0)
    (tmp_path / "bomb.tif").write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 64)
    with pytest.raises(errors.ImageTooLargeError):
        images.verify_complete(tmp_path / "bomb.tif")


def test_too_many_pages(tmp_path):
    (tmp_path / "m.tif").write_bytes(multipage_tiff_bytes(3))
    with pytest.raises(errors.ImageTooLargeError, match="pages"):
        images.verify_complete(tmp_path / "m.tif", images.Limits(max_pages=2))
    assert images.verify_complete(tmp_path / "m.tif", images.Limits(max_pages=3)) == 3


def test_pixel_limit_is_configurable(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "a.png")
    with pytest.raises(errors.ImageTooLargeError):
        images.verify_complete(tmp_path / "a.png", images.Limits(max_pixels=page.size - 1))


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(errors.BadInputError) as exc:
        images.verify_complete(tmp_path)
    assert exc.value.reason == "not_a_file"
    with pytest.raises(errors.BadInputError) as exc:
        images.verify_complete(tmp_path / "nope.png")
    assert exc.value.reason == "missing"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path, page):
    Image.fromarray(page).save(tmp_path / "a.png")
    os.chmod(tmp_path / "a.png", 0)
    with pytest.raises(errors.BadInputError) as exc:
        images.verify_complete(tmp_path / "a.png")
    assert exc.value.reason == "unreadable"


def _mutations(data: bytes, rng: np.random.Generator, n: int):
    for _ in range(n):
        x = bytearray(data)
        op = int(rng.integers(4))
        i = int(rng.integers(len(x)))
        if op == 0:
            for j in rng.integers(len(x), size=int(rng.integers(1, 9))):
                x[int(j)] = int(rng.integers(256))
        elif op == 1:
            x = x[: max(1, i)]
        elif op == 2:
            k = int(rng.integers(1, 65))
            x[i:i + k] = b"\0" * len(x[i:i + k])
        else:
            x = x[:i] + x[i:i + 32] + x[i:]
        yield bytes(x)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pytest resets the module's own filter per test
@pytest.mark.parametrize("kind", ["png", "jpeg", "tiff-lzw", "bmp", "g4-multi"])
def test_damaged_files_raise_only_our_errors_and_print_nothing(tmp_path, capfd, kind):
    if kind == "g4-multi":
        data = multipage_tiff_bytes(3, compression="group4")
    else:
        data = CASES[{"jpeg": "jpeg", "png": "png", "tiff-lzw": "tiff-lzw", "bmp": "bmp"}[kind]]
    rng = np.random.default_rng(sum(map(ord, kind)))
    path = tmp_path / "damaged"
    for blob in _mutations(data, rng, 60):
        path.write_bytes(blob)
        try:
            images.verify_complete(path)
        except errors.DespeckledError:
            pass
    out, err = capfd.readouterr()
    assert out == "" and err == ""     # no libpng/libtiff/Pillow chatter on stderr
