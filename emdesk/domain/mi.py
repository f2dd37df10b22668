"""The management picture (NAO Figure 5), as pure functions over emdesk's own records.

A period is a run of whole UK days, ``start`` to ``end`` inclusive (Europe/London
midnights); ``start`` None means "since the records begin".  "As of" is the end of the
period, or now when the period ends later than now.  A region keeps the orders of that
region and every record hanging off them (visits, devices, incidents, alerts, packs,
outcomes by their order).  Each measure keeps the ids behind it (``ids``, of kind
``id_kind``) and named subsets (``parts``) for the drill-down.

The measures, in words:

* **Installs within the standard attempts** (``installs_within_attempts``): the orders
  received in the period, through ``install_kpis.installs_within_attempts``: of those whose
  first install is decided, the share fitted at attempt 1 or 2.  Ids: the attempts.
* **Average time to install** (``time_to_install``): orders received in the period and
  fitted: mean hours from receipt to the fit (``install_kpis.time_to_install``).
* **Install backlog** (``install_backlog``): install visits open as of the period's end
  (booked by then, not yet done or failed by then).  Ids: the visits.
* **Visits outstanding over 3 days** (``visits_outstanding``): visits of any kind open as
  of the period's end and more than 3 days past their due time
  (``install_kpis.outstanding_visits``); tolerance 400.
* **Unmonitored** (``unmonitored``, ``unmonitored_share``, ``time_unmonitored``), as of the
  period's end, over the orders active then (the order's status history says ACTIVE at
  that instant): an order is unmonitored when no tag was fitted by then (never fitted:
  no install visit fitted by then and, where no install visit is recorded, no device
  serials on the order), or when its equipment has been silent 14 days or more (the
  newest last contact of its devices, at or before as-of, is 14 days old or more; a
  fitted order never heard from counts from its fit; kit the telemetry log first hears
  only after as-of is not judged: the log does not reach back to then).  Number; share of the active
  orders (tolerance 15%); mean days unmonitored = mean of (as-of minus since), since =
  receipt (else start, else activation) for never fitted, the last contact (else the fit)
  for silent.
* **Wearers who breach** (``wearers_breaching``): people with an order active at some
  time in the period (denominator) of whom a breach started in the period (numerator).
  Ids: the orders of the breaches.
* A **breach** is an incident the centre escalated (status or history ESCALATED); it is in
  the period when its breach time (``started_at``) is.
* **Time to notify** (``time_to_notify``): breaches in the period with a notification
  time (the first ESCALATED history entry, else the pack's ``notified_at``): mean hours
  from breach to notification.
* **Time to pack** (``time_to_pack``): breaches in the period whose pack was issued:
  mean hours from breach to the first ``sent_at`` of the pack series (contract: 29 to 53).
* **Breaches receiving a response** (``breaches_responded``): of the breaches in the
  period, the share whose pack series has a decided outcome (a ``code``).  Parts:
  responded, awaiting (issued, undecided), no pack issued.
* **Response time** (``response_time``): responded breaches in the period: mean hours
  from the first ``sent_at`` of the pack to the outcome's ``decided_at``.
* **Outcomes by type** (``outcome:<code>``): each code's share of the decided outcomes of
  the breaches in the period (one measure a code, most frequent first).
* **Alerts per breach pack** (``alerts_per_pack``): alerts raised in the period over pack
  series first issued in the period.  Ids: the packs; parts["alerts"]: the alerts.
* **Device recovery** (``device_recovery``): the orders that ended (or were revoked) in
  the period, through ``install_kpis.device_recovery``: the share of their devices
  recovered.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from . import install_kpis as kpi
from .clock import at_local, local_date
from .devices import Device
from .monitoring import Alert, BreachOutcome, BreachPack, Incident, IncidentStatus
from .orders import Order, OrderStatus
from .responses import outcome_id
from .visits import OutcomeCode, Visit, VisitKind, VisitStatus

SILENT_AFTER = timedelta(days=14)
UNMONITORED_TOLERANCE = 0.15
BACKLOG_TOLERANCE = kpi.BACKLOG_TOLERANCE
OUTCOME_PREFIX = "outcome:"
DONE = (VisitStatus.COMPLETED, VisitStatus.FAILED, VisitStatus.CANCELLED)

# Keys, in the order the figures are shown.
WITHIN_ATTEMPTS = kpi.WITHIN_ATTEMPTS
TIME_TO_INSTALL = kpi.TIME_TO_INSTALL
INSTALL_BACKLOG = "install_backlog"
OUTSTANDING = kpi.OUTSTANDING
UNMONITORED = "unmonitored"
UNMONITORED_SHARE = "unmonitored_share"
TIME_UNMONITORED = "time_unmonitored"
WEARERS_BREACHING = "wearers_breaching"
TIME_TO_NOTIFY = "time_to_notify"
TIME_TO_PACK = "time_to_pack"
RESPONDED = "breaches_responded"
RESPONSE_TIME = "response_time"
ALERTS_PER_PACK = "alerts_per_pack"
RECOVERY = kpi.RECOVERY


@dataclass(frozen=True)
class Period:
    """Whole UK days, both ends included; ``start`` None: since the records begin."""

    start: date | None
    end: date

    def __post_init__(self):
        if self.start is not None and self.start > self.end:
            raise ValueError(f"period: from {self.start} is after to {self.end}")

    @property
    def begins(self) -> datetime | None:
        return at_local(self.start, time(0)) if self.start else None

    @property
    def ends(self) -> datetime:
        """The instant the period ends (midnight after its last day, exclusive)."""
        return at_local(self.end + timedelta(days=1), time(0))

    def holds(self, at: datetime | None) -> bool:
        return at is not None and (self.begins is None or at >= self.begins) and at < self.ends

    def as_of(self, now: datetime) -> datetime:
        return min(self.ends, now)

    def buckets(self, bucket: str = "week", first: date | None = None) -> list["Period"]:
        """The period cut into days, ISO weeks (Monday first) or calendar months, clipped
        to the period; ``first`` stands in for an open start."""
        start = self.start or first or self.end
        out: list[Period] = []
        day = start
        while day <= self.end:
            if bucket == "day":
                last = day
            elif bucket == "week":
                last = day + timedelta(days=6 - day.weekday())
            elif bucket == "month":
                nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                last = nxt - timedelta(days=1)
            else:
                raise ValueError(f"bucket: {bucket!r} is not day, week or month")
            out.append(Period(day, min(last, self.end)))
            day = min(last, self.end) + timedelta(days=1)
        return out


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    value: float | None          # a share (0..1), hours, days, a count or a ratio, by ``unit``
    unit: str                    # "share" | "hours" | "days" | "count" | "ratio"
    numerator: float = 0
    denominator: float = 0
    ids: tuple[str, ...] = ()
    id_kind: str = ""            # "visit" | "device" | "order" | "incident" | "pack"
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tolerance: float | None = None   # the most that is tolerable (a count, or a share)
    note: str = ""

    @property
    def beyond(self) -> bool:
        """Over its tolerance (the red tiles)."""
        return self.value is not None and self.tolerance is not None and self.value > self.tolerance


@dataclass(frozen=True)
class Records:
    """Everything the picture is made from; ``last_contact``: device serial -> the newest
    sign of life at or before the as-of instant, ``log_from``: serial -> the first event the
    telemetry log holds for it (the caller reads both from telemetry)."""

    orders: tuple[Order, ...] = ()
    visits: tuple[Visit, ...] = ()
    devices: tuple[Device, ...] = ()
    incidents: tuple[Incident, ...] = ()
    alerts: tuple[Alert, ...] = ()
    packs: tuple[BreachPack, ...] = ()
    outcomes: tuple[BreachOutcome, ...] = ()
    last_contact: Mapping[str, datetime] = field(default_factory=dict)
    log_from: Mapping[str, datetime] = field(default_factory=dict)

    def in_region(self, region: str | None) -> "Records":
        """Only the orders of ``region`` and what hangs off them (None: every region)."""
        if not region:
            return self
        orders = tuple(o for o in self.orders if o.region == region)
        keep = {o.id for o in orders}
        known = {o.id for o in self.orders}

        def own(records, fallback: Callable = lambda r: False):
            # A record of an order this store does not hold goes by its own region, if it has one.
            return tuple(r for r in records if r.order_id in keep or (r.order_id not in known and fallback(r)))
        return Records(orders, own(self.visits), own(self.devices, lambda d: d.region == region),
                       own(self.incidents, lambda i: i.region == region), own(self.alerts),
                       own(self.packs, lambda p: p.region == region), own(self.outcomes, lambda o: o.region == region),
                       self.last_contact, self.log_from)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


# -- orders through time -------------------------------------------------------

def status_at(order: Order, at: datetime) -> OrderStatus | None:
    """The order's status at an instant, from its history (None: not yet received)."""
    if order.history:
        changes = sorted(order.history, key=lambda c: c.at)
        if changes[0].at > at:
            begun = order.received_at or order.created_at
            return changes[0].from_status if begun is None or begun <= at else None
        return [c for c in changes if c.at <= at][-1].to_status
    begun = order.received_at or order.created_at
    return order.status if begun is None or begun <= at else None


