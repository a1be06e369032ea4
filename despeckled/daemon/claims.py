"""Leased claims: several daemons (on one host or many) share one inbox.

The shared filesystem is the only coordinator, as in Maildir and NFS mail
spools: no lock server, no broker. Three rules make each file be worked on by
exactly one daemon at a time:

**Reserve.** Before a daemon decodes a settled file it creates the file's
claim folder ``<input>/.despeckled/work/<key>/`` with ``mkdir``, which is
atomic and exclusive on every filesystem, NFS and SMB included (``EEXIST``
for the loser). ``key`` comes from the file's relative path and its
``(size, mtime, inode)``, so every host that sees the same settled file
computes the same key (:func:`reservation_key`), and a new file reusing an
old name gets its own. The folder then receives a :data:`LEASE` record
naming the holder. The claim itself (inbox -> work folder) stays a plain
``rename`` of the inbox file, so even two daemons that both reached it (hosts
that see different inode numbers) cannot both take it: the source is gone for
the second.

**Renew.** The holder's main loop touches the lease (``futimens``, which
sets the *server's* time on NFS/SMB) every quarter of
``claim_lease_seconds`` for every claim it holds, in flight or waiting.

**Take over.** Other daemons never compare a lease's mtime with their own
wall clock (hosts and NAS disagree about the time). Each one notes, on its
*own monotonic clock*, when it first saw the lease's current
``(mtime, ctime, size, inode)``; a lease unchanged for ``claim_lease_seconds``
has expired. The holder's own host knows more: same ``boot_id`` and a pid
that is gone (or reused by another process: the start time differs) means
the holder is dead, and the claim is taken over at once. A takeover renames
the whole claim folder to a fresh name (``os.rename`` of a folder: exactly
one daemon wins, the others get ``ENOENT``), writes its own lease inside and
carries the claim on from its manifest. An old holder that was only slow
finds its paths gone and stops.

A claim folder without a lease (created just now, or by a version before
leases) is judged by the folder's own stat signature, the same way.

Everything here is small and synchronous; the service calls
:meth:`ClaimScanner.step` and :meth:`Holder.renew` from its ``step(now)``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from despeckled.io.fsutil import fsync_dir, replace_atomic

#: The lease record inside a claim folder.
LEASE = "lease.json"
#: A holder renews its leases this often, as a fraction of the lease.
RENEW_FRACTION = 0.25

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's random id (``""`` where the kernel doesn't say)."""
    try:
        return BOOT_ID_PATH.read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks after boot (``/proc/PID/stat``
    field 22); ``None`` when there is no such process.

    >>> process_start(os.getpid()) == process_start(os.getpid()) != None
    True
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    try:
        # the command name (field 2) may hold spaces and parentheses
        return int(raw[raw.rindex(b")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def reservation_key(rel: str, sig: tuple[int, int, int]) -> str:
    """The claim folder name every host computes for the settled file
    ``rel`` with ``(size, mtime_ns, inode)`` = ``sig``.

    >>> reservation_key("a/scan.png", (10, 20, 30)) == reservation_key("a/scan.png", (10, 20, 30))
    True
    >>> reservation_key("a/scan.png", (10, 20, 30)) != reservation_key("a/scan.png", (10, 21, 30))
    True
    """
    digest = hashlib.sha256(f"{rel}\0{sig[0]}\0{sig[1]}\0{sig[2]}".encode("utf-8", "surrogateescape")).hexdigest()
    return f"f-{digest[:24]}"


def new_claim_id() -> str:
    """A fresh claim folder name (takeovers, claims without a settled file)."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Holder:
    """Who holds a claim: one daemon run on one host."""

    host: str
    pid: int
    boot_id: str
    #: the holder process's start (clock ticks after boot): a reused pid differs
    proc_start: int | None
    #: random per daemon run
    instance: str = field(default_factory=lambda: secrets.token_hex(8))

    @classmethod
    def me(cls) -> Holder:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, boot_id(), process_start(pid))

    def record(self, lease_seconds: float) -> dict[str, Any]:
        return {**asdict(self), "lease_seconds": lease_seconds, "started_at": time.time()}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Holder | None:
        try:
            return cls(str(rec["host"]), int(rec["pid"]), str(rec["boot_id"]),
                       None if rec.get("proc_start") is None else int(rec["proc_start"]), str(rec["instance"]))
        except (KeyError, TypeError, ValueError):
            return None

    def dead_seen_from(self, local: Holder) -> bool:
        """True when ``local`` (a process on some host) can tell that this
        holder is dead: same host, same boot, and its pid is gone or now
        belongs to a process that started at another time."""
        if self.host != local.host or not self.boot_id or self.boot_id != local.boot_id:
            return False
        if self.instance == local.instance:
            return False
        try:
            os.kill(self.pid, 0)  # not affected by a /proc that hides other users' processes
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, another user's
        except (OverflowError, ValueError):
            return True
        started = process_start(self.pid)
        # a pid we cannot see in /proc (ProtectProc=invisible) counts as alive: wait for its lease
        return started is not None and self.proc_start is not None and started != self.proc_start

    # -- a holder's own leases
    def write_lease(self, claim_dir: Path, lease_seconds: float) -> None:
        """Put this holder's lease into ``claim_dir`` (which it already owns:
        it created or renamed the folder)."""
        replace_atomic(claim_dir / LEASE, json.dumps(self.record(lease_seconds), indent=1).encode())

    def renew(self, claim_dir: Path) -> bool:
        """Touch the lease in ``claim_dir``. False when it is not ours any
        more (taken over, or finished and gone)."""
        try:
            fd = os.open(claim_dir / LEASE, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            with os.fdopen(os.dup(fd), "rb") as f:
                rec = json.loads(f.read() or b"{}")
            if not isinstance(rec, dict) or rec.get("instance") != self.instance:
                return False
            os.utime(fd)  # futimens(UTIME_NOW): the server's clock on NFS/SMB
            return True
        except ValueError:
            return False
        finally:
            os.close(fd)


def read_lease(claim_dir: Path) -> dict[str, Any] | None:
    try:
        rec = json.loads((claim_dir / LEASE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return rec if isinstance(rec, dict) else None


def _signature(claim_dir: Path) -> tuple[int, ...] | None:
    """What changes when a lease is renewed: the lease file's stat, or the
    folder's own when there is no lease yet. ``None``: the folder is gone."""
    for p in (claim_dir / LEASE, claim_dir):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            continue
        return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    return None


def reserve(work_root: Path, key: str, holder: Holder, lease_seconds: float) -> Path | None:
    """Create the claim folder ``work_root/key`` with our lease in it.
    ``None`` when another daemon (or an earlier try of ours) has it."""
    d = work_root / key
    try:
        d.mkdir(parents=False)
        holder.write_lease(d, lease_seconds)
    except (FileExistsError, FileNotFoundError):
        return None  # taken, or taken over the instant after (never ours to hold)
    return d


def release(claim_dir: Path) -> None:
    """Give back a reservation that never became a claim (no manifest):
    remove the lease and the empty folder. A folder holding anything else
    is left alone."""
    if (claim_dir / "manifest.json").exists():
        return
    with contextlib.suppress(FileNotFoundError):
        (claim_dir / LEASE).unlink()
    with contextlib.suppress(OSError):
        claim_dir.rmdir()


def take_over(work_root: Path, claim_id: str, holder: Holder, lease_seconds: float) -> str | None:
    """Rename the claim folder to a fresh name and put our lease in it.
    Returns the new claim id, or ``None`` when another daemon won (or the
    claim finished meanwhile)."""
    new_id = new_claim_id()
    try:
        os.rename(work_root / claim_id, work_root / new_id)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY):
            return None
        raise
    fsync_dir(work_root)
    try:
        holder.write_lease(work_root / new_id, lease_seconds)
    except FileNotFoundError:
        # some SMB clients report a rename that lost the race as done: the
        # folder is not where we put it, so it is not ours
        return None
    return new_id


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass
class Verdict:
    """What :meth:`ClaimScanner.step` found for one claim folder."""

    claim_id: str
    #: ``mine`` (our lease, no live job of ours has it), ``dead`` (holder
    #: known dead), ``expired`` (not renewed for a lease)
    why: str
    holder: dict[str, Any] | None = None


class ClaimScanner:
    """Finds claim folders in one watch's work folder that need a daemon.

    ``step(now, held)`` lists the folder (at most every ``interval`` seconds of
    the caller's monotonic clock) and returns a :class:`Verdict` for each
    claim that is ours but held by none of our live jobs (``held``: the claim
    ids this daemon has in flight or queued), whose holder is dead, or whose
    lease expired. The caller takes over the others' (:func:`take_over`) and
    resumes all of them.
    """

    def __init__(self, work_root: Path, holder: Holder, lease_seconds: float, interval: float | None = None) -> None:
        self.work_root = Path(work_root)
        self.holder = holder
        self.lease = lease_seconds
        self.interval = lease_seconds * RENEW_FRACTION if interval is None else interval
        self._seen: dict[str, tuple[tuple[int, ...], float]] = {}
        self._next = float("-inf")

    def step(self, now: float, held: set[str] | frozenset[str]) -> list[Verdict]:
        if now < self._next:
            return []
        self._next = now + self.interval
        try:
            names = [p.name for p in self.work_root.iterdir() if p.is_dir() and not p.is_symlink()]
        except FileNotFoundError:
            return []
        out = []
        for cid in names:
            v = self._judge(cid, now, held)
            if v is not None:
                out.append(v)
        for gone in set(self._seen) - set(names):
            del self._seen[gone]
        return out

    def _judge(self, cid: str, now: float, held: set[str] | frozenset[str]) -> Verdict | None:
        d = self.work_root / cid
        if cid in held:
            self._seen.pop(cid, None)
            return None
        rec = read_lease(d)
        other = Holder.from_record(rec) if rec else None
        if other is not None and other.instance == self.holder.instance:
            return Verdict(cid, "mine", rec)
        if other is not None and other.dead_seen_from(self.holder):
            return Verdict(cid, "dead", rec)
        sig = _signature(d)
        if sig is None:
            self._seen.pop(cid, None)
            return None
        seen = self._seen.get(cid)
        if seen is None or seen[0] != sig:
            self._seen[cid] = (sig, now)
            return None
        lease = max(self.lease, _number(rec.get("lease_seconds")) if rec else 0.0)
        if now - seen[1] >= lease:
            return Verdict(cid, "expired", rec)
        return None

    def forget(self, claim_id: str) -> None:
        self._seen.pop(claim_id, None)
