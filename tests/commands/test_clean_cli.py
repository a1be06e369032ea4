"""`despeckled clean` as a real subprocess: outputs, exit codes, error lines,
--set, --config, --show-removed, the progress bar."""

from __future__ import annotations

import json
import os
import pty
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from despeckled.errors import ExitCode
from despeckled.io.fsutil import TEMP_MARKER
from despeckled.clean.overlay import RULE_RGB
from despeckled.clean.rules import RULE_NAMES, is_removal

ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}
ENV.pop("DESPECKLED_CONFIG", None)


def despeckled(*args, cwd=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "despeckled", "clean", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=ENV, timeout=120, **kw)


def make_page(seed: int = 0, h: int = 300, w: int = 260) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A page with text-like strokes and isolated 2x2 specks; returns the
    page and the specks' top-left corners."""
    rng = np.random.default_rng(seed)
    page = np.full((h, w), 255, np.uint8)
    for i in range(4):
        y = 40 + 50 * i
        for x in range(20, w - 40, 22):      # "letters": short vertical strokes
            page[y:y + 24, x:x + 4] = 0
    specks = []
    for _ in range(4):
        y, x = int(rng.integers(10, h - 10)), int(rng.integers(w - 30, w - 10))
        page[y:y + 2, x:x + 2] = 0
        specks.append((y, x))
    return page, specks


@pytest.fixture
def inputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for i, name in enumerate(["a.png", "b.TIF", "c.jpg"]):
        page, _ = make_page(i)
        Image.fromarray(page).save(d / name, dpi=(300, 300))
    return d


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error:" in line]


