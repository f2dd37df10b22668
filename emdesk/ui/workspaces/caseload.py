"""The cases a user may see: her own (field officer), her region, or all."""
from __future__ import annotations

from emdesk.domain.users import Permission
from emdesk.services.rows import CaseRow

from .. import palette
from ..formatting import fmt_date, fmt_when, humanize, plural
from ..table_model import Column
from ..table_view import make_table
from .base import Workspace

_SUBMITTED = palette.colour("muted")

COLUMNS = [
    Column("Name", lambda r: r.name, width=165, bold=lambda r: True),
    Column("Reference", lambda r: r.reference, width=135),
    Column("Cohort", lambda r: r.cohort, width=120),
    Column("Status", lambda r: r.status, fmt=humanize, width=80,
           foreground=lambda r: _SUBMITTED if r.status != "active" else None),
    # Sorts by town; shows the postcode too, so an officer can plan a round.
    Column("Town", lambda r: r.town, width=175, show=lambda r: " · ".join(p for p in (r.town, r.postcode) if p)),
    Column("Officer", lambda r: r.officer, width=145),
    Column("Risk flags", lambda r: r.risk_flags, chips=True, width=215,
           tooltip=lambda r: ", ".join(r.risk_flags) or "No risk flags"),
    Column("Next visit", lambda r: r.next_visit, fmt=fmt_when, width=125),
    Column("Order ends", lambda r: r.end, fmt=fmt_date, width=95),
    Column("Region", lambda r: r.region, width=150),
]


def _scope_text(user) -> str:
    if user.can(Permission.VIEW_ALL_CASES):
        return "All regions"
    if user.can(Permission.VIEW_REGION_CASES):
        return f"{user.region or 'Your region'}"
    return "Cases assigned to you"


class CaseloadWorkspace(Workspace):
    key = "caseload"
    title = "Caseload"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.table = make_table(COLUMNS, self, name="caseTable", sort_column=None)
        # Columns that would say the same thing on every row are left out: a field
        # officer's cases are all hers, an operator's all in her region.
        everything = ctx.user.can(Permission.VIEW_ALL_CASES)
        if not (everything or ctx.user.can(Permission.VIEW_REGION_CASES)):
            self.table.view.setColumnHidden(5, True)
            # The room freed goes to the town and the risk flags.
            self.table.view.setColumnWidth(4, 230)
            self.table.view.setColumnWidth(6, 340)
        if not everything:
            self.table.view.setColumnHidden(len(COLUMNS) - 1, True)
        self.add_search(self.table, "Filter by name, postcode…")
        self.body.addWidget(self.table.view)

    def request(self):
        cases = self.ctx.cases
        return cases.caseload

    def show_data(self, rows: list[CaseRow]) -> None:
        self.table.set_rows(rows)
        flagged = sum(1 for r in rows if r.risk_flags)
        self.subtitle_label.setText(f"{_scope_text(self.ctx.user)} · {plural(len(rows), 'open case')}"
                                    f" · {flagged} with risk flags")
