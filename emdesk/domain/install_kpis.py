"""The install KPIs, as pure functions over orders, visits and devices.

Each figure keeps the ids of the visits (or devices) behind it, so a supervisor can open
the list a number was made from.  The definitions, in words:

* **Installs within the standard attempts**: of the orders whose first install is decided
  (fitted, or failed at least ``STANDARD_ATTEMPTS`` times), the share fitted at attempt 1 or 2.
  Orders cancelled before a fit, reinstalls at a new address and attempts still to come are
  left out.  (NAO: 45% in 2025, 62% early 2026.)
* **Time to install**: mean hours from the order being received to the successful install;
  also the share fitted by the contract deadline (midnight ending the day after receipt).
* **Visits outstanding**: open visits more than 3 days past their due time (the KPI
  deadline, else the end of their window), against the tolerance of 400 (the backlog once
  reached 7,000).
* **Failure reasons**: each reason's share of the failed install attempts.
* **Device recovery**: of the devices due back from ended or revoked orders, the share
  recovered (not lost, not still with the wearer).  (NAO: about 60%.)
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .devices import Device, DeviceState
from .orders import Order, OrderStatus
from .visit_rules import FAILURE_OUTCOMES, install_due_by
from .visits import OutcomeCode, Visit, VisitCause, VisitKind, VisitStatus

STANDARD_ATTEMPTS = 2
OUTSTANDING_AFTER = timedelta(days=3)
BACKLOG_TOLERANCE = 400
BACKLOG_PEAK = 7000          # NAO: the install backlog at its worst
OPEN = (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS)
ENDED = (OrderStatus.ENDED, OrderStatus.REVOKED)
WITH_WEARER = (DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION)

# Figure keys (the UI and ``visits_behind`` name figures by these).
WITHIN_ATTEMPTS = "installs_within_attempts"
TIME_TO_INSTALL = "time_to_install"
BY_DEADLINE = "installed_by_deadline"
OUTSTANDING = "visits_outstanding"
FAILURE_PREFIX = "failure_reason:"
RECOVERY = "device_recovery"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | None              # a share (0..1), hours, or a count, by ``unit``
    unit: str                        # "share" | "hours" | "visits"
    numerator: float = 0
    denominator: int = 0
    visit_ids: tuple[str, ...] = ()
    device_ids: tuple[str, ...] = ()
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)   # named subsets of the ids
    target: float | None = None
    note: str = ""

    @property
    def text(self) -> str:
        if self.value is None:
            return "no data yet"
        if self.unit == "share":
            return f"{self.value:.0%} ({self.numerator:g} of {self.denominator})"
        if self.unit == "hours":
            return f"{self.value:.1f} h (over {self.denominator})"
        return f"{self.value:g}" + (f" (tolerance {self.target:g})" if self.target is not None else "")


def _when(v: Visit) -> datetime | None:
    return v.outcome_at or v.window_start or v.created_at


def _order_key(v: Visit) -> tuple:
    when = _when(v)
    return (when is None, when or datetime.min, v.attempt, v.id)


def first_installs(visits: Iterable[Visit]) -> dict[str, list[Visit]]:
    """Each order's first-install attempts in time order (reinstalls at a new address left out)."""
    by_id = {v.id: v for v in visits}

    def root(v: Visit) -> Visit:
        seen = set()
        while v.previous_visit_id and v.previous_visit_id in by_id and v.id not in seen:
            seen.add(v.id)
            v = by_id[v.previous_visit_id]
        return v

    out: dict[str, list[Visit]] = {}
    for v in by_id.values():
        if v.kind is VisitKind.INSTALL and root(v).cause is not VisitCause.ADDRESS_CHANGE:
            out.setdefault(v.order_id, []).append(v)
    return {k: sorted(vs, key=_order_key) for k, vs in out.items()}


def _attempts(vs: list[Visit]) -> list[Visit]:
    """The attempts that were made: fitted, or failed for a reason."""
    return [v for v in vs if (v.status is VisitStatus.COMPLETED and v.outcome is OutcomeCode.INSTALLED)
            or (v.status is VisitStatus.FAILED and v.outcome in FAILURE_OUTCOMES)]


def installs_within_attempts(visits: Iterable[Visit], *, standard: int = STANDARD_ATTEMPTS) -> Figure:
    within: list[str] = []
    beyond: list[str] = []
    behind: list[str] = []
    for vs in first_installs(visits).values():
        made = _attempts(vs)
        if any(v.outcome is OutcomeCode.ORDER_CANCELLED for v in made):
            made = [v for v in made if v.outcome is not OutcomeCode.ORDER_CANCELLED]
            if not any(v.outcome is OutcomeCode.INSTALLED for v in made):
                continue           # cancelled before a fit: not the installer's attempt to count
        fit = next((i for i, v in enumerate(made, start=1) if v.outcome is OutcomeCode.INSTALLED), None)
        failures = sum(v.outcome is not OutcomeCode.INSTALLED for v in made)
        if fit is None and failures < standard:
            continue               # undecided: the next attempt may still fit it
        ids = tuple(v.id for v in made[:fit] if fit) if fit else tuple(v.id for v in made)
        behind += ids
        (within if fit is not None and fit <= standard else beyond).append(ids[-1])
    n = len(within) + len(beyond)
    return Figure(WITHIN_ATTEMPTS, f"Installs fitted within {standard} attempts", len(within) / n if n else None,
                  "share", len(within), n, tuple(behind), parts={"within": tuple(within), "beyond": tuple(beyond)},
                  note="NAO: 45% in 2025, 62% in early 2026")


