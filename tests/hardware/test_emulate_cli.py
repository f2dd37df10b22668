"""The emulator's command line as the README shows it, and bad numbers refused plainly."""
from __future__ import annotations

import json
import subprocess
import sys


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "hardware.emulate", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_write_key_file_alone_writes_the_key_file_and_stops(tmp_path):
    done = run("--write-key-file", str(tmp_path / "key.json"), cwd=None)
    assert done.returncode == 0, done.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    assert key["public_key"] and "private" not in json.dumps(key).lower()


def test_a_port_out_of_range_is_a_usage_error_not_a_traceback():
    done = run("--kind", "gps_tag", "--listen", "127.0.0.1:99999", cwd=None)
    assert done.returncode == 2
    assert "port from 0 to 65535" in done.stderr and "Traceback" not in done.stderr
