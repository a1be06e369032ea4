"""Claims and name clashes between two SMB clients of one share (issue 12).

Two smbnetfs (FUSE) mounts of the test Samba server are two clients, as two
hosts would be. On smbnetfs ``renameat2(RENAME_NOREPLACE)`` is EINVAL and
``link`` is EPERM, so :func:`despeckled.io.fsutil.rename_noreplace` takes its
last resort (check and rename under a ``mkdir`` lock); ``O_EXCL`` is not
exclusive between two clients there, ``mkdir`` and ``rename`` are. Each race
is run many times with both clients released by a barrier; the result is
judged on the server's disk.
"""

from __future__ import annotations

import errno
import os
import threading

import pytest

from despeckled.daemon import claims
from despeckled.io import fsutil

smb = pytest.importorskip("tests.e2e.smb_share", reason="needs the SMB share harness (tests/e2e/smb_share.py)")
smb_share = smb.smb_share  # the fixture: smbd on 127.0.0.1 and a first smbnetfs mount

ROUNDS = 40


@pytest.fixture
def two_clients(smb_share, tmp_path_factory):
    second = smb.SmbnetfsMount(tmp_path_factory.mktemp("smb2"), smb_share.server)
    second.mount()
    try:
        yield smb_share.root, second.share, smb_share.backing
    finally:
        second.unmount()


def race(op_a, op_b) -> list:
    """Run both at once; each result is True or the errno name."""
    res: list = [None, None]
    go = threading.Barrier(2)

    def run(k, op):
        go.wait()
        try:
            op()
            res[k] = True
        except OSError as exc:
            res[k] = errno.errorcode.get(exc.errno, str(exc))

    threads = [threading.Thread(target=run, args=(0, op_a)), threading.Thread(target=run, args=(1, op_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return res


def test_the_fallback_in_use_on_this_share(two_clients):
    import ctypes

    a, _, _ = two_clients
    (a / "x").write_bytes(b"x")
    libc = fsutil.load_libc()
    rc = libc.renameat2(-100, os.fsencode(a / "x"), -100, os.fsencode(a / "y"), 1)
    print(f"SMB figure: renameat2(RENAME_NOREPLACE): {'ok' if rc == 0 else errno.errorcode[ctypes.get_errno()]}")
    try:
        os.link(a / "x", a / "x2")
        print("SMB figure: link(): ok")
    except OSError as exc:
        print(f"SMB figure: link(): {errno.errorcode.get(exc.errno)}")
    (a / "t").write_bytes(b"t")
    with pytest.raises(FileExistsError):
        fsutil.rename_noreplace(a / "x", a / "t")
    assert (a / "t").read_bytes() == b"t"


def test_two_clients_publishing_one_name_never_overwrite(two_clients):
    a, b, disk = two_clients
    (a / "pub").mkdir()
    for i in range(ROUNDS):
        (a / "pub" / f"a{i}").write_bytes(b"A")
        (b / "pub" / f"b{i}").write_bytes(b"B")
        res = race(lambda: fsutil.rename_noreplace(a / "pub" / f"a{i}", a / "pub" / f"t{i}"),
                   lambda: fsutil.rename_noreplace(b / "pub" / f"b{i}", b / "pub" / f"t{i}"))
        assert sorted(res, key=str) == sorted([True, "EEXIST"], key=str), (i, res)
        left = {p.name: p.read_bytes() for p in (disk / "pub").iterdir() if p.name.endswith(str(i))}
        assert len(left) == 2 and sorted(left.values()) == [b"A", b"B"], (i, left)  # both files kept
    assert [p.name for p in (disk / "pub").iterdir() if p.is_dir()] == []  # no lock left behind


def test_two_clients_reserving_one_file_one_wins(two_clients):
    a, b, disk = two_clients
    (a / "work").mkdir()
    ha, hb = claims.Holder.me(), claims.Holder.me()
    for i in range(ROUNDS):
        got: list = [None, None]
        res = race(lambda: got.__setitem__(0, claims.reserve(a / "work", f"k{i}", ha, 60)),
                   lambda: got.__setitem__(1, claims.reserve(b / "work", f"k{i}", hb, 60)))
        assert res == [True, True]
        assert sum(g is not None for g in got) == 1, (i, got)
        winner = ha if got[0] is not None else hb
        assert claims.read_lease(disk / "work" / f"k{i}")["instance"] == winner.instance


def test_two_clients_taking_over_one_claim_one_wins(two_clients):
    a, b, disk = two_clients
    (a / "work").mkdir()
    ha, hb = claims.Holder.me(), claims.Holder.me()
    for i in range(ROUNDS):
        claims.reserve(a / "work", f"c{i}", claims.Holder.me(), 60)
        (a / "work" / f"c{i}" / "manifest.json").write_text("{}")
        got: list = [None, None]
        race(lambda: got.__setitem__(0, claims.take_over(a / "work", f"c{i}", ha, 60)),
             lambda: got.__setitem__(1, claims.take_over(b / "work", f"c{i}", hb, 60)))
        assert len([g for g in got if g]) == 1, (i, got)
        assert (disk / "work" / [g for g in got if g][0] / "manifest.json").exists()
