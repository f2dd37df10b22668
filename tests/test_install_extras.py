"""The desktop runs without the hub's packages, and the hub without Qt (pyproject extras)."""
from __future__ import annotations

import subprocess
import sys

RUN = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not installed with this extra)")
        return None
sys.meta_path.insert(0, NotInstalled())
from emdesk.cli import main
sys.exit(main(sys.argv[2:]))
"""


def emdesk_without(blocked: list[str], *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os
    env = {**os.environ, "EMDESK_PASSWORD": "long enough", **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", RUN, ",".join(blocked), *args], capture_output=True, text=True,
                          timeout=300, env=env, stdin=subprocess.DEVNULL)


def test_the_hub_needs_no_qt(tmp_path):
    hub = str(tmp_path / "hub.db")
    done = emdesk_without(["PySide6", "folium"], "hub", "init", "--store", hub)
    assert done.returncode == 0, done.stderr
    done = emdesk_without(["PySide6", "folium"], "hub", "load-demo", "--store", hub, "--subjects", "4")
    assert done.returncode == 0, done.stderr
    done = emdesk_without(["PySide6", "folium"], "hub", "devices", "--store", hub)
    assert done.returncode == 0, done.stderr


def test_the_desktop_commands_need_no_hub_packages(tmp_path):
    db = str(tmp_path / "laptop.db")
    server = ["starlette", "uvicorn", "psycopg"]
    done = emdesk_without(server, "init", "--db", db, "--plain")
    assert done.returncode == 0, done.stderr
    done = emdesk_without(server, "sync", "--db", db)          # not joined: a clear refusal, no ImportError
    assert done.returncode == 2 and "join" in done.stderr and "No module" not in done.stderr, done.stderr
