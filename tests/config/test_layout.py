"""The folder layout is checked in one place (despeckled.config), so
`check-config` and `run` refuse the same layouts with the same words."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from despeckled.config import check_layout, layout_problems, load_config
from despeckled.errors import ConfigError


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("DESPECKLED_")}
    return subprocess.run([sys.executable, "-m", "despeckled", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=cwd)


def _problems(stderr: str) -> list[str]:
    return [line[4:] for line in stderr.splitlines() if line.startswith("  - ")]


def _nested(tmp_path: Path) -> Path:
    cfg = tmp_path / "nested.toml"
    cfg.write_text(textwrap.dedent("""
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        failed = "failed"
        create_folders = true
        [[watch]]
        input = "in/sub"
        output = "out2"
        archive = "archive2"
        failed = "failed2"
        create_folders = true
    """))
    return cfg


def test_nested_inputs_are_refused_by_check_config_and_by_run_with_the_same_message(tmp_path):
    cfg = _nested(tmp_path)
    want = (f"watch[1].input: {tmp_path}/in/sub and watch[0].input {tmp_path}/in are nested: "
            "watch inputs overlap, two watches would race for the inner one's files")

    checked = _cli("check-config", "--config", str(cfg), cwd=tmp_path)
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert _problems(checked.stderr) == [want]

    ran = _cli("run", "--config", str(cfg), "--state", str(tmp_path / "state.json"), cwd=tmp_path)
    assert ran.returncode == 3, ran.stderr
    assert _problems(ran.stderr) == [want]
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "in").exists()        # refused before creating any folder


def test_the_outer_input_listed_second_is_nested_too(tmp_path):
    cfg = _nested(tmp_path)
    cfg.write_text(cfg.read_text().replace('input = "in"\n', 'input = "TMP"\n')
                   .replace('input = "in/sub"', 'input = "in"').replace('input = "TMP"', 'input = "in/sub"'))
    (problem,) = layout_problems(load_config(cfg).resolved_watches())
    assert problem.startswith(f"watch[1].input: {tmp_path}/in and watch[0].input {tmp_path}/in/sub are nested")


def test_a_sound_layout_has_no_problems(tmp_path):
    cfg = _nested(tmp_path)
    cfg.write_text(cfg.read_text().replace('"in/sub"', '"in2"'))
    watches = load_config(cfg).resolved_watches()
    assert layout_problems(watches) == []
    check_layout(watches)


def test_sibling_folders_with_a_common_prefix_are_not_nested(tmp_path):
    cfg = _nested(tmp_path)
    cfg.write_text(cfg.read_text().replace('"in/sub"', '"in-2"').replace('output = "out"', 'output = "in-out"'))
    assert layout_problems(load_config(cfg).resolved_watches()) == []


def test_check_layout_headline_names_each_kind_once(tmp_path):
    cfg = _nested(tmp_path)
    cfg.write_text(cfg.read_text().replace('output = "out2"', 'output = "in/sub/clean"'))
    with pytest.raises(ConfigError) as err:
        check_layout(load_config(cfg).resolved_watches())
    assert err.value.message == ("the configuration would make a loop: output folder inside the watched input; "
                                 "a race: watch inputs overlap")
    assert len(err.value.problems) == 3     # inside watch[0].input, inside watch[1].input, nested
