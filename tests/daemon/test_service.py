"""The service driven step by step with an injected clock (real workers,
real files, a real notify socket; the clock decides when files settle)."""

from __future__ import annotations

import os
import socket
import time

import pytest

from despeckled.config import load_config
from despeckled.errors import ConfigError
from despeckled.daemon.sdnotify import Notifier
from despeckled.daemon.service import Service, check_layout

from .daemon_helpers import make_png, wait_for


def _config(tmp_path, extra_watch: str = "", settle: float = 5.0):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"""
[daemon]
workers = 2
settle_seconds = {settle}
stuck_after_seconds = 100
rescan_interval_seconds = 1000

[[watch]]
input = "in"
output = "out"
archive = "arch"
failed = "failed"
create_folders = true
{extra_watch}
""")
    return cfg


@pytest.fixture
def notify(tmp_path):
    path = tmp_path / "n.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(5)
    yield s, str(path)
    s.close()


def test_settles_by_the_injected_clock_and_reports(tmp_path, notify):
    sock, addr = notify
    cfgp = _config(tmp_path)
    make_png(tmp_path / "in" / "before.png", seed=1)
    now = [0.0]
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(addr),
                  clock=lambda: now[0])
    svc.start()
    try:
        assert sock.recv(200).startswith(b"READY=1\nSTATUS=queue=1 ")  # the file present was taken in
        w = next(iter(svc.watches.values()))
        assert tmp_path / "in" / "before.png" in w.tracker
        wait_for(lambda: svc.step(now=0.0, wait=0.05) or svc.pool.idle == 2, 30, what="workers up")
        svc.step(now=4.9)
        assert not svc.inflight and (tmp_path / "in" / "before.png").exists()
        svc.step(now=5.0)
        assert len(svc.inflight) == 1                       # settled exactly at settle_seconds
        wait_for(lambda: svc.step(now=5.0, wait=0.05) or w.done == 1, 30, what="done")
        assert (tmp_path / "out" / "before.png").is_file() and not (tmp_path / "in" / "before.png").exists()

        # a file that keeps changing is reported stuck, never dropped
        grow = tmp_path / "in" / "grow.png"
        grow.write_bytes(b"\x89PNG")
        wait_for(lambda: svc.step(now=6.0, wait=0.02) or grow in w.tracker, 10, what="the inotify hint")
        for t in range(6, 120, 2):
            with open(grow, "ab") as f:
                f.write(b"x")
            svc.step(now=float(t))
        snap = svc.snapshot(120.0)
        assert snap["watches"][0]["stuck"] == [str(grow)] and grow.exists()
        assert svc.healthy(120.0)
    finally:
        svc.close()


def test_reload_keeps_the_old_config_when_the_new_one_is_bad(tmp_path):
    cfgp = _config(tmp_path)
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None))
    svc.start()
    try:
        cfgp.write_text("[daemon]\nworkers = 'many'\n")
        assert svc.reload() is False and len(svc.watches) == 1
        cfgp.write_text(_config(tmp_path).read_text().replace('output = "out"', 'output = "in/out"'))
        assert svc.reload() is False  # a loop is refused on reload too
        cfgp.write_text(_config(tmp_path).read_text() + """
[[watch]]
input = "in2"
output = "out2"
archive = "arch2"
failed = "failed2"
create_folders = true
""")
        assert svc.reload() is True and len(svc.watches) == 2 and (tmp_path / "in2").is_dir()
    finally:
        svc.close()


def test_layout_refuses_nested_inputs_and_outputs_reached_through_symlinks(tmp_path):
    (tmp_path / "in").mkdir()
    os.symlink(tmp_path / "in", tmp_path / "sneaky")
    cfgp = _config(tmp_path)
    cfgp.write_text(cfgp.read_text().replace('output = "out"', 'output = "sneaky/out"') + """
[[watch]]
input = "in/sub"
output = "o"
archive = "a"
failed = "f"
""")
    with pytest.raises(ConfigError) as err:
        check_layout(load_config(cfgp).resolved_watches())
    text = str(err.value)
    assert "output folder" in text and "inputs overlap" in text


