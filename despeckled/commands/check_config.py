"""`despeckled check-config [--config FILE] [--json]`

Validate the configuration the way the daemon would load it, then check the
folders it names:

* each exists (the daemon never creates one, unless the watch sets
  ``create_folders``: then its nearest existing parent must let it be
  created), and is not under an fstab or mount-unit mount point with nothing
  mounted there: the daemon's own rules (:mod:`despeckled.daemon.health`);
* each is writable (by the user running this command: run it as the service
  user, ``sudo -u despeckled despeckled check-config``);
* the layout :func:`despeckled.config.layout_problems` checks, which ``run``
  refuses to start on: no output/archive/failed folder inside a watched
  input, no two watches on the same or nested inputs, claiming a file (a
  rename into the work folder) stays on one filesystem;
* where output/archive/failed live on another filesystem than the input,
  the copy + fsync + unlink fallback is stated.

It reports which watches are polled and why, prints the effective
configuration, and exits 0, or 3 with every problem listed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from despeckled.config_source import CONFIG_ENV
from despeckled.errors import ConfigError

if TYPE_CHECKING:
    from despeckled.config import AppConfig, ResolvedWatch
from despeckled.io.fsutil import TEMP_MARKER, existing_ancestor

from despeckled.daemon.health import problems_now as folder_problems

try:  # the daemon's own decision, so check-config reports exactly what `run` does
    from despeckled.daemon.mounts import needs_polling
except ImportError:  # pragma: no cover - only while mounts.py is missing
    needs_polling = None  # type: ignore[assignment]

#: systemd's RuntimeDirectory=despeckled[/NAME] lives here, created at service start.
RUNTIME_ROOT = Path("/run/despeckled")


def add_parser(sub):
    p = sub.add_parser(
        "check-config",
        help="validate the configuration and the folders it names, print the effective config",
        description="Validate the configuration (file and DESPECKLED_* environment) and its folders; "
        "print the effective configuration and which watches are polled. Exit 3 listing every problem.",
    )
    p.add_argument("--config", default=None, metavar="FILE",
                   help=f"config file (default: ${CONFIG_ENV}, else /etc/despeckled/config.toml)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def run(args) -> int:
    # here, not at the top: building the CLI's parser must not load pydantic-settings
    from despeckled.config import load_config, resolve_config_path

    path = resolve_config_path(args.config)
    try:
        # (``args.config``, not ``path``: the error must say where the path came from)
        cfg = load_config(args.config)  # raises ConfigError listing every problem in the file/env
    except ConfigError as exc:
        if args.json:  # scripts get the problems on stdout too
            print(json.dumps({"config_file": str(path), "problems": exc.problems or [exc.message]}, indent=2))
        raise
    report = check(cfg)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_text(cfg, report))
    sys.stdout.flush()
    if report["problems"]:
        raise ConfigError(f"{cfg.source_path or path}: {len(report['problems'])} problem(s)", report["problems"])
    return 0


# --------------------------------------------------------------------------
# Checks (no output; return data)


def _who() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


def check_folder(path: Path, key: str, *, need_read: bool = False,
                 create: bool = True) -> tuple[list[str], list[str], int | None]:
    """(problems, notes, st_dev of the folder or of the parent it would be created in).
    ``create``: the watch's ``create_folders`` (else a missing folder is a problem:
    the daemon waits for it and never creates it)."""
    problems: list[str] = []
    notes: list[str] = []
    mode = os.W_OK | os.X_OK | (os.R_OK if need_read else 0)
    want = "readable and writable" if need_read else "writable"
    if path.exists():
        if not path.is_dir():
            return [f"{key}: {path} exists but is not a folder"], notes, None
        if not os.access(path, mode):
            problems.append(f"{key}: {path} is not {want} by {_who()}")
        else:
            why = _write_probe(path)
            if why:
                problems.append(f"{key}: {path} is not writable by {_who()}: {why}")
        return problems, notes, os.stat(path).st_dev
    if not create:
        problems.append(f"{key}: {path} does not exist; the daemon never creates it (a share not mounted?): "
                        "its files would wait until it exists. Create it, or set create_folders = true")
        return problems, notes, None
    anc = existing_ancestor(path)
    if not anc.is_dir():
        problems.append(f"{key}: {path} cannot be created: {anc} is not a folder")
        return problems, notes, None
    if not os.access(anc, os.W_OK | os.X_OK):
        problems.append(f"{key}: {path} does not exist and cannot be created: {anc} is not writable by {_who()}")
    else:
        notes.append(f"{key}: {path} does not exist yet; it is created on start")
    return problems, notes, os.stat(anc).st_dev


def _write_probe(folder: Path) -> str | None:
    """Really create and remove a hidden temp file: access(2) can't see
    read-only shares, root squash or ACLs on some network filesystems. The
    name carries the temp marker, so the daemon ignores it."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".check-config.", suffix=TEMP_MARKER)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    try:
        os.unlink(name)
    except OSError as exc:
        return f"created a file but could not delete it: {exc.strerror}"
    return None


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check(cfg: AppConfig) -> dict[str, Any]:
    """Check every watch's folders; returns a JSON-able report with
    ``problems`` (fatal), and per watch its polling decision and notes."""
    from despeckled.config import FILING_ROLES, claim_crosses_filesystems, claim_folder, layout_problems

    problems: list[str] = []
    notes: list[str] = []
    watches = cfg.resolved_watches()
    if not watches:
        problems.append("watch: no [[watch]] table: the daemon would have nothing to watch")
    out_watches = []
    for i, w in enumerate(watches):
        wnotes: list[str] = []
        devs: dict[str, int | None] = {}
        for role in ("input", *FILING_ROLES):
            p, n, dev = check_folder(getattr(w, role), f"watch[{i}].{role}", need_read=role == "input",
                                     create=w.create_folders)
            problems += p
            wnotes += n
            devs[role] = dev
        # the daemon's own rule (a watch is down while...): a share not mounted, not answering
        for p in folder_problems({role: getattr(w, role) for role in ("input", *FILING_ROLES)}):
            if p.reason in ("not_mounted", "unreachable"):
                problems.append(f"watch[{i}].{p.role}: {p.message}; the daemon would wait (watch down)")
        # the claim rename must stay on one filesystem (a problem: see layout_problems below)
        wp = claim_folder(w)
        claim = f"rename into {wp} within one filesystem (atomic)"
        if claim_crosses_filesystems(w):
            claim = f"NOT atomic: {wp} is on another filesystem than the input"
        for role in FILING_ROLES:
            if devs["input"] is not None and devs[role] is not None and devs[role] != devs["input"]:
                wnotes.append(
                    f"watch[{i}].{role}: on another filesystem than the input: files are copied there, "
                    "fsynced, then the source is deleted (no single atomic rename; never lost)"
                )
        if needs_polling is not None:
            poll, reason = needs_polling(w.input, w.polling)
            if w.polling is False:
                auto_poll, auto_reason = needs_polling(w.input, "auto")
                if auto_poll:
                    wnotes.append(
                        f"watch[{i}].polling: false, but {auto_reason}: files the scanner writes from another "
                        "machine are only found by the full rescan every daemon.rescan_interval_seconds"
                    )
        else:  # pragma: no cover
            poll, reason = (w.polling is True), "despeckled.daemon.mounts unavailable: cannot tell"
        out_watches.append({
            "index": i,
            "input": str(w.input),
            "polled": poll,
            "polling_reason": reason,
            "claim": claim,
            "notes": wnotes,
        })
    # where the folders lie: the daemon's own check (it refuses to start on these)
    problems += layout_problems(watches)
    state = cfg.daemon.state_file
    if state is not None:
        if not state.parent.exists() and _inside(state.parent, RUNTIME_ROOT):
            notes.append(f"daemon.state_file: {state.parent} is created by systemd (RuntimeDirectory=) when the service starts")
        else:
            p, n, _ = check_folder(state.parent, "daemon.state_file")
            problems += p
            notes += n
    m_problems, m_notes = _check_metrics(cfg)
    problems += m_problems
    notes += m_notes
    if os.geteuid() == 0 and watches:
        notes.append(
            "running as root: permissions were checked for root; the service runs as its own user, so run "
            "`sudo -u despeckled despeckled check-config` to check them as that user"
        )
    return {
        "config_file": str(cfg.source_path) if cfg.source_path else None,
        "environment": sorted(k for k in os.environ if k.upper().startswith("DESPECKLED_")),
        "effective": effective_config(cfg),
        "watches": out_watches,
        "notes": notes,
        "problems": problems,
    }


