"""Where the configuration comes from, in names cheap enough to import at
start-up (no pydantic): :mod:`despeckled.config` loads and validates it.

``despeckled clean`` asks :func:`defaults_only` first: with no file to read
and no ``DESPECKLED_*`` variable set, the configuration is the built-in
defaults, and the ~40 ms of importing and building the settings models can
be skipped (``tests/config`` checks that both paths agree).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_CONFIG_PATH = Path("/etc/despeckled/config.toml")
ENV_PREFIX = "DESPECKLED_"
#: The variable naming the config file (see ``config.resolve_config_path``).
CONFIG_ENV = "DESPECKLED_CONFIG"


def defaults_only(config_arg: str | os.PathLike[str] | None, environ: Mapping[str, str] = os.environ) -> bool:
    """True when loading the configuration would read no file and no
    environment variable: no ``--config``, no ``DESPECKLED_*`` variable at
    all (set, empty or misspelt: those are the loader's to judge), and
    nothing at the default location.

    >>> defaults_only(None, {"PATH": "/bin"}) == (not DEFAULT_CONFIG_PATH.exists())
    True
    >>> defaults_only("site.toml", {}), defaults_only(None, {"despeckled_log_level": "debug"})
    (False, False)
    """
    if config_arg is not None:
        return False
    if any(k.upper().startswith(ENV_PREFIX) for k in environ):
        return False
    return not os.path.lexists(DEFAULT_CONFIG_PATH)
