"""A real SMB share for the tests: Samba's ``smbd`` on 127.0.0.1, mounted on
this host through ``smbnetfs`` (FUSE, libsmbclient), the way an office
runs despeckled against a NAS. Uploads go through ``smbprotocol``, a real SMB
client, so the daemon sees them only through the share, as it would see a
scanner's.

Everything lives under the test's tmp_path: the server's smb.conf, its
private/lock/state folders and password database (user ``scanner``, mapped
to the Unix user running the tests, so no system user is added), the shared
folder, smbnetfs's config (its ``$HOME/.smb``) and the mount point. The
server listens on a free port of its own, never 445, so runs do not clash;
smbnetfs reaches it as ``<mount>/127.0.0.1:<port>/<share>``.

The server can be stopped (its whole process group: an outage, as a NAS
reboot looks from the client) and started again on the same port. All waits
are conditions with deadlines.

The fixture ``smb_share`` skips the test, saying why, only where the parts
cannot run here: no ``/dev/fuse``, a mount that is not permitted, not root
(smbd needs it), or Samba/smbnetfs/smbprotocol not installed. Under CI
(``CI`` set) a missing program is an error instead: ``.ci/run`` installs
them, so their absence there is a broken CI, not a reason to skip.
"""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.waiting import pace, wait_for

USER = "scanner"
PASSWORD = "scan-Pass-1"
SHARE = "scans"
PROGRAMS = ("smbd", "smbpasswd", "smbnetfs")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _fusermount() -> str | None:
    return shutil.which("fusermount3") or shutil.which("fusermount")


def unavailable() -> str | None:
    """Why a real share cannot run here, or None."""
    if not os.path.exists("/dev/fuse"):
        return "FUSE is unavailable: /dev/fuse does not exist (in a container: --device /dev/fuse)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "FUSE is unavailable: /dev/fuse is not readable and writable for this user"
    if os.geteuid() != 0:
        return "the test Samba server (smbd) must run as root"
    missing = [p for p in PROGRAMS if shutil.which(p) is None and not os.path.exists(f"/usr/sbin/{p}")]
    if _fusermount() is None:
        missing.append("fusermount")
    try:
        import smbclient  # noqa: F401
    except ImportError:
        missing.append("smbprotocol (pip install -e '.[test]')")
    if missing:
        why = f"not installed: {', '.join(missing)} (apt install samba smbnetfs fuse3)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide a real SMB share: {why}")
        return why
    return None


