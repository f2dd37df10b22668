"""emdesk ingest: lines in, each event stored once, bad lines counted by reason, the engine run."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry

from .watchworld import FITTED, HOME, NOW, build, evening, fix, line


def ingest(store, lines: list[str]):
    return IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(lines).encode() + b"\n"))


@pytest.fixture
def store(tmp_path):
    s = build(tmp_path / "w.db")
    yield s
    s.close()


T = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)

REFUSALS = [
    # (line, reason)
    ('{"device": "GPS-ZONE", "at": "2026-12-01T12:00:00Z", "kind": "position", "lat": "north", "lon": 1}', "malformed"),
    ("not json at all", "malformed"),
    ('{"device": "GPS-ZONE", "kind": "position"}', "malformed"),
    (fix("NOBODY-1", T), "unknown_device"),
    (fix("SPARE-1", T), "not_fitted"),
    (line("GPS-ZONE", T, "teleport"), "unknown_kind"),
    ('{"device": "GPS-ZONE", "at": "yesterday", "kind": "position", "lat": 52, "lon": -1}', "bad_time"),
    ('{"device": "GPS-ZONE", "at": "2026-12-01T12:00:00", "kind": "position", "lat": 52, "lon": -1}', "bad_time"),
    ('{"device": "GPS-ZONE", "at": "9-0000-x", "kind": "position", "lat": 52, "lon": -1}', "bad_time"),
    # fullwidth digits: Python's int() reads them, a stamp must not
    ('{"device": "GPS-ZONE", "at": "２０２６-12-01T12:00:00Z", "kind": "position", "lat": 52, "lon": -1}', "bad_time"),
    (fix("GPS-ZONE", NOW + timedelta(minutes=5, seconds=1)), "ahead_of_clock"),
    (fix("GPS-ZONE", FITTED - timedelta(minutes=1)), "before_fitted"),
    (fix("GPS-ENDED", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)), "after_order_end"),
    (line("GPS-ZONE", T), "missing_position"),
    (fix("GPS-ZONE", T, lat=91.0), "bad_coordinates"),
    (fix("GPS-ZONE", T, lon=-180.5), "bad_coordinates"),
    (fix("GPS-ZONE", T, hdop=-1.0), "bad_number"),
    ('{"device": "GPS-ZONE", "at": "2026-12-01T12:00:00Z", "kind": "position", "lat": 52, "lon": -1, '
     '"speed": 1e999}', "malformed"),
    ('{"device": "GPS-ZONE", "at": "2026-12-01T12:00:00Z", "kind": "position", "lat": 52, "lon": -1, '
     '"speed": NaN}', "malformed"),
    (line("GPS-ZONE", T, "battery_level", value=140), "bad_value"),
    (line("GPS-ZONE", T, "checkin", value=3), "bad_value"),
    ('{"device": "GPS-ZONE", "at": "2026-12-01T12:00:00Z", "kind": "position", "lat": 52, "lon": -1, "x": "'
     + "y" * 5000 + '"}', "malformed"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSALS)
def test_a_bad_line_is_refused_with_its_reason_and_ingest_goes_on(store, text, reason):
    good = fix("GPS-ZONE", T)
    report = ingest(store, [good, text, fix("GPS-ZONE", T + timedelta(minutes=1))])
    assert (report.events, report.rejected, dict(report.reasons)) == (2, 1, {reason: 1})
    assert report.samples[0][0] == 2                       # the line number is the bad line's


@pytest.mark.parametrize("ahead", [timedelta(minutes=4, seconds=59), timedelta(minutes=5)])
def test_up_to_five_minutes_ahead_of_the_clock_is_accepted(store, ahead):
    assert ingest(store, [fix("GPS-ZONE", NOW + ahead)]).events == 1


def test_anywhere_on_earth_is_accepted_and_a_valid_offset_is_read_as_its_instant(store):
    report = ingest(store, [fix("GPS-ZONE", T - timedelta(hours=1), lat=-33.86, lon=151.21), fix("GPS-ZONE", T),
                            '{"device": "GPS-ZONE", "at": "2026-12-01T13:00:00+01:00", "kind": "position", '
                            '"lat": 52.48, "lon": -1.89}'])
    # 13:00+01:00 is 12:00Z: the same event again, stored once
    assert (report.events, report.duplicates, report.rejected) == (2, 1, 0)
    ats = [r[1] for r in store.telemetry.for_order(_order(store, "W-ZONE"), 0, 2**53)]
    assert ats == [int((T - timedelta(hours=1)).timestamp() * 1000), int(T.timestamp() * 1000)]


def _landed(store) -> int:
    with store.reading() as db:
        return db.execute("SELECT count(*) FROM device_events_inbox").fetchone()[0]


def _order(store, ref):
    from emdesk.domain.orders import Order
    return store.find(Order, where={"reference": ref})[0].id


def test_the_same_event_delivered_twice_is_stored_once(store):
    lines = [fix("GPS-ZONE", T + timedelta(minutes=m)) for m in range(5)]
    first = ingest(store, lines + lines[:2])
    again = ingest(store, lines)
    assert (first.events, again.events, again.duplicates) == (5, 0, 5)
    assert store.telemetry.count() == 5


def test_a_late_delivery_is_stored_evaluated_and_marked_late(store):
    ingest(store, [fix("GPS-ZONE", T + timedelta(minutes=m)) for m in range(10, 20)])
    report = ingest(store, [fix("GPS-ZONE", T + timedelta(minutes=3))])
    assert (report.events, report.late) == (1, 1)
    rows = store.telemetry.for_order(_order(store, "W-ZONE"), 0, 2**53)
    assert [r[-1] for r in rows] == [1] + [0] * 10


def test_a_late_return_becomes_one_curfew_incident_with_its_reasons(store):
    report = ingest(store, evening(minutes_late=47))
    incidents = [i for i in store.find(Incident) if i.condition == "curfew"]
    assert len(incidents) == 1, [(i.codes, i.started_at) for i in store.find(Incident)]
    inc = incidents[0]
    assert set(inc.codes) >= {"AL08", "AL09"}
    assert inc.started_at == datetime(2026, 12, 1, 19, tzinfo=timezone.utc)
    assert 40 * 60 <= inc.seconds <= 50 * 60
    assert inc.reasons and "curfew" in inc.reasons[0]
    assert report.evaluation.incidents >= 1


def test_on_time_home_raises_no_curfew_incident(store):
    ingest(store, evening(minutes_late=0))
    assert [i for i in store.find(Incident) if i.condition == "curfew"] == []


def test_re_evaluating_the_same_events_writes_nothing_new(store):
    ingest(store, evening(minutes_late=47))
    before = {i.id: i.hlc for i in store.find(Incident)}
    report = ingest(store, evening(minutes_late=47))
    assert report.events == 0 and report.evaluation.incidents == 0
    assert {i.id: i.hlc for i in store.find(Incident)} == before


def _cli(*args, env_extra=None, stdin=None, **kw):
    env = {**os.environ, "EMDESK_NOW": NOW.isoformat().replace("+00:00", "Z"), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "emdesk", *args], capture_output=True, text=True, env=env,
                          input=stdin, **kw)


def test_the_cli_prints_the_summary_line_and_the_json_contract(tmp_path):
    build(tmp_path / "w.db").close()
    data = tmp_path / "t.jsonl"
    data.write_text("\n".join([*evening(47), fix("NOBODY", T), "garbage"]) + "\n")
    out = _cli("ingest", str(data), "--db", str(tmp_path / "w.db"))
    assert out.returncode == 0, out.stderr
    head = out.stdout.strip()
    assert head.startswith("events ") and ", rejected 2, alerts " in head and ", fixes/s " in head
    assert "line " in out.stderr and "unknown_device" in out.stderr
    again = _cli("ingest", "-", "--json", "--db", str(tmp_path / "w.db"), stdin=data.read_text())
    doc = json.loads(again.stdout)
    assert {"events", "rejected", "alerts", "incidents", "fixes_per_s", "rejected_reasons"} <= set(doc)
    assert (doc["events"], doc["rejected"], doc["rejected_reasons"]) == (0, 2, {"malformed": 1, "unknown_device": 1})
    listed = json.loads(_cli("incidents", "--json", "--db", str(tmp_path / "w.db")).stdout)
    curfew = [i for i in listed if i["condition"] == "curfew"]
    assert curfew and curfew[0]["order_reference"] == "W-CURFEW" and curfew[0]["start"] == "2026-12-01T19:00:00.000Z"
    assert set(curfew[0]) == {"id", "order_reference", "codes", "condition", "start", "end", "seconds", "status",
                              "priority", "reasons", "technical", "confidence"}


KILLS = [
    # (how the killed run ingests: small transactions; or a second process landing rows in the
    # inbox, folded rarely, so the kill leaves landed rows behind)
    {"EMDESK_INGEST_CHUNK": "5"},
    {"EMDESK_INGEST_PARALLEL_BYTES": "1", "EMDESK_INGEST_BLOCK_BYTES": "2000", "EMDESK_INGEST_FOLD_ROWS": "100000"},
]


@pytest.mark.parametrize("how", KILLS, ids=["transactions", "landed"])
def test_a_killed_ingest_run_again_loses_nothing_and_doubles_nothing(tmp_path, how):
    """Kill -9 part-way through a file, run it again: the store ends as one clean run leaves it."""
    lines = []
    for m in range(0, 24 * 60, 1):
        at = datetime(2026, 12, 1, 7, tzinfo=timezone.utc) + timedelta(minutes=m)
        lines.append(fix("GPS-ZONE", at, lat=HOME[0] + (0.0064 if 600 <= m < 640 else 0),
                         lon=HOME[1] + (0.0104 if 600 <= m < 640 else 0)))
    lines += evening(47)
    data = tmp_path / "day.jsonl"
    data.write_text("\n".join(lines) + "\n")
    build(tmp_path / "clean.db").close()
    import shutil
    for suffix in ("", ".keys"):             # the same world (same ids) in both stores
        shutil.copy(f"{tmp_path / 'clean.db'}{suffix}", f"{tmp_path / 'killed.db'}{suffix}")
    assert _cli("ingest", str(data), "--db", str(tmp_path / "clean.db")).returncode == 0
    env = {**os.environ, "EMDESK_NOW": NOW.isoformat().replace("+00:00", "Z"), **how}
    proc = subprocess.Popen([sys.executable, "-m", "emdesk", "ingest", str(data), "--db", str(tmp_path / "killed.db")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    from emdesk.store import Store
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        probe = Store.open(tmp_path / "killed.db")
        stored = probe.telemetry.count() + _landed(probe)
        probe.close()
        if stored >= 50:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    probe = Store.open(tmp_path / "killed.db")
    part = probe.telemetry.count() + _landed(probe)
    probe.close()
    assert 0 < part < len(set(lines)), "the kill should land part-way"
    assert _cli("ingest", str(data), "--db", str(tmp_path / "killed.db")).returncode == 0
    clean, killed = Store.open(tmp_path / "clean.db"), Store.open(tmp_path / "killed.db")
    try:
        assert killed.telemetry.count() == clean.telemetry.count()
        assert killed.telemetry.dirty() == [] == clean.telemetry.dirty()

        def summary(s):
            return sorted((i.reference, i.condition, tuple(i.codes), i.started_at, i.ended_at, i.id)
                          for i in s.find(Incident))
        assert summary(killed) == summary(clean) and summary(clean)
    finally:
        clean.close()
        killed.close()


def test_kit_silent_for_14_days_makes_one_unmonitored_incident(tmp_path):
    later = datetime(2026, 12, 20, 12, tzinfo=timezone.utc)
    store = build(tmp_path / "w.db", now=later)
    try:
        ingest(store, [fix("GPS-ZONE", T)])
        ingest(store, [fix("GPS-ZONE", T)])                    # again: still one
        silent = [i for i in store.find(Incident) if "UNMONITORED" in i.codes]
        assert len(silent) == 1
        assert silent[0].reference == "W-ZONE" and silent[0].started_at == T + timedelta(days=14)
        assert "14" in silent[0].detail and silent[0].status.value == "open"
    finally:
        store.close()


def test_the_grace_is_the_service_s_to_set(tmp_path):
    from emdesk.services.errors import ServiceError
    from emdesk.services.telemetry_port import SETTINGS_KEY, engine_settings
    store = build(tmp_path / "w.db")
    try:
        store.set_meta(SETTINGS_KEY, '{"curfew_grace_s": 3600}')
        ingest(store, evening(minutes_late=47))              # within an hour's grace: no curfew incident
        assert [i for i in store.find(Incident) if i.condition == "curfew"] == []
    finally:
        store.close()
    with pytest.raises(ServiceError, match="no setting 'grace'"):
        engine_settings('{"grace": 5}')
    with pytest.raises(ServiceError, match="must be a number"):
        engine_settings('{"curfew_grace_s": "five"}')


def test_a_big_file_parsed_and_evaluated_in_more_processes_stores_what_one_process_does(tmp_path):
    lines = [fix("GPS-ZONE", datetime(2026, 12, 1, 7, tzinfo=timezone.utc) + timedelta(minutes=m)) for m in range(600)]
    lines += evening(47) + lines[100:150] + [fix("NOBODY", T), "junk"]         # resends and refusals too
    lines.insert(300, fix("GPS-ZONE", datetime(2026, 12, 1, 7, 30, 30, tzinfo=timezone.utc)))   # late
    data = tmp_path / "day.jsonl"
    data.write_text("\n".join(lines) + "\n")
    build(tmp_path / "one.db").close()
    import shutil
    for suffix in ("", ".keys"):
        shutil.copy(f"{tmp_path / 'one.db'}{suffix}", f"{tmp_path / 'two.db'}{suffix}")
    one = json.loads(_cli("ingest", str(data), "--json", "--db", str(tmp_path / "one.db")).stdout)
    two = json.loads(_cli("ingest", str(data), "--json", "--db", str(tmp_path / "two.db"),
                          env_extra={"EMDESK_INGEST_PARALLEL_BYTES": "1", "EMDESK_INGEST_CHUNK": "97",
                                     "EMDESK_EVALUATE_PARALLEL": "1", "EMDESK_INGEST_BLOCK_BYTES": "4000",
                                     "EMDESK_INGEST_FOLD_ROWS": "300"}).stdout)
    one.pop("fixes_per_s"), two.pop("fixes_per_s")
    assert one == two and one["duplicates"] == 50 and one["late"] == 1 and one["rejected"] == 2
    from emdesk.store import Store
    a, b = Store.open(tmp_path / "one.db"), Store.open(tmp_path / "two.db")
    try:
        order = _order(a, "W-ZONE")
        assert a.telemetry.for_order(order, 0, 2**53) == b.telemetry.for_order(order, 0, 2**53)
        assert sorted((i.id, i.codes, i.seconds) for i in a.find(Incident)) == \
            sorted((i.id, i.codes, i.seconds) for i in b.find(Incident))
    finally:
        a.close()
        b.close()


def test_a_gap_filled_by_its_late_backlog_is_closed_by_the_engine_not_deleted(tmp_path):
    from emdesk.domain.clock import FixedClock
    noon = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    store = build(tmp_path / "w.db", now=noon + timedelta(hours=1))
    try:
        ingest(store, [fix("GPS-ZONE", noon + timedelta(minutes=m)) for m in range(31)])
        (gap,) = [i for i in store.find(Incident) if "COMMS-GAP" in i.codes]
        assert gap.status is IncidentStatus.OPEN and gap.ended_at is None
        store.clock = FixedClock(noon + timedelta(hours=2))
        backlog = ingest(store, [fix("GPS-ZONE", noon + timedelta(minutes=m)) for m in range(31, 120)])
        assert backlog.events == 89
        after = store.get(Incident, gap.id)
        assert after.status is IncidentStatus.AUTO_CLOSED
        assert "no longer supported" in after.history[-1].reason and after.history[-1].by == "engine"
    finally:
        store.close()


def test_silence_is_judged_a_missed_check_in_raises_an_incident_with_no_event_at_all(tmp_path):
    """Nothing arrives from the check-in phone; ingest of others' events, and the live sweep,
    judge it all the same."""
    store = build(tmp_path / "w.db")
    try:
        ingest(store, [fix("GPS-ZONE", T)])                       # an input covering 1 Dec
        missed = [i for i in store.find(Incident) if "CHECKIN-MISSED" in i.codes]
        assert [(i.reference, i.started_at) for i in missed] == [
            ("W-CHECKIN", datetime(2026, 12, 1, 11, tzinfo=timezone.utc))]
    finally:
        store.close()
    store = build(tmp_path / "live.db")
    try:
        report = IngestService(StoreTelemetry(store)).sweep()     # the gateway's sweep: no input at all
        assert report.periods >= 2
        assert sorted(i.started_at for i in store.find(Incident) if "CHECKIN-MISSED" in i.codes) == [
            datetime(2026, 12, 1, 11, tzinfo=timezone.utc), datetime(2026, 12, 2, 11, tzinfo=timezone.utc)]
    finally:
        store.close()
