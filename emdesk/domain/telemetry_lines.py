"""Telemetry lines: one JSON object per device event, checked field by field.

The format is the contract in ``docs/telemetry.md``.  Every refusal has a short reason
(counted by ingest) and words naming the field and what to do.  Parsing is pure: which
device belongs to which order, and what the clock says, are handed in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import msgspec

from .monitoring import EventKind

KIND_VALUES = frozenset(k.value for k in EventKind)
AHEAD_MS = 5 * 60_000                  # a device clock up to 5 minutes fast is accepted
EARLIEST_MS = 946_684_800_000          # 2000-01-01: no tag in service reports from before
MAX_LINE = 4096                        # bytes: a real event is under 300


class Line(msgspec.Struct, forbid_unknown_fields=False):
    device: str
    at: str
    kind: str
    lat: float | None = None
    lon: float | None = None
    hdop: float | None = None
    speed: float | None = None
    value: float | None = None
    id: str | None = None


_decoder = msgspec.json.Decoder(Line)
_many = msgspec.json.Decoder(list[Line])


@dataclass(frozen=True)
class Rejected:
    reason: str       # short key, counted
    words: str        # for a person: the field and what to do


@dataclass(frozen=True)
class Placed:
    """Where a device's events go: its order and when it can first speak."""

    order_id: str
    fitted_ms: int
    order_end_ms: int | None = None


def decode(raw: bytes) -> Line | Rejected:
    if len(raw) > MAX_LINE:
        return Rejected("malformed", f"line longer than {MAX_LINE} bytes: one JSON object per event")
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        return Rejected("malformed", f"{exc}: see docs/telemetry.md for the fields")
    except msgspec.DecodeError as exc:
        return Rejected("malformed", f"not a JSON object ({exc})")


def decode_many(raws: list[bytes]) -> list[Line | Rejected]:
    """A chunk of lines in one decoder call; on any bad line, line by line."""
    if raws and all(len(r) <= MAX_LINE for r in raws):
        try:
            return _many.decode(b"[" + b",".join(raws) + b"]")
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
    return [decode(r) for r in raws]


_seen_at: dict[str, int | None] = {}


def parse_at(text: str) -> int | None:
    """ISO 8601 with a zone (``Z`` or an offset) to ms; None if it is not one.

    A feed repeats each stamp for every device that reported in that second: the last
    few thousand answers are kept."""
    found = _seen_at.get(text, -1)
    if found != -1:
        return found
    if len(_seen_at) > 65_536:
        _seen_at.clear()
    found = _seen_at[text] = _parse_at(text)
    return found


def _parse_at(text: str) -> int | None:
    if not 20 <= len(text) <= 35 or not text[:4].isascii() or not text[:4].isdigit():
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return int(round(at.timestamp() * 1000))


def check(line: Line, place: Placed | None, now_ms: int) -> tuple[int, str] | Rejected:
    """(at_ms, kind) for a line that may be stored, or why not."""
    if place is None:
        return Rejected("unknown_device", f"device {line.device!r} is not known here: check the serial")
    if line.kind not in KIND_VALUES:
        return Rejected("unknown_kind", f"kind {line.kind!r} is not an event kind: see docs/telemetry.md")
    at = parse_at(line.at)
    if at is None:
        return Rejected("bad_time", f"at {line.at!r} is not an ISO 8601 UTC time like 2026-12-01T21:03:00.000Z")
    if at < EARLIEST_MS:
        return Rejected("bad_time", f"at {line.at!r} is before 2000: the device clock is wrong")
    if at > now_ms + AHEAD_MS:
        return Rejected("ahead_of_clock", f"at {line.at!r} is more than 5 minutes ahead of the clock: "
                                          "the device clock is fast; fix it and resend")
    if at < place.fitted_ms:
        return Rejected("before_fitted", f"at {line.at!r} is before device {line.device} was fitted")
    if place.order_end_ms is not None and at >= place.order_end_ms:
        return Rejected("after_order_end", f"at {line.at!r} is after the order ended")
    if line.kind == "position":
        if line.lat is None or line.lon is None:
            return Rejected("missing_position", "a position needs lat and lon")
        if not (-90 <= line.lat <= 90 and -180 <= line.lon <= 180):
            return Rejected("bad_coordinates", f"lat {line.lat}, lon {line.lon} is not on Earth: "
                                               "lat -90..90, lon -180..180")
        if line.hdop is not None and not 0 <= line.hdop <= 1000:
            return Rejected("bad_number", f"hdop {line.hdop} is impossible: send 0 to 1000, or null")
        if line.speed is not None and not 0 <= line.speed <= 350:
            return Rejected("bad_number", f"speed {line.speed} m/s is impossible (0 to 350)")
    elif line.lat is not None or line.lon is not None:
        if not (line.lat is not None and line.lon is not None
                and -90 <= line.lat <= 90 and -180 <= line.lon <= 180):
            return Rejected("bad_coordinates", f"lat {line.lat}, lon {line.lon} is not on Earth")
    if line.value is not None and not math.isfinite(line.value):
        return Rejected("bad_number", "value is not a finite number: send a number or null")
    if line.kind == "battery_level" and (line.value is None or not 0 <= line.value <= 100):
        return Rejected("bad_value", f"battery_level needs a value 0..100 (percent), not {line.value}")
    if line.kind == "alcohol_reading" and (line.value is None or not 0 <= line.value <= 1000):
        return Rejected("bad_value", f"alcohol_reading needs a value in mg/100 ml (0..1000), not {line.value}")
    if line.kind == "checkin" and line.value not in (None, 0, 1):
        return Rejected("bad_value", f"checkin value is 1 (matched) or 0 (failed), not {line.value}")
    if line.id is not None and len(line.id) > 128:
        return Rejected("malformed", "id longer than 128 characters")
    return at, line.kind
