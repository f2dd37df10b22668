"""Keyboard triage on a real store: acknowledge, classify, note, escalate.

Each action is audited, written to the outbox (so it syncs), kept in the incident's
history, refused with a message naming what to fix, and limited to the operator's region;
the engine's re-evaluation keeps what operators decided.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.engine.events import ms
from emdesk.domain.monitoring import Incident, IncidentStatus, Note
from emdesk.domain.users import Role, User
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.evaluation import Evaluator
from emdesk.services.incidents import IncidentService
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry

from .watchworld import build, evening, fix, line

UTC = timezone.utc


def ingest(store, lines):
    return IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))


@pytest.fixture
def world(tmp_path):
    store = build(tmp_path / "w.db")
    ingest(store, evening(47) + [line("HMU-CURFEW", datetime(2026, 12, 1, 21, 0, tzinfo=UTC), "hmu_power_off"),
                                 line("HMU-CURFEW", datetime(2026, 12, 1, 21, 12, tzinfo=UTC), "hmu_power_on")])
    operator = store.put(User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR, region="West Midlands"))
    yield store, IncidentService(store, operator, store.clock), operator
    store.close()


def curfew(store) -> Incident:
    return next(i for i in store.find(Incident) if i.condition == "curfew")


def auto_closed(store) -> Incident:
    return next(i for i in store.find(Incident) if i.status is IncidentStatus.AUTO_CLOSED and "AL04" in i.codes)


def outbox_for(store, row_id: str) -> list[dict]:
    return [r for r in store.outbox() if r["row_id"] == row_id]


def audited(store, action: str, entity_id: str) -> bool:
    return any(e.action == action and e.entity_id == entity_id for e in store.audit_entries())


# action, call, status after, words in the last history entry, the audit action
ACTIONS = [
    ("acknowledge", lambda s, i: s.acknowledge(i), IncidentStatus.ACKNOWLEDGED, "acknowledged", "acknowledge"),
    ("classify genuine", lambda s, i: s.classify(i, True, "GPS and home unit agree: out until 19:46"),
     IncidentStatus.ACKNOWLEDGED, "classified genuine: GPS and home unit agree", "classify"),
    ("classify technical", lambda s, i: s.classify(i, False, "tag firmware fault confirmed by the supplier"),
     IncidentStatus.CLOSED, "classified technical: tag firmware fault", "classify"),
    ("escalate", lambda s, i: s.escalate(i, "46 minutes out past curfew, second this month"),
     IncidentStatus.ESCALATED, "escalated for a breach pack: 46 minutes", "escalate"),
    ("note", lambda s, i: s.add_note(i, "Rang the wearer: says the bus was late.\nWill check."),
     IncidentStatus.OPEN, "Rang the wearer: says the bus was late.", "note"),
]


@pytest.mark.parametrize(("name", "act", "status", "words", "audit"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_each_action_is_kept_audited_and_synced(world, name, act, status, words, audit):
    store, svc, op = world
    inc = curfew(store)
    pending = len(outbox_for(store, inc.id))
    store.clock.advance(timedelta(minutes=3))
    done = act(svc, inc.id)
    assert done.status is status
    last = done.history[-1]
    assert (last.by, last.at, last.status) == (op.id, store.clock.now(), status)
    assert words in last.reason
    assert store.get(Incident, inc.id) == done
    assert audited(store, audit, inc.id)
    assert len(outbox_for(store, inc.id)) == pending + 1
    assert outbox_for(store, inc.id)[-1]["hlc"] == done.hlc


def test_classifying_sets_the_verdict_and_reopening_withdraws_it(world):
    store, svc, op = world
    inc = curfew(store)
    assert inc.period_seconds > 0 and not inc.technical
    technical = svc.classify(inc.id, False, "tag firmware fault confirmed by the supplier")
    assert technical.technical and technical.classified_by == op.id and not technical.serious
    again = svc.reopen(inc.id, "supplier withdrew the fault report")
    assert again.status is IncidentStatus.OPEN and again.classified_by == ""
    genuine = svc.classify(inc.id, True, "no fault after all")
    assert not genuine.technical and genuine.classified_by == op.id and genuine.period_seconds > 0


def test_a_note_is_a_case_note_on_the_order_named_in_the_history(world):
    store, svc, op = world
    inc = curfew(store)
    done = svc.add_note(inc.id, "  Rang the wearer: says the bus was late.  ")
    (note,) = store.find(Note, where={"order_id": inc.order_id})
    assert (note.subject_id, note.author_id) == (inc.subject_id, op.id)
    assert note.text == "Rang the wearer: says the bus was late."
    assert done.history[-1].reason.startswith(f"note {note.id}: ")
    assert done.status is inc.status                 # a note decides nothing
    assert audited(store, "note", note.id) and outbox_for(store, note.id)


# what was done first (None: nothing), the refused call, the field named, words
REFUSED = [
    (None, lambda s, i: s.classify(i, True, "   "), "reason:", "say why it is genuine"),
    (None, lambda s, i: s.classify(i, False, ""), "reason:", "say why it is technical"),
    (None, lambda s, i: s.escalate(i, " "), "reason:", "say why it goes to the officials"),
    (None, lambda s, i: s.add_note(i, " \n "), "text:", "write the note"),
    (None, lambda s, i: s.add_note(i, "x" * 10_001), "text:", "at most 10,000 characters"),
    (None, lambda s, i: s.acknowledge("no-such-id"), "incident_id:", "no incident no-such-id"),
    ("acknowledge", lambda s, i: s.acknowledge(i), "status:", "cannot acknowledge an incident that is acknowledged"),
    ("escalate", lambda s, i: s.escalate(i, "again"), "status:", "escalated for a breach pack already"),
    ("escalate", lambda s, i: s.classify(i, False, "x"), "status:", "cannot classify as technical"),
    ("technical", lambda s, i: s.escalate(i, "breach"), "status:", "cannot escalate an incident that is closed"),
    ("technical", lambda s, i: s.acknowledge(i), "status:", "reopen it first"),
    ("technical", lambda s, i: s.classify(i, True, "x"), "status:", "cannot classify as genuine"),
    ("escalate", lambda s, i: s.reopen(i, "x"), "status:", "only an incident the engine closed"),
]


@pytest.mark.parametrize(("first", "act", "field", "words"), REFUSED)
def test_invalid_actions_are_refused_naming_what_to_fix(world, first, act, field, words):
    store, svc, _ = world
    inc = curfew(store)
    if first == "acknowledge":
        svc.acknowledge(inc.id)
    elif first == "escalate":
        svc.escalate(inc.id, "breach")
    elif first == "technical":
        svc.classify(inc.id, False, "fault")
    before = store.get(Incident, inc.id)
    entries = len(store.audit_entries())
    with pytest.raises(ServiceError) as refused:
        act(svc, inc.id)
    assert str(refused.value).startswith(field) and words in str(refused.value)
    assert store.get(Incident, inc.id) == before and len(store.audit_entries()) == entries


@pytest.mark.parametrize("act", [
    lambda s, i: s.acknowledge(i), lambda s, i: s.classify(i, True, "x"), lambda s, i: s.escalate(i, "x"),
], ids=["acknowledge", "classify", "escalate"])
def test_an_auto_closed_incident_must_be_reopened_before_triage(world, act):
    store, svc, _ = world
    with pytest.raises(ServiceError, match="^status: .*reopen it first"):
        act(svc, auto_closed(store).id)


def test_an_auto_closed_incident_still_takes_notes(world):
    store, svc, _ = world
    done = svc.add_note(auto_closed(store).id, "supply cut confirmed by the wearer's landlord")
    assert done.status is IncidentStatus.AUTO_CLOSED and done.history[-1].reason.startswith("note ")


@pytest.mark.parametrize("act", [
    lambda s, i: s.acknowledge(i), lambda s, i: s.classify(i, True, "x"), lambda s, i: s.escalate(i, "x"),
    lambda s, i: s.add_note(i, "x"),
], ids=["acknowledge", "classify", "escalate", "note"])
def test_another_regions_operator_is_refused(world, act):
    store, _, _ = world
    inc = curfew(store)
    away = User(username="w", display_name="W", role=Role.MONITORING_OPERATOR, region="Wales")
    with pytest.raises(AccessDenied, match="not in your region"):
        act(IncidentService(store, away, store.clock), inc.id)
    supervisor = User(username="s", display_name="S", role=Role.SUPERVISOR, region="Wales")
    assert act(IncidentService(store, supervisor, store.clock), inc.id).history[-1].by == supervisor.id


def reevaluate(store, inc: Incident, later: timedelta):
    store.clock = FixedClock(store.clock.now() + later)
    port = StoreTelemetry(store)
    return Evaluator(port, port.fleet().watches).run([(inc.order_id, ms(inc.period_start))])


def test_re_evaluation_keeps_an_acknowledgement_when_the_evidence_changes(tmp_path):
    noon = datetime(2026, 12, 1, 12, tzinfo=UTC)
    store = build(tmp_path / "w.db", now=noon + timedelta(hours=1))
    try:
        ingest(store, [fix("GPS-ZONE", noon + timedelta(minutes=m)) for m in range(31)])
        (gap,) = [i for i in store.find(Incident) if "COMMS-GAP" in i.codes]
        op = store.put(User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR, region="West Midlands"))
        IncidentService(store, op, store.clock).acknowledge(gap.id)
        store.clock = FixedClock(noon + timedelta(hours=2))
        # The backlog fills the gap: an engine-only incident would be auto-closed now.
        assert ingest(store, [fix("GPS-ZONE", noon + timedelta(minutes=m)) for m in range(31, 120)]).events == 89
        after = store.get(Incident, gap.id)
        assert after.status is IncidentStatus.ACKNOWLEDGED
        assert [c.by for c in after.history][-1] == op.id
    finally:
        store.close()


def test_re_evaluation_keeps_the_operators_verdict(world):
    store, svc, op = world
    inc = curfew(store)
    svc.classify(inc.id, False, "tag firmware fault confirmed by the supplier")
    reevaluate(store, inc, timedelta(hours=1))
    after = store.get(Incident, inc.id)
    assert (after.status, after.technical, after.classified_by) == (IncidentStatus.CLOSED, True, op.id)
    assert after.history[-1].reason.startswith("classified technical")


def test_roles_without_alert_work_are_refused():
    for role in (Role.FIELD_OFFICER, Role.TECHNICIAN, Role.ADMIN):
        with pytest.raises(AccessDenied, match="do not work incidents"):
            IncidentService(None, User(username="x", display_name="X", role=role), FixedClock(datetime.now(UTC)))
