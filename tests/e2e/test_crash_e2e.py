"""kill -9 at random moments, then restart; SIGTERM mid-burst."""

from __future__ import annotations

import random
import time

from e2e_harness import make_daemon, png_bytes, wait_for  # noqa: F401 (fixture)


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
