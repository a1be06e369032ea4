"""Several daemons on one inbox (issue 12): throughput and dead-host drain (not a test).

1. **Throughput, side by side in one run**: the same burst of synthetic A4
   300-dpi gray scans (``bench_daemon.make_pages``: a few distinct pages,
   generated once and cached, copied to make the burst) dropped into one
   inbox served by

   * ``one``: one daemon with ``--workers`` workers;
   * ``two``: two daemons on the same inbox, ``--workers`` each (what two
     machines would run). On this one machine they share its cores, so this
     shows the coordination cost (reservations, leases, both polling the
     same folders), not the speed-up a second machine brings;
   * ``two-split``: two daemons with half the workers each (the same CPU
     budget as ``one``: the pure overhead of sharing an inbox).

   Configurations alternate over ``--rounds`` rounds so drift in the
   machine's load hits all alike; files/s from the first drop to the last
   output visible. Every round checks each file came out exactly once.

2. **Drain**: two daemons, the second in its own UTS namespace (another
   hostname: the first cannot judge its pid and must wait for its leases), is
   killed with SIGKILL while holding claims; the time until the survivor has
   taken over every dead claim and until every file is done, for each
   ``--leases`` value. The same-host case (pid known dead: taken over at once)
   is measured once for comparison.

Usage::

    nice .venv/bin/python benchmarks/bench_multihost.py                 # 1000 pages per configuration
    nice .venv/bin/python benchmarks/bench_multihost.py --count 200 --leases 5 20
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_daemon import ENV, drop, make_pages, snapshot_code  # noqa: E402 - shares its page cache


class Instance:
    """One ``despeckled run`` on the shared folders under ``root``."""

    def __init__(self, root: Path, name: str, workers: int, *, settle: float, lease: float = 60.0,
                 hostname: str | None = None) -> None:
        self.root, self.name = root, name
        cfg = root / f"{name}.toml"
        cfg.write_text(f"""
log_level = "info"
[daemon]
workers = {workers}
settle_seconds = {settle}
poll_interval_seconds = 1.0
stop_timeout_seconds = 60
claim_lease_seconds = {lease}

