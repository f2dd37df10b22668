"""One wearer's file, as monitoring staff read it beside the queue: the order and its
conditions, the kit and its health, what happened lately, past breaches, notes.

Scoped as the monitoring lists are (an operator her region, a supervisor all, other
roles refused); the person's name, date of birth and address only for roles that may see
personal details.  Every reading is audited.  The timeline is bounded: rare device
events in full, the routine traffic (fixes, battery and alcohol reports) summed per run
of hours, alerts and incidents; newest first, ``limit`` rows and a flag saying more.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from emdesk.domain.clock import Clock, local
from emdesk.domain.devices import Device, DeviceKind
from emdesk.domain.engine.events import HOUR_MS, instant, ms
from emdesk.domain.engine.device_rules import DEAD_PCT
from emdesk.domain.engine.hits import CODES
from emdesk.domain.engine.watch import Settings
from emdesk.domain.monitoring import Alert, Incident, IncidentStatus, Note
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.store import Store
from emdesk.store.subject_queries import SubjectQueries

from .errors import AccessDenied, ServiceError
from .watch_lists import regions_of
from .subject_words import ConditionLine, conditions_words, event_words
from .watches import fitted_span

TIMELINE_DAYS = 7            # what the timeline covers, back from now
TIMELINE_LIMIT = 200
HEALTH_DAYS = 30             # battery and tamper read from this far back
CONTACT_LATE = timedelta(hours=1)     # a worn tag reports its battery every 30 minutes
BREACH_LIMIT = 50
NOTE_LIMIT = 50
ROUTINE = ("position", "battery_level", "alcohol_reading")
TAMPERS = {"strap_tamper": "TAMPER-STRAP", "body_tamper": "TAMPER-BODY", "case_tamper": "TAMPER-CASE"}
CLEARED = (IncidentStatus.CLOSED, IncidentStatus.AUTO_CLOSED)
BREACH_STATUSES = (IncidentStatus.ESCALATED, IncidentStatus.CLOSED)


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    reference: str
    cohort: str
    order_type: str
    status: str
    start: date | None
    end: date | None
    region: str
    responsible_officer: str       # name and organisation
    risk_level: str                # "High", "" when not assessed


@dataclass(frozen=True)
class Person:
    """``shown`` False: the role may not see personal details; the other fields are empty."""

    subject_id: str
    shown: bool
    name: str = ""
    date_of_birth: date | None = None
    home: str = ""


@dataclass(frozen=True)
class Tamper:
    kind: str                      # strap, body, case
    at: datetime
    cleared: bool                  # its incident was closed by a person or the engine
    status: str                    # the incident's status in words, or "no incident yet"


@dataclass(frozen=True)
class HomeUnit:
    on_mains: bool | None          # None: no power event seen
    power_since: datetime | None
    tag_in_range: bool | None
    range_since: datetime | None


@dataclass(frozen=True)
class DeviceHealth:
    serial: str
    kind: str                      # "GPS tag"
    state: str                     # "Installed"
    fitted_at: datetime | None
    removed_at: datetime | None
    battery_pct: float | None
    battery_at: datetime | None
    battery: str                   # ok, low, dead, unknown (a home unit: n/a)
    last_contact: datetime | None
    contact: str                   # ok, late, silent, unknown
    tampers: tuple[Tamper, ...] = ()
    home_unit: HomeUnit | None = None


@dataclass(frozen=True)
class TimelineRow:
    key: str                       # unique in the timeline (the table's row identity)
    at: datetime
    kind: str                      # event, traffic, alert, incident
    what: str
    detail: str = ""
    tone: str = ""                 # bad, warn, good or ""
    device: str = ""
    end: datetime | None = None
    incident_id: str | None = None


@dataclass(frozen=True)
class Breach:
    incident_id: str
    reference: str
    period: date                   # the violation period's day (07:00 to 06:59 the next)
    started_at: datetime
    ended_at: datetime | None
    condition: str
    codes: tuple[str, ...]
    status: str
    minutes: float
    detail: str = ""


@dataclass(frozen=True)
class NoteRow:
    note_id: str
    at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class SubjectFile:
    order: OrderFacts
    person: Person
    conditions: tuple[ConditionLine, ...]
    devices: tuple[DeviceHealth, ...]
    timeline: tuple[TimelineRow, ...]
    timeline_more: bool            # older rows in the window were left out (the limit)
    timeline_from: datetime
    breaches: tuple[Breach, ...]
    notes: tuple[NoteRow, ...]
    at: datetime                   # when the file was read


def may_read(user: User) -> bool:
    """Monitoring staff: an operator (her region) or a supervisor (all)."""
    return user.can(Permission.VIEW_ALL_CASES) or user.can(Permission.VIEW_REGION_CASES)


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


class SubjectFileService:
    def __init__(self, store: Store, user: User, clock: Clock, settings: Settings | None = None):
        if not may_read(user):
            raise AccessDenied(f"{user.role.label} accounts do not read monitoring files")
        self.regions = regions_of(user)
        self.store, self.user, self.clock = store, user, clock
        self.settings = settings or Settings()
        self.queries = SubjectQueries(store)

    def _mine(self, region: str) -> bool:
        return self.regions is None or region in self.regions

    def file(self, order_id: str, *, limit: int = TIMELINE_LIMIT, days: int = TIMELINE_DAYS) -> SubjectFile:
        order = self.store.get(Order, order_id)
        if order is None:
            raise ServiceError(f"no order {order_id}: it may have been removed from this desktop; refresh the list")
        if not self._mine(order.region):
            raise AccessDenied(f"order {order.reference or order.id} is not in your region ({self.user.region})")
        now = self.clock.now()
        shown = self.user.can(Permission.VIEW_PERSONAL_DETAILS)
        subject = self.store.get(Subject, order.subject_id) if order.subject_id else None
        self.store.audit_view(actor=self.user.id, entity="orders", entity_id=order.id, subject_id=order.subject_id or None,
                              detail={"screen": "subject file", "personal_details": shown})
        leave_out = [order.conditions.proximity.device_serial] if order.conditions.proximity else []
        incidents = self.store.find(Incident, where={"order_id": order.id}, order_by="started_at DESC")
        start = now - timedelta(days=days)
        timeline, more = self._timeline(order, incidents, start, now, limit, leave_out)
        return SubjectFile(
            order=_facts(order), person=_person(order, subject, shown),
            conditions=tuple(conditions_words(order.conditions)),
            devices=tuple(self._devices(order, incidents, now, leave_out)),
            timeline=tuple(timeline), timeline_more=more, timeline_from=start,
            breaches=tuple(self._breaches(order)), notes=tuple(self._notes(order)), at=now)

    # -- devices ---------------------------------------------------------------

    def _devices(self, order: Order, incidents: list[Incident], now: datetime, leave_out: list[str]) -> list[DeviceHealth]:
        kit = [d for d in self.store.find(Device, where={"order_id": order.id}, order_by="serial")
               if d.serial not in leave_out]
        if not kit:
            return []
        kinds = ("battery_level", "battery_low", "battery_dead", "charging", *TAMPERS,
                 "hmu_power_off", "hmu_power_on", "hmu_range_in", "hmu_range_out")
        latest: dict[str, dict[str, tuple[int, float | None]]] = {}
        since = ms(now - timedelta(days=HEALTH_DAYS))
        for serial, kind, at, value in self.queries.latest_of_kinds(order.id, kinds, since, leave_out):
            latest.setdefault(serial, {})[kind] = (at, value)
        heard = self.store.telemetry.last_heard([d.serial for d in kit])
        out = []
        for d in kit:
            span = fitted_span(d)
            mine = latest.get(d.serial, {})
            contact = instant(heard[d.serial]) if d.serial in heard else None
            out.append(DeviceHealth(
                serial=d.serial, kind=d.kind.label, state=d.state.label,
                fitted_at=span[0] if span else None, removed_at=span[1] if span else None,
                **self._battery(d, mine), last_contact=contact, contact=self._contact(d, contact, now),
                tampers=tuple(self._tampers(mine, incidents, now)),
                home_unit=_home_unit(mine) if d.kind is DeviceKind.HMU else None))
        # The kit on the wearer now first, then what came off.
        return sorted(out, key=lambda h: (h.removed_at is not None, h.serial))

    def _battery(self, device: Device, mine: dict) -> dict:
        if device.kind is DeviceKind.HMU:
            return {"battery_pct": None, "battery_at": None, "battery": "n/a"}
        level = mine.get("battery_level")
        pct, at = (level[1], level[0]) if level else (None, None)
        # A "battery dead" or "battery low" newer than the last reading speaks for the device.
        dead, low, charging = mine.get("battery_dead"), mine.get("battery_low"), mine.get("charging")
        newest_other = max((e for e in (dead, low, charging) if e), default=None, key=lambda e: e[0])
        if newest_other is not None and (at is None or newest_other[0] > at):
            state = "dead" if newest_other is dead else "low" if newest_other is low else "ok"
        elif pct is None:
            state = "unknown"
        elif pct <= DEAD_PCT:
            state = "dead"
        elif pct <= self.settings.battery_low_pct:
            state = "low"
        else:
            state = "ok"
        return {"battery_pct": pct, "battery_at": instant(at) if at is not None else None, "battery": state}

    def _contact(self, device: Device, contact: datetime | None, now: datetime) -> str:
        if contact is None:
            return "unknown"
        age = now - contact
        if age >= timedelta(days=self.settings.silent_days):
            return "silent"
        # A home unit speaks only when something changes: quiet is not late.
        if device.kind is not DeviceKind.HMU and age > CONTACT_LATE:
            return "late"
        return "ok"

    def _tampers(self, mine: dict, incidents: list[Incident], now: datetime) -> list[Tamper]:
        out = []
        for kind, code in TAMPERS.items():
            if kind not in mine:
                continue
            at = instant(mine[kind][0])
            # The incident the tamper raised: one of its code that spans the event (or starts at it).
            match = next((i for i in incidents if code in i.codes
                          and i.started_at <= at <= (i.ended_at or now)), None)
            out.append(Tamper(kind=kind.split("_")[0], at=at, cleared=bool(match and match.status in CLEARED),
                              status=_words(match.status.value) if match else "no incident yet"))
        return sorted(out, key=lambda t: t.at, reverse=True)

    # -- timeline --------------------------------------------------------------

    def _timeline(self, order: Order, incidents: list[Incident], start: datetime, end: datetime, limit: int,
                  leave_out: list[str]) -> tuple[list[TimelineRow], bool]:
        s, e = ms(start), ms(end) + 1
        alcohol = (order.conditions.alcohol.threshold if order.conditions.alcohol
                   and order.conditions.alcohol.threshold is not None else self.settings.alcohol_threshold)
        rare = self.queries.rare_events(
            order.id, s, e, routine=ROUTINE, notable_below={"battery_level": self.settings.battery_low_pct},
            notable_above={"alcohol_reading": alcohol}, limit=limit + 1, leave_out=leave_out)
        more = len(rare) > limit
        rows = []
        for serial, at, kind, value, late in rare[:limit]:
            what, tone = event_words(kind, value)
            rows.append(TimelineRow(key=f"event:{serial}:{at}:{kind}", at=instant(at), kind="event", what=what,
                                    detail="arrived late" if late else "", tone=tone, device=serial))
        rows += _traffic(self.queries.hourly(order.id, s, e, ROUTINE, leave_out))
        for a in self.store.find(Alert, where={"order_id": order.id}, order_by="raised_at DESC", limit=limit + 1):
            if a.raised_at >= start:
                words = CODES.get(a.code, ("", a.code or a.condition))[1]
                rows.append(TimelineRow(key=f"alert:{a.id}", at=a.raised_at, kind="alert",
                                        what=f"Alert {a.code}: {words}", detail=a.detail,
                                        tone="warn" if a.technical_cause else "bad", end=a.ended_at,
                                        incident_id=a.incident_id))
        for i in incidents:
            if (i.ended_at or end) >= start:
                rows.append(_incident_row(i))
        rows.sort(key=lambda r: (r.at, r.key), reverse=True)
        return rows[:limit], more or len(rows) > limit

    # -- history ---------------------------------------------------------------

    def _breaches(self, order: Order) -> list[Breach]:
        if not order.subject_id:
            return []
        found = [i for i in self.store.find(Incident, where={"subject_id": order.subject_id,
                                                             "status": list(BREACH_STATUSES)},
                                            order_by="started_at DESC")
                 if not i.technical and self._mine(i.region)]
        return [Breach(incident_id=i.id, reference=i.reference, period=local(i.period_start).date(),
                       started_at=i.started_at, ended_at=i.ended_at, condition=i.condition, codes=i.codes,
                       status=_words(i.status.value), minutes=round(i.seconds / 60, 1), detail=i.detail)
                for i in found[:BREACH_LIMIT]]

    def _notes(self, order: Order) -> list[NoteRow]:
        if not order.subject_id:
            return []
        notes = sorted(self.store.find(Note, where={"subject_id": order.subject_id}),
                       key=lambda n: (n.at, n.id), reverse=True)[:NOTE_LIMIT]
        authors = self.store.get_many(User, (n.author_id for n in notes))
        return [NoteRow(note_id=n.id, at=n.at, text=n.text,
                        author=authors[n.author_id].display_name if n.author_id in authors else (n.author_id or ""))
                for n in notes]


def _facts(o: Order) -> OrderFacts:
    officer = o.responsible_officer
    return OrderFacts(
        order_id=o.id, reference=o.reference or o.id, cohort=o.cohort.label if o.cohort else "",
        order_type=_words(o.order_type.value) if o.order_type else "", status=_words(o.status.value),
        start=o.start, end=o.end, region=o.region,
        responsible_officer=", ".join(p for p in (officer.name, officer.organisation) if p),
        risk_level=_words(o.risk_level.value) if o.risk_level else "")


def _person(order: Order, subject: Subject | None, shown: bool) -> Person:
    if not shown or subject is None:
        return Person(subject_id=order.subject_id, shown=shown and subject is not None)
    address = order.installation.address or subject.primary_address
    return Person(subject_id=subject.id, shown=True, name=subject.full_name, date_of_birth=subject.date_of_birth,
                  home=address.one_line() if address else ("no fixed abode" if subject.no_fixed_abode else ""))


def _home_unit(mine: dict) -> HomeUnit:
    def newest(a: str, b: str) -> tuple[bool | None, datetime | None]:
        x, y = mine.get(a), mine.get(b)
        if x is None and y is None:
            return None, None
        if y is None or (x is not None and x[0] >= y[0]):
            return True, instant(x[0])
        return False, instant(y[0])

    on, power_at = newest("hmu_power_on", "hmu_power_off")
    inside, range_at = newest("hmu_range_in", "hmu_range_out")
    return HomeUnit(on_mains=on, power_since=power_at, tag_in_range=inside, range_since=range_at)


def _traffic(hours: list[tuple[int, str, int, float | None, float | None]]) -> list[TimelineRow]:
    """Hourly counts of the routine kinds joined into runs of hours (a gap or local midnight
    ends a run), one row each: "612 GPS fixes; battery 41–78% (12 reports)"."""
    by_hour: dict[int, dict[str, tuple[int, float | None, float | None]]] = {}
    for hour, kind, count, lo, hi in hours:
        by_hour.setdefault(hour, {})[kind] = (count, lo, hi)
    runs: list[list[int]] = []
    for hour in sorted(by_hour):
        if runs and hour == runs[-1][-1] + HOUR_MS and local(instant(hour)).date() == local(instant(runs[-1][0])).date():
            runs[-1].append(hour)
        else:
            runs.append([hour])
    rows = []
    for run in runs:
        parts = []
        for kind, noun, unit in (("position", "GPS fixes", None), ("battery_level", "battery", "%"),
                                 ("alcohol_reading", "alcohol", " mg/100 ml")):
            seen = [by_hour[h][kind] for h in run if kind in by_hour[h]]
            if not seen:
                continue
            count = sum(c for c, _, _ in seen)
            if unit is None:
                parts.append(f"{count:,} {noun}")
                continue
            lo = min(v for _, v, _ in seen if v is not None) if any(v is not None for _, v, _ in seen) else None
            hi = max(v for _, _, v in seen if v is not None) if any(v is not None for _, _, v in seen) else None
            span = "" if lo is None else (f"{lo:g}{unit}" if lo == hi else f"{lo:g}–{hi:g}{unit}")
            parts.append(f"{noun} {span} ({count} report{'s' if count != 1 else ''})".replace("  ", " "))
        start, end = instant(run[0]), instant(run[-1] + HOUR_MS)
        rows.append(TimelineRow(key=f"traffic:{run[0]}", at=start, end=end, kind="traffic",
                                what="; ".join(parts), detail="routine reports, summed by the hour"))
    return rows


def _incident_row(i: Incident) -> TimelineRow:
    kind = "Technical incident" if i.technical else "Incident"
    tone = "good" if i.status in CLEARED else ("warn" if i.technical else "bad")
    words = ", ".join(CODES.get(c, ("", c))[1] for c in i.codes) or i.condition
    return TimelineRow(key=f"incident:{i.id}", at=i.started_at, end=i.ended_at, kind="incident",
                       what=f"{kind}, {_words(i.status.value).lower()}: {words}",
                       detail=i.detail or "; ".join(i.reasons), tone=tone, incident_id=i.id)


__all__ = ["Breach", "ConditionLine", "DeviceHealth", "HomeUnit", "NoteRow", "OrderFacts", "Person", "SubjectFile",
           "SubjectFileService", "Tamper", "TimelineRow", "may_read"]
