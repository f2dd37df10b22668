"""Figure 3's clock: notification 10:00 the morning the period ends, pack 12:00 the day after,
London wall clock across both clock changes of 2026 (29 March, 25 October)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from emdesk.domain.clock import LONDON, at_local
from emdesk.domain.deadlines import Urgency, deadlines, urgency, which_deadline
from emdesk.domain.engine.periods import period_bounds
from emdesk.domain.monitoring import IncidentStatus

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
