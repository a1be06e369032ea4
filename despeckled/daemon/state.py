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
    """Writes the daemon's state; removes it on a clean stop."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

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
