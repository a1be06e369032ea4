"""Wait on a condition with a deadline -- the suite never sleeps a fixed time."""

from __future__ import annotations

import time


def wait_for(cond, timeout: float = 20.0, interval: float = 0.02, what: str = "condition"):
    """Poll ``cond()`` until it returns something truthy, and return that.

    Raises AssertionError naming ``what`` once ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def pace(seconds: float) -> None:
    """A simulated writer's own pace: the pause a scanner makes between two
    chunks or pages. This is the input a test feeds the daemon, never a way
    to wait for the daemon's result (use :func:`wait_for` for that)."""
    time.sleep(seconds)
