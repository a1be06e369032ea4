"""The real daemon as a subprocess on tmp_path folders.

Waits are conditions with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from despeckled.io.fsutil import TEMP_MARKER
from tests.waiting import wait_for  # noqa: F401 (re-exported for the tests)




def png_bytes(seed: int, size: tuple[int, int] = (40, 56)) -> bytes:
    """A tiny unique page: a text-like bar and a few specks."""
    rng = np.random.default_rng(seed)
    img = np.full(size, 255, np.uint8)
    img[16:22, 6:50] = 0
    img[rng.integers(0, size[0], 5), rng.integers(0, size[1], 5)] = 0
    img[0, :8] = np.frombuffer(int(seed).to_bytes(8, "little"), np.uint8) | 1  # unique bytes per seed
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def walk(root: Path, include_hidden: bool = False) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if not include_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for n in filenames:
            p = Path(dirpath) / n
            out.append(p)
    return sorted(out)


class Daemon:
    """``despeckled run`` in a subprocess with its own config and folders."""

    def __init__(self, tmp_path: Path, *, settle: float = 0.3, poll: float = 0.25, polling: str | bool = "auto",
                 workers: int = 2, stuck_after: float = 30.0, file_timeout: float = 30.0, daemon_extra: str = "", watch_extra: str = "",
                 notify_socket: str | None = None, name: str = "w", root: Path | None = None,
                 make_folders: bool = True) -> None:
        self.tmp = tmp_path
        self.root = root if root is not None else tmp_path / name  # the four folders (a share's, say)
        self.inbox, self.clean = self.root / "inbox", self.root / "clean"
        self.archive, self.failed = self.root / "archive", self.root / "failed"
        for p in (self.inbox, self.clean, self.archive, self.failed) if make_folders else ():
            p.mkdir(parents=True, exist_ok=True)  # as an admin does: the daemon creates none of them
        self.config = tmp_path / f"{name}.toml"
        self.state = tmp_path / f"{name}.state.json"
        self.logfile = tmp_path / f"{name}.log"
        self.notify_socket = notify_socket
        pol = json.dumps(polling) if isinstance(polling, bool) else f'"{polling}"'
        self.write_config(f"""
[daemon]
workers = {workers}
settle_seconds = {settle}
poll_interval_seconds = {poll}
rescan_interval_seconds = 2.0
stuck_after_seconds = {stuck_after}
file_timeout_seconds = {file_timeout}
stop_timeout_seconds = 15
{daemon_extra}

