"""A supervisor's first screen: the few numbers the NAO says were missing, then orders."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from emdesk.services.rows import Counts, OrderRow

from ..formatting import plural
from ..tasks import TaskError, runner_for
from ..table_model import Column
from ..table_view import make_table
from .base import Workspace
from .orders import OrdersPanel
from .overview_kpis import DrillDown, KpiStrip

UNMONITORED_TOLERANCE = 0.15    # HMPPS: tolerable share of active orders unmonitored (NAO 2.12)


class Tile(QFrame):
    def __init__(self, caption: str, parent=None):
        super().__init__(parent)
        self.setObjectName("tile")
        self.value = QLabel("–", objectName="tileValue")
        self.caption = QLabel(caption, objectName="tileCaption")
        self.note = QLabel("", objectName="tileNote")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 10)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        layout.addWidget(self.note)
        # Fill the grid row, so tiles with a wrapped note are no taller than the rest.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set(self, value: int, note: str = "", alert: bool = False) -> None:
        self.value.setText(f"{value:,}")
        self.note.setText(note)
        if self.property("alert") != alert:
            self.setProperty("alert", alert)
            # A dynamic property only restyles once the style is re-applied.
            for w in (self, self.value):
                w.style().unpolish(w)
                w.style().polish(w)


@dataclass(frozen=True)
class _Share:
    name: str
    count: int
    share: float


def _share_table(title: str, parent) -> tuple[QWidget, object]:
    box = QWidget(parent)
    label = QLabel(title, objectName="countLabel")
    table = make_table([
        Column(title, lambda r: r.name, width=180),
        Column("Active", lambda r: r.count, width=64, align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
        Column("Share", lambda r: r.share, fmt=lambda v: f"{v:.0%}",
               align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    ], box, sort_column=1, order=Qt.SortOrder.DescendingOrder)
    table.view.verticalHeader().setDefaultSectionSize(24)
    table.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = table.view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in (1, 2):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        table.view.setColumnWidth(column, 70)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(label)
    layout.addWidget(table.view)
    return box, table


def _shares(counts: dict[str, int]) -> list[_Share]:
    total = sum(counts.values()) or 1
    return [_Share(name or "(no region)", n, n / total) for name, n in counts.items()]


class OverviewWorkspace(Workspace):
    key = "overview"
    title = "Overview"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.tiles = {
            "active": Tile("Active orders"),
            "problems": Tile("Orders at intake with problems"),
            "unmonitored": Tile("Unmonitored active"),
            "in_stock": Tile("Devices in stock"),
            "installed": Tile("Devices installed"),
        }
        grid = QGridLayout()
        grid.setSpacing(10)
        for i, tile in enumerate(self.tiles.values()):
            grid.addWidget(tile, 0, i)
        self.body.addLayout(grid)

        cohort_box, self.by_cohort = _share_table("Cohort", self)
        region_box, self.by_region = _share_table("Region", self)
        side = QVBoxLayout()
        side.addWidget(cohort_box, 2)
        side.addWidget(region_box, 3)
        side_widget = QWidget(self)
        side_widget.setLayout(side)
        side.setContentsMargins(0, 0, 0, 0)
        side_widget.setFixedWidth(330)

        # The install KPIs (when this build has the service), each opening its visits.
        self.kpi_service = getattr(ctx, "kpis", None)
        self.kpis = KpiStrip(self)
        self.kpis.setVisible(self.kpi_service is not None)
        self.kpis.opened.connect(self.open_figure)
        self.body.addWidget(self.kpis)

        self.orders = OrdersPanel(self)
        orders_page = QWidget(self)
        orders_box = QVBoxLayout(orders_page)
        orders_box.setContentsMargins(0, 0, 0, 0)
        orders_box.addWidget(QLabel("Orders (problems first)", objectName="countLabel"))
        orders_box.addWidget(self.orders, 1)
        self.drill = DrillDown(self)
        self.lower_stack = QStackedWidget(self)
        self.lower_stack.addWidget(orders_page)
        self.lower_stack.addWidget(self.drill)
        self.drill.back.connect(lambda: self.lower_stack.setCurrentIndex(0))
        lower = QHBoxLayout()
        lower.setSpacing(12)
        lower.addWidget(side_widget)
        lower.addWidget(self.lower_stack, 1)
        self.body.addLayout(lower, 1)
        self._figures: dict[str, object] = {}

    def row_count(self) -> int:
        return self.orders.table.model.rowCount()

    def request(self):
        cases, kpis = self.ctx.cases, self.kpi_service
        return lambda: (cases.counts(), cases.orders(), kpis.figures() if kpis is not None else None)

    def open_figure(self, key: str) -> None:
        """The visits behind a KPI, loaded on the store lane, in place of the orders."""
        figure = self._figures.get(key)
        label = getattr(figure, "label", key)

        def show(rows) -> None:
            self.drill.show_rows(key, label, list(rows))
            self.lower_stack.setCurrentWidget(self.drill)

        def failed(error: TaskError) -> None:
            self.error_label.setText(f"Could not list the visits behind {label.lower()}. {error.sentence}")
            self.error_label.setVisible(True)

        runner_for(self.ctx).run(self.kpi_service.visits_behind, key, name=f"visits behind {key}",
                                 on_done=show, on_error=failed)

    def show_data(self, data: tuple) -> None:
        counts, orders = data[0], data[1]
        figures = data[2] if len(data) > 2 else None
        if figures is not None:
            self._figures = {f.key: f for f in figures}
            self.kpis.set_figures(list(figures))
            if self.lower_stack.currentWidget() is self.drill and self.drill.key in self._figures:
                self.open_figure(self.drill.key)          # a refresh (after a sync) moves the list too
        active = counts.active_orders
        share = counts.unmonitored_active / active if active else 0.0
        self.tiles["active"].set(active, f"{plural(counts.subjects, 'person', 'people')} on record")
        drafts = counts.orders_with_problems - counts.submitted_with_problems
        self.tiles["problems"].set(counts.orders_with_problems,
                                   f"{plural(drafts, 'draft')} · {counts.submitted_with_problems} submitted",
                                   alert=counts.orders_with_problems > 0)
        self.tiles["unmonitored"].set(
            counts.unmonitored_active,
            f"{share:.0%} of active · limit 15%\n{counts.never_fitted} never fitted · "
            f"{counts.disconnected_14_days} silent 14+ days",
            alert=share > UNMONITORED_TOLERANCE)
        self.tiles["in_stock"].set(counts.devices_in_stock, "ready to allocate")
        self.tiles["installed"].set(counts.devices_installed, "fitted or at an address")
        self.by_cohort.set_rows(_shares(counts.by_cohort))
        self.by_region.set_rows(_shares(counts.by_region))
        self.orders.set_rows(orders)
        self.subtitle_label.setText(f"All regions · {plural(len(orders), 'order')} on the list")