def time_to_install(visits: Iterable[Visit], orders: Iterable[Order]) -> tuple[Figure, Figure]:
    """Mean hours from receipt to the fit, and the share fitted by the contract deadline."""
    received = {o.id: o.received_at for o in orders if o.received_at}
    hours: list[float] = []
    ids: list[str] = []
    on_time: list[str] = []
    late: list[str] = []
    for order_id, vs in first_installs(visits).items():
        fit = next((v for v in vs if v.status is VisitStatus.COMPLETED and v.outcome is OutcomeCode.INSTALLED
                    and v.outcome_at), None)
        if fit is None or order_id not in received:
            continue
        hours.append((fit.outcome_at - received[order_id]).total_seconds() / 3600)
        ids.append(fit.id)
        (on_time if fit.outcome_at <= install_due_by(received[order_id]) else late).append(fit.id)
    n = len(ids)
    mean = Figure(TIME_TO_INSTALL, "Average time from order received to install", sum(hours) / n if n else None,
                  "hours", sum(hours), n, tuple(ids))
    deadline = Figure(BY_DEADLINE, "Installs by the contract deadline", len(on_time) / n if n else None, "share",
                      len(on_time), n, tuple(ids), parts={"on_time": tuple(on_time), "late": tuple(late)},
                      note="due by midnight at the end of the day after the order was received")
    return mean, deadline


def due_at(v: Visit) -> datetime | None:
    return v.due_by or v.window_end or v.window_start


def outstanding_visits(visits: Iterable[Visit], now: datetime, *, after: timedelta = OUTSTANDING_AFTER,
                       tolerance: int = BACKLOG_TOLERANCE) -> Figure:
    late = sorted((v for v in visits if v.status in OPEN and due_at(v) is not None and now - due_at(v) > after),
                  key=lambda v: (due_at(v), v.id))
    n = len(late)
    kinds = {k.value: tuple(v.id for v in late if v.kind is k) for k in VisitKind}
    state = "over tolerance" if n > tolerance else "within tolerance"
    return Figure(OUTSTANDING, f"Visits outstanding more than {after.days} days", n, "visits", n, n,
                  tuple(v.id for v in late), parts={k: ids for k, ids in kinds.items() if ids}, target=tolerance,
                  note=f"{state}; the backlog once reached {BACKLOG_PEAK:,}")


def failure_reasons(visits: Iterable[Visit], *, kinds: tuple[VisitKind, ...] = (VisitKind.INSTALL,)) -> list[Figure]:
    failed = [v for v in visits if v.kind in kinds and v.status is VisitStatus.FAILED and v.outcome in FAILURE_OUTCOMES]
    n = len(failed)
    out = []
    for code in sorted({v.outcome for v in failed}, key=lambda c: (-sum(v.outcome is c for v in failed), c.value)):
        ids = tuple(v.id for v in failed if v.outcome is code)
        out.append(Figure(FAILURE_PREFIX + code.value, code.label, len(ids) / n, "share", len(ids), n, ids))
    return out


def device_recovery(orders: Iterable[Order], devices: Iterable[Device], visits: Iterable[Visit] = ()) -> Figure:
    """Devices due back from ended or revoked orders: recovered, lost, or still out."""
    ended = {o.id: o for o in orders if o.status in ENDED}
    by_serial = {d.serial: d for d in devices}
    due: dict[str, str] = {}                 # serial -> order id
    for o in ended.values():
        for s in o.device_serials:
            due.setdefault(s, o.id)
    for d in by_serial.values():
        if d.order_id in ended and d.state in WITH_WEARER:
            due.setdefault(d.serial, d.order_id)
    removal_ids = []
    for v in visits:
        if v.kind is VisitKind.REMOVAL and v.order_id in ended:
            removal_ids.append(v.id)
            for s in v.device_serials:
                due.setdefault(s, v.order_id)
    recovered, lost, out = [], [], []
    for serial, order_id in sorted(due.items()):
        d = by_serial.get(serial)
        if d is None:
            continue                         # not in this desktop's stock records
        if d.state is DeviceState.LOST:
            lost.append(d.id)
        elif d.order_id == order_id and d.state in WITH_WEARER:
            out.append(d.id)
        else:
            recovered.append(d.id)
    n = len(recovered) + len(lost) + len(out)
    return Figure(RECOVERY, "Devices recovered from ended orders", len(recovered) / n if n else None, "share",
                  len(recovered), n, tuple(sorted(removal_ids)), (*recovered, *lost, *out),
                  parts={"recovered": tuple(recovered), "lost": tuple(lost), "outstanding": tuple(out)},
                  note="NAO: about 60% come back")


def all_figures(orders: list[Order], visits: list[Visit], devices: list[Device], now: datetime) -> list[Figure]:
    mean, deadline = time_to_install(visits, orders)
    return [installs_within_attempts(visits), mean, deadline, outstanding_visits(visits, now),
            *failure_reasons(visits), device_recovery(orders, devices, visits)]


__all__ = ["BACKLOG_TOLERANCE", "BY_DEADLINE", "FAILURE_PREFIX", "Figure", "OUTSTANDING", "RECOVERY",
           "STANDARD_ATTEMPTS", "TIME_TO_INSTALL", "WITHIN_ATTEMPTS", "all_figures", "device_recovery",
           "failure_reasons", "first_installs", "installs_within_attempts", "outstanding_visits", "time_to_install"]
