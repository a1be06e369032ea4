"""Leased claims on real folders: reserve, renew, expire, take over."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace

from despeckled.daemon import claims
from despeckled.daemon.claims import ClaimScanner, Holder


def _work(tmp_path):
    w = tmp_path / "work"
    w.mkdir()
    return w


def test_reserve_is_exclusive_and_release_gives_it_back(tmp_path):
    work = _work(tmp_path)
    a, b = Holder.me(), Holder.me()
    d = claims.reserve(work, "f-1", a, 60)
    assert d is not None and claims.read_lease(d)["instance"] == a.instance
    assert claims.reserve(work, "f-1", b, 60) is None
    claims.release(d)
    assert not d.exists()
    assert claims.reserve(work, "f-1", b, 60) is not None


def test_release_keeps_a_folder_that_became_a_claim(tmp_path):
    work = _work(tmp_path)
    d = claims.reserve(work, "f-1", Holder.me(), 60)
    (d / "manifest.json").write_text("{}")
    claims.release(d)
    assert (d / claims.LEASE).exists()


def test_a_live_holder_renews_and_is_never_taken_over(tmp_path):
    work = _work(tmp_path)
    me, other = Holder.me(), Holder.me()  # two daemons in one process: both alive
    d = claims.reserve(work, "f-1", other, 10)
    scan = ClaimScanner(work, me, 10, interval=0)
    for now in range(0, 60, 2):  # renewed every 2 s of a 10 s lease
        assert scan.step(float(now), held=set()) == []
        os.utime(d / claims.LEASE, ns=(now * 10**9, now * 10**9))  # what renew() does, with distinct times
    assert other.renew(d)
    assert not me.renew(d)  # not my lease: renewing it is refused


def test_an_unrenewed_lease_expires_on_the_observers_clock(tmp_path):
    work = _work(tmp_path)
    me, other = Holder.me(), Holder.me()
    claims.reserve(work, "f-1", other, 10)
    scan = ClaimScanner(work, me, 10, interval=0)
    assert scan.step(1000.0, set()) == []  # first sight: the clock starts now, whatever the mtime says
    assert scan.step(1009.9, set()) == []
    (v,) = scan.step(1010.0, set())
    assert (v.claim_id, v.why) == ("f-1", "expired")


def test_the_longer_of_both_leases_counts(tmp_path):
    work = _work(tmp_path)
    claims.reserve(work, "f-1", Holder.me(), 30)
    scan = ClaimScanner(work, Holder.me(), 10, interval=0)
    scan.step(0.0, set())
    assert scan.step(20.0, set()) == []
    assert [v.why for v in scan.step(30.0, set())] == ["expired"]


def test_a_folder_without_a_lease_expires_by_its_own_signature(tmp_path):
    work = _work(tmp_path)
    (work / "20240101T000000-abc").mkdir()  # a claim from before leases
    scan = ClaimScanner(work, Holder.me(), 5, interval=0)
    assert scan.step(0.0, set()) == []
    assert [v.why for v in scan.step(5.0, set())] == ["expired"]


def test_a_dead_pid_on_this_boot_is_taken_over_at_once(tmp_path):
    work = _work(tmp_path)
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    dead = replace(Holder.me(), pid=p.pid, proc_start=12345)
    claims.reserve(work, "f-1", dead, 60)
    (v,) = ClaimScanner(work, Holder.me(), 60, interval=0).step(0.0, set())
    assert v.why == "dead"


def test_a_reused_pid_counts_as_dead(tmp_path):
    work = _work(tmp_path)
    me = Holder.me()
    reused = replace(me, instance="earlier-run", proc_start=(me.proc_start or 0) + 1)
    claims.reserve(work, "f-1", reused, 60)
    assert [v.why for v in ClaimScanner(work, me, 60, interval=0).step(0.0, set())] == ["dead"]


def test_another_boot_or_host_is_never_judged_by_pid(tmp_path):
    work = _work(tmp_path)
    me = Holder.me()
    claims.reserve(work, "a", replace(me, instance="x", pid=2**22 + 7, boot_id="other-boot"), 60)
    claims.reserve(work, "b", replace(me, instance="y", pid=2**22 + 7, host="elsewhere"), 60)
    assert ClaimScanner(work, me, 60, interval=0).step(0.0, set()) == []


def test_my_own_claim_without_a_live_job_is_picked_up_again(tmp_path):
    work = _work(tmp_path)
    me = Holder.me()
    claims.reserve(work, "f-1", me, 60)
    claims.reserve(work, "f-2", me, 60)
    scan = ClaimScanner(work, me, 60, interval=0)
    assert [(v.claim_id, v.why) for v in scan.step(0.0, held={"f-1"})] == [("f-2", "mine")]


def test_the_scanner_lists_the_folder_only_every_interval(tmp_path):
    work = _work(tmp_path)
    me = Holder.me()
    scan = ClaimScanner(work, me, 60)  # interval: a quarter lease
    assert scan.step(0.0, set()) == []
    claims.reserve(work, "f-1", me, 60)
    assert scan.step(14.9, set()) == []
    assert [v.claim_id for v in scan.step(15.0, set())] == ["f-1"]


def test_exactly_one_takeover_wins(tmp_path):
    work = _work(tmp_path)
    d = claims.reserve(work, "f-1", Holder.me(), 60)
    (d / "manifest.json").write_text('{"rel": "a.png"}')
    takers = [Holder.me() for _ in range(8)]
    won: list[str | None] = [None] * len(takers)
    go = threading.Barrier(len(takers))

    def take(i: int) -> None:
        go.wait()
        won[i] = claims.take_over(work, "f-1", takers[i], 60)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(takers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [(i, w) for i, w in enumerate(won) if w is not None]
    assert len(winners) == 1, won
    i, new_id = winners[0]
    assert sorted(p.name for p in work.iterdir()) == [new_id]
    assert claims.read_lease(work / new_id)["instance"] == takers[i].instance
    assert (work / new_id / "manifest.json").read_text() == '{"rel": "a.png"}'
    assert takers[i].renew(work / new_id)
