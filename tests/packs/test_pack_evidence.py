"""The pack's evidence from real records: kit health that rules a technical cause in or out,
a timeline bounded to the violation window with routine fixes summed per 10 minutes, the
wearer's previous breaches with their outcomes, the map or the note saying why there is
none, and the decision each agency is asked for."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.devices import Device
from emdesk.domain.monitoring import (BreachOutcome, BreachOutcomeCode as C, Incident, IncidentChange, IncidentStatus,
                                      PackTemplate)
from emdesk.domain.orders import Cohort, Responder
from emdesk.domain.people import Subject
from emdesk.services import pack_evidence as ev
from emdesk.services.pack_map import MapRequest, map_part
from emdesk.services.pack_summary import decision_options, decision_words, template_for

from .pack_world import T, curfew_incident, ingest, make, order
from monitoring.watchworld import line

# A 1x1 PNG (what a map renderer hands back), and bytes that are not one.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


def _health(store, incident):
    o = order(store, "W-CURFEW")
    w = ev.window([incident], store.clock.now())
    events = ev.read_events(store, o, w)
    return ev.device_health(events, w, store.find(Device, where={"order_id": o.id})), events, w


# (extra device events, a word the verdict must hold, or None: every device rules it out)
HEALTH_CASES = [
    ([], None),
    ([line("GPS-CURFEW", T(19, 20), "battery_dead")], "battery dead at 19:20 GMT"),
    ([line("GPS-CURFEW", T(19, 10), "battery_level", value=9)], "battery 9% at 19:10 GMT"),
    ([line("HMU-CURFEW", T(18, 50), "hmu_power_off")], "home unit off mains at 18:50 GMT"),
    ([line("GPS-CURFEW", T(19, 5), "comms_lost")], "communication lost during the breach"),
    ([line("GPS-CURFEW", T(19, 15), "device_fault")], "device fault at 19:15 GMT"),
]


@pytest.mark.parametrize(("extra", "doubt"), HEALTH_CASES)
def test_device_health_rules_a_technical_cause_in_or_out(tmp_path, extra, doubt):
    store, incident, _ = make(tmp_path / "w.db")
    if extra:
        ingest(store, extra)
        incident = store.get(Incident, incident.id)
    health, _, _ = _health(store, incident)
    tag = next(r for r in health.readings if r.serial == "GPS-CURFEW")
    assert tag.battery.startswith("64% at 19:30 GMT") or doubt and "battery" in doubt
    if doubt is None:
        assert health.doubts == ()
        assert all(r.verdict == "rules out a technical cause" for r in health.readings)
    else:
        assert any(doubt in d for d in health.doubts), health.doubts
        assert any(doubt in r.verdict and r.verdict.startswith("a technical cause is possible") for r in health.readings)
    store.close()


def test_the_home_unit_and_a_tamper_are_read_from_their_events(tmp_path):
    store, incident, _ = make(tmp_path / "w.db")
    ingest(store, [line("GPS-CURFEW", T(19, 30), "strap_tamper")])
    health, _, _ = _health(store, store.get(Incident, incident.id))
    tag, hmu = health.readings
    assert tag.tamper == "strap tamper at 19:30 GMT"
    assert "tag back in range at 19:46 GMT" in hmu.home_unit and "on mains throughout" in hmu.home_unit
    # The 21:00 power cut is after the window: not this breach's evidence.
    assert "off mains" not in hmu.home_unit
    store.close()


def test_the_timeline_is_bounded_to_the_window_and_sums_fixes_per_ten_minutes(tmp_path):
    store, incident, op = make(tmp_path / "w.db")
    o = order(store, "W-CURFEW")
    w = ev.window([incident], store.clock.now())
    assert (w.start, w.end) == (incident.started_at - timedelta(hours=1), incident.ended_at + timedelta(hours=1))
    events = ev.read_events(store, o, w)
    rows = ev.timeline(events, w, [incident], [], [], ev.home_of(o, store.get(Subject, o.subject_id)),
                       ev.display_names(store)([op.id]))
    device = [e for e in rows if e.kind != "action"]
    assert all(w.start <= e.at < w.end for e in device)
    fixes = [e for e in rows if e.kind == "fix"]
    # One row per 10 minutes, however many fixes: the fixes in them add up to those in the window.
    assert len(fixes) == len({e.at for e in fixes}) <= (w.end - w.start) / timedelta(minutes=10) + 1
    in_window = sum(1 for r in events.rows if r[2] == "position" and w.start.timestamp() * 1000 <= r[1])
    assert sum(int(e.text.split(": ", 1)[1].split(" GPS")[0]) for e in fixes) == in_window
    assert fixes[0].text == "18:00–18:10 GMT: 10 GPS fixes, 1.1 km from home; battery 71%"
    assert any(e.text.endswith("at home") for e in fixes)
    assert [e.text for e in rows if e.kind == "incident"] == [
        "Violation began: out past curfew start, returned late", "Violation ended after 46 min"]
    assert rows == sorted(rows, key=lambda e: e.at)
    # What people did, in the order they did it, even within one minute.
    assert [e.text.split(":")[0] for e in rows if e.kind == "action"] == [
        "Opened by the monitoring engine", "Escalated by Olwen Operator"]
    store.close()


def test_a_breach_of_days_keeps_its_window_to_36_hours():
    start = datetime(2026, 12, 1, 19, tzinfo=timezone.utc)
    long = Incident(order_id="o", subject_id="s", condition="curfew", period_start=start, started_at=start,
                    ended_at=start + timedelta(days=4))
    w = ev.window([long], start + timedelta(days=5))
    assert w.end - w.start == ev.LONGEST and w.breach_end == long.ended_at


def test_previous_breaches_carry_their_outcome(tmp_path):
    store, incident, op = make(tmp_path / "w.db")
    earlier_at = incident.started_at - timedelta(days=7)
    earlier = store.put(incident.evolve(id="01900000-0000-7000-8000-000000000001", started_at=earlier_at,
                                        ended_at=earlier_at + timedelta(minutes=20), period_start=earlier_at,
                                        seconds=1200.0, history=(IncidentChange(at=earlier_at, status=IncidentStatus.ESCALATED,
                                                                               by=op.id),)))
    store.put(BreachOutcome(incident_id=earlier.id, order_id=earlier.order_id, responder=Responder.PROBATION,
                            code=C.FORMAL_WARNING, decided_at=earlier_at + timedelta(days=2), decided_by=op.id))
    # A later one and a technical one are not "previous breaches".
    store.put(incident.evolve(id="01900000-0000-7000-8000-000000000002", started_at=incident.started_at + timedelta(days=1)))
    store.put(incident.evolve(id="01900000-0000-7000-8000-000000000003", status=IncidentStatus.AUTO_CLOSED,
                              started_at=earlier_at))
    past = ev.history(store, [incident], ev.display_names(store))
    assert [(p.incident_id, p.seconds) for p in past] == [(earlier.id, 1200)]
    assert past[0].outcome == "Formal warning on 26 Nov 2026 (Olwen Operator)"
    store.close()


@pytest.mark.parametrize(("responder", "cohort", "template", "options", "words"), [
    (Responder.POLICE, Cohort.COURT_BAIL, PackTemplate.BAIL, (C.ARREST, C.NO_FURTHER_ACTION), "RADU"),
    (Responder.PROBATION, Cohort.POST_RELEASE, PackTemplate.NON_BAIL,
     (C.ENGAGE, C.FORMAL_WARNING, C.ADJUST_CONDITIONS, C.RECALL, C.NO_FURTHER_ACTION), "recall"),
    (Responder.PROBATION, Cohort.COURT_SENTENCE, PackTemplate.NON_BAIL,
     (C.ENGAGE, C.FORMAL_WARNING, C.ADJUST_CONDITIONS, C.RETURN_TO_COURT, C.NO_FURTHER_ACTION), "return to court"),
    (Responder.HOME_OFFICE, Cohort.IMMIGRATION, PackTemplate.NON_BAIL,
     (C.PRIORITISE_CASEWORK, C.ADJUST_CONDITIONS, C.DETENTION, C.PROSECUTION, C.NO_FURTHER_ACTION), "detention"),
])
def test_each_agency_is_asked_for_its_own_decision(responder, cohort, template, options, words):
    by = datetime(2026, 12, 8, 12, tzinfo=timezone.utc)
    assert template_for(responder) is template
    assert decision_options(responder, cohort) == options
    said = decision_words(responder, cohort, by)
    assert words in said and "Tue 08 Dec 2026" in said


REQUEST = MapRequest(order_id="o", start=T(18), end=T(20, 46), highlight_start=T(19), highlight_end=T(19, 46))


def _raises(_request):
    raise RuntimeError("WebEngine crashed")


@pytest.mark.parametrize(("renderer", "png", "note"), [
    (None, "", "no map: this pack was built where the map cannot be drawn"),
    (lambda r: PNG, base64.b64encode(PNG).decode(), ""),
    (lambda r: None, "", "no map: the map did not draw in time"),
    (_raises, "", "no map: drawing it failed (RuntimeError: WebEngine crashed)"),
    (lambda r: b"GIF89a", "", "no map: the map drawn was not a PNG image"),
])
def test_the_map_is_the_renderers_png_or_a_note_saying_why_not(renderer, png, note):
    part = map_part(renderer, REQUEST)
    assert (part.start, part.end) == (T(18), T(20, 46))
    assert part.png_base64 == png and part.note.startswith(note) and bool(part.note) == bool(note)
    assert part.caption == "Trail and zones Tue 01 Dec 2026 18:00 to 20:46 GMT; the violation 19:00–19:46 highlighted"


@pytest.mark.parametrize(("seconds", "words"), [(0, "0 min"), (2760, "46 min"), (3600, "1 h"), (7500, "2 h 05 min")])
def test_durations_read_as_people_say_them(seconds, words):
    assert ev.duration_words(seconds) == words


def test_the_curfew_incident_of_the_world_is_real(tmp_path):
    # The fixture's breach comes from the ingest path, not from a hand-made record.
    store, incident, _ = make(tmp_path / "w.db", escalate=False)
    assert incident == curfew_incident(store) and incident.codes == ("AL08", "AL09") and incident.alert_ids
    store.close()
