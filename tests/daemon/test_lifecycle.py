"""The file lifecycle on real files, including a crash injected before and
after every filesystem step, followed by recovery (what a restart does)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import pytest

from despeckled.daemon import lifecycle, policy
from despeckled.io.fsutil import TEMP_MARKER
from despeckled.clean import CleanParams
from despeckled.config import ResolvedWatch
from despeckled.daemon.lifecycle import Job

from .daemon_helpers import all_files, make_png, sha, spec  # noqa: F401 (spec is a fixture)


class Crash(BaseException):
    """Stands for kill -9: raised past every ``except Exception``."""


def _crash_after(monkeypatch, k: int) -> list[int]:
    """Make the k-th call of the lifecycle's filesystem steps crash."""
    calls = [0]
    for name in ("rename_noreplace", "replace_atomic", "fsync_dir"):
        real = getattr(lifecycle, name)

        def wrapped(*a, _real=real, **kw):
            calls[0] += 1
            if calls[0] == k:
                raise Crash(k)
            return _real(*a, **kw)

        monkeypatch.setattr(lifecycle, name, wrapped)
    return calls


def _restart(spec: ResolvedWatch) -> None:
    """What the service does at startup: resume claims, drop stale staging,
    then take whatever is still in the inbox."""
    claims = lifecycle.pending_claims(spec.input)
    lifecycle.clean_staging(spec.output, set(claims))
    for cid in claims:
        out = lifecycle.run_job(Job("resume", spec, cid))
        assert out.status in ("done", "failed", "not_ready", "gone"), out
    for p in sorted(spec.input.glob("*.png")):
        sig = lifecycle.signature(os.lstat(p))
        out = lifecycle.run_job(Job("new", spec, "again-" + p.name, rel=p.name, signature=sig))
        assert out.status in ("done", "failed"), out


def _no_temp_or_work_left(spec: ResolvedWatch) -> None:
    for root in (spec.input, spec.output, spec.archive, spec.failed):
        leftovers = [p for p in all_files(root) if TEMP_MARKER in p.name or p.name == lifecycle.MANIFEST]
        assert leftovers == [], leftovers
    assert list(lifecycle.work_root(spec.input).glob("*")) == []
    assert not lifecycle.staging_root(spec.output).exists() or list(lifecycle.staging_root(spec.output).iterdir()) == []


def _visible(root: Path) -> list[Path]:
    return [p for p in all_files(root) if ".despeckled" not in p.parts]


def _specs(tmp_path: Path, cross_device: bool):
    base = tmp_path
    other = Path(tempfile.mkdtemp(dir="/dev/shm")) if cross_device else tmp_path
    if cross_device and os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same filesystem here")
    return base, other


def _each_crash_point(tmp_path, monkeypatch, cross_device: bool, name: str, write_input):
    """Run one new job with a crash injected at its k-th filesystem step, for
    k = 1, 2, ... until a run gets through without reaching step k, restarting
    after each. Yields ``(k, spec, data, outcome)`` after the restart, where
    ``data`` is what ``write_input(path, k)`` put in the inbox and ``outcome``
    is None when the run crashed."""
    base, other = _specs(tmp_path, cross_device)
    k = 0
    while True:
        k += 1
        d = base / f"k{k}"
        spec = ResolvedWatch(input=d / "in", output=d / "out", archive=other / f"k{k}" / "arch",
                         failed=other / f"k{k}" / "failed", clean=CleanParams())
        for folder in (spec.input, spec.output, spec.archive, spec.failed):
            folder.mkdir(parents=True, exist_ok=True)  # configured folders exist: the lifecycle creates none
        data = write_input(spec.input / name, k)
        sig = lifecycle.signature(os.lstat(spec.input / name))
        with monkeypatch.context() as mp:
            _crash_after(mp, k)
            try:
                outcome = lifecycle.run_job(Job("new", spec, "c1", rel=name, signature=sig))
            except Crash:
                outcome = None
        _restart(spec)
        yield k, spec, data, outcome
        if outcome is not None:
            return


