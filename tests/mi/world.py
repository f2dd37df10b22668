"""A small world for the management picture, built from records in a real plain store.

Everything happens in November 2026 (GMT: UK midnight is UTC midnight).  The period the
tests use is 2026-11-01 .. 2026-11-15, so "as of" is 2026-11-16 00:00 (now is 11-26).
Orders (one wearer each):
  O1 NW  received 11-02 10:00, fitted 11-03 10:00 at attempt 1, tag T1 heard 11-15
  O2 NW  received 11-03 08:00, failed 11-03, failed 11-04, fitted 11-05 08:00 (attempt 3), T2 heard 11-14
  O3 NW  received 11-05 12:00, install due 11-07 00:00, fitted only on 11-20 10:00 (after as-of)
  O4 NW  received 10-01, fitted 10-02, T4 last heard 10-20 12:00 before as-of (again 11-20, after);
         a check visit due 11-11 12:00 still open
  O5 Wales received 11-04 09:00, fitted 11-04 21:00, T5 heard 11-15
  O6 NW  active since 09-01, ended 11-10 12:00: T6 recovered, H6 lost
Breaches (escalated incidents), with packs and outcomes:
  I1 O1 11-06 22:00, escalated 11-07 01:00; BP-1 v1 sent 11-07 20:00, v2 sent 11-08 10:00; recall 11-09 20:00
  I2 O2 11-10 07:30, escalated 11-10 09:30; BP-2 sent 11-11 13:30; RADU steps, no decision yet
  I3 O2 11-12 23:00, escalated 11-13 00:00; no pack
  I4 O1 10-20 10:00 (before the period), escalated 10-20 11:00; BP-4 sent 10-21 09:00; no further action 10-22 09:00
  I5 O5 11-08 12:00, escalated 11-08 14:00; BP-5 sent 11-09 12:00; engage 11-09 18:00
  I6 O4 11-09 open (never escalated: not a breach)
Alerts: A1, A2 (I1, 11-06), A3 (I2, 11-10), A4 (I5, 11-08), A5 (I6, 11-09), A6 (I4, 10-20).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.monitoring import (
    Alert,
    BreachOutcome,
    BreachOutcomeCode,
    BreachPack,
    BreachPackStatus,
    Incident,
    IncidentChange,
    IncidentStatus,
    PackTemplate,
    RaduStep,
    ResponseStep,
)
from emdesk.domain.orders import Cohort, Order, OrderStatus, Responder, StatusChange
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
FROM, TO = date(2026, 11, 1), date(2026, 11, 15)
NW, WALES = "North West", "Wales"


def t(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _order(oid: str, region: str, received: datetime, *, serials=(), ended: datetime | None = None) -> Order:
    history = [StatusChange(at=received, from_status=OrderStatus.SUBMITTED, to_status=OrderStatus.ACTIVE)]
    if ended:
        history.append(StatusChange(at=ended, from_status=OrderStatus.ACTIVE, to_status=OrderStatus.ENDED))
    return Order(id=oid, reference=f"REF-{oid}", subject_id="S" + oid[1:], cohort=Cohort.POST_RELEASE,
                 received_at=received, created_at=received, status=OrderStatus.ENDED if ended else OrderStatus.ACTIVE,
                 history=tuple(history), device_serials=tuple(serials), region=region)


def _install(vid: str, oid: str, attempt: int, created: datetime, status: VisitStatus, outcome=None, at=None,
             previous=None, due=None, kind=VisitKind.INSTALL, window_end=None) -> Visit:
    return Visit(id=vid, order_id=oid, subject_id="S" + oid[1:], kind=kind, attempt=attempt, created_at=created,
                 status=status, outcome=outcome, outcome_at=at, previous_visit_id=previous, due_by=due,
                 window_end=window_end)


def _incident(iid: str, oid: str, region: str, started: datetime, escalated: datetime | None, alerts=()) -> Incident:
    history = (IncidentChange(at=started, status=IncidentStatus.OPEN, by="engine"),)
    if escalated:
        history += (IncidentChange(at=escalated, status=IncidentStatus.ESCALATED, by="op"),)
    return Incident(id=iid, order_id=oid, subject_id="S" + oid[1:], reference=f"REF-{oid}", region=region,
                    condition="curfew", period_start=started, started_at=started,
                    status=IncidentStatus.ESCALATED if escalated else IncidentStatus.OPEN, history=history,
                    alert_ids=tuple(alerts))


def _pack(pack_id: str, version: int, iid: str, oid: str, region: str, sent: datetime | None) -> BreachPack:
    return BreachPack(id=f"{pack_id}-v{version}", pack_id=pack_id, version=version, incident_id=iid,
                      incident_ids=(iid,), order_id=oid, subject_id="S" + oid[1:], region=region,
                      responder=Responder.PROBATION, template=PackTemplate.NON_BAIL, notification_due=t(11, 30),
                      pack_due=t(11, 30), status=BreachPackStatus.SENT if sent else BreachPackStatus.DRAFT,
                      sent_at=sent)


def _outcome(pack_id: str, iid: str, oid: str, region: str, code=None, decided=None, steps=()) -> BreachOutcome:
    return BreachOutcome(id="OUT-" + pack_id, incident_id=iid, order_id=oid, pack_id=pack_id,
                         subject_id="S" + oid[1:], region=region, responder=Responder.PROBATION, code=code,
                         decided_at=decided, steps=tuple(steps))


def _alert(aid: str, oid: str, raised: datetime, incident: str) -> Alert:
    return Alert(id=aid, order_id=oid, subject_id="S" + oid[1:], raised_at=raised, incident_id=incident)


def build(store) -> User:
    """Fill ``store`` with the world above; returns its supervisor."""
    sup = User(id="U-SUP", username="sup", display_name="Sam Supervisor", role=Role.SUPERVISOR)
    subjects = [Subject(id=f"S{n}", given_name=f"Wearer{n}", family_name="Test") for n in range(1, 7)]
    orders = [
        _order("O1", NW, t(11, 2, 10), serials=("T1",)),
        _order("O2", NW, t(11, 3, 8), serials=("T2",)),
        _order("O3", NW, t(11, 5, 12), serials=("T3",)),
        _order("O4", NW, t(10, 1), serials=("T4",)),
        _order("O5", WALES, t(11, 4, 9), serials=("T5",)),
        _order("O6", NW, t(9, 1), serials=("T6", "H6"), ended=t(11, 10, 12)),
    ]
    S, F, C = VisitStatus.SCHEDULED, VisitStatus.FAILED, VisitStatus.COMPLETED
    visits = [
        _install("V1a", "O1", 1, t(11, 2, 10), C, OutcomeCode.INSTALLED, t(11, 3, 10)),
        _install("V2a", "O2", 1, t(11, 3, 8), F, OutcomeCode.NOT_AT_ADDRESS, t(11, 3, 20)),
        _install("V2b", "O2", 2, t(11, 3, 20), F, OutcomeCode.REFUSED, t(11, 4, 20), previous="V2a"),
        _install("V2c", "O2", 3, t(11, 4, 20), C, OutcomeCode.INSTALLED, t(11, 5, 8), previous="V2b"),
        _install("V3a", "O3", 1, t(11, 5, 12), C, OutcomeCode.INSTALLED, t(11, 20, 10), due=t(11, 7)),
        _install("V4a", "O4", 1, t(10, 1), C, OutcomeCode.INSTALLED, t(10, 2)),
        _install("V4b", "O4", 1, t(11, 9), S, kind=VisitKind.CHECK, window_end=t(11, 11, 12)),
        _install("V5a", "O5", 1, t(11, 4, 9), C, OutcomeCode.INSTALLED, t(11, 4, 21)),
        _install("V1x", "O1", 1, t(11, 20), S, kind=VisitKind.CHECK, window_end=t(11, 21)),   # booked after as-of
    ]
    devices = [
        Device(id="D-T6", kind=DeviceKind.RF_TAG, serial="T6", state=DeviceState.RECOVERED, region=NW),
        Device(id="D-H6", kind=DeviceKind.HMU, serial="H6", state=DeviceState.LOST, region=NW, order_id="O6"),
    ]
    incidents = [
        _incident("I1", "O1", NW, t(11, 6, 22), t(11, 7, 1), ("A1", "A2")),
        _incident("I2", "O2", NW, t(11, 10, 7, 30), t(11, 10, 9, 30), ("A3",)),
        _incident("I3", "O2", NW, t(11, 12, 23), t(11, 13, 0)),
        _incident("I4", "O1", NW, t(10, 20, 10), t(10, 20, 11), ("A6",)),
        _incident("I5", "O5", WALES, t(11, 8, 12), t(11, 8, 14), ("A4",)),
        _incident("I6", "O4", NW, t(11, 9, 3), None, ("A5",)),
    ]
    alerts = [_alert("A1", "O1", t(11, 6, 22), "I1"), _alert("A2", "O1", t(11, 6, 23), "I1"),
              _alert("A3", "O2", t(11, 10, 7, 30), "I2"), _alert("A4", "O5", t(11, 8, 12), "I5"),
              _alert("A5", "O4", t(11, 9, 3), "I6"), _alert("A6", "O1", t(10, 20, 10), "I4")]
    packs = [
        _pack("BP-1", 1, "I1", "O1", NW, t(11, 7, 20)).evolve(status=BreachPackStatus.SUPERSEDED),
        _pack("BP-1", 2, "I1", "O1", NW, t(11, 8, 10)),
        _pack("BP-2", 1, "I2", "O2", NW, t(11, 11, 13, 30)),
        _pack("BP-4", 1, "I4", "O1", NW, t(10, 21, 9)),
        _pack("BP-5", 1, "I5", "O5", WALES, t(11, 9, 12)),
    ]
    outcomes = [
        _outcome("BP-1", "I1", "O1", NW, BreachOutcomeCode.RECALL, t(11, 9, 20)),
        _outcome("BP-2", "I2", "O2", NW, steps=[ResponseStep(step=RaduStep.RECEIVE, at=t(11, 11, 14))]),
        _outcome("BP-4", "I4", "O1", NW, BreachOutcomeCode.NO_FURTHER_ACTION, t(10, 22, 9)),
        _outcome("BP-5", "I5", "O5", WALES, BreachOutcomeCode.ENGAGE, t(11, 9, 18)),
    ]
    store.put_many([sup, *subjects, *orders, *visits, *devices, *incidents, *alerts, *packs, *outcomes])

    def event(order: str, serial: str, at: datetime, kind: str = "battery_level"):
        return (order, serial, ms(at), kind, None, None, None, None, 80.0, None, ms(at), 0)

    store.telemetry.append([
        event("O1", "T1", t(11, 15, 10)), event("O2", "T2", t(11, 14)),
        event("O4", "T4", t(10, 20, 12)), event("O4", "T4", t(11, 20)),           # the second: after as-of
        event("O4", "T4", t(11, 15), "comms_lost"),                                # the network, not the tag
        event("O5", "T5", t(11, 15, 12)),
    ], [])
    return sup
