"""How the UI code is kept: looks in the style sheet, screens in small modules.

Fault 8 of issue 9: hex colours and inline style sheets scattered through ``ui/``, and
classes that had grown to hundreds of lines.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from emdesk.ui import palette

UI = Path(__file__).resolve().parents[2] / "emdesk" / "ui"
HEX = re.compile(r"#[0-9a-fA-F]{6}\b")
MAX_CLASS_LINES = 300


def sources():
    return sorted(UI.rglob("*.py"))


def test_colours_and_styles_live_in_the_style_sheet():
    offenders = []
    for path in sources():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HEX.search(line) or ("setStyleSheet(" in line and path.name != "qt_app.py"):
                offenders.append(f"{path.relative_to(UI)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_colour_the_code_names_is_in_the_palette():
    used = set()
    for path in sources():
        used |= set(re.findall(r"palette\.(?:colour|css)\(\"([a-z-]+)\"\)", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"palette\.(?:colour|css)\('([a-z-]+)'\)", path.read_text(encoding="utf-8")))
    assert used, "no palette colours found: the test proves nothing"
    assert used <= set(palette.names()), used - set(palette.names())


def test_no_class_in_the_ui_is_oversized():
    big = []
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    big.append(f"{path.relative_to(UI)}: {node.name} has {lines} lines")
    assert not big, "\n".join(big)