@pytest.mark.parametrize("cross_device", [False, True], ids=["same-fs", "archive-on-other-fs"])
def test_crash_at_every_step_of_a_success_then_recover(tmp_path, monkeypatch, cross_device):
    for k, spec, original, outcome in _each_crash_point(
            tmp_path, monkeypatch, cross_device, "scan.png", lambda path, k: make_png(path, seed=k)):
        if outcome is not None:
            assert outcome.status == "done"
        archived = _visible(spec.archive)
        assert len(archived) == 1 and archived[0].read_bytes() == original, (k, archived)
        outputs = _visible(spec.output)
        assert [p.name for p in outputs] == ["scan.png"], (k, outputs)
        assert cv2.imread(str(outputs[0]), cv2.IMREAD_UNCHANGED) is not None
        assert _visible(spec.failed) == [] and _visible(spec.input) == []
        _no_temp_or_work_left(spec)
    assert k > 10, f"only {k - 1} crash points: the injection is not reaching the steps"


def _write_garbage(path: Path, k: int) -> bytes:
    data = b"this is not an image at all"
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("cross_device", [False, True], ids=["same-fs", "failed-on-other-fs"])
def test_crash_at_every_step_of_a_failure_then_recover(tmp_path, monkeypatch, cross_device):
    for k, spec, data, _ in _each_crash_point(tmp_path, monkeypatch, cross_device, "bad.png", _write_garbage):
        failed = _visible(spec.failed)
        assert [p.name for p in failed] == ["bad.png", "bad.png.error.json"], (k, failed)
        assert failed[0].read_bytes() == data
        side = json.loads(failed[1].read_text())
        assert side["reason"] == "not_an_image" and "bad.png" in side["message"] and side["failed_at"]
        assert _visible(spec.output) == [] and _visible(spec.archive) == [] and _visible(spec.input) == []
        _no_temp_or_work_left(spec)


def test_same_name_twice_both_survive(spec):
    a = make_png(spec.input / "scan0001.png", seed=1)
    lifecycle.run_job(Job("new", spec, "c1", rel="scan0001.png"))
    b = make_png(spec.input / "scan0001.png", seed=2)
    lifecycle.run_job(Job("new", spec, "c2", rel="scan0001.png"))
    assert sorted(p.name for p in _visible(spec.output)) == ["scan0001-1.png", "scan0001.png"]
    assert sorted(p.read_bytes() for p in _visible(spec.archive)) == sorted([a, b])


def test_subfolder_is_mirrored(spec):
    make_png(spec.input / "alice" / "scan.png")
    out = lifecycle.run_job(Job("new", spec, "c1", rel="alice/scan.png"))
    assert out.status == "done"
    assert (spec.output / "alice" / "scan.png").is_file()
    assert [p.relative_to(spec.archive).parts[1:] for p in _visible(spec.archive)] == [("alice", "scan.png")]


def test_symlink_is_moved_itself_never_followed(spec, tmp_path):
    secret = tmp_path / "secret.png"
    data = make_png(secret)
    os.symlink(secret, spec.input / "link.png")
    out = lifecycle.run_job(Job("new", spec, "c1", rel="link.png"))
    assert out.status == "failed" and out.reason == "symlink"
    moved = spec.failed / "link.png"
    assert moved.is_symlink() and os.readlink(moved) == str(secret)
    assert secret.read_bytes() == data and _visible(spec.output) == [] and _visible(spec.archive) == []
    assert json.loads((spec.failed / "link.png.error.json").read_text())["reason"] == "symlink"


def test_changed_since_settled_is_not_claimed(spec):
    make_png(spec.input / "a.png", seed=1)
    sig = lifecycle.signature(os.lstat(spec.input / "a.png"))
    make_png(spec.input / "a.png", seed=2, size=(50, 64))
    out = lifecycle.run_job(Job("new", spec, "c1", rel="a.png", signature=sig))
    assert out.status == "not_ready" and (spec.input / "a.png").exists()


