"""The subject view's tables: the timeline, the previous breaches and the notes."""
from __future__ import annotations

from PySide6.QtGui import QColor

from emdesk.services.subject_file import TimelineRow

from .. import palette
from ..formatting import fmt_date, fmt_time, fmt_when
from ..table_model import Column

# Tones the service gives (bad, warn, good) as the palette's colours.
TONES = {"bad": "bad", "warn": "warn", "good": "good"}


def tone_colour(tone: str) -> QColor | None:
    return palette.colour(TONES[tone]) if tone in TONES else None


def _when(r: TimelineRow) -> str:
    if r.end is None or r.end == r.at:
        return fmt_when(r.at)
    return f"{fmt_when(r.at)}–{fmt_time(r.end)}"


def _when_tip(r: TimelineRow) -> str:
    if r.end is None:
        return f"{fmt_when(r.at)}, still going when last evaluated" if r.kind == "incident" else fmt_when(r.at)
    return _when(r)


def about(r: TimelineRow) -> str:
    """The device and the detail of a timeline row, in one line."""
    return " · ".join(p for p in (r.device, r.detail) if p)


def _opens(r) -> str | None:
    return "Enter or double-click: open this incident" if getattr(r, "incident_id", None) else None


TIMELINE = [
    Column("When", lambda r: r.at, show=_when, width=186, tooltip=_when_tip),
    # Last, so it takes the pane's width; the device and the detail are in the tooltip and
    # under the table (a device column would leave the words no room in a 600 px pane).
    Column("What", lambda r: r.what, foreground=lambda r: tone_colour(r.tone),
           bold=lambda r: r.kind == "incident",
           tooltip=lambda r: "\n".join(p for p in (r.what, about(r), _opens(r)) if p)),
]

BREACHES = [
    Column("Period", lambda r: r.period, fmt=fmt_date, width=95),
    Column("Codes", lambda r: ", ".join(r.codes) or r.condition, width=130,
           tooltip=lambda r: r.detail or None),
    Column("Status", lambda r: r.status, width=85,
           foreground=lambda r: palette.colour("bad") if r.status == "Escalated" else None),
    Column("Minutes", lambda r: r.minutes, fmt=lambda m: f"{m:,.0f}", width=82),
    Column("Order", lambda r: r.reference),
]

NOTES = [
    Column("When", lambda r: r.at, fmt=fmt_when, width=130),
    Column("By", lambda r: r.author, width=120),
    Column("Note", lambda r: r.text, tooltip=lambda r: r.text),
]

__all__ = ["BREACHES", "NOTES", "TIMELINE", "about", "tone_colour"]
