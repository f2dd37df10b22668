"""PackService over a real store with a real breach: the document answers the summary's
questions from the records, versions never double, amending and issuing keep the old
versions, the hashes recorded match the files, who may read which version, and the packs
that are overdue or due soon."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.monitoring import BreachPack, BreachPackStatus, ExcuseKind, Incident, PackTemplate
from emdesk.domain.orders import Cohort, Order, OrderType
from emdesk.domain.users import Role, User
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.incidents import IncidentService
from emdesk.services.pack_json import document_sha256, parse_document
from emdesk.services.pack_map import MapRequest
from emdesk.services.pack_pdf import pdf_sha256
from emdesk.services.packs import PackService

from monitoring.watchworld import HOME, fix, line

from .pack_world import REGION, T, ingest, make, order, person
from .test_pack_evidence import PNG


@pytest.fixture
def world(tmp_path):
    store, incident, operator = make(tmp_path / "w.db")
    yield store, incident, operator
    store.close()


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _late_again(store) -> Incident:
    """The next evening, fed in: out of the home unit's range from 08:00, home 20 minutes
    late; the engine's curfew incident of 2 Dec."""
    store.clock.at = _utc(2026, 12, 3, 8)
    away = [fix("GPS-CURFEW", _utc(2026, 12, 2, 18) + timedelta(minutes=m), lat=HOME[0] + (0.01 if m < 80 else 0))
            for m in range(120)]
    ingest(store, [line("HMU-CURFEW", _utc(2026, 12, 2, 8), "hmu_range_out"), *away,
                   line("HMU-CURFEW", _utc(2026, 12, 2, 19, 20), "hmu_range_in")])
    return next(i for i in store.find(Incident, order_by="started_at") if i.condition == "curfew"
                and i.started_at.day == 2)


def test_a_pack_from_an_escalated_incident_answers_the_summary_from_the_records(world):
    store, incident, op = world
    seen = []
    pack = PackService(store, op, store.clock).build([incident.id], progress=lambda n, text: seen.append(n))
    doc = PackService(store, op, store.clock).document(pack.id)
    s = doc.summary
    assert (pack.version, pack.status, pack.template, pack.reference) == (1, BreachPackStatus.DRAFT,
                                                                           PackTemplate.NON_BAIL, "W-CURFEW")
    assert pack.pack_id.startswith("BP-") and len(pack.pack_id) == 11 and doc.pack_id == pack.pack_id
    # Who, which condition, when, for how long (this breach and the period), in the wearer's own spelling.
    assert s.who == "Siân Llewellyn-Jones; order W-CURFEW (Court sentence)" and doc.subject.address == "B1 1AA"
    assert s.condition == "Curfew: every day 19:00–07:00 (out past curfew start, returned late)"
    assert (s.started_at, s.ended_at, s.duration_seconds, s.period_seconds) == (T(19), T(19, 46), 2760, 2760)
    assert s.headline.endswith("from Tue 01 Dec 2026 19:00 GMT to 19:46 GMT: 46 min.")
    # How sure, and why: the engine's confidence and every device's health.
    assert s.confidence == "high" and "Device health rules a technical cause out" in s.not_technical
    assert "Escalated as a breach by Olwen Operator" in s.not_technical
    assert s.risk.startswith("High risk of serious harm; flags: domestic abuse; priority")
    # What the agency decides, and by when; the contract's deadlines from the period.
    assert "Probation Service: decide the response" in s.decision and "return to court" in s.decision
    # The outcome is asked for by the 5-day prompt, from the breach (19:00 on 1 Dec).
    assert (s.notification_due, s.pack_due, s.respond_by) == (_utc(2026, 12, 2, 10), _utc(2026, 12, 3, 12),
                                                               _utc(2026, 12, 6, 19))
    assert (pack.notification_due, pack.pack_due, pack.breach_at) == (s.notification_due, s.pack_due, T(19))
    assert pack.notified_at == next(c.at for c in incident.history if c.status.value == "escalated")
    assert doc.agency.contact == "Dafydd Rees" and doc.order.conditions == ("Curfew: every day 19:00–07:00",)
    assert [h.serial for h in doc.device_health] == ["GPS-CURFEW", "HMU-CURFEW"]
    assert doc.incidents[0].decided_by == "Olwen Operator" and doc.history == ()
    assert doc.map is not None and doc.map.png_base64 == "" and doc.map.note.startswith("no map")
    assert seen == sorted(seen) and seen[-1] == 100
    # The hashes the store keeps are those of the document and of its PDF.
    assert pack.document_sha256 == doc.sha256 == document_sha256(doc)
    assert pack.pdf_sha256 == pdf_sha256(PackService(store, op, store.clock).pdf(pack.id))
    assert parse_document(pack.document.encode()) == doc
    actions = [(e.action, e.entity_id) for e in store.audit_entries()]
    assert ("pack_build", pack.id) in actions and ("view", pack.id) in actions


