"""The breach pack's evidence, read from the records: the incidents, the timeline around the
violation window, the kit's health in it, and the wearer's previous breaches and outcomes.

The timeline is bounded: from ``MARGIN`` before the first incident began to ``MARGIN``
after the last one ended; the device's rarer events are listed one a line, the routine
reports (fixes, battery) summed per ``BUCKET``.  Device health reads the same window, and
the rarer events from ``HEALTH_BACK`` before it (a battery that was low already, a home
unit that was already off mains).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from emdesk.domain.clock import local
from emdesk.domain.devices import Device, DeviceKind
from emdesk.domain.engine.device_rules import DEAD_PCT
from emdesk.domain.engine.events import instant, ms
from emdesk.domain.engine.hits import CODES
from emdesk.domain.engine.watch import Settings
from emdesk.domain.geography import to_bng
from emdesk.domain.monitoring import Alert, BreachOutcome, Incident, IncidentStatus
from emdesk.domain.orders import Order
from emdesk.domain.packs import HealthReading, PackIncident, PastBreach, TimelineEntry
from emdesk.domain.people import Subject
from emdesk.domain.users import User
from emdesk.store import Store
from emdesk.store.pack_queries import PackQueries

from .subject_words import event_words

MARGIN = timedelta(hours=1)
LONGEST = timedelta(hours=36)         # a window never longer than this (a breach of days: its first 36 h)
BUCKET = timedelta(minutes=10)
HEALTH_BACK = timedelta(hours=24)
RARE_LIMIT = 300                      # device events listed one a line; more are counted, not listed
HISTORY_LIMIT = 20
AT_HOME_M = 100.0                     # as the engine's GPS-only curfew reads "at home"
ROUTINE = ("position", "battery_level", "alcohol_reading")
TAMPERS = ("strap_tamper", "body_tamper", "case_tamper")
HMU_KINDS = ("hmu_power_off", "hmu_power_on", "hmu_range_out", "hmu_range_in", "hmu_moved")


def hm(at: datetime) -> str:
    """A UK wall-clock time with its zone: "19:47 GMT"."""
    t = local(at)
    return f"{t:%H:%M} {t.tzname()}"


def day_hm(at: datetime) -> str:
    t = local(at)
    return f"{t:%a %d %b %Y %H:%M} {t.tzname()}"


def duration_words(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def code_words(codes: Sequence[str], fallback: str = "") -> str:
    return ", ".join(CODES.get(c, ("", c))[1] for c in codes) or fallback.replace("_", " ")


@dataclass(frozen=True)
class Window:
    """The stretch of time the timeline, the health and the map look at."""

    start: datetime
    end: datetime
    breach_start: datetime
    breach_end: datetime              # the last incident's end (or last evaluation, when still going)


def window(incidents: Sequence[Incident], now: datetime) -> Window:
    first = min(i.started_at for i in incidents)
    last = max((i.ended_at or i.evaluated_at or now) for i in incidents)
    last = max(last, first)
    end = min(last + MARGIN, first - MARGIN + LONGEST)
    return Window(start=first - MARGIN, end=end, breach_start=first, breach_end=last)


def home_of(order: Order, subject: Subject | None) -> tuple[float, float] | None:
    address = order.installation.address or (subject.primary_address if subject else None)
    return (address.lat, address.lon) if address is not None and address.located else None


def proximity_phone(order: Order) -> list[str]:
    """The protected person's phone of a proximity order: its positions never go in a pack."""
    return [order.conditions.proximity.device_serial] if order.conditions.proximity else []


# -- the incidents ------------------------------------------------------------------

def pack_incident(incident: Incident, names: dict[str, str]) -> PackIncident:
    escalated = next((c for c in incident.history if c.status is IncidentStatus.ESCALATED), None)
    return PackIncident(
        incident_id=incident.id, condition=incident.condition, codes=incident.codes,
        period_start=incident.period_start, started_at=incident.started_at, ended_at=incident.ended_at,
        seconds=int(round(incident.seconds)), period_seconds=int(round(incident.period_seconds)),
        status=incident.status.value, priority=incident.priority, reasons=incident.reasons, detail=incident.detail,
        excuses=tuple(f"{e.kind.value.replace('_', ' ').capitalize()} {hm(e.start)}–{hm(e.end)}: {e.reason}"
                      + (f" (accepted by {names.get(e.by, e.by)})" if e.by else "") for e in incident.excuses),
        decided_by=names.get(escalated.by, escalated.by) if escalated else "")


def notified_at(incident: Incident) -> datetime | None:
    """When the agency was told: the incident's escalation (its first)."""
    return next((c.at for c in incident.history if c.status is IncidentStatus.ESCALATED), None)


# -- telemetry around the window ----------------------------------------------------------

