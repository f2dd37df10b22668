"""What each role sees of the caseload, the orders, the stock and the day's visits.

Scoping is decided here, once, from the role's permissions: a field officer gets her
own cases, monitoring staff their region, supervisors everything; a technician gets
devices with no personal details beyond the name on an allocation.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from emdesk.domain.clock import Clock, LONDON, at_local, local_date
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.engine.events import instant
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.store import Store

from .errors import AccessDenied
from .rows import CaseRow, ConflictRow, Counts, DeviceRow, OrderRow, VisitRow

OPEN_STATUSES = (OrderStatus.ACTIVE, OrderStatus.SUBMITTED, OrderStatus.DRAFT)
BACKLOG_AGE = timedelta(days=3)     # NAO: visits outstanding for more than 3 days
DISCONNECTED_AGE = timedelta(days=14)   # NAO 2.13: unmonitored when disconnected for 14 days or more
# What monitors a wearer: a tag on the body, or the immigration non-fitted device (not a home unit alone).
MONITORING_KINDS = (DeviceKind.RF_TAG, DeviceKind.GPS_TAG, DeviceKind.ALCOHOL_TAG, DeviceKind.NON_FITTED)
# Events that mean the device was heard from (the centre raises COMMS_LOST itself).


class CaseService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.store, self.user, self.clock = store, user, clock

    # -- scoping ---------------------------------------------------------------

    def _require(self, permission: Permission) -> None:
        if not self.user.can(permission):
            raise AccessDenied(f"{self.user.role.label} accounts cannot {permission.value.replace('_', ' ')}")

    def _order_scope(self) -> dict:
        u = self.user
        if u.can(Permission.VIEW_ALL_CASES):
            return {}
        if u.can(Permission.VIEW_REGION_CASES):
            return {"region": u.region}
        if u.can(Permission.VIEW_OWN_CASELOAD):
            return {"assigned_officer_id": u.id}
        raise AccessDenied(f"{u.role.label} accounts cannot see cases")

    def _scoped_orders(self, statuses=OPEN_STATUSES) -> list[Order]:
        where = {**self._order_scope(), "status": list(statuses)}
        return self.store.find(Order, where=where, order_by="id")

    # -- screens ---------------------------------------------------------------

    def caseload(self) -> list[CaseRow]:
        orders = self._scoped_orders((OrderStatus.ACTIVE, OrderStatus.SUBMITTED))
        subjects = self.store.get_many(Subject, (o.subject_id for o in orders))
        officers = self.store.get_many(User, (o.assigned_officer_id for o in orders))
        upcoming = self._next_visits([o.id for o in orders])
        self.store.audit_view(actor=self.user.id, entity="orders", entity_id="*", subject_id=None,
                              action="list", detail={"screen": "caseload", "rows": len(orders)})
        rows = []
        for o in orders:
            s = subjects.get(o.subject_id)
            addr = (o.installation.address or (s.primary_address if s else None))
            officer = officers.get(o.assigned_officer_id or "")
            rows.append(CaseRow(
                order_id=o.id, subject_id=o.subject_id, name=s.full_name if s else "(missing subject)",
                reference=o.reference, cohort=o.cohort.label if o.cohort else "",
                status=o.status.value, town=addr.town if addr else "", postcode=addr.postcode if addr else "",
                officer=officer.display_name if officer else "",
                risk_flags=tuple(f.label for f in (s.risk_flags if s else ())),
                next_visit=upcoming.get(o.id), end=o.end, region=o.region,
            ))
        return sorted(rows, key=lambda r: (r.name.split()[-1] if r.name else "", r.name))

    def _next_visits(self, order_ids: list[str]) -> dict[str, datetime]:
        nxt: dict[str, datetime] = {}
        for start in range(0, len(order_ids), 500):
            for v in self.store.find(Visit, where={"order_id": order_ids[start:start + 500], "status": VisitStatus.SCHEDULED}):
                if v.window_start and (v.order_id not in nxt or v.window_start < nxt[v.order_id]):
                    nxt[v.order_id] = v.window_start
        return nxt

    def orders(self) -> list[OrderRow]:
        if not (self.user.can(Permission.ENTER_ORDERS) or self.user.can(Permission.VIEW_ALL_CASES)):
            raise AccessDenied(f"{self.user.role.label} accounts do not work the order list")
        orders = self._scoped_orders(tuple(OrderStatus))
        subjects = self.store.get_many(Subject, (o.subject_id for o in orders))
        self.store.audit_view(actor=self.user.id, entity="orders", entity_id="*", subject_id=None,
                              action="list", detail={"screen": "orders", "rows": len(orders)})
        rows = [OrderRow(
            order_id=o.id, reference=o.reference,
            subject_name=subjects[o.subject_id].full_name if o.subject_id in subjects else "(missing subject)",
            cohort=o.cohort.label if o.cohort else "", request_type=o.request_type.value,
            status=o.status.value, received_at=o.received_at, region=o.region,
            problem_count=sum(1 for p in o.problems if p.blocking), problems=tuple(str(p) for p in o.problems),
        ) for o in orders]
        return sorted(rows, key=lambda r: (-r.problem_count, r.received_at or datetime.min.replace(tzinfo=LONDON)), reverse=False)

    def stock(self, state: str | None = None, region: str | None = None) -> list[DeviceRow]:
        self._require(Permission.VIEW_DEVICES)
        where: dict = {}
        if state:
            where["state"] = DeviceState(state)
        if region:
            where["region"] = region
        devices = self.store.find(Device, where=where, order_by="serial")
        orders = self.store.get_many(Order, (d.order_id for d in devices))
        subjects = self.store.get_many(Subject, (o.subject_id for o in orders.values()))
        rows = []
        for d in devices:
            order = orders.get(d.order_id or "")
            subject = subjects.get(order.subject_id) if order else None
            rows.append(DeviceRow(
                device_id=d.id, serial=d.serial, kind=d.kind.label, model=d.model, firmware=d.firmware,
                state=d.state.label, region=d.region,
                allocated_to=subject.full_name if subject else "", order_reference=order.reference if order else "",
            ))
        return rows

    def regions(self) -> list[str]:
        from emdesk.domain.gazetteer import REGIONS
        return list(REGIONS)

    def visits(self, day: date | None = None) -> list[VisitRow]:
        self._require(Permission.RECORD_VISITS)
        day = day or local_date(self.clock.now())
        start, end = at_local(day, datetime.min.time()), at_local(day + timedelta(days=1), datetime.min.time())
        visits = [v for v in self.store.find(Visit, where={"officer_id": self.user.id}, order_by="window_start")
                  if v.window_start and start <= v.window_start < end]
        subjects = self.store.get_many(Subject, (v.subject_id for v in visits))
        orders = self.store.get_many(Order, (v.order_id for v in visits))
        rows = []
        for v in visits:
            s, o = subjects.get(v.subject_id), orders.get(v.order_id)
            addr = (o.installation.address if o else None) or (s.primary_address if s else None)
            rows.append(VisitRow(
                visit_id=v.id, order_id=v.order_id, subject_name=s.full_name if s else "",
                kind=v.kind.value, attempt=v.attempt, window_start=v.window_start, window_end=v.window_end,
                address=addr.one_line() if addr else "", status=v.status.value,
                outcome=v.outcome.label if v.outcome else "",
                risk_flags=tuple(f.label for f in (s.risk_flags if s else ())),
            ))
        return rows

    def counts(self) -> Counts:
        self._require(Permission.VIEW_MANAGEMENT_FIGURES)
        now = self.clock.now()
        active = self.store.find(Order, where={"status": OrderStatus.ACTIVE})
        never_fitted, disconnected = self._unmonitored(active, now)
        scheduled = self.store.find(Visit, where={"status": VisitStatus.SCHEDULED})
        drafts = self.store.find(Order, where={"status": [OrderStatus.DRAFT, OrderStatus.SUBMITTED]})
        return Counts(
            active_orders=len(active),
            draft_orders=sum(1 for o in drafts if o.status is OrderStatus.DRAFT),
            orders_with_problems=sum(1 for o in drafts if any(p.blocking for p in o.problems)),
            submitted_with_problems=sum(1 for o in drafts if o.status is OrderStatus.SUBMITTED
                                        and any(p.blocking for p in o.problems)),
            subjects=self.store.count(Subject),
            devices_in_stock=self.store.count(Device, where={"state": DeviceState.IN_STOCK}),
            devices_installed=self.store.count(Device, where={"state": DeviceState.INSTALLED}),
            visits_scheduled=len(scheduled),
            visits_overdue_3_days=sum(1 for v in scheduled if v.window_start and now - v.window_start > BACKLOG_AGE),
            unmonitored_active=len(never_fitted) + len(disconnected),
            by_cohort=dict(Counter(o.cohort.label for o in active if o.cohort)),
            by_region=dict(Counter(o.region for o in active)),
            never_fitted=len(never_fitted),
            disconnected_14_days=len(disconnected),
        )

    def _unmonitored(self, active: list[Order], now: datetime) -> tuple[list[str], list[str]]:
        """Active orders unmonitored (NAO 2.13), by cause: (never fitted, disconnected 14+ days).

        Never fitted: no tag or non-fitted device installed. Disconnected: kit on, but the
        latest contact from any of the order's installed devices is 14 days old or more;
        kit with no telemetry on record at all is not counted (nothing to judge by).
        """
        ids = {o.id for o in active}
        kit: dict[str, list[Device]] = {}
        for d in self.store.find(Device, where={"state": DeviceState.INSTALLED}):
            if d.order_id in ids:
                kit.setdefault(d.order_id, []).append(d)
        fitted = {k for k, devices in kit.items() if any(d.kind in MONITORING_KINDS for d in devices)}
        serials = [d.serial for k in sorted(fitted) for d in kit[k]]
        last = {serial: instant(at) for serial, at in self.store.telemetry.last_heard(serials).items()}
        disconnected = []
        for order_id in sorted(fitted):
            heard = [last[d.serial] for d in kit[order_id] if d.serial in last]
            if heard and now - max(heard) >= DISCONNECTED_AGE:
                disconnected.append(order_id)
        return sorted(ids - fitted), disconnected

    def subject(self, subject_id: str) -> Subject:
        """One person's record, seen and audited."""
        self._require(Permission.VIEW_PERSONAL_DETAILS)
        scope = self._order_scope()
        if scope and not self.store.find(Order, where={**scope, "subject_id": subject_id}, limit=1):
            raise AccessDenied("that person is not on your caseload")
        subject = self.store.get(Subject, subject_id)
        if subject is None:
            raise AccessDenied("no such person")
        self.store.audit_view(actor=self.user.id, entity="subjects", entity_id=subject_id, subject_id=subject_id)
        return subject

    def conflicts(self, limit: int = 500) -> list[ConflictRow]:
        """Edits that lost a merge on the hub (field officers' visit outcomes, mostly)."""
        self._require(Permission.VIEW_ALL_CASES)
        raw = self.store.conflicts(limit=limit)
        visits = self.store.get_many(Visit, (c["row_id"] for c in raw if c["table_name"] == "visits"))
        names = self.store.get_many(Subject, (v.subject_id for v in visits.values()))
        rows = []
        for c in raw:
            visit = visits.get(c["row_id"])
            subject = names.get(visit.subject_id) if visit else None
            about = f"{visit.kind.value} visit · {subject.full_name}" if visit and subject else c["row_id"]
            rows.append(ConflictRow(table=c["table_name"], row_id=c["row_id"], field=c["field"],
                                    losing_value=str(c["losing_value"]), losing_stamp=c["losing_hlc"],
                                    winning_stamp=c["winning_hlc"], at=c["at"], describes=about))
        return rows
