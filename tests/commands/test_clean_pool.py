"""`despeckled clean` on the daemon's worker pool: a worker that dies or
runs over the per-file timeout costs only its own file.

Each case runs in a real subprocess (workers are forked, and the test
process may have threads) with a runner that misbehaves on purpose
(``tests/commands/misbehaving.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from despeckled.errors import ExitCode

from .test_clean_cli import despeckled, make_page

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from pathlib import Path
from despeckled.clean import CleanParams
from despeckled.commands import clean
from despeckled.io import images

mode, out, timeout, jobs, *files = sys.argv[1:]
tasks = [clean.FileTask(Path(f), Path(out), CleanParams(), None, None, images.Limits(), None, False) for f in files]
got = {}
record = lambda o: got.__setitem__(Path(o.source).name, [o.error, o.exit_code])
run = clean._run_files if mode == "files" else clean._run_pages
args = (float(timeout) if timeout != "none" else None,) if mode == "files" else ()
clean._preload_for_workers()
run(tasks, int(jobs), record, *args, runner="tests.commands.misbehaving:run")
print(json.dumps(got))
"""


def _run(mode: str, out: Path, files: list[Path], *, timeout: str = "none", jobs: int = 2, env=None) -> dict:
    res = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(out), timeout, str(jobs), *map(str, files)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, env={**os.environ, **(env or {})})
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])


@pytest.fixture
def pages(tmp_path):
    def make(*names: str) -> list[Path]:
        out = []
        for i, name in enumerate(names):
            p = tmp_path / name
            Image.fromarray(make_page(i)[0]).save(p, dpi=(300, 300))
            out.append(p)
        return out
    (tmp_path / "out").mkdir()
    return make


def test_a_worker_killed_mid_file_fails_that_file_only(tmp_path, pages):
    files = pages("a.png", "poison.png", "b.png", "c.png", "d.png")
    got = _run("files", tmp_path / "out", files)
    assert got.pop("poison.png") == [
        "the worker process died while cleaning this file (out of memory or killed)", int(ExitCode.input_file)]
    assert got == {n: [None, 0] for n in ("a.png", "b.png", "c.png", "d.png")}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png", "c.png", "d.png"]


def test_a_file_over_the_timeout_fails_and_the_rest_finish(tmp_path, pages):
    files = pages("slow.png", "a.png", "b.png")
    got = _run("files", tmp_path / "out", files, timeout="2")
    assert got.pop("slow.png") == ["took too long: timeout after 2 s", int(ExitCode.input_file)]
    assert got == {"a.png": [None, 0], "b.png": [None, 0]}


def test_a_page_worker_killed_fails_its_file_and_the_pool_carries_on(tmp_path, pages):
    from PIL import TiffImagePlugin

    doc = tmp_path / "poison-pages.tif"
    with open(doc, "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for i in range(4):
            Image.fromarray(make_page(10 + i)[0]).save(tf, "TIFF", dpi=(300, 300))
            tf.newFrame()
    other = tmp_path / "other.tif"
    with open(other, "w+b") as f, TiffImagePlugin.AppendingTiffWriter(f, new=True) as tf:
        for i in range(3):
            Image.fromarray(make_page(20 + i)[0]).save(tf, "TIFF", dpi=(300, 300))
            tf.newFrame()
    marker = tmp_path / "poison-once"
    marker.touch()
    got = _run("pages", tmp_path / "out", [doc, other], jobs=3, env={"POISON_ONCE": str(marker)})
    assert got == {"poison-pages.tif": [
        "the worker process died while cleaning this file (out of memory or killed)", int(ExitCode.input_file)],
        "other.tif": [None, 0]}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["other.tif"]   # no partial output


def test_timeout_option_on_the_cli(tmp_path, pages):
    files = pages("a.png", "b.png")
    res = despeckled(*files, "--output-dir", tmp_path / "o", "--timeout", "60", "--jobs", "1")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.png", "b.png"]
    res = despeckled(*files, "--output-dir", tmp_path / "o", "--timeout", "0")
    assert res.returncode == int(ExitCode.bad_args) and "--timeout" in res.stderr
