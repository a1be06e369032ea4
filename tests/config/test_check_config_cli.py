"""`despeckled check-config` as a real subprocess, on good and bad configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def check_config(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("DESPECKLED_")}
    return subprocess.run(
        [sys.executable, "-m", "despeckled", "check-config", *args],
        capture_output=True, text=True, timeout=60, env={**base, **(env or {})}, cwd=cwd,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_example_config_passes_and_prints_the_effective_config():
    out = check_config("--config", str(ROOT / "config.example.toml"))
    assert out.returncode == 0, out.stderr
    assert f'input = "{ROOT / "demo" / "inbox"}"' in out.stdout  # relative path resolved
    assert "[watch.clean]" in out.stdout and 'mode = "binary"' in out.stdout
    assert "# watch[0]" in out.stdout and "watching: " in out.stdout
    assert "OK: 1 watch(es), no problems" in out.stdout
    assert out.stderr == ""


def test_good_config_reports_polling_and_creatable_folders(tmp_path):
    (tmp_path / "in").mkdir()
    cfg = write(tmp_path / "c.toml", """
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        failed = "failed"
        create_folders = true
        [[watch]]
        input = "in2"
        output = "out2"
        archive = "archive2"
        failed = "failed2"
        polling = true
        create_folders = true
    """)
    out = check_config("--config", str(cfg), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["problems"] == []
    w0, w1 = report["watches"]
    assert w0["input"] == str(tmp_path / "in")
    assert w1["polled"] is True and "polling = true" in w1["polling_reason"]
    assert isinstance(w0["polled"], bool) and w0["polling_reason"]
    assert any("does not exist yet; it is created on start" in n for n in w0["notes"])
    assert report["effective"]["watch"][0]["clean"]["mode"] == "binary"
    assert not (tmp_path / "out").exists()  # checking creates nothing
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == []  # the write probe cleans up


def test_config_from_environment_variable(tmp_path):
    cfg = write(tmp_path / "env.toml", "[[watch]]\ninput='i'\noutput='o'\narchive='a'\nfailed='f'\ncreate_folders=true\n")
    out = check_config(env={"DESPECKLED_CONFIG": str(cfg), "DESPECKLED_DAEMON__WORKERS": "3"})
    assert out.returncode == 0, out.stderr
    assert f"# config file: {cfg}" in out.stdout
    assert "workers = 3" in out.stdout
    assert "DESPECKLED_DAEMON__WORKERS" in out.stdout


def test_bad_keys_exit_3_listing_every_problem(tmp_path):
    cfg = write(tmp_path / "bad.toml", """
        [daemon]
        workers = "two"
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        failed = "failed"
        settle_secnds = 3
        profile = "fotos"
    """)
    out = check_config("--config", str(cfg), env={"DESPECKLED_DAEMON__WORKRES": "1"})
    assert out.returncode == 3
    assert out.stdout == ""
    err = out.stderr
    assert err.startswith(f"despeckled: error: {cfg}: 4 problems")
    for line in (
        "  - DESPECKLED_DAEMON__WORKRES: unknown setting; did you mean 'DESPECKLED_DAEMON__WORKERS'?",
        "  - daemon.workers: 'two' is not a valid integer",
        "  - watch[0].settle_secnds: unknown key; did you mean 'settle_seconds'?",
        "  - watch[0].profile: unknown profile 'fotos' (defined: default)",
    ):
        assert line in err.splitlines()
    assert "Traceback" not in err


def test_bad_folders_exit_3_listing_every_problem(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "afile").write_text("not a folder")
    cfg = write(tmp_path / "folders.toml", """
        [[watch]]
        input = "in"
        output = "in/clean"
        archive = "afile/archive"
        failed = "afile"
        create_folders = true
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        failed = "failed"
        create_folders = true
    """)
    out = check_config("--config", str(cfg))
    assert out.returncode == 3, out.stdout + out.stderr
    problems = [line[4:] for line in out.stderr.splitlines() if line.startswith("  - ")]
    t = tmp_path
    assert problems == [
        f"watch[0].archive: {t}/afile/archive cannot be created: {t}/afile is not a folder",
        f"watch[0].failed: {t}/afile exists but is not a folder",
        f"watch[0].output: {t}/in/clean lies inside watch[0].input {t}/in: files filed there would be picked up again",
        f"watch[0].output: {t}/in/clean lies inside watch[1].input {t}/in: files filed there would be picked up again",
        f"watch[1].input: {t}/in is also watch[0].input: two watches would race for each file",
    ]
    # the effective config and the checks are still printed, for context
    assert "# checks:" in out.stdout and "5 problem(s), listed on stderr" in out.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_a_problem(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        cfg = write(tmp_path / "ro.toml",
                    "[[watch]]\ninput='ro'\noutput='ro/../o'\narchive='ro/a'\nfailed='f'\ncreate_folders=true\n")
        out = check_config("--config", str(cfg))
    finally:
        ro.chmod(0o755)
    assert out.returncode == 3
    assert f"watch[0].input: {ro} is not readable and writable by" in out.stderr
    assert f"watch[0].archive: {ro}/a does not exist and cannot be created: {ro} is not writable by" in out.stderr


def test_a_missing_folder_is_a_problem_unless_the_config_creates_it(tmp_path):
    """The daemon never creates a configured folder unless told to: a share
    that is not mounted must not pass as a folder to be created."""
    (tmp_path / "in").mkdir()
    cfg = write(tmp_path / "c.toml", "[[watch]]\ninput='in'\noutput='out'\narchive='in/../a'\nfailed='f'\n")
    out = check_config("--config", str(cfg))
    assert out.returncode == 3
    problems = [line[4:] for line in out.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 3 and all("does not exist; the daemon never creates it" in p for p in problems), problems
    assert problems[0].startswith(f"watch[0].output: {tmp_path}/out ")
    cfg.write_text(cfg.read_text() + "create_folders = true\n")
    assert check_config("--config", str(cfg)).returncode == 0


def test_missing_config_file(tmp_path):
    out = check_config("--config", str(tmp_path / "nope.toml"))
    assert out.returncode == 3
    assert out.stderr.strip() == f"despeckled: error: config file not found: {tmp_path}/nope.toml (from --config)"
    # the error names where the path came from
    out = check_config(env={"DESPECKLED_CONFIG": str(tmp_path / "gone.toml")})
    assert out.returncode == 3
    assert out.stderr.strip() == f"despeckled: error: config file not found: {tmp_path}/gone.toml (from DESPECKLED_CONFIG)"


def test_no_watches_is_a_problem(tmp_path):
    cfg = write(tmp_path / "empty.toml", "[daemon]\nworkers = 1\n")
    out = check_config("--config", str(cfg))
    assert out.returncode == 3
    assert "watch: no [[watch]] table: the daemon would have nothing to watch" in out.stderr


def test_json_report_lists_problems_too(tmp_path):
    cfg = write(tmp_path / "bad.toml", "[daemon]\nworkers = 0\n")
    out = check_config("--config", str(cfg), "--json")
    assert out.returncode == 3
    assert json.loads(out.stdout)["problems"] == ["daemon.workers: 0 is out of range: should be greater than or equal to 1"]


def _other_filesystem(tmp_path: Path) -> Path:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev or not os.access(shm, os.W_OK):
        pytest.skip("needs a writable /dev/shm on another filesystem than the temp folder")
    import tempfile

    return Path(tempfile.mkdtemp(dir=shm, prefix="despeckled-test-"))


def test_other_filesystems_state_the_fallback_and_refuse_a_split_claim(tmp_path):
    other = _other_filesystem(tmp_path)
    try:
        (tmp_path / "in").mkdir()
        (other / "work").mkdir()
        (tmp_path / "in" / ".despeckled").symlink_to(other)  # the claim would cross filesystems
        cfg = write(tmp_path / "fs.toml", f"""
            [[watch]]
            input = "in"
            output = "out"
            archive = "{other}/archive"
            failed = "failed"
            create_folders = true
        """)
        out = check_config("--config", str(cfg), "--json")
        report = json.loads(out.stdout)
        assert out.returncode == 3
        (problem,) = report["problems"]
        assert problem.startswith(f"watch[0].input: {tmp_path}/in and its work folder") and "different filesystems" in problem
        (w,) = report["watches"]
        assert w["claim"].startswith("NOT atomic")
        assert any(n.startswith("watch[0].archive: on another filesystem than the input: files are copied there")
                   for n in w["notes"])
    finally:
        import shutil

        shutil.rmtree(other, ignore_errors=True)


def test_metrics_settings_are_checked(tmp_path):
    (tmp_path / "textfile").mkdir()
    cfg = write(tmp_path / "c.toml", """
        [daemon]
        metrics_listen = "0.0.0.0:9464"
        metrics_file = "textfile/despeckled.prom"
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        failed = "failed"
        create_folders = true
    """)
    out = check_config("--config", str(cfg), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["effective"]["daemon"]["metrics_file"] == str(tmp_path / "textfile" / "despeckled.prom")
    assert any("reachable from the network" in n for n in report["notes"])
    assert any("drop-in" in n for n in report["notes"])
    bad = write(tmp_path / "bad.toml", cfg.read_text().replace("textfile/", "missing/")
                .replace('"0.0.0.0:9464"', '"localhost"'))
    out = check_config("--config", str(bad))
    assert out.returncode == 3
    assert "daemon.metrics_listen: must be HOST:PORT" in out.stderr
    bad.write_text(bad.read_text().replace('"localhost"', '"127.0.0.1:9464"').replace(".prom", ".txt"))
    out = check_config("--config", str(bad))
    assert out.returncode == 3 and "must end in .prom" in out.stderr
    bad.write_text(bad.read_text().replace(".txt", ".prom"))
    out = check_config("--config", str(bad))
    assert out.returncode == 3 and f"daemon.metrics_file: {tmp_path / 'missing'} is not a folder" in out.stderr