def test_a_second_daemon_may_share_the_input_but_not_the_state_file(tmp_path):
    cfgp = _config(tmp_path)
    a = Service(load_config(cfgp), cfgp, state_path=tmp_path / "a.json", notifier=Notifier(None))
    a.start()
    try:
        b = Service(load_config(cfgp), cfgp, state_path=tmp_path / "b.json", notifier=Notifier(None))
        b.start()  # another host's daemon, or a second instance: per-file claims keep them apart
        b.close()
        c = Service(load_config(cfgp), cfgp, state_path=tmp_path / "a.json", notifier=Notifier(None))
        with pytest.raises(Exception, match="uses the state file"):
            c.start()
        c.close()
        assert (tmp_path / "a.json").exists()  # the refused one left a's state alone
    finally:
        a.close()


def test_watchdog_health_ignores_an_idle_spell_but_not_a_wedged_pool(tmp_path):
    from despeckled.daemon.lifecycle import Job
    from despeckled.daemon.service import InFlight

    cfgp = _config(tmp_path)
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None),
                  clock=lambda: 0.0)
    svc.start()
    try:
        w = next(iter(svc.watches.values()))
        svc.last_progress = 0.0
        svc.inflight["x"] = InFlight(w, Job("new", w.spec, "x", rel="a.png"), None, started=3600.0)
        assert svc.healthy(3601.0)                          # idle for an hour, then a job: fine
        timeout = svc.config.daemon.file_timeout_seconds
        assert not svc.healthy(3600.0 + timeout * 1.5 + 6)  # far past the per-file timeout: wedged
        svc.inflight.clear()
    finally:
        svc.close()


def _lease_config(tmp_path, lease: float = 8.0):
    cfgp = _config(tmp_path, settle=0.0)
    cfgp.write_text(cfgp.read_text().replace("[daemon]\n", f"[daemon]\nclaim_lease_seconds = {lease}\n"))
    return cfgp


def test_a_dead_daemons_claim_is_taken_over_and_finished_while_running(tmp_path):
    import subprocess
    import sys
    from dataclasses import replace

    from despeckled.daemon import claims, lifecycle

    cfgp = _lease_config(tmp_path)
    now = [0.0]
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None),
                  clock=lambda: now[0])
    svc.start()
    try:
        w = next(iter(svc.watches.values()))
        # another daemon of this host claims a file, then dies
        p = subprocess.Popen([sys.executable, "-c", "pass"])
        p.wait()
        dead = replace(claims.Holder.me(), pid=p.pid, instance="dead-one")
        data = make_png(tmp_path / "in" / ".hidden-upload", seed=3)  # not proposed to our tracker
        os.rename(tmp_path / "in" / ".hidden-upload", tmp_path / "in" / "orphan.png")
        work = lifecycle.work_root(w.spec.input)
        claims.reserve(work, "f-dead", dead, 8.0)
        lifecycle.claim_file(w.spec, "f-dead", "orphan.png", reserved=True)
        assert svc._held_claims() == set()
        now[0] = 2.0  # the next listing of the work folder (every quarter lease)

        def filed():
            now[0] += 0.05
            svc.step(wait=0.05)
            done = list((tmp_path / "arch").rglob("orphan.png"))
            return done if done and not list(work.iterdir()) and not svc.inflight else None

        (archived,) = wait_for(filed, 60, what="the dead daemon's file finished here")
        assert archived.read_bytes() == data
        assert (tmp_path / "out" / "orphan.png").exists()
    finally:
        svc.close()


def test_a_live_daemons_claim_is_left_alone_until_its_lease_expires(tmp_path):
    from despeckled.daemon import claims, lifecycle

    cfgp = _lease_config(tmp_path)
    now = [0.0]
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None),
                  clock=lambda: now[0])
    svc.start()
    try:
        w = next(iter(svc.watches.values()))
        other = claims.Holder.me()  # alive: this very process, another daemon run
        work = lifecycle.work_root(w.spec.input)
        claims.reserve(work, "f-live", other, 8.0)
        for t in range(1, 40):  # renewed every second: never taken over
            now[0] = float(t)
            os.utime(work / "f-live" / claims.LEASE, ns=(t * 10**9, t * 10**9))
            svc.step()
        assert (work / "f-live").is_dir() and svc._held_claims() == set()
        for t in range(40, 60):  # not renewed any more: expires after one lease on our clock
            now[0] = float(t)
            svc.step()
        assert not (work / "f-live").exists()  # taken over (renamed) and dropped: it held no file
    finally:
        svc.close()


