"""Is a file finished? Settle tracking with an injected clock.

The watcher only *proposes* paths. :class:`SettleTracker` decides when a path
has been quiet long enough: its size, mtime and inode unchanged across
``settle_seconds`` of observation. (The file's own mtime is not compared with
our clock: a NAS clock may be off by minutes.) Decoding every page is the
second half of readiness; it happens in a worker before the claim
(:func:`despeckled.daemon.lifecycle.process_new`), which reports ``not_ready`` for
a truncated or changed file: :meth:`SettleTracker.wait` puts it back to
wait again.

A path that has not become ready ``stuck_after`` seconds after it was first
seen is reported stuck by :meth:`poll` (once, then again every
``stuck_after``); it is never dropped. For a settled file that still decodes
as truncated, :meth:`SettleTracker.truncated` keeps the facts (since when,
how often); :func:`despeckled.daemon.policy.decide` decides when to decode it
again and when it is broken for good. The tracker decides nothing about a
file's fate.

Everything takes ``now`` (a monotonic time in seconds) from the caller, so
tests drive it step by step without sleeping.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); f = d / "a.png"; _ = f.write_bytes(b"x")
>>> t = SettleTracker(settle_seconds=5, stuck_after=60)
>>> t.propose(f, now=0.0)
True
>>> t.poll(now=0.0).ready      # first look: remember size, mtime, inode
[]
>>> t.poll(now=4.9).ready
[]
>>> [c.path.name for c in t.poll(now=5.0).ready]
['a.png']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Candidate:
    path: Path
    first_seen: float
    stable_since: float
    sig: tuple[int, int, int] | None = None
    next_check: float = 0.0
    handed_out: bool = False
    truncated_since: float | None = None
    stuck_reported: float | None = None
    crashes: int = 0
    detected_logged: bool = False
    truncated_checks: int = 0

    @property
    def size(self) -> int:
        return self.sig[0] if self.sig else 0


@dataclass
class PollResult:
    ready: list[Candidate] = field(default_factory=list)
    stuck: list[Candidate] = field(default_factory=list)
    vanished: list[Path] = field(default_factory=list)
    detected: list[Candidate] = field(default_factory=list)


def _sig(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class SettleTracker:
    """Tracks proposed paths until they are settled, for one watch."""

    def __init__(self, settle_seconds: float, stuck_after: float, recheck_seconds: float | None = None) -> None:
        self.settle = float(settle_seconds)
        self.stuck_after = float(stuck_after)
        # how often a settled-but-truncated file is decoded again
        self.recheck = recheck_seconds if recheck_seconds is not None else max(self.settle, 0.5)
        self.items: dict[Path, Candidate] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, path: object) -> bool:
        return path in self.items

    def propose(self, path: Path, now: float, st: os.stat_result | None = None) -> bool:
        """A hint that ``path`` exists or changed. Returns True if it is new."""
        c = self.items.get(path)
        if c is None:
            c = Candidate(path, first_seen=now, stable_since=now, next_check=now)
            if st is not None:
                c.sig = _sig(st)
                c.next_check = now + self.settle
            self.items[path] = c
            return True
        if not c.handed_out:
            c.next_check = min(c.next_check, now)  # look again soon
        return False

    def pending(self) -> list[Candidate]:
        return [c for c in self.items.values() if not c.handed_out]

    def oldest_age(self, now: float) -> float:
        return max((now - c.first_seen for c in self.items.values()), default=0.0)

    def poll(self, now: float, limit: int | None = None) -> PollResult:
        """Stat the candidates that are due; return the newly settled ones
        (at most ``limit``: backpressure), the stuck ones and the vanished."""
        res = PollResult()
        for c in list(self.items.values()):
            if c.handed_out:
                continue
            if c.next_check > now:
                self._check_stuck(c, now, res)
                continue
            try:
                st = os.lstat(c.path)
            except FileNotFoundError:
                del self.items[c.path]
                res.vanished.append(c.path)
                continue
            except OSError:
                c.next_check = now + max(self.settle, 0.5)  # share blip: try later
                continue
            sig = _sig(st)
            if not c.detected_logged:
                c.detected_logged = True
                res.detected.append(c)
            if sig != c.sig:
                c.sig = sig
                c.stable_since = now
                c.truncated_since = None
                c.next_check = now + self.settle
                self._check_stuck(c, now, res)
                continue
            if now - c.stable_since >= self.settle:
                if limit is not None and len(res.ready) >= limit:
                    c.next_check = now  # ready, but no room: next poll
                    continue
                c.handed_out = True
                res.ready.append(c)
            else:
                c.next_check = c.stable_since + self.settle
                self._check_stuck(c, now, res)
        return res

    def _check_stuck(self, c: Candidate, now: float, res: PollResult) -> None:
        if now - c.first_seen < self.stuck_after:
            return
        if c.stuck_reported is None or now - c.stuck_reported >= self.stuck_after:
            c.stuck_reported = now
            res.stuck.append(c)

    def stuck(self, now: float) -> list[Candidate]:
        return [c for c in self.items.values() if not c.handed_out and now - c.first_seen >= self.stuck_after]

    def truncated(self, path: Path, now: float) -> tuple[float, int]:
        """The worker found ``path`` settled but truncated: record it, and
        return how long it has been so (seconds) and how often it was found
        so. Any change to the file resets both (see :meth:`poll`)."""
        c = self._candidate(path, now)
        if c.truncated_since is None:
            c.truncated_since = now
            c.truncated_checks = 0
        c.truncated_checks += 1
        return now - c.truncated_since, c.truncated_checks

    def wait(self, path: Path, now: float, recheck_in: float | None = None) -> None:
        """Put ``path`` back to wait: settle again from scratch
        (``recheck_in`` None: it changed, or a blip), or, unchanged, look
        at it again in ``recheck_in`` seconds."""
        c = self._candidate(path, now)
        c.handed_out = False
        if recheck_in is None:
            c.sig = None
            c.stable_since = now
            c.next_check = now
        else:
            c.next_check = now + recheck_in

    def _candidate(self, path: Path, now: float) -> Candidate:
        c = self.items.get(path)
        if c is None:
            c = self.items[path] = Candidate(path, first_seen=now, stable_since=now)
        return c

    def release(self, path: Path) -> None:
        """The file was claimed (or is gone): stop tracking it."""
        self.items.pop(path, None)


# --------------------------------------------------------------------------
# Filed originals: still being written into?


@dataclass
class Filed:
    """An original that was filed (archived), watched a while longer: some
    scanners append pages into one open file and pause between pages, so
    a file may settle, be cleaned and archived, and then grow."""

    watch: str
    path: Path
    rel: str
    output: str
    output_sig: tuple | None
    decoded: tuple  # (size, mtime_ns) of what was cleaned
    sig: tuple = ()  # (size, mtime_ns) last seen
    stable_since: float = 0.0
    until: float = 0.0
    changed: bool = False
    busy: bool = False
    next_check: float = 0.0


class FiledTracker:
    """Watches archived originals for ``window`` seconds after their last
    change. A change is reported once (``changed``); once the file has been
    unchanged for the watch's settle time it is ``due`` to be cleaned again.
    Everything takes ``now`` from the caller.

    >>> import tempfile, pathlib, os
    >>> d = pathlib.Path(tempfile.mkdtemp()); f = d / "a.tif"; _ = f.write_bytes(b"x")
    >>> st = os.stat(f)
    >>> t = FiledTracker(window=30)
    >>> t.add(Filed("w", f, "a.tif", "out/a.tif", None, (st.st_size, st.st_mtime_ns)), now=0.0)
    >>> t.poll(1.0, settle=lambda e: 2.0)
    ([], [])
    >>> _ = f.write_bytes(b"xy")          # the scanner writes on into the filed file
    >>> [e.path.name for e in t.poll(2.0, settle=lambda e: 2.0)[0]]
    ['a.tif']
    >>> [e.path.name for e in t.poll(4.0, settle=lambda e: 2.0)[1]]
    ['a.tif']
    >>> len(t), len(t.poll(40.0, settle=lambda e: 2.0)[1])   # in hand (busy) until cleaned again
    (1, 0)
    """

    def __init__(self, window: float, interval: float = 0.5) -> None:
        self.window = float(window)
        self.interval = float(interval)
        self.items: dict[Path, Filed] = {}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, f: Filed, now: float) -> None:
        f.sig, f.stable_since, f.until, f.next_check = f.decoded, now, now + self.window, now
        self.items[f.path] = f

    def get(self, path: Path) -> Filed | None:
        return self.items.get(path)

    def drop(self, f: Filed) -> None:
        self.items.pop(f.path, None)

    def poll(self, now: float, settle) -> tuple[list[Filed], list[Filed]]:
        """``(newly changed, due to be cleaned again)``; ``settle(f)`` is the
        settle time of ``f``'s watch."""
        changed: list[Filed] = []
        due: list[Filed] = []
        for f in list(self.items.values()):
            if f.busy or now < f.next_check:
                continue
            f.next_check = now + min(self.interval, max(settle(f) / 2, 0.05))
            try:
                st = os.stat(f.path)
            except FileNotFoundError:
                self.drop(f)  # moved on by someone: not ours to watch
                continue
            except OSError:
                continue  # a share blip: look again
            sig = (st.st_size, st.st_mtime_ns)
            if sig != f.sig:
                f.sig, f.stable_since, f.until = sig, now, now + self.window
                if not f.changed:
                    f.changed = True
                    changed.append(f)
            elif f.changed and now - f.stable_since >= settle(f):
                f.busy = True
                due.append(f)
            elif not f.changed and now >= f.until:
                self.drop(f)
        return changed, due

    def cleaned(self, f: Filed, now: float, output: str, output_sig: tuple | None, decoded: tuple) -> None:
        """Cleaned again from ``decoded``; keep watching for another window."""
        f.output, f.output_sig, f.decoded, f.sig = output, output_sig, decoded, decoded
        f.changed = f.busy = False
        f.stable_since, f.until, f.next_check = now, now + self.window, now

    def again(self, f: Filed, now: float) -> None:
        """It changed while being cleaned (or could not be now): wait again."""
        f.busy = False
        f.changed = True
        f.stable_since = now
