"""The demo world: reproducible from its seed, realistic in its shares, valid where it should be."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from emdesk.domain.conditions import ZoneKind

from emdesk.domain.clock import local_date
from emdesk.domain.curfew import day_hours, hours_in_any_7_days
from emdesk.domain.devices import DeviceKind, DeviceState
from emdesk.domain.gazetteer import town_by_name
from emdesk.domain.monitoring import EventKind
from emdesk.domain.geography import in_england_and_wales, zone_contains
from emdesk.domain.orders import Cohort, DocumentKind, OrderStatus, OrderType
from emdesk.domain.users import Role
from emdesk.domain.visits import VisitKind, VisitStatus
from emdesk.services.demo_world import ERROR_KINDS, generate_world

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def world():
    return generate_world(2026, now=NOW)


def _encoded(w) -> bytes:
    return msgspec.json.encode([w.records(), [p for _, p in w.users], w.seeded_errors])


def _current(w):
    """Each wearer's latest order (the one this world is about)."""
    latest = {}
    for o in w.orders:
        if o.subject_id not in latest or o.received_at > latest[o.subject_id].received_at:
            latest[o.subject_id] = o
    return list(latest.values())


# --- Reproducibility -----------------------------------------------------------------


def test_same_seed_gives_byte_identical_world(world):
    assert _encoded(generate_world(2026, now=NOW)) == _encoded(world)


def test_different_seed_or_now_gives_a_different_world(world):
    assert _encoded(generate_world(2027, now=NOW)) != _encoded(world)
    assert _encoded(generate_world(2026, now=NOW + timedelta(days=1))) != _encoded(world)


def test_no_timestamp_after_now_and_ids_unique(world):
    records = world.records()
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert r.created_at is not None and r.created_at <= NOW, r
        assert r.updated_at is not None and r.created_at <= r.updated_at <= NOW, r
    for o in world.orders:
        stamps = [h.at for h in o.history]
        assert stamps == sorted(stamps) and all(t <= NOW for t in stamps)
    for d in world.devices:
        stamps = [h.at for h in d.history]
        assert stamps == sorted(stamps) and all(t <= NOW for t in stamps)


def test_needs_an_aware_now():
    with pytest.raises(ValueError):
        generate_world(1, now=datetime(2026, 11, 26, 9, 0))


# --- Shares --------------------------------------------------------------------------


def test_cohorts_in_figure_1_shares(world):
    current = _current(world)
    assert len(current) == len(world.subjects) == 300
    shares = Counter(o.cohort for o in current)
    for cohort, expected in ((Cohort.POST_RELEASE, 0.37), (Cohort.COURT_BAIL, 0.34),
                             (Cohort.IMMIGRATION, 0.15), (Cohort.COURT_SENTENCE, 0.14)):
        assert abs(shares[cohort] / len(current) - expected) <= 0.02, cohort
    assert 1 <= shares[Cohort.SPECIALS] <= 2


def test_order_types_fit_cohorts(world):
    for o in world.orders:
        assert o.order_type.cohort is o.cohort
    types = Counter(o.order_type for o in _current(world))
    assert types[OrderType.HDC] and types[OrderType.LICENCE]
    assert types[OrderType.COMMUNITY_ORDER] and types[OrderType.SUSPENDED_SENTENCE]


def test_about_one_order_in_five_has_seeded_errors(world):
    share = len(world.seeded_errors) / len(world.orders)
    assert 0.17 <= share <= 0.23
    by_id = {o.id: o for o in world.orders}
    for order_id, kinds in world.seeded_errors.items():
        assert by_id[order_id].status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED)
        assert kinds and set(kinds) <= set(ERROR_KINDS)
    assert len({k for kinds in world.seeded_errors.values() for k in kinds}) >= 10


def test_most_current_orders_are_active(world):
    statuses = Counter(o.status for o in _current(world))
    assert statuses[OrderStatus.ACTIVE] / 300 >= 0.55
    assert statuses[OrderStatus.SUBMITTED] and statuses[OrderStatus.ENDED] and statuses[OrderStatus.DRAFT]


# --- Wearers -------------------------------------------------------------------------


def test_every_wearer_lives_in_a_known_english_or_welsh_town(world):
    with_address_error = {o.subject_id for o in world.orders if any(
        k in ("malformed_postcode", "scottish_postcode", "missing_postcode")
        for k in world.seeded_errors.get(o.id, ()))}
    for s in world.subjects:
        home = s.addresses[0]
        town = town_by_name(home.town)
        assert town is not None and town.country in ("England", "Wales")
        if s.id in with_address_error:
            continue
        assert home.located and in_england_and_wales(home.lat, home.lon)
        assert abs(home.lat - town.lat) < 0.02 and abs(home.lon - town.lon) < 0.03
        assert home.postcode.split()[0] in town.districts