def test_a_repeated_build_never_doubles_and_new_evidence_makes_the_next_version(world):
    store, incident, op = world
    svc = PackService(store, op, store.clock)
    first = svc.build([incident.id])
    store.clock.advance(timedelta(minutes=5))
    assert svc.build([incident.id]) == first and store.count(BreachPack) == 1
    IncidentService(store, op, store.clock).excuse(incident.id, ExcuseKind.REASONABLE_EXCUSE, T(19), T(19, 10),
                                                    "bus cancelled; the driver confirmed")
    second = svc.build([incident.id])
    assert (second.pack_id, second.version, second.amends) == (first.pack_id, 2, first.id)
    assert store.get(BreachPack, first.id).status is BreachPackStatus.SUPERSEDED
    doc = svc.document(second.id)
    assert doc.summary.duration_seconds == 2760 - 600 and doc.amendment.previous_version == 1
    assert "bus cancelled" in doc.incidents[0].excuses[0]
    assert ("Excused time", "accepted excuses are taken off the times above") in [(f.label, f.value) for f in doc.summary.facts]
    assert [p.version for p in svc.versions(first.pack_id)] == [1, 2]
    assert svc.latest_for_incident(incident.id) == second


def test_amending_keeps_the_old_version_and_records_why(world):
    store, incident, op = world
    svc = PackService(store, op, store.clock)
    first = svc.build([incident.id])
    with pytest.raises(ServiceError, match="reason"):
        svc.amend(first.pack_id, "  ")
    amended = svc.amend(first.pack_id, "the officer's phone number was wrong")
    assert (amended.version, amended.amend_reason) == (2, "the officer's phone number was wrong")
    assert svc.document(amended.id).amendment.reason == "the officer's phone number was wrong"
    assert svc.document(first.id).version == 1          # kept, as it was
    assert [p.status for p in svc.versions(first.pack_id)] == [BreachPackStatus.SUPERSEDED, BreachPackStatus.DRAFT]


def test_issuing_goes_to_the_orders_contact_once_and_never_for_a_superseded_version(world):
    store, incident, op = world
    svc = PackService(store, op, store.clock)
    first = svc.build([incident.id])
    second = svc.amend(first.pack_id, "added the officer's email")
    with pytest.raises(ServiceError, match="superseded"):
        svc.issue(first.id)
    issued = svc.issue(second.id)
    assert (issued.status, issued.sent_at, issued.issued_to, issued.issued_by) == (
        BreachPackStatus.SENT, store.clock.now(), "Dafydd Rees, Probation Service West Midlands", op.id)
    with pytest.raises(ServiceError, match="issued already"):
        svc.issue(second.id, to="someone else")
    assert any(e.action == "pack_issue" and e.entity_id == issued.id for e in store.audit_entries())


def test_a_bail_order_gets_the_police_template_and_radu(world):
    store, incident, op = world
    o = order(store, "W-CURFEW")
    store.put(o.evolve(cohort=Cohort.COURT_BAIL))
    pack = PackService(store, op, store.clock).build([incident.id])
    doc = PackService(store, op, store.clock).document(pack.id)
    assert (pack.template, pack.responder.value, doc.template) == (PackTemplate.BAIL, "police", "bail")
    assert doc.summary.decision.startswith("Police (RADU)") and "arrest" in doc.summary.decision


def test_the_injected_map_is_asked_for_the_window_and_kept(world):
    store, incident, op = world
    asked: list[MapRequest] = []

    def draw(request: MapRequest) -> bytes:
        asked.append(request)
        return PNG

    pack = PackService(store, op, store.clock, map_image=draw).build([incident.id])
    doc = PackService(store, op, store.clock).document(pack.id)
    assert asked == [MapRequest(order_id=incident.order_id, start=T(18), end=T(20, 46), highlight_start=T(19),
                                highlight_end=T(19, 46))]
    assert base64.b64decode(doc.map.png_base64) == PNG and doc.map.note == ""


def _other_incident(store, op):
    """W-ZONE's wearer: another person's incident, escalated."""
    zone = order(store, "W-ZONE")
    other = store.put(Incident(order_id=zone.id, subject_id=zone.subject_id, region=REGION, condition="zone",
                               period_start=T(7), started_at=T(20), ended_at=T(20, 5), reference="W-ZONE"))
    return IncidentService(store, op, store.clock).escalate(other.id, "entered the zone")


