"""Trail matching: which wearers were within a radius of a place between two times.

A supervisor's tool (``Permission.MATCH_TRAILS``): for anyone else the dialog says so and
asks nothing (the menu should not offer it to them either).  The question runs on the
store lane; the service records it and its reason in the audit log.  Double-clicking a
result says which order it was (``wearer_chosen``), for the caller to open.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import QDateTime, Qt, Signal, Slot
from PySide6.QtWidgets import (QDateTimeEdit, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from emdesk.services.trail_match import MAX_RADIUS_M, MAX_WINDOW, TrailMatch

from .formatting import fmt_when
from .table_model import Column
from .table_view import make_table
from .tasks import TaskError, runner_for

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
COLUMNS = [
    Column("Reference", lambda m: m.reference, width=120),
    Column("Name", lambda m: m.name, width=160),
    Column("Closest", lambda m: m.closest_m, fmt=lambda v: f"{v:,.0f} m", align=_RIGHT,
           width=80),
    Column("First within", lambda m: m.first_at, fmt=fmt_when, width=130),
    Column("Last within", lambda m: m.last_at, fmt=fmt_when, width=130),
    Column("Fixes", lambda m: m.fixes, align=_RIGHT, width=60),
    Column("Certainty", lambda m: m.certain, fmt=lambda c: "Certain" if c else "Possible (by accuracy)",
           tooltip=lambda m: ("A reported position lies within the radius" if m.certain else
                              "Only the fix's accuracy circle reaches the radius: it may not have been inside"),
           width=150),
]


def _qt(at: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(at.timestamp()))


def _py(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), tz=timezone.utc)


class TrailMatchDialog(QDialog):
    wearer_chosen = Signal(str)      # an order id, from a double-clicked result
    answered = Signal(int)           # how many wearers matched (after each question)
    failed = Signal(str)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trailMatchDialog")
        self.setWindowTitle("Who was near this place?")
        self.ctx = ctx
        self.service = getattr(ctx, "trail_match", None)
        self.results: list[TrailMatch] = []
        self._running = False
        now = ctx.clock.now()

        self.lat = self._coordinate(-90, 90, 52.4800, "Latitude of the place (WGS84 degrees)", "lat")
        self.lon = self._coordinate(-180, 180, -1.8900, "Longitude of the place (WGS84 degrees)", "lon")
        self.radius = QSpinBox(objectName="radius")
        self.radius.setRange(1, int(MAX_RADIUS_M))
        self.radius.setValue(200)
        self.radius.setSuffix(" m")
        self.radius.setAccessibleName("Radius in metres")
        self.radius.setMaximumWidth(140)
        self.start = self._when(now - timedelta(hours=24), "From", "start")
        self.end = self._when(now, "To", "end")
        self.reason = QLineEdit(objectName="reason")
        self.reason.setPlaceholderText("Why you need to know (police request reference, incident…): required")
        self.reason.setAccessibleName("Reason, recorded in the audit log")
        self.find = QPushButton("Find wearers", objectName="findWearers")
        self.find.setDefault(True)
        self.find.setMinimumWidth(140)
        self.find.clicked.connect(self.run)

        form = QFormLayout()
        place = QHBoxLayout()
        place.addWidget(self.lat)
        place.addWidget(self.lon)
        form.addRow("Place (lat, lon)", place)
        form.addRow("Within", self.radius)
        window = QHBoxLayout()
        window.addWidget(self.start)
        window.addWidget(QLabel("to"))
        window.addWidget(self.end)
        form.addRow("Between", window)
        form.addRow("Reason", self.reason)

        self.status = QLabel(f"At most {MAX_RADIUS_M:,.0f} m and {MAX_WINDOW.days} days. The question and its reason "
                             "are recorded in the audit log.", objectName="inlineCaption")
        self.status.setWordWrap(True)
        self.table = make_table(COLUMNS, self, name="trailMatches", sort_column=None)
        self.table.view.doubleClicked.connect(self._chosen)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.find, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.table.view, 1)
        layout.addWidget(buttons)
        self.resize(860, 560)

        if self.service is None:
            self.refusal = (f"Trail matching reads every wearer's movements: it is for supervisors. "
                            f"{ctx.user.role.label} accounts cannot use it.")
            self.status.setText(self.refusal)
            self.status.setObjectName("errorText")
            for w in (self.lat, self.lon, self.radius, self.start, self.end, self.reason, self.find):
                w.setEnabled(False)
        else:
            self.refusal = ""

    def _coordinate(self, low: float, high: float, value: float, name: str, key: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(objectName=key)
        box.setRange(low, high)
        box.setDecimals(6)
        box.setSingleStep(0.0005)
        box.setValue(value)
        box.setAccessibleName(name)
        return box

    def _when(self, at: datetime, name: str, key: str) -> QDateTimeEdit:
        edit = QDateTimeEdit(_qt(at), objectName=key)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("ddd dd MMM yyyy HH:mm")
        edit.setAccessibleName(name)
        return edit

    def set_question(self, lat: float, lon: float, radius_m: int, start: datetime, end: datetime,
                     reason: str) -> None:
        """Fill the form (from a map click, an incident's place, or a test)."""
        self.lat.setValue(lat)
        self.lon.setValue(lon)
        self.radius.setValue(radius_m)
        self.start.setDateTime(_qt(start))
        self.end.setDateTime(_qt(end))
        self.reason.setText(reason)

    @Slot()
    def run(self) -> None:
        if self.service is None or self._running:
            return
        if not self.reason.text().strip():
            self._problem("Give a reason: it is recorded in the audit log with the question.")
            self.reason.setFocus()
            return
        self._running = True
        self.find.setEnabled(False)
        self.status.setText("Searching the stored trails…")
        runner_for(self.ctx).run(self.service.match, self.lat.value(), self.lon.value(), float(self.radius.value()),
                                 _py(self.start.dateTime()), _py(self.end.dateTime()), self.reason.text(),
                                 name="match trails", on_done=self._show, on_error=self._error)

    def _show(self, results: list[TrailMatch]) -> None:
        self._running = False
        self.find.setEnabled(True)
        self.results = list(results)
        self.table.set_rows(self.results)
        certain = sum(1 for m in self.results if m.certain)
        if self.results:
            self.status.setText(f"{len(self.results)} wearer{'s' if len(self.results) != 1 else ''} found "
                                f"({certain} certain, {len(self.results) - certain} possible by accuracy). "
                                "Recorded in the audit log.")
        else:
            self.status.setText("No wearer's stored trail comes within the radius in that time. "
                                "Recorded in the audit log.")
        self.status.setObjectName("inlineCaption")
        self.answered.emit(len(self.results))

    def _error(self, error: TaskError) -> None:
        self._running = False
        self.find.setEnabled(True)
        self._problem(str(error))

    def _problem(self, text: str) -> None:
        self.status.setText(text)
        self.status.setObjectName("errorText")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.failed.emit(text)

    @Slot()
    def _chosen(self, index) -> None:
        match = self.table.proxy.row_at(index.row())
        if match is not None:
            self.wearer_chosen.emit(match.order_id)


__all__ = ["TrailMatchDialog"]