def _program(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class SambaServer:
    """``smbd`` serving ``share_dir`` as ``//127.0.0.1:<port>/scans``."""

    def __init__(self, base: Path, share_dir: Path) -> None:
        self.base = base
        self.share_dir = share_dir
        self.port = _free_port()
        self.conf = base / "smb.conf"
        self.proc: subprocess.Popen | None = None
        self._log = base / "smbd.out"
        for d in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
            (base / d).mkdir(parents=True, exist_ok=True)
        share_dir.mkdir(parents=True, exist_ok=True)
        me = pwd.getpwuid(os.geteuid()).pw_name
        (base / "usermap").write_text(f"{me} = {USER}\n")
        self.conf.write_text(f"""\
[global]
  netbios name = DESPECKLEDTEST
  workgroup = WORKGROUP
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = {self.port}
  disable netbios = yes
  server min protocol = SMB2_10
  private dir = {base}/private
  lock directory = {base}/lock
  state directory = {base}/state
  cache directory = {base}/cache
  pid directory = {base}/pid
  ncalrpc dir = {base}/ncalrpc
  log file = {base}/log/smbd.log
  passdb backend = tdbsam:{base}/private/passdb.tdb
  username map = {base}/usermap
  map to guest = never
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  # what an office NAS does: no oplock games with the tests' timing
  kernel oplocks = no
[{SHARE}]
  path = {share_dir}
  read only = no
  guest ok = no
  create mask = 0664
  directory mask = 0775
""")
        r = subprocess.run([_program("smbpasswd"), "-c", str(self.conf), "-a", "-s", me],
                           input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"smbpasswd failed: {r.stdout}{r.stderr}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30) -> None:
        """Start smbd and wait until it accepts connections."""
        assert not self.running
        with open(self._log, "ab") as out:
            self.proc = subprocess.Popen(
                [_program("smbd"), "--foreground", "--no-process-group", "--debug-stdout", "-d", "1",
                 "--configfile", str(self.conf)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.base,
                start_new_session=True,  # its own process group: stop() takes its children too
            )
        wait_for(lambda: _listening(self.port) or self.proc.poll() is not None, timeout, interval=0.05,
                 what=f"smbd listening on 127.0.0.1:{self.port}")
        assert self.proc.poll() is None, self._log.read_text(errors="replace")[-3000:]

    def stop(self, timeout: float = 30) -> None:
        """An outage: smbd and every connection it serves go away at once."""
        if not self.running:
            return
        pgid = self.proc.pid  # start_new_session: the group is the one we started
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout)
        # children serving connections are in the same group; wait until
        # none is left and the port refuses
        def gone() -> bool:
            try:
                os.killpg(pgid, 0)
                return False
            except ProcessLookupError:
                return not _listening(self.port)
        wait_for(gone, timeout, interval=0.05, what="smbd gone")


class SmbnetfsMount:
    """The share mounted through smbnetfs (FUSE) on ``mount_point``."""

    def __init__(self, base: Path, server: SambaServer) -> None:
        self.base = base
        self.server = server
        self.mount_point = base / "mnt"
        self.home = base / "home"
        self.proc: subprocess.Popen | None = None
        self.mount_point.mkdir(parents=True, exist_ok=True)
        smb = self.home / ".smb"
        smb.mkdir(parents=True, exist_ok=True)
        # libsmbclient's own smb.conf (smbnetfs reads ~/.smb/smb.conf)
        (smb / "smb.conf").write_text("[global]\n  client min protocol = SMB2_10\n  disable netbios = yes\n"
                                      "  name resolve order = host\n")
        (smb / "smbnetfs.conf").write_text(f'auth "127.0.0.1" "{USER}" "{PASSWORD}"\n')
        for p in smb.iterdir():
            p.chmod(0o600)

    @property
    def share(self) -> Path:
        """The share's root as the daemon sees it."""
        return self.mount_point / f"127.0.0.1:{self.server.port}" / SHARE

    @property
    def mounted(self) -> bool:
        return os.path.ismount(self.mount_point)

    def mount(self, timeout: float = 30) -> None:
        env = {**os.environ, "HOME": str(self.home)}
        with open(self.base / "smbnetfs.out", "ab") as out:
            self.proc = subprocess.Popen(
                ["smbnetfs", str(self.mount_point), "-f",
                 "-o", "smb_query_browsers=false,use_libsecret=false,config=" + str(self.home / ".smb" / "smbnetfs.conf"),
                 "-o", f"log_file={self.base / 'smbnetfs.log'}"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            )
        try:
            wait_for(lambda: self.mounted or self.proc.poll() is not None, timeout, interval=0.05,
                     what="smbnetfs mounted")
        except AssertionError:
            self.unmount()
            raise
        if self.proc.poll() is not None:
            text = (self.base / "smbnetfs.out").read_text(errors="replace")
            if "permitted" in text or "fuse: device not found" in text:
                pytest.skip(f"FUSE mount not permitted here: {text.strip()[-300:]}")
            raise AssertionError(f"smbnetfs exited: {text[-2000:]}")
        wait_for(self.reachable, timeout, interval=0.1, what=f"{self.share} reachable")

    def reachable(self) -> bool:
        try:
            os.listdir(self.share)
            return True
        except OSError:
            return False

    def unmount(self, timeout: float = 30) -> None:
        if self.mounted:
            r = subprocess.run([_fusermount(), "-u", str(self.mount_point)], capture_output=True, text=True, timeout=30)
            if r.returncode != 0 and self.mounted:
                subprocess.run([_fusermount(), "-u", "-z", str(self.mount_point)], capture_output=True, timeout=30)
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None


class Uploader:
    """A real SMB client (``smbprotocol``) writing into the share, at the
    speed and in the manner the test asks (chunks with pauses, a temp name
    then a rename, one handle kept open while pages are appended)."""

    def __init__(self, server: SambaServer) -> None:
        self.server = server

    def unc(self, rel: str) -> str:
        return "\\\\127.0.0.1\\" + SHARE + "\\" + rel.replace("/", "\\")

    def _kw(self) -> dict:
        return {"username": USER, "password": PASSWORD, "port": self.server.port, "connection_timeout": 10}

    def reconnect(self) -> None:
        """Forget pooled connections (after an outage the old one is dead)."""
        import smbclient

        smbclient.reset_connection_cache()

    def mkdir(self, rel: str) -> None:
        import smbclient

        smbclient.makedirs(self.unc(rel), exist_ok=True, **self._kw())

    def put(self, rel: str, data: bytes, *, chunk: int = 0, pause: float = 0.0) -> float:
        """Write ``data`` to ``rel`` (in chunks of ``chunk`` bytes with
        ``pause`` s between them); returns the wall time the handle closed."""
        import smbclient

        chunk = chunk or len(data) or 1
        with smbclient.open_file(self.unc(rel), mode="wb", share_access="rwd", **self._kw()) as f:
            for i in range(0, len(data), chunk):
                if i and pause:
                    pace(pause)
                f.write(data[i:i + chunk])
                f.flush()
        return time.time()

    def rename(self, src: str, dst: str) -> float:
        import smbclient

        smbclient.rename(self.unc(src), self.unc(dst), **self._kw())
        return time.time()

    def open(self, rel: str, mode: str = "wb"):
        import smbclient

        return smbclient.open_file(self.unc(rel), mode=mode, share_access="rwd", **self._kw())


def write_states(f, states: list[bytes], pause: float) -> float:
    """Write successive versions of one file through one open handle ``f``,
    the way a scanner appends a page: the new bytes at the end first, then
    the few earlier bytes that changed (a TIFF's next-IFD pointer), so the
    file is a valid, shorter document after every step. Pauses ``pause`` s
    between versions; returns the wall time the last byte was written."""
    prev = b""
    for k, state in enumerate(states):
        if k and pause:
            pace(pause)
        f.seek(len(prev))
        f.write(state[len(prev):])
        f.flush()
        common = min(len(prev), len(state))
        i = 0
        while i < common:
            if prev[i] != state[i]:
                j = i
                while j < common and prev[j] != state[j]:
                    j += 1
                f.seek(i)
                f.write(state[i:j])
                f.flush()
                i = j
            else:
                i += 1
        prev = state
    return time.time()


def tiff_states(pages: list) -> list[bytes]:
    """The bytes of a multi-page TIFF after each of its pages (Pillow's
    appending writer: page k+1 is appended and page k's next-IFD pointer
    patched), given 2-D uint8 arrays."""
    import io

    from PIL import Image, TiffImagePlugin

    buf = io.BytesIO()
    states = []
    with TiffImagePlugin.AppendingTiffWriter(buf) as tf:
        for page in pages:
            Image.fromarray(page).save(tf, format="TIFF", compression="tiff_lzw", dpi=(200, 200))
            tf.newFrame()
            states.append(buf.getvalue())
    return states


class Share:
    """The server, its mount and an uploader, torn down in order."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.backing = base / "exported"  # the server's disk: what the NAS holds
        self.server = SambaServer(base / "samba", self.backing)
        self.mount = SmbnetfsMount(base / "client", self.server)
        self.upload = Uploader(self.server)

    @property
    def root(self) -> Path:
        return self.mount.share

    def outage(self) -> None:
        self.server.stop()

    def back(self) -> float:
        """Start the server again; returns the wall time it accepts connections."""
        self.server.start()
        self.upload.reconnect()
        return time.time()

    def close(self) -> None:
        try:
            self.upload.reconnect()
        except Exception:  # noqa: BLE001 - teardown carries on
            pass
        self.mount.unmount()
        self.server.stop()


def _share(tmp_path_factory, mounted: bool):
    why = unavailable()
    if why:
        pytest.skip(why)
    # a short base path: smbnetfs paths carry the host:port, and sockets have length limits
    base = tmp_path_factory.mktemp("smb")
    share = Share(base)
    try:
        share.server.start()
        if mounted:
            share.mount.mount()
        yield share
    finally:
        share.close()


@pytest.fixture
def smb_share(tmp_path_factory):
    """A running Samba server, mounted through smbnetfs."""
    yield from _share(tmp_path_factory, mounted=True)


@pytest.fixture
def smb_share_unmounted(tmp_path_factory):
    """A running Samba server whose share is not mounted yet (``share.mount.mount()``)."""
    yield from _share(tmp_path_factory, mounted=False)


def is_outage_error(exc: OSError) -> bool:
    return exc.errno in (errno.EIO, errno.ENOTCONN, errno.ECONNREFUSED, errno.EHOSTDOWN, errno.ETIMEDOUT)