def test_wearers_look_like_the_caseload(world):
    s = world.subjects
    assert 0.17 <= sum(bool(x.risk_flags) for x in s) / len(s) <= 0.23
    assert any(x.no_fixed_abode for x in s) and any(x.interpreter_needed for x in s)
    assert any(x.disabilities for x in s)
    seeded_youths = {o.subject_id for o in world.orders
                     if "under_18_without_responsible_adult" in world.seeded_errors.get(o.id, ())}
    youths = [x for x in s if x.date_of_birth and x.age_on(local_date(NOW)) < 18]
    assert youths
    for x in youths:
        assert (x.responsible_adult is None) == (x.id in seeded_youths), x.full_name
        assert 16 <= x.age_on(local_date(NOW))


# --- Validity ------------------------------------------------------------------------


def test_valid_orders_keep_the_statute(world):
    for o in world.orders:
        if o.id in world.seeded_errors:
            continue
        curfew = o.conditions.curfew
        if curfew:
            hours = [h for h in day_hours(curfew).values() if h]
            assert all(2 <= h <= 20 for h in hours) and hours_in_any_7_days(curfew) <= 112
            if o.order_type is OrderType.HDC:
                assert min(day_hours(curfew).values()) >= 9
            assert {DeviceKind.RF_TAG, DeviceKind.GPS_TAG} & set(o.device_kinds) and DeviceKind.HMU in o.device_kinds
        assert o.start < o.end <= o.start + timedelta(days=731)
        if o.conditions.zones or o.conditions.location:
            assert DeviceKind.GPS_TAG in o.device_kinds
        if o.conditions.alcohol:
            assert DeviceKind.ALCOHOL_TAG in o.device_kinds
        if DeviceKind.NON_FITTED in o.device_kinds:
            assert o.cohort is Cohort.IMMIGRATION
        assert o.responsible_officer.name and (o.responsible_officer.phone or o.responsible_officer.email)
        if o.cohort is Cohort.POST_RELEASE:
            assert o.has_document(DocumentKind.LICENCE)


def test_exclusion_zones_lie_away_from_home(world):
    subjects = {s.id: s for s in world.subjects}
    zoned = 0
    for o in world.orders:
        if o.id in world.seeded_errors:
            continue
        home = subjects[o.subject_id].addresses[0]
        for z in o.conditions.zones:
            zoned += 1
            inside = zone_contains(z.shape, home.lat, home.lon)
            assert inside if z.kind is ZoneKind.INCLUSION else not inside, o.reference
    assert zoned >= 10
    assert any(z.kind is ZoneKind.INCLUSION for o in world.orders for z in o.conditions.zones)


def test_intake_validation_agrees_with_the_seeded_errors():
    rules = pytest.importorskip("emdesk.domain.validation.rules")
    expected = {
        "missing_date_of_birth": {"SUBJ-DOB-MISSING"}, "missing_identifiers": {"SUBJ-ID-MISSING"},
        "missing_family_name": {"SUBJ-FAMILY-NAME-MISSING"},
        "interpreter_without_language": {"SUBJ-LANGUAGE-MISSING"},
        "under_18_without_responsible_adult": {"SUBJ-RA-MISSING"},
        "missing_officer_contact": {"OFFICER-CONTACT-MISSING"},
        "missing_responsible_officer": {"OFFICER-NAME-MISSING"}, "end_before_start": {"ORD-DATES-ORDER"},
        "order_over_two_years": {"CURFEW-ORDER-LENGTH"}, "start_in_past": {"ORD-START-PAST"},
        "missing_licence": {"DOC-LICENCE-MISSING"}, "malformed_postcode": {"ADDR-POSTCODE-FORMAT"},
        "scottish_postcode": {"ADDR-POSTCODE-OUTSIDE"}, "missing_postcode": {"ADDR-POSTCODE-MISSING"},
        "curfew_over_weekly_limit": {"CURFEW-WEEK-HOURS"}, "curfew_over_20_hours": {"CURFEW-DAY-TOO-LONG"},
        "hdc_curfew_under_9_hours": {"CURFEW-HDC-HOURS"}, "exclusion_zone_contains_home": {"ZONE-EXCLUDES-HOME"},
        "device_inconsistent": {"DEV-GPS-MISSING", "DEV-ALCOHOL-MISSING", "DEV-CURFEW-MISSING",
                                "DEV-CHECKINS-MISSING", "DEV-NONFITTED-COHORT", "DEV-NOT-NEEDED"},
    }
    assert set(expected) == set(ERROR_KINDS)
    for seed in (2026, 7):
        w = generate_world(seed, now=NOW)
        subjects = {s.id: s for s in w.subjects}
        for o in w.orders:
            # As intake saw it, on the day it arrived.
            found = {p.code for p in rules.validate(o, subjects[o.subject_id],
                                                    rules.ValidationContext(now=o.received_at))}
            if o.id not in w.seeded_errors:
                assert not found, (seed, o.reference, found)
            for kind in w.seeded_errors.get(o.id, ()):
                assert expected[kind] & found, (seed, o.reference, kind, found)


