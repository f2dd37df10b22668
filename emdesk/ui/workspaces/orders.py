"""The order list with its validation state, and the problems of the selected order.

About one order in four arrives with an error (NAO 2.16): the list puts orders with
problems first, tints them, and the pane on the right says exactly what is wrong.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from emdesk.domain.users import Permission
from emdesk.services.rows import OrderRow

from .. import palette
from ..formatting import fmt_datetime, humanize, plural
from ..problem_text import field_label, parse_problem_line
from ..style import set_prop
from ..table_model import Column
from ..table_view import make_table
from .base import Workspace

PROBLEM_TINT = palette.colour("problem-tint")
PROBLEM_TEXT = palette.colour("bad")
FINE_TEXT = palette.colour("good")


def _tint(row: OrderRow):
    return PROBLEM_TINT if row.problem_count else None


def _problems_tip(row: OrderRow) -> str:
    return "\n".join(row.problems) if row.problems else "No problems found at intake"


COLUMNS = [
    Column("Problems", lambda r: r.problem_count, width=100, align=Qt.AlignmentFlag.AlignCenter,
           show=lambda r: str(r.problem_count) if r.problem_count else "✓",
           foreground=lambda r: PROBLEM_TEXT if r.problem_count else FINE_TEXT,
           bold=lambda r: True, background=_tint, tooltip=_problems_tip),
    Column("Reference", lambda r: r.reference, width=130, background=_tint),
    Column("Subject", lambda r: r.subject_name, width=190, background=_tint, bold=lambda r: True),
    Column("Cohort", lambda r: r.cohort, width=130, background=_tint),
    Column("Request", lambda r: r.request_type, fmt=humanize, width=90, background=_tint),
    Column("Status", lambda r: r.status, fmt=humanize, width=95, background=_tint),
    Column("Received", lambda r: r.received_at, fmt=fmt_datetime, width=140, background=_tint),
    Column("Region", lambda r: r.region, width=170, background=_tint),
]


class OrderDetails(QFrame):
    """The selected order: who, what, and each problem in plain words."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("detailsPane")
        self.title = QLabel("Select an order", objectName="detailsTitle")
        self.title.setWordWrap(True)
        self.meta = QLabel("", objectName="workspaceSubtitle")
        self.meta.setWordWrap(True)
        self.heading = QLabel("", objectName="countLabel")
        # Rich text in a label wraps long messages cleanly (a list view would elide them).
        self.problem_text = QLabel("", objectName="problemText")
        self.problem_text.setWordWrap(True)
        self.problem_text.setTextFormat(Qt.TextFormat.RichText)
        self.problem_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.problem_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.problem_text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.meta)
        layout.addSpacing(6)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        self._messages: list[str] = []
        self.show_order(None)

    def show_order(self, row: OrderRow | None) -> None:
        self._messages = []
        self.problem_text.setText("")
        if row is None:
            self.title.setText("Select an order")
            self.meta.setText("Its validation problems are listed here.")
            self._heading("", "")
            return
        self.title.setText(f"{row.reference or '(no reference)'} · {row.subject_name}")
        bits = [row.cohort, humanize(row.request_type), humanize(row.status), row.region,
                f"received {fmt_datetime(row.received_at)}" if row.received_at else ""]
        self.meta.setText(" · ".join(b for b in bits if b))
        if not row.problems:
            self._heading("No problems found at intake", "heading-good")
            return
        self._heading(f"{plural(len(row.problems), 'problem')} to resolve", "heading-bad")
        blocks = []
        ink, faint = palette.css("problem-ink"), palette.css("faint")
        for line in row.problems:
            p = parse_problem_line(line)
            self._messages.append(f"{p.message} ({field_label(p.field)})" if p.field else p.message)
            where = " · ".join(x for x in (field_label(p.field), p.code) if x)
            blocks.append(
                f"<p style='margin:0 0 10px 0'><span style='color:{ink}'>{escape(p.message)}</span><br>"
                f"<span style='color:{faint}; font-size:9pt'>{escape(where)}</span></p>")
        self.problem_text.setText("".join(blocks))

    def _heading(self, text: str, tone: str) -> None:
        self.heading.setText(text)
        set_prop(self.heading, "tone", tone)

    def problem_messages(self) -> list[str]:
        return list(self._messages)


class OrdersPanel(QWidget):
    """Orders table and details side by side (used by operators and supervisors)."""

    selection_changed = Signal(object)

    def __init__(self, parent=None, *, show_region: bool = True):
        super().__init__(parent)
        # The service's order: most problems first, then oldest received.
        self.table = make_table(COLUMNS, self, name="ordersTable", sort_column=None)
        self.table.view.setColumnHidden(len(COLUMNS) - 1, not show_region)
        self.details = OrderDetails(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 360])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.table.view.selectionModel().selectionChanged.connect(self._selected)

    def set_rows(self, rows: list[OrderRow]) -> None:
        self.table.set_rows(rows)
        self.details.show_order(None)
        if rows:
            self.table.view.selectRow(0)

    def _selected(self, *args) -> None:
        row = self.table.selected_row()
        self.details.show_order(row)
        self.selection_changed.emit(row)


class OrdersWorkspace(Workspace):
    key = "orders"
    title = "Orders"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        # An operator's orders are all in her region: the column would repeat it.
        self.panel = OrdersPanel(self, show_region=ctx.user.can(Permission.VIEW_ALL_CASES))
        self.only_problems = QCheckBox("Only orders with problems", objectName="onlyProblems")
        self.only_problems.setAccessibleName("Only orders with problems")
        self.only_problems.toggled.connect(self._filter_problems)
        self.tools.addWidget(self.only_problems)
        self.add_search(self.panel.table, "Filter by reference, name…")
        self.body.addWidget(self.panel)
        self._rows: list[OrderRow] = []

    def row_count(self) -> int:
        return self.panel.table.model.rowCount()

    def request(self):
        return self.ctx.cases.orders

    def show_data(self, rows: list[OrderRow]) -> None:
        self._rows = rows
        self._filter_problems(self.only_problems.isChecked())
        bad = sum(1 for r in rows if r.problem_count)
        self.subtitle_label.setText(f"{plural(len(rows), 'order')} · {bad} with problems")

    def _filter_problems(self, only: bool) -> None:
        self.panel.set_rows([r for r in self._rows if r.problem_count] if only else self._rows)
