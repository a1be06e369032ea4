"""check-config's polling report for a watch on a network share.

This machine has no SMB/NFS mount, so the mount table is the one thing
replaced: everything else (config loading, folder checks) runs for real."""

from __future__ import annotations

import textwrap

from despeckled.daemon import mounts
from despeckled.commands.check_config import check, render_text
from despeckled.config import load_config


def share_table(share):
    return lambda *a, **k: [mounts.Mount("/", "ext4", "/dev/sda1"), mounts.Mount(str(share), "cifs", "//nas/scans")]


def test_a_watch_on_a_cifs_share_is_polled_and_says_why(tmp_path, monkeypatch):
    share = tmp_path / "share"
    (share / "in").mkdir(parents=True)
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(textwrap.dedent(f"""
        [[watch]]
        input = "{share}/in"
        output = "out"
        archive = "archive"
        failed = "failed"
        [[watch]]
        input = "{share}/in2"
        output = "out2"
        archive = "archive2"
        failed = "failed2"
        polling = false
    """))
    monkeypatch.setattr(mounts, "read_mounts", share_table(share))
    cfg = load_config(cfg_path)
    report = check(cfg)
    w0, w1 = report["watches"]
    assert w0["polled"] is True
    assert w0["polling_reason"] == f"cifs filesystem at {share}: network filesystems deliver no inotify events"
    assert w1["polled"] is False
    assert any("polling: false, but cifs filesystem" in n for n in w1["notes"])
    text = render_text(cfg, report)
    assert f"watching: polled (cifs filesystem at {share}" in text
