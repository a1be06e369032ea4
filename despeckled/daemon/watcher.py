"""Watchers: filtered sources of *candidate* paths, nothing more.

A watcher never decides that a file is ready and never touches it; it only
proposes paths (see :mod:`despeckled.daemon.readiness`). Three parts:

* **Filters** are plain ``(change, path) -> bool`` callables
  (:class:`DefaultFilter`), testable on their own.
* **Event handler** (:class:`EnqueueHandler`): watchdog's dispatcher thread
  calls it; it only puts ``(change, path)`` on a thread-safe queue and
  swallows every exception, so a bad event can never kill event delivery.
* **WatchSource**: one per watch folder. With inotify (local disks) a
  watchdog ``Observer`` delivers hints, and a full rescan runs at start,
  every ``rescan_interval`` and after any restart. With polling (network
  shares) there is no watchdog at all: our own :func:`scan_tree` runs every
  ``poll_interval``. watchdog's ``PollingEmitter`` stops for good after one
  ``OSError`` (a share blip); our scan logs the error and retries with
  backoff, forever. :meth:`WatchSource.supervise` restarts a dead observer.

Sub-folders of an input are watched too; their relative path is mirrored in
output, archive and failed. Hidden folders (including despeckled's own
``.despeckled``) and NAS junk folders are skipped; symlinked folders are
never entered.
"""

from __future__ import annotations

import os
import queue
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from despeckled import log


class Change(IntEnum):
    added = 1
    modified = 2
    deleted = 3
    directory = 4  # a folder appeared (moved in with its files): scan it


#: Temp-name suffixes used by browsers, copy tools, scanners and editors.
TEMP_SUFFIXES = frozenset({
    ".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart", ".download",
    ".swp", ".swx", ".!ut", ".!qb", ".opdownload", ".dlpart",
})
#: NAS and OS junk, compared case-insensitively, files or folders.
JUNK_NAMES = frozenset({
    "@eadir", "#recycle", "#snapshot", "@recycle", "$recycle.bin", "system volume information",
    "lost+found", ".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", ".appledouble",
    "__macosx", ".spotlight-v100", ".trashes", ".fseventsd", "@tmp", ".sync",
})


def ignore_reason(name: str) -> str | None:
    """Why a single path component is ignored, or None.

    >>> [ignore_reason(n) for n in ("scan.TIF", ".hidden.tif", "a.tif.part", "~$x.tif", "x.tif~", "Thumbs.db", "@eaDir")]
    [None, 'hidden', 'temp', 'temp', 'temp', 'junk', 'junk']
    """
    low = name.lower()
    if low in JUNK_NAMES:
        return "junk"
    if name.startswith("."):
        return "hidden"
    if name.startswith("~") or name.endswith("~"):
        return "temp"
    if os.path.splitext(low)[1] in TEMP_SUFFIXES:
        return "temp"
    return None


def supported_extensions() -> frozenset[str]:
    from despeckled.io import images

    return frozenset(e.lower() for e in images.SUPPORTED_EXTENSIONS)


class DefaultFilter:
    """``(change, path) -> bool``: True for paths despeckled should consider.

    Every component below ``root`` is checked (hidden, temp, junk); the file's
    extension must be supported (case-insensitive). Unsupported files are left
    where they are; :meth:`why` tells the caller so it can log them once.

    >>> f = DefaultFilter("/in", {".tif", ".png"})
    >>> [f(Change.added, p) for p in ("/in/a.TIF", "/in/sub/b.png", "/in/@eaDir/c.png", "/in/a.txt", "/in/.despeckled/work/x/a.tif")]
    [True, True, False, False, False]
    >>> f.why("/in/a.txt")
    'unsupported'
    """

    def __init__(self, root: str | os.PathLike[str], extensions: frozenset[str] | set[str] | None = None) -> None:
        self.root = os.path.abspath(root)
        self._extensions = frozenset(extensions) if extensions is not None else None

    @property
    def extensions(self) -> frozenset[str]:
        return self._extensions if self._extensions is not None else supported_extensions()

    def why(self, path: str | os.PathLike[str], is_dir: bool = False) -> str | None:
        rel = os.path.relpath(os.path.abspath(path), self.root)
        if rel.startswith(".." + os.sep) or rel == "..":
            return "outside"
        if rel == ".":
            return None
        for part in rel.split(os.sep):
            r = ignore_reason(part)
            if r:
                return r
        if not is_dir and os.path.splitext(rel)[1].lower() not in self.extensions:
            return "unsupported"
        return None

    def __call__(self, change: Change, path: str | os.PathLike[str]) -> bool:
        return self.why(path, is_dir=change == Change.directory) is None


@dataclass
class ScanResult:
    files: list[tuple[Path, os.stat_result]] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: this full scan worked after one or more had failed
    recovered: bool = False


def scan_tree(root: Path, filt: DefaultFilter, start: Path | None = None) -> ScanResult:
    """List candidate files under ``root`` (or its sub-folder ``start``)
    without following symlinked folders. Errors are collected, not raised."""
    res = ScanResult()
    stack = [Path(start or root)]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError as exc:
            if d == root or not isinstance(exc, FileNotFoundError):
                res.errors.append(f"{d}: {exc.strerror or exc}")
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            p = Path(e.path)
            if stat.S_ISDIR(st.st_mode):
                why = filt.why(p, is_dir=True)
                if why is None:
                    stack.append(p)
                continue
            why = filt.why(p)
            if why is None:
                res.files.append((p, st))
            elif why in ("unsupported",) or (why == "temp" and not e.name.startswith(".")):
                res.ignored.append((p, why))
    return res


