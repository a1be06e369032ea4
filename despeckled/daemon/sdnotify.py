"""The systemd notification protocol (sd_notify(3)) without a dependency.

A message is one datagram of newline-separated ``KEY=VALUE`` lines sent to
the ``AF_UNIX`` socket named by ``$NOTIFY_SOCKET``; a leading ``@`` means
the Linux abstract namespace. Outside systemd (no ``NOTIFY_SOCKET``) every
call is a no-op, and a send error is never fatal: notifications are a hint.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    """Send ``READY=1``, ``STATUS=...``, ``WATCHDOG=1``, ``STOPPING=1``.

    ``address`` defaults to ``$NOTIFY_SOCKET``; an explicit argument wins.
    """

    #: READY=1 / STOPPING=1 are retried this long when the receiver's queue
    #: is full; STATUS= and WATCHDOG=1 are simply dropped then.
    ESSENTIAL_RETRY_SECONDS = 1.0

    def __init__(self, address: str | None = None) -> None:
        if address is None:
            address = os.environ.get("NOTIFY_SOCKET") or None
        self.address = address
        self._sock: socket.socket | None = None
        if address:
            if address.startswith("@"):
                address = "\0" + address[1:]
            self._target = address
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            # never let a stalled receiver (a full datagram queue) block the daemon
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, _essential: bool = False, **fields: object) -> bool:
        """``notify(READY=1, STATUS="...")``; returns whether it was sent."""
        if self._sock is None:
            return False
        msg = "\n".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8", "replace")
        deadline = time.monotonic() + (self.ESSENTIAL_RETRY_SECONDS if _essential else 0.0)
        while True:
            try:
                self._sock.sendto(msg, self._target)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.01)
            except OSError:
                return False

    def ready(self, status: str | None = None) -> bool:
        return self.notify(True, READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        return self.notify(STATUS=text)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG=1)

    def stopping(self) -> bool:
        return self.notify(True, STOPPING=1)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval() -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds (how often to ping), when the
    watchdog is enabled for this process; else ``None``."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        return int(usec) / 2e6
    except ValueError:
        return None
