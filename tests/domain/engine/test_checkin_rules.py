"""Check-ins: prompts on the UK clock, answered, failed or missed, judged once closed."""
from datetime import time

import pytest
from zkit import HANDSET, WEARER, batch, brief, reading, span, uk, utc, watch

from emdesk.domain.conditions import CheckIns, Conditions
from emdesk.domain.engine import events
from emdesk.domain.engine.checkin_rules import checkin_hits, prompts
from emdesk.domain.monitoring import EventKind

M = events.MINUTE_MS
DAILY_10 = CheckIns(per_week=7, at=(time(10, 0),), window_min=60)
WEEKDAYS_10 = CheckIns(per_week=5, at=(time(10, 0),), window_min=60)
WED = span(uk(2026, 6, 10, 7, 0), uk(2026, 6, 11, 7, 0))      # Wednesday, summer time
SAT = span(uk(2026, 6, 13, 7, 0), uk(2026, 6, 14, 7, 0))
PROMPT = uk(2026, 6, 10, 10, 0)


def checkin(minute, value, device=HANDSET):
    return reading(PROMPT + minute * M, EventKind.CHECKIN, value, device)


CASES = [
    # (case, rule, rows, span, expected briefs)
    ("done", DAILY_10, [checkin(20, 1)], WED, []),
    ("missed", DAILY_10, [], WED, [("CHECKIN-MISSED", PROMPT + 60 * M, PROMPT + 60 * M, True, 1.0)]),
    ("failed", DAILY_10, [checkin(10, 0), checkin(15, 0)], WED,
     [("CHECKIN-FAILED", PROMPT + 10 * M, PROMPT + 10 * M, True, 1.0)]),
    ("failed, then passed", DAILY_10, [checkin(10, 0), checkin(12, 1)], WED, []),
    ("answered after the window closed", DAILY_10, [checkin(61, 1)], WED,
     [("CHECKIN-MISSED", PROMPT + 60 * M, PROMPT + 60 * M, True, 1.0)]),
    ("answered before the prompt", DAILY_10, [checkin(-5, 1)], WED,
     [("CHECKIN-MISSED", PROMPT + 60 * M, PROMPT + 60 * M, True, 1.0)]),
    ("a check-in from the tag does not count", DAILY_10, [checkin(20, 1, device=WEARER)], WED,
     [("CHECKIN-MISSED", PROMPT + 60 * M, PROMPT + 60 * M, True, 1.0)]),
    ("window not yet ended", DAILY_10, [], span(WED.start_ms, WED.end_ms, PROMPT + 30 * M), []),
    ("window ends exactly now", DAILY_10, [], span(WED.start_ms, WED.end_ms, PROMPT + 60 * M),
     [("CHECKIN-MISSED", PROMPT + 60 * M, PROMPT + 60 * M, True, 1.0)]),
    ("five days a week: none on Saturday", WEEKDAYS_10, [], SAT, []),
    ("daily: Saturday too", DAILY_10, [], SAT,
     [("CHECKIN-MISSED", uk(2026, 6, 13, 11, 0), uk(2026, 6, 13, 11, 0), True, 1.0)]),
    ("no check-in condition", None, [], WED, []),
]


@pytest.mark.parametrize(("case", "rule", "rows", "the_span", "expected"), CASES, ids=[c[0] for c in CASES])
def test_checkin_hits(case, rule, rows, the_span, expected):
    got = checkin_hits(watch(Conditions(checkins=rule)), batch(rows), the_span)
    assert [brief(h) for h in got] == expected
    assert all(h.condition == "checkin" for h in got)


@pytest.mark.parametrize(("start", "end", "expected"), [
    # 10:00 UK is 09:00 UTC in summer and 10:00 UTC in winter, across the autumn change.
    (utc(2026, 10, 24, 7), utc(2026, 10, 27, 7),
     [utc(2026, 10, 24, 9), utc(2026, 10, 25, 10), utc(2026, 10, 26, 10)]),
    (utc(2026, 6, 10, 9, 30), utc(2026, 6, 11, 9, 0), []),       # [start, end): both edges miss
    (utc(2026, 6, 10, 9), utc(2026, 6, 11, 9, 1), [utc(2026, 6, 10, 9), utc(2026, 6, 11, 9)]),
])
def test_prompts_on_the_uk_clock(start, end, expected):
    assert prompts(DAILY_10, start, end) == expected


def test_two_prompts_a_day_on_weekdays():
    rule = CheckIns(per_week=5, at=(time(18, 0), time(9, 0)), window_min=30)
    week = prompts(rule, uk(2026, 6, 8), uk(2026, 6, 15))           # Monday to Monday
    assert len(week) == 10 and week[0] == uk(2026, 6, 8, 9, 0) and week[-1] == uk(2026, 6, 12, 18, 0)


def test_detail_names_the_prompt_in_uk_time():
    (hit,) = checkin_hits(watch(Conditions(checkins=DAILY_10)), batch([]), WED)
    assert "10:00" in hit.detail and "60 min" in hit.detail