def _activated(order: Order) -> datetime | None:
    return next((c.at for c in sorted(order.history, key=lambda c: c.at) if c.to_status is OrderStatus.ACTIVE), None)


def _ended(order: Order) -> datetime | None:
    changes = [c.at for c in order.history if c.to_status in kpi.ENDED]
    if changes:
        return min(changes)
    if order.status in kpi.ENDED and order.end:
        return at_local(order.end + timedelta(days=1), time(0))
    return None


def live_in(order: Order, period: Period, now: datetime) -> bool:
    """Active at some instant of the period."""
    if status_at(order, period.begins or datetime.min.replace(tzinfo=now.tzinfo)) is OrderStatus.ACTIVE:
        return True
    if status_at(order, period.as_of(now)) is OrderStatus.ACTIVE:
        return True
    return any(c.to_status is OrderStatus.ACTIVE and period.holds(c.at) and c.at <= now for c in order.history)


def _received_in(records: Records, period: Period) -> set[str]:
    return {o.id for o in records.orders if period.holds(o.received_at or o.created_at)}


# -- installs (install_kpis over the period's orders) --------------------------

def _figure(f: kpi.Figure, key: str | None = None, id_kind: str = "visit", tolerance: float | None = None) -> Measure:
    ids = f.device_ids if id_kind == "device" else f.visit_ids
    return Measure(key or f.key, f.label, f.value, "count" if f.unit == "visits" else f.unit, f.numerator,
                   f.denominator, tuple(ids), id_kind, dict(f.parts), tolerance, f.note)


