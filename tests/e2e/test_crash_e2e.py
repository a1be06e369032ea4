"""kill -9 at random moments, then restart; SIGTERM mid-burst."""

from __future__ import annotations

import random
import time

from .e2e_harness import make_daemon, png_bytes, wait_for  # noqa: F401 (fixture)


def test_kill9_mid_burst_repeatedly_then_restart(make_daemon):
    rng = random.Random(1234)
    d = make_daemon(settle=0.2, poll=0.2)
    dropped: dict[str, bytes] = {}
    seed = 0
    for rnd in range(5):
        d.start()
        for _ in range(40):
            seed += 1
            name = f"r{rnd}-{seed:04d}.png"
            dropped[name] = png_bytes(5000 + seed, size=(120, 160))
            d.drop(name, dropped[name])
        before = d.finished()
        # kill at a random moment once work is under way
        wait_for(lambda: d.finished() > before or d.has_event("claimed"), 30, what="work under way")
        deadline = time.monotonic() + rng.uniform(0.0, 0.8)
        wait_for(lambda: time.monotonic() >= deadline, 5, interval=0.005)
        d.kill9()
        d.check_invariants(dropped, all_done=False)  # nothing lost or doubled even right after a kill
    d.start()
    d.wait_finished(len(dropped), timeout=120)
    assert d.stop() == 0
    d.check_invariants(dropped)


def test_sigterm_mid_burst_finishes_in_flight_and_exits_0(make_daemon):
    d = make_daemon(settle=0.2).start()
    dropped = {f"t{i:03d}.png": png_bytes(9000 + i, size=(200, 260)) for i in range(120)}
    for name, data in dropped.items():
        d.drop(name, data)
    wait_for(lambda: d.finished() >= 5, 60, what="some done")
    t0 = time.monotonic()
    assert d.stop(timeout=30) == 0
    assert time.monotonic() - t0 < 20
    assert d.has_event("stopped")
    d.check_invariants(dropped, all_done=False)
    work = d.inbox / ".despeckled" / "work"
    assert list(work.iterdir()) == []  # in-flight files were finished, not abandoned
    d.start()
    d.wait_finished(len(dropped), timeout=120)
    assert d.stop() == 0
    d.check_invariants(dropped)


def _big_png(seed: int, side: int = 2600) -> bytes:
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    img = np.where(rng.random((side, side)) < 0.02, 0, 255).astype(np.uint8)  # noisy: slow to decode and clean
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def test_per_file_timeout_fails_the_file_and_the_daemon_carries_on(make_daemon):
    import json
    import signal

    d = make_daemon(settle=0.2, file_timeout=0.01)
    d.start()
    slow = _big_png(1)
    d.drop("slow.png", slow)
    d.wait_finished(1, timeout=60)
    side = json.loads((d.failed / "slow.png.error.json").read_text())
    assert side["reason"] == "timeout", side
    assert (d.failed / "slow.png").read_bytes() == slow
    assert d.has_event("worker_lost")
    d.write_config(d.config.read_text().replace("file_timeout_seconds = 0.01", "file_timeout_seconds = 60"))
    d.signal(signal.SIGHUP)
    wait_for(lambda: d.has_event("reloaded"), 15, what="reloaded")
    d.drop("fine.png", png_bytes(3))
    d.wait_finished(2, timeout=60)
    assert [p.name for p in d.visible(d.clean)] == ["fine.png"]
    assert d.stop() == 0


def test_a_worker_killed_mid_file_costs_nothing(make_daemon):
    import json
    import os
    import signal

    d = make_daemon(settle=0.2).start()
    dropped = {f"k{i:02d}.png": _big_png(100 + i, side=1200) for i in range(12)}
    for name, data in dropped.items():
        d.drop(name, data)
    wait_for(lambda: d.has_event("claimed"), 60, what="a claim")
    pids = json.loads(d.state.read_text())["worker_pids"]
    os.kill(pids[0], signal.SIGKILL)  # as if a decoder segfaulted
    d.wait_finished(len(dropped), timeout=120)
    assert d.proc.poll() is None
    assert d.stop() == 0
    d.check_invariants(dropped)
