"""The radio between a tag and its home unit, for devices emulated in one process.

Devices started in the same process (same ``Air``) can hear each other, unless one has
the ``out_of_range`` fault.  All cross-device work (a home unit committing its tag over
the radio) happens under the air's single lock, so it is atomic and cannot deadlock.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .unit import Unit


class Air:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._units: dict[str, Unit] = {}

    def join(self, unit: Unit) -> None:
        with self.lock:
            self._units[unit.serial] = unit

    def leave(self, unit: Unit) -> None:
        with self.lock:
            if self._units.get(unit.serial) is unit:
                del self._units[unit.serial]

    def find(self, serial: str) -> Unit | None:
        with self.lock:
            return self._units.get(serial)

    def reachable(self, a: Unit, b: Unit | None) -> bool:
        with self.lock:
            return (b is not None and self._units.get(b.serial) is b and self._units.get(a.serial) is a
                    and not a.out_of_range and not b.out_of_range and a.powered and b.powered)


DEFAULT_AIR = Air()
