"""config.example.toml: it loads, runs the demo, and never drifts from the model.

The example documents every key with its default. These tests fail when a
field is added, renamed or re-defaulted in the code but not in the example,
or when the example names a key the code does not know.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from despeckled.clean import CleanParams
from despeckled.config import AppConfig, iter_field_paths, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"

HEADER = re.compile(r"^(?:# )?(\[\[?[a-z0-9_.]+\]\]?)\s*$")
KEY = re.compile(r"^(# )?([a-z_]+) = (.+)$")
BEGIN, END = "# BEGIN CleanParams", "# END CleanParams"


def parse_example(text: str) -> dict[str, dict[str, tuple[Any, bool, str]]]:
    """{table header ('' for the top level): {key: (value, commented, comment above)}}."""
    tables: dict[str, dict[str, tuple[Any, bool, str]]] = {"": {}}
    current = ""
    prev = ""
    for line in text.splitlines():
        if m := HEADER.match(line):
            current = m.group(1)
            tables.setdefault(current, {})
        elif m := KEY.match(line):
            value = tomllib.loads(f"v = {m.group(3)}")["v"]
            assert m.group(2) not in tables[current], f"{m.group(2)} twice in {current or 'top level'}"
            tables[current][m.group(2)] = (value, bool(m.group(1)), prev)
        prev = line
    return tables


def table_of(path: tuple) -> str:
    if len(path) == 1:
        return ""
    if path[-2] == 0:
        return "[[" + ".".join(str(p) for p in path[:-2]) + "]]"
    return "[" + ".".join("default" if p == "*" else str(p) for p in path[:-1]) + "]"


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    return repr(v)


def expected_cleanparams_block() -> str:
    lines = [BEGIN + " (the test suite checks this block against the code)"]
    for name, info in CleanParams.model_fields.items():
        lines.append(f"# {info.description}")
        lines.append(f"{name} = {toml_value(info.get_default(call_default_factory=True))}")
    lines.append(END)
    return "\n".join(lines)


#: Keys the example sets to run the demo out of the box, not to their default.
DEMO_SETTINGS = {("[[watch]]", "create_folders"): True}


def test_example_loads_and_runs_the_demo():
    cfg = load_config(EXAMPLE)
    (w,) = cfg.resolved_watches()
    assert w.input == ROOT / "demo" / "inbox"
    assert (w.output, w.archive, w.failed) == (ROOT / "demo/clean", ROOT / "demo/archive", ROOT / "demo/failed")
    assert w.create_folders is True  # the demo's folders are created on start; a service's must exist
    # The example's active values are the defaults.
    assert cfg.daemon == AppConfig.model_fields["daemon"].default_factory()
    assert cfg.profiles == {"default": CleanParams()}


def test_every_model_key_is_in_the_example_with_its_default():
    tables = parse_example(EXAMPLE.read_text())
    missing, wrong, undocumented = [], [], []
    inline: list[tuple] = []
    for path, info in iter_field_paths():
        if any(path[: len(p)] == p for p in inline):
            continue
        table, key = table_of(path), str(path[-1])
        dotted = ".".join("default" if p == "*" else str(p) for p in path)
        if any(h.strip("[]") == dotted or h.strip("[]").startswith(dotted + ".") for h in tables if h):
            continue  # a table ([daemon], [profiles.default], [[watch]])
        if key not in tables.get(table, {}):
            missing.append(f"{table or 'top level'}: {key}")
            continue
        value, commented, above = tables[table][key]
        if not above.startswith("# ") or KEY.match(above):
            undocumented.append(f"{table or 'top level'}: {key}")
        if isinstance(value, dict):
            inline.append(path)  # e.g. watch.clean = { ... }: an example, not a default
            continue
        if info.is_required() or (table == "[[watch]]" and key in ("input", "output", "archive", "failed")):
            continue
        if (table, key) in DEMO_SETTINGS:
            assert value == DEMO_SETTINGS[table, key], f"the demo sets {table} {key} = {DEMO_SETTINGS[table, key]!r}"
            continue
        default = info.get_default(call_default_factory=True)
        if default is None:
            assert commented, f"{table}: {key} defaults to unset; show it commented out"
            continue
        if value != (str(default) if isinstance(default, Path) else default):
            wrong.append(f"{table or 'top level'}: {key} = {value!r}, but the default is {default!r}")
    assert not missing, f"keys missing from {EXAMPLE.name}: {missing}"
    assert not wrong, f"wrong defaults in {EXAMPLE.name}: {wrong}"
    assert not undocumented, f"keys without a one-line comment above them: {undocumented}"


def test_nothing_in_the_example_is_unknown(tmp_path):
    """Uncomment every commented-out key and table: the result must still load,
    so even the optional keys the example shows are real."""
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        if HEADER.match(line) or KEY.match(line):
            line = line.removeprefix("# ")
        lines.append(line)
    full = tmp_path / "full.toml"
    full.write_text("\n".join(lines) + "\n")
    cfg = load_config(full)
    assert "photos" in cfg.profiles
    (w,) = cfg.resolved_watches()
    assert w.clean.median is True  # the commented override example took effect


def test_cleanparams_block_matches_the_code():
    text = EXAMPLE.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    expected = expected_cleanparams_block()
    assert text[start:end] == expected, (
        "config.example.toml's CleanParams block is out of date: run "
        "`.venv/bin/python tests/config/test_config_example.py` to rewrite it, or replace it with:\n\n" + expected
    )


@pytest.mark.parametrize("key", sorted(CleanParams.model_fields))
def test_every_cleanparams_field_has_a_description(key):
    desc = CleanParams.model_fields[key].description
    assert desc and "\n" not in desc, f"CleanParams.{key} needs a one-line description (it documents the example)"


def rewrite_cleanparams_block() -> None:
    """Regenerate the example's CleanParams block from the code."""
    text = EXAMPLE.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    EXAMPLE.write_text(text[:start] + expected_cleanparams_block() + text[end:])


if __name__ == "__main__":
    rewrite_cleanparams_block()
    print(f"rewrote the CleanParams block of {EXAMPLE}")
