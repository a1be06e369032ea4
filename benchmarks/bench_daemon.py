"""Load benchmark for `despeckled run` (not a test).

Measures, on synthetic A4 300-dpi gray scans (``despeckled.testing.synth``; a few
distinct pages are generated once, cached, and copied to make the burst):

1. **baseline**: ``despeckled clean --output-dir`` on the same files, one
   command (its own process pool, every core) -- the throughput to match;
2. **bursts**: one daemon (``workers`` = cores) gets the same number of files
   dropped as fast as possible (temp name, then rename: the rename is "file
   complete"); files/s from the first drop to the last output visible.
   Baseline and bursts alternate in ``--rounds`` rounds, so drift in the
   machine's load (it may be shared) hits both sides alike;
3. **paced**: then files dropped at ``--paced-fraction`` of the burst
   throughput (not saturated); latency from "file complete" to "output
   visible" minus the settle time, median and p99.

Peak RSS is the sum over the daemon's process tree (daemon + workers),
sampled every 50 ms from /proc over the daemon's whole life (all bursts);
PSS (shared library pages split between the processes) is printed beside it. Both runs happen side by side in this one
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
#: Subprocesses run a snapshot of the package taken at the start, so the
#: baseline and the daemon run the same code even if the tree changes meanwhile.
ENV = dict(os.environ)


def snapshot_code(work: Path) -> None:
    dest = work / "code"
    shutil.copytree(ROOT / "despeckled", dest / "despeckled", ignore=shutil.ignore_patterns("__pycache__"))
    ENV["PYTHONPATH"] = str(dest) + (os.pathsep + ENV["PYTHONPATH"] if ENV.get("PYTHONPATH") else "")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "despeckled" / "bench_daemon"


def make_pages(n_unique: int, fmt: str) -> list[Path]:
    """Synthetic A4 300-dpi noisy gray pages, generated once and cached."""
    import cv2

    from despeckled.testing import synth

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
create_folders = true
""")
    state = work / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "despeckled", "run", "--config", str(cfg), "--state", str(state)],
                            stdout=subprocess.DEVNULL, stderr=open(work / "daemon.log", "wb"), cwd=work, env=ENV)
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
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work, env=ENV)
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


class DaemonRun:
    """One daemon process fed several bursts; RSS sampled over its whole life."""

    def __init__(self, work: Path, settle: float, workers: int, fmt: str, pages: list[Path]) -> None:
        work.mkdir()
        self.work, self.settle, self.fmt, self.pages = work, settle, fmt, pages
        self.proc, self.state = start_daemon(work, settle, workers)
        self.sampler = RssSampler(self.proc.pid)
        self.sampler.start()
        self.n = 0

    def burst(self, count: int, rate: float | None = None) -> dict:
        """Drop ``count`` files (as fast as possible, or at ``rate`` files/s);
        return when every output is visible."""
        names = [f"scan{self.n + i:05d}.{self.fmt}" for i in range(count)]
        self.n += count
        expected = {out_name(n, self.fmt) for n in names}
        seen: dict[str, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_outputs, args=(self.work / "clean", expected, seen, stop), daemon=True)
        watcher.start()
        complete: dict[str, float] = {}
        t_first = time.monotonic()
        for i, n in enumerate(names):
            if rate:
                due = t_first + i / rate
                while time.monotonic() < due:
                    time.sleep(max(0.0, min(0.01, due - time.monotonic())))
            complete[out_name(n, self.fmt)] = drop(self.pages[(self.n + i) % len(self.pages)], self.work / "inbox", n)
        deadline = time.monotonic() + max(60, count * 1.5)
        while len(seen) < len(expected) and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        stop.set()
        watcher.join()
        if len(seen) < len(expected):
            raise SystemExit(f"only {len(seen)} of {len(expected)} outputs appeared; see {self.work}")
        lat = sorted(seen[n] - complete[n] - self.settle for n in expected)
        return {"files": count, "seconds": max(seen.values()) - t_first, "lat": lat}

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(120)
        self.sampler.stop()
        failed = len(list((self.work / "failed").iterdir())) if (self.work / "failed").exists() else 0
        samples = self.sampler.samples
        span = max(samples[-1][0], 1e-9) if samples else 1.0
        quarters = [max((r for t, r in samples if lo <= t / span < hi), default=0)
                    for lo, hi in ((0, .25), (.25, .5), (.5, .75), (.75, 1.01))]
        return {"exit_code": rc, "failed": failed, "peak_rss": self.sampler.peak,
                "peak_pss": self.sampler.peak_pss, "rss_quarters": quarters}


