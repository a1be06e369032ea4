"""Crash-safe file primitives: write to a temp name, fsync, publish by rename.

Every file despeckled creates goes through :func:`atomic_output` (or
:func:`copy_no_clobber`, built on it), and every file it moves is renamed with
:func:`rename_noreplace` (a filing that crosses filesystems is copied to a
temp name first, see :mod:`despeckled.daemon.lifecycle`), so that

* nobody ever sees a partial file under its final name;
* nothing is ever overwritten: a name clash gets a new readable name
  (``scan0001.tif`` -> ``scan0001-1.tif``);
* a crash at any instant leaves either the old state or the new one, plus at
  worst a hidden temp file (``TEMP_MARKER`` in its name) that recovery removes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

#: Every temp file despeckled writes has this in its name, and starts with a dot.
TEMP_MARKER = ".despeckled-tmp"

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
_libc = None
_renameat2_ok = True


def load_libc() -> ctypes.CDLL:
    """The C library (``use_errno=True``), loaded once per process.

    The symbols already in the process come first (``dlopen(NULL)``: libc is
    always there): ``ctypes.util.find_library("c")`` runs ``ldconfig -p`` in
    a child process, which cost a worker up to 30 ms on its first published
    file. ``find_library`` stays the fallback where ``dlopen(NULL)`` cannot be had.
    """
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def temp_name_for(name: str) -> str:
    """A hidden temp name for ``name``, in the same folder.

    >>> t = temp_name_for("scan.tif")
    >>> t.startswith(".scan.tif.") and t.endswith(TEMP_MARKER)
    True
    """
    return f".{name}.{secrets.token_hex(4)}{TEMP_MARKER}"


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_MARKER)


def numbered_name(name: str, n: int) -> str:
    """The ``n``-th alternative for ``name``; ``n == 0`` is the name itself.

    >>> numbered_name("scan0001.tif", 0)
    'scan0001.tif'
    >>> numbered_name("scan0001.tif", 1)
    'scan0001-1.tif'
    >>> numbered_name("scan0001.error.json", 2)
    'scan0001-2.error.json'
    >>> numbered_name("README", 3)
    'README-3'
    """
    if n == 0:
        return name
    stem, dot, rest = name.partition(".")
    if not stem:  # hidden file such as ".profile": keep the dot on the stem
        stem, dot, rest = name, "", ""
    return f"{stem}-{n}{dot}{rest}"


def existing_ancestor(path: str | os.PathLike[str]) -> Path:
    """``path`` itself when it exists, else its nearest existing parent (the
    folder a missing one would be created in, and whose filesystem it gets).

    >>> existing_ancestor("/proc/no/such/folder")
    PosixPath('/proc')
    """
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists():
            return p
    return Path("/")


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a directory so a rename in it survives power loss. Best effort:
    some network filesystems refuse to open or sync a directory."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rename_noreplace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Rename ``src`` to ``dst`` atomically, failing with ``FileExistsError``
    if ``dst`` exists. Never overwrites.

    Uses ``renameat2(RENAME_NOREPLACE)`` where the filesystem supports it,
    else ``link`` + ``unlink`` (which never overwrites either: ``link`` fails
    with ``EEXIST`` on the server, also on NFS; a crash in between leaves two
    names for one inode, which :func:`same_file` detects), else, on
    filesystems with neither (FUSE SMB clients such as smbnetfs), a check
    followed by ``rename`` under a per-name lock (:func:`_rename_checked`).

    ``src`` must be a name only its caller uses (a staging or work file):
    with the link fallback, two callers moving the *same* source could both
    succeed. Claiming a shared inbox file is a plain ``rename`` instead.
    """
    global _renameat2_ok
    src_b, dst_b = os.fsencode(src), os.fsencode(dst)
    if _renameat2_ok:
        try:
            libc = load_libc()
            rc = libc.renameat2(_AT_FDCWD, src_b, _AT_FDCWD, dst_b, _RENAME_NOREPLACE)
        except (OSError, AttributeError):
            _renameat2_ok = False
        else:
            if rc == 0:
                return
            err = ctypes.get_errno()
            if err == errno.EEXIST:
                raise FileExistsError(err, os.strerror(err), os.fsdecode(dst))
            if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise OSError(err, os.strerror(err), os.fsdecode(src))
            # the filesystem (CIFS, NFS, ...) does not support the flag: fall through
    try:
        os.link(src_b, dst_b)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        _rename_checked(src_b, dst_b)
        return
    os.unlink(src_b)


