"""Issue 11's acceptance, black box: the real daemon as a subprocess on real
folders. A configured folder that vanishes or is missing is waited for,
never replaced; a scan still being written is never the only result."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from .e2e_harness import make_daemon, png_bytes, wait_for  # noqa: F401 (fixtures)
from .smb_share import tiff_states, write_states


def status_json(d) -> dict:
    r = subprocess.run([sys.executable, "-m", "despeckled", "status", "--state", str(d.state), "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def status_text(d) -> str:
    r = subprocess.run([sys.executable, "-m", "despeckled", "status", "--state", str(d.state)],
                       capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def test_output_root_renamed_away_while_files_arrive(make_daemon):
    d = make_daemon(settle=0.3).start()
    first = {f"a{i}.png": png_bytes(i) for i in range(3)}
    for name, data in first.items():
        d.drop(name, data)
    d.wait_finished(3)
    away = d.root / "clean.away"
    os.rename(d.clean, away)  # the share is remounted, the NAS reboots...
    wait_for(lambda: d.has_event("watch_down", reason="missing"), 15, what="watch_down logged")
    down = next(e for e in d.events() if e["event"] == "watch_down")
    assert down["folder"] == str(d.clean) and down["watch"] == str(d.inbox)
    later = {f"b{i}.png": png_bytes(10 + i) for i in range(4)}
    for name, data in later.items():
        d.drop(name, data)
    # they are seen and settle, but nothing of this watch is claimed while it is down
    wait_for(lambda: sum(1 for e in d.events() if e["event"] == "settled") >= 7, 20, what="the new files settled")
    st = wait_for(lambda: (s := status_json(d))["watches"][0]["down"] and s, 10, what="status shows the watch down")
    assert st["healthy"] is False and st["watches"][0]["down"]["reason"] == "missing", st
    assert "DOWN" in status_text(d)
    assert not d.clean.exists(), "a stand-in output folder was created"
    assert d.visible(d.failed) == []
    assert not any(e["event"] == "claimed" and e["path"].split("/")[-1] in later for e in d.events())
    os.rename(away, d.clean)
    wait_for(lambda: d.has_event("watch_up"), 15, what="watch_up logged")
    d.wait_finished(7)
    d.check_invariants({**first, **later})
    assert sum(1 for e in d.events() if e["event"] == "watch_down") == 1
    wait_for(lambda: status_json(d)["healthy"] is True, 10, what="healthy again")
    assert d.stop() == 0


def test_output_root_missing_at_start_is_not_created(make_daemon):
    d = make_daemon(settle=0.3)
    d.clean.rmdir()
    dropped = {f"m{i}.png": png_bytes(20 + i) for i in range(3)}
    for name, data in dropped.items():
        d.drop(name, data)
    d.start()
    wait_for(lambda: d.has_event("watch_down", folder=str(d.clean)), 15, what="watch_down at start")
    wait_for(lambda: status_json(d)["watches"][0]["down"] is not None, 10, what="status shows the watch down")
    wait_for(lambda: sum(1 for e in d.events() if e["event"] == "settled") >= 3, 20, what="the files settled")
    assert not d.clean.exists() and not d.has_event("claimed") and d.visible(d.failed) == []
    assert sorted(p.name for p in d.visible(d.inbox)) == sorted(dropped)
    d.clean.mkdir()  # the share is mounted at last
    wait_for(lambda: d.has_event("watch_up"), 15, what="watch_up")
    d.wait_finished(3)
    d.check_invariants(dropped)
    assert d.stop() == 0


def _pages(n: int) -> list[np.ndarray]:
    out = []
    for k in range(n):
        page = np.full((300, 220), 255, np.uint8)
        page[40 + 60 * k: 52 + 60 * k, 20:200] = 0  # a line of "text", one more per page
        page[10, 10 + 20 * k] = 0  # a speck
        out.append(page)
    return out


def test_page_by_page_tiff_pausing_longer_than_settle(make_daemon):
    """A scanner keeps one file descriptor open and appends 3 pages, pausing
    settle + 2 s between them: the first page is taken on its own, but the
    output ends with all the pages and the archive with the final bytes."""
    settle = 1.0
    d = make_daemon(settle=settle).start()
    states = tiff_states(_pages(3))
    path = d.inbox / "book.tif"
    with open(path, "w+b") as f:
        write_states(f, states, pause=settle + 2)
    archived = lambda: [p for p in d.visible(d.archive)]  # noqa: E731

    def complete() -> bool:
        outs = d.visible(d.clean)
        if len(outs) != 1 or len(archived()) != 1:
            return False
        try:
            return Image.open(io.BytesIO(outs[0].read_bytes())).n_frames == 3
        except Exception:  # noqa: BLE001 - being replaced this instant
            return False

    wait_for(complete, 60, what="an output with all 3 pages")
    assert archived()[0].read_bytes() == states[-1]
    assert d.has_event("changed_after_claim"), "the admin must be told to raise settle_seconds"
    assert d.visible(d.failed) == [] and d.visible(d.inbox) == []
    assert d.stop() == 0


def test_a_claim_left_in_the_work_folder_is_finished_without_a_restart(make_daemon):
    """Issue 11, item 4: the share went away at the instant of the claim
    rename, so the file sits in the work folder though no live worker holds
    it. The running daemon finishes it (no restart), and nothing is lost."""
    import subprocess
    import sys
    from dataclasses import replace

    from despeckled.config import load_config
    from despeckled.daemon import claims, lifecycle

    d = make_daemon(settle=10.0, daemon_extra="claim_lease_seconds = 4")  # long settle: the test claims first
    d.start()
    spec = load_config(d.config).resolved_watches()[0]
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    gone = replace(claims.Holder.me(), pid=p.pid, instance="gone-worker")  # a holder that is no more
    data = png_bytes(77)
    d.drop("lost.png", data)
    claims.reserve(lifecycle.work_root(spec.input), "lostclaim", gone, 4.0)
    lifecycle.claim_file(spec, "lostclaim", "lost.png", reserved=True)
    d.wait_finished(1, timeout=60)
    d.check_invariants({"lost.png": data})
    assert d.stop() == 0
