"""The pairing the demo prints works: its emulator command, its officer, its visit."""
from __future__ import annotations

import re
import shlex
from contextlib import ExitStack
from datetime import datetime, timezone

import pytest
from checklist_kit import finish_checklist
from PySide6.QtCore import Qt

from emdesk.app.demo_printout import pairing_example as _pairing_example
from emdesk.devices.worker import DeviceWorker
from emdesk.domain.clock import FixedClock
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import User
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.services.context import AppContext
from emdesk.services.demo import build_demo
from emdesk.ui.pairing.wizard import PairingWizard
from hardware.air import Air
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST, KEY

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)


def test_the_printed_example_pairs_and_records(qtbot, tmp_path):
    store, world = build_demo(tmp_path / "demo.db", seed=2026, now=NOW, subjects=300)
    example = _pairing_example(world)
    command = next(line for line in example.splitlines() if "hardware.emulate" in line)
    specs = [a.split(":") for a in shlex.split(command) if ":" in a]
    officer = re.search(r"sign in as (\S+)", example).group(1)
    user = store.find(User, where={"username": officer})[0]
    by_serial = {serial: store.find(Device, where={"serial": serial})[0] for _kind, serial in specs}
    order_id = next(iter(by_serial.values())).order_id
    visit = next(v for v in store.find(Visit, where={"order_id": order_id}) if v.status is VisitStatus.SCHEDULED)
    ctx = AppContext.for_user(store, user, FixedClock(NOW), GazetteerGeocoder())
    finish_checklist(store, user, FixedClock(NOW), visit.id)
    worker = DeviceWorker(name="demo-devices", idle_poll=0.02)
    try:
        with ExitStack() as stack:
            air = Air()
            devices = {kind: stack.enter_context(EmulatedDevice.start(kind, serial, None, air=air))
                       for kind, serial in specs}
            wizard = PairingWizard(ctx, ctx.installs.job(visit.id), worker=worker, key=KEY, policy=FAST)
            qtbot.addWidget(wizard)
            wizard.show()
            wizard.tag_ports.add(devices["rf_tag"].port)
            wizard.hmu_ports.add(devices["hmu"].port)
            with qtbot.waitSignal(wizard.recorded, timeout=30_000):
                qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
            assert wizard.result.paired
    finally:
        worker.shutdown()
    assert all(store.get(Device, d.id).state is DeviceState.INSTALLED for d in by_serial.values())
    assert store.get(Visit, visit.id).status is VisitStatus.COMPLETED
    store.close()
