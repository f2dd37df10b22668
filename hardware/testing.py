"""Helpers for tests that drive emulated devices (no pytest import here)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from emdesk.devices.auth import ManufacturerKey
from emdesk.devices.link import DeviceLink, LinkPolicy

from .air import Air
from .emulator import EmulatedDevice
from .factory import key_file_json

KEY = ManufacturerKey.from_json(key_file_json())
FAST = LinkPolicy(timeout=0.15, retries=2, backoff=0.01, idle_gap=0.05)


@contextmanager
def tag_and_hmu(tag_kind: str = "rf_tag", *, tag_faults=None, hmu_faults=None, policy: LinkPolicy = FAST,
                tag_serial: str = "RF-104233", hmu_serial: str = "HMU-000123",
                on_event=None) -> Iterator[tuple[EmulatedDevice, EmulatedDevice, DeviceLink, DeviceLink]]:
    """A tag and a home unit sharing one radio, each on its own pty, with open links."""
    air = Air()
    with ExitStack() as stack:
        tag = stack.enter_context(EmulatedDevice.start(tag_kind, tag_serial, tag_faults, air=air))
        hmu = stack.enter_context(EmulatedDevice.start("hmu", hmu_serial, hmu_faults, air=air))
        tl = stack.enter_context(DeviceLink.open(tag.port, policy=policy, on_event=on_event))
        hl = stack.enter_context(DeviceLink.open(hmu.port, policy=policy, on_event=on_event))
        yield tag, hmu, tl, hl
