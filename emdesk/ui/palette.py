"""Named colours for what a style sheet cannot reach: table cells (model roles), chips
painted by a delegate, and rich text.  They live in the style sheet's ``palette``
block, with every other colour, and are read from there by name.
"""
from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtGui import QColor

from .resources import STYLE_SHEET

_BLOCK = re.compile(r"/\*\s*palette:(.*?)\*/", re.S)
_ENTRY = re.compile(r"([a-z][a-z-]*):\s*(#[0-9a-fA-F]{6})")


@lru_cache(maxsize=1)
def _palette() -> dict[str, str]:
    try:
        text = STYLE_SHEET.read_text(encoding="utf-8")
    except OSError:
        return {}                 # an unstyled window is still a working window
    block = _BLOCK.search(text)
    return dict(_ENTRY.findall(block.group(1))) if block else {}


def css(name: str) -> str:
    """The colour ``name`` for rich text (``#rrggbb``); black if the sheet lacks it."""
    return _palette().get(name, "black")


def colour(name: str) -> QColor:
    return QColor(css(name))


def names() -> list[str]:
    return sorted(_palette())
