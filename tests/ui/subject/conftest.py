"""A watched world with a wearer who has incidents, fed through the real ingest path, and a
signed-in monitoring session over it."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.monitoring import Incident, IncidentStatus, Note
from emdesk.domain.orders import Order, ResponsibleOfficer, RiskLevel
from emdesk.domain.users import Role, User
from emdesk.services.context import AppContext
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from monitoring.watchworld import build, evening, line


def at(h: int, m: int = 0) -> datetime:
    return datetime(2026, 12, 1, h, m, tzinfo=timezone.utc)


@pytest.fixture
def wearer_world(tmp_path):
    """(store, the W-CURFEW order): home 47 minutes late, a home unit off mains, a battery run
    low, a strap tamper; the curfew incident escalated; one note."""
    store = build(tmp_path / "s.db")
    order = next(o for o in store.find(Order) if o.reference == "W-CURFEW")
    order = store.put(order.evolve(risk_level=RiskLevel.HIGH, responsible_officer=ResponsibleOfficer(
        name="Sam Okafor", organisation="Probation")))
    lines = evening(47) + [line("HMU-CURFEW", at(21), "hmu_power_off"), line("HMU-CURFEW", at(21, 12), "hmu_power_on"),
                           line("GPS-CURFEW", at(20), "battery_level", value=64),
                           line("GPS-CURFEW", at(22), "battery_level", value=12),
                           line("GPS-CURFEW", at(22, 30), "strap_tamper")]
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))
    curfew = next(i for i in store.find(Incident) if i.condition == "curfew")
    store.put(curfew.evolve(status=IncidentStatus.ESCALATED))
    store.put(Note(subject_id=order.subject_id, at=at(23), text="Phoned: says the bus broke down"))
    yield store, order
    store.close()


@pytest.fixture
def session_for(wearer_world):
    store, _ = wearer_world

    def make(role: Role = Role.MONITORING_OPERATOR, region: str = "West Midlands") -> AppContext:
        user = store.put(User(username=f"{role.value}-{region}", display_name="Olu Operator", role=role, region=region))
        return AppContext.for_user(store, user, store.clock, GazetteerGeocoder())
    return make
