"""A watched world with a real breach in it, for the pack tests: ``monitoring.watchworld``'s
orders, W-CURFEW's evening fed through the ingest path (home 47 minutes late, the home unit
off mains for 12 minutes, the battery running down), its curfew incident escalated by an
operator; plus the people who build, read and receive packs."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from emdesk.domain.monitoring import Incident
from emdesk.domain.orders import Order, ResponsibleOfficer, RiskLevel
from emdesk.domain.people import RiskFlag, Subject
from emdesk.domain.users import Role, User
from emdesk.services.incidents import IncidentService
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from monitoring.watchworld import NOW, build, evening, line

REGION = "West Midlands"
BUILT_AT = NOW + timedelta(minutes=20)      # the operator escalates at 12:00 on 2 Dec, builds the pack after


def T(h: int, m: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, h, m, tzinfo=timezone.utc)


EXTRA = [line("HMU-CURFEW", T(21), "hmu_power_off"), line("HMU-CURFEW", T(21, 12), "hmu_power_on"),
         line("GPS-CURFEW", T(18), "battery_level", value=71), line("GPS-CURFEW", T(19, 30), "battery_level", value=64),
         line("GPS-CURFEW", T(22), "battery_level", value=60)]


def ingest(store, lines: list[str]) -> None:
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))


def person(store, role: Role, region: str = REGION, name: str | None = None) -> User:
    username = f"{role.value}-{region or 'all'}"
    found = store.find(User, where={"username": username})
    return found[0] if found else store.put(User(username=username, display_name=name or f"{role.label} of {region}",
                                                 role=role, region=region))


def order(store, reference: str) -> Order:
    return next(o for o in store.find(Order) if o.reference == reference)


def curfew_incident(store) -> Incident:
    return next(i for i in store.find(Incident, order_by="started_at") if i.condition == "curfew")


def make(path, *, name: str = "Siân Llewellyn-Jones", escalate: bool = True):
    """(store, the escalated curfew incident, the operator who escalated it)."""
    store = build(path)
    curfew = order(store, "W-CURFEW")
    subject = store.get(Subject, curfew.subject_id)
    given, family = name.split(" ", 1)
    store.put(subject.evolve(given_name=given, family_name=family, risk_flags=(RiskFlag.DOMESTIC_ABUSE,)))
    store.put(curfew.evolve(risk_level=RiskLevel.HIGH, responsible_officer=ResponsibleOfficer(
        name="Dafydd Rees", organisation="Probation Service West Midlands", phone="0121 000 0000")))
    ingest(store, evening(47) + EXTRA)
    operator = person(store, Role.MONITORING_OPERATOR, name="Olwen Operator")
    incident = curfew_incident(store)
    if escalate:
        incident = IncidentService(store, operator, store.clock).escalate(incident.id, "home 47 min late, no excuse given")
    store.clock.at = BUILT_AT
    return store, incident, operator
