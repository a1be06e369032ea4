"""The systemd units: both carry the same hardening, and pass
`systemd-analyze verify` with an exposure score under 2.0 (systemd/check-units,
which CI runs too)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "despeckled.service"
TEMPLATE = ROOT / "systemd" / "despeckled@.service"
PER_INSTANCE = {"Description", "ExecStart", "RuntimeDirectory", "SyslogIdentifier"}


def directives(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.append((key, value))
    return out


def test_template_has_the_same_hardening_as_the_plain_unit():
    plain = [d for d in directives(UNIT) if d[0] not in PER_INSTANCE]
    templ = [d for d in directives(TEMPLATE) if d[0] not in PER_INSTANCE]
    assert plain == templ
    t = dict(directives(TEMPLATE))
    assert t["ExecStart"].endswith("run --config /etc/despeckled/%i.toml")
    assert t["RuntimeDirectory"] == "despeckled/%i"


def test_required_settings_are_present():
    d = dict(directives(UNIT))
    for key, value in {
        "Type": "notify", "Restart": "on-failure", "User": "despeckled", "ProtectSystem": "strict",
        "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes",
        "RestrictAddressFamilies": "AF_UNIX", "RuntimeDirectory": "despeckled",
    }.items():
        assert d.get(key) == value, key
    assert "SystemCallFilter=@system-service" in UNIT.read_text()
    for key in ("WatchdogSec", "MemoryMax", "ReadWritePaths"):
        assert d.get(key), key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (CI installs it)")
def test_units_verify_and_score_under_2():
    binary = Path(sys.executable).parent / "despeckled"  # this environment's own entry point
    args = [str(ROOT / "systemd" / "check-units")] + ([str(binary)] if binary.exists() else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("systemd-analyze verify OK") == 2


def test_the_readme_shows_the_metrics_drop_in_as_shipped():
    readme = (ROOT / "README.md").read_text()
    shipped = [line for line in (ROOT / "systemd" / "metrics-http.conf").read_text().splitlines()
               if line and not line.startswith("#")]
    import re

    m = re.search(r"```ini\n(\s*\[Service\]\n\s*PrivateNetwork=no\n.*?)```", readme, re.S)
    assert m, "README shows no metrics drop-in"
    block = m.group(1)
    assert [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")] == shipped