# --- Staff ---------------------------------------------------------------------------


def test_staff_roles_and_demo_passwords(world):
    roles = Counter(u.role for u, _ in world.users)
    assert roles[Role.ADMIN] == 1 and roles[Role.SUPERVISOR] == 2
    assert roles[Role.MONITORING_OPERATOR] == 4 and roles[Role.TECHNICIAN] == 3
    assert roles[Role.FIELD_OFFICER] >= 12
    assert len({u.username for u, _ in world.users}) == len(world.users)
    for user, password in world.users:
        assert password == f"demo-{user.username}" and len(password) >= 8
        assert user.username.isascii() and user.username.islower()
        if user.role in (Role.FIELD_OFFICER, Role.TECHNICIAN):
            assert user.base is not None and user.base.located and town_by_name(user.base.town).region == user.region
    assert world.user("officer.leeds").region == "Yorkshire and the Humber"
    assert {u.region for u, _ in world.users if u.role is Role.FIELD_OFFICER} >= {
        "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
        "East of England", "London", "South East", "South West", "Wales"}


def test_officers_caseloads_are_in_their_region(world):
    officers = {u.id: u for u, _ in world.users if u.role is Role.FIELD_OFFICER}
    subjects = {s.id: s for s in world.subjects}
    for o in world.orders:
        assert officers[o.assigned_officer_id].region == o.region
        assert town_by_name(subjects[o.subject_id].addresses[0].town).region == o.region
    orders = {o.id: o for o in world.orders}
    for v in world.visits:
        assert officers[v.officer_id].region == orders[v.order_id].region


# --- Equipment -----------------------------------------------------------------------


def _kit(w):
    by_order: dict[str, list] = {}
    for d in w.devices:
        if d.order_id:
            by_order.setdefault(d.order_id, []).append(d)
    return by_order


def test_every_active_order_has_its_kit_on_or_an_install_outstanding(world):
    """In force from its start, fitted or not: kit installed and paired, else allocated with
    failed or booked install visits (the install backlog, NAO 2.10-2.13)."""
    by_order = _kit(world)
    installs: dict[str, list] = {}
    for v in world.visits:
        if v.kind is VisitKind.INSTALL:
            installs.setdefault(v.order_id, []).append(v)
    unfitted = 0
    for o in world.orders:
        if o.status is not OrderStatus.ACTIVE:
            continue
        started = next(h for h in o.history if h.to_status is OrderStatus.ACTIVE)
        assert local_date(started.at) >= o.start and started.at <= NOW, o.reference
        kit = {d.kind: d for d in by_order.get(o.id, []) if d.state is DeviceState.INSTALLED}
        if kit:
            assert set(kit) == set(o.device_kinds), o.reference
            assert any(v.status is VisitStatus.COMPLETED for v in installs[o.id]), o.reference
            if DeviceKind.HMU in kit:
                tag = next(d for k, d in kit.items() if k is not DeviceKind.HMU)
                assert kit[DeviceKind.HMU].paired_with == tag.serial and tag.paired_with == kit[DeviceKind.HMU].serial
            continue
        unfitted += 1
        assert {d.kind for d in by_order[o.id] if d.state is DeviceState.ALLOCATED} == set(o.device_kinds)
        tries = installs[o.id]
        assert tries and all(v.status in (VisitStatus.FAILED, VisitStatus.SCHEDULED) for v in tries), o.reference
        assert sorted(v.attempt for v in tries) == list(range(1, len(tries) + 1)), o.reference
    active = sum(o.status is OrderStatus.ACTIVE for o in world.orders)
    assert 0.10 <= unfitted / active <= 0.20


