"""The intake record: how an order arrives in a batch import, and its CSV row form.

One record is ``{"reference": ..., "subject": {...}, "order": {...}}``; subject and
order mirror the domain structs (``people.Subject``, ``orders.Order``) with friendly
forms: dates ``YYYY-MM-DD``, date-times ISO 8601 (without an offset they are UK local
time), times ``HH:MM``, coded values by name, curfews as compact text
(``"Mon-Fri 19:00-07:00"``), zones as ``{"name", "kind", "circle": {...}}`` or
``{"name", "kind", "polygon": [[lat, lon], ...]}``.  docs/order-import.md has the lot.

Reading never raises: whatever cannot be read becomes a ``Problem`` on its field (codes
``FORMAT-*``) and the rest of the record is kept, so nothing the sender wrote is lost
without a word.  The paths are the ones the validation rules use.
"""
from __future__ import annotations

import json
import math
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from typing import Any, Union, get_args, get_origin

import msgspec

from ..clock import UTC, at_local
from ..conditions import AlcoholMonitoring, Circle, Curfew, CurfewWindow, Polygon, ReleaseDayWindow, Zone
from ..curfew import format_windows, parse_clock, parse_day, parse_windows
from ..geography import is_valid_postcode, normalise_postcode
from ..orders import Document, Order
from ..people import Subject
from .problems import Problem

FORMAT_CODES: dict[str, str] = {
    "FORMAT-RECORD": "A record is an object with reference, subject and order.",
    "FORMAT-FIELD": "Every key is a field of the intake format.",
    "FORMAT-MISSING": "Structured values (curfew windows, zones, documents, appointments) have all their parts.",
    "FORMAT-TYPE": "Every value has the right type: text, number, true/false, list or object.",
    "FORMAT-DATE": "Dates are YYYY-MM-DD.",
    "FORMAT-DATETIME": "Date-times are ISO 8601, e.g. 2026-12-01T10:00 (UK local time without an offset).",
    "FORMAT-TIME": "Times of day are HH:MM.",
    "FORMAT-ENUM": "Coded values (cohort, device kinds, ...) are one of the allowed values.",
    "FORMAT-CURFEW": "Curfew windows are objects or compact text like 'Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00'.",
    "FORMAT-ZONE": "A zone has a circle or a polygon (exactly one).",
    "FORMAT-JSON": "JSON text in a CSV cell (zones) is valid JSON.",
}

# What a sender may set; the rest (ids, status, history, sync stamps) is emdesk's own.
SUBJECT_FIELDS = (
    "identifiers", "given_name", "family_name", "aliases", "date_of_birth", "sex", "gender", "phone",
    "language", "interpreter_needed", "disabilities", "responsible_adult", "no_fixed_abode", "addresses",
    "risk_flags", "risk_notes",
)
ORDER_FIELDS = (
    "cohort", "order_type", "issuing_body", "notifying_organisation", "responsible_officer", "request_type",
    "varies_order_id", "variation", "installation", "attendance_appointments", "documents", "received_at",
    "start", "end", "conditions", "device_kinds", "region",
)


@dataclass(frozen=True)
class ParsedIntake:
    order: Order
    subject: Subject
    problems: list[Problem] = field(default_factory=list)


_FAIL = object()      # a value that could not be read (its problem is already recorded)
_ABSENT = object()    # null or missing: leave the field at its default


