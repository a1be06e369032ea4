"""`despeckled clean INPUT... (-o OUTPUT | --output-dir DIR)`: clean files once and exit.

* Many inputs in one process, cleaned in parallel by the daemon's
  :class:`~despeckled.daemon.pool.WorkerPool` (``--jobs``, default: every
  core; its workers forked from this process). With at least as many files
  as workers, each worker reads, cleans and writes a whole file (results
  arrive in any order); with fewer, the files are taken one after another
  and the pages of a multi-page file are cleaned in parallel instead.
* A worker that dies (out of memory, killed) or runs over ``--timeout``
  costs only its own file, which is reported failed (exit status 4); the
  other files carry on. (``--timeout`` always gives each file a worker.)
* A directory INPUT stands for the supported files directly inside it
  (not recursive; hidden files skipped), in name order.
* A bad file (missing, unreadable, empty, not an image, truncated, absurd
  dimensions, a directory without images) prints one line
  ``despeckled: error: FILE: reason`` and the rest carry on.
* Exit status: 0 all done; 4 some input failed; 5 an output could not be
  written; 2 bad usage (including ``--set``); 3 bad config.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import time
import tomllib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from despeckled import errors
from despeckled.io import images
from despeckled.clean import CleanParams
from despeckled.daemon.policy import TimedOut, WorkerLost
from despeckled.daemon.pool import WorkerPool
from despeckled.errors import ExitCode

#: What ``despeckled clean``'s workers run (:func:`run_task`).
RUNNER = "despeckled.commands.clean:run_task"


class UsageError(errors.DespeckledError):
    exit_code = ExitCode.bad_args


def add_parser(sub):
    p = sub.add_parser(
        "clean",
        help="clean image files once and exit",
        description="Remove specks and dots from scanned pages (PNG, JPEG, TIFF, BMP, PDF) without "
                    "damaging the text. A directory INPUT stands for the supported files in it.",
        epilog="Exit status: 0 all cleaned; 4 an input could not be processed (one 'despeckled: error: FILE: "
               "reason' line each; the others are still cleaned); 5 an output could not be written; "
               "2 bad usage or --set; 3 bad config or profile.",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders of them")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="output file (exactly one INPUT); never overwritten: a clash gets FILE-1")
    g.add_argument("--output-dir", type=Path, metavar="DIR", help="folder for the cleaned files (created if needed)")
    p.add_argument("--config", type=Path, metavar="FILE", help="config file to take the cleaning profile from")
    p.add_argument("--profile", default="default", help="profile of the config file to use (default: %(default)s)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one cleaning setting, value in TOML syntax (e.g. --set mode=gray --set median=true)")
    p.add_argument("--format", dest="out_format", metavar="FMT",
                   help="output format: png, tiff, jpeg, bmp or pdf (default: the input's; a JPEG in binary mode "
                        "becomes PNG)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default: the number of cores)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="per-file time limit: a file still being cleaned after this long is reported failed "
                        "and the others carry on (default: no limit)")
    p.add_argument("--show-removed", type=Path, metavar="FILE_OR_DIR",
                   help="write a before/after overlay, every removed or kept mark coloured by the rule that "
                        "decided it (legend under the page; reds removed, greens kept as text marks, blues kept "
                        "by a guard) (a folder: NAME.removed.png per file; a file name: with one INPUT only)")
    p.add_argument("--explain", type=Path, metavar="FILE.json",
                   help="write, per file and page, every removed component with its box, area, reason (the "
                        "rule) and confidence, and what the guards kept (never overwritten: a clash gets FILE-1)")
    p.add_argument("--force-pdf", action="store_true",
                   help="clean PDFs that have a text layer too (by default they are copied unchanged)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary (errors still print)")
    return p


# --------------------------------------------------------------------------
# settings


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["mode=gray", "median=true"]`` -> ``{"mode": "gray", "median": True}``.

    Values are TOML scalars; a bare word that is not valid TOML is a string.
    Unknown keys raise :class:`UsageError` naming the closest valid key.

    >>> parse_set(["mode=gray", "median=true", "threshold_value=140"])
    {'mode': 'gray', 'median': True, 'threshold_value': 140}
    >>> parse_set(["medain=true"])
    Traceback (most recent call last):
    ...
    despeckled.commands.clean.UsageError: --set medain=true: unknown setting 'medain' (did you mean 'median'?)
    """
    fields = list(CleanParams.model_fields)
    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise UsageError(f"--set {item}: expected KEY=VALUE")
        if key not in CleanParams.model_fields:
            close = difflib.get_close_matches(key, fields, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else "valid: " + ", ".join(fields)
            raise UsageError(f"--set {item}: unknown setting {key!r} ({hint})")
        raw = raw.strip()
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key] = value
    return out


