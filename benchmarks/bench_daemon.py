"""Load benchmark for `despeckled run` (not a test).

Measures, on synthetic A4 300-dpi gray scans (``despeckled.synth``; a few
distinct pages are generated once, cached, and copied to make the burst):

1. **baseline**: ``despeckled clean --output-dir`` on the same files, one
   command (its own process pool, every core) -- the throughput to match;
   run before and after the burst, and the mean is used (the machine may be
   shared; the two runs bracket any drift in its load);
2. **burst**: the daemon (``workers`` = cores) gets ``--count`` files dropped
   as fast as possible (temp name, then rename: the rename is "file
   complete"); files/s from the first drop to the last output visible;
3. **paced**: files dropped at ``--paced-fraction`` of the burst throughput
   (not saturated); latency from "file complete" to "output visible" minus
   the settle time, median and p99.

Peak RSS is the sum over the daemon's process tree (daemon + workers),
sampled every 50 ms from /proc. Both runs happen side by side in this one
invocation, so the comparison holds on whatever machine runs it.

Usage::

    .venv/bin/python benchmarks/bench_daemon.py                 # 1000 pages
    .venv/bin/python benchmarks/bench_daemon.py --count 200 --paced-count 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "despeckled" / "bench_daemon"


def make_pages(n_unique: int, fmt: str) -> list[Path]:
    """Synthetic A4 300-dpi noisy gray pages, generated once and cached."""
    import cv2

    from despeckled import synth

    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n_unique):
        p = d / f"page{i:02d}.{fmt}"
        if not p.exists():
            page = synth.make_page(seed=1000 + i, dpi=300, size="a4")
            tmp = p.with_name(p.name + ".tmp." + fmt)
            if fmt == "tif":
                from PIL import Image

                Image.fromarray(page.noisy).save(tmp, compression="tiff_lzw", dpi=(300, 300))
            else:
                params = [cv2.IMWRITE_JPEG_QUALITY, 85] if fmt == "jpg" else []
                cv2.imwrite(str(tmp), page.noisy, params)
            os.replace(tmp, p)
        out.append(p)
    return out


class RssSampler(threading.Thread):
    """Peak of the summed RSS of ``pid`` and all its descendants."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0
        self.peak_pss = 0
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    @staticmethod
    def _children() -> dict[int, list[int]]:
        kids: dict[int, list[int]] = {}
        for e in os.scandir("/proc"):
            if not e.name.isdigit():
                continue
            try:
                with open(f"/proc/{e.name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(e.name))
        return kids

    def tree_rss(self) -> tuple[int, int]:
        """(sum of RSS, sum of PSS) over the tree. RSS counts shared library
        pages once per process; PSS splits them between the sharers."""
        kids = self._children()
        rss = pss = 0
        stack = [self.pid]
        while stack:
            p = stack.pop()
            try:
                with open(f"/proc/{p}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Rss:"):
                            rss += int(line.split()[1]) * 1024
                        elif line.startswith("Pss:"):
                            pss += int(line.split()[1]) * 1024
            except OSError:
                pass
            stack.extend(kids.get(p, []))
        return rss, pss

    def run(self) -> None:
        t0 = time.monotonic()
        while not self._halt.is_set():
            rss, pss = self.tree_rss()
            self.peak = max(self.peak, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.samples.append((time.monotonic() - t0, rss))
            self._halt.wait(self.every)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def drop(src: Path, inbox: Path, name: str) -> float:
    """Copy like a scanner: temp name, then rename. Returns 'complete' time."""
    tmp = inbox / (name + ".part")
    shutil.copyfile(src, tmp)
    os.rename(tmp, inbox / name)
    return time.monotonic()


def watch_outputs(out_dir: Path, names: set[str], seen: dict[str, float], stop: threading.Event) -> None:
    while not stop.is_set() and len(seen) < len(names):
        now = time.monotonic()
        try:
            with os.scandir(out_dir) as it:
                for e in it:
                    if e.name not in seen and e.name in names:
                        seen[e.name] = now
        except FileNotFoundError:
            pass
        stop.wait(0.02)


def out_name(name: str, fmt: str) -> str:
    # the cleaner writes bilevel pages; JPEG input becomes PNG by default
    return name if fmt != "jpg" else Path(name).stem + ".png"


def start_daemon(work: Path, settle: float, workers: int) -> tuple[subprocess.Popen, Path]:
    cfg = work / "config.toml"
    cfg.write_text(f"""
log_level = "warning"
[daemon]
workers = {workers}
settle_seconds = {settle}
poll_interval_seconds = 1.0
stop_timeout_seconds = 60

[[watch]]
input = "{work}/inbox"
output = "{work}/clean"
archive = "{work}/archive"
failed = "{work}/failed"
""")
    state = work / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "despeckled", "run", "--config", str(cfg), "--state", str(state)],
                            stdout=subprocess.DEVNULL, stderr=open(work / "daemon.log", "wb"), cwd=work)
    deadline = time.monotonic() + 60
    while True:
        try:
            st = json.loads(state.read_text())
            if st.get("ready") and len(st.get("worker_pids", [])) == workers:
                break
        except (OSError, ValueError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"daemon did not start: see {work / 'daemon.log'}")
        time.sleep(0.05)
    time.sleep(1.5)  # let the spawned workers finish importing (not part of any figure)
    return proc, state