def test_truncated_is_not_ready_and_stays_in_inbox(spec):
    data = make_png(spec.input / "a.png")
    (spec.input / "a.png").write_bytes(data[: len(data) // 2])
    out = lifecycle.run_job(Job("new", spec, "c1", rel="a.png"))
    assert out.status == "not_ready" and out.reason == "truncated"
    assert (spec.input / "a.png").exists() and list(lifecycle.work_root(spec.input).glob("*")) == []


def test_poison_file_is_failed_after_max_crashes(spec):
    make_png(spec.input / "a.png")
    claim = lifecycle.claim_file(spec, "c1", "a.png")
    assert claim.m["state"] == "claimed"
    for i in range(policy.MAX_CRASHES - 1):
        c = lifecycle.Claim.load(spec, "c1")
        c.m["crashes"] = i + 1
        c.save()
    out = lifecycle.run_job(Job("resume", spec, "c1", crash=policy.WorkerCrashed("worker died (exit code -11)")))
    assert out.status == "failed" and out.reason == "crashed"
    assert json.loads((spec.failed / "a.png.error.json").read_text())["crashes"] == policy.MAX_CRASHES


def test_orphan_work_folder_without_manifest_keeps_the_file(spec):
    d = lifecycle.work_root(spec.input) / "orphan"
    d.mkdir(parents=True)
    data = make_png(d / "x.png")
    out = lifecycle.run_job(Job("resume", spec, "orphan"))
    assert out.status == "failed" and (spec.failed / "x.png").read_bytes() == data
    assert not d.exists()


def test_a_broken_output_folder_leaves_new_files_in_the_inbox(spec):
    data = make_png(spec.input / "a.png")
    spec.output.rmdir()
    spec.output.write_text("the output folder is a file: every write fails")
    out = lifecycle.run_job(Job("new", spec, "c1", rel="a.png"))
    assert out.status == "not_ready" and out.reason == "folder_missing"
    assert out.event == policy.FolderMissing(str(spec.output), "not_a_folder", out.message)
    assert (spec.input / "a.png").read_bytes() == data and _visible(spec.failed) == []


def test_a_missing_output_folder_is_waited_for_never_created_never_failed(spec):
    data = make_png(spec.input / "a.png")
    lifecycle.claim_file(spec, "c1", "a.png")
    spec.output.rename(spec.output.with_name("away"))    # a share unmounted under us
    for _ in range(spec.max_retries + 3):                # the service retries it, uncounted
        out = lifecycle.run_job(Job("resume", spec, "c1"))
        assert out.status == "transient" and isinstance(out.event, policy.FolderMissing), out
        assert isinstance(out.decision, policy.Retry)
        assert not spec.output.exists(), "a stand-in output folder was created"
    spec.output.with_name("away").rename(spec.output)
    assert lifecycle.run_job(Job("resume", spec, "c1")).status == "done"
    assert [p.read_bytes() for p in _visible(spec.archive)] == [data] and _visible(spec.failed) == []


def test_io_errors_after_the_claim_are_retried_then_failed_never_looped(spec):
    data = make_png(spec.input / "a.png")
    lifecycle.claim_file(spec, "c1", "a.png")           # claimed; the output's staging area breaks now
    (spec.output / lifecycle.STATE_DIR).write_text("a file where the staging folder goes: every write fails")
    out = lifecycle.run_job(Job("resume", spec, "c1"))
    assert out.status == "transient"                     # kept for a retry
    statuses = []
    for _ in range(spec.max_retries + 1):
        statuses.append(lifecycle.run_job(Job("resume", spec, "c1", transient=True)).status)
    assert statuses[:-1] == ["transient"] * spec.max_retries and statuses[-1] == "failed"
    assert (spec.failed / "a.png").read_bytes() == data
    assert json.loads((spec.failed / "a.png.error.json").read_text())["reason"] == "io_error"


def test_identical_twin_at_the_recorded_target_is_not_mistaken_for_our_move(spec):
    """Two byte-identical scans with one name, archived by two workers; the
    second crashed after recording the name the first one then took."""
    data = make_png(spec.input / "scan.png", seed=5)
    assert lifecycle.run_job(Job("new", spec, "a", rel="scan.png")).status == "done"
    (archived_a,) = _visible(spec.archive)
    make_png(spec.input / "scan.png", seed=5)
    claim = lifecycle.claim_file(spec, "b", "scan.png")
    claim.m.update(state="archiving", archived=str(archived_a), archived_n=0, output="x")
    claim.save()
    assert lifecycle.run_job(Job("resume", spec, "b")).status == "done"
    assert sorted(p.name for p in _visible(spec.archive)) == ["scan-1.png", "scan.png"]
    assert all(p.read_bytes() == data for p in _visible(spec.archive))
