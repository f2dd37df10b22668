"""Monitoring equipment and its lifecycle from stock to recovery."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

import msgspec

from .records import Record


class DeviceKind(str, Enum):
    RF_TAG = "rf_tag"
    GPS_TAG = "gps_tag"              # combined RF + GPS
    HMU = "hmu"                      # home monitoring unit
    ALCOHOL_TAG = "alcohol_tag"
    NON_FITTED = "non_fitted"        # immigration biometric check-in device

    @property
    def label(self) -> str:
        return {
            "rf_tag": "RF tag",
            "gps_tag": "GPS tag",
            "hmu": "Home monitoring unit",
            "alcohol_tag": "Alcohol tag",
            "non_fitted": "Non-fitted device",
        }[self.value]

    @property
    def worn(self) -> bool:
        return self in (DeviceKind.RF_TAG, DeviceKind.GPS_TAG, DeviceKind.ALCOHOL_TAG)


class DeviceState(str, Enum):
    IN_STOCK = "in_stock"
    ALLOCATED = "allocated"
    INSTALLED = "installed"
    AWAITING_COLLECTION = "awaiting_collection"
    RECOVERED = "recovered"
    LOST = "lost"
    FAULTY = "faulty"
    RETURNED_TO_SUPPLIER = "returned_to_supplier"
    WRITTEN_OFF = "written_off"      # lost for good: off the outstanding-equipment list

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


DEVICE_TRANSITIONS: dict[DeviceState, frozenset[DeviceState]] = {
    DeviceState.IN_STOCK: frozenset({DeviceState.ALLOCATED, DeviceState.FAULTY, DeviceState.RETURNED_TO_SUPPLIER, DeviceState.LOST}),
    DeviceState.ALLOCATED: frozenset({DeviceState.INSTALLED, DeviceState.IN_STOCK, DeviceState.FAULTY, DeviceState.LOST}),
    DeviceState.INSTALLED: frozenset({DeviceState.AWAITING_COLLECTION, DeviceState.RECOVERED, DeviceState.FAULTY, DeviceState.LOST}),
    DeviceState.AWAITING_COLLECTION: frozenset({DeviceState.RECOVERED, DeviceState.LOST}),
    DeviceState.RECOVERED: frozenset({DeviceState.IN_STOCK, DeviceState.FAULTY, DeviceState.RETURNED_TO_SUPPLIER}),
    DeviceState.FAULTY: frozenset({DeviceState.RETURNED_TO_SUPPLIER, DeviceState.IN_STOCK}),
    DeviceState.LOST: frozenset({DeviceState.RECOVERED, DeviceState.WRITTEN_OFF}),
    DeviceState.RETURNED_TO_SUPPLIER: frozenset(),
    DeviceState.WRITTEN_OFF: frozenset(),
}


class DeviceStateChange(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    from_state: DeviceState
    to_state: DeviceState
    by: str = ""
    reason: str = ""


class Device(Record, frozen=True, kw_only=True):
    table = "devices"

    kind: DeviceKind
    serial: str
    model: str = ""
    firmware: str = ""
    state: DeviceState = DeviceState.IN_STOCK
    region: str = ""
    order_id: str | None = None        # allocation
    subject_id: str | None = None
    paired_with: str | None = None     # serial of the partner device (tag <-> HMU)
    # The field officer (user id) carrying it in stock on the road, so the planner knows
    # who can fit what; None when it sits on a shelf.
    held_by: str | None = None
    history: tuple[DeviceStateChange, ...] = ()


class DeviceTransitionError(ValueError):
    pass


def move_device(device: Device, to: DeviceState, *, at: datetime, by: str = "", reason: str = "", **changes) -> Device:
    if to not in DEVICE_TRANSITIONS[device.state]:
        raise DeviceTransitionError(
            f"device {device.serial}: cannot go from {device.state.label.lower()} to {to.label.lower()}"
        )
    change = DeviceStateChange(at=at, from_state=device.state, to_state=to, by=by, reason=reason)
    return device.evolve(state=to, history=(*device.history, change), **changes)
