"""An operator excuses time and reopens what the engine closed: audited, totals updated."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.monitoring import ExcuseKind, Incident, IncidentStatus
from emdesk.domain.users import Role, User
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.incidents import IncidentService
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry

from .watchworld import build, evening, line


@pytest.fixture
def world(tmp_path):
    store = build(tmp_path / "w.db")
    lines = evening(47) + [line("HMU-CURFEW", datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc), "hmu_power_off"),
                           line("HMU-CURFEW", datetime(2026, 12, 1, 21, 12, tzinfo=timezone.utc), "hmu_power_on")]
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))
    operator = store.put(User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR, region="West Midlands"))
    yield store, operator
    store.close()


def _curfew(store):
    return next(i for i in store.find(Incident) if i.condition == "curfew")


def test_an_excuse_takes_its_time_off_the_incident_and_the_period_and_is_audited(world):
    store, op = world
    inc = _curfew(store)
    assert inc.period_seconds == pytest.approx(inc.seconds)
    svc = IncidentService(store, op, store.clock)
    done = svc.excuse(inc.id, ExcuseKind.REASONABLE_EXCUSE, inc.started_at, inc.started_at + timedelta(minutes=30),
                      "bus cancelled; driver confirmed")
    assert done.seconds == pytest.approx(inc.seconds - 30 * 60)
    assert done.period_seconds == pytest.approx(inc.period_seconds - 30 * 60)
    assert done.excuses[0].by == op.id and "bus cancelled" in done.history[-1].reason
    assert any(e.action == "excuse" and e.entity_id == inc.id for e in store.audit_entries())


@pytest.mark.parametrize(("minutes", "reason", "words"), [
    (30, "  ", "reason"), (-5, "ok", "end after it starts"),
])
def test_a_bad_excuse_is_refused_saying_what_to_fix(world, minutes, reason, words):
    store, op = world
    inc = _curfew(store)
    with pytest.raises(ServiceError, match=words):
        IncidentService(store, op, store.clock).excuse(inc.id, ExcuseKind.AUTHORISED_ABSENCE, inc.started_at,
                                                       inc.started_at + timedelta(minutes=minutes), reason)


def test_an_auto_closed_incident_is_kept_and_can_be_reopened(world):
    store, op = world
    closed = next(i for i in store.find(Incident) if i.status is IncidentStatus.AUTO_CLOSED and "AL04" in i.codes)
    assert closed.technical and "supply cut" in closed.history[-1].reason
    again = IncidentService(store, op, store.clock).reopen(closed.id, "neighbours had power: ask the wearer")
    assert again.status is IncidentStatus.OPEN and again.history[-1].by == op.id
    with pytest.raises(ServiceError, match="only an incident the engine closed"):
        IncidentService(store, op, store.clock).reopen(closed.id, "again")


def test_other_regions_and_roles_are_refused(world):
    store, _ = world
    inc = _curfew(store)
    away = User(username="w", display_name="W", role=Role.MONITORING_OPERATOR, region="Wales")
    with pytest.raises(AccessDenied):
        IncidentService(store, away, store.clock).reopen(inc.id, "x")
    with pytest.raises(AccessDenied):
        IncidentService(store, User(username="f", display_name="F", role=Role.FIELD_OFFICER), store.clock)