def installs_within_attempts(records: Records, period: Period, now: datetime) -> Measure:
    received = _received_in(records, period)
    f = kpi.installs_within_attempts([v for v in records.visits if v.order_id in received])
    return _figure(f)


def time_to_install(records: Records, period: Period, now: datetime) -> Measure:
    received = _received_in(records, period)
    mean, _ = kpi.time_to_install([v for v in records.visits if v.order_id in received],
                                  [o for o in records.orders if o.id in received])
    return _figure(mean)


def visits_as_of(visits: Iterable[Visit], at: datetime) -> list[Visit]:
    """The visits booked by ``at``, those done since shown as still open then."""
    out = []
    for v in visits:
        if v.created_at is not None and v.created_at > at:
            continue
        if v.status in DONE:
            if v.outcome_at is None or v.outcome_at <= at:
                out.append(v)
                continue
            v = v.evolve(status=VisitStatus.SCHEDULED, outcome=None, outcome_at=None)
        out.append(v)
    return out


def install_backlog(records: Records, period: Period, now: datetime) -> Measure:
    at = period.as_of(now)
    installs = (v for v in visits_as_of(records.visits, at) if v.kind is VisitKind.INSTALL and v.status in kpi.OPEN)
    open_ = sorted(installs, key=lambda v: (kpi.due_at(v) or at, v.id))
    late = tuple(v.id for v in open_ if (kpi.due_at(v) or at) < at)
    n = len(open_)
    return Measure(INSTALL_BACKLOG, "Install backlog (install visits open)", n, "count", n, n,
                   tuple(v.id for v in open_), "visit", {"past_due": late}, note=f"{len(late):,} past their due time")


def visits_outstanding(records: Records, period: Period, now: datetime) -> Measure:
    at = period.as_of(now)
    return _figure(kpi.outstanding_visits(visits_as_of(records.visits, at), at), tolerance=BACKLOG_TOLERANCE)


