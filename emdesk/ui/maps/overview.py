"""``OverviewMap``: every wearer's last position, clustered and coloured by status, live.

The first load renders the page off the GUI thread (the store lane reads the positions
and writes the page); after that, every ``LIVE_MS`` while the map is visible, only the
positions are read again and pushed into the open page (``emdesk.overview.update``):
markers move and change colour without a reload, so the operator's zoom and pan stay.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import palette
from ..tasks import TaskError, runner_for
from .overview_layer import STATUS_STYLE, overview_layer, update_script
from .view import MapView, RenderedPage, render_page

LIVE_MS = 10_000


@dataclass(frozen=True)
class _Loaded:
    positions: list
    page: RenderedPage | None       # None: a live refresh, pushed into the open page


class OverviewMap(QWidget):
    wearer_clicked = Signal(str)     # an order id
    refreshed = Signal()             # positions on screen (the page, or a live update, applied)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("overviewMap")
        self.ctx = ctx
        self.service = getattr(ctx, "fleet_map", None)
        self.positions: list = []
        self.last_error = ""
        self._busy = False
        self._again: bool | None = None     # a load asked for while one ran (True: a full one)
        self._page_ready = False

        self.map = MapView(self)
        self.map.marker_clicked.connect(self.wearer_clicked)
        self.map.page_loaded.connect(self._page_loaded)
        self.summary = QLabel("", objectName="overviewSummary")
        legend = QHBoxLayout()
        legend.setSpacing(14)
        legend.setContentsMargins(6, 4, 6, 0)
        self.legend: dict[str, QLabel] = {}
        for status, (colour, words) in STATUS_STYLE.items():
            label = QLabel(f'<span style="color:{palette.css(colour)}; font-size:14pt">●</span> {words}',
                           objectName=f"legend-{status}")
            label.setToolTip(_LEGEND_TIPS[status])
            legend.addWidget(label)
            self.legend[status] = label
        legend.addStretch(1)
        legend.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(legend)
        layout.addWidget(self.map, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(LIVE_MS)
        self.timer.timeout.connect(self._live)
        if self.service is None:
            self.map.show_message(f"The overview map is not available to {ctx.user.role.label} accounts.")

    # -- loading ---------------------------------------------------------------
    def refresh(self) -> None:
        """Read the positions again and redraw the page (a full reload)."""
        self._load(full=True)

    def _live(self) -> None:
        if not self.map.loading:               # a page on its way will show the newest anyway
            self._load(full=self.map.page_path is None)

    def _load(self, *, full: bool) -> None:
        if self.service is None:
            return
        if self._busy:
            self._again = bool(self._again) or full
            return
        self._busy = True
        service, tiles, folder = self.service, self.map.tiles, self.map.folder

        def load() -> _Loaded:
            positions = service.positions()
            page = render_page([overview_layer(positions)], tiles=tiles, folder=folder) if full else None
            return _Loaded(positions, page)

        runner_for(self.ctx).run(load, name="read the fleet's positions", on_done=self._show, on_error=self._failed)

    def _next(self) -> None:
        again, self._again = self._again, None
        if again is not None:
            self._load(full=again)

    @Slot(object)
    def _show(self, data: _Loaded) -> None:
        self._busy = False
        if self._again:                        # a full reload is wanted: this answer is stale
            self._next()
            return
        self.last_error = ""
        self.positions = data.positions
        self._summarise()
        if data.page is not None:
            self._page_ready = False
            self.map.show_page(data.page)      # ``refreshed`` when it has loaded
        elif self._page_ready:
            self.map.run_js(update_script(self.positions), lambda _changed: self.refreshed.emit())
        self._next()

    def _failed(self, error: TaskError) -> None:
        self._busy = False
        self.last_error = str(error)
        self.summary.setText(f"Positions not updated: {error}")
        self._next()

    @Slot(bool)
    def _page_loaded(self, ok: bool) -> None:
        self._page_ready = ok
        if ok:
            self.refreshed.emit()

    def _summarise(self) -> None:
        counts = Counter(p.status for p in self.positions)
        if not self.positions:
            self.summary.setText("No wearer has a position yet")
            return
        self.summary.setText(" · ".join(f"{counts[s]} {STATUS_STYLE[s][1].lower()}" for s in STATUS_STYLE
                                        if counts[s]) + f" ({len(self.positions)} wearers)")

    # -- live while visible ------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.service is not None:
            if not self.positions and not self._busy:
                self.refresh()
            self.timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().hideEvent(event)
        self.timer.stop()


_LEGEND_TIPS = {
    "ok": "Heard from lately, no open incident, kit healthy",
    "violation": "A genuine incident open and still going, or in the current period",
    "technical": "A technical incident open, a device fault, or a low battery",
    "silent": "No contact from the wearer's devices for over an hour",
}

__all__ = ["LIVE_MS", "OverviewMap"]