@pytest.mark.parametrize(("case", "error", "words"), [
    ("open", ServiceError, "status: incident .* is open, not escalated; escalate it first"),
    ("unknown", ServiceError, "incident_id: no incident nope"),
    ("none", ServiceError, "incident_ids: give at least one"),
    ("two wearers", ServiceError, "different wearers"),
    ("other region", ServiceError, "incident_id: no incident"),
    ("field officer", AccessDenied, "Field officer accounts do not build"),
    ("police", AccessDenied, "Police accounts do not build"),
    ("no cohort", ServiceError, "cohort: order W-CURFEW has no cohort, so no agency answers"),
])
def test_a_build_that_cannot_be_done_is_refused_saying_what_to_do(world, case, error, words):
    store, incident, op = world
    user, ids = op, [incident.id]
    if case == "open":
        ids = [store.put(incident.evolve(id="01900000-0000-7000-8000-0000000000aa", status="open")).id]
    elif case == "unknown":
        ids = ["nope"]
    elif case == "none":
        ids = [" "]
    elif case == "two wearers":
        ids = [incident.id, _other_incident(store, op).id]
    elif case == "other region":
        user = person(store, Role.MONITORING_OPERATOR, region="Wales")
    elif case == "field officer":
        user = person(store, Role.FIELD_OFFICER)
    elif case == "police":
        user = person(store, Role.POLICE)
    elif case == "no cohort":
        store.put(order(store, "W-CURFEW").evolve(cohort=None))
    with pytest.raises(error, match=words):
        PackService(store, user, store.clock).build(ids)
    assert store.count(BreachPack) == 0


# (role, region, issued?) -> may the user read the version
READERS = [
    (Role.SUPERVISOR, "", False, True),
    (Role.MONITORING_OPERATOR, REGION, False, True),
    (Role.MONITORING_OPERATOR, "Wales", False, False),
    (Role.PROBATION, REGION, False, False),          # not issued yet
    (Role.PROBATION, REGION, True, True),
    (Role.PROBATION, "Wales", True, False),
    (Role.PROBATION, "", True, False),               # no region: no pack (only the Home Office is national)
    (Role.POLICE, REGION, True, False),              # another agency's pack
    (Role.HOME_OFFICE, "", True, False),
]


@pytest.mark.parametrize(("role", "region", "issued", "may"), READERS)
def test_who_may_read_a_version(world, role, region, issued, may):
    store, incident, op = world
    builder = PackService(store, op, store.clock)
    pack = builder.build([incident.id])
    if issued:
        pack = builder.issue(pack.id)
    reader = PackService(store, person(store, role, region=region), store.clock)
    assert (reader.versions(pack.pack_id) == [pack]) is may
    assert (reader.latest_for_incident(incident.id) == (pack if may else None))
    if may:
        assert reader.document(pack.id).pack_id == pack.pack_id
    else:
        with pytest.raises(ServiceError, match="version_id: no breach pack version"):
            reader.pdf(pack.id)


def test_overdue_and_due_soon_packs_until_one_is_issued(world):
    store, incident, op = world
    sup = person(store, Role.SUPERVISOR, region="")
    svc = PackService(store, sup, store.clock)
    store.clock.at = _utc(2026, 12, 3, 9)                       # three hours before the pack is due
    assert [o.incident_id for o in svc.due_soon()] == [incident.id] and svc.overdue() == []
    store.clock.at = _utc(2026, 12, 3, 12, 30)
    late = svc.overdue()
    assert [(o.incident_id, o.pack_due, o.overdue_by, o.pack_id) for o in late] == [
        (incident.id, _utc(2026, 12, 3, 12), timedelta(minutes=30), "")]
    pack = svc.build([incident.id])
    assert [(o.pack_id, o.version) for o in svc.overdue()] == [(pack.pack_id, 1)]   # built is not issued
    svc.issue(pack.id)
    assert svc.overdue() == [] and svc.due_soon() == []
    with pytest.raises(AccessDenied):
        PackService(store, person(store, Role.PROBATION), store.clock).overdue()


def test_a_store_of_users_with_nothing_to_do_with_packs_is_refused(world):
    store, _, _ = world
    with pytest.raises(AccessDenied, match="do not build or receive"):
        PackService(store, User(username="t", display_name="T", role=Role.TECHNICIAN), store.clock)
    assert isinstance(order(store, "W-CURFEW"), Order)


