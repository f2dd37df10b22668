"""Paths to the style sheet and icons shipped in the repository's ``resources/``."""
from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
STYLE_SHEET = RESOURCES / "styles" / "emdesk.qss"
APP_ICON = RESOURCES / "icons" / "emdesk.svg"
MAP_STYLE = RESOURCES / "styles" / "map.css"      # the map pages' own sheet


ICONS = RESOURCES / "icons"


def read_style_sheet() -> str:
    """The style sheet, with ``@icons/`` made absolute (QSS urls are relative to the cwd)."""
    try:
        text = STYLE_SHEET.read_text(encoding="utf-8")
    except OSError:
        return ""   # an unstyled window is still a working window
    return text.replace("@icons/", ICONS.as_posix() + "/")
