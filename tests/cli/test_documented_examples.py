"""The examples in docs/order-import.md, run with the very commands the document gives."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "order-import.md"


def _block(language: str) -> str:
    return re.search(rf"```{language}\n(.*?)\n```", DOC.read_text(), re.S)[1]


def test_the_documented_commands_import_the_documented_examples_clean(emdesk, tmp_path):
    db = tmp_path / "centre.db"
    emdesk("init", "--db", str(db), "--plain", password="admin-password", check=True)
    (tmp_path / "example.json").write_text(_block("json"))
    (tmp_path / "example.csv").write_text(_block("csv") + "\n")
    commands = [line for line in _block("sh").splitlines() if line.strip()]
    assert len(commands) == 2
    for line in commands:
        words = shlex.split(line)
        env = {}
        while "=" in words[0]:                         # VARIABLE=value before the command
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        assert words.pop(0) == "emdesk"
        args = words
        args = [str(tmp_path / a) if a in ("example.json", "example.csv", "centre.db") else a for a in args]
        done = emdesk(*args, env_extra=env)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        assert " 0 kept as drafts" in done.stdout, done.stdout