def _check_metrics(cfg: AppConfig) -> tuple[list[str], list[str]]:
    """The metrics textfile's folder must be writable; HTTP off loopback and
    under the shipped unit's sandbox deserve a word."""
    from despeckled.config import parse_listen
    from despeckled.daemon.metrics import is_loopback

    problems: list[str] = []
    notes: list[str] = []
    d = cfg.daemon
    if d.metrics_file is not None:
        folder = d.metrics_file.parent
        if not folder.is_dir():  # node_exporter's textfile folder: never made by us
            problems.append(f"daemon.metrics_file: {folder} is not a folder")
        else:
            problems += check_folder(folder, "daemon.metrics_file")[0]
    if d.metrics_listen is not None:
        host, _ = parse_listen(d.metrics_listen)
        if not is_loopback(host):
            notes.append(f"daemon.metrics_listen: {d.metrics_listen} is reachable from the network, without TLS or "
                         "authentication; prefer 127.0.0.1 behind a proxy (see the README, Metrics)")
        notes.append("daemon.metrics_listen: the shipped systemd unit has no network; HTTP needs the drop-in from the "
                     "README (PrivateNetwork=no, RestrictAddressFamilies=AF_INET AF_INET6, IPAddressAllow=)")
    return problems, notes


# --------------------------------------------------------------------------
# Rendering


