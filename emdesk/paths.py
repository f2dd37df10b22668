"""Where emdesk keeps its files: the platform's user data directory unless told."""
from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path


def data_dir() -> Path:
    return user_data_path("emdesk", "emdesk")


def default_store() -> Path:
    return data_dir() / "emdesk.db"


def demo_store(seed: int) -> Path:
    return data_dir() / f"demo-{seed}.db"


def web_assets_dir() -> Path:
    """Where the install-time third-party files live (map web files, the PDF font):
    ``$EMDESK_WEB_ASSETS`` if set, else ``<venv>/share/emdesk/web`` inside a virtualenv,
    else ``web`` in the user's data directory."""
    import os
    import sys
    override = os.environ.get("EMDESK_WEB_ASSETS")
    if override:
        return Path(override)
    if sys.prefix != sys.base_prefix:               # a virtualenv: install beside its packages
        return Path(sys.prefix) / "share" / "emdesk" / "web"
    return data_dir() / "web"
