"""The management picture (``emdesk.domain.mi``) over the store: figures, their weekly
series, the cases behind each, and CSV.

For supervisors (``VIEW_MANAGEMENT_FIGURES``).  Dates are UK days, both ends included;
``end`` None is today, ``start`` None is "since the records begin".  Opening the cases
behind a figure is audited, as the rows name wearers.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from emdesk.domain import mi
from emdesk.domain.clock import UTC, Clock, local_date
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import Alert, BreachOutcome, BreachPack, Incident
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.visits import Visit
from emdesk.store import Store
from emdesk.store.mi_queries import last_heard_before

from .errors import AccessDenied, ServiceError

BUCKETS = ("day", "week", "month")
FIGURE_COLUMNS = ("key", "label", "value", "unit", "numerator", "denominator", "tolerance", "beyond", "from", "to",
                  "region")
ROW_COLUMNS = ("id", "kind", "order_reference", "subject_name", "region", "what", "status", "when", "hours", "part")


@dataclass(frozen=True, slots=True)
class MiRow:
    """One case behind a figure: a visit, device, order, incident (breach) or pack."""

    id: str
    kind: str                    # "visit" | "device" | "order" | "incident" | "pack"
    order_reference: str
    subject_name: str
    region: str
    what: str                    # the visit, the device, the condition breached, the pack version
    status: str
    when: datetime | None        # the moment the figure counts it at
    hours: float | None = None   # the time the figure averages, for this case
    part: str = ""               # which subset it is in ("silent", "responded"...)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class ManagementService:
    def __init__(self, store: Store, user: User, clock: Clock):
        if not user.can(Permission.VIEW_MANAGEMENT_FIGURES):
            raise AccessDenied(f"{user.role.label} accounts do not see management figures")
        self.store, self.user, self.clock = store, user, clock

    # -- periods and records -----------------------------------------------------
    def period(self, start: date | None, end: date | None) -> mi.Period:
        end = end or local_date(self.clock.now())
        if start is not None and start > end:
            raise ServiceError(f"from: {start} is after to {end}; give a start on or before the end")
        return mi.Period(start, end)

    def regions(self) -> list[str]:
        """The regions the orders name (the filter's choices)."""
        return sorted({o.region for o in self.store.find(Order) if o.region})

    def _records(self, region: str | None) -> mi.Records:
        find = self.store.find
        return mi.Records(tuple(find(Order)), tuple(find(Visit)), tuple(find(Device)), tuple(find(Incident)),
                          tuple(find(Alert)), tuple(find(BreachPack)), tuple(find(BreachOutcome))).in_region(region)

    def _heard(self, records: mi.Records, at: datetime) -> mi.Records:
        """The records with each active order's last contacts as of ``at``."""
        now = self.clock.now()
        orders = [o for o in records.orders if o.device_serials and mi.status_at(o, at) is OrderStatus.ACTIVE]
        first: dict[str, int] = {}
        if at >= now - timedelta(minutes=1):
            serials = sorted({s for o in orders for s in o.device_serials})
            heard = self.store.telemetry.last_heard(serials)
        else:
            heard, first = last_heard_before(self.store, [(o.id, s) for o in orders for s in o.device_serials],
                                             int(at.timestamp() * 1000))
        return mi.Records(records.orders, records.visits, records.devices, records.incidents, records.alerts,
                          records.packs, records.outcomes, {s: _from_ms(ms) for s, ms in heard.items()},
                          {s: _from_ms(ms) for s, ms in first.items()})

    # -- figures -----------------------------------------------------------------
    def figures(self, start: date | None = None, end: date | None = None, region: str | None = None
                ) -> list[mi.Measure]:
        period = self.period(start, end)
        now = self.clock.now()
        records = self._heard(self._records(region), period.as_of(now))
        return mi.all_measures(records, period, now)

    def figure(self, key: str, start: date | None = None, end: date | None = None, region: str | None = None
               ) -> mi.Measure:
        period = self.period(start, end)
        now = self.clock.now()
        found = self._measure(key, self._records(region), period, now)
        if found is None:
            return mi.Measure(key, "Outcome: " + key.removeprefix(mi.OUTCOME_PREFIX).replace("_", " "), None, "share",
                              id_kind="incident")
        return found

    def _measure(self, key: str, records: mi.Records, period: mi.Period, now: datetime) -> mi.Measure | None:
        if key in (mi.UNMONITORED, mi.UNMONITORED_SHARE, mi.TIME_UNMONITORED):
            records = self._heard(records, period.as_of(now))
        try:
            return mi.measure(key, records, period, now)
        except KeyError:
            keys = ", ".join(mi.MEASURES)
            raise ServiceError(f"key: no figure {key!r}; the figures are {keys} and outcome:<code>") from None

    def series(self, key: str, start: date | None = None, end: date | None = None, region: str | None = None,
               bucket: str = "week") -> list[tuple[date, float | None]]:
        """The figure over each bucket of the period (first day of the bucket, value)."""
        if bucket not in BUCKETS:
            raise ServiceError(f"bucket: {bucket!r} is not one of {', '.join(BUCKETS)}")
        period = self.period(start, end)
        now = self.clock.now()
        records = self._records(region)
        out = []
        for part in period.buckets(bucket, first=mi.first_day(records)):
            if part.begins is not None and part.begins > now:
                break
            found = self._measure(key, records, part, now)
            out.append((part.start, found.value if found is not None else None))
        return out

    # -- the cases behind a figure -------------------------------------------------
    def behind(self, key: str, start: date | None = None, end: date | None = None, region: str | None = None
               ) -> list[MiRow]:
        period = self.period(start, end)
        now = self.clock.now()
        records = self._records(region)
        measure = self._measure(key, records, period, now)
        rows = self._rows(measure, self._heard(records, period.as_of(now)), period, now) if measure else []
        self.store.audit_view(actor=self.user.id, entity="mi", entity_id=key, subject_id=None, action="mi_drilldown",
                              detail={"rows": len(rows), "from": str(period.start or ""), "to": str(period.end),
                                      "region": region or ""})
        return rows

    def _rows(self, m: mi.Measure, records: mi.Records, period: mi.Period, now: datetime) -> list[MiRow]:
        part_of: dict[str, str] = {}
        for name, ids in m.parts.items():
            for i in ids:
                part_of.setdefault(i, name)
        orders = {o.id: o for o in records.orders}
        names = {s.id: s.full_name for s in self.store.get_many(Subject, {o.subject_id for o in orders.values()}
                                                                 ).values()}

        def who(order_id: str | None) -> tuple[str, str, str]:
            o = orders.get(order_id or "")
            return (o.reference, names.get(o.subject_id, ""), o.region) if o else ("", "", "")

        if m.id_kind == "visit":
            visits = {v.id: v for v in records.visits}
            return [MiRow(v.id, "visit", *who(v.order_id), f"{v.kind.value} (attempt {v.attempt})", v.status.value,
                          v.outcome_at or v.due_by or v.window_start, None, part_of.get(v.id, ""))
                    for v in (visits[i] for i in m.ids if i in visits)]
        if m.id_kind == "device":
            devices = {d.id: d for d in records.devices}
            return [MiRow(d.id, "device", *who(d.order_id), f"{d.serial} ({d.kind.label})", d.state.label,
                          d.history[-1].at if d.history else None, None, part_of.get(d.id, ""))
                    for d in (devices[i] for i in m.ids if i in devices)]
        if m.id_kind == "order":
            at = period.as_of(now)
            since = {c.order_id: c.since for c in mi.unmonitored_cases(records, at)[1]}
            breach_at = {}
            for b in mi.breaches(records):
                if period.holds(b.incident.started_at):
                    breach_at.setdefault(b.incident.order_id, b.incident.started_at)
            return [MiRow(o.id, "order", *who(o.id), (o.cohort.label if o.cohort else ""), o.status.value,
                          since.get(o.id) or breach_at.get(o.id),
                          (at - since[o.id]).total_seconds() / 3600 if o.id in since else None,
                          part_of.get(o.id, "")) for o in (orders[i] for i in m.ids if i in orders)]
        if m.id_kind == "incident":
            found = {b.incident.id: b for b in mi.breaches(records)}
            return [self._breach_row(found[i], m.key, who, part_of.get(i, "")) for i in m.ids if i in found]
        if m.id_kind == "pack":
            latest: dict[str, BreachPack] = {}
            for p in records.packs:
                k = p.pack_id or p.id
                if k not in latest or p.version > latest[k].version:
                    latest[k] = p
            first = {k: min((p.sent_at for p in records.packs if (p.pack_id or p.id) == k and p.sent_at), default=None)
                     for k in latest}
            alerts: dict[str, int] = {}
            for a in records.alerts:
                if a.incident_id:
                    alerts[a.incident_id] = alerts.get(a.incident_id, 0) + 1
            return [MiRow(k, "pack", *who(p.order_id), f"{p.pack_id or p.id} v{p.version} · "
                          f"{sum(alerts.get(i, 0) for i in (p.incident_ids or (p.incident_id,)))} alerts behind it",
                          p.status.value, first[k], None, p.responder.value)
                    for k, p in ((k, latest[k]) for k in m.ids if k in latest)]
        return []

    @staticmethod
    def _breach_row(b: mi.Breach, key: str, who, part: str) -> MiRow:
        i = b.incident
        hours = None
        if key == mi.TIME_TO_NOTIFY and b.notified_at:
            hours = (b.notified_at - i.started_at).total_seconds() / 3600
        elif key == mi.TIME_TO_PACK and b.issued_at:
            hours = (b.issued_at - i.started_at).total_seconds() / 3600
        elif key == mi.RESPONSE_TIME and b.issued_at and b.decided:
            hours = (b.outcome.decided_at - b.issued_at).total_seconds() / 3600
        outcome = b.outcome.code.value if b.outcome and b.outcome.code else ("pack issued" if b.issued_at else
                                                                             "no pack issued")
        return MiRow(i.id, "incident", *who(i.order_id), i.condition, outcome, i.started_at, hours, part)

    # -- CSV -----------------------------------------------------------------------
    def csv(self, start: date | None = None, end: date | None = None, region: str | None = None,
            key: str | None = None) -> str:
        """The figures as CSV (``FIGURE_COLUMNS``); with ``key``, the cases behind that
        figure (``ROW_COLUMNS``, audited like ``behind``)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if key is not None:
            writer.writerow(ROW_COLUMNS)
            for r in self.behind(key, start, end, region):
                writer.writerow([r.id, r.kind, r.order_reference, r.subject_name, r.region, r.what, r.status,
                                 r.when.isoformat() if r.when else "", "" if r.hours is None else f"{r.hours:.2f}",
                                 r.part])
            return out.getvalue()
        period = self.period(start, end)
        writer.writerow(FIGURE_COLUMNS)
        for m in self.figures(start, end, region):
            writer.writerow([m.key, m.label, "" if m.value is None else f"{m.value:.6g}", m.unit, f"{m.numerator:g}",
                             f"{m.denominator:g}", "" if m.tolerance is None else f"{m.tolerance:g}",
                             "yes" if m.beyond else "no", period.start or "", period.end, region or ""])
        return out.getvalue()


__all__ = ["BUCKETS", "FIGURE_COLUMNS", "ManagementService", "MiRow", "ROW_COLUMNS"]
