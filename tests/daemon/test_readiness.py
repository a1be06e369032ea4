"""SettleTracker driven step by step with an injected clock: no sleeps."""

from __future__ import annotations

import os

from despeckled.daemon import policy
from despeckled.daemon.readiness import SettleTracker


def test_growing_file_waits_until_quiet(tmp_path):
    f = tmp_path / "scan.png"
    f.write_bytes(b"a")
    t = SettleTracker(settle_seconds=2, stuck_after=100)
    t.propose(f, now=0)
    assert t.poll(0).ready == []
    for now in (1.5, 3.0, 4.5):              # grows every 1.5 s < settle
        with open(f, "ab") as fh:
            fh.write(b"b")
        t.propose(f, now)
        assert t.poll(now).ready == []
    assert t.poll(6.0).ready == []           # quiet since 4.5
    ready = t.poll(6.5).ready
    assert [c.path for c in ready] == [f]
    assert t.poll(100).ready == []           # handed out once, not again


def test_same_size_rewrite_is_seen_through_mtime(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(b"1234")
    t = SettleTracker(settle_seconds=1, stuck_after=100)
    t.propose(f, now=0)
    t.poll(0)
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000))
    assert t.poll(1.0).ready == []
    assert len(t.poll(2.0).ready) == 1


def test_vanished_while_settling(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = SettleTracker(settle_seconds=1, stuck_after=100)
    t.propose(f, 0)
    t.poll(0)
    f.unlink()
    res = t.poll(1.0)
    assert res.vanished == [f] and res.ready == [] and f not in t


def test_stuck_reported_once_then_periodically_never_dropped(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = SettleTracker(settle_seconds=5, stuck_after=10)
    t.propose(f, 0)
    stuck_at = []
    for now in range(0, 35):
        with open(f, "ab") as fh:
            fh.write(b"x")                  # never settles
        t.propose(f, now)
        if t.poll(now).stuck:
            stuck_at.append(now)
    assert stuck_at == [10, 20, 30]
    assert f in t


def _not_ready_truncated(t: SettleTracker, f, now: float) -> bool:
    """What the service does when a worker reports ``f`` truncated: the
    tracker records it, the policy decides. True: broken for good."""
    since, checks = t.truncated(f, now)
    d = policy.decide(policy.Truncated("cut short"), policy.History(truncated_for=since, truncated_checks=checks),
                      policy.Rules(stuck_after=t.stuck_after, recheck=t.recheck))
    if isinstance(d, policy.Wait):
        t.wait(f, now, d.recheck_in)
    return isinstance(d, policy.Fail)


def test_truncated_waits_then_is_broken_after_stuck_after(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = SettleTracker(settle_seconds=1, stuck_after=10)
    t.propose(f, 0)
    t.poll(0)
    assert t.poll(1).ready
    assert _not_ready_truncated(t, f, 1) is False     # keep waiting
    assert t.poll(1.5).ready == []
    assert t.poll(2.0).ready                               # decoded again later
    assert _not_ready_truncated(t, f, 2.0) is False
    assert t.poll(3.9).ready == [] and t.poll(4.0).ready   # ... with backoff (1 s, 2 s, ...)
    assert _not_ready_truncated(t, f, 11.0) is True    # broken for good


def test_growth_resets_truncation_clock(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = SettleTracker(settle_seconds=1, stuck_after=10)
    t.propose(f, 0)
    t.poll(0)
    t.poll(1)
    _not_ready_truncated(t, f, 1)
    f.write_bytes(b"xy")
    t.poll(2.0)
    assert t.items[f].truncated_since is None
