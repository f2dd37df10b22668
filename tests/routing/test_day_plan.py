"""The day plan on a real demo store: who may plan, what is written, re-planning."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from emdesk.domain.clock import FixedClock, local_date
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.services.day_plan import OPEN, DayPlanService
from emdesk.services.demo import build_demo
from emdesk.services.errors import AccessDenied, ServiceError

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)       # 08:00 UK time, a Thursday
DAY = date(2026, 12, 3)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "demo.db"
    store, _ = build_demo(path, seed=7, now=NOW, subjects=60, plan_seconds=0)   # planned by the tests
    store.close()
    return path


@pytest.fixture
def store(demo_file, tmp_path):
    import shutil
    from emdesk.store import Store
    copy = tmp_path / "demo.db"
    for suffix in ("", ".keys"):
        if (src := demo_file.with_name(demo_file.name + suffix)).exists():
            shutil.copy(src, copy.with_name(copy.name + suffix))
    s = Store.open(copy, clock=FixedClock(NOW))
    yield s
    s.close()


def _user(store, username) -> User:
    return store.find(User, where={"username": username})[0]


def _service(store, username="supervisor") -> DayPlanService:
    return DayPlanService(store, _user(store, username), FixedClock(NOW))


def _stops(result):
    return [(r.officer.id, s) for r in result.routes for s in r.stops]


def test_every_due_visit_is_routed_or_unassigned_and_the_plan_is_written(store):
    service = _service(store)
    due, _ = service._due(DAY, None)
    result = service.plan(DAY, time_limit=3)
    routed = {s.visit.id for _, s in _stops(result)}
    open_routed = {s.visit.id for _, s in _stops(result) if s.visit.status in OPEN}
    unassigned = {v.id for v, _ in result.unassigned}
    assert {v.id for v in due} == open_routed | unassigned
    assert routed and not routed & unassigned
    assert all(why for _, why in result.unassigned)
    for officer_id, s in _stops(result):
        saved = store.get(Visit, s.visit.id)
        if saved.status in (VisitStatus.COMPLETED, VisitStatus.FAILED):
            continue
        assert saved.planned_arrival == s.arrive and saved.planned_departure == s.depart
        assert officer_id in saved.crew and saved.officer_id == saved.crew[0]
        assert saved.window_start <= s.arrive <= saved.window_end
        assert s.window_start <= s.arrive <= s.window_end
        assert s.arrive >= NOW
    for v, _ in result.unassigned:
        assert store.get(Visit, v.id).planned_arrival is None


def test_replanning_is_idempotent(store):
    service = _service(store)
    before = store.count(Visit)
    one = service.plan(DAY, time_limit=2).as_json()
    two = service.plan(DAY, time_limit=2).as_json()
    assert store.count(Visit) == before
    ids = lambda j: sorted(v["visit_id"] for o in j["officers"] for v in o["visits"]) + sorted(    # noqa: E731
        u["visit_id"] for u in j["unassigned"])
    assert ids(one) == ids(two)
    from collections import Counter
    times = Counter(v["visit_id"] for o in two["officers"] for v in o["visits"])
    crews = {v["visit_id"]: len(v["crew"]) for o in two["officers"] for v in o["visits"]}
    assert times == Counter(crews)          # each visit once per officer of its crew: nothing doubled


def test_pinned_visits_stay_and_an_officer_off_sick_loses_her_route(store):
    service = _service(store)
    first = service.plan(DAY, time_limit=2)
    open_stops = [(o, s) for o, s in _stops(first) if s.visit.status is VisitStatus.SCHEDULED]
    pinned_officer, pinned = open_stops[0]
    store.put(store.get(Visit, pinned.visit.id).evolve(pinned=True))
    sick_id = next(o for o, s in open_stops if o != pinned_officer)
    sick = store.get(User, sick_id)
    store.put(sick.evolve(active=False))
    second = service.plan(DAY, time_limit=2)
    again = {s.visit.id: (o, s.arrive) for o, s in _stops(second)}
    assert again[pinned.visit.id] == (pinned_officer, pinned.arrive)
    assert sick_id not in {r.officer.id for r in second.routes}
    for o, s in open_stops:
        if o == sick_id:
            assert s.visit.id in {v.id for v, _ in second.unassigned} or again[s.visit.id][0] != sick_id


def test_an_officer_off_sick_today_is_left_out_by_username(store):
    service = _service(store)
    first = service.plan(DAY, time_limit=2)
    sick = next(r.officer for r in first.routes if any(s.visit.status in OPEN for s in r.stops))
    theirs = {s.visit.id for s in next(r for r in first.routes if r.officer.id == sick.id).stops
              if s.visit.status in OPEN}
    second = service.plan(DAY, time_limit=2, off_duty=[sick.username])
    assert sick.id not in {r.officer.id for r in second.routes}
    elsewhere = {s.visit.id for r in second.routes for s in r.stops}
    unassigned = {v.id: why for v, why in second.unassigned}
    assert all(v in elsewhere or unassigned.get(v) for v in theirs)
    assert store.get(User, sick.id).active          # off duty for the day, not a closed account
    with pytest.raises(ServiceError, match="officer.nowhere"):
        service.plan(DAY, time_limit=1, off_duty=["officer.nowhere"])


def test_a_replan_after_a_failed_visit_and_an_urgent_repair(store):
    """During the day: a visit fails (its rebooking follows the rules, the failed one stays
    where it was), monitoring raises a device fault (the repair joins today's plan)."""
    from emdesk.domain.devices import Device, DeviceState
    from emdesk.domain.visits import OutcomeCode, VisitKind
    from emdesk.services.visit_making import VisitMakingService
    from emdesk.services.visit_outcomes import VisitOutcomeService

    service = _service(store)
    first = service.plan(DAY, time_limit=2)
    officer_id, failed = next((o, s) for o, s in _stops(first) if s.visit.status is VisitStatus.SCHEDULED
                              and s.visit.kind is VisitKind.CHECK)
    clock = FixedClock(failed.arrive)
    result = VisitOutcomeService(store, store.get(User, officer_id), clock).record_outcome(
        failed.visit.id, OutcomeCode.NOT_AT_ADDRESS, "no answer; card left")
    fitted = next(d for d in store.find(Device, where={"state": DeviceState.INSTALLED.value})
                  if d.order_id and store.get(Visit, failed.visit.id).order_id != d.order_id)
    repair = VisitMakingService(store, _user(store, "supervisor"), clock).device_fault(fitted.serial, key="fault-1")
    assert repair is not None and repair.kind is VisitKind.REPAIR
    second = DayPlanService(store, _user(store, "supervisor"), clock).plan(DAY, time_limit=3)
    routed = {s.visit.id: (o, s) for o, s in _stops(second)}
    unassigned = {v.id: why for v, why in second.unassigned}
    # The failed visit stays on its officer's route where it was made, and is not re-planned.
    assert routed[failed.visit.id][0] == officer_id and failed.visit.id not in unassigned
    assert store.get(Visit, failed.visit.id).status is VisitStatus.FAILED
    # The repair is planned today, after now, or unassigned with its reason in words.
    assert repair.id in routed or unassigned.get(repair.id)
    if repair.id in routed:
        assert routed[repair.id][1].arrive >= failed.arrive
    if result.next_visit is not None and result.next_visit.id in routed:
        assert routed[result.next_visit.id][1].arrive >= failed.arrive


def test_a_two_officer_visit_goes_on_both_routes(store):
    service = _service(store)
    london = {u.id for u in store.find(User) if u.region == "London" and u.role is Role.FIELD_OFFICER}
    assert len(london) == 2
    first = service.plan(DAY, time_limit=2)
    target = next(s.visit for o, s in _stops(first) if o in london and s.visit.status is VisitStatus.SCHEDULED
                  and s.window_end.hour >= 14)
    store.put(store.get(Visit, target.id).evolve(crew_size=2))
    # Room in both London days for it: their other open visits are called off.
    for o, s in _stops(first):
        if o in london and s.visit.id != target.id and s.visit.status in OPEN:
            store.put(store.get(Visit, s.visit.id).evolve(status=VisitStatus.CANCELLED))
    result = service.plan(DAY, time_limit=3).as_json()
    on = [(o["officer"], v) for o in result["officers"] for v in o["visits"] if v["visit_id"] == target.id]
    if not on:
        pytest.fail(f"not planned: {[u for u in result['unassigned'] if u['visit_id'] == target.id]}")
    assert len(on) == 2 and on[0][0] != on[1][0]
    assert on[0][1]["arrive"] == on[1][1]["arrive"] and on[0][1]["crew"] == on[1][1]["crew"]
    assert sorted(on[0][1]["crew"]) == sorted(name for name, _ in on)
    saved = store.get(Visit, target.id)
    assert len(saved.crew) == 2 and saved.officer_id == saved.crew[0]


def test_an_officer_reads_her_route_in_order_with_its_km(store):
    result = _service(store).plan(DAY, time_limit=2)
    planned = next(r for r in result.routes if len(r.stops) >= 2)
    mine = DayPlanService(store, planned.officer, FixedClock(NOW)).route(planned.officer.id, DAY)
    assert [s.visit.id for s in mine.stops] == [s.visit.id for s in planned.stops]
    assert [s.arrive for s in mine.stops] == sorted(s.arrive for s in mine.stops)
    assert mine.base == planned.base and mine.km == pytest.approx(planned.km, abs=0.01)
    assert "We will visit between" in mine.stops[0].appointment
    other = next(r for r in result.routes if r.officer.id != planned.officer.id)
    with pytest.raises(AccessDenied):
        DayPlanService(store, planned.officer, FixedClock(NOW)).route(other.officer.id, DAY)


@pytest.mark.parametrize("username", ["officer.leeds", "tech.leeds", "admin"])
def test_only_supervisors_and_the_monitoring_centre_plan(store, username):
    with pytest.raises(AccessDenied):
        _service(store, username).plan(DAY, time_limit=0.5)


def test_a_monitoring_operator_plans_her_own_region(store):
    service = _service(store, "monitor.london")
    result = service.plan(DAY, time_limit=1)
    assert {r.officer.region for r in result.routes} == {"London"}
    with pytest.raises(AccessDenied, match="own region"):
        service.plan(DAY, "Wales", time_limit=0.5)


@pytest.mark.parametrize("day,region,message", [
    (date(2026, 12, 2), None, "is over"),
    (DAY, "Narnia", "no region 'Narnia'"),
])
def test_bad_requests_are_refused_in_words(store, day, region, message):
    with pytest.raises(ServiceError, match=message):
        _service(store).plan(day, region, time_limit=0.5)


def test_the_demo_gives_officers_a_base_a_shift_and_kit(store):
    from emdesk.domain.devices import Device
    officers = [u for u in store.find(User) if u.role is Role.FIELD_OFFICER]
    assert all(u.base is not None and u.base.located for u in officers)
    assert {u.shift for u in officers} > {(u.shift[0], u.shift[1]) for u in officers[:1]}
    held = {d.held_by for d in store.find(Device) if d.held_by}
    assert held == {u.id for u in officers}
    assert local_date(NOW) == DAY


@pytest.mark.parametrize("day,start_utc,end_utc", [
    (date(2026, 12, 3), datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc), datetime(2026, 12, 3, 20, 0, tzinfo=timezone.utc)),
    (date(2026, 3, 28), datetime(2026, 3, 28, 8, 0, tzinfo=timezone.utc), datetime(2026, 3, 28, 20, 0, tzinfo=timezone.utc)),
    (date(2026, 3, 29), datetime(2026, 3, 29, 7, 0, tzinfo=timezone.utc), datetime(2026, 3, 29, 19, 0, tzinfo=timezone.utc)),
    (date(2026, 10, 25), datetime(2026, 10, 25, 8, 0, tzinfo=timezone.utc), datetime(2026, 10, 25, 20, 0, tzinfo=timezone.utc)),
    (date(2026, 10, 24), datetime(2026, 10, 24, 7, 0, tzinfo=timezone.utc), datetime(2026, 10, 24, 19, 0, tzinfo=timezone.utc)),
])
def test_shifts_are_uk_wall_clock_hours_across_the_clock_changes(store, day, start_utc, end_utc):
    manchester = _user(store, "officer.manchester")          # the standard 08:00-20:00 day
    officer = _service(store)._officer(manchester, day, {})
    assert (officer.shift_start, officer.shift_end) == (start_utc, end_utc)
    (lunch,) = officer.breaks
    assert lunch.latest - lunch.earliest == timedelta(hours=3) and lunch.minutes == 30
    assert lunch.earliest == start_utc + (datetime(2026, 1, 1, 12) - datetime(2026, 1, 1, 8))


