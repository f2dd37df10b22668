"""The monitoring centre's screen: the risk-ordered queue, and beside it the wearer.

Left, the incident queue (keyboard triage).  Right, what the operator needs to judge
the selected incident: its trail on a map with the incident's stretch highlighted and
a replay, the subject's file, and the region's fleet.  Selecting an incident shows its
wearer everywhere on the right; clicking a wearer on the fleet map does the same.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from ..maps.overview import OverviewMap
from ..maps.trail_map import TrailMap
from ..packs.overdue import OverdueBanner, may_see
from ..queue.panel import QueuePanel
from ..subject.view import SubjectView
from emdesk.domain.users import Permission

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
        # Supervisors: overdue breach packs above the queue, each choosing its incident.
        self.overdue = OverdueBanner(ctx, self) if may_see(ctx) else None
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(6)
        if self.overdue is not None:
            left_layout.addWidget(self.overdue)
            self.overdue.incident_chosen.connect(self.select_overdue)
            self.queue.loaded.connect(self.overdue.refresh)
            self.queue.tick_timer.timeout.connect(self.overdue.refresh)
        left_layout.addWidget(self.queue, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([620, 560])      # in proportion: the queue a little wider than the map
        self.body.addWidget(splitter)
        self.selected = None
        self.queue.incident_selected.connect(self._incident_selected)
        self.queue.open_subject.connect(self._open_subject)
        self.fleet.wearer_clicked.connect(self._wearer_clicked)
        self.subject.incident_activated.connect(self.queue.select_incident)

        self.queue.loaded.connect(self._queue_loaded)
        self.queue.failed.connect(self._queue_failed)
        self.trail.loaded.connect(self._trail_settled)
        self.trail.failed.connect(self._trail_settled)
        self._first = True

    # The queue loads itself (on the store lane) and keeps itself live by polling; this
    # workspace is loaded when the queue is and, the first time, when the top incident's
    # trail is drawn, so a screenshot or a test sees the whole screen.
    def refresh(self) -> None:
        self._loading = True
        self.busy.setVisible(True)
        self.queue.refresh()

    def row_count(self) -> int:
        return self.queue.model.rowCount()

    def _queue_loaded(self) -> None:
        total = self.queue.model.total
        self.subtitle_label.setText(f"{self._scope()} · {total:,} incident{'s' if total != 1 else ''} held · "
                                    "highest priority first")
        if not (self._first and self.selected is not None):
            self._settle()

    def _queue_failed(self, message: str) -> None:
        if self._loading:
            self.last_error = message
            self._done()
            self.load_failed.emit(message)

    def _trail_settled(self, *_args) -> None:
        if self._loading:
            self._settle()

    def _settle(self) -> None:
        self._first = False
        if self._loading:
            self._done()
            self.loaded.emit()

    def _scope(self) -> str:
        user = self.ctx.user
        return "All regions" if user.can(Permission.VIEW_ALL_CASES) else (user.region or "Your region")

    def _incident_selected(self, item) -> None:
        previous, self.selected = self.selected, item
        if item is None:
            return
        if previous is not None and previous.id == item.id:
            # The same incident changed.  A triage shows in the file (reading it is audited,
            # so not for the engine's running totals of an incident still going); the map's
            # replay is left alone, its fixes arrive by themselves.
            if previous.status != item.status:
                self.subject.refresh()
            return
        end = item.ended_at or self.ctx.clock.now()
        self.trail.show_order(item.order_id, item.started_at - BEFORE, end + AFTER,
                              highlight=(item.started_at, end))
        self.subject.show_order(item.order_id)

    def select_overdue(self, incident_id: str) -> None:
        """An overdue pack chosen in the banner: its incident selected in the queue."""
        if not self.queue.select_incident(incident_id):
            self.queue.say("That incident is hidden by the queue's filters: set Status to All to see it.")
            return
        self.queue.view.setFocus()

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
        for part in (self.queue, self.trail, self.fleet, self.subject, self.overdue):
            stop = getattr(part, "end_session", None)
            if stop is not None:
                stop()
