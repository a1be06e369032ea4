"""Several daemons on one inbox (issue 12), as real processes: each file
exactly once, a killed daemon's claims finished by the other once its lease
expires, and the metrics it exposes read back with prometheus_client's parser.

"Another host" is a daemon in its own UTS namespace (``unshare -u`` with its
own hostname): it shares this kernel, but the others cannot judge its pid and
must wait for its leases to expire, exactly as with a second machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .e2e_harness import Daemon, make_daemon, png_bytes, wait_for  # noqa: F401 (fixture)

LEASE = 5.0  # short for the test; long enough that a busy machine never misses a renewal (every 1.25 s)


def share_with(first: Daemon, second: Daemon) -> None:
    """Point ``second`` at ``first``'s folders: one inbox, two daemons."""
    second.write_config(second.config.read_text().replace(str(second.root), str(first.root)))
    second.inbox, second.clean, second.archive, second.failed = first.inbox, first.clean, first.archive, first.failed


def on_another_host(d: Daemon, hostname: str = "other-host") -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-u", "hostname", hostname], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a UTS namespace here: {probe.stderr.decode().strip()}")
    d.prefix = ["unshare", "-u", "sh", "-c", f'hostname {hostname} && exec "$0" "$@"']


def leases_of(d: Daemon, pid: int) -> list[Path]:
    work = d.inbox / ".despeckled" / "work"
    out = []
    for lease in work.glob("*/lease.json"):
        try:
            if json.loads(lease.read_text()).get("pid") == pid:
                out.append(lease.parent)
        except (OSError, ValueError):
            pass
    return out


def archived_paths(*daemons: Daemon) -> list[str]:
    return sorted(e["path"] for d in daemons for e in d.events() if e.get("event") == "archived")


def test_two_daemons_on_one_inbox_take_each_file_exactly_once(make_daemon):
    a = make_daemon(name="a", settle=0.2, poll=0.2, workers=1, daemon_extra=f"claim_lease_seconds = {LEASE}")
    b = make_daemon(name="b", settle=0.2, poll=0.2, workers=1, daemon_extra=f"claim_lease_seconds = {LEASE}")
    share_with(a, b)
    a.start()
    b.start()
    dropped = {f"m{i:03d}.png": png_bytes(20_000 + i, size=(160, 200)) for i in range(100)}
    for name, data in dropped.items():
        a.drop(name, data)
    a.wait_finished(len(dropped), timeout=180)
    assert a.stop() == 0 and b.stop() == 0
    a.check_invariants(dropped)  # one output each, every original archived once, nothing left over
    assert archived_paths(a, b) == sorted(str(a.inbox / n) for n in dropped)  # each by one daemon only
    assert archived_paths(a) and archived_paths(b), "both daemons took files"
    assert not [e for d in (a, b) for e in d.events() if e.get("event") in ("failed", "claim_taken_over")]


@pytest.mark.parametrize("where", ["same_host", "other_host"])
def test_a_killed_daemons_claims_are_finished_by_the_other(make_daemon, where):
    a = make_daemon(name="a", settle=0.2, poll=0.2, workers=1, daemon_extra=f"claim_lease_seconds = {LEASE}")
    b = make_daemon(name="b", settle=0.2, poll=0.2, workers=2, daemon_extra=f"claim_lease_seconds = {LEASE}")
    share_with(a, b)
    if where == "other_host":
        on_another_host(b)
    a.start()
    b.start()
    dropped = {f"k{i:03d}.png": png_bytes(30_000 + i, size=(400, 500)) for i in range(60)}
    for name, data in dropped.items():
        a.drop(name, data)
    # kill -9 b while it holds claims, and never start it again
    wait_for(lambda: any((d / "manifest.json").exists() for d in leases_of(a, b.proc.pid)), 60, interval=0.005,
             what="b holding a claimed file")
    killed_at = time.time()
    b.kill9()
    held = leases_of(a, b.proc.pid)
    assert held, "b died holding no claim: nothing to take over"
    # (a folder with a manifest holds a file b moved in: it must be taken
    # over. A bare reservation holds none and may go either way: once, under
    # a full test run's load, b re-reserved the name of a file a had just
    # finished, and a -- which takes a folder over only after watching it
    # for a whole lease -- had finished every file and stopped first.)
    holding = [d for d in held if (d / "manifest.json").exists()]
    print(f"\n{where}: b held {len(held)} claim folder(s) when killed, {len(holding)} holding a file")
    a.wait_finished(len(dropped), timeout=180)
    assert a.stop() == 0
    a.check_invariants(dropped)
    takeovers = [e for e in a.events() if e.get("event") == "claim_taken_over"]
    assert takeovers, "none of b's claims was taken over"
    assert {e["previous_claim_id"] for e in takeovers} >= {d.name for d in holding}
    assert {e["why"] for e in takeovers} <= ({"dead"} if where == "same_host" else {"expired"})
    print(f"{where}: {len(takeovers)} takeover(s), first after "
          f"{min(_wall(e['timestamp']) for e in takeovers) - killed_at:.2f} s (lease {LEASE} s)")
    if where == "other_host":
        # another host's pid means nothing here: its claims wait out the lease
        first = min(_wall(e["timestamp"]) for e in takeovers)
        assert first - killed_at >= LEASE * 0.9, (first - killed_at)
    assert not [e for e in a.events() if e.get("event") == "failed"]


