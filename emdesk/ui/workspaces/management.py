"""The supervisor's Management workspace: the whole NAO Figure 5 picture.

Filters (period in UK days, region) above a grid of tiles, one a figure; choosing a tile
loads its weekly chart and the cases behind it (``ManagementService.series`` and
``behind``, the latter audited) on the store lane.  "Export CSV…" writes the figures (or,
from the cases list, the cases) as the service makes them.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from emdesk.domain.clock import local_date

from ..formatting import fmt_when, humanize, plural
from ..table_model import Column
from ..table_view import make_table
from ..tasks import TaskError, runner_for
from .base import Workspace
from .management_chart import SeriesChart
from .management_tiles import TileGrid

ALL_REGIONS = "All regions"
DEFAULT_WEEKS = 12
FIRST_KEY = "unmonitored_share"

CASE_COLUMNS = [
    Column("Subject", lambda r: r.subject_name, width=160, bold=lambda r: True),
    Column("Order", lambda r: r.order_reference, width=110),
    Column("Region", lambda r: r.region, width=130),
    Column("Case", lambda r: r.what, width=190),
    Column("Status", lambda r: r.status, fmt=lambda v: humanize(str(v)) if v else "", width=120),
    Column("When", lambda r: r.when, fmt=fmt_when, width=130),
    Column("Time (h)", lambda r: r.hours, fmt=lambda v: "" if v is None else f"{v:,.1f}", width=84,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Why listed", lambda r: r.part, fmt=lambda v: humanize(str(v)) if v else "", width=130),
]


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _date(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class ManagementWorkspace(Workspace):
    key = "management"
    title = "Management"

    cases_loaded = Signal(str)     # the key whose cases are on screen
    exported = Signal(str)         # the path a CSV was written to

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.service = ctx.mi
        today = local_date(ctx.clock.now())
        self.from_edit = self._date_edit("From", today - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1))
        self.to_edit = self._date_edit("To", today)
        self.region_box = QComboBox(objectName="regionFilter")
        self.region_box.addItem(ALL_REGIONS)
        self.region_box.setAccessibleName("Region")
        self.region_box.setMinimumWidth(170)
        region_label = QLabel("&Region:")
        region_label.setBuddy(self.region_box)
        self.tools.addWidget(region_label)
        self.tools.addWidget(self.region_box)
        self.export_button = QPushButton("Export CSV…", objectName="exportCsv")
        self.export_button.setToolTip("Save every figure for this period and region as a CSV file")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.tools.addWidget(self.export_button)
        self.from_edit.dateChanged.connect(self._filters_changed)
        self.to_edit.dateChanged.connect(self._filters_changed)
        self.region_box.currentIndexChanged.connect(self._filters_changed)

        self.tiles = TileGrid(self)
        self.tiles.opened.connect(self.open_figure)
        self.chart = SeriesChart(self)
        upper = QHBoxLayout()
        upper.setSpacing(10)
        upper.addWidget(self.tiles, 8)
        upper.addWidget(self.chart, 5)
        self.body.addLayout(upper, 3)

        self.cases_title = QLabel("", objectName="countLabel")
        self.export_cases_button = QPushButton("Export cases CSV…", objectName="exportCases")
        self.export_cases_button.setEnabled(False)
        self.export_cases_button.clicked.connect(lambda: self.export_csv(self.chosen))
        self.cases = make_table(CASE_COLUMNS, self, name="miCases", sort_column=None)
        head = QHBoxLayout()
        head.addWidget(self.cases_title, 1)
        head.addWidget(self.export_cases_button)
        lower = QVBoxLayout()
        lower.setSpacing(4)
        lower.addLayout(head)
        lower.addWidget(self.cases.view, 1)
        self.body.addLayout(lower, 2)

        self.chosen = FIRST_KEY
        self.measures: dict[str, Any] = {}
        self.last_export: Path | None = None
        # Where the CSV goes: a save dialog (tests give a path instead).
        self.ask_path: Callable[[str], str] = self._ask_path

    def _date_edit(self, label: str, value: date) -> QDateEdit:
        edit = QDateEdit(_qdate(value), objectName=f"{label.lower()}Date")
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")
        edit.setAccessibleName(f"{label} (UK day, included)")
        # The typing happens in the box's own line edit: name it and point the label at it.
        typed = edit.findChild(QLineEdit)
        typed.setAccessibleName(f"{label} (UK day, included)")
        caption = QLabel(f"&{label}:")
        caption.setBuddy(typed)
        self.tools.addWidget(caption)
        self.tools.addWidget(edit)
        return edit

    # -- filters -------------------------------------------------------------------
    def filters(self) -> tuple[date, date, str | None]:
        region = self.region_box.currentText()
        return (_date(self.from_edit.date()), _date(self.to_edit.date()),
                None if region == ALL_REGIONS else region)

    def _filters_changed(self, *_):
        start, end, _ = self.filters()
        if start > end:
            self.error_label.setText("From is after To: choose a start on or before the end.")
            self.error_label.setVisible(True)
            return
        self.refresh()

    # -- loading -------------------------------------------------------------------
    def request(self):
        service, (start, end, region), key = self.service, self.filters(), self.chosen
        # The chosen figure's cases come with the figures: the list is never empty for no reason.
        return lambda: (service.figures(start, end, region), service.regions(),
                        service.series(key, start, end, region), service.behind(key, start, end, region))

    def show_data(self, data: tuple) -> None:
        measures, regions, points, rows = data
        self.measures = {m.key: m for m in measures}
        self.tiles.set_measures(measures)
        self._set_regions(regions)
        start, end, region = self.filters()
        self.subtitle_label.setText(f"{region or ALL_REGIONS} · {start:%d %b %Y} to {end:%d %b %Y} (UK days)")
        self._show_cases(self.chosen, points, rows)

    def _show_cases(self, key: str, points, rows) -> None:
        m = self.measures.get(key)
        label = m.label if m is not None else key
        self.tiles.choose(key)
        self._show_chart(key, points)
        self.cases.set_rows(list(rows))
        self.cases_title.setText(f"{label}: {plural(len(rows), 'case')} behind the figure")
        self.export_cases_button.setEnabled(True)

    def _set_regions(self, regions: list[str]) -> None:
        current = self.region_box.currentText()
        wanted = [ALL_REGIONS, *regions, *([current] if current not in (ALL_REGIONS, *regions) else [])]
        if [self.region_box.itemText(i) for i in range(self.region_box.count())] != wanted:
            self.region_box.blockSignals(True)
            self.region_box.clear()
            self.region_box.addItems(wanted)
            self.region_box.setCurrentText(current)
            self.region_box.blockSignals(False)

    def _show_chart(self, key: str, points) -> None:
        m = self.measures.get(key)
        if m is not None:
            self.chart.show_series(m.label, m.unit, list(points), m.tolerance)

    def open_figure(self, key: str) -> None:
        """The chosen figure's chart and the cases behind it, loaded on the store lane."""
        self.chosen = key
        self.tiles.choose(key)
        service, (start, end, region) = self.service, self.filters()
        m = self.measures.get(key)
        label = m.label if m is not None else key

        def show(data) -> None:
            self._show_cases(key, *data)
            self.cases_loaded.emit(key)

        def failed(error: TaskError) -> None:
            self.error_label.setText(f"Could not list the cases behind {label.lower()}. {error.sentence}")
            self.error_label.setVisible(True)

        runner_for(self.ctx).run(lambda: (service.series(key, start, end, region), service.behind(key, start, end,
                                                                                                  region)),
                                 name=f"cases behind {key}", on_done=show, on_error=failed)

    def row_count(self) -> int:
        return self.cases.model.rowCount()

    # -- CSV -----------------------------------------------------------------------
    def _ask_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Export as CSV", suggested, "CSV files (*.csv)")
        return path

    def export_csv(self, key: str | None = None) -> None:
        """Ask where, then have the service make the CSV and write it (store lane)."""
        start, end, region = self.filters()
        name = f"emdesk-{key.replace(':', '-') if key else 'figures'}-{start}-{end}.csv"
        path = self.ask_path(name)
        if not path:
            return
        service = self.service

        def write() -> Path:
            target = Path(path)
            target.write_text(service.csv(start, end, region, key=key), encoding="utf-8")
            return target

        def done(target: Path) -> None:
            self.last_export = target
            self.count_label.setText(f"Saved {target.name}")
            self.exported.emit(str(target))

        def failed(error: TaskError) -> None:
            self.error_label.setText(f"Could not save the CSV. {error.sentence}")
            self.error_label.setVisible(True)

        runner_for(self.ctx).run(write, name="export figures", on_done=done, on_error=failed)


__all__ = ["ManagementWorkspace"]