[[watch]]
input = "{root}/inbox"
output = "{root}/clean"
archive = "{root}/archive"
failed = "{root}/failed"
""")
        self.state = root / f"{name}.state.json"
        self.log = root / f"{name}.log"
        prefix = ["unshare", "-u", "sh", "-c", f'hostname {hostname} && exec "$0" "$@"'] if hostname else []
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "despeckled", "run", "--config", str(cfg), "--state", str(self.state)],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"), cwd=root, env=ENV)
        self.workers = workers

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                st = json.loads(self.state.read_text())
                if st.get("ready") and len(st.get("worker_pids", [])) == self.workers:
                    return
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{self.name} did not start: see {self.log}")
            time.sleep(0.05)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(180)

    def events(self, name: str) -> list[dict]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == name:
                out.append(e)
        return out


def _count(d: Path) -> int:
    """Visible files below ``d`` (not despeckled's hidden staging)."""
    n = 0
    for _, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        n += sum(1 for f in files if not f.startswith("."))
    return n


def _work_claims(root: Path) -> list[Path]:
    work = root / "inbox" / ".despeckled" / "work"
    return [p for p in work.iterdir()] if work.exists() else []


def _fresh(base: Path, tag: str) -> Path:
    root = base / tag
    for sub in ("inbox", "clean", "archive", "failed"):
        (root / sub).mkdir(parents=True)
    return root


def burst(base: Path, tag: str, pages: list[Path], count: int, workers: list[int], settle: float) -> dict:
    """Drop ``count`` files into one inbox served by one daemon per entry of
    ``workers``; files/s from the first drop to the last output."""
    root = _fresh(base, tag)
    insts = [Instance(root, f"d{i}", w, settle=settle) for i, w in enumerate(workers)]
    for inst in insts:
        inst.wait_ready()
    time.sleep(1.0)  # workers finish importing (not part of any figure)
    t0 = time.monotonic()
    for i in range(count):
        drop(pages[i % len(pages)], root / "inbox", f"scan{i:05d}.png")
    deadline = time.monotonic() + max(120, count * 3)
    while _count(root / "clean") < count and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    done = _count(root / "clean")
    while (_count(root / "archive") + _count(root / "failed")) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    rcs = [inst.stop() for inst in insts]
    per = [len(inst.events("archived")) for inst in insts]
    archived, failed = _count(root / "archive"), _count(root / "failed")
    ok = done == count and archived == count and failed == 0 and sum(per) == count and rcs == [0] * len(rcs)
    if ok:
        shutil.rmtree(root)
    else:
        print(f"NOT exactly once in {root} (kept): outputs {done}, archived {archived}, failed {failed}, "
              f"archived events {per}, exit codes {rcs}", flush=True)
    return {"files": count, "seconds": elapsed, "per_daemon": per, "ok": ok,
            "archived": archived, "failed": failed}


def drain(base: Path, tag: str, pages: list[Path], count: int, lease: float, settle: float,
          other_host: bool) -> dict:
    """Kill -9 the second of two daemons while it holds claims; time until
    the survivor took them all over and until every file is done."""
    root = _fresh(base, tag)
    a = Instance(root, "a", 1, settle=settle, lease=lease)
    b = Instance(root, "b", 2, settle=settle, lease=lease, hostname="other-host" if other_host else None)
    a.wait_ready()
    b.wait_ready()
    time.sleep(1.0)
    for i in range(count):
        drop(pages[i % len(pages)], root / "inbox", f"scan{i:05d}.png")

    def held_by_b() -> set[str]:
        out = set()
        for d in _work_claims(root):
            try:
                if json.loads((d / "lease.json").read_text()).get("pid") == b.proc.pid:
                    out.add(d.name)
            except (OSError, ValueError):
                pass
        return out

    deadline = time.monotonic() + 120
    while len(held_by_b()) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    b.proc.kill()
    b.proc.wait()
    killed = time.monotonic()
    held = held_by_b()
    taken_at = None
    while time.monotonic() < killed + lease * 4 + 120:
        now = time.monotonic()
        if taken_at is None and not (held & {p.name for p in _work_claims(root)}):
            taken_at = now - killed
        if _count(root / "archive") + _count(root / "failed") >= count and taken_at is not None:
            break
        time.sleep(0.02)
    done_at = time.monotonic() - killed
    a.stop()
    ok = _count(root / "archive") == count and _count(root / "failed") == 0 and _count(root / "clean") == count
    takeovers = a.events("claim_taken_over")
    shutil.rmtree(root)
    return {"lease": lease, "held": len(held), "taken_over": len(takeovers),
            "why": sorted({e.get("why") for e in takeovers}), "all_taken_over_s": taken_at,
            "all_done_s": done_at, "ok": ok}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="pages per configuration (over all rounds)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--unique", type=int, default=8, help="distinct synthetic pages")
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--leases", type=float, nargs="*", default=[5.0, 20.0])
    ap.add_argument("--drain-count", type=int, default=40)
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--only", choices=["one", "two", "two-split"], action="append", help="run only these configurations")
    ap.add_argument("--skip-drain", action="store_true")
    args = ap.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="bench-multihost-"))
    snapshot_code(base)
    pages = make_pages(args.unique, "png")
    w, half = args.workers, max(1, args.workers // 2)
    configs = {"one": [w], "two": [w, w], "two-split": [half, half]}
    if args.only:
        configs = {k: v for k, v in configs.items() if k in args.only}
    totals = {k: {"files": 0, "seconds": 0.0, "per_daemon": [], "ok": True} for k in configs}
    per_round = args.count // args.rounds
    try:
        if not args.skip_throughput:
            for r in range(args.rounds):
                order = list(configs) if r % 2 == 0 else list(reversed(configs))
                for k in order:
                    res = burst(base, f"{k}-{r}", pages, per_round, configs[k], args.settle)
                    t = totals[k]
                    t["files"] += res["files"]
                    t["seconds"] += res["seconds"]
                    t["per_daemon"].append(res["per_daemon"])
                    t["ok"] &= res["ok"]
                    print(f"round {r + 1} {k:10s} {res['files']} files in {res['seconds']:.1f} s "
                          f"({res['files'] / res['seconds']:.2f} files/s), per daemon {res['per_daemon']}, "
                          f"exactly once: {res['ok']}", flush=True)
            one = totals["one"]["files"] / totals["one"]["seconds"] if "one" in configs else float("nan")
            print(f"\nthroughput, {args.count} A4 300-dpi pages per configuration, {os.cpu_count()} cores shared:")
            for k, t in totals.items():
                rate = t["files"] / t["seconds"]
                print(f"  {k:10s} workers {configs[k]}: {rate:.2f} files/s  ratio vs one {rate / one:.2f}  "
                      f"exactly once: {t['ok']}")
        print("\ndrain of a dead daemon's claims (kill -9 while holding claims):", flush=True)
        runs = [] if args.skip_drain else [(lease, True) for lease in args.leases] + [(args.leases[0], False)]
        for lease, other in runs:
            res = drain(base, f"drain-{lease}-{other}", pages, args.drain_count, lease, args.settle, other)
            where = "other host" if other else "same host "
            print(f"  {where} lease {lease:5.1f} s: held {res['held']}, taken over {res['taken_over']} "
                  f"({','.join(res['why'])}); all taken over after {res['all_taken_over_s']:.2f} s, "
                  f"all {args.drain_count} files done after {res['all_done_s']:.2f} s; exactly once: {res['ok']}",
                  flush=True)
    finally:
        if all(t["ok"] for t in totals.values()):
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
