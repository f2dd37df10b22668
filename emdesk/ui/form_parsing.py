"""Turning what a person types into dates, times and curfews, or a plain complaint.

A value that cannot be read becomes a ``Problem`` at that field (code ``FORM-*``), so
it shows in the same place, in the same way, as the intake rules' own problems.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

from emdesk.domain.clock import at_local
from emdesk.domain.conditions import Curfew
from emdesk.domain.curfew import parse_windows
from emdesk.domain.validation.problems import Problem

DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %b %Y", "%d %B %Y")
DATE_HINT = "type it as DD/MM/YYYY, e.g. 04/03/1990"


class FormValueError(ValueError):
    pass


def parse_date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FormValueError(f"“{text}” is not a date: {DATE_HINT}.")


def parse_local_datetime(text: str) -> datetime | None:
    """"DD/MM/YYYY HH:MM" in UK local time, as an aware UTC instant."""
    text = text.strip()
    if not text:
        return None
    m = re.fullmatch(r"(.+?)[ T]+(\d{1,2})[:.](\d{2})", text)
    if not m:
        raise FormValueError(f"“{text}” is not a date and time: type DD/MM/YYYY HH:MM, e.g. 27/11/2026 14:00.")
    day = parse_date(m.group(1))
    hour, minute = int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59:
        raise FormValueError(f"“{m.group(2)}:{m.group(3)}” is not a time of day.")
    return at_local(day, time(hour, minute))


# -- curfew text ------------------------------------------------------------------

CURFEW_HINT = "write it like “Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00”"


def parse_curfew_text(text: str) -> Curfew | None:
    """"Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00" as a Curfew; blank is no curfew.

    The domain's reader, so the form and imported order files read curfews alike.
    """
    if not text.strip():
        return None
    try:
        return Curfew(windows=parse_windows(text))
    except ValueError as exc:
        message = str(exc)
        raise FormValueError(message[:1].upper() + message[1:] + ".") from exc


def form_problem(path: str, exc: Exception) -> Problem:
    return Problem(code="FORM-UNREADABLE", field=path, message=str(exc))