def _q(lat: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
    return statistics.median(lat), q[98], max(lat)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="files through the daemon (default 1000 A4 pages)")
    ap.add_argument("--rounds", type=int, default=4,
                    help="interleave the baseline and the daemon in this many rounds of count/rounds files")
    ap.add_argument("--paced-count", type=int, default=120, help="files in the paced (not saturated) run")
    ap.add_argument("--paced-fraction", type=float, default=0.5, help="paced arrival rate, as a fraction of burst throughput")
    ap.add_argument("--unique", type=int, default=8, help="distinct synthetic pages (generated once, cached)")
    ap.add_argument("--format", choices=("jpg", "png", "tif"), default="jpg", help="scan format (scanners mostly send gray JPEG)")
    ap.add_argument("--settle", type=float, default=1.0, help="settle_seconds for the daemon")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)

    print(f"# bench_daemon: {args.count} A4 300-dpi {args.format} pages in {args.rounds} interleaved rounds, "
          f"{args.workers} workers, settle {args.settle:g} s, {os.cpu_count()} cores")
    pages = make_pages(args.unique, args.format)
    work = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    try:
        snapshot_code(work)
        chunk = max(1, args.count // args.rounds)
        src = work / "src"
        src.mkdir()
        files = []
        for i in range(chunk):
            p = src / f"scan{i:05d}.{args.format}"
            shutil.copyfile(pages[i % len(pages)], p)
            files.append(p)
        daemon = DaemonRun(work / "daemon", args.settle, args.workers, args.format, pages)
        base_t = dmn_t = 0.0
        base_rss = 0
        lat: list[float] = []
        for r in range(args.rounds):
            # the same machine, minutes apart, alternately: drift in its load
            # (it may be shared) hits both sides alike
            bt, brss = run_baseline(files, work, f"r{r}")
            b = daemon.burst(chunk)
            base_t += bt
            dmn_t += b["seconds"]
            base_rss = max(base_rss, brss)
            lat += b["lat"]
            print(f"round {r + 1}: clean {chunk / bt:.2f} files/s, daemon {chunk / b['seconds']:.2f} files/s")
        n = chunk * args.rounds
        base_fps, dmn_fps = n / base_t, n / dmn_t
        print(f"baseline  despeckled clean: {n} files in {base_t:.1f} s = {base_fps:.2f} files/s, peak RSS {base_rss / 2**20:.0f} MB")
        med, p99, _ = _q(lat)
        print(f"daemon    bursts: {n} files in {dmn_t:.1f} s = {dmn_fps:.2f} files/s ({100 * dmn_fps / base_fps:.0f}% of clean); "
              f"latency (settle excluded) median {med:.2f} s, p99 {p99:.2f} s (saturated: queueing)")
        rate = dmn_fps * args.paced_fraction
        p = daemon.burst(args.paced_count, rate)
        med, p99, mx = _q(p["lat"])
        end = daemon.stop()
        print(f"daemon    paced at {rate:.2f} files/s: latency (settle excluded) median {med:.2f} s, p99 {p99:.2f} s, max {mx:.2f} s")
        print(f"daemon    {daemon.n} files, peak RSS of the process tree {end['peak_rss'] / 2**20:.0f} MB "
              f"(PSS {end['peak_pss'] / 2**20:.0f} MB); RSS by quarter of its life "
              + "/".join(f"{r / 2**20:.0f}" for r in end["rss_quarters"]) + f" MB; exit {end['exit_code']}, failed {end['failed']}")
        ok_tp = dmn_fps >= 0.8 * base_fps
        ok_lat = p99 < 2.0
        ok_rss = end["peak_rss"] < 400 * 2**20
        print(f"targets   throughput >= 80% of clean: {'OK' if ok_tp else 'MISSED'}; "
              f"p99 < settle + 2 s when not saturated: {'OK' if ok_lat else 'MISSED'}; "
              f"RSS < 400 MB: {'OK' if ok_rss else 'MISSED'} (PSS {'OK' if end['peak_pss'] < 400 * 2**20 else 'MISSED'})")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
