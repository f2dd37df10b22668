"""The layering contract (pyproject's import-linter contracts) holds, and would fail if broken."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
                          cwd=cwd, capture_output=True, text=True)


def test_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("emdesk/domain/_bad.py", "import PySide6.QtCore", "The domain is pure"),
    ("emdesk/services/_bad.py", "import sqlite3", "SQL only in the store"),
    ("emdesk/store/_bad.py", "import emdesk.services.cases", "Layers point one way"),
    ("emdesk/ui/_bad.py", "import emdesk.store", "Widgets never touch the store"),
])
def test_a_violation_breaks_the_build(tmp_path, module, line, contract):
    """Copy the package, add one upward or forbidden import, and the linter must fail."""
    import shutil
    shutil.copytree(ROOT / "emdesk", tmp_path / "emdesk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(textwrap.dedent(line) + "\n")
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
                            cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout
