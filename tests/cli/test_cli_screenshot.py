"""``emdesk demo --screenshot PATH --as ROLE`` and ``emdesk --db FILE --screenshot PATH --as ROLE``."""
from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QImage


def _varied(path) -> int:
    """How many distinct colours a sample of the image has (a blank PNG has one)."""
    img = QImage(str(path))
    assert not img.isNull(), f"{path} is not an image"
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 13)}
    return len(colours)


@pytest.mark.parametrize("role", ["field-officer", "technician", "monitoring", "supervisor"])
def test_demo_screenshot_of_each_role_is_a_real_picture(emdesk, tmp_path, role):
    out = tmp_path / f"{role}.png"
    result = emdesk("demo", "--subjects", "60", "--screenshot", str(out), "--as", role)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(str(out))
    assert _varied(out) > 20


def test_screenshot_of_an_existing_store(emdesk, tmp_path):
    db = tmp_path / "world.db"
    from datetime import datetime, timezone
    from emdesk.services.demo import build_demo
    store, _ = build_demo(db, seed=7, now=datetime(2026, 11, 26, 8, tzinfo=timezone.utc), subjects=40)
    store.close()
    out = tmp_path / "sup.png"
    result = emdesk("--db", str(db), "--screenshot", str(out), "--as", "supervisor")
    assert result.returncode == 0, result.stderr
    assert _varied(out) > 20


def test_screenshot_needs_a_role(emdesk, tmp_path):
    result = emdesk("demo", "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "--as ROLE" in result.stderr
