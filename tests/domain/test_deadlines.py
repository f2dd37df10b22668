"""Figure 3's clock: notification 10:00 the morning the period ends, pack 12:00 the day after,
London wall clock across both clock changes of 2026 (29 March, 25 October); and the specials' shorter clock."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from emdesk.domain.clock import LONDON, at_local
from emdesk.domain.deadlines import (SPECIAL_NOTIFY_WITHIN, SPECIAL_PACK_WITHIN, Urgency, deadlines, is_special, urgency,
                                     which_deadline)
from emdesk.domain.engine.periods import period_bounds, period_day
from emdesk.domain.monitoring import IncidentStatus
from emdesk.domain.orders import Cohort

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# period start (UTC instant of 07:00 London), notify_by (UTC), pack_by (UTC),
# real hours from the period's end to each deadline
CASES = [
    # Winter: London is UTC.  3 h and 29 h after the period ends.
    ("winter", utc(2026, 12, 1, 7), utc(2026, 12, 2, 10), utc(2026, 12, 3, 12), 24, 3, 29),
    # Summer: London is UTC+1, so every wall time is an hour earlier in UTC.
    ("summer", utc(2026, 7, 1, 6), utc(2026, 7, 2, 9), utc(2026, 7, 3, 11), 24, 3, 29),
    # The period that holds the spring change (01:00 GMT -> 02:00 BST, 29 March) lasts 23 h.
    ("spring change inside the period", utc(2026, 3, 28, 7), utc(2026, 3, 29, 9), utc(2026, 3, 30, 11), 23, 3, 29),
    # The period before it: its pack deadline (12:00 on the 29th, BST) falls after the change.
    ("spring change between notify and pack", utc(2026, 3, 27, 7), utc(2026, 3, 28, 10), utc(2026, 3, 29, 11),
     24, 3, 28),
    # The period starting on the change day is plain summer time.
    ("spring change day's own period", utc(2026, 3, 29, 6), utc(2026, 3, 30, 9), utc(2026, 3, 31, 11), 24, 3, 29),
    # The period that holds the autumn change (02:00 BST -> 01:00 GMT, 25 October) lasts 25 h.
    ("autumn change inside the period", utc(2026, 10, 24, 6), utc(2026, 10, 25, 10), utc(2026, 10, 26, 12),
     25, 3, 29),
    # The period before it: its pack deadline (12:00 on the 25th, GMT) is an hour further away.
    ("autumn change between notify and pack", utc(2026, 10, 23, 6), utc(2026, 10, 24, 9), utc(2026, 10, 25, 12),
     24, 3, 30),
    ("autumn change day's own period", utc(2026, 10, 25, 7), utc(2026, 10, 26, 10), utc(2026, 10, 27, 12),
     24, 3, 29),
]


@pytest.mark.parametrize(("name", "start", "notify", "pack", "period_h", "notify_h", "pack_h"), CASES,
                         ids=[c[0] for c in CASES])
def test_deadlines_follow_the_london_wall_clock(name, start, notify, pack, period_h, notify_h, pack_h):
    # The cases' starts really are 07:00 London (the engine's own periods).
    assert start.astimezone(LONDON).hour == 7
    end = datetime.fromtimestamp(period_bounds(start.astimezone(LONDON).date())[1] / 1000, UTC)
    assert end - start == timedelta(hours=period_h)
    d = deadlines(start)
    assert (d.notify_by, d.pack_by) == (notify, pack)
    assert d.notify_by.tzinfo is not None and d.notify_by.utcoffset() == timedelta(0)
    assert d.notify_by.astimezone(LONDON).strftime("%H:%M") == "10:00"
    assert d.pack_by.astimezone(LONDON).strftime("%H:%M") == "12:00"
    assert (d.notify_by - end, d.pack_by - end) == (timedelta(hours=notify_h), timedelta(hours=pack_h))


@pytest.mark.parametrize("inside", [
    timedelta(0), timedelta(hours=5), timedelta(hours=22, minutes=59), timedelta(hours=23, minutes=59, seconds=59),
])
def test_any_instant_in_the_period_gives_its_deadlines(inside):
    start = at_local(date(2026, 12, 1), time(7))
    assert deadlines(start + inside) == deadlines(start)


def test_a_naive_period_start_is_refused_naming_it():
    with pytest.raises(ValueError, match="period_start"):
        deadlines(datetime(2026, 12, 1, 7))


DUE = utc(2026, 12, 2, 10)


@pytest.mark.parametrize(("kind", "before", "expected"), [
    ("notify", timedelta(hours=3), Urgency.OK),
    ("notify", timedelta(hours=1, seconds=1), Urgency.OK),
    ("notify", timedelta(hours=1), Urgency.AMBER),
    ("notify", timedelta(minutes=1), Urgency.AMBER),
    ("notify", timedelta(0), Urgency.RED),
    ("notify", -timedelta(hours=5), Urgency.RED),
    ("pack", timedelta(hours=5), Urgency.OK),
    ("pack", timedelta(hours=4), Urgency.AMBER),
    ("pack", timedelta(hours=1), Urgency.AMBER),
    ("pack", -timedelta(seconds=1), Urgency.RED),
])
def test_urgency_turns_amber_then_red(kind, before, expected):
    assert urgency(DUE, DUE - before, kind) is expected


def test_an_unknown_deadline_kind_is_refused_naming_it():
    with pytest.raises(ValueError, match="kind: 'court'"):
        urgency(DUE, DUE, "court")


@pytest.mark.parametrize(("status", "kind"), [
    (IncidentStatus.OPEN, "notify"), (IncidentStatus.ACKNOWLEDGED, "notify"), (IncidentStatus.ESCALATED, "pack"),
    (IncidentStatus.CLOSED, None), (IncidentStatus.AUTO_CLOSED, None), ("escalated", "pack"), ("open", "notify"),
])
def test_which_clock_runs_for_each_status(status, kind):
    assert which_deadline(status) == kind


@pytest.mark.parametrize("status", list(IncidentStatus))
def test_every_status_has_a_clock_decision(status):
    assert which_deadline(status) in ("notify", "pack", None)


def test_an_unknown_status_is_refused_naming_it():
    with pytest.raises(ValueError, match="status: 'lost'"):
        which_deadline("lost")


def hours(h: int, m: int = 0) -> timedelta:
    return timedelta(hours=h, minutes=m)


# A breach at the period's first minute waits longest for its pack, one at its last minute
# shortest: 53 and 29 hours on ordinary days, real hours, so the clock-change weekends move
# them.  breach (UTC), real time to the notification, real time to the pack.
BREACHES = [
    ("07:00 winter", utc(2026, 12, 1, 7), hours(27), hours(53)),
    ("06:59 winter", utc(2026, 12, 2, 6, 59), hours(3, 1), hours(29, 1)),
    ("07:00 the next day starts a new period", utc(2026, 12, 2, 7), hours(27), hours(53)),
    ("07:00 summer", utc(2026, 7, 1, 6), hours(27), hours(53)),
    ("06:59 summer", utc(2026, 7, 2, 5, 59), hours(3, 1), hours(29, 1)),
    # 2026's spring change is 01:00 GMT on Sunday 29 March: a 23-hour period.
    ("07:00 Sat 28 Mar, spring change in the period", utc(2026, 3, 28, 7), hours(26), hours(52)),
    ("06:59 Sun 29 Mar BST, end of that period", utc(2026, 3, 29, 5, 59), hours(3, 1), hours(29, 1)),
    ("07:00 Fri 27 Mar, spring change before the pack", utc(2026, 3, 27, 7), hours(27), hours(52)),
    ("06:59 Sat 28 Mar GMT", utc(2026, 3, 28, 6, 59), hours(3, 1), hours(28, 1)),
    # 2026's autumn change is 02:00 BST on Sunday 25 October: a 25-hour period.
    ("07:00 Sat 24 Oct BST, autumn change in the period", utc(2026, 10, 24, 6), hours(28), hours(54)),
    ("06:59 Sun 25 Oct GMT, end of that period", utc(2026, 10, 25, 6, 59), hours(3, 1), hours(29, 1)),
    ("07:00 Fri 23 Oct BST, autumn change before the pack", utc(2026, 10, 23, 6), hours(27), hours(54)),
    ("06:59 Sat 24 Oct BST", utc(2026, 10, 24, 5, 59), hours(3, 1), hours(30, 1)),
]


@pytest.mark.parametrize(("name", "breach", "to_notify", "to_pack"), BREACHES, ids=[c[0] for c in BREACHES])
def test_a_breach_waits_29_to_53_real_hours_for_its_pack_54_and_28_on_change_weekends(name, breach, to_notify, to_pack):
    d = deadlines(breach)
    assert (d.notify_by - breach, d.pack_by - breach) == (to_notify, to_pack)
    # The breach time may come as the period start too: the same deadlines.
    assert deadlines(breach, breach_at=breach) == d


# Specials (emdesk's assumption: notification 1 hour, pack 12 hours after the breach, in
# real hours).  breach (UTC), notify_by, pack_by, and the pack's London wall clock.
SPECIALS = [
    ("07:00 winter", utc(2026, 12, 1, 7), utc(2026, 12, 1, 8), utc(2026, 12, 1, 19), "19:00"),
    ("06:59 winter", utc(2026, 12, 2, 6, 59), utc(2026, 12, 2, 7, 59), utc(2026, 12, 2, 18, 59), "18:59"),
    ("summer, London time shown", utc(2026, 7, 1, 20), utc(2026, 7, 1, 21), utc(2026, 7, 2, 8), "09:00"),
    # 00:30 GMT, just before the spring change: 12 real hours read 13 on the wall clock.
    ("spring change night", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 12, 30), "13:30"),
    # 00:30 BST, before the autumn change: 12 real hours read 11 on the wall clock.
    ("autumn change night", utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 11, 30), "11:30"),
]


@pytest.mark.parametrize(("name", "breach", "notify", "pack", "pack_wall"), SPECIALS, ids=[c[0] for c in SPECIALS])
def test_specials_run_1_and_12_real_hours_from_the_breach(name, breach, notify, pack, pack_wall):
    start = at_local(period_day(breach), time(7))
    d = deadlines(start, special=True, breach_at=breach)
    assert (d.notify_by, d.pack_by) == (notify, pack)
    assert d.pack_by.utcoffset() == timedelta(0)
    assert d.pack_by.astimezone(LONDON).strftime("%H:%M") == pack_wall
    assert d.notify_by - breach == SPECIAL_NOTIFY_WITHIN == hours(1)
    assert d.pack_by - breach == SPECIAL_PACK_WITHIN == hours(12)
    # A London-aware breach time is the same instant.
    assert deadlines(start, special=True, breach_at=breach.astimezone(LONDON)) == d


@pytest.mark.parametrize("breach", [b[1] for b in BREACHES] + [s[1] for s in SPECIALS])
def test_a_special_is_never_due_later_than_the_standard_case(breach):
    special, standard = deadlines(breach, special=True, breach_at=breach), deadlines(breach)
    assert special.notify_by <= standard.notify_by and special.pack_by <= standard.pack_by
    assert special != standard


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"special": True}, "breach_at: a special case's deadlines run from the breach"),
    ({"special": True, "breach_at": datetime(2026, 12, 1, 9)}, "breach_at: needs an aware datetime"),
    ({"special": True, "breach_at": utc(2026, 12, 2, 7)}, "breach_at: 2026-12-02T07:00:00.* not in the violation period"),
    ({"special": True, "breach_at": utc(2026, 12, 1, 6, 59)}, "breach_at: .* not in the violation period starting 2026-12-01"),
])
def test_a_special_without_a_usable_breach_time_is_refused_naming_breach_at(kwargs, match):
    with pytest.raises(ValueError, match=match):
        deadlines(utc(2026, 12, 1, 7), **kwargs)


@pytest.mark.parametrize(("cohort", "special"), [
    (Cohort.SPECIALS, True), ("specials", True), (Cohort.COURT_BAIL, False), (Cohort.POST_RELEASE, False),
    (Cohort.IMMIGRATION, False), (Cohort.COURT_SENTENCE, False), ("court_bail", False),
])
def test_only_the_specials_cohort_runs_the_specials_clock(cohort, special):
    assert is_special(cohort) is special