@dataclass(frozen=True)
class Events:
    """One order's device events around the window, by kind of use."""

    rows: list[tuple[str, int, str, float | None, float | None, float | None, bool]]


def read_events(store: Store, order: Order, w: Window) -> Events:
    rows = PackQueries(store).events_around(order.id, ms(w.start), ms(w.end), health_from_ms=ms(w.start - HEALTH_BACK),
                                            routine=ROUTINE, leave_out=proximity_phone(order))
    return Events(rows)


def _distances(home: tuple[float, float] | None, lats: list[float], lons: list[float]) -> np.ndarray | None:
    if home is None or not lats:
        return None
    hx, hy = to_bng(*home)
    x, y = to_bng(np.asarray(lats), np.asarray(lons))
    return np.hypot(np.asarray(x) - hx, np.asarray(y) - hy)


def _where(d: np.ndarray | None) -> str:
    if d is None or not len(d):
        return ""
    lo, hi = float(d.min()), float(d.max())
    if hi <= AT_HOME_M:
        return "at home"
    if lo <= AT_HOME_M:
        return f"at home and up to {hi / 1000:.1f} km away"
    return (f"{lo / 1000:.1f} km from home" if hi - lo < 100 else f"{lo / 1000:.1f}–{hi / 1000:.1f} km from home")


def timeline(events: Events, w: Window, incidents: Sequence[Incident], alerts: Sequence[Alert],
             others: Sequence[Incident], home: tuple[float, float] | None, names: dict[str, str]) -> list[TimelineEntry]:
    """The device's events, the routine reports summed, alerts, the incidents and what people
    did with them, in time order."""
    out: list[TimelineEntry] = []
    start_ms = ms(w.start)
    buckets: dict[int, dict[str, list]] = defaultdict(lambda: {"lat": [], "lon": [], "battery": [], "alcohol": []})
    rare = 0
    bucket_ms = int(BUCKET.total_seconds() * 1000)
    for serial, at, kind, lat, lon, value, late in events.rows:
        if at < start_ms:
            continue
        if kind in ROUTINE:
            b = buckets[at - at % bucket_ms]
            if kind == "position" and lat is not None and lon is not None:
                b["lat"].append(lat)
                b["lon"].append(lon)
            elif kind == "battery_level" and value is not None:
                b["battery"].append(value)
            elif kind == "alcohol_reading" and value is not None:
                b["alcohol"].append(value)
            continue
        rare += 1
        if rare > RARE_LIMIT:
            continue
        what, _ = event_words(kind, value)
        out.append(TimelineEntry(at=instant(at), kind="device",
                                 text=f"{what} ({serial}{', arrived late' if late else ''})"))
    if rare > RARE_LIMIT:
        out.append(TimelineEntry(at=w.end, kind="note", text=f"{rare - RARE_LIMIT} more device events in the window "
                                                              "are not listed (the first ones are)"))
    for at, b in sorted(buckets.items()):
        parts = []
        if b["lat"]:
            where = _where(_distances(home, b["lat"], b["lon"]))
            parts.append(f"{len(b['lat'])} GPS fix{'es' if len(b['lat']) != 1 else ''}" + (f", {where}" if where else ""))
        if b["battery"]:
            lo, hi = min(b["battery"]), max(b["battery"])
            parts.append(f"battery {lo:.0f}%" if lo == hi else f"battery {lo:.0f}–{hi:.0f}%")
        if b["alcohol"]:
            parts.append(f"alcohol up to {max(b['alcohol']):g} mg/100 ml")
        if parts:
            until = instant(at) + BUCKET
            out.append(TimelineEntry(at=instant(at), kind="fix",
                                     text=f"{local(instant(at)):%H:%M}–{hm(until)}: " + "; ".join(parts)))
    for a in alerts:
        flag = " (the engine read it as possibly technical)" if a.technical_cause else ""
        end = f", until {hm(a.ended_at)}" if a.ended_at and a.ended_at != a.raised_at else ""
        out.append(TimelineEntry(at=a.raised_at, kind="alert",
                                 text=f"Alert {a.code}: {code_words([a.code], a.condition)}{end}{flag}"))
    for i in incidents:
        out.append(TimelineEntry(at=i.started_at, kind="incident",
                                 text=f"Violation began: {code_words(i.codes, i.condition)}"))
        if i.ended_at is not None:
            out.append(TimelineEntry(at=i.ended_at, kind="incident",
                                     text=f"Violation ended after {duration_words((i.ended_at - i.started_at).total_seconds())}"))
        for c in i.history:
            who = "the monitoring engine" if c.by == "engine" else names.get(c.by, c.by)
            out.append(TimelineEntry(at=c.at, kind="action", text=(
                f"{_CHANGED.get(c.status.value, c.status.value)} by {who}" + (f": {c.reason}" if c.reason else ""))))
    for i in others:
        label = "Technical incident" if i.technical else "Other incident"
        out.append(TimelineEntry(at=i.started_at, kind="incident", text=(
            f"{label} ({i.status.value.replace('_', ' ')}): {code_words(i.codes, i.condition)}")))
    # By time only: entries of one instant keep the order they were read in (an incident's
    # history in the order it happened), which the records fix, so the timeline is the same
    # for the same records.
    out.sort(key=lambda e: e.at)
    return out


