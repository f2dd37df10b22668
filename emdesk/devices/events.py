"""Device events, numbered and acknowledged: none lost, none stored twice.

Like GT06-style trackers, a device numbers its events (``seq``, never reused) and keeps
sending each one until the host acknowledges it (EVENT_ACK, cumulative: "everything up
to seq N is stored").  The host delivers events to its listener strictly in order and
acknowledges one only after the listener returned: a listener that fails (the store
is down) leaves it unacknowledged and the device sends it again; a lost acknowledgement
makes the device send it again and the host, seeing a number it already has, only
acknowledges it once more.

The host's memory of the last event stored per device is an :class:`EventCursor`.  The
monitoring ingest passes one kept with what it stores (so a restart or another
connection neither loses nor repeats an event); the default, :class:`MemoryCursor`,
lasts as long as the link.
"""
from __future__ import annotations

from typing import Protocol

from .protocol.messages import DeviceEvent, EventNotice

__all__ = ["ACCEPT", "DUPLICATE", "LATER", "EventCursor", "MemoryCursor", "judge"]

ACCEPT, DUPLICATE, LATER = "accept", "duplicate", "later"


class EventCursor(Protocol):
    def last(self, serial: str) -> int:
        """The sequence number of the last event stored for this device (0: none)."""

    def stored(self, serial: str, seq: int) -> None:
        """Event ``seq`` of this device has been stored."""


class MemoryCursor:
    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def last(self, serial: str) -> int:
        return self._last.get(serial, 0)

    def stored(self, serial: str, seq: int) -> None:
        if seq > self._last.get(serial, 0):
            self._last[serial] = seq


def judge(notice: EventNotice, last: int) -> str:
    """What to do with an event, given the last one stored: deliver it (ACCEPT), only
    acknowledge it again (DUPLICATE), or drop it until the ones before it come (LATER).

    The device sends its unacknowledged events oldest first, so a gap means one was
    damaged on the line and will come again -- unless the device no longer holds
    anything older (its oldest unacknowledged event is this one): then what is missing
    was lost on the device (its log overflowed) and waiting would wait forever.
    """
    seq = notice.event.seq
    if seq <= last:
        return DUPLICATE
    if seq == last + 1 or notice.oldest_unacked >= seq:
        return ACCEPT
    return LATER


def describe(event: DeviceEvent) -> str:  # pragma: no cover - logging aid
    return f"event {event.seq} ({event.code.name})"
