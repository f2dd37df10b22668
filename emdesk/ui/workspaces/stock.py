"""A technician's device stock, filtered by state and region.

Filtering is done by the service (it may hold tens of thousands of devices); the
table shows only what the service hands over: the name on an allocation, no more.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel

from emdesk.domain.devices import DeviceState
from emdesk.services.rows import DeviceRow

from .. import palette
from ..formatting import plural
from ..table_model import Column
from ..table_view import make_table
from .base import Workspace

_STATE_COLOURS = {
    DeviceState.FAULTY.label: palette.colour("bad"),
    DeviceState.LOST.label: palette.colour("bad"),
    DeviceState.AWAITING_COLLECTION.label: palette.colour("warn"),
    DeviceState.IN_STOCK.label: palette.colour("good"),
}

COLUMNS = [
    Column("Serial", lambda r: r.serial, width=130, bold=lambda r: True),
    Column("Kind", lambda r: r.kind, width=170),
    Column("Model", lambda r: r.model, width=130),
    Column("Firmware", lambda r: r.firmware, width=90),
    Column("State", lambda r: r.state, width=160, foreground=lambda r: _STATE_COLOURS.get(r.state),
           bold=lambda r: r.state in _STATE_COLOURS),
    Column("Region", lambda r: r.region, width=180),
    Column("Allocated to", lambda r: r.allocated_to, width=180),
    Column("Order", lambda r: r.order_reference, width=130),
]


class StockWorkspace(Workspace):
    key = "stock"
    title = "Device stock"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.state_combo = QComboBox(objectName="stateFilter")
        self.state_combo.addItem("All states", None)
        for state in DeviceState:
            self.state_combo.addItem(state.label, state.value)
        self.region_combo = QComboBox(objectName="regionFilter")
        self.region_combo.addItem("All regions", None)
        self.region_combo.setMinimumWidth(190)
        self._regions_known = False
        for text, combo in (("&State:", self.state_combo), ("Re&gion:", self.region_combo)):
            label = QLabel(text)
            label.setBuddy(combo)
            combo.setAccessibleName(text.replace("&", "").rstrip(":"))
            self.tools.addWidget(label)
            self.tools.addWidget(combo)
        self.table = make_table(COLUMNS, self, name="stockTable")
        self.add_search(self.table, "Filter by serial, name…")
        self.body.addWidget(self.table.view)
        self.state_combo.currentIndexChanged.connect(self.refresh)
        self.region_combo.currentIndexChanged.connect(self.refresh)
        self.table.proxy.rowsInserted.connect(self._update_count)
        self.table.proxy.rowsRemoved.connect(self._update_count)
        self.table.proxy.modelReset.connect(self._update_count)
        self.table.proxy.layoutChanged.connect(self._update_count)

    def request(self):
        cases = self.ctx.cases
        state, region = self.state_combo.currentData(), self.region_combo.currentData()
        need_regions = not self._regions_known

        def load():
            regions = cases.regions() if need_regions else None
            return regions, cases.stock(state=state, region=region)

        return load

    def show_data(self, data: tuple[list[str] | None, list[DeviceRow]]) -> None:
        regions, rows = data
        if regions is not None:
            self._regions_known = True
            self.region_combo.blockSignals(True)
            for region in regions:
                self.region_combo.addItem(region, region)
            self.region_combo.blockSignals(False)
        self.table.set_rows(rows)
        self.subtitle_label.setText(
            f"{self.state_combo.currentText()} · {self.region_combo.currentText()}")
        self._update_count()

    def _update_count(self, *args) -> None:
        shown, total = self.table.visible_count(), self.table.model.rowCount()
        text = plural(total, "device")
        self.count_label.setText(text if shown == total else f"{shown} of {text}")