def device_recovery(records: Records, period: Period, now: datetime) -> Measure:
    ended = [o for o in records.orders if period.holds(_ended(o))]
    keep = {o.id for o in ended}
    f = kpi.device_recovery(ended, records.devices, [v for v in records.visits if v.order_id in keep])
    return _figure(f, id_kind="device")


# -- unmonitored ---------------------------------------------------------------

@dataclass(frozen=True)
class Unmonitored:
    order_id: str
    reason: str          # "never_fitted" | "silent"
    since: datetime


def _fitted_at(order: Order, installs: list[Visit], at: datetime) -> tuple[bool, datetime | None]:
    """(fitted by ``at``, when)."""
    fits = sorted(v.outcome_at for v in installs if v.status is VisitStatus.COMPLETED
                  and v.outcome is OutcomeCode.INSTALLED and v.outcome_at and v.outcome_at <= at)
    if fits:
        return True, fits[0]
    if not installs and order.device_serials:
        return True, None            # kit recorded without a visit (an import): fitted, time unknown
    return False, None


def unmonitored_cases(records: Records, at: datetime) -> tuple[list[str], list[Unmonitored]]:
    """(active order ids, the unmonitored among them) as of ``at``."""
    installs: dict[str, list[Visit]] = {}
    for v in records.visits:
        if v.kind is VisitKind.INSTALL:
            installs.setdefault(v.order_id, []).append(v)
    active, out = [], []
    for o in sorted(records.orders, key=lambda o: o.id):
        if status_at(o, at) is not OrderStatus.ACTIVE:
            continue
        active.append(o.id)
        fitted, fit_at = _fitted_at(o, installs.get(o.id, []), at)
        if not fitted:
            since = o.received_at or (at_local(o.start, time(0)) if o.start else None) or _activated(o) or at
            out.append(Unmonitored(o.id, "never_fitted", min(since, at)))
            continue
        heard = [records.last_contact[s] for s in o.device_serials if s in records.last_contact]
        heard = [t for t in heard if t <= at]
        if not heard and any(records.log_from.get(s, at) > at for s in o.device_serials):
            continue                 # the log only begins later for this kit: its silence then is unknown
        last = max(heard) if heard else fit_at
        if last is not None and at - last >= SILENT_AFTER:
            out.append(Unmonitored(o.id, "silent", last))
    return active, out


def _unmonitored_parts(cases: list[Unmonitored]) -> dict[str, tuple[str, ...]]:
    return {r: tuple(c.order_id for c in cases if c.reason == r) for r in ("never_fitted", "silent")}


def unmonitored(records: Records, period: Period, now: datetime) -> Measure:
    active, cases = unmonitored_cases(records, period.as_of(now))
    parts = _unmonitored_parts(cases)
    return Measure(UNMONITORED, "Unmonitored active orders", len(cases), "count", len(cases), len(active),
                   tuple(c.order_id for c in cases), "order", parts,
                   note=f"{len(parts['never_fitted']):,} never fitted · {len(parts['silent']):,} silent 14+ days")


def unmonitored_share(records: Records, period: Period, now: datetime) -> Measure:
    active, cases = unmonitored_cases(records, period.as_of(now))
    share = len(cases) / len(active) if active else None
    return Measure(UNMONITORED_SHARE, "Share of active orders unmonitored", share, "share", len(cases), len(active),
                   tuple(c.order_id for c in cases), "order", _unmonitored_parts(cases), UNMONITORED_TOLERANCE,
                   "NAO: an estimated 24% in March 2026")


def time_unmonitored(records: Records, period: Period, now: datetime) -> Measure:
    at = period.as_of(now)
    _, cases = unmonitored_cases(records, at)
    days = [(at - c.since).total_seconds() / 86400 for c in cases]
    return Measure(TIME_UNMONITORED, "Average time unmonitored", _mean(days), "days", sum(days), len(days),
                   tuple(c.order_id for c in cases), "order", _unmonitored_parts(cases))


# -- breaches, packs and outcomes -----------------------------------------------

def is_breach(i: Incident) -> bool:
    return i.status is IncidentStatus.ESCALATED or any(c.status is IncidentStatus.ESCALATED for c in i.history)


@dataclass(frozen=True)
class Breach:
    incident: Incident
    notified_at: datetime | None
    pack_id: str | None
    issued_at: datetime | None          # the series' first sent_at
    outcome: BreachOutcome | None

    @property
    def decided(self) -> bool:
        return self.outcome is not None and self.outcome.code is not None and self.outcome.decided_at is not None