Event = tuple[Change, Path, object]  # (change, path, watch key)


class EnqueueHandler:
    """watchdog event handler that only enqueues. No exception escapes
    (watchdog's dispatcher thread would die and events would stop)."""

    def __init__(self, q: queue.SimpleQueue, key: object) -> None:
        self.q = q
        self.key = key
        self.errors = 0

    def dispatch(self, event) -> None:
        try:
            etype = event.event_type
            if etype in ("opened", "closed_no_write"):
                return
            if etype == "moved":
                self.q.put((Change.deleted, Path(os.fsdecode(event.src_path)), self.key))
                path = os.fsdecode(event.dest_path)
                change = Change.added
            elif etype == "deleted":
                path, change = os.fsdecode(event.src_path), Change.deleted
            elif etype == "created":
                path, change = os.fsdecode(event.src_path), Change.added
            else:  # modified, closed, attrib
                path, change = os.fsdecode(event.src_path), Change.modified
            if event.is_directory:
                if change == Change.deleted:
                    return
                change = Change.directory
            self.q.put((change, Path(path), self.key))
        except Exception:  # noqa: BLE001 - never raise into watchdog's thread
            self.errors += 1


class WatchSource:
    """Candidate paths for one watch folder, from events and/or scans."""

    def __init__(
        self,
        root: Path,
        q: queue.SimpleQueue,
        key: object,
        *,
        polling: bool,
        poll_interval: float,
        rescan_interval: float,
        filt: Callable | None = None,
        logger=None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.root = Path(root)
        self.q = q
        self.key = key
        self.polling = polling
        self.poll_interval = poll_interval
        self.rescan_interval = rescan_interval
        self.filter = filt or DefaultFilter(root)
        self.log = logger or log.get_logger("watcher", watch=str(root))
        #: the time a scan ended (a scan of a share that is going away can
        #: block for seconds: the next one is scheduled from its end)
        self.clock = clock
        self.observer = None
        self.handler = EnqueueHandler(q, key)
        self.next_scan = 0.0          # scan at the first step
        self.scan_failures = 0
        self.restarts = 0
        self.last_error: str | None = None
        self.next_restart = 0.0
        self._ignored_logged: set[Path] = set()

    # -- observer --------------------------------------------------------------
    def start(self) -> None:
        if self.polling:
            return
        try:
            self._start_observer()
        except OSError as exc:  # inotify watch/instance limits reached, ...
            self.polling = True
            self.next_scan = 0.0
            self.last_error = f"inotify unavailable ({exc}); polling instead"
            self.log.warning("watcher_fallback_to_polling", error=str(exc),
                             hint="raise fs.inotify.max_user_watches / max_user_instances")

    def _start_observer(self) -> None:
        from watchdog.observers import Observer

        obs = Observer()
        obs.daemon = True
        obs.schedule(self.handler, str(self.root), recursive=True)
        obs.start()
        self.observer = obs

    def stop(self) -> None:
        obs, self.observer = self.observer, None
        if obs is not None:
            try:
                obs.stop()
                obs.join(timeout=2)
            except Exception:  # noqa: BLE001
                pass

    @property
    def alive(self) -> bool:
        if self.polling:
            return True  # our own scan loop: errors are retried, it never dies
        obs = self.observer
        if obs is None or not obs.is_alive():
            return False
        try:
            return all(e.is_alive() for e in obs.emitters)
        except Exception:  # noqa: BLE001
            return False

    def supervise(self, now: float) -> bool:
        """Restart a dead observer (and rescan). Returns True if restarted."""
        if self.polling or self.alive or now < self.next_restart:
            return False
        self.stop()
        try:
            self._start_observer()
        except Exception as exc:  # noqa: BLE001 - e.g. the folder is gone for now
            self.last_error = f"watcher restart failed: {exc}"
            self.next_restart = now + min(2 ** min(self.restarts, 6), 60)
            self.restarts += 1
            self.log.error("watcher_failed", error=str(exc), retry_in=round(self.next_restart - now, 1))
            return False
        self.restarts += 1
        self.log.warning("watcher_restarted", restarts=self.restarts)
        self.next_scan = now  # events may have been missed
        return True

    # -- scanning ----------------------------------------------------------------
    def scan_due(self, now: float) -> bool:
        return now >= self.next_scan

    def scan(self, now: float, start: Path | None = None) -> ScanResult:
        """Full scan (or of sub-folder ``start``); schedules the next one,
        counted from when this one ended."""
        res = scan_tree(self.root, self.filter, start)
        if self.clock is not None:
            now = max(now, self.clock())
        if start is None:
            if res.errors:
                self.scan_failures += 1
                self.last_error = res.errors[0]
                delay = min(self.poll_interval * 2 ** min(self.scan_failures, 6), 60.0)
                self.log.error("scan_failed", error=res.errors[0], retry_in=round(delay, 1),
                               failures=self.scan_failures)
                self.next_scan = now + delay
            else:
                if self.scan_failures:
                    self.log.info("scan_recovered", after_failures=self.scan_failures)
                    self.last_error = None
                    res.recovered = True
                self.scan_failures = 0
                self.next_scan = now + (self.poll_interval if self.polling else self.rescan_interval)
        for p, why in res.ignored:
            if p not in self._ignored_logged:
                if len(self._ignored_logged) > 100_000:
                    self._ignored_logged.clear()
                self._ignored_logged.add(p)
                self.log.info(log.IGNORED, path=str(p), reason=why)
        return res
