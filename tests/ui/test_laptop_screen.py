"""Every window fits a 1366x768 laptop, and remembers its place only within the screen.

Fault 7 of issue 9: the main window opened at 1440x900 and the order form at 1180x820.
The screen is the laptop's (its work area less a 40 px taskbar); set EMDESK_SHOTS=DIR to
keep the screenshots for a look by eye.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from emdesk.domain.users import Role
from emdesk.ui import geometry
from emdesk.ui.main_window import MainWindow
from emdesk.ui.order_form import OrderFormDialog
from emdesk.ui.pairing.wizard import BenchJob, PairingWizard
from hardware.testing import KEY

LAPTOP_AREA = QRect(0, 0, 1366, 768 - 40)


@pytest.fixture
def laptop(monkeypatch):
    monkeypatch.setattr(geometry, "available", lambda widget=None: QRect(LAPTOP_AREA))


def fits(window) -> None:
    """With its frame, the window lies within the laptop's work area, and can be that small."""
    framed = window.size() + geometry.FRAME
    assert framed.width() <= LAPTOP_AREA.width() and framed.height() <= LAPTOP_AREA.height(), framed
    smallest = window.minimumSizeHint() + geometry.FRAME
    assert smallest.width() <= LAPTOP_AREA.width() and smallest.height() <= LAPTOP_AREA.height(), smallest


def shoot(window, tmp_path, name: str) -> Path:
    QApplication.processEvents()
    folder = Path(os.environ.get("EMDESK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.png"
    image = window.grab().toImage()
    assert image.save(str(out)) and image.width() == window.width()
    return out


@pytest.mark.parametrize("role", list(Role))
def test_the_main_window_opens_within_the_laptop_screen(qtbot, laptop, ctx_for, role, tmp_path):
    window = MainWindow(ctx_for(role), load=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.refresh_all()
    fits(window)
    for ws in window.workspaces:
        window.show_workspace(ws.key)
        shoot(window, tmp_path, f"main-{role.value}-{ws.key}")


def test_the_order_form_opens_within_the_laptop_screen(qtbot, laptop, operator_ctx, tmp_path):
    dialog = OrderFormDialog(operator_ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.form.checked, timeout=5000):
        dialog.show()
    fits(dialog)
    shoot(dialog, tmp_path, "order-form")


def test_the_pairing_wizard_opens_within_the_laptop_screen(qtbot, laptop, operator_ctx, tmp_path):
    wizard = PairingWizard(operator_ctx, BenchJob(), key=KEY)
    qtbot.addWidget(wizard)
    wizard.show()
    fits(wizard)
    shoot(wizard, tmp_path, "pairing-wizard")
    wizard.close()


def test_a_geometry_saved_on_a_bigger_screen_is_not_restored_off_this_one(qtbot, laptop, ctx_for):
    from emdesk.ui.settings import app_settings

    ctx = ctx_for(Role.SUPERVISOR)
    first = MainWindow(ctx, load=False)
    qtbot.addWidget(first)
    first.setGeometry(QRect(300, 200, 1800, 1000))          # as on a 1920x1200 monitor
    app_settings().setValue("main_window/geometry", first.saveGeometry())
    again = MainWindow(ctx, load=False)
    qtbot.addWidget(again)
    again.show()
    fits(again)
