import subprocess
import sys


def test_cli_version_runs_as_subprocess():
    out = subprocess.run([sys.executable, "-m", "despeckled", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("despeckled ")
