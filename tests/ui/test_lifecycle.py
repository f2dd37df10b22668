"""Signing out and quitting at any moment: back within two seconds, nothing lost.

Faults 1 and 2 of issue 9: a pairing waiting on a prompt jammed the device thread for
good, and a sync round had the database closed under it.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt

from emdesk.domain.devices import DeviceState
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.store import Store
from emdesk.ui.pairing.actions import last_wizard, open_pairing_for_visit
from emdesk.ui.tasks import runner_for
from hardware.testing import FAST, KEY

from pairing_kit import ctx, device, kit, world  # noqa: F401 - fixtures
from session_kit import StoreRound, signed_in_shell, store_is_closed

BOUND_S = 2.0


def pairing_at_the_strap_prompt(qtbot, shell, world, tag, hmu):
    """Open the wizard from the window (the session's own device lane) and get to the prompt."""
    open_pairing_for_visit(shell.window, shell.ctx, world["visit"].id, key=KEY, policy=FAST)
    qtbot.waitUntil(lambda: last_wizard() is not None and last_wizard().isVisible(), timeout=10_000)
    wizard = last_wizard()
    wizard.tag_ports.add(tag.port)
    wizard.hmu_ports.add(hmu.port)
    with qtbot.waitSignal(wizard.runner.prompt, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.prompt_box.isVisible()
    return wizard


def nothing_recorded(store, world):
    again = Store.open(store.path)
    try:
        assert again.get(Visit, world["visit"].id).status is VisitStatus.SCHEDULED
        assert device(again, "HMU-000123").state is DeviceState.IN_STOCK
    finally:
        again.close()


def test_sign_out_during_a_pairing_prompt_frees_the_device_thread(qtbot, store, ctx, world, kit):
    tag, hmu = kit(tag_faults="strap_open")
    shell = signed_in_shell(qtbot, ctx)
    lane = runner_for(ctx).device_worker()
    pairing_at_the_strap_prompt(qtbot, shell, world, tag, hmu)

    began = time.monotonic()
    shell.window.sign_out_action.trigger()
    took = time.monotonic() - began

    assert took < BOUND_S, f"sign-out took {took:.1f} s"
    assert not lane.thread.is_alive(), "the device thread is still stuck on the prompt"
    assert store_is_closed(store)
    # The pairing was rolled back on the devices and nothing was recorded.
    assert tag.unit.pairing is None and hmu.unit.pairing is None and hmu.unit.pending is None
    nothing_recorded(store, world)
    qtbot.addWidget(shell.dialog)
    assert shell.dialog.isVisible()


def test_quit_during_a_pairing_prompt_returns_promptly(qtbot, store, ctx, world, kit):
    tag, hmu = kit(tag_faults="strap_open")
    shell = signed_in_shell(qtbot, ctx)
    lane = runner_for(ctx).device_worker()
    pairing_at_the_strap_prompt(qtbot, shell, world, tag, hmu)

    began = time.monotonic()
    shell.quit()                      # what QApplication.aboutToQuit runs
    took = time.monotonic() - began

    assert took < BOUND_S, f"quitting took {took:.1f} s"
    assert not lane.thread.is_alive()
    assert store_is_closed(store)
    assert tag.unit.pairing is None and hmu.unit.pairing is None
    nothing_recorded(store, world)


def sync_round_under_way(qtbot, store, ctx):
    port = StoreRound(store)
    ctx.sync = port
    shell = signed_in_shell(qtbot, ctx)       # the window starts a round at once
    assert port.started.wait(5.0)
    qtbot.waitUntil(lambda: port.finished_batches >= 2, timeout=5000)
    assert shell.window.sync.busy
    return shell, port


def test_sign_out_during_a_sync_round_stops_it_before_the_store_closes(qtbot, store, ctx, world):
    shell, port = sync_round_under_way(qtbot, store, ctx)

    began = time.monotonic()
    shell.window.sign_out_action.trigger()
    took = time.monotonic() - began

    assert took < BOUND_S, f"sign-out took {took:.1f} s"
    assert port.errors == [], f"the round failed under sign-out: {port.errors}"
    assert port.rounds == 0, "the round was not stopped: sign-out waited for all of it"
    assert store_is_closed(store)
    # The batches done are kept (the next round carries on from there).
    again = Store.open(store.path)
    try:
        assert again.sync_value("test_round_batch") == str(port.finished_batches - 1)
    finally:
        again.close()
    qtbot.addWidget(shell.dialog)


def test_quit_during_a_sync_round(qtbot, store, ctx, world):
    shell, port = sync_round_under_way(qtbot, store, ctx)
    began = time.monotonic()
    shell.quit()
    assert time.monotonic() - began < BOUND_S
    assert port.errors == [] and store_is_closed(store)


def test_a_sync_round_shows_progress_and_can_be_stopped_by_hand(qtbot, store, ctx, world):
    shell, port = sync_round_under_way(qtbot, store, ctx)
    window = shell.window
    assert window.sync_action.text().replace("&", "") == "Stop sync"
    qtbot.waitUntil(lambda: "%" in window.sync_label.text(), timeout=5000)     # progress shown
    with qtbot.waitSignal(window.sync.busy_changed, timeout=BOUND_S * 1000):
        window.sync_action.trigger()
    assert port.rounds == 0 and port.errors == []
    assert "stopped" in window.sync_label.text()
    assert window.sync_action.text().replace("&", "") == "Sync now"
    assert window.sync.timer.isActive()                # the next round is still scheduled
    window.sign_out_action.trigger()
    qtbot.addWidget(shell.dialog)