def test_batch_with_a_bad_file_among_good_ones(tmp_path, inputs):
    (inputs / "broken.png").write_text("not really a png\n")
    good = sorted(p for p in inputs.iterdir() if p.name != "broken.png")
    out = tmp_path / "out"
    res = despeckled(*good[:2], inputs / "broken.png", good[2], "--output-dir", out, "--jobs", "2")
    assert res.returncode == ExitCode.input_file, res.stderr
    lines = error_lines(res.stderr)
    assert len(lines) == 1
    assert lines[0].startswith("despeckled: error: ") and "broken.png" in lines[0] and "not an image" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.TIF", "c.png"]
    assert "3 files cleaned" in res.stderr and "1 failed" in res.stderr
    assert "Traceback" not in res.stderr


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_every_kind_of_bad_input_gets_one_line_and_the_rest_carry_on(tmp_path, inputs):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.png").write_bytes(b"")
    data = (inputs / "a.png").read_bytes()
    (bad / "cut.png").write_bytes(data[: len(data) // 2])
    (bad / "huge.png").write_bytes(png_header_only(100_000, 100_000))
    (bad / "text.tif").write_text("hello")
    (bad / "nothing-here").mkdir()
    damaged = bytearray(data)
    damaged[len(data) // 2:len(data) // 2 + 16] = b"\0" * 16      # a bit rot in the pixel data
    (bad / "rot.png").write_bytes(bytes(damaged))
    wanted = {
        "rot.png": "corrupt PNG",
        "empty.png": "empty", "cut.png": "truncated", "huge.png": "100000x100000", "text.tif": "not an image",
        "nothing-here": "directory", "missing.png": "no such file",
    }
    args = [bad / name for name in wanted] + [inputs / "a.png"]
    res = despeckled(*args, "--output-dir", tmp_path / "out")
    assert res.returncode == ExitCode.input_file, res.stderr
    lines = error_lines(res.stderr)
    assert len(lines) == len(wanted), res.stderr
    for name, why in wanted.items():
        (line,) = [x for x in lines if f"{bad / name}:" in x]
        assert why in line, line
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]
    assert "Traceback" not in res.stderr


def test_all_ok_exit_zero_and_directory_input_expands(tmp_path, inputs):
    out = tmp_path / "out"
    (inputs / ".hidden.png").write_bytes(b"junk")
    (inputs / "notes.txt").write_text("ignored")
    res = despeckled(inputs, "--output-dir", out)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.TIF", "c.png"]
    assert not [p for p in out.iterdir() if TEMP_MARKER in p.name]
    for p in out.iterdir():
        assert Image.open(p).mode == "1"


def test_output_file_needs_exactly_one_input(tmp_path, inputs):
    res = despeckled(inputs / "a.png", inputs / "c.jpg", "-o", tmp_path / "x.png")
    assert res.returncode == ExitCode.bad_args
    assert "exactly one" in res.stderr
    res = despeckled(inputs / "a.png", "-o", tmp_path / "x.tif", "-q")
    assert res.returncode == 0 and res.stderr == ""
    assert Image.open(tmp_path / "x.tif").format == "TIFF"


def test_output_never_overwrites(tmp_path, inputs):
    target = tmp_path / "x.png"
    target.write_bytes(b"precious")
    res = despeckled(inputs / "a.png", "-o", target)
    assert res.returncode == 0
    assert target.read_bytes() == b"precious" and (tmp_path / "x-1.png").exists()
    assert f"written to {tmp_path / 'x-1.png'}" in res.stderr
    res = despeckled(inputs / "a.png", "-o", tmp_path)
    assert res.returncode == ExitCode.bad_args and "--output-dir" in res.stderr


def test_set_unknown_key_names_the_closest_one(tmp_path, inputs):
    res = despeckled(inputs / "a.png", "-o", tmp_path / "x.png", "--set", "medain=true")
    assert res.returncode == ExitCode.bad_args
    assert "'medain'" in res.stderr and "'median'" in res.stderr
    assert not (tmp_path / "x.png").exists()


def test_set_bad_value_and_good_values(tmp_path, inputs):
    res = despeckled(inputs / "a.png", "-o", tmp_path / "x.png", "--set", "mode=grey")
    assert res.returncode == ExitCode.bad_args and "mode" in res.stderr
    res = despeckled(inputs / "c.jpg", "-o", tmp_path / "g.jpg", "--set", "mode=gray", "--set", "median=true")
    assert res.returncode == 0, res.stderr
    assert Image.open(tmp_path / "g.jpg").mode == "L"


def test_config_profile(tmp_path, inputs):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[profiles.soft]\nmode = "gray"\n')
    res = despeckled(inputs / "a.png", "-o", tmp_path / "x.png", "--config", cfg, "--profile", "soft")
    assert res.returncode == 0, res.stderr
    assert Image.open(tmp_path / "x.png").mode == "L"
    res = despeckled(inputs / "a.png", "-o", tmp_path / "y.png", "--config", cfg, "--profile", "nope")
    assert res.returncode == ExitCode.bad_config
    assert "nope" in res.stderr


def test_show_removed_colours_each_speck_by_its_rule_with_a_legend(tmp_path):
    page, specks = make_page(7)
    Image.fromarray(page).save(tmp_path / "p.png", dpi=(300, 300))
    res = despeckled(tmp_path / "p.png", "-o", tmp_path / "clean.png", "--show-removed", tmp_path / "ov.png")
    assert res.returncode == 0, res.stderr
    ov = np.asarray(Image.open(tmp_path / "ov.png").convert("RGB"))
    assert ov.shape[0] > page.shape[0]                     # the legend strip
    body = ov[:page.shape[0]]
    removing = [name for name in RULE_NAMES if is_removal(np.array([RULE_NAMES.index(name)]))[0]]
    gone = np.zeros(page.shape, bool)
    for name in removing:
        gone |= np.all(body == RULE_RGB[name], axis=2)
    for y, x in specks:
        assert gone[y:y + 2, x:x + 2].all()
    assert gone.sum() == 4 * len(specks)

    res = despeckled(tmp_path / "p.png", "--output-dir", tmp_path / "o", "--show-removed", tmp_path / "ovdir")
    assert res.returncode == 0, res.stderr
    assert [p.name for p in (tmp_path / "ovdir").iterdir()] == ["p.removed.png"]


def test_progress_bar_only_on_a_terminal(tmp_path, inputs):
    res = despeckled(inputs, "--output-dir", tmp_path / "o1")
    assert "\r" not in res.stderr and "[#" not in res.stderr

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "despeckled", "clean", str(inputs), "--output-dir",
                                 str(tmp_path / "o2")], stdout=subprocess.DEVNULL, stderr=follower, env=ENV)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:       # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(leader)
    text = b"".join(chunks).decode()
    assert "\r[" in text and "3/3 files" in text


def test_one_multipage_file_cleaned_page_parallel_matches_serial(tmp_path):
    from PIL import TiffImagePlugin

    pages = [make_page(10 + i)[0] for i in range(5)]
    src = tmp_path / "doc.tif"
    with open(src, "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for p in pages:
            Image.fromarray(p).save(tf, "TIFF", dpi=(300, 300), compression="tiff_lzw")
            tf.newFrame()
    for jobs in ("1", "3"):
        res = despeckled(src, "--output-dir", tmp_path / f"o{jobs}", "--jobs", jobs,
                         "--show-removed", tmp_path / f"ov{jobs}")
        assert res.returncode == 0, res.stderr
    a, b = Image.open(tmp_path / "o1" / "doc.tif"), Image.open(tmp_path / "o3" / "doc.tif")
    assert a.n_frames == b.n_frames == 5
    for i in range(5):
        a.seek(i)
        b.seek(i)
        assert b.mode == "1" and b.info["dpi"] == (300.0, 300.0)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    names = sorted(p.name for p in (tmp_path / "ov1").iterdir())
    assert names == [f"doc.p{i:04d}.removed.png" for i in range(1, 6)]
    for name in names:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "ov1" / name)),
                                      np.asarray(Image.open(tmp_path / "ov3" / name)))


