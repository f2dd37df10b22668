"""Curfew hours as the statute reads them, and as real time across the clock changes."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emdesk.domain.conditions import Curfew, CurfewWindow, ReleaseDayWindow
from emdesk.domain.curfew import (
    curfew_intervals,
    day_hours,
    format_windows,
    hours_in_any_7_days,
    in_curfew,
    overlapping_windows,
    parse_clock,
    parse_windows,
    weekly_hours,
)

UTC = timezone.utc


def curfew(text: str, release: ReleaseDayWindow | None = None) -> Curfew:
    return Curfew(windows=parse_windows(text), release_day=release)


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize(("text", "hours"), [
    ("Mon-Sun 19:00-07:00", {d: 12 for d in range(7)}),
    ("Mon-Fri 20:00-06:00; Sat-Sun 21:00-07:00", {0: 10, 1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10}),
    ("Mon 19:00-23:00; Mon 01:00-03:00", {0: 6, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0}),
    ("Mon 19:00-23:00; Mon 20:00-22:00", {0: 4, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0}),   # overlap counted once
    ("Sat 09:00-06:00", {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 21, 6: 0}),
    ("Wed 19:00-19:00", {0: 0, 1: 0, 2: 24, 3: 0, 4: 0, 5: 0, 6: 0}),                   # start == end: all day
    ("Tue 07:30-09:15", {0: 0, 1: 1.75, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0}),
])
def test_day_hours(text, hours):
    assert day_hours(curfew(text)) == hours


def test_day_hours_ignores_unusable_windows():
    bad = Curfew(windows=(CurfewWindow(weekday=7, start=time(19), end=time(7)),
                          CurfewWindow(weekday=0, start=time(19), end=time(7))))
    assert day_hours(bad)[0] == 12 and weekly_hours(bad) == 12


@pytest.mark.parametrize(("text", "release", "hours"), [
    ("Mon-Sun 19:00-07:00", None, 84),
    ("Mon-Sun 16:00-08:00", None, 112),
    ("Mon-Sun 17:00-10:00", None, 119),
    # Release on Wednesday 2 Dec 2026 from 09:00: 22 h replaces Wednesday's 12.
    ("Mon-Sun 19:00-07:00", ReleaseDayWindow(day=date(2026, 12, 2), start=time(9), end=time(7)), 94),
    # A short release-day curfew never lowers the regular weeks that follow.
    ("Mon-Sun 19:00-07:00", ReleaseDayWindow(day=date(2026, 12, 2), start=time(23), end=time(7)), 84),
])
def test_hours_in_any_7_days(text, release, hours):
    assert hours_in_any_7_days(curfew(text, release)) == hours


def test_no_curfew_has_no_hours():
    assert hours_in_any_7_days(None) == 0 and day_hours(None) == {d: 0 for d in range(7)}


# The clock changes of 2026: forward at 01:00 UTC on Sunday 29 March, back at 01:00
# UTC on Sunday 25 October.
@pytest.mark.parametrize(("night", "start_utc", "end_utc", "real_hours"), [
    (date(2026, 3, 27), at(2026, 3, 27, 19), at(2026, 3, 28, 7), 12),   # winter night
    (date(2026, 3, 28), at(2026, 3, 28, 19), at(2026, 3, 29, 6), 11),   # spring forward
    (date(2026, 3, 29), at(2026, 3, 29, 18), at(2026, 3, 30, 6), 12),   # summer night
    (date(2026, 10, 24), at(2026, 10, 24, 18), at(2026, 10, 25, 7), 13),  # autumn back
    (date(2026, 10, 25), at(2026, 10, 25, 19), at(2026, 10, 26, 7), 12),
])
def test_overnight_curfew_across_clock_changes(night, start_utc, end_utc, real_hours):
    intervals = curfew_intervals(curfew("Mon-Sun 19:00-07:00"), night, night)
    assert intervals == [(start_utc, end_utc)]
    assert intervals[0][1] - intervals[0][0] == timedelta(hours=real_hours)


@pytest.mark.parametrize(("text", "day", "expected"), [
    # A window inside the skipped hour moves forward with the clock, and is empty.
    ("Sun 01:00-02:00", date(2026, 3, 29), []),
    ("Sun 00:30-03:00", date(2026, 3, 29), [(at(2026, 3, 29, 0, 30), at(2026, 3, 29, 2))]),
    # In autumn 01:00-02:00 happens twice; the window takes the first.
    ("Sun 00:30-01:30", date(2026, 10, 25), [(at(2026, 10, 24, 23, 30), at(2026, 10, 25, 0, 30))]),
    ("Sun 00:00-03:00", date(2026, 10, 25), [(at(2026, 10, 24, 23), at(2026, 10, 25, 3))]),
])
def test_windows_at_the_changing_hour(text, day, expected):
    assert curfew_intervals(curfew(text), day, day) == expected


def test_intervals_follow_the_weekdays_and_merge_touching_windows():
    c = curfew("Mon-Fri 19:00-07:00; Sat 07:00-12:00")
    got = curfew_intervals(c, date(2026, 12, 4), date(2026, 12, 6))   # Fri, Sat, Sun
    assert got == [(at(2026, 12, 4, 19), at(2026, 12, 5, 12))]


def test_release_day_replaces_that_days_window():
    release = ReleaseDayWindow(day=date(2026, 12, 2), start=time(15), end=time(7))
    got = curfew_intervals(curfew("Mon-Sun 19:00-07:00", release), date(2026, 12, 2), date(2026, 12, 3))
    assert got == [(at(2026, 12, 2, 15), at(2026, 12, 3, 7)), (at(2026, 12, 3, 19), at(2026, 12, 4, 7))]


def test_reversed_dates_give_nothing():
    assert curfew_intervals(curfew("Mon-Sun 19:00-07:00"), date(2026, 12, 3), date(2026, 12, 1)) == []


@pytest.mark.parametrize(("instant", "inside"), [
    (at(2026, 12, 1, 18, 59), False),
    (at(2026, 12, 1, 19, 0), True),
    (at(2026, 12, 2, 6, 59), True),      # Tuesday night's window, still running on Wednesday
    (at(2026, 12, 2, 7, 0), False),
    (at(2026, 3, 29, 5, 59), True),      # spring: 06:59 BST
    (at(2026, 3, 29, 6, 0), False),      # 07:00 BST: curfew over an hour earlier in UTC
    (at(2026, 10, 25, 6, 30), True),     # autumn: 06:30 GMT, curfew still on
    (at(2026, 10, 25, 7, 0), False),
    (at(2026, 7, 1, 18, 30), True),      # 19:30 BST
    (at(2026, 7, 1, 17, 59), False),     # 18:59 BST
])
def test_in_curfew(instant, inside):
    assert in_curfew(curfew("Mon-Sun 19:00-07:00"), instant) is inside


def test_in_curfew_needs_a_curfew():
    assert in_curfew(None, at(2026, 12, 1, 22)) is False


@pytest.mark.parametrize(("text", "pairs"), [
    ("Mon-Sun 19:00-07:00", []),
    ("Mon-Sun 19:00-07:00; Tue 06:00-08:00", [(0, 7)]),
    ("Sun 22:00-08:00; Mon 07:00-09:00", [(0, 1)]),          # Sunday night into Monday
    ("Mon 19:00-21:00; Mon 21:00-23:00", []),                 # touching is not overlapping
    ("Mon 19:00-23:00; Mon 20:00-21:00; Mon 22:00-22:30", [(0, 1), (0, 2)]),
])
def test_overlapping_windows(text, pairs):
    assert overlapping_windows(curfew(text)) == pairs


@pytest.mark.parametrize(("text", "days", "start", "end"), [
    ("Mon-Fri 19:00-07:00", [0, 1, 2, 3, 4], time(19), time(7)),
    ("Fri-Mon 19:00-07:00", [4, 5, 6, 0], time(19), time(7)),
    ("Sat,Sun 20:00-06:00", [5, 6], time(20), time(6)),
    ("daily 21:00-07:00", list(range(7)), time(21), time(7)),
    ("Monday 7:00-9:30", [0], time(7), time(9, 30)),
    ("Thurs: 19:00 - 24:00", [3], time(19), time(0)),
])
def test_parse_windows(text, days, start, end):
    windows = parse_windows(text)
    assert [w.weekday for w in windows] == days
    assert {(w.start, w.end) for w in windows} == {(start, end)}


@pytest.mark.parametrize(("text", "message"), [
    ("Mon-Fry 19:00-07:00", "'Fry' is not a day"),
    ("Mon-Fri 19:00", "is not days and times"),
    ("Mon 25:00-07:00", "not a time of day"),
    ("", "no curfew windows"),
])
def test_parse_windows_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_windows(text)


@pytest.mark.parametrize(("text", "clock"), [("19:00", time(19)), ("7:05", time(7, 5)), ("24:00", time(0)), ("23:59:30", time(23, 59, 30))])
def test_parse_clock(text, clock):
    assert parse_clock(text) == clock


@pytest.mark.parametrize(("text", "compact"), [
    ("Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00", "Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00"),
    ("Mon 19:00-07:00; Wed 19:00-07:00; Thu 19:00-07:00", "Mon,Wed-Thu 19:00-07:00"),
    ("daily 21:00-07:00", "Mon-Sun 21:00-07:00"),
])
def test_format_windows(text, compact):
    assert format_windows(parse_windows(text)) == compact


def test_format_windows_refuses_a_day_it_cannot_name():
    assert format_windows((CurfewWindow(weekday=9, start=time(19), end=time(7)),)) is None


windows_strategy = st.lists(
    st.builds(CurfewWindow, weekday=st.integers(0, 6),
              start=st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
              end=st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))),
    min_size=1, max_size=10)


@given(windows_strategy)
def test_compact_text_reads_back_to_the_same_windows(windows):
    assert parse_windows(format_windows(windows)) == tuple(windows)


@given(windows_strategy, st.dates(date(2026, 1, 1), date(2027, 12, 24)))
def test_real_hours_differ_from_wall_hours_only_by_the_clock_change(windows, start):
    c = Curfew(windows=tuple(windows))
    if overlapping_windows(c):
        return
    end = start + timedelta(days=6)
    real = sum((b - a for a, b in curfew_intervals(c, start, end)), timedelta()).total_seconds() / 3600
    # One clock change at most in a week moves the total by at most an hour.
    assert abs(real - weekly_hours(c)) <= 1