def breaches(records: Records) -> list[Breach]:
    """Every breach with its pack series and outcome, in breach-time order."""
    series: dict[str, list[BreachPack]] = {}
    pack_of: dict[str, str] = {}
    for p in sorted(records.packs, key=lambda p: (p.pack_id or p.id, p.version)):
        key = p.pack_id or p.id
        series.setdefault(key, []).append(p)
        for i in (p.incident_id, *p.incident_ids):
            pack_of.setdefault(i, key)
    # One outcome per pack series, the one every desk shares (``outcome_id``): a stray second
    # record for the same pack never overrides it.
    by_pack: dict[str, BreachOutcome] = {}
    for o in records.outcomes:
        if o.pack_id and (o.pack_id not in by_pack or o.id == outcome_id(o.pack_id)):
            by_pack[o.pack_id] = o
    by_incident = {o.incident_id: o for o in records.outcomes}
    out = []
    for i in sorted((i for i in records.incidents if is_breach(i)), key=lambda i: (i.started_at, i.id)):
        key = pack_of.get(i.id)
        versions = series.get(key, [])
        escalated = next((c.at for c in sorted(i.history, key=lambda c: c.at)
                          if c.status is IncidentStatus.ESCALATED), None)
        notified = escalated or min((p.notified_at for p in versions if p.notified_at), default=None)
        issued = min((p.sent_at for p in versions if p.sent_at), default=None)
        outcome = by_pack.get(key) if key else None
        out.append(Breach(i, notified, key, issued, outcome or by_incident.get(i.id)))
    return out


def _in_period(records: Records, period: Period) -> list[Breach]:
    return [b for b in breaches(records) if period.holds(b.incident.started_at)]


def wearers_breaching(records: Records, period: Period, now: datetime) -> Measure:
    live = [o for o in records.orders if live_in(o, period, now)]
    found = _in_period(records, period)
    breached = {b.incident.subject_id for b in found}
    wearers = {o.subject_id for o in live} | breached
    return Measure(WEARERS_BREACHING, "Share of wearers who breach", len(breached) / len(wearers) if wearers else None,
                   "share", len(breached), len(wearers), tuple(dict.fromkeys(b.incident.order_id for b in found)),
                   "order", {"wearers": tuple(o.id for o in live)})


def _mean_hours(key: str, label: str, pairs: list[tuple[Breach, datetime, datetime]], note: str = "") -> Measure:
    hours = [_hours(a, b) for _, a, b in pairs]
    return Measure(key, label, _mean(hours), "hours", sum(hours), len(hours),
                   tuple(b.incident.id for b, _, _ in pairs), "incident", note=note)


def time_to_notify(records: Records, period: Period, now: datetime) -> Measure:
    pairs = [(b, b.incident.started_at, b.notified_at) for b in _in_period(records, period) if b.notified_at]
    return _mean_hours(TIME_TO_NOTIFY, "Average time from breach to notification", pairs,
                       "contract: by 10:00 the morning the violation period ends")


def time_to_pack(records: Records, period: Period, now: datetime) -> Measure:
    pairs = [(b, b.incident.started_at, b.issued_at) for b in _in_period(records, period) if b.issued_at]
    return _mean_hours(TIME_TO_PACK, "Average time from breach to pack issued", pairs,
                       "contract: 29 to 53 h; NAO: 20 h on average in Feb 2026")


def breaches_responded(records: Records, period: Period, now: datetime) -> Measure:
    found = _in_period(records, period)
    done = tuple(b.incident.id for b in found if b.decided)
    awaiting = tuple(b.incident.id for b in found if not b.decided and b.issued_at)
    unissued = tuple(b.incident.id for b in found if not b.decided and not b.issued_at)
    return Measure(RESPONDED, "Share of breaches receiving a response", len(done) / len(found) if found else None,
                   "share", len(done), len(found), tuple(b.incident.id for b in found), "incident",
                   {"responded": done, "awaiting": awaiting, "no_pack_issued": unissued})


def response_time(records: Records, period: Period, now: datetime) -> Measure:
    pairs = [(b, b.issued_at, b.outcome.decided_at) for b in _in_period(records, period)
             if b.decided and b.issued_at]
    return _mean_hours(RESPONSE_TIME, "Average response time (pack issued to outcome)", pairs)