def resolve_params(args) -> tuple[CleanParams, images.Limits]:
    from pydantic import ValidationError

    from despeckled.config_source import defaults_only

    if args.profile == "default" and defaults_only(args.config):
        # no file, no DESPECKLED_* variable: what load_config would build is
        # the built-in default profile and limits, without its ~40 ms of imports
        base, limits = CleanParams(), images.Limits()
    else:
        from despeckled.config import load_config

        cfg = load_config(args.config, missing_ok=True)
        try:
            base = cfg.profiles[args.profile]
        except KeyError:
            raise errors.ConfigError(
                f"no profile {args.profile!r}" + (f" in {args.config}" if args.config else ""),
                [f"available profiles: {', '.join(sorted(cfg.profiles)) or '(none)'}"],
            ) from None
        limits = images.Limits(max_pixels=cfg.daemon.max_pixels, max_pages=cfg.daemon.max_pages)
    sets = parse_set(args.sets)
    try:
        params = CleanParams.model_validate({**base.model_dump(), **sets})
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})" for e in exc.errors()]
        raise UsageError("invalid --set value: " + "; ".join(problems)) from None
    return params, limits


# --------------------------------------------------------------------------
# inputs


def expand_inputs(inputs: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to clean, and (input, reason) for inputs that are bad up front.

    A directory stands for the supported files directly inside it. A missing
    path or a folder with nothing to clean is reported; everything else is
    left to the reader, which says precisely what is wrong with a file.
    """
    files: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for path in inputs:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if not p.name.startswith(".") and p.suffix.lower() in images.SUPPORTED_EXTENSIONS and p.is_file()
            )
            if not found:
                bad.append((path, "is a directory with no PNG, JPEG, TIFF, BMP or PDF files in it"))
            files.extend(found)
        elif not path.exists() and not path.is_symlink():
            bad.append((path, "no such file"))
        else:
            files.append(path)
    return files, bad


# --------------------------------------------------------------------------
# the work, in worker processes


@dataclass
class Outcome:
    source: Path
    report: Any = None                 # process.FileReport when it worked
    error: str | None = None
    exit_code: int = 0


_DIED = "the worker process died while cleaning this file (out of memory or killed)"


def _lost(src: Path, lost: WorkerLost) -> Outcome:
    """A file whose worker died (or was killed at ``--timeout``): it failed."""
    error = f"took too long: {lost}" if isinstance(lost, TimedOut) else _DIED
    return Outcome(src, error=error, exit_code=int(ExitCode.input_file))


def _clean_page_task(pixels, params: CleanParams, dpi: float | None, keep_masks: bool, keep_table: bool = False):
    """In a worker: clean one page of a multi-page file. The masks (and
    the rule map, kept sparse) only travel back when an overlay needs them
    (they are as big as the page); the component table when an explanation
    does."""
    from despeckled.clean import PageResult, clean_page

    result = clean_page(pixels, params, dpi)
    image = result.image
    if image.dtype == np.uint8 and image.ndim == 2 and params.mode == "binary":
        image = _Packed(image)         # 0/255 page: 1 bit a pixel on the way back
    table = result.components if keep_table else None
    if keep_masks:
        return PageResult(image, _Packed(result.removed), _Packed(result.kept_small), result.stats, table,
                          result._rule_map)
    none = np.zeros((0, 0), bool)
    return PageResult(image, none, none, result.stats, table)


class _Packed:
    """A 2-D bool or 0/255 uint8 array packed 8 pixels a byte for the trip
    between processes (an A4 300-dpi page: 1.1 MB instead of 8.7 MB)."""

    def __init__(self, a: np.ndarray) -> None:
        self.shape, self.dtype = a.shape, a.dtype
        self.bits = np.packbits(a != 0, axis=1)

    def unpack(self) -> np.ndarray:
        bits = np.unpackbits(self.bits, axis=1, count=self.shape[1]).view(bool)
        return bits if self.dtype == bool else (bits.view(np.uint8) * np.uint8(255))


def _unpacked(result):
    from despeckled.clean import PageResult

    fields = [f.unpack() if isinstance(f, _Packed) else f for f in (result.image, result.removed, result.kept_small)]
    return PageResult(*fields, result.stats, result.components, result._rule_map)


@dataclass(frozen=True)
class FileTask:
    """One file to clean (a job for a worker, or done here)."""

    src: Path
    out_dir: Path
    params: CleanParams
    out_name: str | None
    out_format: str | None
    limits: images.Limits
    show_removed: Path | None
    force_pdf: bool
    explain: bool = False


@dataclass(frozen=True)
class PageTask:
    """One page of a multi-page file, cleaned in a worker."""

    seq: int
    pixels: np.ndarray
    params: CleanParams
    dpi: float | None
    keep_masks: bool
    keep_table: bool = False


def run_task(task: FileTask | PageTask, logger=None):
    """The runner of ``despeckled clean``'s workers (see
    :class:`despeckled.daemon.pool.WorkerPool`): a whole file or one page."""
    if isinstance(task, PageTask):
        return _clean_page_task(task.pixels, task.params, task.dpi, task.keep_masks, task.keep_table)
    return _clean_one(task)


class _WorkerLost(Exception):
    """A page worker died or was killed: the file it belonged to fails."""

    def __init__(self, lost: WorkerLost) -> None:
        super().__init__(str(lost))
        self.lost = lost


def _pool_page_map(pool: WorkerPool, keep_masks: bool, timeout: float | None, keep_table: bool = False):
    """A ``page_map`` for :func:`despeckled.process.clean_file`: pages go to
    the pool's idle workers as they are read and come back in page order."""
    from despeckled.process import page_dpi

    def take(done: dict) -> None:
        finished = pool.collect(timeout=0.5)
        if timeout is not None:
            finished += pool.kill_overdue(timeout)
        for task, result, lost in finished:
            if result is None:
                raise _WorkerLost(lost)
            done[task.seq] = result

    def page_map(pages, params):
        waiting: deque = deque()
        done: dict[int, Any] = {}
        try:
            for seq, page in enumerate(pages):
                while not pool.idle:
                    take(done)
                pool.submit(PageTask(seq, page.pixels, params, page_dpi(page), keep_masks, keep_table))
                waiting.append((seq, page))
                while waiting and waiting[0][0] in done:
                    seq0, page0 = waiting.popleft()
                    yield page0, _unpacked(done.pop(seq0))
            while waiting:
                while waiting[0][0] not in done:
                    take(done)
                seq0, page0 = waiting.popleft()
                yield page0, _unpacked(done.pop(seq0))
        finally:
            _drain(pool)   # pages still out (an error, a lost worker): their results are dropped

    return page_map


