"""A wearer's file for monitoring staff, over a real store fed through the ingest path: the kit's
health matches the events put in, the timeline is summed and bounded, breaches and notes are
the subject's, and reading it is scoped by role and audited."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, timezone

import msgspec
import pytest

from emdesk.domain.conditions import (AlcoholMode, AlcoholMonitoring, CheckIns, Circle, Conditions, Curfew,
                                      CurfewWindow, LocationMonitoring, Proximity, ReleaseDayWindow, Zone, ZoneKind)
from emdesk.domain.curfew import parse_windows
from emdesk.domain.monitoring import Incident, IncidentStatus, Note
from emdesk.domain.orders import Order
from emdesk.domain.users import ROLE_PERMISSIONS, Permission, Role, User
from emdesk.services.errors import AccessDenied
from emdesk.services.ingest import IngestService
from emdesk.services.subject_file import SubjectFileService
from emdesk.services.subject_words import conditions_words
from emdesk.services.telemetry_port import StoreTelemetry

from .watchworld import HOME, build, evening, fix, line

REGION = "West Midlands"


def T(h: int, m: int = 0) -> datetime:
    return datetime(2026, 12, 1, h, m, tzinfo=timezone.utc)


def ingest(store, lines: list[str]) -> None:
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode()))


def order(store, reference: str) -> Order:
    return next(o for o in store.find(Order) if o.reference == reference)


def person(store, role: Role, region: str = REGION) -> User:
    found = store.find(User, where={"username": f"{role.value}-{region}"})
    return found[0] if found else store.put(User(username=f"{role.value}-{region}", display_name=f"{role.label} of {region}", role=role,
                          region=region))


# W-CURFEW's evening (home 47 minutes late), its home unit off mains for 12 minutes, a battery
# running down and a strap tamper at 22:30.
EXTRA = [line("HMU-CURFEW", T(21), "hmu_power_off"), line("HMU-CURFEW", T(21, 12), "hmu_power_on"),
         line("GPS-CURFEW", T(20), "battery_level", value=64), line("GPS-CURFEW", T(22), "battery_level", value=12),
         line("GPS-CURFEW", T(22, 30), "strap_tamper")]


@pytest.fixture
def world(tmp_path):
    store = build(tmp_path / "w.db")
    ingest(store, evening(47) + EXTRA)
    yield store
    store.close()


def read(store, reference="W-CURFEW", role=Role.MONITORING_OPERATOR, **kw):
    return SubjectFileService(store, person(store, role), store.clock).file(order(store, reference).id, **kw)


def test_the_file_names_the_order_and_the_wearer_and_says_the_conditions(world):
    f = read(world)
    assert (f.order.reference, f.order.cohort, f.order.status, f.order.region) == (
        "W-CURFEW", "Court sentence", "Active", REGION)
    assert (f.order.start, f.order.end) == (date(2026, 11, 20), date(2027, 3, 1))
    assert f.person.shown and f.person.name == "Test W-CURFEW" and "B1 1AA" in f.person.home
    assert [(c.kind, c.text) for c in f.conditions] == [("curfew", "every day 19:00–07:00")]


def test_kit_health_is_what_the_devices_last_said(world):
    f = read(world)
    tag, hmu = (next(d for d in f.devices if d.serial == s) for s in ("GPS-CURFEW", "HMU-CURFEW"))
    assert (tag.battery_pct, tag.battery_at, tag.battery) == (12.0, T(22), "low")
    # The last fix of the evening is 23:59; the clock reads noon the next day: over an hour is late.
    assert (tag.last_contact, tag.contact) == (T(23, 59), "late")
    assert [(t.kind, t.at, t.cleared, t.status) for t in tag.tampers] == [("strap", T(22, 30), False, "Open")]
    assert (hmu.battery, hmu.contact, hmu.last_contact) == ("n/a", "ok", T(21, 12))
    assert (hmu.home_unit.on_mains, hmu.home_unit.power_since) == (True, T(21, 12))
    assert (hmu.home_unit.tag_in_range, hmu.home_unit.range_since) == (True, T(19, 46))


def test_a_tamper_whose_incident_was_closed_reads_as_cleared(world):
    tamper = next(i for i in world.find(Incident) if "TAMPER-STRAP" in i.codes)
    world.put(tamper.evolve(status=IncidentStatus.CLOSED))
    tag = next(d for d in read(world).devices if d.serial == "GPS-CURFEW")
    assert [(t.cleared, t.status) for t in tag.tampers] == [(True, "Closed")]


@pytest.mark.parametrize(("events", "pct", "state"), [
    ([("battery_level", 64)], 64.0, "ok"),
    ([("battery_level", 15)], 15.0, "low"),
    ([("battery_level", 2)], 2.0, "dead"),
    ([("battery_level", 40), ("battery_dead", None)], 40.0, "dead"),
    ([("battery_level", 9), ("charging", None)], 9.0, "ok"),
    ([("battery_level", 50), ("battery_low", None)], 50.0, "low"),
    ([], None, "unknown"),
])
def test_the_battery_state_follows_the_devices_latest_word(tmp_path, events, pct, state):
    store = build(tmp_path / "b.db")
    ingest(store, [fix("GPS-ZONE", T(10))] + [
        line("GPS-ZONE", T(11, n), kind, **({"value": v} if v is not None else {})) for n, (kind, v) in enumerate(events)])
    tag = read(store, "W-ZONE").devices[0]
    assert (tag.battery_pct, tag.battery) == (pct, state)
    store.close()


@pytest.mark.parametrize(("last", "days_later", "state"), [
    (datetime(2026, 12, 2, 11, 30, tzinfo=timezone.utc), 0, "ok"),
    (datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc), 0, "late"),
    (datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc), 13, "late"),
    (datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc), 14, "silent"),
])
def test_last_contact_is_the_last_sign_of_life_not_the_networks_comms_lost(tmp_path, last, days_later, state):
    store = build(tmp_path / "c.db", now=datetime(2026, 12, 2, 12, tzinfo=timezone.utc) + timedelta(days=days_later))
    ingest(store, [fix("GPS-ZONE", last), line("GPS-ZONE", last + timedelta(minutes=20), "comms_lost")])
    tag = read(store, "W-ZONE").devices[0]
    assert (tag.last_contact, tag.contact) == (last, state)
    store.close()


def test_the_timeline_lists_rare_events_and_findings_and_sums_the_fixes(world):
    f = read(world)
    assert [r.at for r in f.timeline] == sorted((r.at for r in f.timeline), reverse=True)
    events = {(r.what, r.at) for r in f.timeline if r.kind == "event"}
    assert {("Strap tamper", T(22, 30)), ("Home unit off mains (on its battery)", T(21)),
            ("Home unit back on mains", T(21, 12)), ("Battery 12%", T(22))} <= events
    assert not any(r.what == "GPS fix" for r in f.timeline)
    # The evening's fixes, one a minute from 17:00 to midnight, summed into one run (one local day).
    traffic = [r for r in f.timeline if r.kind == "traffic"]
    assert [(r.at, r.end) for r in traffic] == [(T(17), T(23) + timedelta(hours=1))]
    assert traffic[0].what.startswith("420 GPS fixes") and "battery 12–64% (2 reports)" in traffic[0].what
    incidents = {r.incident_id for r in f.timeline if r.kind == "incident"}
    assert incidents == {i.id for i in world.find(Incident, where={"order_id": f.order.order_id})}
    alerts = [r for r in f.timeline if r.kind == "alert"]
    assert alerts and all(r.incident_id in incidents for r in alerts)
    assert not f.timeline_more


def test_the_timeline_is_bounded_and_says_there_is_more(world):
    f = read(world, limit=3)
    assert len(f.timeline) == 3 and f.timeline_more
    assert f.timeline[0].at == max(r.at for r in read(world).timeline)


def test_the_protected_persons_phone_never_shows(tmp_path):
    store = build(tmp_path / "p.db")
    zone = order(store, "W-ZONE")
    store.put(zone.evolve(conditions=msgspec.structs.replace(
        zone.conditions, proximity=Proximity(device_serial="PHONE-V", radius_m=500))))
    victim = (52.4711, -1.9012)
    ingest(store, [fix("GPS-ZONE", T(10, m)) for m in range(5)]
           + [fix("PHONE-V", T(10, m), lat=victim[0], lon=victim[1]) for m in range(7)]
           + [line("PHONE-V", T(10, 30), "battery_level", value=5)])
    assert {r[0] for r in store.telemetry.for_order(zone.id, 0, 2**62)} == {"GPS-ZONE", "PHONE-V"}
    f = read(store, "W-ZONE")
    text = repr(f)
    assert "PHONE-V" not in text and str(victim[0]) not in text and "Battery 5%" not in text
    assert [r.what for r in f.timeline if r.kind == "traffic"] == ["5 GPS fixes"]
    assert "protected person" in next(c.text for c in f.conditions if c.kind == "proximity")
    store.close()


def test_previous_breaches_are_the_subjects_genuine_incidents_dealt_with(world):
    curfew = next(i for i in world.find(Incident) if i.condition == "curfew")
    world.put(curfew.evolve(status=IncidentStatus.ESCALATED))
    f = read(world)
    assert [(b.incident_id, b.status, b.period, b.codes) for b in f.breaches] == [
        (curfew.id, "Escalated", date(2026, 12, 1), ("AL08", "AL09"))]
    assert f.breaches[0].minutes == pytest.approx(curfew.seconds / 60, abs=0.1)


def test_notes_are_the_subjects_newest_first_with_their_authors(world):
    op = person(world, Role.MONITORING_OPERATOR)
    subject = order(world, "W-CURFEW").subject_id
    world.put_many([Note(subject_id=subject, author_id=op.id, at=T(9), text="phoned: says the bus was late"),
                    Note(subject_id=subject, author_id=op.id, at=T(23), text="strap checked by officer"),
                    Note(subject_id=order(world, "W-ZONE").subject_id, at=T(12), text="someone else")])
    f = SubjectFileService(world, op, world.clock).file(order(world, "W-CURFEW").id)
    assert [(n.text, n.author) for n in f.notes] == [("strap checked by officer", op.display_name),
                                                     ("phoned: says the bus was late", op.display_name)]


@pytest.mark.parametrize(("role", "region", "allowed"), [
    (Role.MONITORING_OPERATOR, REGION, True),
    (Role.MONITORING_OPERATOR, "Wales", False),
    (Role.SUPERVISOR, "Wales", True),
    (Role.FIELD_OFFICER, REGION, False),
    (Role.TECHNICIAN, REGION, False),
    (Role.ADMIN, REGION, False),
])
def test_who_may_read_a_file(world, role, region, allowed):
    target = order(world, "W-CURFEW").id
    if allowed:
        assert SubjectFileService(world, person(world, role, region), world.clock).file(target).order.order_id == target
    else:
        with pytest.raises(AccessDenied):
            SubjectFileService(world, person(world, role, region), world.clock).file(target)


def test_reading_a_file_is_audited(world):
    op = person(world, Role.MONITORING_OPERATOR)
    target = order(world, "W-CURFEW")
    SubjectFileService(world, op, world.clock).file(target.id)
    entry = world.audit_entries(subject_id=target.subject_id)[-1]
    assert (entry.actor, entry.action, entry.entity, entry.entity_id) == (op.id, "view", "orders", target.id)


def test_without_personal_details_the_wearer_is_not_named(world, monkeypatch):
    # A centre that gives its operators no personal details (policy, not a code path of its own).
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.MONITORING_OPERATOR,
                        ROLE_PERMISSIONS[Role.MONITORING_OPERATOR] - {Permission.VIEW_PERSONAL_DETAILS})
    f = read(world)
    assert not f.person.shown and (f.person.name, f.person.date_of_birth, f.person.home) == ("", None, "")
    assert "Test W-CURFEW" not in repr(f) and "B1 1AA" not in repr(f)
    assert f.order.reference == "W-CURFEW" and f.devices


@pytest.mark.parametrize(("conditions", "expected"), [
    (Conditions(curfew=Curfew(windows=parse_windows("Mon-Fri 19:00-07:00"))), [("Curfew", "Mon–Fri 19:00–07:00")]),
    (Conditions(curfew=Curfew(windows=parse_windows("Mon-Thu 19:00-07:00; Fri-Sun 21:00-07:00"),
                              release_day=ReleaseDayWindow(day=date(2026, 11, 20), start=time(15), end=time(7)))),
     [("Curfew", "Mon–Thu 19:00–07:00; Fri–Sun 21:00–07:00; release day 20 Nov 2026 15:00–07:00")]),
    (Conditions(zones=(Zone(name="Broad Street", kind=ZoneKind.EXCLUSION, shape=Circle(lat=HOME[0], lon=HOME[1], radius_m=250),
                            active_windows=(CurfewWindow(weekday=5, start=time(18), end=time(2)),)),)),
     [("Exclusion zone: Broad Street", "must not enter, Sat 18:00–02:00 (circle of 250 m)")]),
    (Conditions(proximity=Proximity(device_serial="PHONE-V", radius_m=800)),
     [("Proximity", "must stay more than 800 m from the protected person (their position is never shown)")]),
    (Conditions(alcohol=AlcoholMonitoring(mode=AlcoholMode.LEVEL, threshold=35)),
     [("Alcohol", "level monitoring, over 35 mg/100 ml is a breach")]),
    (Conditions(alcohol=AlcoholMonitoring()), [("Alcohol", "abstinence: no alcohol at all")]),
    (Conditions(checkins=CheckIns(per_week=5, at=(time(10), time(16)), window_min=30)),
     [("Check-ins", "Mon–Fri at 10:00, 16:00, 30 min to answer (biometric)")]),
    (Conditions(location=LocationMonitoring(fix_interval_s=30)), [("Location", "a fix every 30 s, trail kept")]),
])
def test_conditions_in_words(conditions, expected):
    assert [(c.title, c.text) for c in conditions_words(conditions)] == expected
