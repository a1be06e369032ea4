"""The hidden folders despeckled keeps inside each input and output folder.

Named here, in a module that imports nothing, so the config's layout checks
(:func:`despeckled.config.claim_folder`) and the lifecycle share the names
without importing each other.
"""

from __future__ import annotations

from pathlib import Path

#: Hidden folder despeckled keeps inside each input and output folder.
STATE_DIR = ".despeckled"


def work_root(input_dir: Path) -> Path:
    """``<input>/.despeckled/work``: where claimed files wait, one folder per claim."""
    return Path(input_dir) / STATE_DIR / "work"


def staging_root(output_dir: Path) -> Path:
    """``<output>/.despeckled/staging``: where cleaned files are written before publishing."""
    return Path(output_dir) / STATE_DIR / "staging"
