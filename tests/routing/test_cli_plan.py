"""``emdesk plan``: the JSON contract on a real demo store, run as a user would (a subprocess),
on a winter day and on the day the clocks go forward."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone

import pytest

from emdesk.domain.clock import at_local
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.services.demo import build_demo
from emdesk.store import Store

KEYS = {"date", "officers", "unassigned", "km_total", "kpi_missed"}
OFFICER_KEYS = {"officer", "base", "km", "visits"}
VISIT_KEYS = {"visit_id", "order_reference", "kind", "lat", "lon", "window_start", "window_end", "arrive", "depart",
              "crew"}


def emdesk(*args: str, now: datetime, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "EMDESK_NOW": now.isoformat(), "HOME": str(home)}
    env.pop("EMDESK_PASSWORD", None)
    return subprocess.run([sys.executable, "-m", "emdesk", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=300)


def _utc(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _build(db, now: datetime):
    store, _ = build_demo(db, seed=3, now=now, subjects=50)
    # Two visits need two officers (London has two), so the contract's crew rule is exercised.
    london = [v for v in store.find(Visit, where={"status": VisitStatus.SCHEDULED.value})
              if v.window_start and v.window_start.astimezone(timezone.utc) > now]
    store.put_many([v.evolve(crew_size=2) for v in london[:2]])
    store.close()
    return db


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The demo store for each day, built once for this file (it was built again for each
    test); ``demo_copy`` gives each test a copy of its own to plan on."""
    made: dict[datetime, object] = {}

    def for_day(now: datetime):
        if now not in made:
            made[now] = _build(tmp_path_factory.mktemp("demo") / "demo.db", now)
        return made[now]
    return for_day


@pytest.fixture
def demo_copy(built, tmp_path):
    def copy(now: datetime):
        src, db = built(now), tmp_path / "demo.db"
        for suffix in ("", ".keys"):
            if (part := src.with_name(src.name + suffix)).exists():
                shutil.copy(part, db.with_name(db.name + suffix))
        return db
    return copy


def _check_contract(plan: dict, db, day: date) -> None:
    assert set(plan) == KEYS and plan["date"] == day.isoformat()
    seen: dict[str, list] = {}
    for o in plan["officers"]:
        assert set(o) == OFFICER_KEYS
        assert isinstance(o["km"], float | int) and len(o["base"]) == 2
        for v in o["visits"]:
            assert set(v) == VISIT_KEYS
            arrive, depart = _utc(v["arrive"]), _utc(v["depart"])
            assert _utc(v["window_start"]) <= arrive <= _utc(v["window_end"]), v
            assert depart > arrive and o["officer"] in v["crew"]
            seen.setdefault(v["visit_id"], []).append(v)
    for visit_id, copies in seen.items():
        assert len(copies) == len(copies[0]["crew"])                  # a two-officer visit on both routes
        assert len({(c["arrive"], tuple(c["crew"])) for c in copies}) == 1
    assert sum(o["km"] for o in plan["officers"]) == pytest.approx(plan["km_total"], abs=0.01)
    assert all(u["reason"] for u in plan["unassigned"])
    store = Store.open(db)
    try:
        start, end = at_local(day, time(0)), at_local(day + timedelta(days=1), time(0))
        due = {v.id for v in store.find(Visit, where={"status": [VisitStatus.SCHEDULED.value,
                                                                  VisitStatus.IN_PROGRESS.value]})
               if v.window_start is not None and start <= v.window_start < end}
        planned = set(seen) | {u["visit_id"] for u in plan["unassigned"]}
        assert due <= planned, due - planned
    finally:
        store.close()


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc),        # winter: UK time is UTC
    datetime(2026, 3, 29, 6, 30, tzinfo=timezone.utc),        # the clocks went forward at 01:00 UTC
], ids=["winter", "spring-forward"])
def test_plan_json_holds_its_contract(tmp_path, now, demo_copy):
    db = demo_copy(now)
    day = now.date()
    done = emdesk("plan", "--db", str(db), "--date", day.isoformat(), "--json", "--time-limit", "3",
                  now=now, home=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    _check_contract(plan, db, day)
    assert any(len(v["crew"]) == 2 for o in plan["officers"] for v in o["visits"]) or any(
        "two officers" in u["reason"] for u in plan["unassigned"])
    # Planning again re-plans the same visits: nothing doubled.
    count = Store.open(db)
    before = count.count(Visit)
    count.close()
    again = emdesk("plan", "--db", str(db), "--date", day.isoformat(), "--json", "--time-limit", "3",
                   now=now, home=tmp_path)
    assert again.returncode == 0, again.stderr
    replan = json.loads(again.stdout)
    _check_contract(replan, db, day)
    ids = lambda p: sorted([v["visit_id"] for o in p["officers"] for v in o["visits"]] +   # noqa: E731
                           [u["visit_id"] for u in p["unassigned"]])
    assert ids(plan) == ids(replan)
    count = Store.open(db)
    assert count.count(Visit) == before
    count.close()


def test_plan_on_the_spring_forward_day_keeps_uk_hours(tmp_path, demo_copy):
    now = datetime(2026, 3, 29, 6, 30, tzinfo=timezone.utc)
    db = demo_copy(now)
    done = emdesk("plan", "--db", str(db), "--date", "2026-03-29", "--json", "--time-limit", "2",
                  now=now, home=tmp_path)
    plan = json.loads(done.stdout)
    arrivals = [_utc(v["arrive"]) for o in plan["officers"] for v in o["visits"]]
    assert arrivals
    # Shifts are UK wall-clock times: after the change 08:00 BST is 07:00 UTC, and nothing
    # starts before the earliest shift or ends after the latest.
    assert min(arrivals) >= datetime(2026, 3, 29, 7, 0, tzinfo=timezone.utc)
    assert max(arrivals) <= datetime(2026, 3, 29, 21, 0, tzinfo=timezone.utc)


def test_plan_prints_a_table_per_officer(tmp_path, demo_copy):
    now = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
    db = demo_copy(now)
    done = emdesk("plan", "--db", str(db), "--date", "2026-12-03", "--time-limit", "1", now=now, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Plan for Thursday 03 December 2026")
    assert "officer.leeds (Yorkshire and the Humber):" in done.stdout
    assert " km" in done.stdout


@pytest.mark.parametrize("args,flag", [
    (["--date", "03/12/2026"], "--date"),
    (["--date", "2026-12-02"], "--date"),
    (["--date", "2026-12-03", "--region", "Narnia"], "--region"),
    (["--date", "2026-12-03", "--time-limit", "-1"], "--time-limit"),
    ([], "--date"),
])
def test_bad_flags_say_which(tmp_path, args, flag):
    now = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
    done = emdesk("plan", "--db", str(tmp_path / "demo.db"), *args, now=now, home=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert flag in done.stderr, done.stderr


def test_an_unknown_officer_off_duty_is_refused_naming_the_flag(tmp_path, demo_copy):
    now = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
    db = demo_copy(now)
    done = emdesk("plan", "--db", str(db), "--date", "2026-12-03", "--off-duty", "officer.nowhere",
                  "--time-limit", "1", now=now, home=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--off-duty: officer.nowhere" in done.stderr, done.stderr
    ok = emdesk("plan", "--db", str(db), "--date", "2026-12-03", "--off-duty", "officer.leeds", "--json",
                "--time-limit", "1", now=now, home=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "officer.leeds" not in {o["officer"] for o in json.loads(ok.stdout)["officers"]}
