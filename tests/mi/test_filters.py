"""The period and region filters, the weekly series, the audited drill-down and the CSV."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.users import Role, User
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.mi import FIGURE_COLUMNS, ManagementService

from .world import FROM, NOW, NW, TO, WALES


def _by_key(service, start, end, region=None):
    return {m.key: m for m in service.figures(start, end, region)}


# region: key -> (value, numerator, denominator), worked out from world.py.
REGIONS = {
    NW: {
        # Received in the period in the North West: O1 (within), O2 (attempt 3), O3 (within). 2 / 3.
        "installs_within_attempts": (2 / 3, 2, 3),
        # Active at as-of: O1..O4; unmonitored O3, O4.  2 / 4.
        "unmonitored_share": (2 / 4, 2, 4),
        # Wearers S1, S2, S3, S4, S6; breaching S1, S2.  2 / 5.
        "wearers_breaching": (2 / 5, 2, 5),
        # I1 22 h, I2 30 h.  52 / 2.
        "time_to_pack": (26.0, 52, 2),
        # I1 decided of I1, I2, I3.  1 / 3.
        "breaches_responded": (1 / 3, 1, 3),
        # A1, A2, A3, A5 over BP-1, BP-2.  4 / 2.
        "alerts_per_pack": (2.0, 4, 2),
    },
    WALES: {
        # O5 fitted at attempt 1.  1 / 1.
        "installs_within_attempts": (1.0, 1, 1),
        # O5 active and heard 11-15.  0 / 1.
        "unmonitored_share": (0.0, 0, 1),
        # S5 breached (I5).  1 / 1.
        "wearers_breaching": (1.0, 1, 1),
        # I5 24 h.
        "time_to_pack": (24.0, 24, 1),
        "breaches_responded": (1.0, 1, 1),
        # A4 over BP-5.
        "alerts_per_pack": (1.0, 1, 1),
    },
}


@pytest.mark.parametrize("region, key", [(r, k) for r, keys in REGIONS.items() for k in keys])
def test_a_region_keeps_its_orders_and_what_hangs_off_them(service, region, key):
    m = _by_key(service, FROM, TO, region)[key]
    value, numerator, denominator = REGIONS[region][key]
    assert (m.value, m.numerator, m.denominator) == (pytest.approx(value), pytest.approx(numerator), denominator)


def test_a_region_no_order_names_gives_figures_over_nothing(service):
    figures = _by_key(service, FROM, TO, "Atlantis")
    assert figures["unmonitored"].value == 0 and figures["unmonitored_share"].value is None
    assert figures["time_to_pack"].value is None and not any(m.ids for m in figures.values())


# (from, to): key -> (value, numerator, denominator)
PERIODS = [
    # October: only I4 (10-20, pack 10-21 09:00 = 23 h, no further action 10-22 09:00 = 24 h
    # later) and A6 over BP-4.  As of 11-01 00:00: O4 heard 10-20 12:00 = 11.5 days, not yet
    # silent; O6 active and never heard but not fitted by visit -> kit on the order: fitted,
    # time unknown, so not counted silent; active O4, O6 -> 0 / 2.
    ((date(2026, 10, 1), date(2026, 10, 31)), {
        "time_to_pack": (23.0, 23, 1), "response_time": (24.0, 24, 1), "breaches_responded": (1.0, 1, 1),
        "outcome:no_further_action": (1.0, 1, 1), "alerts_per_pack": (1.0, 1, 1),
        "unmonitored_share": (0.0, 0, 2)}),
    # One day, 11-10: I2 only (notified 2 h after); O6 ended that day: T6 back, H6 lost.
    ((date(2026, 11, 10), date(2026, 11, 10)), {
        "time_to_notify": (2.0, 2, 1), "breaches_responded": (0.0, 0, 1), "device_recovery": (0.5, 1, 2)}),
    # Since the records begin, to 11-15: FROM..TO plus I4 -> 3 decided of 5.
    ((None, TO), {"breaches_responded": (3 / 5, 3, 5)}),
]


@pytest.mark.parametrize("period, expected", PERIODS)
def test_a_period_counts_what_falls_in_it(service, period, expected):
    figures = _by_key(service, *period)
    for key, (value, numerator, denominator) in expected.items():
        m = figures[key]
        assert (m.value, m.numerator, m.denominator) == (pytest.approx(value), pytest.approx(numerator),
                                                         denominator), key


def test_a_period_ending_later_than_now_is_measured_now(service):
    # As of now (11-26 09:00): O3 fitted 11-20, O4 heard 11-20 (6 days); active O1..O5, none unmonitored.
    m = _by_key(service, FROM, date(2026, 12, 31))["unmonitored"]
    assert (m.value, m.denominator) == (0, 5)


def test_from_after_to_is_refused_naming_the_field(service):
    with pytest.raises(ServiceError, match="from: 2026-11-15 is after to 2026-11-01"):
        service.figures(TO, FROM)


def test_weekly_series_cuts_the_period_into_weeks(service):
    # Weeks from Monday 11-02: 11-02..08 has I1 (3 h) and I5 (2 h) -> 2.5; 11-09..15 has I2 (2 h)
    # and I3 (1 h) -> 1.5.  The first bucket (Sunday 11-01) is a day with no breach.
    assert service.series("time_to_notify", FROM, TO) == [
        (date(2026, 11, 1), None), (date(2026, 11, 2), 2.5), (date(2026, 11, 9), 1.5)]
    # Unmonitored count at each week's end: 11-02 00:00: O4 (active, heard 10-20 12:00: 12.5
    # days, not yet 14) and O6 (kit, never heard, fit time unknown) -> 0; 11-09 00:00: O3 not
    # fitted, O4 silent 19.5 days -> 2; 11-16 00:00 -> 2.
    assert service.series("unmonitored", FROM, TO) == [
        (date(2026, 11, 1), 0), (date(2026, 11, 2), 2), (date(2026, 11, 9), 2)]


def test_an_unknown_key_or_bucket_is_refused(service):
    with pytest.raises(ServiceError, match="key: no figure 'nope'"):
        service.series("nope", FROM, TO)
    with pytest.raises(ServiceError, match="bucket: 'year'"):
        service.series("unmonitored", FROM, TO, bucket="year")


def test_behind_lists_the_cases_and_is_audited(world, service):
    store, _ = world
    rows = service.behind("unmonitored", FROM, TO)
    assert [(r.id, r.order_reference, r.subject_name, r.part) for r in rows] == [
        ("O3", "REF-O3", "Wearer3 Test", "never_fitted"), ("O4", "REF-O4", "Wearer4 Test", "silent")]
    assert [round(r.hours, 1) for r in rows] == [10.5 * 24, 26.5 * 24]
    pack_rows = service.behind("time_to_pack", FROM, TO)
    assert {r.id: r.hours for r in pack_rows} == {"I1": 22.0, "I5": 24.0, "I2": 30.0}
    entry = store.audit_entries()[-1]
    assert (entry.action, entry.entity, entry.entity_id) == ("mi_drilldown", "mi", "time_to_pack")


def test_csv_has_a_line_a_figure_and_the_cases_behind_one(service):
    rows = list(csv.DictReader(io.StringIO(service.csv(FROM, TO, NW))))
    assert list(rows[0]) == list(FIGURE_COLUMNS)
    share = next(r for r in rows if r["key"] == "unmonitored_share")
    assert (share["value"], share["numerator"], share["denominator"], share["tolerance"], share["beyond"],
            share["region"]) == ("0.5", "2", "4", "0.15", "yes", NW)
    behind = list(csv.DictReader(io.StringIO(service.csv(FROM, TO, None, key="device_recovery"))))
    assert {(r["what"], r["part"]) for r in behind} == {("T6 (RF tag)", "recovered"),
                                                        ("H6 (Home monitoring unit)", "lost")}


def test_only_supervisors_see_the_picture(world):
    store, _ = world
    operator = User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR)
    with pytest.raises(AccessDenied):
        ManagementService(store, operator, FixedClock(NOW))