def test_text_pdf_is_copied_unchanged_and_said_so(tmp_path, inputs):
    pdf_synth = pytest.importorskip("despeckled.testing.pdf_synth")
    pdf = pdf_synth.write_text_pdf(tmp_path / "letter.pdf", "Hello")
    res = despeckled(pdf, inputs / "a.png", "--output-dir", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "letter.pdf").read_bytes() == pdf.read_bytes()
    assert "letter.pdf: copied unchanged" in res.stderr
    assert "1 file cleaned (1 page)" in res.stderr and "1 copied unchanged" in res.stderr
    res = despeckled(pdf, "--output-dir", tmp_path / "forced", "--force-pdf")
    assert res.returncode == 0, res.stderr
    assert "1 file cleaned" in res.stderr


def test_set_blank_pages_drop_leaves_blank_pages_out(tmp_path):
    from PIL import TiffImagePlugin

    from despeckled.testing.geometry_pages import blank_page, text_page

    d = tmp_path / "in"
    d.mkdir()
    pages = [text_page("table", 1, 150), blank_page("specks", 2, 150), text_page("table", 3, 150)]
    with open(d / "doc.tif", "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for p in pages:
            Image.fromarray(p).save(tf, "TIFF", dpi=(150, 150))
            tf.newFrame()
    Image.fromarray(blank_page("punch_holes", 8, 150)).save(d / "back.png", dpi=(150, 150))
    out = tmp_path / "out"
    res = despeckled(d, "--output-dir", out, "--set", "blank_pages=drop", "--set", "deskew=false", "-j", "1")
    assert res.returncode == 0, res.stderr
    assert "back.png: every page is blank: no output" in res.stderr
    assert "doc.tif: blank pages left out: 2" in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["doc.tif"]
    assert Image.open(out / "doc.tif").n_frames == 2
    res = despeckled(d / "back.png", "-o", tmp_path / "kept.png")      # "keep" is the default
    assert res.returncode == 0 and (tmp_path / "kept.png").exists() and "1 blank page" in res.stderr


def test_explain_from_page_workers_covers_every_page(tmp_path):
    pages = [make_page(s) for s in (8, 9, 10)]
    frames = [Image.fromarray(p) for p, _ in pages]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], dpi=(300, 300))
    res = despeckled(tmp_path / "m.tif", "-j", "3", "--output-dir", tmp_path / "o", "--explain", tmp_path / "w.json",
                     "--show-removed", tmp_path / "ov")
    assert res.returncode == 0, res.stderr
    [f] = json.loads((tmp_path / "w.json").read_text())["files"]
    assert [p["page"] for p in f["pages"]] == [1, 2, 3]
    for p, (_, specks) in zip(f["pages"], pages):
        assert sorted((e["box"][1], e["box"][0]) for e in p["removed"]) == sorted(specks)
    assert len(list((tmp_path / "ov").iterdir())) == 3


def test_explain_writes_every_removed_component_as_json_never_overwriting(tmp_path):
    page, specks = make_page(7)
    Image.fromarray(page).save(tmp_path / "p.png", dpi=(300, 300))
    why = tmp_path / "why.json"
    res = despeckled(tmp_path / "p.png", "-o", tmp_path / "clean.png", "--explain", why)
    assert res.returncode == 0, res.stderr
    data = json.loads(why.read_text())
    [f] = data["files"]
    assert f["source"].endswith("p.png") and len(f["pages"]) == 1
    removed = f["pages"][0]["removed"]
    assert sorted((e["box"][1], e["box"][0]) for e in removed) == sorted(specks)
    assert all(e["area"] == 4 and e["reason"] in data["rules"] and 0.5 <= e["confidence"] <= 1 for e in removed)
    # a second run does not overwrite the first explanation
    res = despeckled(tmp_path / "p.png", "-o", tmp_path / "clean2.png", "--explain", why)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "why-1.json").exists() and "why-1.json" in res.stderr
