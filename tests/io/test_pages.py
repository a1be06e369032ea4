"""The I/O layer's shared contract: one protocol for raster and PDF readers
and writers, one list of transient errnos for reading and writing."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from despeckled import errors
from despeckled.io import images
from despeckled.io.errnos import TRANSIENT_ERRNOS
from despeckled.io.pages import PageSink, PageSource, read_error, write_error
from despeckled.io.pdf import PdfSource
from despeckled.io.pdf_write import PdfSink
from despeckled.io.raster import RasterSource, raster_writer


@pytest.mark.parametrize("name", ["p.png", "p.tif", "p.pdf"])
def test_raster_and_pdf_readers_are_page_sources(tmp_path, name):
    with images.open_sink(tmp_path, name) as sink:
        sink.add_page(np.full((8, 8), 255, np.uint8), (300.0, 300.0), bilevel=True)
    with images.open_source(sink.path) as src:
        assert isinstance(src, PageSource)
        assert isinstance(src, PdfSource if name.endswith(".pdf") else RasterSource)
        assert src.page_count == 1


@pytest.mark.parametrize("fmt", ["png", "jpeg", "bmp", "tiff"])
def test_raster_writers_are_page_sinks(tmp_path, fmt):
    writer = raster_writer(tmp_path / f"x.{fmt}", fmt)
    try:
        assert isinstance(writer, PageSink)
        with pytest.raises(errors.OutputError, match="no page"):
            writer.finish()
    finally:
        writer.close()


def test_the_pdf_writer_is_a_page_sink(tmp_path):
    sink = PdfSink(tmp_path / "x.pdf")
    try:
        assert isinstance(sink, PageSink)
    finally:
        sink.close()
    assert not (tmp_path / "x.pdf").exists()     # closed unfinished: nothing left


@pytest.mark.parametrize("code", sorted(TRANSIENT_ERRNOS))
def test_every_transient_errno_is_transient_when_reading_and_writing(tmp_path, code):
    exc = OSError(code, "boom")
    assert isinstance(read_error(exc), errors.TransientIOError)
    assert isinstance(write_error(exc, tmp_path / "t"), errors.TransientIOError)


def test_other_errnos_are_permanent(tmp_path):
    assert read_error(OSError(errno.EACCES, "no")).reason == "unreadable"
    assert isinstance(write_error(OSError(errno.EROFS, "read-only"), tmp_path / "t"), errors.OutputError)
    assert isinstance(write_error(OSError("encoder broke"), tmp_path / "t"), errors.OutputError)
