"""Unexpected errors end up in the program's log file, with their traceback."""
from __future__ import annotations

import subprocess
import sys


def test_an_uncaught_error_in_a_thread_and_in_the_main_program_is_logged(tmp_path):
    code = (
        "import threading, pathlib, emdesk.logs as logs\n"
        f"logs.setup('desktop', directory=pathlib.Path({str(tmp_path)!r}))\n"
        "t = threading.Thread(target=lambda: 1 / 0, name='worker'); t.start(); t.join()\n"
        "raise RuntimeError('boom in main')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    text = (tmp_path / "desktop.log").read_text()
    assert "unexpected error in thread worker" in text and "ZeroDivisionError" in text
    assert "RuntimeError: boom in main" in text and "Traceback" in text