def _rename_checked(src: bytes, dst: bytes) -> None:
    """``rename`` that never overwrites, where the filesystem offers neither
    ``RENAME_NOREPLACE`` nor hard links (measured on smbnetfs: ``link`` is
    EPERM, and ``O_EXCL`` is not exclusive between two clients, but ``mkdir``
    is). A hidden lock folder next to the target, ``.NAME.despeckled-tmp``,
    is taken with ``mkdir`` while the target is checked and renamed, so two
    hosts publishing the same name cannot both find it free. A crash while
    holding it leaves the lock behind: that name then counts as taken (the
    caller picks ``NAME-1``), never overwritten."""
    head, _, name = dst.rpartition(b"/")
    lock = (head + b"/" if head else b"") + b"." + name + os.fsencode(TEMP_MARKER)
    try:
        os.mkdir(lock)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "name being published by another process", os.fsdecode(dst)) from None
    try:
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fsdecode(dst))
        os.rename(src, dst)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(lock)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` are two names for one inode."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def publish_unique(tmp: Path, directory: Path, name: str, *, max_tries: int = 10_000) -> Path:
    """Rename the finished file ``tmp`` into ``directory`` as ``name``, or the
    first free ``name-N``. Returns the final path. Never overwrites."""
    for n in range(max_tries):
        target = directory / numbered_name(name, n)
        try:
            rename_noreplace(tmp, target)
        except FileExistsError:
            continue
        fsync_dir(directory)
        return target
    raise FileExistsError(errno.EEXIST, f"no free name for {name!r} after {max_tries} tries", str(directory))


@contextlib.contextmanager
def atomic_output(directory: str | os.PathLike[str], name: str) -> Iterator[_Publication]:
    """Write a new file that appears in ``directory`` only when complete.

    Yields a :class:`_Publication` whose ``.tmp`` path the caller writes to.
    On a clean exit the file is fsynced and published under ``name`` or the
    first free ``name-N`` (``.path`` then holds the final path). On an
    exception the temp file is removed and nothing is published.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for _ in range(2):
    ...     with atomic_output(d, "a.txt") as out:
    ...         _ = out.tmp.write_text("hi")
    >>> sorted(p.name for p in d.iterdir())
    ['a-1.txt', 'a.txt']
    """
    directory = Path(directory)
    pub = _Publication(directory / temp_name_for(name))
    try:
        yield pub
        fsync_file(pub.tmp)
        pub.path = publish_unique(pub.tmp, directory, name)
    finally:
        if pub.path is None:
            with contextlib.suppress(FileNotFoundError):
                pub.tmp.unlink()


class _Publication:
    __slots__ = ("tmp", "path")

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.path: Path | None = None


def copy_no_clobber(src: Path, directory: Path, name: str) -> Path:
    """Copy ``src``'s bytes into ``directory`` as ``name`` or the first free
    ``name-N``, through :func:`atomic_output` (temp name, fsync, publish).
    Returns the final path."""
    with atomic_output(directory, name) as out:
        with open(src, "rb") as fin, open(out.tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    assert out.path is not None
    return out.path


def replace_atomic(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> None:
    """Replace the whole content of ``path`` (a file despeckled owns, such as
    its state file, never a user's file) so readers see the old or the new
    bytes, never a mix: temp name in the same folder, fsync, ``rename``.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "state.json"
    >>> replace_atomic(p, b"1"); replace_atomic(p, b"2")
    >>> p.read_bytes(), sorted(x.name for x in p.parent.iterdir())
    (b'2', ['state.json'])
    """
    path = Path(path)
    tmp = path.with_name(temp_name_for(path.name))
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def mkdir_below(root: str | os.PathLike[str], sub: str | os.PathLike[str] = "", *, st_dev: int | None = None) -> Path:
    """Create ``root/sub`` and the folders between them, never ``root``
    itself: a configured folder that is missing (a share unmounted, a folder
    renamed away) is never replaced by a stand-in.

    Raises :class:`despeckled.errors.FolderMissingError` when ``root`` does
    not exist, is not a folder, or (``st_dev`` given) is on another
    filesystem than expected.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> mkdir_below(d, "a/b").relative_to(d).as_posix()
    'a/b'
    >>> mkdir_below(d / "gone", "a")
    Traceback (most recent call last):
    ...
    despeckled.errors.FolderMissingError: ... does not exist
    """
    from despeckled.errors import FolderMissingError

    root = Path(root)
    try:
        st = os.stat(root)
    except FileNotFoundError:
        raise FolderMissingError(root, "missing", f"{root} does not exist") from None
    if not os.path.isdir(root):
        raise FolderMissingError(root, "not_a_folder", f"{root} is not a folder")
    if st_dev is not None and st.st_dev != st_dev:
        raise FolderMissingError(root, "other_filesystem", f"{root} is on another filesystem than when its watch came up")
    target = root
    for part in Path(sub).parts:
        if part in ("", "."):
            continue
        target = target / part
        try:
            target.mkdir()  # one level at a time: if root went away meanwhile, this fails
        except FileExistsError:
            pass
        except FileNotFoundError:
            raise FolderMissingError(root, "missing", f"{root} does not exist") from None
    return target