def test_a_second_breach_is_added_to_the_pack_and_the_periods_add_up(world):
    store, incident, op = world
    second = _late_again(store)
    second = IncidentService(store, op, store.clock).escalate(second.id, "late again")
    svc = PackService(store, op, store.clock)
    first = svc.build([incident.id])
    both = svc.build([second.id, incident.id])
    assert (both.pack_id, both.version, both.incident_ids) == (first.pack_id, 2, (incident.id, second.id))
    assert both.incident_id == incident.id and both.pack_due == first.pack_due       # the first breach's clock
    s = svc.document(both.id).summary
    assert s.duration_seconds == round(incident.seconds + second.seconds) == s.period_seconds
    assert [f.label for f in s.facts] == ["Accumulated violation", "Incidents"]
    # Building from either incident now gives the same version back.
    assert svc.build([second.id]) == both == svc.latest_for_incident(second.id)


def test_a_build_racing_another_of_the_same_breach_is_refused_not_doubled(world):
    store, incident, op = world
    sup = person(store, Role.SUPERVISOR, region="")
    theirs = []

    def meanwhile(percent: int, _text: str) -> None:
        # While this build draws its map, a supervisor builds the same breach's pack.
        if percent == 65 and not theirs:
            theirs.append(PackService(store, sup, store.clock).build([incident.id]))

    with pytest.raises(ServiceError, match=r"built meanwhile \(BP-\w+ version 1\)"):
        PackService(store, op, store.clock).build([incident.id], progress=meanwhile)
    assert [p.id for p in store.find(BreachPack)] == [theirs[0].id]


def test_a_specials_order_is_marked_special(world):
    store, incident, op = world
    store.put(order(store, "W-CURFEW").evolve(cohort=Cohort.SPECIALS, order_type=OrderType.MAPPA))
    pack = PackService(store, op, store.clock).build([incident.id])
    doc = PackService(store, op, store.clock).document(pack.id)
    assert (pack.special, doc.summary.special, pack.responder.value, pack.template) == (
        True, True, "probation", PackTemplate.NON_BAIL)
    assert ("Specials", "a specials case: shorter deadlines apply") in [(f.label, f.value) for f in doc.summary.facts]
    # The specials' clock runs from the breach: 1 h to notify, 12 h to the pack, not the
    # contract's 10:00 and 12:00 the next days.
    assert pack.notification_due == incident.started_at + timedelta(hours=1)
    assert pack.pack_due == incident.started_at + timedelta(hours=12)
    assert doc.summary.pack_due == pack.pack_due


def test_the_queue_runs_the_specials_clock_for_a_specials_order(world):
    from emdesk.services.queue import IncidentQueue
    store, incident, op = world
    standard = next(i for i in IncidentQueue(store, op, store.clock).snapshot().items if i.id == incident.id)
    store.put(order(store, "W-CURFEW").evolve(cohort=Cohort.SPECIALS, order_type=OrderType.MAPPA))
    special = next(i for i in IncidentQueue(store, op, store.clock).snapshot().items if i.id == incident.id)
    assert special.pack_by == incident.started_at + timedelta(hours=12) < standard.pack_by
    assert special.notify_by == incident.started_at + timedelta(hours=1) < standard.notify_by


def test_two_packs_of_one_order_never_share_a_file_name(world, tmp_path):
    """The order's first pack is ``<reference>-pack-v<N>``; a second breach packed on its own
    carries its pack id, so neither looks like a version of the other."""
    store, incident, op = world
    second = _late_again(store)
    IncidentService(store, op, store.clock).escalate(second.id, "late again")
    svc = PackService(store, op, store.clock)
    first, other = svc.build([incident.id]), svc.build([second.id])
    assert first.pack_id != other.pack_id and (first.version, other.version) == (1, 1)
    out = tmp_path / "out"
    names = [p.name for v in (first, other) for p in svc.write(v.id, out)]
    assert names == ["W-CURFEW-pack-v1.pdf", "W-CURFEW-pack-v1.json",
                     f"W-CURFEW-{other.pack_id}-pack-v1.pdf", f"W-CURFEW-{other.pack_id}-pack-v1.json"]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_a_breach_of_a_moment_is_said_at_its_time_not_as_a_stretch_of_no_minutes(world):
    store, incident, op = world
    store.put(incident.evolve(ended_at=incident.started_at, seconds=0.0))
    pack = PackService(store, op, store.clock).build([incident.id])
    headline = PackService(store, op, store.clock).document(pack.id).summary.headline
    assert headline.endswith(" at Tue 01 Dec 2026 19:00 GMT.") and "0 min" not in headline
