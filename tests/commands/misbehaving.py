"""A runner for ``despeckled clean``'s worker pool that misbehaves on purpose,
for the crash-isolation tests: a file named ``poison.*`` kills its worker
(as a segfault or the OOM killer would), ``slow.*`` never finishes, and the
second page of a multi-page file kills its page worker once (while the file
``$POISON_ONCE`` exists: the worker removes it first). Everything else is
the real :func:`despeckled.commands.clean.run_task`."""

from __future__ import annotations

import os
import signal
import threading

from despeckled.commands.clean import PageTask, run_task


def run(task, logger=None):
    if isinstance(task, PageTask):
        marker = os.environ.get("POISON_ONCE")
        if task.seq == 1 and marker and os.path.exists(marker):
            os.unlink(marker)
            os.kill(os.getpid(), signal.SIGKILL)
    elif task.src.stem == "poison":
        os.kill(os.getpid(), signal.SIGKILL)
    elif task.src.stem == "slow":
        threading.Event().wait()  # until the pool kills it at the timeout
    return run_task(task, logger)