def _wall(ts: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def _samples(text: str) -> dict[tuple, float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_over_http_and_textfile_match_what_happened(make_daemon):
    d = make_daemon(settle=0.2, poll=0.2)
    prom = d.tmp / "textfile" / "despeckled.prom"
    prom.parent.mkdir()
    d.write_config(d.config.read_text().replace(
        "[daemon]\n", f'[daemon]\nmetrics_listen = "127.0.0.1:0"\nmetrics_file = "{prom}"\n'
        "metrics_file_interval_seconds = 0.2\n", 1))
    d.start()
    ev = wait_for(lambda: [e for e in d.events() if e.get("event") == "metrics"], 10, what="metrics event")[0]
    url = f"http://{ev['listen']}/metrics"

    reads, torn, stop = [], [], threading.Event()

    def reader():  # the textfile is rewritten 5 times a second: never seen half-written
        while not stop.is_set():
            try:
                text = prom.read_text()
            except FileNotFoundError:
                continue
            reads.append(text)
            try:
                names = {f.name for f in text_string_to_metric_families(text)}
            except ValueError:
                names = set()
            if "despeckled_build_info" not in names or "despeckled_watch_up" not in names:
                torn.append(text)

    t = threading.Thread(target=reader)
    t.start()
    try:
        good = {f"g{i}.png": png_bytes(40_000 + i, size=(160, 200)) for i in range(6)}
        bad = {f"b{i}.png": b"this is not a PNG at all " * (i + 1) for i in range(2)}
        for name, data in {**good, **bad}.items():
            d.drop(name, data)
        d.wait_finished(8, timeout=60)
        w = (("watch", str(d.inbox)),)
        want_reasons = {json.loads(p.read_text())["reason"] for p in d.failed.glob("*.error.json")}

        def settled_http():
            s = _samples(urllib.request.urlopen(url, timeout=10).read().decode())
            idle = s.get(("despeckled_in_flight_files", w)) == 0 and s.get(("despeckled_queue_files", w)) == 0
            return s if idle and s.get(("despeckled_files_total", (("result", "done"),) + w)) == 6 else None

        s = wait_for(settled_http, 20, interval=0.2, what="metrics caught up")
        assert s[("despeckled_files_total", (("result", "failed"),) + w)] == 2
        assert s[("despeckled_files_total", (("result", "passed_through"),) + w)] == 0
        assert sum(v for (n, labels), v in s.items() if n == "despeckled_failures_total") == 2
        assert {dict(labels)["reason"] for (n, labels) in s if n == "despeckled_failures_total"} == want_reasons
        assert s[("despeckled_pages_total", w)] == 6
        assert s[("despeckled_specks_removed_total", w)] > 0
        assert s[("despeckled_file_seconds_count", w)] == 6
        assert s[("despeckled_watch_up", w)] == 1
        assert s[("despeckled_queue_files", w)] == 0
        assert s[("despeckled_stuck_files", w)] == 0
        assert [k for k in s if k[0] == "despeckled_build_info"]
    finally:
        stop.set()
        t.join()
    assert d.stop() == 0
    final = _samples(prom.read_text())  # written at stop
    assert final[("despeckled_files_total", (("result", "done"),) + w)] == 6
    assert final[("despeckled_files_total", (("result", "failed"),) + w)] == 2
    assert torn == [] and len(reads) > 5
    assert sorted(p.name for p in prom.parent.iterdir()) == ["despeckled.prom"]


def test_kill9_of_either_daemon_at_any_moment_never_loses_or_doubles(make_daemon):
    import random

    rng = random.Random(4321)
    a = make_daemon(name="a", settle=0.2, poll=0.2, workers=1, daemon_extra=f"claim_lease_seconds = {LEASE}")
    b = make_daemon(name="b", settle=0.2, poll=0.2, workers=1, daemon_extra=f"claim_lease_seconds = {LEASE}")
    share_with(a, b)
    a.start()
    b.start()
    dropped: dict[str, bytes] = {}
    for rnd in range(4):
        for i in range(25):
            name = f"x{rnd}-{i:02d}.png"
            dropped[name] = png_bytes(50_000 + 100 * rnd + i, size=(160, 200))
            a.drop(name, dropped[name])
        victim = rng.choice([a, b])
        before = a.finished()
        wait_for(lambda: a.finished() > before or leases_of(a, victim.proc.pid), 30, interval=0.005,
                 what="work under way")
        deadline = time.monotonic() + rng.uniform(0.0, 0.6)
        wait_for(lambda: time.monotonic() >= deadline, 5, interval=0.005)
        victim.kill9()
        # nothing lost or doubled right after the kill (the survivor works on:
        # read within a second, well inside the dead daemon's lease)
        a.check_invariants(dropped, all_done=False, settle=1.0)
        victim.start()
    a.wait_finished(len(dropped), timeout=240)
    assert a.stop() == 0 and b.stop() == 0
    a.check_invariants(dropped)  # on disk: the log may miss a line cut off by a kill
