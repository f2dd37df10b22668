"""The wearer's appointment text, made from the planned arrival (UK time, either season)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emdesk.domain.appointments import appointment_span, appointment_text
from emdesk.domain.devices import DeviceKind
from emdesk.domain.visits import VisitKind


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("arrival,window,booked,span", [
    # An hour from the arrival rounded down to the quarter hour (winter: UK time is UTC).
    (utc(2026, 12, 1, 19, 7), None, False, (utc(2026, 12, 1, 19, 0), utc(2026, 12, 1, 20, 0))),
    (utc(2026, 12, 1, 10, 44), None, False, (utc(2026, 12, 1, 10, 30), utc(2026, 12, 1, 11, 30))),
    # Kept inside the window it was planned in.
    (utc(2026, 12, 1, 19, 50), (utc(2026, 12, 1, 19), utc(2026, 12, 1, 20)), False,
     (utc(2026, 12, 1, 19, 0), utc(2026, 12, 1, 20, 0))),
    # A booked appointment keeps its own window.
    (utc(2026, 12, 1, 14, 20), (utc(2026, 12, 1, 14), utc(2026, 12, 1, 16)), True,
     (utc(2026, 12, 1, 14, 0), utc(2026, 12, 1, 16, 0))),
    # Summer: 19:07 BST is 18:07 UTC.
    (utc(2026, 7, 1, 18, 7), None, False, (utc(2026, 7, 1, 18, 0), utc(2026, 7, 1, 19, 0))),
])
def test_span_given_to_the_wearer(arrival, window, booked, span):
    ws, we = window or (None, None)
    assert appointment_span(arrival, ws, we, booked=booked) == span


@pytest.mark.parametrize("kind,arrival,equipment,text", [
    (VisitKind.INSTALL, utc(2026, 12, 1, 19, 7), (DeviceKind.RF_TAG, DeviceKind.HMU),
     "We will visit between 19:00 and 20:00 on Tuesday 1 December to fit your tag."),
    (VisitKind.INSTALL, utc(2026, 7, 1, 18, 7), (DeviceKind.GPS_TAG,),
     "We will visit between 19:00 and 20:00 on Wednesday 1 July to fit your GPS tag."),
    (VisitKind.REMOVAL, utc(2026, 3, 29, 9, 20), (),
     "We will visit between 10:15 and 11:15 on Sunday 29 March to remove your monitoring equipment."),
    (VisitKind.CHECK, utc(2026, 10, 25, 9, 0), (),
     "We will visit between 09:00 and 10:00 on Sunday 25 October to check your monitoring equipment."),
])
def test_text_names_the_time_day_and_what_happens(kind, arrival, equipment, text):
    out = appointment_text(kind, arrival, equipment=equipment)
    assert out.startswith(text)
    assert "takes about" in out
