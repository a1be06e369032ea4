"""A watch's folders decide whether it is down: real folders in tmp_path, the
real mount table, and declared mounts (fstab, mount units) given as text."""

from __future__ import annotations

import os
from pathlib import Path

from despeckled.daemon import health, mounts
from despeckled.daemon.health import Baseline, WatchHealth
from despeckled.daemon.mounts import FolderFacts, Mount, folder_facts, parse_fstab, parse_mount_unit


def roots(tmp_path: Path, make: bool = True) -> dict[str, Path]:
    r = {role: tmp_path / role for role in health.ROLES}
    if make:
        for p in r.values():
            p.mkdir()
    return r


def test_up_then_down_when_a_folder_is_renamed_away_then_up_again(tmp_path):
    r = roots(tmp_path)
    h = WatchHealth(r)
    assert h.check(0.0) is None and not h.down
    os.rename(r["output"], tmp_path / "away")
    assert h.check(1.0) == "down"
    assert (h.problem.role, h.problem.reason) == ("output", "missing")
    assert h.check(2.0) is None and h.down  # reported once
    assert not r["output"].exists(), "a check never creates a folder"
    os.rename(tmp_path / "away", r["output"])
    assert h.check(3.0) == "up" and not h.down and h.down_since is None


def test_missing_at_start_is_down_from_the_first_check(tmp_path):
    r = roots(tmp_path)
    r["archive"].rmdir()
    h = WatchHealth(r)
    assert h.check(0.0) == "down" and h.problem.role == "archive"
    r["archive"].mkdir()
    assert h.check(1.0) == "up"


def test_a_file_in_place_of_a_folder(tmp_path):
    r = roots(tmp_path)
    r["failed"].rmdir()
    r["failed"].write_bytes(b"x")
    h = WatchHealth(r)
    assert h.check(0.0) == "down" and h.problem.reason == "not_a_folder"


def test_declared_but_not_mounted(tmp_path):
    """fstab says a share is mounted at the folder's parent; nothing is: the
    folders seen are the bare mount point's on the local disk."""
    r = roots(tmp_path)
    fstab = parse_fstab(f"//nas/scans {tmp_path} cifs credentials=/x,_netdev,nofail 0 0\n")
    declared = [(m, "/etc/fstab") for m in fstab]
    real = mounts.read_mounts()
    h = WatchHealth(r)
    assert h.check(0.0, real, declared) == "down"
    assert h.problem.reason == "not_mounted" and "/etc/fstab" in h.problem.message
    # mounted now (as the mount table would show it)
    assert h.check(1.0, real + [Mount(str(tmp_path), "cifs", "//nas/scans")], declared) == "up"


def test_another_filesystem_than_at_start(tmp_path):
    r = roots(tmp_path)
    h = WatchHealth(r)
    assert h.check(0.0) is None
    # as if the share had been on another device when the watch came up
    h.baselines["output"] = Baseline(h.baselines["output"].st_dev + 1, "/srv/scans", "cifs", "//nas/scans")
    assert h.check(1.0) == "down" and h.problem.reason == "other_filesystem"


def test_the_same_share_mounted_again_is_up_with_its_new_device():
    b = Baseline(41, "/srv/scans", "cifs", "//nas/scans")
    again = FolderFacts("/srv/scans/clean", st_dev=57, mount=Mount("/srv/scans", "cifs", "//nas/scans"))
    assert health.folder_problem("output", again, b) is None


def test_folder_facts_never_create(tmp_path):
    f = folder_facts(tmp_path / "nope", [], [])
    assert f.error == "missing" and not (tmp_path / "nope").exists()


def test_mount_unit_and_problems_now(tmp_path):
    assert parse_mount_unit("[Mount]\nWhat=nas:/x\nWhere=/srv/nas\nType=nfs4\n") == Mount("/srv/nas", "nfs4", "nas:/x")
    assert parse_mount_unit("[Mount]\nWhat=x\n") is None
    r = roots(tmp_path)
    assert health.problems_now(r) == []
    r["input"].rmdir()
    (p,) = health.problems_now(r)
    assert p.role == "input" and p.reason == "missing"
