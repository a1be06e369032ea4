"""The daemon's state file: what ``despeckled status`` reads.

A small JSON document the daemon rewrites atomically (temp, fsync, rename via
:func:`despeckled.io.fsutil.replace_atomic`) about once a second. Where it lives,
first match wins:

1. an explicit path (``despeckled status --state FILE``, tests);
2. ``daemon.state_file`` in the config (explicit configuration wins over the
   environment, so ``run`` and ``status`` agree even outside systemd);
3. ``$RUNTIME_DIRECTORY/state.json`` (systemd ``RuntimeDirectory=despeckled``);
4. ``/run/despeckled/state.json`` when that folder exists or can be created;
5. ``$XDG_RUNTIME_DIR/despeckled/state.json``;
6. ``<tmp>/despeckled-<uid>/state.json``.

``status`` without an explicit path tries the same candidates in order and
reads the first that exists.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from despeckled.io.fsutil import replace_atomic

STATE_NAME = "state.json"


def candidates(config_path: Path | None = None) -> list[Path]:
    """The possible state file locations, in order of preference."""
    out: list[Path] = []
    if config_path is not None:
        out.append(Path(config_path))
    runtime = os.environ.get("RUNTIME_DIRECTORY")
    if runtime:
        out.append(Path(runtime.split(":")[0]) / STATE_NAME)
    out.append(Path("/run/despeckled") / STATE_NAME)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        out.append(Path(xdg) / "despeckled" / STATE_NAME)
    out.append(Path(tempfile.gettempdir()) / f"despeckled-{os.getuid()}" / STATE_NAME)
    return out


def choose_path(explicit: Path | None = None, config_path: Path | None = None) -> Path:
    """Where the daemon writes: the first candidate whose folder is writable."""
    if explicit is not None:
        return Path(explicit)
    cands = candidates(config_path)
    for i, p in enumerate(cands):
        if i == 0 and config_path is not None:
            return p  # configured: use it, and fail loudly later if unwritable
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(p.parent, os.W_OK | os.X_OK):
            return p
    return cands[-1]


def find_existing(explicit: Path | None = None, config_path: Path | None = None) -> Path | None:
    """Where ``status`` reads: the first candidate that exists."""
    if explicit is not None:
        return Path(explicit) if Path(explicit).exists() else None
    for p in candidates(config_path):
        if p.exists():
            return p
    return None


class StateFile:
    """Writes the daemon's state; removes it on a clean stop.

    :meth:`lock` makes it this daemon's own: daemons may share an inbox (see
    :mod:`despeckled.daemon.claims`), but two on one machine must not
    overwrite each other's state file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def lock(self) -> None:
        """Take ``STATE.lock`` (``flock``, released when the process dies).
        Raises :class:`DespeckledError` when a running daemon holds it."""
        from despeckled.errors import DespeckledError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            try:
                pid = read(self.path).get("pid")
            except (OSError, ValueError):
                pid = None
            raise DespeckledError(
                f"another despeckled{f' (pid {pid})' if pid else ''} uses the state file {self.path}: give each "
                "instance on this machine its own daemon.state_file, or run them as despeckled@NAME"
            ) from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def write(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = {**state, "pid": os.getpid(), "updated_at": time.time()}
        replace_atomic(self.path, json.dumps(state, indent=1, default=str).encode())

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists (EPERM still means it exists).

    >>> pid_alive(os.getpid()), pid_alive(0x7FFFFFF0)
    (True, False)
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True
