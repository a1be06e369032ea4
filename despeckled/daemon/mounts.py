"""Which filesystem holds a path, and does it deliver inotify events?

inotify only sees changes made through the local kernel. On network and
FUSE filesystems (SMB/CIFS, NFS, sshfs, ...) a scanner writing from another
machine produces no events at all, so ``polling = "auto"`` resolves to
polling there. The mount table is read from ``/proc/self/mountinfo``
(see proc(5)); the longest mount point that is a prefix of the resolved path
wins, which handles nested and bind mounts.

Public API (``despeckled check-config`` uses it too):

* :func:`fs_type(path) -> str | None`
* :func:`needs_polling(path, polling="auto") -> (bool, reason)`
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

#: Filesystem types whose changes may come from elsewhere: no reliable inotify.
NETWORK_FS_TYPES = frozenset({
    "cifs", "smb3", "smbfs", "smb2",
    "nfs", "nfs4",
    "9p", "afs", "ceph", "glusterfs", "lustre", "gpfs", "beegfs",
    "ncpfs", "coda", "ocfs2", "gfs2", "davfs", "vboxsf", "vmhgfs", "virtiofs",
    "pvfs2", "orangefs", "moosefs", "cvfs",
})


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fs_type: str
    source: str


def _unescape(field: str) -> str:
    r"""Undo the octal escapes mountinfo uses for spaces, tabs, newlines, backslashes.

    >>> _unescape(r"/mnt/my\040share")
    '/mnt/my share'
    """
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and len(field[i + 1:i + 4]) == 3 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    r"""Parse the text of ``/proc/<pid>/mountinfo``.

    >>> line = "36 35 98:0 / /mnt/scans rw,noatime shared:1 - cifs //nas/scans rw,vers=3.0"
    >>> parse_mountinfo(line)
    [Mount(mount_point='/mnt/scans', fs_type='cifs', source='//nas/scans')]
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-")
            mount_point = _unescape(fields[4])
            fs_type = fields[sep + 1]
            source = _unescape(fields[sep + 2]) if len(fields) > sep + 2 else ""
        except (ValueError, IndexError):
            continue
        mounts.append(Mount(mount_point, fs_type, source))
    return mounts


