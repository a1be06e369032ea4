"""Filters as plain callables, the enqueue-only handler, scans, real observers."""

from __future__ import annotations

import os
import queue
from pathlib import Path

import pytest

from despeckled.daemon.watcher import Change, DefaultFilter, EnqueueHandler, WatchSource, scan_tree

from .daemon_helpers import make_png, wait_for


@pytest.mark.parametrize("rel, ok", [
    ("scan.png", True), ("SCAN.PNG", True), ("sub/dir/scan.Tif", True),
    (".scan.png", False), ("scan.png.part", False), ("scan.tmp", False), ("scan.crdownload", False),
    ("scan.filepart", False), ("~scan.png", False), ("scan.png~", False), ("~$scan.png", False),
    ("Thumbs.db", False), ("desktop.ini", False), (".DS_Store", False), ("@eaDir/scan.png", False),
    ("#recycle/scan.png", False), (".AppleDouble/scan.png", False), (".despeckled/work/x/scan.png", False),
    ("notes.txt", False), ("scan", False),
])
def test_default_filter(rel, ok):
    f = DefaultFilter("/in", {".png", ".tif"})
    assert f(Change.added, f"/in/{rel}") is ok


def test_filter_is_relative_to_root_so_a_hidden_root_is_fine():
    f = DefaultFilter("/home/u/.scans/inbox", {".png"})
    assert f(Change.added, "/home/u/.scans/inbox/a.png")


def test_handler_never_raises_and_only_enqueues():
    q = queue.SimpleQueue()
    h = EnqueueHandler(q, "k")
    h.dispatch(object())  # garbage event: swallowed
    assert h.errors == 1 and q.empty()

    class Ev:
        event_type, src_path, dest_path, is_directory = "moved", "/in/a.png.part", "/in/a.png", False

    h.dispatch(Ev())
    assert [q.get_nowait()[:2] for _ in range(2)] == [(Change.deleted, Path("/in/a.png.part")),
                                                     (Change.added, Path("/in/a.png"))]


def test_scan_tree_skips_hidden_junk_and_symlinked_dirs(tmp_path):
    root = tmp_path / "in"
    make_png(root / "a.png")
    make_png(root / "sub" / "b.PNG")
    make_png(root / "@eaDir" / "c.png")
    make_png(root / ".despeckled" / "work" / "x" / "d.png")
    (root / "n.txt").write_text("x")
    outside = tmp_path / "outside"
    make_png(outside / "e.png")
    os.symlink(outside, root / "linkdir.png")  # a folder link: never entered
    res = scan_tree(root, DefaultFilter(root))
    names = sorted(p.relative_to(root).as_posix() for p, _ in res.files)
    assert names == ["a.png", "linkdir.png", "sub/b.PNG"]  # the link itself is proposed (and failed later)
    assert [(p.name, why) for p, why in res.ignored] == [("n.txt", "unsupported")]


def test_scan_of_a_missing_root_reports_error_and_backs_off(tmp_path):
    q = queue.SimpleQueue()
    src = WatchSource(tmp_path / "gone", q, "k", polling=True, poll_interval=1.0, rescan_interval=60)
    res = src.scan(now=100.0)
    assert res.errors and src.next_scan > 101.0 and src.alive
    (tmp_path / "gone").mkdir()
    src.scan(now=src.next_scan)
    assert src.scan_failures == 0 and src.next_scan == pytest.approx(src.next_scan)


def test_backoff_counts_from_the_end_of_a_slow_scan_and_recovery_clears_the_error(tmp_path):
    """A scan of a share going away can block for seconds: the next one is
    scheduled from when it ended, not from the loop step that started it."""
    q = queue.SimpleQueue()
    clock = [100.0]
    src = WatchSource(tmp_path / "gone", q, "k", polling=True, poll_interval=1.0, rescan_interval=60,
                      clock=lambda: clock[0])
    clock[0] = 102.0  # the scan "took" 2 s
    res = src.scan(now=100.0)
    assert res.errors and src.next_scan == pytest.approx(102.0 + 2.0) and src.last_error
    (tmp_path / "gone").mkdir()
    res = src.scan(now=src.next_scan)
    assert res.recovered and src.scan_failures == 0 and src.last_error is None


def test_real_observer_delivers_hints_and_is_restarted(tmp_path):
    q = queue.SimpleQueue()
    root = tmp_path / "in"
    root.mkdir()
    src = WatchSource(root, q, "k", polling=False, poll_interval=1, rescan_interval=60)
    src.start()
    try:
        make_png(root / "a.png")
        seen = set()

        def got():
            while not q.empty():
                change, path, key = q.get_nowait()
                seen.add(path.name)
            return "a.png" in seen

        wait_for(got, 5, what="an inotify event")
        src.observer.stop()
        src.observer.join(5)
        assert not src.alive
        assert src.supervise(now=0.0) and src.alive and src.restarts == 1
        assert src.scan_due(0.0)  # a restart schedules a rescan
    finally:
        src.stop()
