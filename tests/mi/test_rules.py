"""The pure rules under the figures: UK-day periods and their buckets, an order's status
through time, and when silent kit counts as unmonitored."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from emdesk.domain import mi
from emdesk.domain.monitoring import BreachOutcomeCode
from emdesk.domain.orders import Order, OrderStatus, StatusChange
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus

from .world import _incident, _outcome, _pack, t

UTC = timezone.utc


@pytest.mark.parametrize("day, begins, ends", [
    # Winter: UK midnight is UTC midnight.
    (date(2026, 11, 10), datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)),
    # Summer: UK midnight is 23:00 UTC the day before.
    (date(2026, 7, 10), datetime(2026, 7, 9, 23, tzinfo=UTC), datetime(2026, 7, 10, 23, tzinfo=UTC)),
    # The autumn change (25 Oct 2026): a 25-hour UK day.
    (date(2026, 10, 25), datetime(2026, 10, 24, 23, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC)),
])
def test_a_period_is_whole_uk_days(day, begins, ends):
    p = mi.Period(day, day)
    assert (p.begins, p.ends) == (begins, ends)
    assert p.holds(begins) and not p.holds(ends) and p.holds(ends - timedelta(microseconds=1))


@pytest.mark.parametrize("start, end, bucket, firsts", [
    (date(2026, 11, 1), date(2026, 11, 15), "week", [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 9)]),
    (date(2026, 11, 28), date(2027, 1, 3), "month", [date(2026, 11, 28), date(2026, 12, 1), date(2027, 1, 1)]),
    (date(2026, 11, 1), date(2026, 11, 3), "day", [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]),
])
def test_buckets_cut_the_period_and_stay_inside_it(start, end, bucket, firsts):
    parts = mi.Period(start, end).buckets(bucket)
    assert [p.start for p in parts] == firsts and parts[-1].end == end
    assert all(a.end + timedelta(days=1) == b.start for a, b in zip(parts, parts[1:]))


def test_from_after_to_is_not_a_period():
    with pytest.raises(ValueError, match="from 2026-11-02 is after to 2026-11-01"):
        mi.Period(date(2026, 11, 2), date(2026, 11, 1))


ACTIVE_AT = datetime(2026, 11, 1, tzinfo=UTC)
ENDED_AT = datetime(2026, 11, 10, tzinfo=UTC)
ORDER = Order(id="o", received_at=datetime(2026, 10, 31, tzinfo=UTC), status=OrderStatus.ENDED, history=(
    StatusChange(at=ACTIVE_AT, from_status=OrderStatus.SUBMITTED, to_status=OrderStatus.ACTIVE),
    StatusChange(at=ENDED_AT, from_status=OrderStatus.ACTIVE, to_status=OrderStatus.ENDED)))


@pytest.mark.parametrize("at, status", [
    (datetime(2026, 10, 30, tzinfo=UTC), None),                       # not yet received
    (datetime(2026, 10, 31, 12, tzinfo=UTC), OrderStatus.SUBMITTED),  # received, before its first change
    (ACTIVE_AT, OrderStatus.ACTIVE),
    (ENDED_AT - timedelta(seconds=1), OrderStatus.ACTIVE),
    (ENDED_AT, OrderStatus.ENDED),
])
def test_an_orders_status_through_time_comes_from_its_history(at, status):
    assert mi.status_at(ORDER, at) is status


FIT = datetime(2026, 10, 2, tzinfo=UTC)
AS_OF = datetime(2026, 11, 16, tzinfo=UTC)


def _case(last: datetime | None, log_from: datetime | None, fitted=True):
    order = Order(id="o", received_at=datetime(2026, 10, 1, tzinfo=UTC), status=OrderStatus.ACTIVE,
                  device_serials=("T",), history=(StatusChange(at=datetime(2026, 10, 1, tzinfo=UTC),
                                                               from_status=OrderStatus.SUBMITTED,
                                                               to_status=OrderStatus.ACTIVE),))
    visit = Visit(order_id="o", subject_id="s", kind=VisitKind.INSTALL, status=VisitStatus.COMPLETED,
                  outcome=OutcomeCode.INSTALLED, outcome_at=FIT if fitted else AS_OF + timedelta(days=1))
    records = mi.Records(orders=(order,), visits=(visit,), last_contact={"T": last} if last else {},
                         log_from={"T": log_from} if log_from else {})
    return [(c.reason, c.since) for c in mi.unmonitored_cases(records, AS_OF)[1]]


@pytest.mark.parametrize("last, log_from, fitted, expected", [
    (AS_OF - timedelta(days=13, hours=23), None, True, []),                     # heard within 14 days
    (AS_OF - timedelta(days=14), None, True, [("silent", AS_OF - timedelta(days=14))]),   # 14 days: silent
    (None, None, True, [("silent", FIT)]),                                      # never heard: from the fit
    (None, AS_OF + timedelta(days=2), True, []),                                # log begins later: not judged
    (None, None, False, [("never_fitted", datetime(2026, 10, 1, tzinfo=UTC))]),  # fitted only after as-of
])
def test_silent_kit_counts_from_its_last_contact(last, log_from, fitted, expected):
    assert _case(last, log_from, fitted) == expected


@pytest.mark.parametrize("stray_first", [True, False])
def test_a_breach_takes_its_packs_shared_outcome_never_a_stray_second_record(stray_first):
    incident = _incident("I1", "O1", "North West", t(10, 9), t(10, 10))
    shared = _outcome("BP-1", "I1", "O1", "North West", BreachOutcomeCode.RECALL, t(11, 9))
    stray = shared.evolve(id="OUT-STRAY", code=BreachOutcomeCode.NO_FURTHER_ACTION)
    outcomes = (stray, shared) if stray_first else (shared, stray)
    records = mi.Records(incidents=(incident,), packs=(_pack("BP-1", 1, "I1", "O1", "North West", t(10, 11)),),
                         outcomes=outcomes)
    [breach] = mi.breaches(records)
    assert (breach.outcome.id, breach.outcome.code) == ("OUT-BP-1", BreachOutcomeCode.RECALL)