def effective_config(cfg: AppConfig) -> dict[str, Any]:
    """The configuration as the daemon will use it: paths absolute, per-watch
    settings filled in, each watch's final cleaning parameters."""
    data = cfg.model_dump(mode="json", exclude={"watch"})
    data["watch"] = [w.model_dump(mode="json") for w in cfg.resolved_watches()]
    return data


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    return json.dumps(str(v))


def _table(lines: list[str], header: str | None, data: dict[str, Any], *, comment: str = "") -> None:
    if header:
        lines.append("")
        lines.append(header + (f"  # {comment}" if comment else ""))
    for k, v in data.items():
        if v is None:
            lines.append(f"# {k} is unset")
        else:
            lines.append(f"{k} = {_toml_value(v)}")


def render_text(cfg: AppConfig, report: dict[str, Any]) -> str:
    eff = report["effective"]
    lines = [f"# config file: {report['config_file'] or '(none: defaults and environment)'}"]
    if report["environment"]:
        lines.append(f"# environment: {', '.join(report['environment'])}")
    lines.append("# effective configuration:")
    _table(lines, None, {k: v for k, v in eff.items() if not isinstance(v, (dict, list))})
    _table(lines, "[daemon]", eff["daemon"])
    for name, params in eff["profiles"].items():
        _table(lines, f"[profiles.{name}]", params)
    for w, info in zip(eff["watch"], report["watches"]):
        clean = w.pop("clean")
        _table(lines, "[[watch]]", w)
        _table(lines, "[watch.clean]", clean, comment=f"effective: profile {w['profile']!r} plus this watch's overrides")
    lines.append("")
    lines.append("# checks:")
    for info in report["watches"]:
        how = "polled" if info["polled"] else "inotify"
        lines.append(f"# watch[{info['index']}] {info['input']}")
        lines.append(f"#   watching: {how} ({info['polling_reason']})")
        lines.append(f"#   claim: {info['claim']}")
        for n in info["notes"]:
            lines.append(f"#   note: {n}")
    for n in report["notes"]:
        lines.append(f"# note: {n}")
    if report["problems"]:
        lines.append(f"# {len(report['problems'])} problem(s), listed on stderr")
    else:
        lines.append(f"# OK: {len(report['watches'])} watch(es), no problems")
    return "\n".join(lines)