[[watch]]
input = "{self.inbox}"
output = "{self.clean}"
archive = "{self.archive}"
failed = "{self.failed}"
polling = {pol}
{watch_extra}
""")
        self.proc: subprocess.Popen | None = None
        self.env_extra: dict[str, str] = {}
        #: run the daemon through this (e.g. ``unshare`` for another hostname)
        self.prefix: list[str] = []

    def write_config(self, text: str) -> None:
        self.config.write_text(text)

    def start(self, wait_ready: bool = True) -> Daemon:
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        if self.notify_socket:
            env["NOTIFY_SOCKET"] = self.notify_socket
        env.update(self.env_extra)
        self._logf = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "despeckled", "run", "--config", str(self.config),
             "--state", str(self.state)],
            stdout=self._logf, stderr=subprocess.STDOUT, env=env, cwd=self.tmp,
        )
        if wait_ready:
            wait_for(lambda: self.has_event("ready") or self.proc.poll() is not None, 30, what="daemon ready")
            assert self.proc.poll() is None, self.log_text()
        return self

    def log_text(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def events(self) -> list[dict]:
        out = []
        for line in self.log_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def has_event(self, name: str, **match) -> bool:
        return any(e.get("event") == name and all(e.get(k) == v for k, v in match.items()) for e in self.events())

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self._logf.close()
        return rc

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._logf.close()

    # -- dropping files -------------------------------------------------
    def drop(self, name: str, data: bytes) -> Path:
        """Write like a well-behaved scanner: temp name, then rename."""
        dest = self.inbox / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        tmp.write_bytes(data)
        os.rename(tmp, dest)
        return dest

    # -- observing the result -------------------------------------------
    def visible(self, root: Path) -> list[Path]:
        return walk(root)

    def finished(self) -> int:
        """Files archived or failed (sidecars not counted)."""
        return len(self.visible(self.archive)) + len([p for p in self.visible(self.failed)
                                                     if not p.name.endswith(".error.json")])

    def wait_finished(self, n: int, timeout: float = 60) -> None:
        work = self.inbox / ".despeckled" / "work"

        def done() -> bool:
            return self.finished() >= n and not (work.exists() and any(work.iterdir()))

        wait_for(done, timeout, what=f"{n} files archived or failed (now {self.finished()})")

    def claimed_originals(self) -> list[Path]:
        """Originals sitting in the work folder (claimed when the daemon died)."""
        work = self.inbox / ".despeckled" / "work"
        return [p for p in walk(work, include_hidden=True)
                if p.name not in ("manifest.json", "lease.json") and TEMP_MARKER not in p.name] if work.exists() else []

    def check_invariants(self, dropped: dict[str, bytes], *, all_done: bool = True, settle: float = 0.0) -> None:
        """Every original archived or failed exactly once (by content hash),
        every success with exactly one complete output, no temp file or
        duplicate anywhere. With ``all_done=False`` (right after a kill -9)
        originals may also still be in the inbox or claimed in the work
        folder, and temp files may wait for the restart's recovery.

        ``settle``: while another daemon still works, the folders are read
        one after another, not at one instant, so a file moved between two
        reads is seen in neither or in both. The check is then repeated for
        up to ``settle`` seconds and fails only when no attempt passes: a
        real loss or double stays (the survivor takes a dead daemon's claims
        over only when their lease has run out)."""
        deadline = time.monotonic() + settle
        while True:
            try:
                self._check_invariants(dropped, all_done=all_done)
                return
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def _check_invariants(self, dropped: dict[str, bytes], *, all_done: bool) -> None:
        want = sorted(sha(b) for b in dropped.values())
        archived = [sha(p.read_bytes()) for p in self.visible(self.archive)]
        failed = [sha(p.read_bytes()) for p in self.visible(self.failed) if not p.name.endswith(".error.json")]
        remaining = [sha(p.read_bytes()) for p in self.visible(self.inbox) + self.claimed_originals()]
        got = sorted(archived + failed + ([] if all_done else remaining))
        assert got == want, f"archived {len(archived)}, failed {len(failed)}, inbox {len(remaining)}, dropped {len(want)}"
        outputs = self.visible(self.clean)
        names_out = sorted(p.name for p in outputs)
        names_arch = sorted(p.name for p in self.visible(self.archive))
        assert len(set(names_out)) == len(names_out)
        for p in outputs:
            assert cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None, f"incomplete output {p}"
        if not all_done:
            claimed = {p.name for p in self.claimed_originals()}
            assert set(names_out) <= set(names_arch) | claimed, set(names_out) - set(names_arch) - claimed
            return
        assert remaining == []
        assert names_out == names_arch
        for root in (self.inbox, self.clean, self.archive, self.failed):
            temps = [p for p in walk(root, include_hidden=True) if TEMP_MARKER in p.name]
            assert temps == [], temps
        work = self.inbox / ".despeckled" / "work"
        assert not work.exists() or list(work.iterdir()) == []
        staging = self.clean / ".despeckled" / "staging"
        assert not staging.exists() or list(staging.iterdir()) == []


def recv_until(sock: socket.socket, needle: str, timeout: float = 30) -> list[str]:
    msgs: list[str] = []

    def got():
        try:
            msgs.append(sock.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            pass
        return any(needle in m.splitlines() for m in msgs)

    wait_for(got, timeout, interval=0, what=needle)
    return msgs


@pytest.fixture
def make_daemon(tmp_path):
    daemons: list[Daemon] = []

    def make(**kw) -> Daemon:
        d = Daemon(tmp_path, **kw)
        daemons.append(d)
        return d

    yield make
    for d in daemons:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify.sock"
    if len(str(path)) > 100:
        path = Path("/tmp") / f"despeckled-notify-{os.getpid()}-{time.monotonic_ns()}.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(0.1)
    yield s, str(path)
    s.close()
    path.unlink(missing_ok=True)


