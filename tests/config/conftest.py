"""Config tests: every test starts from a clean DESPECKLED_* environment."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("DESPECKLED_"):
            monkeypatch.delenv(name)


@pytest.fixture
def write_config(tmp_path):
    """Write a TOML config (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "config.toml") -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
        return p

    return write

