"""Outstanding kit: devices not recovered when an order ended, until they are closed.

About 60% of devices come back when an order ends; this is the list a supervisor or a
technician chases the rest from: what it is, whose it was, where, who last went, how
long it has been out and why it did not come back.  A device leaves the list when it is
closed as recovered (it goes to the bench to be checked in) or written off (with notes).
The rows and the rules are the service's (``ctx.equipment``); loading and closing run
on the session's store lane.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton

from emdesk.services.equipment import CLOSE_HOW, OutstandingRow, close_refusal

from .. import palette
from ..formatting import fmt_date, plural
from ..style import set_prop
from ..table_model import Column
from ..table_view import make_table
from ..tasks import TaskError, runner_for
from .base import Workspace
from .equipment_close import ask_close, describe, why_text

# A month out and still not back: the kit a supervisor chases first.
LONG_OUT_DAYS = 30


def _days(r: OutstandingRow) -> str:
    return "" if r.days is None else plural(r.days, "day")


COLUMNS = [
    Column("Serial", lambda r: r.serial, width=105, bold=lambda r: True),
    Column("Kind", lambda r: r.kind, width=150),
    Column("Wearer", lambda r: r.wearer, width=135, show=lambda r: r.wearer or "not held here"),
    Column("Order", lambda r: r.order_reference, width=115),
    Column("Region", lambda r: r.region, width=140),
    Column("Officer", lambda r: r.officer, width=125),
    Column("Out since", lambda r: r.since, fmt=fmt_date, width=100),
    Column("Out for", lambda r: r.days, show=_days, width=80,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
           foreground=lambda r: palette.colour("bad") if (r.days or 0) > LONG_OUT_DAYS else None,
           bold=lambda r: (r.days or 0) > LONG_OUT_DAYS),
    Column("Why not recovered", lambda r: r.reason, width=185),
    Column("Last visit", lambda r: r.last_visit_at, show=lambda r: r.last_visit, width=150),
]


def detail(r: OutstandingRow) -> str:
    """The selected row in full (the table elides long reasons on a laptop screen)."""
    parts = [f"{r.serial} ({r.kind})"]
    if r.wearer or r.order_reference:
        parts.append(", ".join(x for x in (r.wearer, f"order {r.order_reference}" if r.order_reference else "") if x))
    if r.officer:
        parts.append(f"officer {r.officer}")
    text = " · ".join(parts) + ". " + why_text(r.reason)
    return text + (f" Last visit: {r.last_visit}." if r.last_visit else "")


class EquipmentWorkspace(Workspace):
    """Signals: ``closed(serial, how)`` once a device is off the list (then it reloads);
    ``close_failed(text)`` when the service refused, the words also shown on screen."""

    key = "equipment"
    title = "Outstanding kit"

    closed = Signal(str, str)
    close_failed = Signal(str)

    # Replaced in tests: (parent, row, refusals) -> (how, notes), or None if cancelled.
    ask = staticmethod(ask_close)

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.tasks = runner_for(ctx)
        self.pending: tuple[OutstandingRow, str] | None = None     # the close in flight, and how
        self.last_message = ""
        # What this account may not do, from the service's own rule, once.
        self.refusals = {how: close_refusal(ctx.user, how) for how in CLOSE_HOW}
        self.table = make_table(COLUMNS, self, name="equipmentTable", sort_column=6)
        self.table.view.setAccessibleName("Outstanding equipment")
        self.add_search(self.table, "Filter by serial, wearer, order…")
        self.body.addWidget(self.table.view, 1)
        self.detail_text = QLabel("", objectName="equipmentDetail")
        self.detail_text.setWordWrap(True)
        self.detail_text.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.detail_text)

        actions = QHBoxLayout()
        self.close_button = QPushButton("Close…", objectName="primary")
        self.close_button.setAccessibleName("Close the selected device: recovered or written off")
        self.close_button.clicked.connect(self.close_selected)
        self.status_text = QLabel("", objectName="equipmentStatus")
        self.status_text.setWordWrap(True)
        actions.addWidget(self.close_button)
        actions.addWidget(self.status_text, 1)
        self.body.addLayout(actions)

        self.table.view.selectionModel().selectionChanged.connect(self._update)
        self.table.view.doubleClicked.connect(lambda *_: self.close_selected())
        for signal in (self.table.proxy.rowsInserted, self.table.proxy.rowsRemoved, self.table.proxy.modelReset,
                       self.table.proxy.layoutChanged):
            signal.connect(self._update_count)
        self._update()

    # -- the load ---------------------------------------------------------------------

    def request(self):
        equipment = self.ctx.equipment
        return lambda: equipment.rows()

    def show_data(self, rows: list[OutstandingRow]) -> None:
        self.table.set_rows(rows)
        self.subtitle_label.setText("Not recovered when the order ended; on this list until recovered or written off")
        self._update_count()
        self._update()

    def _update_count(self, *args) -> None:
        shown, total = self.table.visible_count(), self.table.model.rowCount()
        text = plural(total, "device") + " outstanding"
        self.count_label.setText(text if shown == total else f"{shown} of {text}")
        long_out = sum(1 for r in self.table.model.rows() if (r.days or 0) > LONG_OUT_DAYS)
        set_prop(self.count_label, "tone", "heading-bad" if long_out else "heading-good")

    # -- closing ----------------------------------------------------------------------

    def _update(self, *args) -> None:
        row = self.table.selected_row()
        self.detail_text.setText(detail(row) if row is not None else "")
        self.detail_text.setVisible(row is not None)
        refused = [text for text in self.refusals.values() if text]
        if len(refused) == len(self.refusals):
            self.close_button.setEnabled(False)
            self.close_button.setToolTip(refused[0])
            if not self.last_message:
                self._say(refused[0])
            return
        self.close_button.setEnabled(row is not None and self.pending is None)
        self.close_button.setToolTip("" if row is not None else "Choose a device in the list first")
        if not self.last_message:
            self._say("Choose a device, then Close… when it is back or written off."
                      if self.table.model.rowCount() else "Nothing outstanding: every device is accounted for.")

    def _say(self, text: str, tone: str = "muted") -> None:
        self.status_text.setText(text)
        set_prop(self.status_text, "tone", tone)

    def close_selected(self) -> None:
        row = self.table.selected_row()
        if row is None or self.pending is not None or not self.close_button.isEnabled():
            return
        answer = self.ask(self, row, self.refusals)
        if answer is None:
            return
        how, notes = answer
        self.pending = (row, how)
        self.last_message = f"Closing {row.serial}…"
        self._say(self.last_message)
        self._update()
        # Bound methods, not lambdas: Qt drops them if this screen is gone before the answer.
        self.tasks.run(self.ctx.equipment.close, row.serial, how, notes, name="close outstanding kit",
                       on_done=self._closed, on_error=self._failed)

    @Slot(object)
    def _closed(self, _device) -> None:
        if self.pending is None:
            return
        (row, how), self.pending = self.pending, None
        done = ("recovered: check it in at the bench" if how == "recovered" else "written off")
        self.last_message = f"{describe(row)} closed as {done}."
        self._say(self.last_message, "good")
        self.closed.emit(row.serial, how)
        self.refresh()

    @Slot(object)
    def _failed(self, error: TaskError) -> None:
        if self.pending is None:
            return
        (row, _how), self.pending = self.pending, None
        self.last_message = f"{row.serial} was not closed. {error.sentence}"
        self._say(self.last_message, "bad")
        self._update()
        self.close_failed.emit(self.last_message)
        self.refresh()          # most refusals mean the list was stale (closed elsewhere, synced)
