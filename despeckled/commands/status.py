"""`despeckled status [--config FILE] [--state FILE] [--json]`.

Reads the running daemon's state file (see :mod:`despeckled.daemon.state` for where
it lives) and prints, per watch: how it is watched and why, whether it is
down (a folder missing or unmounted) and why, queue depth, in-flight, done
and failed counts, stuck files and the last error. Exit code 6 (``not_running``) when no
live daemon is found.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from despeckled.daemon import state as state_mod
from despeckled.errors import ExitCode


def add_parser(sub):
    p = sub.add_parser("status", help="show what the running daemon is doing")
    p.add_argument("--config", type=Path, default=None, help="config file (to find daemon.state_file)")
    p.add_argument("--state", type=Path, default=None, help="state file written by `despeckled run`")
    p.add_argument("--json", action="store_true", help="print the raw state as JSON")
    return p


def _configured_state_file(config: Path | None) -> Path | None:
    import os

    from despeckled.config import resolve_config_path

    path = resolve_config_path(config)
    if config is None and not os.environ.get("DESPECKLED_CONFIG") and not path.is_file():
        return None
    try:
        from despeckled.config import load_config

        return load_config(path).daemon.state_file
    except Exception:  # noqa: BLE001 - status must work even with a broken config
        return None


def run(args) -> int:
    path = state_mod.find_existing(args.state, None if args.state else _configured_state_file(args.config))
    if path is None:
        print("despeckled: not running (no state file found)", file=sys.stderr)
        return int(ExitCode.not_running)
    try:
        st = state_mod.read(path)
    except (OSError, ValueError) as exc:
        print(f"despeckled: not running (unreadable state file {path}: {exc})", file=sys.stderr)
        return int(ExitCode.not_running)
    pid = int(st.get("pid", 0))
    if not state_mod.pid_alive(pid):
        print(f"despeckled: not running (state file {path} names pid {pid}, which is gone)", file=sys.stderr)
        return int(ExitCode.not_running)
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    age = time.time() - float(st.get("updated_at", 0))
    up = time.time() - float(st.get("started_at", time.time()))
    print(f"despeckled {st.get('version', '?')}: running, pid {pid}, up {up:.0f} s, "
          f"{'healthy' if st.get('healthy') else 'UNHEALTHY'}, state updated {age:.0f} s ago")
    print(f"  total: queue {st.get('queue', 0)}, in flight {st.get('in_flight', 0)}, "
          f"done {st.get('done', 0)}, failed {st.get('failed', 0)}, oldest pending {st.get('oldest_pending_seconds', 0)} s, "
          f"blank pages {st.get('blank_pages', 0)}")
    for w in st.get("watches", []):
        mode = "polling" if w.get("polling") else "inotify"
        if w.get("polling_reason"):
            mode += f": {w['polling_reason']}"
        alive = "" if w.get("watcher_alive", True) else ", WATCHER DOWN"
        print(f"  {w['input']} ({mode}{alive}) -> {w['output']}")
        down = w.get("down")
        if down:
            print(f"    DOWN for {down.get('seconds', 0):.0f} s: {down['message']} ({down['reason']}); "
                  "its files wait, nothing is created")
        elif w.get("scan_failing"):
            print("    SHARE NOT ANSWERING: scans fail (see last error); its files wait")
        print(f"    queue {w['queue']}, in flight {w['in_flight']}, done {w['done']}, failed {w['failed']}, "
              f"stuck {w.get('stuck_count', 0)}, blank pages {w.get('blank_pages', 0)}")
        for s in w.get("stuck", []):
            print(f"    stuck: {s}")
        if w.get("last_error"):
            print(f"    last error: {w['last_error']}")
    return 0
