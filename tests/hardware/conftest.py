"""Emulated devices on real pseudo-terminals, and links to them with short timeouts."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from emdesk.devices.client import DeviceClient
from emdesk.devices.link import DeviceLink
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST


@pytest.fixture
def start():
    """start(kind, serial, faults) -> (device, client); everything closed after the test."""
    with ExitStack() as stack:
        def _start(kind, serial=None, faults=None, **kw):
            dev = stack.enter_context(EmulatedDevice.start(kind, serial, faults, **kw))
            link = stack.enter_context(DeviceLink.open(dev.port, policy=FAST))
            return dev, DeviceClient(link)
        yield _start
