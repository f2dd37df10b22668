"""A field officer's day: the visits booked to her, in time order, risks up front."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from emdesk.domain.clock import local_date
from emdesk.services.rows import VisitRow

from .. import palette
from ..chips import DANGER
from ..formatting import fmt_window, humanize, plural
from ..table_model import Column
from ..table_view import make_table
from .base import Workspace

_DANGER_TINT = palette.colour("danger-tint")


def _danger(row: VisitRow) -> bool:
    return any(f.strip().lower().replace(" ", "_") in DANGER for f in row.risk_flags)


def _attempt(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _tint(row: VisitRow):
    return _DANGER_TINT if _danger(row) else None


COLUMNS = [
    # Shows the slot, sorts on when it starts.
    Column("Time", lambda r: r.window_start, show=lambda r: fmt_window(r.window_start, r.window_end),
           width=110, background=_tint, tooltip=lambda r: "Visit slot, UK time"),
    Column("Subject", lambda r: r.subject_name, width=190, bold=lambda r: True, background=_tint),
    Column("Address", lambda r: r.address, width=420, background=_tint),
    Column("Visit", lambda r: r.kind, fmt=humanize, width=90, background=_tint),
    Column("Attempt", lambda r: r.attempt, fmt=_attempt, width=80, align=Qt.AlignmentFlag.AlignCenter,
           bold=lambda r: r.attempt >= 2, background=_tint,
           tooltip=lambda r: "Second attempt: the install KPI counts two attempts" if r.attempt >= 2 else None),
    Column("Status", lambda r: r.status, fmt=humanize, width=100, background=_tint),
    Column("Risk flags", lambda r: r.risk_flags, chips=True, width=330,
           tooltip=lambda r: ", ".join(r.risk_flags) or "No risk flags"),
]


class TodayWorkspace(Workspace):
    key = "today"
    title = "Today"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.table = make_table(COLUMNS, self, name="visitsTable")
        self.add_search(self.table, "Filter visits…")
        self.body.addWidget(self.table.view)
        self.day: date = local_date(ctx.clock.now())

    def request(self):
        cases, day = self.ctx.cases, self.day
        return lambda: cases.visits(day)

    def show_data(self, rows: list[VisitRow]) -> None:
        self.table.set_rows(rows)
        risky = sum(1 for r in rows if r.risk_flags)
        self.subtitle_label.setText(
            f"{self.day.strftime('%A %d %B %Y')} · {plural(len(rows), 'visit')}"
            + (f" · {risky} with risk flags" if risky else "")
        )
        self.count_label.setText("" if rows else "No visits booked today")

