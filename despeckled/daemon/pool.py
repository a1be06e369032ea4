"""A small bounded pool of worker *processes*, one job each at a time.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot kill one
worker that hangs in a decoder (a per-file timeout needs exactly that), and
one crashed worker (a segfault in a codec) breaks the whole executor. Here
each worker has its own pipe; the service can kill and replace a single
worker, and a crash costs only that job (which the service resumes, counting
the crash in the job's manifest so a poison file is failed, not looped).

The daemon's workers are fresh interpreters (``python -m despeckled.daemon.pool``;
the daemon has watchdog threads, and fork would copy their locks). ``despeckled
clean`` (one thread, its engine already imported) forks them instead
(``fork=True``): a forked worker is ready at once. Workers ignore
SIGINT/SIGTERM (the parent decides when they stop) and die with the parent
(``PR_SET_PDEATHSIG``), so a ``kill -9`` of the daemon never leaves an orphan
worker racing the next start. A worker is replaced after ``max_jobs`` jobs to
keep memory flat. What a worker does with a job is its ``runner``
(``module:function``, called as ``runner(job, logger)``): the daemon's is
:func:`despeckled.daemon.lifecycle.run_job`.
"""

from __future__ import annotations

import importlib
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from despeckled.daemon.policy import TimedOut, WorkerCrashed
from despeckled.io.fsutil import load_libc

_PR_SET_PDEATHSIG = 1
#: A worker's first message: its imports are done and it can take a job.
READY = "ready"
#: A worker with no next job this long after its last one gives its freed
#: memory back to the OS (see :func:`_trim_memory`).
IDLE_TRIM_SECONDS = 0.2
#: The daemon's runner: one file's whole life.
LIFECYCLE = "despeckled.daemon.lifecycle:run_job"


def _die_with_parent(parent_pid: int) -> None:
    try:
        libc = load_libc()
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(1)


def _trim_memory():
    """``malloc_trim(0)`` when a worker goes idle: page buffers (tens of MB)
    freed by the last file go back to the OS, so an idle worker's RSS falls back
    (about 120 -> 75 MB on an A4 300-dpi page) while buffers are still reused
    from the heap during a file (a fixed mmap threshold would page-fault them
    in fresh every time: ~10% slower)."""
    try:
        trim = load_libc().malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


def _worker_main(conn, parent_pid: int, log_json: bool | None, log_level: str | None,
                 runner: str = LIFECYCLE) -> None:
    """A worker's loop: receive a job, run it, send its outcome; ``None`` stops.
    ``log_level`` None keeps the logging set up as it is (a forked worker)."""
    _die_with_parent(parent_pid)
    trim = _trim_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    import cv2

    from despeckled import log

    cv2.setNumThreads(1)  # one file per worker per core; OpenCV threads would fight the other workers

    module, _, name = runner.partition(":")
    run = getattr(importlib.import_module(module), name)
    if log_level is not None:
        log.configure_logging(json=log_json, level=log_level)
    logger = log.get_logger("worker", worker_pid=os.getpid())
    try:
        conn.send(READY)  # imports done: the per-file clock may start now
    except OSError:
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        outcome = run(job, logger)
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return
        # Only an idle worker trims: in a burst the next file reuses the
        # freed buffers from the heap, where trimming after every file made
        # each next one fault them back in.
        try:
            busy = conn.poll(IDLE_TRIM_SECONDS)
        except (EOFError, OSError):
            return
        if not busy:
            trim()


class _Worker:
    """A worker process started with ``subprocess`` (not ``multiprocessing``:
    no extra resource-tracker process, nothing inherited but one socket)."""

    def __init__(self, log_json: bool | None, log_level: str, runner: str = LIFECYCLE) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "despeckled.daemon.pool", str(child.fileno()), str(os.getpid()),
                 {None: "auto", True: "json", False: "console"}[log_json], log_level, runner],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, close_fds=True,
            )
        finally:
            child.close()
        self.conn = multiprocessing.connection.Connection(parent.detach())
        self.pid = self.proc.pid

    def is_alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def join(self, timeout: float | None = None) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


