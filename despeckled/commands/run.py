"""`despeckled run [--config FILE]`: the daemon, in the foreground.

Runs until SIGTERM or SIGINT, then finishes in-flight files (within
``daemon.stop_timeout_seconds``) and exits 0. SIGHUP reloads the config.
The config path comes from ``--config``, else ``$DESPECKLED_CONFIG``, else
``/etc/despeckled/config.toml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub):
    p = sub.add_parser(
        "run",
        help="watch the configured drop folders and clean every scan that lands there (foreground daemon)",
        description="Watch drop folders, wait until each scan is complete, clean it, file it away. "
        "SIGTERM/SIGINT stop gracefully, SIGHUP reloads the config.",
    )
    p.add_argument("--config", type=Path, default=None,
                   help="config file (default: $DESPECKLED_CONFIG, else /etc/despeckled/config.toml)")
    p.add_argument("--state", type=Path, default=None, help=argparse.SUPPRESS)  # tests, benchmarks
    return p


def run(args) -> int:
    from despeckled import log
    from despeckled.config import load_config, resolve_config_path
    from despeckled.daemon.service import Service

    path = resolve_config_path(args.config)
    cfg = load_config(path)  # raises ConfigError (exit 3) listing every problem
    json_mode = {"auto": None, "json": True, "console": False}[cfg.log_format]
    log.configure_logging(json=json_mode, level=cfg.log_level)
    service = Service(cfg, path, state_path=args.state, log_json=json_mode)
    return service.run()