def run_baseline(files: list[Path], work: Path, tag: str) -> tuple[float, int]:
    out = work / f"baseline-out-{tag}"
    out.mkdir()
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "despeckled", "clean", "--output-dir", str(out), *map(str, files)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    sampler = RssSampler(proc.pid)
    sampler.start()
    rc = proc.wait()
    elapsed = time.monotonic() - t0
    sampler.stop()
    peak = sampler.peak
    if rc != 0:
        raise SystemExit(f"despeckled clean failed with exit code {rc}")
    n_out = len(list(out.iterdir()))
    if n_out != len(files):
        raise SystemExit(f"baseline wrote {n_out} of {len(files)} outputs")
    return elapsed, peak


def run_daemon(pages: list[Path], count: int, work: Path, settle: float, workers: int, fmt: str,
               rate: float | None) -> dict:
    """Drop ``count`` files (as fast as possible, or at ``rate`` files/s)."""
    proc, state = start_daemon(work, settle, workers)
    sampler = RssSampler(proc.pid)
    sampler.start()
    names = [f"scan{i:05d}.{fmt}" for i in range(count)]
    expected = {out_name(n, fmt) for n in names}
    seen: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_outputs, args=(work / "clean", expected, seen, stop), daemon=True)
    watcher.start()
    complete: dict[str, float] = {}
    t_first = time.monotonic()
    for i, n in enumerate(names):
        if rate:
            due = t_first + i / rate
            while time.monotonic() < due:
                time.sleep(min(0.01, due - time.monotonic()))
        complete[out_name(n, fmt)] = drop(pages[i % len(pages)], work / "inbox", n)
    deadline = time.monotonic() + max(60, count * 1.5)
    while len(seen) < len(expected) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    stop.set()
    watcher.join()
    t_last = max(seen.values(), default=time.monotonic())
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(120)
    peak = sampler.stop()
    failed = len(list((work / "failed").iterdir())) if (work / "failed").exists() else 0
    if len(seen) < len(expected):
        raise SystemExit(f"only {len(seen)} of {len(expected)} outputs appeared (failed: {failed}); see {work}")
    lat = sorted(seen[n] - complete[n] - settle for n in expected)
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return {
        "files": count, "seconds": t_last - t_first, "files_per_s": count / (t_last - t_first),
        "lat_median": statistics.median(lat), "lat_p99": q[98], "lat_max": lat[-1],
        "peak_rss": peak, "peak_pss": sampler.peak_pss, "exit_code": rc, "failed": failed,
        "rss_quarters": [max((r for t, r in sampler.samples if lo <= t / max(sampler.samples[-1][0], 1e-9) < hi), default=0)
                         for lo, hi in ((0, .25), (.25, .5), (.5, .75), (.75, 1.01))],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="files in the burst (default 1000 A4 pages)")
    ap.add_argument("--paced-count", type=int, default=120, help="files in the paced (not saturated) run")
    ap.add_argument("--paced-fraction", type=float, default=0.5, help="paced arrival rate, as a fraction of burst throughput")
    ap.add_argument("--unique", type=int, default=8, help="distinct synthetic pages (generated once, cached)")
    ap.add_argument("--format", choices=("jpg", "png", "tif"), default="jpg", help="scan format (scanners mostly send gray JPEG)")
    ap.add_argument("--settle", type=float, default=1.0, help="settle_seconds for the daemon")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)

    print(f"# bench_daemon: {args.count} A4 300-dpi {args.format} pages, {args.workers} workers, "
          f"settle {args.settle:g} s, {os.cpu_count()} cores")
    pages = make_pages(args.unique, args.format)
    work = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    try:
        src = work / "src"
        src.mkdir()
        files = []
        for i in range(args.count):
            p = src / f"scan{i:05d}.{args.format}"
            shutil.copyfile(pages[i % len(pages)], p)
            files.append(p)
        # baseline before AND after the daemon's burst: the machine may be
        # shared, and the mean of the two brackets any drift in its load
        base_s, base_rss = run_baseline(files, work, "before")
        print(f"baseline  despeckled clean (before): {args.count} files in {base_s:.1f} s = "
              f"{args.count / base_s:.2f} files/s, peak RSS {base_rss / 2**20:.0f} MB")

        (work / "burst").mkdir()
        b = run_daemon(pages, args.count, work / "burst", args.settle, args.workers, args.format, None)
        base2_s, base2_rss = run_baseline(files, work, "after")
        print(f"baseline  despeckled clean (after):  {args.count} files in {base2_s:.1f} s = "
              f"{args.count / base2_s:.2f} files/s, peak RSS {base2_rss / 2**20:.0f} MB")
        base_fps = (args.count / base_s + args.count / base2_s) / 2
        shutil.rmtree(src)
        print(f"daemon    burst: {b['files']} files in {b['seconds']:.1f} s = {b['files_per_s']:.2f} files/s "
              f"({100 * b['files_per_s'] / base_fps:.0f}% of clean's mean {base_fps:.2f}); latency (settle excluded) "
              f"median {b['lat_median']:.2f} s, p99 {b['lat_p99']:.2f} s (saturated: queueing); "
              f"peak RSS {b['peak_rss'] / 2**20:.0f} MB (PSS {b['peak_pss'] / 2**20:.0f} MB); RSS by quarter "
              + "/".join(f"{r / 2**20:.0f}" for r in b["rss_quarters"]) + " MB; "
              f"exit {b['exit_code']}, failed {b['failed']}")
        rate = b["files_per_s"] * args.paced_fraction
        (work / "paced").mkdir()
        p = run_daemon(pages, args.paced_count, work / "paced", args.settle, args.workers, args.format, rate)
        print(f"daemon    paced at {rate:.2f} files/s: latency (settle excluded) median {p['lat_median']:.2f} s, "
              f"p99 {p['lat_p99']:.2f} s, max {p['lat_max']:.2f} s; peak RSS {p['peak_rss'] / 2**20:.0f} MB (PSS {p['peak_pss'] / 2**20:.0f} MB)")
        ok_tp = b["files_per_s"] >= 0.8 * base_fps
        ok_lat = p["lat_p99"] < 2.0
        ok_rss = max(b["peak_rss"], p["peak_rss"]) < 400 * 2**20
        print(f"targets   throughput >= 80% of clean: {'OK' if ok_tp else 'MISSED'}; "
              f"p99 < settle + 2 s when not saturated: {'OK' if ok_lat else 'MISSED'}; "
              f"RSS < 400 MB: {'OK' if ok_rss else 'MISSED'}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
