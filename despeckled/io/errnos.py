"""The one list of errno values that may go away by themselves.

A network share that blips, a NAS that reboots, a file another process holds
for a moment: these errors are retried with backoff, never failed at once.
Everything that reads or writes pages, and the daemon's lifecycle, asks
:func:`is_transient`; nothing else keeps its own list.

>>> import errno
>>> is_transient(OSError(errno.ESTALE, "stale file handle"))
True
>>> is_transient(OSError(errno.EACCES, "permission denied"))
False
"""

from __future__ import annotations

import errno

#: errno values that may go away by themselves: retried with backoff.
#: ENOENT is *not* here: a missing file is a fact the caller interprets
#: (a vanished input, or a folder gone for a moment), not an I/O fault.
TRANSIENT_ERRNOS: frozenset[int] = frozenset(
    getattr(errno, name)
    for name in (
        "EAGAIN", "EBUSY", "EINTR", "EIO", "ESTALE", "ETIMEDOUT", "ENOLCK",
        "EHOSTDOWN", "EHOSTUNREACH", "ENETDOWN", "ENETUNREACH", "ENETRESET",
        "ECONNRESET", "ECONNABORTED", "ENOTCONN", "ENOSPC", "EDQUOT",
    )
    if hasattr(errno, name)
)


def is_transient(exc: BaseException) -> bool:
    """Whether *exc* is an OSError whose errno may go away by itself."""
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS
