"""sd_notify over real datagram sockets; the state file and `status`."""

from __future__ import annotations

import json
import os
import socket

from despeckled.daemon import state as state_mod
from despeckled.cli import main
from despeckled.daemon.sdnotify import Notifier


def test_notify_to_a_path_socket(tmp_path):
    path = tmp_path / "n.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(5)
    n = Notifier(str(path))
    assert n.ready("queue=0") and n.stopping()
    assert s.recv(100) == b"READY=1\nSTATUS=queue=0"
    assert s.recv(100) == b"STOPPING=1"
    s.close()


def test_notify_to_an_abstract_socket():
    name = f"despeckled-test-{os.getpid()}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    s.settimeout(5)
    assert Notifier("@" + name).watchdog()
    assert s.recv(100) == b"WATCHDOG=1"
    s.close()


def test_without_notify_socket_everything_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled and n.ready() is False


def test_a_vanished_socket_is_not_fatal(tmp_path):
    assert Notifier(str(tmp_path / "nobody-listens.sock")).ready() is False


def test_state_file_location_explicit_then_config_then_runtime_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path / "rt"))
    assert state_mod.choose_path(tmp_path / "x.json") == tmp_path / "x.json"
    assert state_mod.choose_path(None, tmp_path / "cfg.json") == tmp_path / "cfg.json"
    assert state_mod.choose_path() == tmp_path / "rt" / "state.json"


def test_status_exit_codes(tmp_path, capsys):
    st = tmp_path / "state.json"
    assert main(["status", "--state", str(st)]) == 6
    assert "not running" in capsys.readouterr().err
    state_mod.StateFile(st).write({"version": "x", "watches": [
        {"input": "/in", "output": "/out", "polling": False, "queue": 3, "in_flight": 1, "done": 7,
         "failed": 2, "blank_pages": 4, "stuck": ["/in/slow.png"], "stuck_count": 1, "last_error": "/in/b.png: empty"}]})
    assert main(["status", "--state", str(st)]) == 0
    out = capsys.readouterr().out
    assert "queue 3, in flight 1, done 7, failed 2, stuck 1, blank pages 4" in out and "stuck: /in/slow.png" in out
    assert "last error: /in/b.png: empty" in out
    doc = json.loads(st.read_text())
    doc["pid"] = 0x7FFFFFF0  # a pid that does not exist
    st.write_text(json.dumps(doc))
    assert main(["status", "--state", str(st)]) == 6
    assert "gone" in capsys.readouterr().err
