"""OsmAnd requests (what Traccar Client sends) to telemetry lines: pure parsing, no I/O.

Two forms reach the server root URL, as Traccar's own server reads them
(``OsmAndProtocolDecoder``):

* the query string (GET or POST), or a form-encoded body when the URL has no query:
  ``id`` (or ``deviceid``), ``timestamp``, ``lat`` and ``lon`` (or ``location=lat,lon``),
  ``speed`` in KNOTS, ``accuracy`` in metres, ``hdop``, ``batt`` (percent), ``charge``,
  ``valid``; ``bearing``/``heading``, ``altitude`` and anything else are read past;
* a JSON body (``Content-Type: application/json``, newer Traccar Client versions, built on
  the background-geolocation plugin): ``{"device_id", "location": {"timestamp",
  "coords": {"latitude", "longitude", "accuracy", "speed" (m/s), ...},
  "battery": {"level" (0..1), "is_charging"}, ...}}``; ``location`` may be a list (a
  batch of buffered fixes).

Each request gives one ``position`` line per fix (``no_fix`` when the phone says the fix is
not valid, or sends exactly 0,0), plus a ``battery_level`` line when it reports its battery
and a ``charging`` line when it is on charge.  Lines follow the telemetry contract that
``emdesk.domain.telemetry_lines`` checks; ids are derived from (device, time, kind), so a
resent fix is the same event.  Deciding whether a device may speak is ingest's job, not this
module's; a request this module cannot read raises ``OsmAndError`` naming the field.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from urllib.parse import parse_qs

import msgspec

from emdesk.domain.engine.gps_rules import ACCURACY_PER_HDOP_M
from emdesk.domain.ids import derived_id

KNOT_MPS = 1852 / 3600                 # OsmAnd's query form sends speed in knots
# Phones report accuracy (metres, the radius of the ~68% circle), not HDOP.  The engine turns
# HDOP back into metres at ACCURACY_PER_HDOP_M (5 m) a unit, so accuracy / 5 draws the phone's
# own circle; a fix reported worse than 25 m is then "poor" to the engine (HDOP over 5), which
# is why the phone should be set to high accuracy.
HDOP_MAX = 1000.0                      # the telemetry contract's highest HDOP
UNIX_MS_FROM = 2_147_483_647           # as Traccar reads it: a smaller integer is seconds, larger ms
LAST_MS = 253_402_300_800_000          # 10000-01-01: beyond it a time cannot be written in ISO 8601
MAX_DEVICE = 64                        # characters in a device id
MAX_FIXES = 500                        # fixes in one JSON batch
MAX_FIELDS = 100                       # query fields in one request

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_QUERY_HINT = "send id, timestamp, lat and lon, e.g. ?id=GPS-1&timestamp=1764147600&lat=51.5&lon=-0.12"
_JSON_HINT = ('send {"device_id": "...", "location": {"timestamp": "2026-11-26T09:00:00.000Z", '
              '"coords": {"latitude": 51.5, "longitude": -0.12, "accuracy": 8}}}')


class OsmAndError(ValueError):
    """A request that cannot be read: ``field`` is the culprit, ``words`` say what to send."""

    reason = "malformed"

    def __init__(self, field: str, words: str, device: str | None = None):
        super().__init__(f"{field}: {words}")
        self.field = field
        self.words = words
        self.device = device       # when it was read before the fault (for the log line)


# -- shared -------------------------------------------------------------------

def at_text(at_ms: int) -> str:
    """Milliseconds since the epoch as the contract's time: ISO 8601 UTC, ms, ``Z``."""
    seconds, millis = divmod(at_ms, 1000)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def parse_timestamp(text: str, field: str = "timestamp") -> int:
    """A fix time to ms: unix seconds or ms (Traccar's cut-over), ISO 8601, or
    ``yyyy-MM-dd HH:mm:ss``.  A time without a zone is taken as UTC (phones send UTC; the
    UK's clock change would make local times ambiguous)."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        value = float(text)
        at_ms = (value * 1000 if value < UNIX_MS_FROM else value) if math.isfinite(value) else -1.0
    else:
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise OsmAndError(field, f"{text!r} is not a time: send unix seconds (1764147600), ms, "
                                     "or ISO 8601 UTC (2026-11-26T09:00:00Z)") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        at_ms = at.timestamp() * 1000
    if not 0 <= at_ms < LAST_MS:
        raise OsmAndError(field, f"{text!r} is not a time this side of 1970..9999: send unix seconds, "
                                 "e.g. 1764147600")
    return int(round(at_ms))


def _line(device: str, at_ms: int, kind: str, *, lat: float | None = None, lon: float | None = None,
          hdop: float | None = None, speed: float | None = None, value: float | None = None) -> dict:
    return {"device": device, "at": at_text(at_ms), "kind": kind, "lat": lat, "lon": lon, "hdop": hdop,
            "speed": speed, "value": value, "id": derived_id("osmand", device, kind, ms=at_ms)}


def _lines(device: str, at_ms: int, lat: float, lon: float, *, valid: bool, hdop: float | None,
           speed: float | None, battery: float | None, charging: bool) -> list[dict]:
    if valid and not (lat == 0 and lon == 0):       # 0,0 is a phone with no fix, not a ship off Ghana
        out = [_line(device, at_ms, "position", lat=lat, lon=lon, hdop=hdop, speed=speed)]
    else:
        out = [_line(device, at_ms, "no_fix")]
    if battery is not None:
        out.append(_line(device, at_ms, "battery_level", value=battery))
    if charging:
        out.append(_line(device, at_ms, "charging"))
    return out


def _device(text: str, field: str) -> str:
    device = text.strip()
    if not device:
        raise OsmAndError(field, "is empty: send the device's serial as its identifier")
    if len(device) > MAX_DEVICE or not device.isprintable():
        raise OsmAndError(field, f"is not a serial (printable, at most {MAX_DEVICE} characters)")
    return device


def _on_earth(lat: float, lon: float, names: tuple[str, str], device: str) -> None:
    """Anywhere on Earth is taken (the rules judge where); off it is a fault in the request."""
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise OsmAndError(names[0], f"{lat} is not a latitude: send decimal degrees -90..90", device)
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise OsmAndError(names[1], f"{lon} is not a longitude: send decimal degrees -180..180", device)


def _hdop(hdop: float | None, accuracy: float | None) -> float | None:
    if hdop is not None:
        return hdop
    if accuracy is not None and accuracy > 0:      # 0 or less: the phone does not know
        # A cell-tower fix can be kilometres out: kept (as a very poor fix) within the contract's HDOP limit.
        return min(round(accuracy / ACCURACY_PER_HDOP_M, 2), HDOP_MAX)
    return None


# -- the query (or form) -------------------------------------------------------

def _one(params: Mapping[str, Sequence[str]], *names: str) -> tuple[str, str] | None:
    """(name, value) of the first of ``names`` given; a field given twice, differently, is refused."""
    for name in names:
        values = params.get(name)
        if values:
            if len(set(values)) > 1:
                raise OsmAndError(name, f"given {len(values)} times with different values: send it once")
            return name, values[0]
    return None


def _number(params: Mapping[str, Sequence[str]], name: str, device: str | None, what: str) -> float | None:
    got = _one(params, name)
    if got is None or got[1].strip() == "":
        return None
    text = got[1].strip()
    if not _NUMBER.fullmatch(text):
        raise OsmAndError(name, f"{text!r} is not a number: send {what}", device)
    return float(text)


def _flag(params: Mapping[str, Sequence[str]], name: str, device: str | None) -> bool | None:
    got = _one(params, name)
    if got is None:
        return None
    text = got[1].strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise OsmAndError(name, f"{got[1]!r} is not true or false", device)


def lines_from_query(params: Mapping[str, Sequence[str]]) -> list[dict]:
    """The lines for one query-form request (``params`` as ``urllib.parse.parse_qs`` gives them)."""
    got = _one(params, "id", "deviceid")
    if got is None:
        raise OsmAndError("id", f"missing: {_QUERY_HINT}")
    if "id" in params and "deviceid" in params and set(params["id"]) != set(params["deviceid"]):
        raise OsmAndError("deviceid", "differs from id: send one device identifier")
    device = _device(got[1], got[0])
    stamp = _one(params, "timestamp")
    if stamp is None or not stamp[1].strip():
        raise OsmAndError("timestamp", "missing: send the fix time as unix seconds, e.g. timestamp=1764147600",
                          device)
    try:
        at_ms = parse_timestamp(stamp[1])
    except OsmAndError as exc:
        exc.device = device
        raise
    lat = _number(params, "lat", device, "decimal degrees, e.g. lat=51.5074")
    lon = _number(params, "lon", device, "decimal degrees, e.g. lon=-0.1278")
    location = _one(params, "location")
    if location is not None and lat is None and lon is None:
        parts = location[1].split(",")
        if len(parts) != 2 or not all(_NUMBER.fullmatch(p.strip()) for p in parts):
            raise OsmAndError("location", f"{location[1]!r} is not lat,lon: send e.g. location=51.5074,-0.1278",
                              device)
        lat, lon = (float(p) for p in parts)
    if lat is None:
        raise OsmAndError("lat", "missing: send lat and lon (or location=lat,lon) in decimal degrees", device)
    if lon is None:
        raise OsmAndError("lon", "missing: send lat and lon (or location=lat,lon) in decimal degrees", device)
    _on_earth(lat, lon, ("lat", "lon"), device)
    knots = _number(params, "speed", device, "the speed in knots, e.g. speed=3.2")
    accuracy = _number(params, "accuracy", device, "the accuracy in metres, e.g. accuracy=8")
    hdop = _number(params, "hdop", device, "the HDOP, e.g. hdop=1.2")
    if hdop is not None and hdop < 0:
        raise OsmAndError("hdop", f"{hdop} is negative: send the HDOP (0 or more) or leave it out", device)
    battery = _number(params, "batt", device, "the battery level in percent, e.g. batt=87")
    if battery is not None and battery > 100:
        raise OsmAndError("batt", f"{battery} is not a percentage: send 0..100", device)
    valid = _flag(params, "valid", device)
    charging = _flag(params, "charge", device)
    return _lines(device, at_ms, lat, lon, valid=valid is not False, hdop=_hdop(hdop, accuracy),
                  # a negative speed or battery is the phone saying it does not know
                  speed=knots * KNOT_MPS if knots is not None and knots >= 0 else None,
                  battery=battery if battery is not None and battery >= 0 else None,
                  charging=bool(charging))


def parse_query(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise OsmAndError("query", f"more than {MAX_FIELDS} fields: {_QUERY_HINT}") from None


# -- the JSON body --------------------------------------------------------------

class _Coords(msgspec.Struct):
    latitude: float
    longitude: float
    accuracy: float | None = None
    speed: float | None = None          # m/s; negative: unknown
    heading: float | None = None
    altitude: float | None = None


class _Battery(msgspec.Struct):
    level: float | None = None          # 0..1; negative: unknown
    is_charging: bool | None = None


class _Location(msgspec.Struct):
    timestamp: str
    coords: _Coords
    battery: _Battery | None = None
    mock: bool | None = None


class _Body(msgspec.Struct):
    device_id: str | int
    location: _Location | list[_Location]


_body = msgspec.json.Decoder(_Body)
_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r"at `\$\.?([^`]*)`")


def _json_field(message: str) -> str:
    """The field a msgspec complaint is about, as a dotted path (``location.coords.latitude``)."""
    at = _AT.search(message)
    path = at.group(1) if at else ""
    missing = _MISSING.search(message)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return path or "body"


def lines_from_json(body: bytes) -> list[dict]:
    """The lines for one JSON request (one fix, or a batch)."""
    try:
        root = _body.decode(body)
    except msgspec.ValidationError as exc:
        raise OsmAndError(_json_field(str(exc)), f"{exc}: {_JSON_HINT}") from None
    except msgspec.DecodeError as exc:
        raise OsmAndError("body", f"not JSON ({exc}): {_JSON_HINT}") from None
    device = _device(str(root.device_id), "device_id")
    fixes = root.location if isinstance(root.location, list) else [root.location]
    if not fixes:
        raise OsmAndError("location", f"is an empty list: {_JSON_HINT}", device)
    if len(fixes) > MAX_FIXES:
        raise OsmAndError("location", f"{len(fixes)} fixes in one request: send at most {MAX_FIXES}", device)
    out: list[dict] = []
    for n, fix in enumerate(fixes):
        where = f"location[{n}]." if isinstance(root.location, list) else "location."
        try:
            at_ms = parse_timestamp(fix.timestamp, f"{where}timestamp")
        except OsmAndError as exc:
            exc.device = device
            raise
        c = fix.coords
        for name, v in (("accuracy", c.accuracy), ("speed", c.speed)):
            if v is not None and not math.isfinite(v):
                raise OsmAndError(f"{where}coords.{name}", "is not a finite number", device)
        _on_earth(c.latitude, c.longitude, (f"{where}coords.latitude", f"{where}coords.longitude"), device)
        level = fix.battery.level if fix.battery is not None else None
        if level is not None and not (math.isfinite(level) and level <= 1):
            raise OsmAndError(f"{where}battery.level", f"{level} is not a fraction: send 0..1 (0.87 for 87%)",
                              device)
        out += _lines(device, at_ms, c.latitude, c.longitude, valid=True, hdop=_hdop(None, c.accuracy),
                      speed=c.speed if c.speed is not None and c.speed >= 0 else None,
                      battery=round(level * 100, 1) if level is not None and level >= 0 else None,
                      charging=bool(fix.battery and fix.battery.is_charging))
    return out


# -- a whole request --------------------------------------------------------------

def is_json(content_type: str | None, query: str, body: bytes) -> bool:
    """Traccar decides by the content type; a JSON object posted without one is read as JSON too."""
    if content_type and content_type.split(";")[0].strip().lower() == "application/json":
        return True
    return not query and body.lstrip()[:1] == b"{"


def parse_request(query: str, body: bytes, content_type: str | None = None) -> list[dict]:
    """The lines one request carries: the JSON body, else the URL's query, else a form body."""
    if is_json(content_type, query, body):
        return lines_from_json(body)
    params = parse_query(query)
    if not params and body:
        try:
            params = parse_query(body.decode("ascii"))
        except UnicodeDecodeError:
            raise OsmAndError("body", f"not a form (it is not ASCII): {_QUERY_HINT}") from None
    if not params:
        raise OsmAndError("query", f"empty: {_QUERY_HINT}")
    return lines_from_query(params)


_encoder = msgspec.json.Encoder()


def encode(lines: list[dict]) -> list[bytes]:
    """The lines as ingest takes them: one JSON object each."""
    return [_encoder.encode(line) for line in lines]


__all__ = ["ACCURACY_PER_HDOP_M", "KNOT_MPS", "OsmAndError", "at_text", "encode", "is_json", "lines_from_json",
           "lines_from_query", "parse_query", "parse_request", "parse_timestamp"]