def read_mounts(mountinfo: Path = MOUNTINFO) -> list[Mount]:
    try:
        return parse_mountinfo(mountinfo.read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError:
        return []


def _existing_ancestor(path: Path) -> Path:
    """The path itself, or its nearest existing parent (a watch folder may
    not exist yet; it will be created on the same mount as its parent)."""
    path = Path(os.path.abspath(path))
    for p in (path, *path.parents):
        if p.exists():
            return p.resolve()
    return Path("/")


def mount_for(path: str | os.PathLike[str], mounts: list[Mount] | None = None) -> Mount | None:
    """The mount holding ``path`` (the longest matching mount point).

    >>> ms = [Mount("/", "ext4", "/dev/sda1"), Mount("/mnt/scans", "cifs", "//nas/s")]
    >>> mount_for("/mnt/scans/inbox", ms).fs_type
    'cifs'
    >>> mount_for("/mnt/scansX", ms).fs_type
    'ext4'
    """
    if mounts is None:
        mounts = read_mounts()
        target = str(_existing_ancestor(Path(path)))
    else:
        target = os.path.abspath(path)
    best: Mount | None = None
    for m in mounts:
        mp = m.mount_point.rstrip("/") or "/"
        if target == mp or mp == "/" or target.startswith(mp + "/"):
            # later entries over-mount earlier ones at the same point
            if best is None or len(mp) >= len(best.mount_point.rstrip("/") or "/"):
                best = m
    return best


def fs_type(path: str | os.PathLike[str], mounts: list[Mount] | None = None) -> str | None:
    """The filesystem type (``"ext4"``, ``"cifs"``, ``"fuse.sshfs"``...) holding
    ``path``, or ``None`` when the mount table can't be read."""
    m = mount_for(path, mounts)
    return m.fs_type if m else None


def is_network_fs(fstype: str | None) -> bool:
    """True for filesystems that need polling.

    >>> [is_network_fs(t) for t in ("cifs", "nfs4", "fuse.sshfs", "ext4", "fuseblk", None)]
    [True, True, True, False, False, False]
    """
    if not fstype:
        return False
    if fstype in NETWORK_FS_TYPES:
        return True
    # fuse.sshfs, fuse.rclone, fuse.s3fs, ...: events can't be trusted. "fuseblk"
    # (ntfs-3g, exfat on a local disk) is local.
    return fstype.startswith("fuse.") or fstype == "fuse"


def needs_polling(
    path: str | os.PathLike[str],
    polling: bool | str = "auto",
    mounts: list[Mount] | None = None,
) -> tuple[bool, str]:
    """Decide whether to poll ``path``; an explicit ``True``/``False`` wins.

    Returns ``(poll, reason)`` with a human-readable reason for logs and
    ``check-config``.

    >>> ms = [Mount("/", "ext4", "/dev/sda1"), Mount("/srv/nas", "nfs4", "nas:/x")]
    >>> needs_polling("/srv/nas/in", "auto", ms)
    (True, 'nfs4 filesystem at /srv/nas: network filesystems deliver no inotify events')
    >>> needs_polling("/home/in", "auto", ms)
    (False, 'ext4 filesystem at /: inotify events')
    >>> needs_polling("/srv/nas/in", False, ms)
    (False, 'polling = false in the config')
    """
    if polling is True or polling is False:
        return bool(polling), f"polling = {'true' if polling else 'false'} in the config"
    if polling != "auto":
        raise ValueError(f"polling must be true, false or 'auto', not {polling!r}")
    m = mount_for(path, mounts)
    if m is None:
        return True, "mount table unreadable: polling to be safe"
    if is_network_fs(m.fs_type):
        return True, f"{m.fs_type} filesystem at {m.mount_point}: network filesystems deliver no inotify events"
    return False, f"{m.fs_type} filesystem at {m.mount_point}: inotify events"


# --------------------------------------------------------------------------
# Mount points the system expects: /etc/fstab and systemd mount units


FSTAB = Path("/etc/fstab")
#: Where an admin's own mount units live (``/usr/lib`` only holds the
#: distribution's: /tmp, /dev/hugepages..., not a scan share).
MOUNT_UNIT_DIRS = (Path("/etc/systemd/system"), Path("/run/systemd/system"))
#: fstab types that are not a filesystem mounted on a folder.
_NOT_MOUNTS = frozenset({"swap", "none", "ignore"})


def parse_fstab(text: str) -> list[Mount]:
    r"""The filesystems fstab(5) mounts on a folder (not ``/``, not swap).

    >>> parse_fstab("# c\nUUID=1 / ext4 defaults 0 1\n//nas/s /srv/my\\040scans cifs _netdev 0 0\nUUID=2 none swap sw 0 0")
    [Mount(mount_point='/srv/my scans', fs_type='cifs', source='//nas/s')]
    """
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[0].startswith("#"):
            continue
        point = _unescape(fields[1])
        if fields[2] in _NOT_MOUNTS or not point.startswith("/") or point.rstrip("/") == "":
            continue
        out.append(Mount(os.path.normpath(point), fields[2], _unescape(fields[0])))
    return out


def parse_mount_unit(text: str) -> Mount | None:
    """``What=``, ``Where=`` and ``Type=`` of a systemd ``.mount`` unit.

    >>> parse_mount_unit("[Unit]\\nDescription=x\\n[Mount]\\nWhat=//nas/s\\nWhere=/srv/scans\\nType=cifs\\n")
    Mount(mount_point='/srv/scans', fs_type='cifs', source='//nas/s')
    """
    section, keys = "", {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Mount" and "=" in line and not line.startswith(("#", ";")):
            k, _, v = line.partition("=")
            keys[k.strip()] = v.strip()
    where = keys.get("Where", "")
    if not where.startswith("/") or where.rstrip("/") == "":
        return None
    return Mount(os.path.normpath(where), keys.get("Type", ""), keys.get("What", ""))


def declared_mounts(fstab: Path = FSTAB, unit_dirs: tuple[Path, ...] = MOUNT_UNIT_DIRS) -> list[tuple[Mount, str]]:
    """Every mount the system is told to make: ``(mount, where it is declared)``."""
    out: list[tuple[Mount, str]] = []
    try:
        out += [(m, str(fstab)) for m in parse_fstab(fstab.read_text(encoding="utf-8", errors="surrogateescape"))]
    except OSError:
        pass
    for d in unit_dirs:
        try:
            units = sorted(d.glob("*.mount"))
        except OSError:
            continue
        for u in units:
            try:
                m = parse_mount_unit(u.read_text(encoding="utf-8", errors="surrogateescape"))
            except OSError:
                continue
            if m is not None:
                out.append((m, str(u)))
    return out


@dataclass(frozen=True)
class FolderFacts:
    """What the system says about one configured folder, right now.

    ``error`` is ``"missing"``, ``"not_a_folder"`` or ``"unreachable: <why>"``
    when it could not be stat'ed as a folder; ``mount`` is the mount holding
    it; ``unmounted`` names a declared mount point above (or at) it where
    nothing is mounted now, and the file declaring it.
    """

    path: str
    st_dev: int = 0
    error: str = ""
    mount: Mount | None = None
    unmounted: tuple[str, str] | None = None


def folder_facts(path: str | os.PathLike[str], mounts: list[Mount],
                 declared: list[tuple[Mount, str]]) -> FolderFacts:
    """Stat ``path`` and place it in the mount table; never creates anything."""
    p = os.path.abspath(path)
    unmounted = None
    mounted = {m.mount_point.rstrip("/") or "/" for m in mounts}
    best = ""
    for m, where in declared:
        mp = m.mount_point.rstrip("/") or "/"
        if (p == mp or p.startswith(mp + "/")) and len(mp) > len(best):
            best = mp
            unmounted = None if mp in mounted else (mp, where)
    try:
        st = os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        return FolderFacts(p, error="missing", unmounted=unmounted)
    except OSError as exc:
        return FolderFacts(p, error=f"unreachable: {exc.strerror or exc}", unmounted=unmounted)
    if not stat.S_ISDIR(st.st_mode):
        return FolderFacts(p, st_dev=st.st_dev, error="not_a_folder", unmounted=unmounted)
    return FolderFacts(p, st_dev=st.st_dev, mount=mount_for(os.path.realpath(p), mounts), unmounted=unmounted)
