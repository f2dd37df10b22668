from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def emdesk(tmp_path):
    """Run the real ``emdesk`` command in a subprocess, as a user or a script would."""
    def run(*args: str, password: str | None = None, check: bool = False, new_password: str | None = None,
            env_extra: dict | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path / "home"), **(env_extra or {})}
        env.pop("EMDESK_PASSWORD", None)
        env.pop("EMDESK_NEW_PASSWORD", None)
        if password is not None:
            env["EMDESK_PASSWORD"] = password
        if new_password is not None:
            env["EMDESK_NEW_PASSWORD"] = new_password
        result = subprocess.run([sys.executable, "-m", "emdesk", *args], capture_output=True, text=True,
                                env=env, stdin=subprocess.DEVNULL, timeout=180)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result
    return run