def outcomes_by_type(records: Records, period: Period, now: datetime) -> list[Measure]:
    decided = [b for b in _in_period(records, period) if b.decided]
    n = len(decided)
    codes = {b.outcome.code for b in decided}
    out = []
    for code in sorted(codes, key=lambda c: (-sum(b.outcome.code is c for b in decided), c.value)):
        ids = tuple(b.incident.id for b in decided if b.outcome.code is code)
        out.append(Measure(OUTCOME_PREFIX + code.value, "Outcome: " + code.value.replace("_", " "), len(ids) / n,
                           "share", len(ids), n, ids, "incident"))
    return out


def alerts_per_pack(records: Records, period: Period, now: datetime) -> Measure:
    alerts = tuple(a.id for a in sorted(records.alerts, key=lambda a: (a.raised_at, a.id)) if period.holds(a.raised_at))
    first: dict[str, datetime] = {}
    for p in records.packs:
        if p.sent_at:
            key = p.pack_id or p.id
            first[key] = min(first.get(key, p.sent_at), p.sent_at)
    packs = tuple(sorted(k for k, at in first.items() if period.holds(at)))
    return Measure(ALERTS_PER_PACK, "Alerts per breach pack issued", len(alerts) / len(packs) if packs else None,
                   "ratio", len(alerts), len(packs), packs, "pack", {"alerts": alerts},
                   note="NAO: only 10-50% of alerts become a breach pack")


# -- all of them ----------------------------------------------------------------

MEASURES: dict[str, Callable[[Records, Period, datetime], Measure]] = {
    WITHIN_ATTEMPTS: installs_within_attempts,
    TIME_TO_INSTALL: time_to_install,
    INSTALL_BACKLOG: install_backlog,
    OUTSTANDING: visits_outstanding,
    UNMONITORED: unmonitored,
    UNMONITORED_SHARE: unmonitored_share,
    TIME_UNMONITORED: time_unmonitored,
    WEARERS_BREACHING: wearers_breaching,
    TIME_TO_NOTIFY: time_to_notify,
    TIME_TO_PACK: time_to_pack,
    RESPONDED: breaches_responded,
    RESPONSE_TIME: response_time,
    ALERTS_PER_PACK: alerts_per_pack,
    RECOVERY: device_recovery,
}


def all_measures(records: Records, period: Period, now: datetime) -> list[Measure]:
    """Every figure in display order; outcomes by type after the response time."""
    out = []
    for key, make in MEASURES.items():
        out.append(make(records, period, now))
        if key == RESPONSE_TIME:
            out += outcomes_by_type(records, period, now)
    return out


def measure(key: str, records: Records, period: Period, now: datetime) -> Measure | None:
    """One figure by key (an outcome key gives None when no breach had that outcome)."""
    if key in MEASURES:
        return MEASURES[key](records, period, now)
    if key.startswith(OUTCOME_PREFIX):
        return next((m for m in outcomes_by_type(records, period, now) if m.key == key), None)
    raise KeyError(key)


def first_day(records: Records) -> date | None:
    """The earliest UK day any record of the picture begins on (an open period's start)."""
    times = [t for t in (*(o.received_at or o.created_at for o in records.orders),
                         *(i.started_at for i in records.incidents), *(a.raised_at for a in records.alerts))
             if t is not None]
    return local_date(min(times)) if times else None


__all__ = ["ALERTS_PER_PACK", "BACKLOG_TOLERANCE", "Breach", "INSTALL_BACKLOG", "MEASURES", "Measure",
           "OUTCOME_PREFIX", "OUTSTANDING", "Period", "RECOVERY", "RESPONDED", "RESPONSE_TIME", "Records",
           "SILENT_AFTER", "TIME_TO_INSTALL", "TIME_TO_NOTIFY", "TIME_TO_PACK", "TIME_UNMONITORED", "UNMONITORED",
           "UNMONITORED_SHARE", "UNMONITORED_TOLERANCE", "Unmonitored", "WEARERS_BREACHING", "WITHIN_ATTEMPTS",
           "all_measures", "breaches", "first_day", "is_breach", "live_in", "measure", "status_at",
           "unmonitored_cases", "visits_as_of"]
