"""`despeckled run` as a real subprocess: the issue's acceptance list."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from .e2e_harness import make_daemon, notify_socket, png_bytes, recv_until, sha, wait_for  # noqa: F401 (fixtures)


def test_present_before_start_ready_status_and_stopping(make_daemon, notify_socket):
    sock, addr = notify_socket
    d = make_daemon(notify_socket=addr)
    dropped = {f"pre{i}.png": png_bytes(i) for i in range(5)}
    for name, data in dropped.items():
        d.drop(name, data)
    d.start(wait_ready=False)
    msgs = recv_until(sock, "READY=1")
    wait_for(lambda: d.has_event("ready"), 10, what="ready logged")
    ready = next(e for e in d.events() if e["event"] == "ready")
    assert ready["pending"] == 5, "READY=1 must come after the files already present were taken in"
    d.wait_finished(5)
    d.check_invariants(dropped)
    msgs += recv_until(sock, "STATUS=queue=0 in_flight=0 done=5 failed=0 oldest=0s")
    assert any(m.startswith("STATUS=queue=") for m in msgs)

    st = subprocess.run([sys.executable, "-m", "despeckled", "status", "--state", str(d.state)],
                        capture_output=True, text=True, timeout=30)
    assert st.returncode == 0 and "done 5" in st.stdout, st
    js = subprocess.run([sys.executable, "-m", "despeckled", "status", "--state", str(d.state), "--json"],
                        capture_output=True, text=True, timeout=30)
    assert json.loads(js.stdout)["watches"][0]["done"] == 5

    assert d.stop() == 0
    recv_until(sock, "STOPPING=1")
    st = subprocess.run([sys.executable, "-m", "despeckled", "status", "--state", str(d.state)],
                        capture_output=True, text=True, timeout=30)
    assert st.returncode == 6 and "not running" in st.stderr


def test_events_for_one_file_form_a_stable_sequence(make_daemon):
    d = make_daemon().start()
    d.drop("a.png", png_bytes(1))
    d.wait_finished(1)
    wait_for(lambda: d.has_event("archived"), 10, what="archived event")
    seq = [e["event"] for e in d.events() if str(e.get("path", "")).endswith("/a.png")]
    assert seq == ["detected", "settled", "claimed", "cleaned", "archived"], seq
    archived = next(e for e in d.events() if e["event"] == "archived")
    assert archived["size"] > 0 and archived["pages"] == 1 and "specks_removed" in archived
    assert d.stop() == 0


def test_temp_then_rename_once_and_ignore_rules(make_daemon):
    d = make_daemon().start()
    ignored = {
        ".hidden.png": png_bytes(1), "x.png.part": png_bytes(2), "y.tmp": png_bytes(3), "z.png.crdownload": png_bytes(4),
        "w.filepart": png_bytes(5), "~lock.png": png_bytes(6), "backup.png~": png_bytes(7), "Thumbs.db": b"x",
        "desktop.ini": b"x", ".DS_Store": b"x", "@eaDir/a.png": png_bytes(8), "notes.txt": b"hello",
        "#recycle/b.png": png_bytes(9),
    }
    for rel, data in ignored.items():
        p = d.inbox / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    # temp-then-rename, written slowly under the temp name
    tmp = d.inbox / "scan.PNG.part"
    data = png_bytes(42)
    with open(tmp, "wb") as f:
        for i in range(0, len(data), 64):
            f.write(data[i:i + 64])
            f.flush()
    os.rename(tmp, d.inbox / "scan.PNG")
    d.wait_finished(1)
    wait_for(lambda: d.has_event("ignored", reason="unsupported"), 10, what="ignored logged")
    assert [p.name for p in d.visible(d.clean)] == ["scan.PNG"]
    assert [p.read_bytes() for p in d.visible(d.archive)] == [data] and d.visible(d.failed) == []
    for rel, data in ignored.items():
        assert (d.inbox / rel).read_bytes() == data, rel  # left exactly where it was
    assert d.stop() == 0
    assert sum(1 for e in d.events() if e["event"] == "claimed") == 1


def test_slow_writer_under_final_name_processed_once_complete(make_daemon):
    d = make_daemon(settle=0.5, stuck_after=30).start()
    data = png_bytes(7, size=(400, 300))
    path = d.inbox / "slow.png"
    # chunks with pauses shorter than settle, then one pause LONGER than settle
    # mid-file: the file is settled but truncated, so it must still wait
    chunks = [data[i:i + len(data) // 8] for i in range(0, len(data), len(data) // 8)]
    with open(path, "wb") as f:
        for i, c in enumerate(chunks):
            f.write(c)
            f.flush()
            if i == 3:
                deadline = time.monotonic() + 1.5
                wait_for(lambda: time.monotonic() > deadline, 5, interval=0.05)  # writer stalls
            else:
                deadline = time.monotonic() + 0.25
                wait_for(lambda: time.monotonic() > deadline, 5, interval=0.05)
            assert d.finished() == 0, "taken before the writer finished"
    d.wait_finished(1)
    d.check_invariants({"slow.png": data})
    assert [p.read_bytes() for p in d.visible(d.archive)] == [data]
    assert d.stop() == 0


def test_same_name_collision_both_survive(make_daemon):
    d = make_daemon().start()
    a, b = png_bytes(1), png_bytes(2)
    d.drop("scan0001.png", a)
    d.wait_finished(1)
    d.drop("scan0001.png", b)
    d.wait_finished(2)
    assert sorted(p.name for p in d.visible(d.clean)) == ["scan0001-1.png", "scan0001.png"]
    assert sorted(sha(p.read_bytes()) for p in d.visible(d.archive)) == sorted([sha(a), sha(b)])
    assert d.stop() == 0


def test_each_bad_input_goes_to_failed_with_a_sidecar(make_daemon, tmp_path):
    d = make_daemon(stuck_after=2.0, daemon_extra="max_pixels = 5000").start()
    outside = tmp_path / "outside-secret.png"
    secret = png_bytes(99)
    outside.write_bytes(secret)
    good = png_bytes(1)
    full = png_bytes(5, size=(60, 80))
    cases = {
        "empty.png": (b"", "empty"),
        "text.png": (b"just some text, not an image\n" * 3, "not_an_image"),
        "half.png": (full[: len(full) // 2], "truncated"),
        "huge.png": (png_bytes(3, size=(100, 100)), "too_large"),
    }
    for name, (data, _) in cases.items():
        (d.inbox / name).write_bytes(data)
    os.symlink(outside, d.inbox / "link.png")
    os.mkfifo(d.inbox / "pipe.png")  # opening it would block forever: never opened
    d.drop("good.png", good)
    d.wait_finished(7, timeout=60)
    reasons = {}
    for side in d.failed.glob("*.error.json"):
        doc = json.loads(side.read_text())
        reasons[doc["file"]] = doc["reason"]
        assert doc["message"] and doc["failed_at"] and doc["daemon_version"]
    assert reasons == {**{n: r for n, (_, r) in cases.items()}, "link.png": "symlink", "pipe.png": "not_a_file"}
    for name, (data, _) in cases.items():
        assert (d.failed / name).read_bytes() == data  # byte-identical original
    assert (d.failed / "link.png").is_symlink() and outside.read_bytes() == secret
    assert [p.name for p in d.visible(d.clean)] == ["good.png"]
    assert d.proc.poll() is None  # carried on
    failed_events = [e for e in d.events() if e["event"] == "failed"]
    assert all(e["path"] and e["message"] for e in failed_events)
    assert d.stop() == 0


def test_burst_of_300(make_daemon):
    d = make_daemon(settle=0.3).start()
    dropped = {f"b{i:03d}.png": png_bytes(1000 + i) for i in range(300)}
    for name, data in dropped.items():
        d.drop(name, data)
    d.wait_finished(300, timeout=120)
    d.check_invariants(dropped)
    assert d.stop() == 0


def test_polling_mode_and_subfolders(make_daemon):
    d = make_daemon(polling=True, poll=0.2).start()
    st = json.loads(d.state.read_text())
    assert st["watches"][0]["polling"] is True
    dropped = {f"p{i}.png": png_bytes(i) for i in range(10)}
    dropped["alice/deep/q.png"] = png_bytes(77)
    for name, data in dropped.items():
        d.drop(name, data)
    d.wait_finished(11)
    d.check_invariants(dropped)
    assert (d.clean / "alice" / "deep" / "q.png").is_file()
    assert d.stop() == 0


def test_file_deleted_while_settling(make_daemon):
    d = make_daemon(settle=1.0).start()
    p = d.drop("gone.png", png_bytes(1))
    wait_for(lambda: d.has_event("detected", path=str(p)), 10, what="detected")
    p.unlink()
    wait_for(lambda: d.has_event("vanished", path=str(p)), 10, what="vanished logged")
    d.drop("next.png", png_bytes(2))
    d.wait_finished(1)
    assert d.visible(d.failed) == [] and [x.name for x in d.visible(d.archive)] == ["next.png"]
    assert d.stop() == 0


def test_sighup_reload_adds_a_watch_and_survives_a_bad_config(make_daemon, tmp_path):
    d = make_daemon().start()
    good = d.config.read_text()
    second = tmp_path / "second"
    d.write_config(good + f"""
