"""The fleet simulator's command line and files: format, determinism, the period, pacing."""
from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from datetime import date

import pytest

from emdesk.domain.clock import LONDON
from emdesk.domain.monitoring import EventKind
from fleet_kit import DAY, SEED, fleet_store, fleet_store_october, plain_day, read_jsonl, ts
from hardware.fleet import NOISE, VIOLATIONS, simulate, violation_period, write_day
from hardware.fleet.__main__ import main
from hardware.fleet.writer import LABELS, TELEMETRY, write_paced

KEYS = ["device", "at", "kind", "lat", "lon", "hdop", "speed", "value", "id"]
LABEL_KEYS = ["order_reference", "kind", "truth", "start", "end"]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
POSITION_FIELDS = ("lat", "lon", "hdop", "speed")
# Battery events carry the level (%) they were sent at.
VALUED = {"battery_level", "battery_low", "battery_dead", "charging", "alcohol_reading", "checkin"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three command-line runs: two with one seed, one with another."""
    out = {}
    for name, seed in (("a", SEED), ("b", SEED), ("c", SEED + 1)):
        d = tmp_path_factory.mktemp(name)
        assert main(["--db", str(fleet_store()), "--day", DAY.isoformat(), "--out", str(d),
                     "--seed", str(seed)]) == 0
        out[name] = d
    return out


@pytest.mark.parametrize("name", [TELEMETRY, LABELS])
def test_same_seed_same_bytes(runs, name):
    assert (runs["a"] / name).read_bytes() == (runs["b"] / name).read_bytes()


@pytest.mark.parametrize("name", [TELEMETRY, LABELS])
def test_another_seed_another_day(runs, name):
    assert (runs["a"] / name).read_bytes() != (runs["c"] / name).read_bytes()


def test_telemetry_lines_are_well_formed(runs):
    period = violation_period(DAY)
    kinds = {k.value for k in EventKind}
    lines = read_jsonl(runs["a"] / TELEMETRY)
    assert len(lines) > 10_000
    for line in lines:
        assert list(line) == KEYS
        assert line["kind"] in kinds
        assert STAMP.match(line["at"]), line
        assert period.start.timestamp() - 10 <= ts(line["at"]) < period.end.timestamp() + 10
        positioned = line["kind"] == "position"
        assert all((line[f] is not None) == positioned for f in POSITION_FIELDS), line
        assert (line["value"] is not None) == (line["kind"] in VALUED), line


def test_ids_are_unique_save_duplicate_deliveries(runs):
    text = (runs["a"] / TELEMETRY).read_text().splitlines()
    by_id = Counter(line["id"] for line in read_jsonl(runs["a"] / TELEMETRY))
    repeated = {i for i, n in by_id.items() if n > 1}
    lines = Counter(text)
    # A repeated id is a repeated line: the same event delivered twice.
    for line, n in lines.items():
        if n > 1:
            assert any(i in line for i in repeated)
    assert len(repeated) == sum(1 for n in lines.values() if n > 1)


def test_labels_are_well_formed_and_inside_the_period(runs):
    period = violation_period(DAY)
    labels = read_jsonl(runs["a"] / LABELS)
    assert labels
    for label in labels:
        assert list(label) == LABEL_KEYS
        assert (label["truth"], label["kind"] in (VIOLATIONS if label["truth"] == "violation" else NOISE)) in (
            ("violation", True), ("noise", True))
        assert STAMP.match(label["start"]) and STAMP.match(label["end"])
        assert period.start.timestamp() <= ts(label["start"]) <= ts(label["end"]) <= period.end.timestamp()


def test_a_modest_share_of_wearers_have_episodes():
    fleet = plain_day()
    labelled = {l["order_reference"] for _, l in fleet.labels}
    violations = sum(1 for _, l in fleet.labels if l["truth"] == "violation")
    assert 0 < len(labelled) < 0.5 * fleet.wearers
    assert 0.05 * fleet.wearers <= violations <= 0.4 * fleet.wearers


def test_fewer_wearers_leave_the_others_days_alone():
    full, few = plain_day(), simulate(fleet_store(), DAY, seed=SEED, wearers=8)
    assert few.wearers == 8
    devices = {l["device"] for _, l in few.telemetry}
    assert [l for _, l in full.telemetry if l["device"] in devices] == [l for _, l in few.telemetry]
    refs = {l["order_reference"] for _, l in few.labels}
    assert [l for _, l in full.labels if l["order_reference"] in refs] == [l for _, l in few.labels]


@pytest.mark.parametrize("argv, says", [
    (["--day", "1/12/2026"], "is not a date"),
    (["--wearers", "0"], "whole number"),
    (["--pace", "fast"], "invalid choice"),
])
def test_cli_refuses_bad_arguments(tmp_path, capsys, argv, says):
    base = {"--db": str(fleet_store()), "--day": DAY.isoformat(), "--out": str(tmp_path)}
    base.update(dict(zip(argv[::2], argv[1::2])))
    with pytest.raises(SystemExit) as exc:
        main([x for kv in base.items() for x in kv])
    assert exc.value.code == 2
    assert says in capsys.readouterr().err


def test_cli_names_the_store_it_cannot_open(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "none.db"), "--day", DAY.isoformat(), "--out", str(tmp_path)]) == 2
    assert "--db" in capsys.readouterr().err


@pytest.mark.parametrize("day, hours", [(date(2026, 10, 24), 25), (date(2026, 3, 28), 23), (date(2026, 12, 1), 24)])
def test_the_period_follows_the_clock_changes(day, hours):
    period = violation_period(day)
    assert period.seconds == hours * 3600
    assert period.start.astimezone(LONDON).hour == 7


def test_the_autumn_day_is_simulated_for_25_hours():
    fleet = simulate(fleet_store_october(), date(2026, 10, 24), seed=SEED)
    period = fleet.period
    times = [ts(l["at"]) for _, l in fleet.telemetry]
    assert min(times) >= period.start.timestamp() - 10
    assert max(times) < period.end.timestamp() + 10
    # Fixes keep coming in the 25th hour (06:00-07:00 GMT on the 25th).
    assert any(t > period.end.timestamp() - 3000 for t in times)
    assert max(times) - min(times) > 24.9 * 3600


def test_paced_writing_appends_as_simulated_time_passes(tmp_path):
    fleet = plain_day()
    start = fleet.period.start_ms
    until = start + 150_000            # 150 simulated seconds: 2.5 s at 60x
    due = sum(1 for at, _ in fleet.telemetry if at <= until)
    counts = []
    writer = threading.Thread(target=write_paced, args=(tmp_path, fleet.telemetry, fleet.labels, 60.0),
                              kwargs={"start_ms": start, "until_ms": until})
    began = time.monotonic()
    writer.start()
    while writer.is_alive():
        time.sleep(0.25)
        if (tmp_path / TELEMETRY).exists():
            counts.append(len((tmp_path / TELEMETRY).read_text().splitlines()))
    took = time.monotonic() - began
    assert 2.0 <= took < 6.0
    assert counts == sorted(counts)
    assert len({c for c in counts if 0 < c < due}) >= 3       # it grew in steps, not at once
    assert len((tmp_path / TELEMETRY).read_text().splitlines()) == due
    assert (tmp_path / TELEMETRY).read_text().splitlines()[0] == json.dumps(fleet.telemetry[0][1])


def test_write_day_at_max_pace_leaves_no_temporary_files(tmp_path):
    fleet = simulate(fleet_store(), DAY, seed=SEED, wearers=3)
    paths = write_day(fleet, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LABELS, TELEMETRY])
    assert len(read_jsonl(paths[0])) == len(fleet.telemetry)


def test_write_day_refuses_an_unknown_pace(tmp_path):
    with pytest.raises(ValueError, match="pace"):
        write_day(simulate(fleet_store(), DAY, seed=SEED, wearers=1), tmp_path, pace="warp")


def test_write_day_at_60x_writes_the_slice_it_is_given(tmp_path):
    fleet = simulate(fleet_store(), DAY, seed=SEED, wearers=20)
    start = fleet.period.start_ms
    began = time.monotonic()
    write_day(fleet, tmp_path, pace="60x", until_ms=start + 60_000)
    assert 0.9 <= time.monotonic() - began < 4
    written = (tmp_path / TELEMETRY).read_text().splitlines()
    assert written == [json.dumps(line) for at, line in fleet.telemetry if at <= start + 60_000]