def test_an_outcome_recorded_while_the_search_runs_is_kept(store, monkeypatch):
    import emdesk.services.day_plan as day_plan
    service = _service(store)
    due, _ = service._due(DAY, None)
    target = next(v for v in due if v.status is VisitStatus.SCHEDULED)
    real = day_plan.solve

    def meanwhile(problem, **kw):
        fresh = store.get(Visit, target.id)
        store.put(fresh.evolve(status=VisitStatus.COMPLETED, notes="done while planning"))
        return real(problem, **kw)

    monkeypatch.setattr(day_plan, "solve", meanwhile)
    service.plan(DAY, time_limit=1)
    kept = store.get(Visit, target.id)
    assert kept.status is VisitStatus.COMPLETED and kept.notes == "done while planning"


def test_the_plan_is_written_whole_or_not_at_all(store, monkeypatch):
    service = _service(store)
    before = {v.id: v.planned_arrival for v in store.find(Visit)}
    real = store.put_many
    calls = []

    def failing(records, **kw):
        records = list(records)
        calls.append(len(records))
        real(records[: len(records) // 2], **kw)
        raise OSError("disk full")

    monkeypatch.setattr(store, "put_many", failing)
    with pytest.raises(OSError):
        service.plan(DAY, time_limit=1)
    monkeypatch.setattr(store, "put_many", real)
    assert calls and calls[0] > 1
    assert {v.id: v.planned_arrival for v in store.find(Visit)} == before
