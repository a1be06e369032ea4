"""Network filesystem detection from a mountinfo text."""

from __future__ import annotations

import pytest

from despeckled.daemon import mounts

MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:40 / /srv/scans rw,relatime shared:2 - cifs //nas/scans rw,vers=3.1.1
31 22 0:41 / /srv/nfs rw,relatime shared:3 - nfs4 nas:/export rw
32 22 0:42 / /home/u/remote rw,nosuid - fuse.sshfs u@host:/data rw
33 30 8:2 / /srv/scans/local\040disk rw - xfs /dev/sdb1 rw
34 22 0:43 / /mnt/usb rw - fuseblk /dev/sdc1 rw
"""


@pytest.fixture
def table():
    return mounts.parse_mountinfo(MOUNTINFO)


@pytest.mark.parametrize("path, fstype, poll", [
    ("/srv/scans/inbox", "cifs", True),
    ("/srv/nfs/a/b", "nfs4", True),
    ("/home/u/remote/in", "fuse.sshfs", True),
    ("/srv/scans/local disk/in", "xfs", False),   # nested mount, escaped space
    ("/mnt/usb/in", "fuseblk", False),
    ("/var/lib/x", "ext4", False),
])
def test_auto_polls_network_and_fuse_mounts(table, path, fstype, poll):
    assert mounts.fs_type(path, table) == fstype
    assert mounts.needs_polling(path, "auto", table)[0] is poll


def test_explicit_setting_wins(table):
    assert mounts.needs_polling("/srv/scans/in", False, table) == (False, "polling = false in the config")
    assert mounts.needs_polling("/var/x", True, table)[0] is True


def test_real_mount_table_and_a_missing_folder():
    # a watch folder that does not exist yet is judged by its nearest parent
    poll, reason = mounts.needs_polling("/nonexistent/deeper/inbox")
    assert isinstance(poll, bool) and reason


def test_unreadable_table_polls_to_be_safe(tmp_path):
    assert mounts.read_mounts(tmp_path / "missing") == []
    assert mounts.needs_polling("/x", "auto", [])[0] is True
