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