_CHANGED = {"open": "Opened", "acknowledged": "Acknowledged", "escalated": "Escalated", "closed": "Closed",
            "auto_closed": "Closed as technical"}


# -- device health ---------------------------------------------------------------------

@dataclass(frozen=True)
class Health:
    readings: tuple[HealthReading, ...]
    doubts: tuple[str, ...]           # what could make it technical, in words ("" none)


def device_health(events: Events, w: Window, kit: Sequence[Device], settings: Settings | None = None) -> Health:
    settings = settings or Settings()
    by_serial: dict[str, list] = defaultdict(list)
    for row in events.rows:
        by_serial[row[0]].append(row)
    b_start, b_end = ms(w.breach_start), ms(w.breach_end)
    readings, doubts = [], []
    for d in sorted(kit, key=lambda d: (d.kind is DeviceKind.HMU, d.serial)):
        rows = by_serial.get(d.serial, [])
        worries: list[str] = []
        if d.kind is DeviceKind.HMU:
            battery, comms = "", "speaks only when something changes (power, range, movement)"
            home_unit = _home_unit(rows, w, worries)
        else:
            battery = _battery(rows, w, b_start, b_end, settings, worries)
            comms = _comms(rows, w, b_start, b_end, settings, worries)
            home_unit = ""
        tamper = _tamper(rows, ms(w.start), worries)
        verdict = ("rules out a technical cause" if not worries
                   else "a technical cause is possible: " + "; ".join(worries))
        readings.append(HealthReading(serial=d.serial, kind=d.kind.label, battery=battery, comms=comms, tamper=tamper,
                                      home_unit=home_unit, verdict=verdict))
        doubts += [f"{d.kind.label} {d.serial}: {x}" for x in worries]
    return Health(tuple(readings), tuple(doubts))


def _battery(rows, w: Window, b_start: int, b_end: int, settings: Settings, worries: list[str]) -> str:
    levels = [(at, v) for _, at, kind, _, _, v, _ in rows if kind == "battery_level" and v is not None and at <= b_end]
    flags = [(at, kind) for _, at, kind, _, _, _, _ in rows if kind in ("battery_low", "battery_dead") and at <= b_end]
    if not levels and not flags:
        return "no battery report in the day before or during the breach"
    parts = []
    if levels:
        at, v = levels[-1]
        state = "flat" if v <= DEAD_PCT else "low" if v <= settings.battery_low_pct else "not low"
        parts.append(f"{v:.0f}% at {hm(instant(at))}, {state}")
        # The lowest reading from an hour before the breach to its end: a battery that sagged
        # and recovered (a reading glitch, a charge) still leaves the doubt.
        during = [(lv, la) for la, lv in levels if la >= b_start - 3_600_000]
        low_v, low_at = min(during) if during else (v, at)
        if low_at != at:
            parts.append(f"lowest {low_v:.0f}% at {hm(instant(low_at))}")
        if low_v <= settings.battery_low_pct:
            worries.append(f"battery {low_v:.0f}% at {hm(instant(low_at))}")
    for at, kind in flags:
        if at >= b_start - 3_600_000:
            parts.append(f"{'battery dead' if kind == 'battery_dead' else 'battery low'} at {hm(instant(at))}")
            if kind == "battery_dead":
                worries.append(f"battery dead at {hm(instant(at))}")
    return "; ".join(parts)


def _comms(rows, w: Window, b_start: int, b_end: int, settings: Settings, worries: list[str]) -> str:
    seen = [at for _, at, _, _, _, _, _ in rows if ms(w.start) <= at < ms(w.end)]
    lost = [at for _, at, kind, _, _, _, _ in rows if kind == "comms_lost" and b_start <= at <= b_end]
    if not seen:
        worries.append("no report from the device in the window")
        return "no report in the window"
    # The longest silence while the breach ran (its edges included).
    marks = [b_start] + [a for a in seen if b_start < a < b_end] + [b_end]
    before = [a for a in seen if a <= b_start]
    if before:
        marks[0] = before[-1]
    after = [a for a in seen if a >= b_end]
    marks[-1] = after[0] if after else marks[-1]
    gap = max(b - a for a, b in zip(marks, marks[1:])) if len(marks) > 1 else 0
    text = (f"{len(seen)} reports in the window; longest silence during the breach {duration_words(gap / 1000)}; "
            f"last {hm(instant(seen[-1]))}")
    if gap > settings.gap_s * 1000:
        worries.append(f"silent for {duration_words(gap / 1000)} during the breach")
    if lost:
        text += f"; communication lost at {', '.join(hm(instant(a)) for a in lost[:3])}"
        worries.append("communication lost during the breach")
    return text