def test_device_stock_serials_and_collection(world):
    serials = [d.serial for d in world.devices]
    assert len(set(serials)) == len(serials)
    prefix = {DeviceKind.RF_TAG: "RF-", DeviceKind.HMU: "HMU-", DeviceKind.GPS_TAG: "GPS-",
              DeviceKind.ALCOHOL_TAG: "ALC-", DeviceKind.NON_FITTED: "NFD-"}
    assert all(d.serial.startswith(prefix[d.kind]) and d.model and d.firmware for d in world.devices)
    states = Counter(d.state for d in world.devices)
    for state in (DeviceState.IN_STOCK, DeviceState.ALLOCATED, DeviceState.AWAITING_COLLECTION,
                  DeviceState.FAULTY, DeviceState.LOST):
        assert states[state], state
    stock_regions = {d.region for d in world.devices if d.state is DeviceState.IN_STOCK}
    assert len(stock_regions) == 10
    # Kit from orders that ended over a week ago (the removal visit has been tried):
    # about 60% collected (NAO 2.16).
    week_ago = NOW - timedelta(days=7)
    ended = [d for d in world.devices if any(
        h.from_state is DeviceState.INSTALLED and h.to_state in (DeviceState.AWAITING_COLLECTION, DeviceState.RECOVERED)
        and h.at < week_ago for h in d.history)]
    collected = sum(any(h.to_state is DeviceState.RECOVERED for h in d.history) for d in ended)
    assert 0.45 <= collected / len(ended) <= 0.75


# --- Visits --------------------------------------------------------------------------


def test_install_attempts_fit_about_62_percent_within_two(world):
    first_success: dict[str, int] = {}
    failed: Counter = Counter()
    for v in world.visits:
        if v.kind is VisitKind.INSTALL and v.status is VisitStatus.COMPLETED:
            first_success[v.order_id] = v.attempt
        if v.kind is VisitKind.INSTALL and v.status is VisitStatus.FAILED:
            failed[v.order_id] += 1
    # Of the orders fitted or tried twice in vain: fitted within two attempts (NAO 2.11).
    decided = set(first_success) | {k for k, n in failed.items() if n >= 2}
    within_two = sum(first_success.get(k, 99) <= 2 for k in decided) / len(decided)
    assert 0.52 <= within_two <= 0.72
    failures = Counter(v.outcome for v in world.visits
                       if v.kind is VisitKind.INSTALL and v.status is VisitStatus.FAILED)
    assert len(failures) >= 4


def test_each_officer_has_a_full_day_today_and_tomorrow(world):
    today = local_date(NOW)
    officers = [u for u, _ in world.users if u.role is Role.FIELD_OFFICER]
    for officer in officers:
        for day in (today, today + timedelta(days=1)):
            mine = [v for v in world.visits if v.officer_id == officer.id and local_date(v.window_start) == day]
            installs = sum(v.kind is VisitKind.INSTALL for v in mine)
            assert 5 <= len(mine) <= max(8, installs), (officer.username, day, len(mine))
            booked = [v.window_start for v in mine if v.appointment and v.status is VisitStatus.SCHEDULED]
            assert len(set(booked)) == len(booked), "two appointments at one time"
            for v in mine:
                if v.status is VisitStatus.SCHEDULED:
                    # Still to make: the window the rules gave it, the arrival left to the planner.
                    assert v.window_end > NOW and (v.planned_arrival is None), v
                else:
                    assert v.planned_arrival is not None and v.planned_arrival <= NOW, v


def test_submitted_orders_have_a_future_install_appointment(world):
    installs = {v.order_id: v for v in world.visits
                if v.kind is VisitKind.INSTALL and v.status is VisitStatus.SCHEDULED}
    for o in world.orders:
        if o.status is OrderStatus.SUBMITTED:
            assert o.installation.appointment > NOW
            assert installs[o.id].window_start == o.installation.appointment


def test_a_backlog_of_overdue_visits(world):
    overdue = [v for v in world.visits
               if v.status is VisitStatus.SCHEDULED and v.window_end < NOW - timedelta(days=3)]
    assert 3 <= len(overdue) <= 40



# --- Telemetry and the unmonitored ----------------------------------------------------


