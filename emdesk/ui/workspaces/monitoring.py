"""The monitoring centre's screen: the risk-ordered queue, and beside it the wearer.

Left, the incident queue (keyboard triage).  Right, what the operator needs to judge
the selected incident: its trail on a map with the incident's stretch highlighted and
a replay, the subject's file, and the region's fleet.  Selecting an incident shows its
wearer everywhere on the right; clicking a wearer on the fleet map does the same.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget

from ..maps.overview import OverviewMap
from ..maps.trail_map import TrailMap
from ..queue.panel import QueuePanel
from ..subject.view import SubjectView
from .base import Workspace

# The trail shown for an incident: its stretch with some of the day either side.
BEFORE, AFTER = timedelta(hours=6), timedelta(hours=2)


class MonitoringWorkspace(Workspace):
    key = "monitoring"
    title = "Monitoring"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.queue = QueuePanel(ctx, self)
        self.trail = TrailMap(ctx, self)
        self.subject = SubjectView(ctx, self)
        self.fleet = OverviewMap(ctx, self)
        self.side = QTabWidget(self, objectName="monitoringSide")
        self.side.addTab(self.trail, "&Trail")
        self.side.addTab(self.subject, "&Subject")
        self.side.addTab(self.fleet, "&Fleet map")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.queue)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.body.addWidget(splitter)
        self.selected = None
        self.queue.incident_selected.connect(self._incident_selected)
        self.queue.open_subject.connect(self._open_subject)
        self.fleet.wearer_clicked.connect(self._wearer_clicked)
        self.subject.incident_activated.connect(self.queue.select_incident)

    # The queue loads itself (and keeps itself live); the workspace's load is its first.
    def request(self):
        return self.ctx.queue.snapshot

    def show_data(self, batch) -> None:
        self.queue.show_batch(batch)
        self.subtitle_label.setText(self.queue.summary())

    def _incident_selected(self, item) -> None:
        self.selected = item
        if item is None:
            return
        end = item.ended_at or self.ctx.clock.now()
        self.trail.show_order(item.order_id, item.started_at - BEFORE, end + AFTER,
                              highlight=(item.started_at, end))
        self.subject.show_order(item.order_id)

    def _open_subject(self, item) -> None:
        if item is not None:
            self.subject.show_order(item.order_id)
            self.side.setCurrentWidget(self.subject)

    def show_wearer(self, order_id: str) -> None:
        """A wearer chosen elsewhere (the fleet map, trail matching): the last day's trail."""
        self._wearer_clicked(order_id)

    def _wearer_clicked(self, order_id: str) -> None:
        now = self.ctx.clock.now()
        self.trail.show_order(order_id, now - timedelta(hours=24), now, highlight=None)
        self.subject.show_order(order_id)
        self.side.setCurrentWidget(self.trail)

    def end_session(self) -> None:
        super().end_session()
        for part in (self.queue, self.trail, self.fleet, self.subject):
            stop = getattr(part, "end_session", None)
            if stop is not None:
                stop()