def _tamper(rows, start_ms: int, worries: list[str]) -> str:
    found = [(at, kind) for _, at, kind, _, _, _, _ in rows if kind in TAMPERS and at >= start_ms]
    faults = [at for _, at, kind, _, _, _, _ in rows if kind == "device_fault" and at >= start_ms]
    if faults:
        worries.append(f"device fault at {hm(instant(faults[0]))}")
    if not found:
        return "no strap, body or case tamper" + (f"; device fault at {hm(instant(faults[0]))}" if faults else "")
    # A tamper is the wearer's doing until shown otherwise: evidence, not a technical doubt.
    return "; ".join(f"{kind.split('_')[0]} tamper at {hm(instant(at))}" for at, kind in found[:5])


def _home_unit(rows, w: Window, worries: list[str]) -> str:
    events = [(at, kind) for _, at, kind, _, _, _, _ in rows if kind in HMU_KINDS]
    if not events:
        return "no change reported: on mains, nothing moved"
    parts = []
    power = [e for e in events if e[1] in ("hmu_power_off", "hmu_power_on")]
    parts.append("on mains throughout" if not power else
                 ", ".join(f"{'off mains' if k == 'hmu_power_off' else 'back on mains'} at {hm(instant(a))}"
                           for a, k in power[-4:]))
    for a, k in events:
        if k == "hmu_power_off" and ms(w.breach_start) - 3_600_000 <= a <= ms(w.breach_end):
            worries.append(f"home unit off mains at {hm(instant(a))} (on its battery)")
            break
    ranged = [e for e in events if e[1] in ("hmu_range_out", "hmu_range_in")]
    if ranged:
        parts.append(", ".join(f"tag {'left its range' if k == 'hmu_range_out' else 'back in range'} at "
                               f"{hm(instant(a))}" for a, k in ranged[-4:]))
    moved = [a for a, k in events if k == "hmu_moved"]
    if moved:
        parts.append(f"unit moved at {hm(instant(moved[-1]))}")
    return "; ".join(parts)


# -- previous breaches --------------------------------------------------------------------

def history(store: Store, incidents: Sequence[Incident], names_of) -> list[PastBreach]:
    """The wearer's earlier breaches (escalated incidents before this one), newest first, with
    what the agency decided."""
    first = min(incidents, key=lambda i: i.started_at)
    mine = {i.id for i in incidents}
    found = [i for i in store.find(Incident, where={"subject_id": first.subject_id,
                                                     "status": IncidentStatus.ESCALATED.value},
                                   order_by="started_at DESC")
             if i.id not in mine and i.started_at < first.started_at][:HISTORY_LIMIT]
    if not found:
        return []
    queries = PackQueries(store)
    outcomes = {o.incident_id: o for o in store.find(BreachOutcome, where={"incident_id": [i.id for i in found]})}
    names = names_of([o.decided_by for o in outcomes.values()])
    out = []
    for i in found:
        packs = queries.for_incident(i.id)
        o = outcomes.get(i.id)
        out.append(PastBreach(incident_id=i.id, started_at=i.started_at, condition=code_words(i.codes, i.condition),
                              seconds=int(round(i.seconds)), pack_id=packs[-1].pack_id if packs else "",
                              outcome=_outcome_words(o, names)))
    return out


def _outcome_words(o: BreachOutcome | None, names: dict[str, str]) -> str:
    if o is None:
        return ""
    if o.code is not None:
        when = f" on {local(o.decided_at):%d %b %Y}" if o.decided_at else ""
        who = f" ({names.get(o.decided_by, o.decided_by)})" if o.decided_by else ""
        return f"{o.code.value.replace('_', ' ').capitalize()}{when}{who}"
    if o.steps:
        return "no decision yet; " + ", ".join(f"{s.step.value} {local(s.at):%d %b %H:%M}" for s in o.steps)
    return ""


def display_names(store: Store):
    """A function: user ids -> display names (unknown ids as given)."""
    def names_of(ids) -> dict[str, str]:
        ids = [i for i in set(ids) if i and i != "engine"]
        found = store.get_many(User, ids)
        return {i: found[i].display_name if i in found else i for i in ids}
    return names_of


__all__ = ["Events", "Health", "MARGIN", "Window", "code_words", "day_hm", "device_health", "display_names",
           "duration_words", "history", "hm", "home_of", "notified_at", "pack_incident", "proximity_phone",
           "read_events", "timeline", "window"]
