"""Sync conflicts for supervisors: edits that lost a merge, so nothing vanishes unseen."""
from __future__ import annotations

from emdesk.services.rows import ConflictRow

from ..formatting import humanize, plural
from ..table_model import Column
from ..table_view import make_table
from .base import Workspace

COLUMNS = [
    Column("When", lambda r: r.at[:16].replace("T", " "), width=135),
    Column("Record", lambda r: r.describes, width=260, bold=lambda r: True),
    Column("Kind", lambda r: r.table, fmt=humanize, width=90),
    Column("Field", lambda r: r.field, fmt=humanize, width=120),
    Column("Value that lost", lambda r: r.losing_value, width=320, tooltip=lambda r: r.losing_value),
    Column("Its stamp", lambda r: r.losing_stamp, width=200),
    Column("Beaten by", lambda r: r.winning_stamp, width=200),
]


class ConflictsWorkspace(Workspace):
    key = "conflicts"
    title = "Sync conflicts"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.table = make_table(COLUMNS, self, name="conflictTable", sort_column=None)
        self.add_search(self.table, "Filter by record, field…")
        self.body.addWidget(self.table.view)

    def request(self):
        return self.ctx.cases.conflicts

    def show_data(self, rows: list[ConflictRow]) -> None:
        self.table.set_rows(rows)
        self.subtitle_label.setText(
            f"{plural(len(rows), 'edit')} that lost a merge on the hub · the newer edit (by its stamp) was kept")
