"""Log lines from several processes sharing one stderr (the daemon and its
workers under the journal) never run into one another."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import sys
from despeckled import log
log.configure_logging(json=True)
logger = log.get_logger("t", who=sys.argv[1])
for i in range(3000):
    logger.info("line", i=i, pad="x" * 200)
"""


def test_lines_from_several_processes_stay_whole(tmp_path):
    out = tmp_path / "shared.log"
    with open(out, "ab") as f:  # one file, O_APPEND, inherited by all: as systemd hands out stderr
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(k)], stderr=f) for k in range(3)]
        assert [p.wait(120) for p in procs] == [0, 0, 0]
    lines = out.read_text().splitlines()
    parsed = [json.loads(line) for line in lines]  # a glued or split line fails here
    assert len(parsed) == 9000