def parse_intake(data: Any) -> ParsedIntake:
    """An intake record read into domain structs, with what could not be read."""
    reader = _Reader()
    if not isinstance(data, Mapping):
        reader.fail("", "FORMAT-RECORD", f"the record is {_kind(data)}, not an object with reference, "
                                         f"subject and order; check the file's layout")
        data = {}
    else:
        for key in data:
            if key not in ("reference", "subject", "order"):
                reader.fail(str(key), "FORMAT-FIELD", f"'{key}' is not part of an intake record; use reference, "
                                                      f"subject and order")
        for part in ("subject", "order"):
            if part not in data:
                reader.fail(part, "FORMAT-RECORD", f"the record has no {part}; add the '{part}' object")
    subject = reader.record(data.get("subject"), Subject, "subject", SUBJECT_FIELDS)
    reference = reader.value(data.get("reference"), str, "reference")
    order = reader.record(data.get("order"), Order, "order", ORDER_FIELDS,
                          extra={"subject_id": subject.id,
                                 "reference": reference if isinstance(reference, str) else ""})
    return ParsedIntake(order=order, subject=subject, problems=reader.problems)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ('{value}')"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _enum_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def _optional(tp: Any) -> bool:
    return _is_union(tp) and type(None) in get_args(tp)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, code: str, message: str) -> object:
        self.problems.append(Problem(code=code, field=path, message=message))
        return _FAIL

    # Structs ------------------------------------------------------------------

    def record(self, data: Any, cls: type, path: str, allowed: tuple[str, ...], extra: dict | None = None):
        kwargs = dict(extra or {})
        if data is not None and not isinstance(data, Mapping):
            self.fail(path, "FORMAT-TYPE", f"should be an object, not {_kind(data)}")
        elif data is not None:
            kwargs.update(self.fields(data, cls, path, allowed))
        return cls(**kwargs)

    def fields(self, data: Mapping, cls: type, path: str, allowed: tuple[str, ...] | None = None) -> dict:
        infos = {f.name: f for f in msgspec.structs.fields(cls)}
        names = allowed if allowed is not None else tuple(infos)
        out = {}
        for key, raw in data.items():
            where = f"{path}.{key}"
            if key not in names:
                self.fail(where, "FORMAT-FIELD", f"'{key}' is not a field here; use one of: {', '.join(names)}")
                continue
            value = self.value(raw, infos[key].type, where)
            if value is not _FAIL and value is not _ABSENT:
                out[key] = value
        return out

    def struct(self, data: Any, cls: type, path: str) -> Any:
        if not isinstance(data, Mapping):
            return self.fail(path, "FORMAT-TYPE", f"should be an object with {self._names(cls)}, not {_kind(data)}")
        kwargs = self.fields(data, cls, path)
        return self.build(cls, kwargs, path, data)

    def build(self, cls: type, kwargs: dict, path: str, data: Mapping) -> Any:
        required = [f.name for f in msgspec.structs.fields(cls)
                    if f.required and f.name not in kwargs]
        if required:
            unreadable = [n for n in required if n in data and data[n] is not None]
            missing = [n for n in required if n not in unreadable]
            if missing:
                self.fail(path, "FORMAT-MISSING", f"missing {', '.join(missing)}; give {self._names(cls)}")
            return _FAIL
        return cls(**kwargs)

    @staticmethod
    def _names(cls: type) -> str:
        fields = msgspec.structs.fields(cls)
        required = ", ".join(f.name for f in fields if f.required)
        optional = ", ".join(f.name for f in fields if not f.required)
        return f"{required} ({optional} optional)" if required and optional else required or optional

    # Values -------------------------------------------------------------------

    def value(self, raw: Any, tp: Any, path: str) -> Any:
        if raw is None:
            return None if _optional(tp) else _ABSENT
        if _is_union(tp):
            inner = [a for a in get_args(tp) if a is not type(None)]
            tp = inner[0] if len(inner) == 1 else tp
        special = _SPECIAL.get(tp)
        if special:
            return special(self, raw, path)
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return self.struct(raw, tp, path)
        if get_origin(tp) is tuple:
            return self.sequence(raw, get_args(tp), path)
        if isinstance(tp, type) and issubclass(tp, Enum):
            return self.enum(raw, tp, path)
        if tp is datetime:
            return self.read_datetime(raw, path)
        if tp is date:
            return self.read_date(raw, path)
        if tp is time:
            return self.clock(raw, path)
        if tp is bool:
            return self.boolean(raw, path)
        if tp in (int, float):
            return self.number(raw, tp, path)
        if tp is str:
            if isinstance(raw, str) and path.endswith(".postcode") and is_valid_postcode(raw):
                return normalise_postcode(raw)
            if isinstance(raw, str):
                return raw.strip()
            return self.fail(path, "FORMAT-TYPE", f"should be text, not {_kind(raw)}; put it in quotes")
        return self.fail(path, "FORMAT-TYPE", f"cannot read {_kind(raw)} here")

    def sequence(self, raw: Any, args: tuple, path: str) -> Any:
        if len(args) == 2 and args[1] is Ellipsis:
            if isinstance(raw, str):          # a CSV cell: "a; b; c"
                raw = [part.strip() for part in raw.split(";") if part.strip()]
            if not isinstance(raw, (list, tuple)):
                return self.fail(path, "FORMAT-TYPE", f"should be a list, not {_kind(raw)}")
            out = []
            for i, item in enumerate(raw):
                value = self.value(item, args[0], f"{path}[{i}]")
                if value is _ABSENT:
                    continue
                if isinstance(value, _Many):
                    out.extend(value)
                elif value is not _FAIL:
                    out.append(value)
            return tuple(out)
        if not isinstance(raw, (list, tuple)) or len(raw) != len(args):
            return self.fail(path, "FORMAT-TYPE", f"should be a list of {len(args)} values, not {_kind(raw)}")
        values = [self.value(item, tp, f"{path}[{i}]") for i, (item, tp) in enumerate(zip(raw, args))]
        return _FAIL if any(v is _FAIL or v is _ABSENT for v in values) else tuple(values)

    def enum(self, raw: Any, cls: type[Enum], path: str) -> Any:
        if isinstance(raw, str):
            key = _enum_key(raw)
            for member in cls:
                if key in (member.value, member.name.lower()):
                    return member
        allowed = ", ".join(m.value for m in cls)
        return self.fail(path, "FORMAT-ENUM", f"'{raw}' is not allowed here; use one of: {allowed}")

    def read_date(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        return self.fail(path, "FORMAT-DATE", f"{_shown(raw)} is not a date; use YYYY-MM-DD")

    def read_datetime(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", raw.strip()):
            try:
                value = datetime.fromisoformat(raw.strip())
            except ValueError:
                pass
            else:
                if value.tzinfo is None:      # UK local time, as orders are written
                    return at_local(value.date(), value.time())
                return value.astimezone(UTC)
        return self.fail(path, "FORMAT-DATETIME",
                         f"{_shown(raw)} is not a date and time; use YYYY-MM-DDTHH:MM (UK local time)")

    def clock(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str):
            try:
                return parse_clock(raw)
            except ValueError as exc:
                return self.fail(path, "FORMAT-TIME", str(exc))
        return self.fail(path, "FORMAT-TIME", f"{_shown(raw)} is not a time; use HH:MM, e.g. 19:00")

    def boolean(self, raw: Any, path: str) -> Any:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _BOOLEANS:
            return _BOOLEANS[raw.strip().lower()]
        return self.fail(path, "FORMAT-TYPE", f"{_shown(raw)} is not true or false")

    def number(self, raw: Any, tp: type, path: str) -> Any:
        value: Any = raw
        if isinstance(raw, str):
            try:
                value = float(raw.strip())
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return self.fail(path, "FORMAT-TYPE", f"{_shown(raw)} is not a number")
        if tp is int:
            if value != int(value):
                return self.fail(path, "FORMAT-TYPE", f"{_shown(raw)} is not a whole number")
            return int(value)
        return float(value)

    # Friendly forms -----------------------------------------------------------

    def curfew(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str):
            raw = {"windows": raw}
            windows_path = path
        else:
            windows_path = f"{path}.windows"
        if not isinstance(raw, Mapping):
            return self.fail(path, "FORMAT-CURFEW", f"should be compact text like 'Mon-Fri 19:00-07:00' or an "
                                                    f"object with windows, not {_kind(raw)}")
        out: dict = {}
        for key, value in raw.items():
            if key == "windows":
                windows = self.windows(value, windows_path)
                if windows is not _FAIL:
                    out["windows"] = windows
            elif key == "release_day":
                release = self.value(value, ReleaseDayWindow | None, f"{path}.release_day")
                if release is not _FAIL and release is not _ABSENT:
                    out["release_day"] = release
            else:
                self.fail(f"{path}.{key}", "FORMAT-FIELD", f"'{key}' is not a field here; use windows, release_day")
        return Curfew(**out)

    def windows(self, raw: Any, path: str) -> Any:
        if raw is None:
            return ()
        if isinstance(raw, str):
            try:
                return parse_windows(raw)
            except ValueError as exc:
                return self.fail(path, "FORMAT-CURFEW", str(exc))
        return self.sequence(raw, (CurfewWindow, Ellipsis), path)

    def window(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str):          # one item of a list may be compact text
            try:
                return _Many(parse_windows(raw))
            except ValueError as exc:
                return self.fail(path, "FORMAT-CURFEW", str(exc))
        if not isinstance(raw, Mapping):
            return self.fail(path, "FORMAT-CURFEW", f"should be an object with weekday, start, end, not {_kind(raw)}")
        kwargs = {}
        for key, value in raw.items():
            where = f"{path}.{key}"
            if key == "weekday":
                day = self.weekday(value, where)
                if day is not _FAIL:
                    kwargs["weekday"] = day
            elif key in ("start", "end"):
                t = self.value(value, time, where)
                if t is not _FAIL and t is not _ABSENT:
                    kwargs[key] = t
            else:
                self.fail(where, "FORMAT-FIELD", f"'{key}' is not a field here; use weekday, start, end")
        return self.build(CurfewWindow, kwargs, path, raw)

    def weekday(self, raw: Any, path: str) -> Any:
        # Out-of-range numbers are kept for validation to report (CURFEW-WINDOW-DAY).
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            if re.fullmatch(r"-?\d+", raw.strip()):
                return int(raw)
            try:
                return parse_day(raw)
            except ValueError as exc:
                return self.fail(path, "FORMAT-CURFEW", str(exc))
        return self.fail(path, "FORMAT-CURFEW", f"{_shown(raw)} is not a day; use Mon..Sun or 0 (Monday)..6")

    def zones(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str):              # a CSV cell holds the zones as JSON text
            if not raw.strip():
                return ()
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                return self.fail(path, "FORMAT-JSON", f"the zones are not valid JSON ({exc.msg} at column "
                                                      f"{exc.colno}); write them as a JSON list of zones")
        return self.sequence(raw, (Zone, Ellipsis), path)

    def zone(self, raw: Any, path: str) -> Any:
        if not isinstance(raw, Mapping):
            return self.fail(path, "FORMAT-ZONE", f"should be an object with name, kind and circle or polygon, "
                                                  f"not {_kind(raw)}")
        shapes = [k for k in ("circle", "polygon", "shape") if k in raw]
        rest = {k: v for k, v in raw.items() if k not in ("circle", "polygon", "shape")}
        kwargs = self.fields(rest, Zone, path, ("name", "kind", "active_windows", "active_from", "active_until"))
        if len(shapes) != 1:
            self.fail(path, "FORMAT-ZONE", "give exactly one of circle {lat, lon, radius_m} or polygon "
                                           "[[lat, lon], ...]" + (f", not {' and '.join(shapes)}" if shapes else ""))
            return _FAIL
        key = shapes[0]
        shape = self.shape(raw[key], f"{path}.{key}", key)
        if shape is _FAIL:
            return _FAIL
        kwargs["shape"] = shape
        return self.build(Zone, kwargs, path, raw)

    def shape(self, raw: Any, path: str, key: str) -> Any:
        if key == "shape":                    # the domain's own tagged form
            kind = raw.get("type") if isinstance(raw, Mapping) else None
            if kind not in ("circle", "polygon"):
                return self.fail(path, "FORMAT-ZONE", "a shape needs type 'circle' or 'polygon'")
            body = {k: v for k, v in raw.items() if k != "type"}
            return self.shape(body if kind == "circle" else body.get("points"), path, kind)
        if key == "circle":
            return self.struct(raw, Circle, path)
        if isinstance(raw, Mapping) and "points" in raw:
            raw = raw["points"]
        points = self.sequence(raw, (tuple[float, float], Ellipsis), path)
        return points if points is _FAIL else Polygon(points=points)

    def alcohol(self, raw: Any, path: str) -> Any:
        # An order that does not say abstinence or level must not get abstinence by default
        # (the struct's default): leave the mode empty for COND-ALCOHOL-MODE-MISSING.
        found = self.struct(raw, AlcoholMonitoring, path)
        if isinstance(raw, Mapping) and raw.get("mode") is None and isinstance(found, AlcoholMonitoring):
            return msgspec.structs.replace(found, mode=None)
        return found

    def document(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str):              # "licence:licence.pdf", as in a CSV cell
            kind, sep, name = raw.partition(":")
            if not sep or not name.strip():
                return self.fail(path, "FORMAT-MISSING", f"{_shown(raw)} should be kind:name, e.g. licence:licence.pdf")
            raw = {"kind": kind, "name": name}
        return self.struct(raw, Document, path)


class _Many(tuple):
    """Several windows from one compact item, spliced into the list in place."""


def _shown(raw: Any) -> str:
    return f"'{raw}'" if isinstance(raw, str) else _kind(raw)


_BOOLEANS = {"true": True, "yes": True, "y": True, "1": True, "false": False, "no": False, "n": False, "0": False}

# Types read from friendly forms rather than field by field.
_SPECIAL = {
    Curfew: _Reader.curfew,
    CurfewWindow: _Reader.window,
    Zone: _Reader.zone,
    tuple[Zone, ...]: _Reader.zones,      # may be JSON text, as in a CSV cell
    Document: _Reader.document,
    AlcoholMonitoring: _Reader.alcohol,
}


# --- CSV rows ----------------------------------------------------------------------

# Lists written in one cell, ";"-separated.
_LIST_CELLS = ("subject.aliases", "subject.disabilities", "subject.risk_flags", "order.device_kinds")
_CURFEW = "order.conditions.curfew"
_ZONES = "order.conditions.zones"
_DOCUMENTS = "order.documents"


def flatten(record: Mapping) -> dict[str, str]:
    """One CSV row: dotted-path columns, text values; empty values are left out."""
    row: dict[str, str] = {}
    _flatten(record, "", row)
    return row


def _flatten(value: Any, path: str, row: dict[str, str]) -> None:
    if value is None:
        return
    if path == _CURFEW:
        _flatten_curfew(value, row)
    elif path == _ZONES:
        row[path] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    elif path == _DOCUMENTS and isinstance(value, list) and all(_plain_document(d) for d in value):
        row[path] = ";".join(d if isinstance(d, str) else f"{d['kind']}:{d['name']}" for d in value)
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else str(key), row)
    elif isinstance(value, list) and (path in _LIST_CELLS or path.endswith(".lines")):
        row[path] = ";".join(str(v) for v in value)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _flatten(inner, f"{path}[{i}]", row)
    elif isinstance(value, bool):
        row[path] = "true" if value else "false"
    else:
        row[path] = str(value)


def _plain_document(doc: Any) -> bool:
    if isinstance(doc, str):
        return ";" not in doc
    return (isinstance(doc, Mapping) and set(doc) == {"kind", "name"}
            and all(isinstance(doc[k], str) and ";" not in doc[k] for k in doc) and ":" not in doc["kind"])


def _flatten_curfew(curfew: Any, row: dict[str, str]) -> None:
    windows = curfew.get("windows") if isinstance(curfew, Mapping) else curfew
    rest = {k: v for k, v in curfew.items() if k != "windows"} if isinstance(curfew, Mapping) else {}
    text = windows if isinstance(windows, str) else _windows_text(windows)
    if not text:                          # empty, or not expressible compactly: keep it whole, as JSON
        row[_CURFEW] = json.dumps(curfew, ensure_ascii=False)
        return
    row[_CURFEW] = text
    for key, inner in rest.items():
        _flatten(inner, f"{_CURFEW}.{key}", row)


def _windows_text(windows: Any) -> str | None:
    reader = _Reader()
    parsed = reader.windows(windows, _CURFEW)
    if reader.problems or parsed is _FAIL:
        return None
    return format_windows(parsed)


def unflatten(row: Mapping[str | None, Any]) -> dict:
    """The record a CSV row stands for; blank cells are left out, text is kept as text."""
    record: dict = {}
    for column, cell in row.items():
        if column is None or cell is None:
            continue
        column = column.strip()
        text = cell.strip() if isinstance(cell, str) else cell
        if text == "" or not column:
            continue
        if column == _CURFEW:
            if isinstance(text, str) and text.startswith("{"):
                try:
                    text = json.loads(text)
                except json.JSONDecodeError:
                    pass
            if isinstance(text, str):
                text = {"windows": text}
            if isinstance(text, Mapping):
                for key, inner in text.items():
                    _put(record, _steps(f"{_CURFEW}.{key}"), inner)
                continue
        _put(record, _steps(column), text)
    return _compact(record)


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(column: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _STEP.findall(column)]


def _put(node: dict, steps: list[str | int], value: Any) -> None:
    for here, nxt in zip(steps, steps[1:]):
        container = {} if isinstance(nxt, str) else {"__list__": True}
        child = node.get(here)
        if not isinstance(child, dict):
            node[here] = container
        node = node[here]
    node[steps[-1]] = value


def _compact(node: Any) -> Any:
    # Indexed columns become lists in index order; unused indexes are simply absent.
    if isinstance(node, dict):
        if node.get("__list__"):
            return [_compact(node[k]) for k in sorted(k for k in node if isinstance(k, int))]
        return {k: _compact(v) for k, v in node.items()}
    return node