def _last_contact(w) -> dict[str, datetime]:
    """Each active order's latest contact from its installed kit (COMMS_LOST is not contact)."""
    order_of = {d.serial: d.order_id for d in w.devices if d.state is DeviceState.INSTALLED}
    last: dict[str, datetime] = {}
    for e in w.telemetry:
        if e.kind is not EventKind.COMMS_LOST and e.device_serial in order_of:
            oid = order_of[e.device_serial]
            last[oid] = max(last.get(oid, e.at), e.at)
    return last


def test_telemetry_is_a_modest_recent_tail_from_installed_kit(world):
    assert 500 <= len(world.telemetry) <= 3000
    installed = {d.serial: d for d in world.devices if d.state is DeviceState.INSTALLED}
    orders = {o.id: o for o in world.orders}
    for e in world.telemetry:
        d = installed[e.device_serial]
        fitted = next(h.at for h in d.history if h.to_state is DeviceState.INSTALLED)
        assert fitted < e.at <= NOW and e.created_at == e.at and e.order_id == d.order_id, e
        assert orders[e.order_id].status is OrderStatus.ACTIVE
        if e.kind in (EventKind.HMU_RANGE_IN, EventKind.HMU_RANGE_OUT):
            assert DeviceKind.HMU in orders[e.order_id].device_kinds
        if e.kind is EventKind.POSITION:
            assert d.kind is DeviceKind.GPS_TAG and in_england_and_wales(e.lat, e.lon) and e.hdop
            for z in orders[e.order_id].conditions.zones:
                if z.kind is ZoneKind.EXCLUSION:
                    assert not zone_contains(z.shape, e.lat, e.lon), orders[e.order_id].reference
    kinds = Counter(e.kind for e in world.telemetry)
    for kind in (EventKind.POSITION, EventKind.HMU_RANGE_IN, EventKind.HMU_RANGE_OUT, EventKind.BATTERY_LOW,
                 EventKind.CHARGING, EventKind.COMMS_LOST, EventKind.ALCOHOL_READING, EventKind.CHECKIN):
        assert kinds[kind], kind


def test_most_kit_was_heard_from_today_and_about_one_in_ten_went_silent(world):
    last = _last_contact(world)
    fitted = {d.order_id for d in world.devices if d.state is DeviceState.INSTALLED}
    assert fitted == set(last)                      # every order with kit on has been heard from
    silent = {k for k, t in last.items() if NOW - t >= timedelta(days=14)}
    assert all(timedelta(days=14) <= NOW - last[k] <= timedelta(days=40) for k in silent)
    assert sum(NOW - t < timedelta(days=1) for t in last.values()) / len(last) >= 0.7
    installed = [d for d in world.devices if d.state is DeviceState.INSTALLED]
    share = sum(d.order_id in silent for d in installed) / len(installed)
    assert 0.07 <= share <= 0.12
    # A silent order's kit ends on "comms lost": nothing heard since.
    ends: dict[str, object] = {}
    for e in sorted(world.telemetry, key=lambda e: e.at):
        ends[e.device_serial] = e
    for d in installed:
        if d.order_id in silent:
            assert ends[d.serial].kind is EventKind.COMMS_LOST


def test_about_a_quarter_of_active_orders_are_unmonitored(world):
    """NAO 2.13: 24% in March 2026 (tolerance 15%): never fitted, or silent 14 days or more."""
    active = [o for o in world.orders if o.status is OrderStatus.ACTIVE]
    tagged = {d.order_id for d in world.devices
              if d.state is DeviceState.INSTALLED and (d.kind.worn or d.kind is DeviceKind.NON_FITTED)}
    last = _last_contact(world)
    never = [o for o in active if o.id not in tagged]
    silent = [o for o in active if o.id in tagged and NOW - last[o.id] >= timedelta(days=14)]
    assert 0.18 <= (len(never) + len(silent)) / len(active) <= 0.26
    assert never and silent


def test_supervisor_counts_on_the_built_demo_agree(tmp_path):
    from emdesk.domain.clock import FixedClock
    from emdesk.services.cases import CaseService
    from emdesk.services.demo import build_demo

    store, w = build_demo(tmp_path / "demo.db", seed=2026, now=NOW)
    try:
        assert store.telemetry.count() == len(w.telemetry)
        boss = next(u for u, _ in w.users if u.role is Role.SUPERVISOR)
        c = CaseService(store, boss, FixedClock(NOW)).counts()
    finally:
        store.close()
    assert c.unmonitored_active == c.never_fitted + c.disconnected_14_days
    assert c.never_fitted and c.disconnected_14_days
    assert 0.18 <= c.unmonitored_active / c.active_orders <= 0.26
