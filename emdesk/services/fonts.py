"""The fonts the breach pack PDF embeds: DejaVu Sans, pinned, installed at install time.

DejaVu covers Welsh (ŵ ŷ â …) and the other Latin, Greek and Cyrillic names a pack may
carry.  The font comes from the npm registry package below, fetched and integrity-checked
by ``python -m emdesk.ui.maps.assets fetch`` (``./dev`` runs it) into the same folder as the
map's web files.  It is never taken from the system: another DejaVu build would change
the PDF's bytes, and a pack must render to the same bytes (and hash) on every machine.
"""
from __future__ import annotations

from pathlib import Path

from emdesk.paths import web_assets_dir

# (npm name, version, the registry's dist.integrity): `npm view dejavu-fonts-ttf@2.37.3 dist.integrity`
DEJAVU = ("dejavu-fonts-ttf", "2.37.3",
          "sha512-f1hd7jJbeQa1VWcw+K2KrTXS50zTMaHpVC4XIKJpNcDeYR5ajMtj/iLlQDYNvLOKamUB3ARVVCf79lNwNVztSQ==")
FETCH_COMMAND = "python -m emdesk.ui.maps.assets fetch"
MARKER = ".emdesk-integrity"      # the fetcher writes it last: a folder without it is incomplete

REGULAR = "ttf/DejaVuSans.ttf"
BOLD = "ttf/DejaVuSans-Bold.ttf"


class FontMissing(RuntimeError):
    """The pinned font is not installed: the message says how to install it."""


def font_dir(root: Path | None = None) -> Path:
    name, version, _ = DEJAVU
    return (root or web_assets_dir()) / f"{name}@{version}"


def dejavu(relative: str = REGULAR, root: Path | None = None) -> Path:
    """An installed DejaVu file (``REGULAR``, ``BOLD``); FontMissing naming the fetch command."""
    folder = font_dir(root)
    try:
        complete = (folder / MARKER).read_text().strip() == DEJAVU[2]
    except OSError:
        complete = False
    path = folder / relative
    if not complete or not path.is_file():
        raise FontMissing(f"the breach pack font {DEJAVU[0]}@{DEJAVU[1]} is not installed in {folder}: "
                          f"install it once, with a network connection: {FETCH_COMMAND}")
    return path


__all__ = ["BOLD", "DEJAVU", "FETCH_COMMAND", "FontMissing", "REGULAR", "dejavu", "font_dir"]