[[watch]]
input = "{second}/inbox"
output = "{second}/clean"
archive = "{second}/archive"
failed = "{second}/failed"
create_folders = true
""")
    d.signal(signal.SIGHUP)
    wait_for(lambda: d.has_event("reloaded"), 15, what="reloaded")
    data = png_bytes(5)
    (second / "inbox" / "x.png").write_bytes(data)
    wait_for(lambda: (second / "clean" / "x.png").exists(), 20, what="second watch processed")
    d.write_config("this is [not valid toml")
    d.signal(signal.SIGHUP)
    wait_for(lambda: d.has_event("reload_failed"), 15, what="reload_failed")
    d.drop("still.png", png_bytes(6))
    d.wait_finished(1)
    assert d.proc.poll() is None
    assert d.stop() == 0


def test_output_inside_input_is_refused_with_exit_3(tmp_path):
    cfg = tmp_path / "loop.toml"
    cfg.write_text(f"""
[[watch]]
input = "{tmp_path}/in"
output = "{tmp_path}/in/clean"
archive = "{tmp_path}/archive"
failed = "{tmp_path}/failed"
""")
    r = subprocess.run([sys.executable, "-m", "despeckled", "run", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r
    assert "loop" in r.stderr and "inside the watched input" in r.stderr
    assert "Traceback" not in r.stderr


def test_config_from_environment_variable(make_daemon):
    d = make_daemon()
    env = {**os.environ, "DESPECKLED_CONFIG": str(d.config)}
    d.drop("e.png", png_bytes(3))
    proc = subprocess.Popen([sys.executable, "-m", "despeckled", "run", "--state", str(d.state)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=d.tmp)
    try:
        d.wait_finished(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_watchdog_pings_while_healthy(make_daemon, notify_socket):
    sock, addr = notify_socket
    d = make_daemon(notify_socket=addr)
    d.env_extra = {"WATCHDOG_USEC": "400000"}  # systemd: WatchdogSec=0.4 -> ping every 0.2 s
    d.start(wait_ready=False)
    msgs = recv_until(sock, "READY=1")
    msgs += recv_until(sock, "WATCHDOG=1")
    msgs += recv_until(sock, "WATCHDOG=1")
    assert d.stop() == 0