def _drain(pool: WorkerPool) -> None:
    while pool.busy:
        pool.collect(timeout=0.5)


def _clean_one(t: FileTask, page_map=None) -> Outcome:
    """Clean one file; never raises (errors come back as an Outcome)."""
    from despeckled.process import clean_file

    src = t.src
    try:
        report = clean_file(src, t.out_dir, t.params, out_name=t.out_name, out_format=t.out_format, limits=t.limits,
                            show_removed=t.show_removed, force_pdf=t.force_pdf, page_map=page_map,
                            explain=t.explain)
        return Outcome(src, report)
    except _WorkerLost as exc:
        return _lost(src, exc.lost)
    except errors.DespeckledError as exc:
        return Outcome(src, error=str(exc).replace("\n", " "), exit_code=int(exc.exit_code))
    except MemoryError:
        return Outcome(src, error="out of memory while cleaning this file", exit_code=int(ExitCode.input_file))
    except OSError as exc:
        return Outcome(src, error=f"{exc.strerror or exc}", exit_code=int(ExitCode.output_file))
    except Exception as exc:  # a bug: say so, and go on with the other files
        return Outcome(src, error=f"internal error ({type(exc).__name__}: {exc})", exit_code=int(ExitCode.other_error))


# --------------------------------------------------------------------------
# progress