class _ForkedProcess:
    """The ``Popen`` calls :class:`_Worker` makes, for a forked child."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.005)
        return self.returncode


class _ForkedWorker(_Worker):
    """A worker forked from this process: it starts with everything the
    parent imported (no second start-up), so only a single-threaded parent
    may use it (``despeckled clean``; never the daemon)."""

    def __init__(self, log_json: bool | None, log_level: str | None, runner: str = LIFECYCLE) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        parent_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                parent.close()
                _worker_main(multiprocessing.connection.Connection(child.detach()), parent_pid, log_json,
                             log_level, runner)
            except BaseException:  # noqa: BLE001 - a worker never returns into the parent's code
                code = 1
            finally:
                os._exit(code)
        child.close()
        self.proc = _ForkedProcess(pid)  # type: ignore[assignment]
        self.conn = multiprocessing.connection.Connection(parent.detach())
        self.pid = pid


@dataclass
class Slot:
    proc: _Worker
    job: Any = None
    started: float = 0.0
    jobs_done: int = 0
    ready: bool = False

    @property
    def conn(self):
        return self.proc.conn


class WorkerPool:
    """``submit(job)`` to an idle worker; ``collect(timeout)`` and
    ``kill_overdue(seconds)`` return ``(job, outcome_or_None, lost)`` for
    finished jobs, where an outcome of ``None`` means the worker is gone and
    ``lost`` says how: :class:`~despeckled.daemon.policy.WorkerCrashed` or
    :class:`~despeckled.daemon.policy.TimedOut` (a type, not a wording).
    Every time (a job's start, overdue checks) comes from ``clock``."""

    def __init__(self, size: int, *, log_json: bool | None = None, log_level: str | None = "info",
                 max_jobs: int = 500, clock=time.monotonic, runner: str = LIFECYCLE, fork: bool = False) -> None:
        self.size = size
        self.log_json = log_json
        self.log_level = log_level
        self.max_jobs = max_jobs
        self.clock = clock
        self.runner = runner
        self.fork = fork
        self.slots: list[Slot] = []
        self._retiring: list[Slot] = []

    def _spawn(self) -> Slot:
        if self.fork:
            return Slot(_ForkedWorker(self.log_json, self.log_level, self.runner))
        return Slot(_Worker(self.log_json, self.log_level or "info", self.runner))

    def start(self) -> None:
        while len(self.slots) < self.size:
            self.slots.append(self._spawn())

    def resize(self, size: int) -> None:
        self.size = size
        self.start()
        # shrink: idle extra workers go now, busy ones when they finish
        for s in [s for s in self.slots if s.job is None][: max(0, len(self.slots) - size)]:
            self.slots.remove(s)
            self._stop_slot(s)

    @property
    def idle(self) -> int:
        """Workers ready for a job (started up, nothing in hand)."""
        return sum(1 for s in self.slots if s.job is None and s.ready)

    @property
    def busy(self) -> list[Slot]:
        return [s for s in self.slots if s.job is not None]

    def submit(self, job: Any) -> bool:
        for s in self.slots:
            if s.job is None and s.ready:
                try:
                    s.conn.send(job)
                except (BrokenPipeError, OSError):
                    self._replace(s)
                    return False
                s.job, s.started = job, self.clock()
                return True
        return False

    def collect(self, timeout: float = 0.0) -> list[tuple[Any, Any, WorkerCrashed | None]]:
        """Wait up to ``timeout`` for results; a worker that died (its socket
        reads EOF) is replaced, and its job reported with outcome ``None``."""
        out: list[tuple[Any, Any, WorkerCrashed | None]] = []
        if self._retiring:
            self._reap()
        conns = [s.conn for s in self.slots]
        if not conns:
            if timeout > 0:
                time.sleep(timeout)
            return out
        ready = multiprocessing.connection.wait(conns, timeout=timeout)
        for s in list(self.slots):
            if s.conn not in ready:
                continue
            try:
                outcome = s.conn.recv()
            except (EOFError, OSError):
                outcome = None
            if outcome == READY:
                s.ready = True
                continue
            if outcome is not None and s.job is not None:
                job, s.job = s.job, None
                s.jobs_done += 1
                out.append((job, outcome, None))
                if s.jobs_done >= self.max_jobs or len(self.slots) > self.size:
                    self._retire(s)
                continue
            s.proc.join(timeout=1.0)
            code = s.proc.exitcode
            job = s.job
            self._replace(s)
            if job is not None:
                out.append((job, None, WorkerCrashed(f"worker died (exit code {code})")))
        return out

    def kill_overdue(self, timeout: float) -> list[tuple[Any, Any, TimedOut]]:
        """Kill workers whose job has run longer than ``timeout`` seconds
        (by the pool's clock, the one :meth:`submit` stamped the start with)."""
        now = self.clock()
        out = []
        for s in list(self.slots):
            if s.job is not None and now - s.started > timeout:
                job = s.job
                self._kill(s)
                self._replace(s)
                out.append((job, None, TimedOut(timeout)))
        return out

    def _retire(self, s: Slot) -> None:
        self.slots.remove(s)
        self._stop_slot(s)
        if len(self.slots) < self.size:
            self.slots.append(self._spawn())

    def _replace(self, s: Slot) -> None:
        if s in self.slots:
            self.slots.remove(s)
        self._kill(s)
        if len(self.slots) < self.size:
            self.slots.append(self._spawn())

    def _stop_slot(self, s: Slot) -> None:
        try:
            s.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self._retiring.append(s)
        self._reap()

    def _reap(self) -> None:
        for s in list(self._retiring):
            if not s.proc.is_alive():
                s.conn.close()
                self._retiring.remove(s)

    @staticmethod
    def _kill(s: Slot) -> None:
        try:
            if s.proc.is_alive():
                s.proc.kill()
            s.proc.join(timeout=5)
        except Exception:  # noqa: BLE001
            pass
        try:
            s.conn.close()
        except Exception:  # noqa: BLE001
            pass
        s.job = None

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots + self._retiring if s.proc.pid]

    def shutdown(self, kill: bool = False, timeout: float = 5.0) -> None:
        for s in self.slots:
            if kill:
                self._kill(s)
            else:
                try:
                    s.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
        deadline = time.monotonic() + timeout
        for s in self.slots + self._retiring:
            try:
                s.proc.join(timeout=max(0.0, deadline - time.monotonic()))
                if s.proc.is_alive():
                    s.proc.kill()
                    s.proc.join(1)
            except Exception:  # noqa: BLE001
                pass
        self.slots = []
        self._retiring = []


if __name__ == "__main__":
    _fd, _ppid, _fmt, _level, _runner = sys.argv[1:6]
    _worker_main(multiprocessing.connection.Connection(int(_fd)), int(_ppid),
                 {"auto": None, "json": True, "console": False}[_fmt], _level, _runner)