def test_a_claim_taken_over_while_we_waited_to_retry_it_is_dropped(tmp_path):
    import heapq

    import structlog.testing

    from despeckled.daemon import claims, lifecycle
    from despeckled.daemon.lifecycle import Job

    cfgp = _lease_config(tmp_path)
    now = [0.0]
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None),
                  clock=lambda: now[0])
    svc.start()
    try:
        w = next(iter(svc.watches.values()))
        work = lifecycle.work_root(w.spec.input)
        claims.reserve(work, "f-mine", svc.holder, 8.0)
        (work / "f-mine" / "manifest.json").write_text('{"rel": "x.png", "name": "x.png", "state": "claimed"}')
        heapq.heappush(svc.delayed, (1000.0, 0, w, Job("resume", w.spec, "f-mine", rel="x.png"), None))
        now[0] = 2.0
        svc.step()
        assert svc.delayed  # renewed: still ours
        os.rename(work / "f-mine", work / "taken-by-another")  # what another daemon's takeover does
        now[0] = 4.0
        with structlog.testing.capture_logs() as logs:
            svc.step()
        assert svc.delayed == []
        assert [e["claim_id"] for e in logs if e["event"] == "claim_lost"] == ["f-mine"]
    finally:
        svc.close()


def test_a_claim_no_job_holds_is_carried_on_while_running(tmp_path):
    """Issue 11, item 4: the share went away at the instant of a claim
    rename, so the file sits in the work folder (reserved with our lease)
    though the worker reported an error. The running daemon finishes it,
    without a restart, and counts it as in flight meanwhile."""
    from despeckled.daemon import claims, lifecycle

    cfgp = _lease_config(tmp_path)
    now = [0.0]
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None),
                  clock=lambda: now[0])
    svc.start()
    try:
        w = next(iter(svc.watches.values()))
        data = make_png(tmp_path / "in" / ".hidden-upload", seed=3)  # not proposed to our tracker
        os.rename(tmp_path / "in" / ".hidden-upload", tmp_path / "in" / "lost.png")
        work = lifecycle.work_root(w.spec.input)
        claims.reserve(work, "lost-claim", svc.holder, 8.0)
        lifecycle.claim_file(w.spec, "lost-claim", "lost.png", reserved=True)  # then nobody carried it on
        now[0] = 2.0  # the next listing of the work folder (every quarter lease)
        svc.step(wait=0.0)
        assert svc.counts(now[0])["in_flight"] == 1

        def filed():
            now[0] += 0.05
            svc.step(wait=0.05)
            done = list((tmp_path / "arch").rglob("lost.png"))
            return done if done and not list(work.iterdir()) and not svc.inflight else None

        (archived,) = wait_for(filed, 60, what="the lost claim finished")
        assert archived.read_bytes() == data
    finally:
        svc.close()


def test_a_missing_folder_is_not_created_and_its_files_wait(tmp_path):
    cfgp = _config(tmp_path, settle=0.0)
    cfgp.write_text(cfgp.read_text().replace("create_folders = true", ""))
    for d in ("in", "arch", "failed"):
        (tmp_path / d).mkdir()
    make_png(tmp_path / "in" / "a.png", seed=4)
    now = [0.0]
    svc = Service(load_config(cfgp), cfgp, state_path=tmp_path / "st.json", notifier=Notifier(None),
                  clock=lambda: now[0])
    svc.start()
    try:
        w = next(iter(svc.watches.values()))
        assert w.down and w.health.problem.role == "output" and not svc.healthy(0.0)
        wait_for(lambda: svc.step(now=0.0, wait=0.05) or svc.pool.idle == 2, 30, what="workers up")
        for t in range(1, 5):
            svc.step(now=float(t))
        assert not svc.inflight and not (tmp_path / "out").exists() and (tmp_path / "in" / "a.png").exists()
        assert "down=1" in svc._status_line(4.0)
        (tmp_path / "out").mkdir()
        now[0] = 6.0
        wait_for(lambda: svc.step(now=6.0, wait=0.05) or w.done == 1, 30, what="done once the folder is there")
        assert not w.down and svc.healthy(6.0)
    finally:
        svc.close()