class Progress:
    """A one-line progress bar on a terminal; silent anywhere else."""

    def __init__(self, total: int, stream=None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.pages = 0
        self.t0 = time.monotonic()
        self.enabled = enabled and total > 1 and _isatty(self.stream)
        self._last = 0.0

    def advance(self, pages: int = 0) -> None:
        self.done += 1
        self.pages += pages
        self.draw()

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and self.done < self.total and now - self._last < 0.1:
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        elapsed = now - self.t0
        rate = f"{self.pages / elapsed:.1f} pages/s" if elapsed > 0 and self.pages else ""
        eta = ""
        if 0 < self.done < self.total:
            eta = f"ETA {_clock(elapsed / self.done * (self.total - self.done))}"
        text = f" {self.done}/{self.total} files {rate} {eta}".rstrip()
        bar_w = max(10, min(40, width - len(text) - 3))
        filled = bar_w * self.done // max(1, self.total)
        line = f"[{'#' * filled}{'.' * (bar_w - filled)}]{text}"
        self.stream.write("\r" + line[: width - 1] + "\x1b[K")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line without tearing the bar."""
        if self.enabled:
            self.stream.write("\r\x1b[K")
        print(text, file=self.stream, flush=True)
        self.draw(force=True)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 60}:{s % 60:02d}"


# --------------------------------------------------------------------------


def run(args) -> int:
    params, limits = resolve_params(args)
    if args.out_format:
        try:
            out_format = images.normalize_format(args.out_format)
        except ValueError as exc:
            raise UsageError(f"--format: {exc}") from None
    else:
        out_format = None
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be more than 0 seconds")

    if args.output is not None and args.output.is_dir():
        raise UsageError(f"-o {args.output}: is a directory; use --output-dir for a folder")
    files, bad = expand_inputs(args.inputs)
    if args.output is not None and len(files) + len(bad) != 1:
        raise UsageError(f"-o/--output takes exactly one INPUT file, got {len(files) + len(bad)}; "
                         "use --output-dir DIR for several")
    show_removed: Path | None = args.show_removed
    if show_removed is not None:
        as_file = bool(show_removed.suffix) and not show_removed.is_dir()
        if as_file and show_removed.suffix.lower() != ".png":
            raise UsageError(f"--show-removed {show_removed}: overlays are PNG images; name the file .png "
                             "or give a folder")
        if as_file and len(files) > 1:
            raise UsageError("--show-removed FILE takes one INPUT; give a folder for several")
        if not as_file:
            show_removed.mkdir(parents=True, exist_ok=True)
        else:
            show_removed.parent.mkdir(parents=True, exist_ok=True)

    if args.explain is not None and args.explain.is_dir():
        raise UsageError(f"--explain {args.explain}: is a directory; name the JSON file to write")

    if args.output is not None:
        out_dir, out_name = (args.output.parent if str(args.output.parent) else Path(".")), args.output.name
    else:
        out_dir, out_name = args.output_dir, None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.OutputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None

    progress = Progress(len(files) + len(bad), enabled=not args.quiet)
    t0 = time.monotonic()
    codes: list[int] = []
    totals = {"files": 0, "pages": 0, "specks": 0, "passed": 0, "blank": 0}
    explained: list[dict] = []

    def record(outcome: Outcome) -> None:
        if outcome.error is not None:
            codes.append(outcome.exit_code)
            progress.message(f"despeckled: error: {outcome.source}: {outcome.error}")
            progress.advance()
            return
        r = outcome.report
        if r.passed_through:
            totals["passed"] += 1
            if not args.quiet:
                progress.message(f"despeckled: {outcome.source}: copied unchanged ({r.passed_through})")
        else:
            totals["files"] += 1
            totals["pages"] += r.pages
            totals["specks"] += r.specks_removed
            totals["blank"] += len(r.blank_pages)
        if r.all_blank and not args.quiet:
            progress.message(f"despeckled: {outcome.source}: every page is blank: no output")
        elif r.dropped_pages and not args.quiet:
            progress.message(f"despeckled: {outcome.source}: blank pages left out: "
                             f"{', '.join(map(str, r.dropped_pages))}")
        if args.explain is not None and not r.passed_through:
            explained.append({"source": str(outcome.source), "output": str(r.output), "pages": r.explain})
        if args.output is not None and r.output is not None and r.output.name != args.output.name:
            # a name clash (never overwritten) or a format that cannot hold the pages
            progress.message(f"despeckled: {outcome.source}: written to {r.output}")
        progress.advance(r.pages)

    for path, reason in bad:
        record(Outcome(path, error=reason, exit_code=int(ExitCode.input_file)))

    tasks = [FileTask(src, out_dir, params, out_name, out_format, limits, show_removed, args.force_pdf,
                      args.explain is not None) for src in files]
    jobs = args.jobs or _cores()
    if files:
        _preload_for_workers()
    try:
        if args.timeout is None and (jobs <= 1 or not files):
            for t in tasks:
                record(_clean_one(t))
        elif len(files) >= jobs or args.timeout is not None:
            _run_files(tasks, jobs, record, args.timeout)          # a file per worker
        else:
            _run_pages(tasks, jobs, record)       # fewer files than cores: a page per worker
    except KeyboardInterrupt:
        progress.close()
        print("despeckled: interrupted", file=sys.stderr)
        return int(ExitCode.interrupted)
    progress.close()
    if args.explain is not None:
        where = _write_explanation(args.explain, explained)
        if where.name != args.explain.name:
            print(f"despeckled: explanation written to {where}", file=sys.stderr)

    failed = len(codes)
    if not args.quiet:
        elapsed = time.monotonic() - t0
        per_page = f", {elapsed / totals['pages']:.2f} s/page" if totals["pages"] else ""
        passed = f", {totals['passed']} copied unchanged" if totals["passed"] else ""
        passed += f", {totals['blank']} blank page{'s' if totals['blank'] != 1 else ''}" if totals["blank"] else ""
        print(f"despeckled: {totals['files']} file{'s' if totals['files'] != 1 else ''} cleaned "
              f"({totals['pages']} page{'s' if totals['pages'] != 1 else ''}), "
              f"{totals['specks']} specks removed{passed}, {failed} failed, in {elapsed:.1f} s{per_page}",
              file=sys.stderr)
    if not codes:
        return int(ExitCode.ok)
    non_input = [c for c in codes if c != ExitCode.input_file]
    return non_input[0] if non_input else int(ExitCode.input_file)


def _write_explanation(target: Path, files: list[dict]) -> Path:
    """Publish the explanation JSON atomically, never overwriting (a clash
    gets ``NAME-1.json``); returns where it went."""
    import json

    from despeckled.clean.rules import RULE_NAMES
    from despeckled.io.fsutil import atomic_output

    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(folder, target.name) as out:
            data = {"version": 1, "rules": list(RULE_NAMES[1:]),
                    "files": sorted(files, key=lambda f: f["source"])}
            out.tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise errors.OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    assert out.path is not None
    return out.path


def _cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. systemd CPUAffinity= or taskset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _preload_for_workers() -> None:
    """Load the cleaning code here, once, before any worker is forked, and
    move everything loaded so far out of the garbage collector's sight.

    Forked workers then start with OpenCV and the pipeline already in memory
    (shared copy-on-write) instead of each importing them again, and
    ``gc.freeze()`` keeps their collections - and this process's exit, whose
    final collection walked every object pydantic, numpy and OpenCV created
    (~20-50 ms) - off those long-lived objects, as the :mod:`gc` docs advise
    before a fork. Also right for ``--jobs 1``: this process cleans then."""
    import gc

    import despeckled.process  # noqa: F401 - the engine and OpenCV

    gc.freeze()


def _pool(size: int, runner: str = RUNNER) -> WorkerPool:
    """The daemon's worker pool, forked from this process (the engine is
    already loaded: see :func:`_preload_for_workers`), its workers up."""
    pool = WorkerPool(size, log_level=None, runner=runner, fork=True)
    pool.start()
    while pool.idle < size and pool.slots:
        pool.collect(timeout=0.5)
    return pool


def _run_pages(tasks: list[FileTask], jobs: int, record, runner: str = RUNNER) -> None:
    """Files one after another, the pages of each multi-page file cleaned
    ``jobs`` at a time in worker processes (reading and writing stay here,
    in page order). A one-page file is simply cleaned here."""
    keep_masks = tasks[0].show_removed is not None
    keep_table = tasks[0].explain
    # this process reads and writes (about as long as cleaning takes): it
    # counts as one of the ``jobs``
    pool = _pool(max(1, jobs - 1), runner)
    try:
        for t in tasks:
            record(_clean_one(t, page_map=_pool_page_map(pool, keep_masks, None, keep_table)))
    finally:
        pool.shutdown(kill=True)


def largest_first(files: list[Path]) -> list[Path]:
    """``files`` by size, largest first (ties and unreadable sizes keep their
    order): a long file started last would leave the other workers idle
    while it finishes alone, so the long ones go first.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name, size in (("a", 1), ("b", 30), ("c", 1), ("d", 7)):
    ...     _ = (d / name).write_bytes(b"x" * size)
    >>> [p.name for p in largest_first([d / n for n in "abcde"])]
    ['b', 'd', 'a', 'c', 'e']
    """
    def size(p: Path) -> int:
        try:
            return p.stat().st_size
        except OSError:
            return 0

    return sorted(files, key=size, reverse=True) if len(files) > 1 else list(files)


def _run_files(tasks: list[FileTask], jobs: int, record, timeout: float | None, runner: str = RUNNER) -> None:
    """Keep ``jobs`` workers busy, the largest files first. A worker that
    dies (killed, out of memory) or runs over ``timeout`` seconds costs only
    its own file, which is reported failed; the pool replaces the worker and
    the other files carry on."""
    by_src = {t.src: t for t in tasks}
    pending = deque(by_src[src] for src in largest_first(list(by_src)))
    pool = _pool(min(jobs, len(tasks)), runner)
    try:
        while pending or pool.busy:
            while pending and pool.idle:
                if not pool.submit(pending[0]):
                    break
                pending.popleft()
            finished = pool.collect(timeout=0.5)
            if timeout is not None:
                finished += pool.kill_overdue(timeout)
            for task, outcome, lost in finished:
                record(outcome if outcome is not None else _lost(task.src, lost))
    finally:
        pool.shutdown(kill=True)
