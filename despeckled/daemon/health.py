"""Is a watch usable right now? Its four configured folders decide.

A watch is **down** while one of its folders (input, output, archive,
failed)

* does not exist, or is not a folder, or cannot be reached (``missing``,
  ``not_a_folder``, ``unreachable``);
* lies under a mount point that ``/etc/fstab`` or a systemd mount unit
  declares, with nothing mounted there now (``not_mounted``): the share is
  not (yet) mounted and the folder seen is the bare mount-point directory on
  the local disk;
* is on another filesystem than when the watch came up (``other_filesystem``:
  its ``st_dev`` changed and the mount holding it is not the same share
  mounted again).

While a watch is down nothing of it is claimed or placed: its files wait in
the inbox, claimed files wait in their work folder. It comes back by itself
once every folder is fine again. The daemon never creates a configured
folder after start (only sub-folders below one), so a vanished share is
never replaced by a stand-in folder on the local disk.

:func:`folder_problem` is the pure decision, from :class:`FolderFacts` that
:mod:`despeckled.daemon.mounts` reports; :class:`WatchHealth` keeps each
watch's baseline and tells the service when a watch goes down or comes back.
``despeckled check-config`` uses :func:`problems_now` for the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from despeckled.daemon.mounts import FolderFacts, Mount, declared_mounts, folder_facts, read_mounts

#: The configured folders of a watch, in the order they are checked.
ROLES = ("input", "output", "archive", "failed")


@dataclass(frozen=True)
class Baseline:
    """The filesystem a folder was on when its watch came up."""

    st_dev: int
    mount_point: str
    fs_type: str
    source: str

    @classmethod
    def of(cls, facts: FolderFacts) -> Baseline:
        m = facts.mount or Mount("", "", "")
        return cls(facts.st_dev, m.mount_point, m.fs_type, m.source)


@dataclass(frozen=True)
class Problem:
    """Why a watch is down: which folder, a stable reason slug, a sentence."""

    role: str
    folder: str
    reason: str
    message: str


def folder_problem(role: str, facts: FolderFacts, baseline: Baseline | None) -> Problem | None:
    """The problem with one folder, or None when it is usable.

    >>> f = FolderFacts("/srv/scans/clean", st_dev=41, mount=Mount("/srv/scans", "cifs", "//nas/s"))
    >>> folder_problem("output", f, Baseline(41, "/srv/scans", "cifs", "//nas/s")) is None
    True
    >>> folder_problem("output", f, Baseline(99, "/srv/scans", "cifs", "//nas/s")) is None  # mounted again
    True
    >>> folder_problem("output", FolderFacts("/srv/scans/clean", error="missing"), None).reason
    'missing'
    >>> local = FolderFacts("/srv/scans/clean", st_dev=2049, mount=Mount("/", "ext4", "/dev/sda1"))
    >>> folder_problem("output", local, Baseline(41, "/srv/scans", "cifs", "//nas/s")).reason
    'other_filesystem'
    """
    path = facts.path
    if facts.unmounted is not None:
        point, where = facts.unmounted
        return Problem(role, path, "not_mounted",
                       f"{role} folder {path}: {point} is listed in {where} but nothing is mounted there")
    if facts.error == "missing":
        return Problem(role, path, "missing", f"{role} folder {path} does not exist")
    if facts.error == "not_a_folder":
        return Problem(role, path, "not_a_folder", f"{role} folder {path} is not a folder")
    if facts.error:
        return Problem(role, path, "unreachable", f"{role} folder {path}: {facts.error.removeprefix('unreachable: ')}")
    if baseline is not None and facts.st_dev != baseline.st_dev:
        now = Baseline.of(facts)
        if (now.mount_point, now.fs_type, now.source) == (baseline.mount_point, baseline.fs_type, baseline.source):
            return None  # the same share, mounted again (a new device number)
        return Problem(role, path, "other_filesystem",
                       f"{role} folder {path} is on {now.fs_type or '?'} {now.source} at {now.mount_point or '?'} now, "
                       f"not on {baseline.fs_type} {baseline.source} at {baseline.mount_point} as when the watch came up")
    return None


class WatchHealth:
    """One watch's folders: their baselines and whether the watch is down.

    :meth:`check` returns ``"down"`` or ``"up"`` on a change (the service logs
    ``watch_down`` / ``watch_up`` once each), else None.
    """

    def __init__(self, roots: dict[str, Path]) -> None:
        self.roots = {role: Path(roots[role]) for role in ROLES}
        self.baselines: dict[str, Baseline] = {}
        self.problem: Problem | None = None
        self.down_since: float | None = None
        #: how long the last outage lasted (set when the watch comes back)
        self.was_down_for = 0.0

    @property
    def down(self) -> bool:
        return self.problem is not None

    def check(self, now: float, mounts: list[Mount] | None = None,
              declared: list[tuple[Mount, str]] | None = None) -> str | None:
        mounts = read_mounts() if mounts is None else mounts
        declared = declared_mounts() if declared is None else declared
        facts = {role: folder_facts(p, mounts, declared) for role, p in self.roots.items()}
        problem = None
        for role in ROLES:
            problem = folder_problem(role, facts[role], self.baselines.get(role))
            if problem is not None:
                break
        was_down = self.down
        if problem is not None:
            self.problem = problem
            if not was_down:
                self.down_since = now
                return "down"
            return None
        for role in ROLES:  # up: (re)take the baselines (a share mounted again has a new st_dev)
            self.baselines[role] = Baseline.of(facts[role])
        self.problem = None
        if was_down:
            self.was_down_for = now - (self.down_since if self.down_since is not None else now)
            self.down_since = None
            return "up"
        return None


def problems_now(roots: dict[str, Path]) -> list[Problem]:
    """Every folder problem of a watch as it stands (no baseline): what
    ``check-config`` reports."""
    mounts, declared = read_mounts(), declared_mounts()
    out = []
    for role in ROLES:
        p = folder_problem(role, folder_facts(roots[role], mounts, declared), None)
        if p is not None:
            out.append(p)
    return out
